/* BGP route table: bgpdump -m records applied per (peer, prefix), per-prefix
 * origin / upstream shares, longest-prefix query and export to a rangeset.
 * Rules are documented in include/geotap/routes.h. */
#include "geotap/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One prefix ever seen; kept (with an empty list) after its last withdrawal. */
struct pfx {
    gt_u128 addr;       /* IPv4 in the low 32 bits */
    uint32_t head;      /* first route node, 0 = none */
    uint8_t len, family;
};

/* One peer's route for one prefix; a node whose epoch differs from its
 * peer's is stale (the session went down after it was learnt). */
struct rt {
    uint32_t next;
    uint32_t peer;
    uint32_t epoch;
    uint32_t origin, upstream;
};

struct peer {
    char ip[48];
    uint32_t as;
    uint32_t epoch;
};

struct gt_routes {
    struct pfx *p; uint32_t np, capp;
    uint32_t *slot; uint32_t nslot;          /* prefix hash: 0 empty, else index+1 */
    struct rt *rt; uint32_t nrt, caprt, freert;   /* node 0 unused; free list */
    struct peer *peer; uint32_t npeer, cappeer;
    uint64_t lenmask4;                       /* bit l: some prefix of length l exists */
    uint64_t lenmask6[3];
    struct gt_routes_stats st;
    /* scratch for path parsing */
    uint32_t *el; uint8_t *elset; size_t capel;
};

/* ---- table ---------------------------------------------------------------- */

gt_routes *gt_routes_new(void)
{
    gt_routes *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->nslot = 1024;
    r->slot = calloc(r->nslot, sizeof *r->slot);
    r->caprt = 1024;
    r->rt = malloc(r->caprt * sizeof *r->rt);
    if (!r->slot || !r->rt) {
        gt_routes_free(r);
        return NULL;
    }
    r->nrt = 1;
    return r;
}

void gt_routes_free(gt_routes *r)
{
    if (!r)
        return;
    free(r->p);
    free(r->slot);
    free(r->rt);
    free(r->peer);
    free(r->el);
    free(r->elset);
    free(r);
}

static uint32_t hash_pfx(int family, gt_u128 addr, unsigned len)
{
    uint64_t a = (uint64_t)(addr >> 64), b = (uint64_t)addr;
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull * (len + 1 + (unsigned)family * 256));
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* Index of the prefix, or UINT32_MAX when absent. */
static uint32_t find_pfx(const gt_routes *r, int family, gt_u128 addr, unsigned len)
{
    uint32_t k = hash_pfx(family, addr, len) & (r->nslot - 1);
    for (; r->slot[k]; k = (k + 1) & (r->nslot - 1)) {
        const struct pfx *p = &r->p[r->slot[k] - 1];
        if (p->addr == addr && p->len == len && p->family == family)
            return r->slot[k] - 1;
    }
    return UINT32_MAX;
}

static int grow_slots(gt_routes *r)
{
    uint32_t ns = r->nslot * 2;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < r->np; i++) {
        uint32_t k = hash_pfx(r->p[i].family, r->p[i].addr, r->p[i].len) & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = i + 1;
    }
    free(r->slot);
    r->slot = s;
    r->nslot = ns;
    return 0;
}

static uint32_t add_pfx(gt_routes *r, int family, gt_u128 addr, unsigned len)
{
    uint32_t i = find_pfx(r, family, addr, len);
    if (i != UINT32_MAX)
        return i;
    if ((r->np + 1) * 2 > r->nslot && grow_slots(r))
        return UINT32_MAX;
    if (r->np == r->capp) {
        uint32_t nc = r->capp ? r->capp * 2 : 1024;
        struct pfx *p = realloc(r->p, nc * sizeof *p);
        if (!p)
            return UINT32_MAX;
        r->p = p;
        r->capp = nc;
    }
    i = r->np++;
    r->p[i] = (struct pfx){ addr, 0, (uint8_t)len, (uint8_t)family };
    uint32_t k = hash_pfx(family, addr, len) & (r->nslot - 1);
    while (r->slot[k])
        k = (k + 1) & (r->nslot - 1);
    r->slot[k] = i + 1;
    if (family == 4)
        r->lenmask4 |= 1ull << len;
    else
        r->lenmask6[len / 64] |= 1ull << (len % 64);
    return i;
}

static uint32_t find_peer(gt_routes *r, const char *ip, size_t iplen, uint32_t as, int create)
{
    /* peers are few (tens); a linear scan with a one-entry cache is enough */
    static const uint32_t none = UINT32_MAX;
    for (uint32_t i = 0; i < r->npeer; i++) {
        uint32_t j = r->npeer - 1 - i;
        if (r->peer[j].as == as && strlen(r->peer[j].ip) == iplen && memcmp(r->peer[j].ip, ip, iplen) == 0)
            return j;
    }
    if (!create || iplen >= sizeof r->peer[0].ip)
        return none;
    if (r->npeer == r->cappeer) {
        uint32_t nc = r->cappeer ? r->cappeer * 2 : 16;
        struct peer *p = realloc(r->peer, nc * sizeof *p);
        if (!p)
            return none;
        r->peer = p;
        r->cappeer = nc;
    }
    struct peer *p = &r->peer[r->npeer];
    memcpy(p->ip, ip, iplen);
    p->ip[iplen] = 0;
    p->as = as;
    p->epoch = 0;
    return r->npeer++;
}

static int live(const gt_routes *r, const struct rt *n)
{
    return n->epoch == r->peer[n->peer].epoch;
}

static void free_node(gt_routes *r, uint32_t n)
{
    r->rt[n].next = r->freert;
    r->freert = n;
}

/* Remove stale nodes and the node of peer (if any) from p's list; returns
 * the removed live node of peer (already freed) as 1/0. */
static int unlink_peer(gt_routes *r, struct pfx *p, uint32_t peer)
{
    int found = 0;
    uint32_t *link = &p->head;
    while (*link) {
        uint32_t n = *link;
        if (r->rt[n].peer == peer || !live(r, &r->rt[n])) {
            found |= r->rt[n].peer == peer && live(r, &r->rt[n]);
            *link = r->rt[n].next;
            free_node(r, n);
        } else {
            link = &r->rt[n].next;
        }
    }
    return found;
}

static int set_route(gt_routes *r, uint32_t pi, uint32_t peer, uint32_t origin, uint32_t upstream)
{
    struct pfx *p = &r->p[pi];
    for (uint32_t n = p->head; n; n = r->rt[n].next) {
        struct rt *x = &r->rt[n];
        if (x->peer == peer) {   /* replace, reviving it if it was stale */
            x->epoch = r->peer[peer].epoch;
            x->origin = origin;
            x->upstream = upstream;
            return 0;
        }
    }
    uint32_t n = r->freert;
    if (n) {
        r->freert = r->rt[n].next;
    } else {
        if (r->nrt == r->caprt) {
            uint32_t nc = r->caprt * 2;
            struct rt *q = realloc(r->rt, (size_t)nc * sizeof *q);
            if (!q)
                return -1;
            r->rt = q;
            r->caprt = nc;
        }
        n = r->nrt++;
    }
    r->rt[n] = (struct rt){ p->head, peer, r->peer[peer].epoch, origin, upstream };
    p->head = n;
    return 0;
}

/* ---- parsing -------------------------------------------------------------- */

static int parse_u32(const char *s, const char *e, uint32_t *out)
{
    uint64_t v = 0;
    if (s == e)
        return -1;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > 0xFFFFFFFFull)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* An ASN in asplain ("4837") or asdot ("1.10") notation. */
static int parse_asn(const char *s, const char *e, uint32_t *out)
{
    const char *dot = memchr(s, '.', (size_t)(e - s));
    if (!dot)
        return parse_u32(s, e, out);
    uint32_t hi, lo;
    if (parse_u32(s, dot, &hi) || parse_u32(dot + 1, e, &lo) || hi > 0xFFFF || lo > 0xFFFF)
        return -1;
    *out = hi << 16 | lo;
    return 0;
}

static int push_el(gt_routes *r, size_t *n, uint32_t v, uint8_t multi)
{
    if (*n == r->capel) {
        size_t nc = r->capel ? r->capel * 2 : 64;
        uint32_t *a = realloc(r->el, nc * sizeof *a);
        if (!a)
            return -1;
        r->el = a;
        uint8_t *b = realloc(r->elset, nc);
        if (!b)
            return -1;
        r->elset = b;
        r->capel = nc;
    }
    r->el[*n] = v;
    r->elset[*n] = multi;
    (*n)++;
    return 0;
}

/* Origin and upstream of an AS path as bgpdump prints it (see routes.h). */
static int path_origin_upstream(gt_routes *r, const char *s, const char *e,
                                uint32_t *origin, uint32_t *upstream, const char **why)
{
    size_t n = 0;
    while (s < e) {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (*s == '{' || *s == '(' || *s == '[') {
            char close = *s == '{' ? '}' : *s == '(' ? ')' : ']';
            const char *c = memchr(s, close, (size_t)(e - s));
            if (!c) {
                *why = "unterminated AS path segment";
                return -1;
            }
            uint32_t mn = UINT32_MAX, cnt = 0;
            for (const char *t = s + 1; t < c;) {
                if (*t == ',' || *t == ' ') {
                    t++;
                    continue;
                }
                const char *u = t;
                while (u < c && *u != ',' && *u != ' ')
                    u++;
                uint32_t a;
                if (parse_asn(t, u, &a)) {
                    *why = "bad ASN in AS path";
                    return -1;
                }
                mn = a < mn ? a : mn;
                cnt++;
                t = u;
            }
            if (close == '}' && cnt) {   /* confederation segments are skipped */
                if (push_el(r, &n, mn, cnt > 1)) {
                    *why = "out of memory";
                    return -1;
                }
            }
            s = c + 1;
            continue;
        }
        const char *u = s;
        while (u < e && *u != ' ')
            u++;
        uint32_t a;
        if (parse_asn(s, u, &a)) {
            *why = "bad ASN in AS path";
            return -1;
        }
        if (push_el(r, &n, a, 0)) {
            *why = "out of memory";
            return -1;
        }
        s = u;
    }
    *origin = *upstream = 0;
    if (n == 0)
        return 0;
    if (r->elset[n - 1]) {      /* aggregate: the AS before the set originated it */
        if (n == 1) {
            *origin = r->el[0];
            return 0;
        }
        n--;
    }
    /* the last element and the last one different from it (prepends skipped) */
    *origin = r->el[n - 1];
    for (size_t i = n - 1; i-- > 0;) {
        if (r->el[i] != *origin) {
            *upstream = r->el[i];
            break;
        }
    }
    return 0;
}

#define MAXF 8

static int fail(char *err, size_t errlen, const char *why)
{
    if (errlen)
        snprintf(err, errlen, "%s", why);
    return -1;
}

static int parse_prefix(const char *s, const char *e, int *family, gt_u128 *addr, unsigned *len)
{
    char buf[64];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof buf || !memchr(s, '/', n))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    uint32_t lo4, hi4;
    gt_u128 lo6, hi6;
    int f = gt_parse_cidr(buf, &lo4, &hi4, &lo6, &hi6);
    if (f == 4) {
        *addr = lo4;
        uint32_t span = hi4 - lo4;
        unsigned l = 32;
        while (span) { span >>= 1; l--; }
        *len = l;
    } else if (f == 6) {
        *addr = lo6;
        gt_u128 span = hi6 - lo6;
        unsigned l = 128;
        while (span) { span >>= 1; l--; }
        *len = l;
    } else {
        return -1;
    }
    *family = f;
    return 0;
}

int gt_routes_apply_line(gt_routes *r, const char *line, char *err, size_t errlen)
{
    const char *f[MAXF + 1];
    const char *fe[MAXF + 1];
    size_t nf = 0;
    const char *end = line + strlen(line);
    while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end == line)
        return 0;    /* blank line */
    for (const char *s = line; nf <= MAXF;) {
        const char *bar = memchr(s, '|', (size_t)(end - s));
        f[nf] = s;
        fe[nf] = bar ? bar : end;
        nf++;
        if (!bar)
            break;
        s = bar + 1;
    }
#define FIELD_IS(i, lit) ((size_t)(fe[i] - f[i]) == sizeof(lit) - 1 && memcmp(f[i], lit, sizeof(lit) - 1) == 0)
    int rib = FIELD_IS(0, "TABLE_DUMP") || FIELD_IS(0, "TABLE_DUMP2") || FIELD_IS(0, "TABLE_DUMP_V2");
    int upd = FIELD_IS(0, "BGP4MP") || FIELD_IS(0, "BGP4MP_ET");
    if (!rib && !upd)
        return fail(err, errlen, "not a bgpdump -m record (TABLE_DUMP, TABLE_DUMP2, BGP4MP, BGP4MP_ET)");
    if (nf < 5)
        return fail(err, errlen, "too few fields");
    r->st.lines++;
    uint32_t peer_as;
    if (parse_asn(f[4], fe[4], &peer_as))
        return fail(err, errlen, "bad peer AS");
    if (fe[3] - f[3] < 2 || (size_t)(fe[3] - f[3]) >= sizeof r->peer[0].ip)
        return fail(err, errlen, "bad peer address");

    if (upd && FIELD_IS(2, "STATE")) {
        uint32_t olds, news;
        if (nf < 7 || parse_u32(f[5], fe[5], &olds) || parse_u32(f[6], fe[6], &news))
            return fail(err, errlen, "bad STATE record");
        if (olds == 6 && news != 6) {
            /* session left Established: every route of this peer is gone */
            uint32_t pe = find_peer(r, f[3], (size_t)(fe[3] - f[3]), peer_as, 0);
            if (pe != UINT32_MAX)
                r->peer[pe].epoch++;
            r->st.peer_down++;
        } else {
            r->st.other++;
        }
        return 0;
    }
    int announce = (rib && FIELD_IS(2, "B")) || (upd && FIELD_IS(2, "A"));
    int withdraw = upd && FIELD_IS(2, "W");
    if (!announce && !withdraw) {
        r->st.other++;
        return 0;
    }
    if (nf < 6 || (announce && nf < 7))
        return fail(err, errlen, "too few fields");
    int family;
    gt_u128 addr;
    unsigned len;
    if (parse_prefix(f[5], fe[5], &family, &addr, &len))
        return fail(err, errlen, "bad prefix");
    uint32_t pe = find_peer(r, f[3], (size_t)(fe[3] - f[3]), peer_as, announce);
    if (withdraw) {
        r->st.withdraw++;
        if (pe == UINT32_MAX)
            return 0;
        uint32_t pi = find_pfx(r, family, addr, len);
        if (pi != UINT32_MAX)
            unlink_peer(r, &r->p[pi], pe);
        return 0;
    }
    if (pe == UINT32_MAX)
        return fail(err, errlen, "out of memory");
    uint32_t origin, upstream;
    const char *why = NULL;
    if (path_origin_upstream(r, f[6], fe[6], &origin, &upstream, &why))
        return fail(err, errlen, why);
    uint32_t pi = add_pfx(r, family, addr, len);
    if (pi == UINT32_MAX || set_route(r, pi, pe, origin, upstream))
        return fail(err, errlen, "out of memory");
    r->st.announce++;
    return 0;
#undef FIELD_IS
}

/* ---- per-prefix summary --------------------------------------------------- */

struct cnt { uint32_t asn, n; };

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_cnt(const void *a, const void *b)
{
    const struct cnt *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return (x->asn > y->asn) - (x->asn < y->asn);
}

/* Fill ri from the live routes of prefix p; returns 0 when it has none. */
static int summarize(const gt_routes *r, const struct pfx *p, struct gt_route_info *ri)
{
    uint32_t buf[256], *v = buf, cap = 256, n = 0;
    uint32_t obuf[256], *o = obuf;
    for (uint32_t k = p->head; k; k = r->rt[k].next) {
        if (!live(r, &r->rt[k]))
            continue;
        if (n == cap) {   /* more peers than the stack buffers hold */
            uint32_t nc = cap * 2;
            uint32_t *nv = malloc(nc * sizeof *nv), *no = malloc(nc * sizeof *no);
            if (!nv || !no) {
                free(nv); free(no);
                break;
            }
            memcpy(nv, v, n * sizeof *v);
            memcpy(no, o, n * sizeof *o);
            if (v != buf) { free(v); free(o); }
            v = nv; o = no; cap = nc;
        }
        v[n] = r->rt[k].upstream;
        o[n] = r->rt[k].origin;
        n++;
    }
    if (!n)
        return 0;
    memset(ri, 0, sizeof *ri);
    ri->family = p->family;
    ri->len = p->len;
    if (p->family == 4)
        ri->prefix4 = (uint32_t)p->addr;
    else
        gt_u128_to_bytes(p->addr, ri->prefix6);
    ri->paths = n;

    /* origin: most paths, ties lowest ASN (sorted ascending, strict >) */
    qsort(o, n, sizeof *o, cmp_u32);
    uint32_t best = 0, bestn = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j < n && o[j] == o[i])
            j++;
        if (j - i > bestn) { bestn = j - i; best = o[i]; }
        i = j;
    }
    ri->origin = best;

    qsort(v, n, sizeof *v, cmp_u32);
    struct cnt c[GT_ROUTES_MAX_UP + 1];
    uint32_t nc = 0, total = 0;
    best = 0; bestn = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j < n && v[j] == v[i])
            j++;
        struct cnt x = { v[i], j - i };
        total++;
        if (x.asn && x.n > bestn) { bestn = x.n; best = x.asn; }
        /* keep the GT_ROUTES_MAX_UP largest: insert, sort, drop the last */
        c[nc++] = x;
        qsort(c, nc, sizeof *c, cmp_cnt);
        if (nc > GT_ROUTES_MAX_UP)
            nc = GT_ROUTES_MAX_UP;
        i = j;
    }
    ri->upstream = best;
    ri->nup = nc;
    ri->nup_total = total;
    for (uint32_t i = 0; i < nc; i++)
        ri->up[i] = (struct gt_route_up){ c[i].asn, c[i].n, (double)c[i].n / n };
    if (v != buf) { free(v); free(o); }
    return 1;
}

int gt_routes_foreach(const gt_routes *r, gt_routes_fn fn, void *ctx)
{
    struct gt_route_info ri;
    for (uint32_t i = 0; i < r->np; i++) {
        if (!summarize(r, &r->p[i], &ri))
            continue;
        int rc = fn(ctx, &ri);
        if (rc)
            return rc;
    }
    return 0;
}

void gt_routes_stats(const gt_routes *r, struct gt_routes_stats *st)
{
    *st = r->st;
    st->prefixes4 = st->prefixes6 = 0;
    for (uint32_t i = 0; i < r->np; i++) {
        uint32_t k = r->p[i].head;
        while (k && !live(r, &r->rt[k]))
            k = r->rt[k].next;
        if (!k)
            continue;
        if (r->p[i].family == 4)
            st->prefixes4++;
        else
            st->prefixes6++;
    }
    st->peers = r->npeer;
    st->memory = sizeof *r + (size_t)r->capp * sizeof *r->p + (size_t)r->nslot * sizeof *r->slot +
                 (size_t)r->caprt * sizeof *r->rt + (size_t)r->cappeer * sizeof *r->peer +
                 r->capel * (sizeof *r->el + 1);
}

/* ---- queries -------------------------------------------------------------- */

static int lookup(const gt_routes *r, int family, gt_u128 a, struct gt_route_info *out)
{
    int bits = family == 4 ? 32 : 128;
    for (int l = bits; l >= 0; l--) {
        int present = family == 4 ? (int)(r->lenmask4 >> l & 1) : (int)(r->lenmask6[l / 64] >> (l % 64) & 1);
        if (!present)
            continue;
        gt_u128 mask = l == 0 ? 0 : (~(gt_u128)0 << (bits - l));
        if (family == 4)
            mask &= 0xFFFFFFFFu;
        uint32_t pi = find_pfx(r, family, a & mask, (unsigned)l);
        if (pi != UINT32_MAX && summarize(r, &r->p[pi], out))
            return 1;
    }
    return 0;
}

int gt_routes_lookup4(const gt_routes *r, uint32_t addr, struct gt_route_info *out)
{
    return lookup(r, 4, addr, out);
}

int gt_routes_lookup6(const gt_routes *r, const uint8_t addr[16], struct gt_route_info *out)
{
    return lookup(r, 6, gt_u128_from_bytes(addr), out);
}

int gt_routes_get(const gt_routes *r, const char *cidr, struct gt_route_info *out)
{
    int family;
    gt_u128 addr;
    unsigned len;
    if (parse_prefix(cidr, cidr + strlen(cidr), &family, &addr, &len))
        return 0;
    uint32_t pi = find_pfx(r, family, addr, len);
    return pi != UINT32_MAX && summarize(r, &r->p[pi], out);
}

/* ---- export --------------------------------------------------------------- */

struct xr { gt_u128 lo, hi; uint32_t val; uint8_t len, family; };

int gt_routes_export(const gt_routes *r, gt_upstreams *names, struct gt_rangeset *out)
{
    struct xr *x = malloc(((size_t)r->np + 1) * sizeof *x);
    if (!x)
        return -1;
    size_t n = 0;
    struct gt_route_info ri;
    for (uint32_t i = 0; i < r->np; i++) {
        const struct pfx *p = &r->p[i];
        if (!summarize(r, p, &ri))
            continue;
        uint32_t idx = 0;
        if (ri.upstream && !(idx = gt_upstreams_intern_asn(names, ri.upstream))) {
            free(x);
            return -1;
        }
        int bits = p->family == 4 ? 32 : 128;
        gt_u128 host = p->len == bits ? 0 : (~(gt_u128)0 >> (p->len + (128 - bits))) ;
        if (p->family == 4)
            host &= 0xFFFFFFFFu;
        x[n++] = (struct xr){ p->addr, p->addr | host, idx, p->len, p->family };
    }
    /* less specific first: gt_rangeset_normalize lets later ranges win.
     * Prefixes of one length are disjoint, so a counting sort by length is
     * enough (and much cheaper than sorting 577k 48-byte records). */
    size_t start[129 + 1] = { 0 };
    for (size_t i = 0; i < n; i++)
        start[x[i].len + 1]++;
    for (int l = 0; l < 129; l++)
        start[l + 1] += start[l];
    uint32_t *order = malloc((n + 1) * sizeof *order);
    if (!order) {
        free(x);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[start[x[i].len]++] = (uint32_t)i;
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        const struct xr *e = &x[order[k]];
        if (e->family == 4)
            rc = gt_rangeset_add4(out, (uint32_t)e->lo, (uint32_t)e->hi, e->val);
        else
            rc = gt_rangeset_add6(out, e->lo, e->hi, e->val);
    }
    free(order);
    free(x);
    return rc;
}
