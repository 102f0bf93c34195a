/* Poptrie (Asai & Ohara, SIGCOMM 2015): a multibit trie of 64-way nodes
 * whose children and leaves are compressed with bitmaps and popcount,
 * behind a direct-indexed table of the top S bits. Built once from a sorted
 * list of disjoint segments covering the whole address space; immutable. */
#ifndef GEOTAP_POPTRIE_H
#define GEOTAP_POPTRIE_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/ranges.h"

#define GT_PT_LEAF 0x80000000u      /* direct entry holds a value, not a node index */

struct gt_pt_node {
    uint64_t vector;                /* bit k: child k is an internal node */
    uint64_t leafvec;               /* bit k: a run of equal leaves starts at child k */
    uint32_t base0;                 /* first leaf of this node in leaves[] */
    uint32_t base1;                 /* first child node in nodes[] */
};

struct gt_poptrie {
    unsigned bits;                  /* 32 or 128 */
    unsigned sbits;                 /* direct table index width */
    uint32_t *direct;               /* 2^sbits entries: GT_PT_LEAF|value or node index */
    struct gt_pt_node *nodes;
    uint32_t *leaves;
    size_t nnodes, nleaves;
    void *map;                      /* one mapping holding nodes, direct, leaves */
    size_t map_bytes;
};

/* Build from n segments: segment i covers [starts[i], starts[i+1]-1] (the
 * last one up to the top of the space), starts[0] == 0, values < 2^31.
 * 0, or -1 when out of memory. */
int gt_poptrie_build(struct gt_poptrie *pt, unsigned bits, unsigned sbits,
                     const gt_u128 *starts, const uint32_t *vals, size_t n);
void gt_poptrie_free(struct gt_poptrie *pt);
size_t gt_poptrie_memory(const struct gt_poptrie *pt);

/* Population count: the popcnt instruction when the build targets it (the
 * DPDK flags bring -march=corei7); otherwise an inline SWAR count rather
 * than libgcc's out-of-line one. */
static inline uint32_t gt_popcnt64(uint64_t x)
{
#if defined(__POPCNT__) || !defined(__x86_64__)
    return (uint32_t)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
#endif
}

/* One level of a walk at node n, v the key's next 6-bit chunk and upto
 * gt_pt_upto(v): whether child v is an internal node; then its index in
 * nodes[] (gt_pt_child) or that of its leaf in leaves[] (gt_pt_leaf).
 * Every walk (the lookups below, the classifier's batches and stepped
 * walks) takes its levels here; upto is computed once, before the branch,
 * which is the code the compiler made before these helpers. */
static inline uint64_t gt_pt_upto(unsigned v)
{
    return ((uint64_t)2 << v) - 1;      /* bits 0..v (v = 63 wraps to all) */
}

static inline int gt_pt_is_node(const struct gt_pt_node *n, unsigned v)
{
    return (n->vector & ((uint64_t)1 << v)) != 0;
}

static inline uint32_t gt_pt_child(const struct gt_pt_node *n, uint64_t upto)
{
    return n->base1 + gt_popcnt64(n->vector & upto) - 1;
}

static inline uint32_t gt_pt_leaf(const struct gt_pt_node *n, uint64_t upto)
{
    return n->base0 + gt_popcnt64(n->leafvec & upto) - 1;
}

static inline uint32_t gt_poptrie_lookup4(const struct gt_poptrie *pt, uint32_t a)
{
    uint32_t e = pt->direct[a >> (32 - pt->sbits)];
    if (e & GT_PT_LEAF)
        return e & ~GT_PT_LEAF;
    const struct gt_pt_node *n = &pt->nodes[e];
    /* address left-aligned in 64 bits: 6-bit chunks read past bit 31 are zero */
    uint64_t k = (uint64_t)a << (32 + pt->sbits);
    for (;;) {
        unsigned v = (unsigned)(k >> 58);
        uint64_t upto = gt_pt_upto(v);
        if (!gt_pt_is_node(n, v))
            return pt->leaves[gt_pt_leaf(n, upto)];
        n = &pt->nodes[gt_pt_child(n, upto)];
        k <<= 6;
    }
}

static inline uint32_t gt_poptrie_lookup6(const struct gt_poptrie *pt, gt_u128 a)
{
    uint32_t e = pt->direct[(uint32_t)(a >> (128 - pt->sbits))];
    if (e & GT_PT_LEAF)
        return e & ~GT_PT_LEAF;
    const struct gt_pt_node *n = &pt->nodes[e];
    gt_u128 k = a << pt->sbits;
    for (;;) {
        unsigned v = (unsigned)(k >> 122);
        uint64_t upto = gt_pt_upto(v);
        if (!gt_pt_is_node(n, v))
            return pt->leaves[gt_pt_leaf(n, upto)];
        n = &pt->nodes[gt_pt_child(n, upto)];
        k <<= 6;
    }
}

#endif
