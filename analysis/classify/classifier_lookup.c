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
                uint64_t upto = gt_pt_upto(v);
                const struct gt_pt_node *x = nd[l];
                if (gt_pt_is_node(x, v)) {
                    nd[l] = &pt->nodes[gt_pt_child(x, upto)];
                    __builtin_prefetch(nd[l]);
                    if (v6)
                        k6[l] <<= 6;
                    else
                        k4[l] <<= 6;
                } else {
                    leaf[l] = gt_pt_leaf(x, upto);
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

/* gt_classify_walk: rolling lanes. Each lane walks one address, one trie
 * level per step; a lane that reaches its leaf takes the next address at
 * once, so GT_WALK_LANES walks stay in flight however unequal their depths
 * (an IPv6 walk is 3-8 levels, an IPv4 one 0-2: the IPv6 addresses go
 * first). Both families share the lanes: an IPv4 key is its address at the
 * top of 128 bits (chunks past bit 31 read zero), so one step serves both.
 * Leaves are prefetched when found and read at finish. */

/* Direct-table entry of walk address j, for its prefetch. */
static inline const uint32_t *walk_direct(const struct gt_classify_walk *w, size_t j)
{
    return j < w->n6 ? direct_of(w->p6, NULL, w->a6, j, 1) : direct_of(w->p4, w->a4, NULL, j - w->n6, 0);
}

/* Give lane l the next address that needs a walk (those the direct table
 * resolves are written at once); clears the lane when none is left. */
static inline void walk_take(struct gt_classify_walk *w, unsigned l)
{
    while (w->next < w->n) {
        size_t j = w->next++;
        if (j + 2 * GT_WALK_LANES < w->n)
            __builtin_prefetch(walk_direct(w, j + 2 * GT_WALK_LANES));
        const struct gt_poptrie *pt;
        gt_u128 k;
        uint32_t *out;
        if (j < w->n6) {
            pt = w->p6;
            k = key6(w->a6, j);
            out = &w->ids6[j];
        } else {
            pt = w->p4;
            k = (gt_u128)w->a4[j - w->n6] << 96;
            out = &w->ids4[j - w->n6];
        }
        uint32_t e = pt->direct[(uint32_t)(k >> (128 - pt->sbits))];
        if (e & GT_PT_LEAF) {
            *out = e & ~GT_PT_LEAF;
            continue;
        }
        struct gt_walk_lane *r = &w->lane[l];
        r->pt = pt;
        r->nd = &pt->nodes[e];
        __builtin_prefetch(r->nd);
        r->k = k << pt->sbits;
        r->out = out;
        return;
    }
    w->active &= ~(1u << l);
}

static void walk_resolve(struct gt_classify_walk *w)
{
    for (unsigned q = 0; q < w->nrq; q++)
        *w->rq_out[q] = *w->rq_leaf[q];
    w->nrq = 0;
}

void gt_classify_walk_start(struct gt_classify_walk *w, const gt_classifier *c, const uint32_t *a4, uint32_t *ids4,
                            size_t n4, const uint8_t (*a6)[16], uint32_t *ids6, size_t n6)
{
    w->p4 = &c->lk.v4;
    w->p6 = &c->lk.v6;
    w->a4 = a4;
    w->a6 = a6;
    w->ids4 = ids4;
    w->ids6 = ids6;
    w->n6 = n6;
    w->n = n4 + n6;
    w->next = 0;
    w->nrq = 0;
    for (size_t j = 0; j < w->n && j < 2 * GT_WALK_LANES; j++)
        __builtin_prefetch(walk_direct(w, j));
    w->active = (1u << GT_WALK_LANES) - 1;
    for (unsigned l = 0; l < GT_WALK_LANES; l++)
        walk_take(w, l);
}

void gt_classify_walk_step(struct gt_classify_walk *w)
{
    for (uint32_t p = w->active; p; p &= p - 1) {
        unsigned l = (unsigned)__builtin_ctz(p);
        struct gt_walk_lane *r = &w->lane[l];
        const struct gt_pt_node *x = r->nd;
        unsigned v = (unsigned)(r->k >> 122);
        uint64_t upto = gt_pt_upto(v);
        if (gt_pt_is_node(x, v)) {
            r->nd = &r->pt->nodes[gt_pt_child(x, upto)];
            __builtin_prefetch(r->nd);
            r->k <<= 6;
            continue;
        }
        const uint32_t *lf = &r->pt->leaves[gt_pt_leaf(x, upto)];
        __builtin_prefetch(lf);
        if (w->nrq == GT_WALK_RQ)
            walk_resolve(w);
        w->rq_leaf[w->nrq] = lf;
        w->rq_out[w->nrq++] = r->out;
        walk_take(w, l);
    }
}

void gt_classify_walk_finish(struct gt_classify_walk *w)
{
    while (w->active)
        gt_classify_walk_step(w);
    walk_resolve(w);
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
