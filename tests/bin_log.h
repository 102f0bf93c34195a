/* Every emitted bin flattened into records (one per bin, then one per key
 * with counts), so two runs compare with one memcmp: the tests' way of
 * saying "the same bins and per-key counts". */
#ifndef GEOTAP_TESTS_BIN_LOG_H
#define GEOTAP_TESTS_BIN_LOG_H

#include "geotap/bins.h"

#include <stdlib.h>
#include <string.h>

/* Every emitted bin, flattened: one record per bin, then its nonzero keys. */
struct rec { int64_t a, b, c, d, e, f, g; };
struct log { struct rec *r; size_t n, cap; };

static inline void put(struct log *l, struct rec r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->r = realloc(l->r, l->cap * sizeof *l->r);
    }
    l->r[l->n++] = r;
}

static inline void on_bin(void *ctx, const struct gt_bin *b)
{
    struct log *l = ctx;
    const struct gt_bin_stats *s = &b->stats;
    put(l, (struct rec){ b->start, (int64_t)s->packets, (int64_t)s->bytes, (int64_t)s->ip,
                         (int64_t)(s->nonip * 1000000 + s->truncated * 1000 + s->malformed), s->first_ns ^ s->last_ns,
                         (int64_t)(s->bad_time * 1000000 + s->clock_jumps) });
    for (uint32_t k = 0; k < b->nkeys; k++) {
        const struct gt_counts *c = &b->counts[k];
        if (c->pkts_from | c->pkts_to)
            put(l, (struct rec){ k, (int64_t)c->pkts_from, (int64_t)c->bytes_from, (int64_t)c->pkts_to,
                                 (int64_t)c->bytes_to, (int64_t)((uint64_t)b->first_ns[k] * 31 + (uint64_t)b->last_ns[k]),
                                 (int64_t)((uint64_t)c->starts << 32 | c->idle_ms) });
    }
}

static inline int log_same(const struct log *a, const struct log *b)
{
    return a->n == b->n && (a->n == 0 || !memcmp(a->r, b->r, a->n * sizeof *a->r));
}

#endif
