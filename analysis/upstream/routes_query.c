/* Per-prefix summary of the live routes (origin by majority, upstream
 * shares), statistics, longest-prefix queries and the export to a
 * rangeset the classifier compiles. The table is routes.c. */
#include "routes_impl.h"

#include <stdlib.h>
#include <string.h>

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
        if (!routes_live(r, &r->rt[k]))
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
        while (k && !routes_live(r, &r->rt[k]))
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
        uint32_t pi = routes_find_pfx(r, family, a & mask, (unsigned)l);
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
    if (routes_parse_prefix(cidr, cidr + strlen(cidr), &family, &addr, &len))
        return 0;
    uint32_t pi = routes_find_pfx(r, family, addr, len);
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
