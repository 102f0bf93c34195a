/* Address-range sets and their normalisation (later-added range wins). */
#include "geotap/ranges.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

int gt_rangeset_add4(struct gt_rangeset *rs, uint32_t lo, uint32_t hi, uint32_t val)
{
    if (grow((void **)&rs->v4, &rs->cap4, rs->n4 + 1, sizeof *rs->v4))
        return -1;
    rs->v4[rs->n4++] = (struct gt_range4){ lo, hi, val };
    return 0;
}

int gt_rangeset_add6(struct gt_rangeset *rs, gt_u128 lo, gt_u128 hi, uint32_t val)
{
    if (grow((void **)&rs->v6, &rs->cap6, rs->n6 + 1, sizeof *rs->v6))
        return -1;
    rs->v6[rs->n6++] = (struct gt_range6){ lo, hi, val };
    return 0;
}

void gt_rangeset_free(struct gt_rangeset *rs)
{
    free(rs->v4);
    free(rs->v6);
    memset(rs, 0, sizeof *rs);
}

/* Both families are normalised by one sweep over 128-bit keys; IPv4 is
 * widened on the way in and narrowed on the way out. */
struct item { gt_u128 lo, hi; uint32_t val; uint32_t prio; };
struct ev { gt_u128 at; uint32_t idx; int start; };   /* start at lo, end after hi */

static int cmp_ev(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);  /* ends before starts */
}

/* Max-heap of item indices by priority (insertion order), lazily pruned. */
struct heap { uint32_t *a; size_t n; };

static void heap_push(struct heap *h, const struct item *it, uint32_t i)
{
    size_t k = h->n++;
    h->a[k] = i;
    while (k && it[h->a[(k - 1) / 2]].prio < it[h->a[k]].prio) {
        uint32_t t = h->a[k]; h->a[k] = h->a[(k - 1) / 2]; h->a[(k - 1) / 2] = t;
        k = (k - 1) / 2;
    }
}

static void heap_pop(struct heap *h, const struct item *it)
{
    h->a[0] = h->a[--h->n];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < h->n && it[h->a[l]].prio > it[h->a[m]].prio) m = l;
        if (r < h->n && it[h->a[r]].prio > it[h->a[m]].prio) m = r;
        if (m == k) break;
        uint32_t t = h->a[k]; h->a[k] = h->a[m]; h->a[m] = t;
        k = m;
    }
}

/* Sweep: output disjoint [lo,hi] pieces with the value of the highest-priority
 * covering item, merging adjacent equal values. Returns count or -1. */
static long sweep(struct item *it, size_t n, struct item **outp)
{
    struct ev *ev = malloc(2 * n * sizeof *ev + 1);
    unsigned char *alive = calloc(n + 1, 1);
    struct heap h = { malloc((n + 1) * sizeof(uint32_t)), 0 };
    struct item *out = malloc((2 * n + 1) * sizeof *out);
    long no = 0;
    if (!ev || !alive || !h.a || !out) {
        free(ev); free(alive); free(h.a); free(out);
        return -1;
    }
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        it[i].prio = (uint32_t)i;
        ev[ne++] = (struct ev){ it[i].lo, (uint32_t)i, 1 };
        /* an end event at hi+1; a range ending at the top of the space needs none */
        if (it[i].hi != ~(gt_u128)0)
            ev[ne++] = (struct ev){ it[i].hi + 1, (uint32_t)i, 0 };
    }
    qsort(ev, ne, sizeof *ev, cmp_ev);
    for (size_t e = 0; e < ne;) {
        gt_u128 at = ev[e].at;
        for (; e < ne && ev[e].at == at; e++) {
            if (ev[e].start) {
                alive[ev[e].idx] = 1;
                heap_push(&h, it, ev[e].idx);
            } else {
                alive[ev[e].idx] = 0;
            }
        }
        while (h.n && !alive[h.a[0]])
            heap_pop(&h, it);
        /* segment [at, next event - 1] */
        if (!h.n)
            continue;
        gt_u128 end = e < ne ? ev[e].at - 1 : ~(gt_u128)0;
        uint32_t val = it[h.a[0]].val;
        if (no && out[no - 1].val == val && out[no - 1].hi + 1 == at)
            out[no - 1].hi = end;
        else
            out[no++] = (struct item){ at, end, val, 0 };
    }
    free(ev); free(alive); free(h.a);
    *outp = out;
    return no;
}

int gt_rangeset_normalize(struct gt_rangeset *rs)
{
    struct item *it, *out;
    long no;

    it = malloc((rs->n4 + 1) * sizeof *it);
    if (!it)
        return -1;
    for (size_t i = 0; i < rs->n4; i++)
        it[i] = (struct item){ rs->v4[i].lo, rs->v4[i].hi, rs->v4[i].val, 0 };
    no = sweep(it, rs->n4, &out);
    free(it);
    /* Nested ranges split their container: up to 2n-1 pieces from n. */
    if (no < 0 || grow((void **)&rs->v4, &rs->cap4, (size_t)no, sizeof *rs->v4)) {
        if (no >= 0)
            free(out);
        return -1;
    }
    for (long i = 0; i < no; i++)
        rs->v4[i] = (struct gt_range4){ (uint32_t)out[i].lo, (uint32_t)out[i].hi, out[i].val };
    rs->n4 = (size_t)no;
    free(out);

    it = malloc((rs->n6 + 1) * sizeof *it);
    if (!it)
        return -1;
    for (size_t i = 0; i < rs->n6; i++)
        it[i] = (struct item){ rs->v6[i].lo, rs->v6[i].hi, rs->v6[i].val, 0 };
    no = sweep(it, rs->n6, &out);
    free(it);
    if (no < 0 || grow((void **)&rs->v6, &rs->cap6, (size_t)no, sizeof *rs->v6)) {
        if (no >= 0)
            free(out);
        return -1;
    }
    for (long i = 0; i < no; i++)
        rs->v6[i] = (struct gt_range6){ out[i].lo, out[i].hi, out[i].val };
    rs->n6 = (size_t)no;
    free(out);
    return 0;
}

gt_u128 gt_u128_from_bytes(const uint8_t b[16])
{
    gt_u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = (v << 8) | b[i];
    return v;
}

void gt_u128_to_bytes(gt_u128 v, uint8_t b[16])
{
    for (int i = 15; i >= 0; i--) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
}

int gt_parse_cidr(const char *s, uint32_t *lo4, uint32_t *hi4, gt_u128 *lo6, gt_u128 *hi6)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof buf)
        return 0;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    long len = -1;
    if (slash) {
        char *end;
        if (!slash[1] || slash[1] == '-' || slash[1] == '+')
            return 0;
        len = strtol(slash + 1, &end, 10);
        if (*end)
            return 0;
    }
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        if (len < 0) len = 32;
        if (len > 32) return 0;
        uint32_t a = ntohl(a4.s_addr);
        uint32_t mask = len ? ~(uint32_t)0 << (32 - len) : 0;
        *lo4 = a & mask;
        *hi4 = *lo4 | ~mask;
        return 4;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        if (len < 0) len = 128;
        if (len > 128) return 0;
        gt_u128 a = gt_u128_from_bytes(a6.s6_addr);
        gt_u128 mask = len ? ~(gt_u128)0 << (128 - len) : 0;
        *lo6 = a & mask;
        *hi6 = *lo6 | ~mask;
        return 6;
    }
    return 0;
}
