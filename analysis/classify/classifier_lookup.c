/* The classifier's batch lookups (the packet path: a burst's addresses
 * walked through the Poptrie in lockstep) and its read-only accessors. The
 * single-address lookups are inline in include/geotap/classifier.h; the
 * build is classifier.c. */
#include "geotap/classifier.h"
#include "geotap/geodata.h"
#include "geotap/poptrie.h"
#include "classifier_impl.h"

#include <string.h>

/* Batches walk LANES lookups in lockstep, one trie level per round, and
 * prefetch each lane's next node (and finally its leaf) before touching
 * the others: the cache misses of independent lookups overlap instead of
 * queueing behind one another. */
#define LANES 16

void gt_classify4_batch(const gt_classifier *c, const uint32_t *addrs, uint32_t *ids, size_t n)
{
    const struct gt_poptrie *pt = &c->lk.v4;
    const unsigned sh = 32 - pt->sbits;
    size_t i = 0;
    for (size_t l = 0; l < LANES && l < n; l++)
        __builtin_prefetch(&pt->direct[addrs[l] >> sh]);
    /* the last group may be partial: a burst's few addresses are batched too */
    for (; i < n; i += LANES) {
        const unsigned m = n - i < LANES ? (unsigned)(n - i) : LANES;
        const struct gt_pt_node *nd[LANES];
        uint64_t k[LANES];
        uint32_t leaf[LANES];
        uint32_t pending = 0, resolve = 0;
        for (unsigned l = 0; l < m; l++) {
            if (i + LANES + l < n)
                __builtin_prefetch(&pt->direct[addrs[i + LANES + l] >> sh]);
            uint32_t e = pt->direct[addrs[i + l] >> sh];
            if (e & GT_PT_LEAF) {
                ids[i + l] = e & ~GT_PT_LEAF;
            } else {
                nd[l] = &pt->nodes[e];
                __builtin_prefetch(nd[l]);
                k[l] = (uint64_t)addrs[i + l] << (32 + pt->sbits);
                pending |= 1u << l;
            }
        }
        while (pending) {
            for (uint32_t m = pending; m; m &= m - 1) {
                unsigned l = (unsigned)__builtin_ctz(m);
                unsigned v = (unsigned)(k[l] >> 58);
                uint64_t upto = ((uint64_t)2 << v) - 1;
                const struct gt_pt_node *x = nd[l];
                if (x->vector & ((uint64_t)1 << v)) {
                    nd[l] = &pt->nodes[x->base1 + gt_popcnt64(x->vector & upto) - 1];
                    __builtin_prefetch(nd[l]);
                    k[l] <<= 6;
                } else {
                    leaf[l] = x->base0 + gt_popcnt64(x->leafvec & upto) - 1;
                    __builtin_prefetch(&pt->leaves[leaf[l]]);
                    pending &= ~(1u << l);
                    resolve |= 1u << l;
                }
            }
        }
        for (; resolve; resolve &= resolve - 1) {
            unsigned l = (unsigned)__builtin_ctz(resolve);
            ids[i + l] = pt->leaves[leaf[l]];
        }
    }
}

void gt_classify6_batch(const gt_classifier *c, const uint8_t (*addrs)[16], uint32_t *ids, size_t n)
{
    const struct gt_poptrie *pt = &c->lk.v6;
    const unsigned sh = pt->sbits <= 16 ? 16 - pt->sbits : 0;   /* direct index from the first two bytes */
    size_t i = 0;
    for (size_t l = 0; l < LANES && l < n; l++)
        __builtin_prefetch(&pt->direct[((unsigned)addrs[l][0] << 8 | addrs[l][1]) >> sh]);
    for (; i < n; i += LANES) {
        const unsigned m = n - i < LANES ? (unsigned)(n - i) : LANES;
        const struct gt_pt_node *nd[LANES];
        gt_u128 k[LANES];
        uint32_t leaf[LANES];
        uint32_t pending = 0, resolve = 0;
        for (unsigned l = 0; l < m; l++) {
            if (i + LANES + l < n)
                __builtin_prefetch(&pt->direct[((unsigned)addrs[i + LANES + l][0] << 8 | addrs[i + LANES + l][1]) >> sh]);
            uint64_t hi, lo;
            memcpy(&hi, addrs[i + l], 8);
            memcpy(&lo, addrs[i + l] + 8, 8);
            gt_u128 a = ((gt_u128)__builtin_bswap64(hi) << 64) | __builtin_bswap64(lo);
            uint32_t e = pt->direct[(uint32_t)(a >> (128 - pt->sbits))];
            if (e & GT_PT_LEAF) {
                ids[i + l] = e & ~GT_PT_LEAF;
            } else {
                nd[l] = &pt->nodes[e];
                __builtin_prefetch(nd[l]);
                k[l] = a << pt->sbits;
                pending |= 1u << l;
            }
        }
        while (pending) {
            for (uint32_t m = pending; m; m &= m - 1) {
                unsigned l = (unsigned)__builtin_ctz(m);
                unsigned v = (unsigned)(k[l] >> 122);
                uint64_t upto = ((uint64_t)2 << v) - 1;
                const struct gt_pt_node *x = nd[l];
                if (x->vector & ((uint64_t)1 << v)) {
                    nd[l] = &pt->nodes[x->base1 + gt_popcnt64(x->vector & upto) - 1];
                    __builtin_prefetch(nd[l]);
                    k[l] <<= 6;
                } else {
                    leaf[l] = x->base0 + gt_popcnt64(x->leafvec & upto) - 1;
                    __builtin_prefetch(&pt->leaves[leaf[l]]);
                    pending &= ~(1u << l);
                    resolve |= 1u << l;
                }
            }
        }
        for (; resolve; resolve &= resolve - 1) {
            unsigned l = (unsigned)__builtin_ctz(resolve);
            ids[i + l] = pt->leaves[leaf[l]];
        }
    }
}

uint32_t gt_classifier_nclasses(const gt_classifier *c)
{
    return c->nclasses;
}

const struct gt_class *gt_classifier_class(const gt_classifier *c, uint32_t id)
{
    return &c->classes[id < c->nclasses ? id : 0];
}

const char *gt_classifier_asn_org(const gt_classifier *c, uint32_t asn)
{
    return gt_asn_orgs_get(c->orgs, asn);
}

const char *gt_classifier_upstream_name(const gt_classifier *c, uint32_t upstream)
{
    if (upstream == 0 || upstream >= c->n_upstream_names || c->up_off[upstream] >= c->up_alen)
        return "";
    return c->up_arena + c->up_off[upstream];
}

size_t gt_classifier_memory(const gt_classifier *c)
{
    return gt_poptrie_memory(&c->lk.v4) + gt_poptrie_memory(&c->lk.v6) +
           (size_t)c->nclasses * sizeof *c->classes;
}

double gt_classifier_build_seconds(const gt_classifier *c)
{
    return c->build_seconds;
}
