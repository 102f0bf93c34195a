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

/* IPv6 address i of a batch as a 128-bit number. (An IPv4 walk keys a
 * 64-bit word, the address left-aligned: chunks read past bit 31 are zero.) */
static inline gt_u128 key6(const uint8_t (*a)[16], size_t i)
{
    uint64_t hi, lo;
    memcpy(&hi, a[i], 8);
    memcpy(&lo, a[i] + 8, 8);
    return ((gt_u128)__builtin_bswap64(hi) << 64) | __builtin_bswap64(lo);
}

/* Direct-table entry of address i, for its prefetch only: IPv6 from its
 * first two bytes (sbits <= 16 is exact; more only prefetches nearby). */
static inline const uint32_t *direct_of(const struct gt_poptrie *pt, const uint32_t *a4, const uint8_t (*a6)[16],
                                        size_t i, int v6)
{
    if (!v6)
        return &pt->direct[a4[i] >> (32 - pt->sbits)];
    unsigned sh = pt->sbits <= 16 ? 16 - pt->sbits : 0;
    return &pt->direct[((unsigned)a6[i][0] << 8 | a6[i][1]) >> sh];
}

/* The batch walk of both families: v6 is a constant in each caller, so each
 * gets its own code with only its own key width (as fast as two copies). */
static inline __attribute__((always_inline)) void
batch(const struct gt_poptrie *pt, const uint32_t *a4, const uint8_t (*a6)[16], uint32_t *ids, size_t n, int v6)
{
    const unsigned sb = pt->sbits, sh4 = 32 - sb;
    for (size_t l = 0; l < LANES && l < n; l++)
        __builtin_prefetch(direct_of(pt, a4, a6, l, v6));
    /* the last group may be partial: a burst's few addresses are batched too */
    for (size_t i = 0; i < n; i += LANES) {
        const unsigned m = n - i < LANES ? (unsigned)(n - i) : LANES;
        const struct gt_pt_node *nd[LANES];
        uint64_t k4[LANES];
        gt_u128 k6[LANES];
        uint32_t leaf[LANES];
        uint32_t pending = 0, resolve = 0;
        for (unsigned l = 0; l < m; l++) {
            if (i + LANES + l < n)
                __builtin_prefetch(direct_of(pt, a4, a6, i + LANES + l, v6));
            uint32_t e;
            gt_u128 q6 = 0;
            if (v6) {
                q6 = key6(a6, i + l);
                e = pt->direct[(uint32_t)(q6 >> (128 - sb))];
            } else {
                e = pt->direct[a4[i + l] >> sh4];
            }
            if (e & GT_PT_LEAF) {
                ids[i + l] = e & ~GT_PT_LEAF;
            } else {
                nd[l] = &pt->nodes[e];
                __builtin_prefetch(nd[l]);
                if (v6)
                    k6[l] = q6 << sb;
                else
                    k4[l] = (uint64_t)a4[i + l] << (32 + sb);
                pending |= 1u << l;
            }
        }
        while (pending) {
            for (uint32_t p = pending; p; p &= p - 1) {
                unsigned l = (unsigned)__builtin_ctz(p);
                unsigned v = v6 ? (unsigned)(k6[l] >> 122) : (unsigned)(k4[l] >> 58);
                uint64_t upto = ((uint64_t)2 << v) - 1;      /* bits 0..v (v = 63 wraps to all) */
                const struct gt_pt_node *x = nd[l];
                if (x->vector & ((uint64_t)1 << v)) {
                    nd[l] = &pt->nodes[x->base1 + gt_popcnt64(x->vector & upto) - 1];
                    __builtin_prefetch(nd[l]);
                    if (v6)
                        k6[l] <<= 6;
                    else
                        k4[l] <<= 6;
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

void gt_classify4_batch(const gt_classifier *c, const uint32_t *addrs, uint32_t *ids, size_t n)
{
    batch(&c->lk.v4, addrs, NULL, ids, n, 0);
}

void gt_classify6_batch(const gt_classifier *c, const uint8_t (*addrs)[16], uint32_t *ids, size_t n)
{
    batch(&c->lk.v6, NULL, addrs, ids, n, 1);
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
