/* bgpdump -m text records (TABLE_DUMP*, BGP4MP*) parsed and applied to the
 * route table: ASNs in asplain/asdot, AS paths with sets and confederation
 * segments reduced to origin and upstream, STATE records ending a peer's
 * routes. The table itself is routes.c. */
#include "routes_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int routes_parse_prefix(const char *s, const char *e, int *family, gt_u128 *addr, unsigned *len)
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
            uint32_t pe = routes_find_peer(r, f[3], (size_t)(fe[3] - f[3]), peer_as, 0);
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
    if (routes_parse_prefix(f[5], fe[5], &family, &addr, &len))
        return fail(err, errlen, "bad prefix");
    uint32_t pe = routes_find_peer(r, f[3], (size_t)(fe[3] - f[3]), peer_as, announce);
    if (withdraw) {
        r->st.withdraw++;
        if (pe == UINT32_MAX)
            return 0;
        uint32_t pi = routes_find_pfx(r, family, addr, len);
        if (pi != UINT32_MAX)
            routes_unlink_peer(r, &r->p[pi], pe);
        return 0;
    }
    if (pe == UINT32_MAX)
        return fail(err, errlen, "out of memory");
    uint32_t origin, upstream;
    const char *why = NULL;
    if (path_origin_upstream(r, f[6], fe[6], &origin, &upstream, &why))
        return fail(err, errlen, why);
    uint32_t pi = routes_add_pfx(r, family, addr, len);
    if (pi == UINT32_MAX || routes_set_route(r, pi, pe, origin, upstream))
        return fail(err, errlen, "out of memory");
    r->st.announce++;
    return 0;
#undef FIELD_IS
}
