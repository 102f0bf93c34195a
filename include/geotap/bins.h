/* A closed time bin of merged counters, as handed to outputs and to the
 * anomaly module. All arrays are indexed by key id (see keys.h). */
#ifndef GEOTAP_BINS_H
#define GEOTAP_BINS_H

#include <stdint.h>

/* A capture time the reader could not represent (fraction out of range, or
 * beyond int64 nanoseconds): such a frame is counted in the open bin as
 * bad_time, never binned at a wrapped time. */
#define GT_TS_BAD INT64_MIN

struct gt_counts {
    uint64_t pkts_from, bytes_from;   /* the key is the source address's */
    uint64_t pkts_to, bytes_to;       /* the key is the destination address's */
    /* Silences of the key longer than GT_FLOW_GAP_NS inside the bin (as one
     * worker saw them): how many ended (a flow start) and their length past
     * GT_FLOW_GAP_NS, in ms (saturating). The anomaly module estimates the
     * rate of flow starts from them (anomaly.h). */
    uint32_t starts, idle_ms;
};

/* A silence longer than this is between flows, not inside one. */
#define GT_FLOW_GAP_NS 5000000000LL

/* Account the packet at ts_ns of a key whose previous packet in the bin was
 * at last_ns (0 = none): one compare on the packet path. */
static inline void gt_counts_gap(struct gt_counts *c, int64_t last_ns, int64_t ts_ns)
{
    int64_t g = ts_ns - last_ns - GT_FLOW_GAP_NS;
    if (__builtin_expect(last_ns != 0 && g > 0, 0)) {
        uint64_t v = (uint64_t)c->idle_ms + (uint64_t)(g / 1000000);
        c->starts++;
        c->idle_ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
}

/* Add src's counts to dst (merging workers or projecting keys). */
static inline void gt_counts_add(struct gt_counts *dst, const struct gt_counts *src)
{
    uint64_t v = (uint64_t)dst->idle_ms + src->idle_ms;
    dst->pkts_from += src->pkts_from;
    dst->bytes_from += src->bytes_from;
    dst->pkts_to += src->pkts_to;
    dst->bytes_to += src->bytes_to;
    dst->starts += src->starts;
    dst->idle_ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Capture-wide figures of one bin. */
struct gt_bin_stats {
    uint64_t packets;        /* frames read */
    uint64_t bytes;          /* their frame lengths */
    uint64_t ip;             /* frames with an IP header counted per key */
    uint64_t nonip, truncated, malformed;
    uint64_t drops;          /* reported lost by the capture (kernel, interface, NIC) */
    uint64_t bad_time;       /* frames with an unrepresentable time (GT_TS_BAD) */
    uint64_t clock_jumps;    /* frames far from the recent time, counted in the open bin (engine.h) */
    uint64_t gap_skipped;    /* totals only: empty bins not written (the gap-fill bound, engine.h) */
    int64_t first_ns, last_ns;  /* earliest and latest frame time (clock jumps aside); 0 when none */
    uint32_t workers;        /* workers whose counts the bin merges (0 = taken as 1) */
};

struct gt_bin {
    int64_t start;                   /* bin start, seconds since the epoch */
    uint32_t width;                  /* seconds; 0 = one bin for the whole capture */
    uint32_t nkeys;
    const struct gt_counts *counts;  /* [nkeys] */
    const int64_t *last_ns;          /* [nkeys] last packet of the key in this bin, ns since epoch; 0 = none */
    const int64_t *first_ns;         /* [nkeys] first packet of the key in this bin; 0 = none */
    struct gt_bin_stats stats;
    /* 1: every count, first and last time is zero (a bin the engine fills
     * into a silence), so a consumer may skip the arrays; 0: look. */
    uint32_t empty;
};

/* A consumer of closed bins, called in time order, once per bin. */
typedef void (*gt_bin_fn)(void *ctx, const struct gt_bin *bin);

#endif
