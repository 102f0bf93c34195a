/* The counting engine: parse + classify + count per key in time bins.
 * Workers count packets into bins they own (no locks, no shared writes on
 * the packet path); the collector merges closed bins from every worker and
 * hands each merged bin, in time order, to the bin consumer. */
#ifndef GEOTAP_ENGINE_H
#define GEOTAP_ENGINE_H

#include <stdint.h>
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"

struct gt_engine_opts {
    const gt_classifier *cls;
    const struct gt_keys *keys;
    unsigned parse_flags;       /* GT_PARSE_* */
    int bytes_l3;               /* count IP-layer length instead of the frame length */
    uint32_t bin_seconds;       /* bin width; 0 = one bin for everything */
    unsigned nworkers;          /* >= 1 */
    gt_bin_fn on_bin;           /* receives merged bins in time order */
    void *ctx;
    int inline_collect;         /* single-threaded use: workers run the collector themselves */
    uint64_t max_gap_bins;      /* fill at most this many empty bins in one gap (0: 1,000,000) */
};

typedef struct gt_engine gt_engine;
struct gt_worker;

/* Create an engine with opts->nworkers workers. NULL when out of memory. */
gt_engine *gt_engine_new(const struct gt_engine_opts *opts);
/* Free the engine (after gt_engine_finish). */
void gt_engine_free(gt_engine *e);
/* Worker i (0 .. nworkers-1); each is used by exactly one thread. */
struct gt_worker *gt_engine_worker(gt_engine *e, unsigned i);

/* Count one frame (link type dlt, capture time ts_ns since the epoch,
 * caplen bytes captured of wirelen). Bins close on the packet's time. */
void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen);
/* Advance the worker's clock to now_ns with no packet (live, silent link):
 * closes bins that ended, so zero bins still appear. */
void gt_worker_tick(struct gt_worker *w, int64_t now_ns);
/* Add capture-reported drops to the worker's current bin. */
void gt_worker_add_drops(struct gt_worker *w, uint64_t drops);
/* The worker has no more packets: publish its last partial bin. */
void gt_worker_finish(struct gt_worker *w);

/* Collector side: merge and emit every bin all workers have closed.
 * Returns the number of bins emitted. Safe to call concurrently with workers. */
int gt_engine_collect(gt_engine *e);
/* After every worker finished: emit all remaining bins. */
void gt_engine_finish(gt_engine *e);
/* Totals over everything counted so far (merged from emitted bins). */
struct gt_bin_stats gt_engine_totals(const gt_engine *e);

#endif
