/* A closed time bin of merged counters, as handed to outputs and to the
 * anomaly module. All arrays are indexed by key id (see keys.h). */
#ifndef GEOTAP_BINS_H
#define GEOTAP_BINS_H

#include <stdint.h>

struct gt_counts {
    uint64_t pkts_from, bytes_from;   /* the key is the source address's */
    uint64_t pkts_to, bytes_to;       /* the key is the destination address's */
};

/* Capture-wide figures of one bin. */
struct gt_bin_stats {
    uint64_t packets;        /* frames read */
    uint64_t bytes;          /* their frame lengths */
    uint64_t ip;             /* frames with an IP header counted per key */
    uint64_t nonip, truncated, malformed;
    uint64_t drops;          /* reported lost by the capture (kernel, interface, NIC) */
    int64_t first_ns, last_ns;  /* times of the first and last frame; 0 when none */
};

struct gt_bin {
    int64_t start;                   /* bin start, seconds since the epoch */
    uint32_t width;                  /* seconds; 0 = one bin for the whole capture */
    uint32_t nkeys;
    const struct gt_counts *counts;  /* [nkeys] */
    const int64_t *last_ns;          /* [nkeys] last packet of the key in this bin, ns since epoch; 0 = none */
    const int64_t *first_ns;         /* [nkeys] first packet of the key in this bin; 0 = none */
    struct gt_bin_stats stats;
};

/* Add counts c of a key (first/last packet times f, l; 0 = none) into
 * m, *mf, *ml: the one merge of per-key counters. */
static inline void gt_counts_merge(struct gt_counts *m, int64_t *mf, int64_t *ml,
                                   const struct gt_counts *c, int64_t f, int64_t l)
{
    m->pkts_from += c->pkts_from;
    m->bytes_from += c->bytes_from;
    m->pkts_to += c->pkts_to;
    m->bytes_to += c->bytes_to;
    if (f && (!*mf || f < *mf))
        *mf = f;
    if (l > *ml)
        *ml = l;
}

/* A consumer of closed bins, called in time order, once per bin. */
typedef void (*gt_bin_fn)(void *ctx, const struct gt_bin *bin);

#endif
