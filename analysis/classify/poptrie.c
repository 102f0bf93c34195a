/* Poptrie construction from a sorted segment list (see poptrie.h). */
#include "geotap/poptrie.h"
#include "geotap/hugemap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


/* Read-mostly tables: anonymous mappings, on huge pages (hugemap.h) when
 * big enough. */
static void *table_alloc(size_t *size)
{
    size_t sz = (*size + 4095) & ~(size_t)4095;
    if (!sz)
        sz = 4096;
    if (sz < GT_HUGE_SZ) {
        void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        *size = sz;
        return p;
    }
    sz = gt_huge_len(sz);
    void *a = gt_huge_map(sz, sz);
    if (!a)
        return NULL;
    *size = sz;
    return a;
}

struct builder {
    unsigned bits;
    const gt_u128 *st;
    const uint32_t *val;
    size_t n;
    struct gt_pt_node *nodes; size_t nn, ncap;
    uint32_t *leaves; size_t nl, lcap;
    int oom;
};

static gt_u128 ones(unsigned n)
{
    return n >= 128 ? ~(gt_u128)0 : (((gt_u128)1 << n) - 1);
}

/* Segment containing a, searching forward from j. */
static size_t advance(const struct builder *b, size_t j, gt_u128 a)
{
    while (j + 1 < b->n && b->st[j + 1] <= a)
        j++;
    return j;
}

static size_t find(const struct builder *b, gt_u128 a)
{
    size_t lo = 0, hi = b->n;           /* st[lo] <= a < st[hi] */
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (b->st[m] <= a)
            lo = m;
        else
            hi = m;
    }
    return lo;
}

static int inside(const struct builder *b, size_t j, gt_u128 hi)
{
    return j + 1 >= b->n || b->st[j + 1] > hi;
}

static size_t alloc_nodes(struct builder *b, size_t k)
{
    if (b->nn + k > b->ncap) {
        size_t nc = b->ncap ? b->ncap * 2 : 4096;
        while (nc < b->nn + k)
            nc *= 2;
        struct gt_pt_node *p = realloc(b->nodes, nc * sizeof *p);
        if (!p) {
            b->oom = 1;
            return 0;
        }
        b->nodes = p;
        b->ncap = nc;
    }
    size_t i = b->nn;
    b->nn += k;
    return i;
}

static int push_leaf(struct builder *b, uint32_t v)
{
    if (b->nl == b->lcap) {
        size_t nc = b->lcap ? b->lcap * 2 : 4096;
        uint32_t *p = realloc(b->leaves, nc * sizeof *p);
        if (!p) {
            b->oom = 1;
            return -1;
        }
        b->leaves = p;
        b->lcap = nc;
    }
    b->leaves[b->nl++] = v;
    return 0;
}

/* Child k of the node at lo with r address bits below it. */
static void child_span(unsigned r, gt_u128 lo, unsigned k, gt_u128 *clo, gt_u128 *chi)
{
    if (r >= 6) {
        *clo = lo + ((gt_u128)k << (r - 6));
        *chi = *clo + ones(r - 6);
    } else {
        *clo = *chi = lo + (k >> (6 - r));   /* last, partial stride: low index bits are padding */
    }
}

static void build_node(struct builder *b, size_t idx, gt_u128 lo, unsigned depth)
{
    unsigned r = b->bits - depth;
    uint64_t vec = 0, lvec = 0;
    size_t j = find(b, lo);
    size_t base0 = b->nl;
    int have_leaf = 0;
    uint32_t last = 0;
    for (unsigned k = 0; k < 64; k++) {
        gt_u128 clo, chi;
        child_span(r, lo, k, &clo, &chi);
        j = advance(b, j, clo);
        if (!inside(b, j, chi)) {
            vec |= (uint64_t)1 << k;
            continue;
        }
        if (!have_leaf || b->val[j] != last) {
            lvec |= (uint64_t)1 << k;
            if (push_leaf(b, b->val[j]))
                return;
            last = b->val[j];
            have_leaf = 1;
        }
    }
    size_t nint = (size_t)__builtin_popcountll(vec);
    size_t base1 = nint ? alloc_nodes(b, nint) : 0;
    if (b->oom)
        return;
    b->nodes[idx] = (struct gt_pt_node){ vec, lvec, (uint32_t)base0, (uint32_t)base1 };
    size_t t = 0;
    for (unsigned k = 0; k < 64 && !b->oom; k++) {
        if (!(vec & ((uint64_t)1 << k)))
            continue;
        gt_u128 clo, chi;
        child_span(r, lo, k, &clo, &chi);
        build_node(b, base1 + t++, clo, depth + 6);
    }
}

int gt_poptrie_build(struct gt_poptrie *pt, unsigned bits, unsigned sbits,
                     const gt_u128 *starts, const uint32_t *vals, size_t n)
{
    struct builder b = { .bits = bits, .st = starts, .val = vals, .n = n };
    memset(pt, 0, sizeof *pt);
    pt->bits = bits;
    pt->sbits = sbits;
    size_t ndirect = (size_t)1 << sbits;
    uint32_t *direct = malloc(ndirect * sizeof *direct);
    if (!direct)
        return -1;
    size_t j = 0;
    unsigned r = bits - sbits;
    for (size_t i = 0; i < ndirect && !b.oom; i++) {
        gt_u128 lo = (gt_u128)i << r, hi = lo + ones(r);
        j = advance(&b, j, lo);
        if (inside(&b, j, hi)) {
            direct[i] = GT_PT_LEAF | vals[j];
        } else {
            size_t idx = alloc_nodes(&b, 1);
            if (b.oom)
                break;
            direct[i] = (uint32_t)idx;
            build_node(&b, idx, lo, sbits);
        }
    }
    if (b.oom || b.nn >= GT_PT_LEAF || b.nl >= UINT32_MAX) {
        free(direct);
        free(b.nodes);
        free(b.leaves);
        return -1;
    }
    /* one mapping for the three arrays (nodes first: 8-byte aligned), so a
     * few huge pages cover the whole structure */
    size_t nb = b.nn * sizeof *b.nodes, db = ndirect * sizeof *direct, lb = b.nl * sizeof *b.leaves;
    pt->map_bytes = nb + db + lb;
    char *m = table_alloc(&pt->map_bytes);
    if (!m) {
        free(direct);
        free(b.nodes);
        free(b.leaves);
        return -1;
    }
    pt->map = m;
    pt->nodes = (struct gt_pt_node *)m;
    pt->direct = (uint32_t *)(m + nb);
    pt->leaves = (uint32_t *)(m + nb + db);
    if (nb)
        memcpy(pt->nodes, b.nodes, nb);
    memcpy(pt->direct, direct, db);
    if (lb)
        memcpy(pt->leaves, b.leaves, lb);
    pt->nnodes = b.nn;
    pt->nleaves = b.nl;
    free(direct);
    free(b.nodes);
    free(b.leaves);
    mprotect(m, pt->map_bytes, PROT_READ);     /* immutable from here on */
    return 0;
}

void gt_poptrie_free(struct gt_poptrie *pt)
{
    if (pt->map)
        munmap(pt->map, pt->map_bytes);
    memset(pt, 0, sizeof *pt);
}

size_t gt_poptrie_memory(const struct gt_poptrie *pt)
{
    return pt->direct ? ((size_t)1 << pt->sbits) * sizeof(uint32_t) + pt->nnodes * sizeof(struct gt_pt_node) +
                     pt->nleaves * sizeof(uint32_t) : 0;
}
