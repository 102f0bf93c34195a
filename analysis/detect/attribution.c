/* Attribution and the detector's ignore policy (attribution.h). */
#include "geotap/attribution.h"

#include <stdlib.h>
#include <string.h>

struct gt_attribution {
    const struct gt_keys *fine, *coarse;
    const uint32_t *proj, *own_up;
    uint32_t n_up;
    gt_anomaly *a;
    struct gt_counts *p_counts;         /* [coarse] the projected bin */
    int64_t *p_first, *p_last;
    uint64_t *up_pkts;                  /* [n_up] per bin */
    uint64_t *cum;                      /* [fine] packets so far */
    uint32_t *key_up;                   /* [coarse] upstream set for the key */
    uint64_t *best;                     /* [coarse] scratch: cum of the key's best upstream */
    int zero;                           /* the projected bin and up_pkts are all zero */
};

int gt_key_is_unknown(const struct gt_keys *keys, uint32_t k)
{
    const struct gt_key *key = &keys->keys[k];
    return key->home || ((keys->dims & GT_DIM_COUNTRY) && key->cc[0] == 'Z' && key->cc[1] == 'Z') ||
           (keys->dims == GT_DIM_ASN && key->asn == 0);
}

void gt_detect_ignore_unknown(gt_anomaly *a, const struct gt_keys *keys)
{
    for (uint32_t k = 0; k < keys->nkeys; k++)
        if (gt_key_is_unknown(keys, k))
            gt_anomaly_ignore_key(a, k);
}

void gt_attribution_free(gt_attribution *t)
{
    if (!t)
        return;
    free(t->p_counts);
    free(t->p_first);
    free(t->p_last);
    free(t->up_pkts);
    free(t->cum);
    free(t->key_up);
    free(t->best);
    free(t);
}

gt_attribution *gt_attribution_new(const struct gt_keys *fine, const struct gt_keys *coarse,
                                   const uint32_t *proj, const uint32_t *own_up, uint32_t n_upstreams,
                                   gt_anomaly *a)
{
    gt_attribution *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (struct gt_attribution){ .fine = fine, .coarse = coarse, .proj = proj, .own_up = own_up,
                                  .n_up = n_upstreams, .a = a, .zero = 1 };
    size_t nk = (size_t)coarse->nkeys + 1, nc = (size_t)fine->nkeys + 1;
    t->p_counts = calloc(nk, sizeof *t->p_counts);
    t->p_first = calloc(nk, sizeof *t->p_first);
    t->p_last = calloc(nk, sizeof *t->p_last);
    t->up_pkts = calloc((size_t)n_upstreams + 1, sizeof *t->up_pkts);
    t->cum = calloc(nc, sizeof *t->cum);
    t->key_up = calloc(nk, sizeof *t->key_up);
    t->best = calloc(nk, sizeof *t->best);
    if (!t->p_counts || !t->p_first || !t->p_last || !t->up_pkts || !t->cum || !t->key_up || !t->best) {
        gt_attribution_free(t);
        return NULL;
    }
    return t;
}

void gt_attribution_bin(gt_attribution *t, const struct gt_bin *in, struct gt_bin *out)
{
    uint32_t nk = t->coarse->nkeys;
    /* A bin without packets projects to zeros, and no key's best upstream
     * changes (cum did not move): in a stretch of them, nothing to redo. */
    if (in->empty && t->zero)
        goto done;
    t->zero = in->empty;
    memset(t->p_counts, 0, nk * sizeof *t->p_counts);
    memset(t->p_first, 0, nk * sizeof *t->p_first);
    memset(t->p_last, 0, nk * sizeof *t->p_last);
    memset(t->up_pkts, 0, t->n_up * sizeof *t->up_pkts);
    memset(t->best, 0, nk * sizeof *t->best);
    uint32_t n = in->nkeys < t->fine->nkeys ? in->nkeys : t->fine->nkeys;
    for (uint32_t i = 0; i < n && !in->empty; i++) {
        const struct gt_counts *ci = &in->counts[i];
        uint32_t k = t->proj[i];
        uint64_t pk = ci->pkts_from + ci->pkts_to;
        uint32_t u = t->fine->keys[i].upstream;
        if (pk) {
            gt_counts_add(&t->p_counts[k], ci);
            if (in->first_ns[i] && (!t->p_first[k] || in->first_ns[i] < t->p_first[k]))
                t->p_first[k] = in->first_ns[i];
            if (in->last_ns[i] > t->p_last[k])
                t->p_last[k] = in->last_ns[i];
            uint32_t u2 = t->own_up[i];
            t->up_pkts[u] += pk;
            if (u2 && u2 != u)
                t->up_pkts[u2] += pk;
            t->cum[i] += pk;
        }
        if (u && t->cum[i] > t->best[k]) {
            t->best[k] = t->cum[i];
            if (t->key_up[k] != u) {
                t->key_up[k] = u;
                gt_anomaly_set_upstream(t->a, k, u);
            }
        }
    }
    t->up_pkts[0] = 0;
done:
    gt_anomaly_upstream_counts(t->a, t->up_pkts, t->n_up);
    *out = *in;
    out->nkeys = nk;
    out->counts = t->p_counts;
    out->first_ns = t->p_first;
    out->last_ns = t->p_last;
}

const uint32_t *gt_attribution_key_upstreams(const gt_attribution *t)
{
    return t->key_up;
}

const uint64_t *gt_attribution_upstream_pkts(const gt_attribution *t)
{
    return t->up_pkts;
}
