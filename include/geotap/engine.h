/* The counting engine: parse + classify + count per key in time bins.
 * Workers count packets into bins they own (no locks, no shared writes on
 * the packet path); the collector merges closed bins from every worker and
 * hands each merged bin, in time order, to the bin consumer.
 *
 * Threads. Each worker (gt_engine_worker(e, i)) is used by exactly one
 * thread at a time; gt_engine_collect() may run in one other thread
 * concurrently with all workers (concurrent collect calls serialise on a
 * flag: a second caller returns 0 at once); gt_engine_finish() waits for a
 * running collect and must follow gt_worker_finish() of every worker.
 *
 * Ownership. A worker has a ring of RING (4) bin slots, each on its own
 * cache lines: counters per key and direction, first/last times, stats.
 * The worker alone writes the open slot with plain stores; three
 * variables, on a cache line of their own, publish its progress, each
 * written by the worker only:
 *   published  number of slots closed so far (slots 0 .. published-1),
 *   watermark  start of the open bin (INT64_MIN before the first),
 *   finished   gt_worker_finish() was called.
 * The collector alone writes `consumed` (slots merged so far), on another
 * line. The packet path touches only the open slot and worker-private
 * fields: no atomic read-modify-write, no shared line written.
 *
 * Memory-ordering argument.
 * (1) Hand-over of a closed bin: the worker's plain stores into slot k
 *     happen before its store-release of published = k+1; the collector
 *     load-acquires published before reading slot k, so it reads the
 *     complete counts (release/acquire synchronises-with).
 * (2) Reuse of a slot: the collector reads slot k, then store-releases
 *     consumed = k+1; the worker load-acquires consumed and only reuses
 *     slot k (k+RING) once seq - consumed < RING, so its memset happens
 *     after the collector's reads. A worker RING bins ahead waits
 *     (back-pressure; yields, or collects itself in inline mode): never
 *     overwrites, never drops.
 * (3) Completeness of a merged bin: bin starts of one worker strictly
 *     increase (a packet older than the open bin is counted in the open
 *     bin: late, never lost; a worker never reopens an earlier bin). A
 *     worker publishes bin b before it stores watermark = b' > b, both
 *     with release. The collector loads finished, then watermark, then
 *     published (acquire each): if it saw watermark = b', it also sees
 *     every bin closed before b' was opened. So horizon = min over
 *     unfinished workers of watermark is a time below which no worker can
 *     add anything any more, and the collector emits bin t only when
 *     t < horizon (a worker that has not opened a bin yet makes the
 *     horizon -inf). It then merges the slot(s) of start t of every worker
 *     that published one; finished workers bound nothing.
 * (4) Exactly once: each slot is merged once (consumed only grows, one
 *     collector at a time) and emitted bins' starts strictly increase, as
 *     (3) makes every later bin start >= horizon > t. Gaps are filled with
 *     zero bins (at most max_gap_bins per gap, see "Gaps" below).
 * (5) Shutdown: gt_worker_finish() publishes the open partial bin and then
 *     store-releases finished = 1; once all workers are finished the
 *     horizon is +inf and gt_engine_finish() emits everything. Drops
 *     reported while no bin was open go to the next bin, or at the end to
 *     the totals.
 * (6) Lookup swap (gt_engine_set_lookup): the engine publishes the new
 *     lookup (store-release), then a new epoch (store-release). Invariant:
 *     every worker entry point that reads the lookup (gt_worker_packet,
 *     gt_worker_burst, gt_worker_tick) starts at the quiescent point, and a
 *     worker keeps no lookup pointer in use between calls. There it loads
 *     the epoch; when it moved, it loads the lookup (acquire each), adopts
 *     it and stores the epoch it saw into its own quiescent counter
 *     (release): everything it read from an older lookup came before. The
 *     collector frees a retired lookup once every unfinished worker's
 *     counter reaches the epoch of its retirement (QSBR). Workers only
 *     load and store their own line: no lock, no read-modify-write.
 *     Key ids are stable across lookups (keyspace.h): a new lookup may only
 *     add keys, up to the capacity fixed at creation; a worker adopting a
 *     larger one zeroes the new keys' counters of its open bin.
 * Clock jumps (one corrupt time must not capture the rest of a capture).
 * A worker keeps the recent time (the latest accepted packet or tick). A
 * packet more than J = max(1 h, 4 bins) ahead of it is counted in the open
 * bin, at the recent time, as a clock jump, and does not move the bins;
 * GT_JUMP_CONFIRM such packets in a row within J of each other are a real
 * step forward: the last of them opens its bin and the bins follow (the
 * others stay counted as jumps). A packet more than J behind is counted in
 * the open bin as a jump too (bins never go back). Jumps' times touch no
 * first/last time, so the time span stays that of the sane packets. Known
 * limit: the first packet sets the clock, so a corrupt first time holds
 * every later packet in its bin (all counted as jumps, and said so).
 * Gaps. Empty bins between two emitted ones are written as zero bins, at
 * most max_gap_bins per gap and at most GT_GAP_FREE + GT_GAP_RATIO x (bins
 * emitted from packets or ticks) in all, so the zero rows stay bounded by
 * the real output; the first empty bins of a gap are always written (a drop
 * to zero stays visible) until the budget is spent, the rest are counted in
 * the totals' gap_skipped.
 * Live capture: bins close on wall-clock time because each worker calls
 * gt_worker_tick(now) when its capture has been idle; every unfinished
 * worker must keep doing so, or the horizon stops and the others
 * eventually wait on their full ring. */
#ifndef GEOTAP_ENGINE_H
#define GEOTAP_ENGINE_H

#include <stdint.h>
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"

struct gt_upstream_map;

/* One captured frame: capture time in ns since the epoch, captured and
 * original length. */
struct gt_frame { int64_t ts_ns; const uint8_t *data; uint32_t caplen, wirelen; };

/* What workers classify with: a classifier and its class -> key map, and
 * the per-frame upstream rules. Handed over by pointer: everything it
 * points to must stay valid until retire(retire_ctx) is called. */
struct gt_lookup {
    const gt_classifier *cls;
    const uint32_t *class_key;  /* [nclasses] -> key id */
    const struct gt_key *keys;  /* [nkeys] */
    uint32_t nkeys;
    /* Per-frame upstream rules (--upstream-map mac/vlan/interface): the
     * upstream they give replaces the class's for the frame's non-home
     * addresses. l2map NULL = none. */
    const struct gt_upstream_map *l2map;
    const uint32_t *l2_row;     /* [upstream index]: row + 1 in l2_key, 0 = none */
    const uint32_t *l2_key;     /* [row][l2_base]: key with that upstream (gt_keys_upstream_variants) */
    uint32_t l2_base;           /* keys before the variants were added */
    void (*retire)(void *ctx);  /* no worker uses the lookup any more; may be NULL */
    void *retire_ctx;
};

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
    uint32_t max_keys;          /* key capacity for later lookups (0: the first lookup's nkeys) */
    /* The first lookup's per-frame upstream rules (see struct gt_lookup). */
    const struct gt_upstream_map *l2map;
    const char *iface;          /* capture interface for 'interface' rules */
    const uint32_t *l2_row;
    const uint32_t *l2_key;
    uint32_t l2_base;
    /* The first lookup in full; when set it replaces cls, keys and l2*. */
    const struct gt_lookup *lookup;
    /* Workers count consecutive parts of one stream, in worker order, and
     * are collected with gt_engine_collect_ordered (not inline); bins say
     * one worker (they are joined as one would have counted them). */
    int ordered;
};

typedef struct gt_engine gt_engine;
struct gt_worker;

#define GT_JUMP_CONFIRM 4     /* packets in a row that confirm a step forward */
#define GT_GAP_FREE 10000     /* zero bins always allowed ... */
#define GT_GAP_RATIO 16       /* ... plus this many per bin with packets or ticks */

/* Create an engine with opts->nworkers workers. NULL when out of memory. */
gt_engine *gt_engine_new(const struct gt_engine_opts *opts);
/* Free the engine (after gt_engine_finish). */
void gt_engine_free(gt_engine *e);
/* Worker i (0 .. nworkers-1); each is used by exactly one thread. */
struct gt_worker *gt_engine_worker(gt_engine *e, unsigned i);

/* Count one frame (link type dlt, capture time ts_ns since the epoch or
 * GT_TS_BAD, caplen bytes captured of wirelen). Bins close on the packet's
 * time (see "Clock jumps"); adopts a new lookup first, if there is one. */
void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen);
/* Count n frames of link type dlt: the same counts as gt_worker_packet on
 * each in turn, faster (the burst is parsed first, then all its addresses
 * looked up: in a per-worker exact-match address -> key cache of 2 MiB,
 * used from the worker's 2049th frame on and cleared when the lookup
 * changes, and the misses together with the trie reads overlapped; then
 * counted); the worker adopts a new lookup, if there is one, before the
 * first. */
void gt_worker_burst(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n);
/* One ordered stream on several cores (a capture file): gt_worker_burst in
 * two halves. The classify half (parse, batch lookups, L2 rules) runs on
 * any thread through a gt_classify stage; the count half (the clock, bins
 * and counters) runs in frame order on the worker, so the counts are those
 * of gt_worker_burst. What the classify half found for one frame: */
struct gt_classified { uint32_t ks, kd; uint32_t bytes; uint8_t kind; };
typedef struct gt_classify gt_classify;
/* A classify stage on the current lookup, which it pins: gt_engine_set_lookup
 * fails while any stage exists. Each stage is used by one thread at a
 * time. NULL when out of memory. */
gt_classify *gt_classify_new(gt_engine *e);
/* Classify n frames of link type dlt into out[n] (the count half's input);
 * the stage has an address cache of its own, as a worker does. */
void gt_classify_burst(gt_classify *c, int dlt, const struct gt_frame *f, unsigned n, struct gt_classified *out);
/* Free the stage (unpins the lookup once no stage is left). */
void gt_classify_free(gt_classify *c);
/* The count half: count frames f[n] that a stage classified into c[n], in
 * order; the same counts as gt_worker_burst on them. */
void gt_worker_count(struct gt_worker *w, const struct gt_frame *f, const struct gt_classified *c, unsigned n);
/* Advance the worker's clock to now_ns with no packet (live, silent link):
 * closes bins that ended, so zero bins still appear. */
void gt_worker_tick(struct gt_worker *w, int64_t now_ns);
/* Add capture-reported drops (a delta) to the worker's current bin. */
void gt_worker_add_drops(struct gt_worker *w, uint64_t drops);
/* The worker has no more packets: publish its last partial bin. The worker
 * must not be used afterwards. */
void gt_worker_finish(struct gt_worker *w);

/* Collector side: merge and emit every bin all workers have closed.
 * Returns the number of bins emitted. Safe to call concurrently with workers. */
int gt_engine_collect(gt_engine *e);
/* After every worker finished: emit all remaining bins (waits for a
 * collect running in another thread). */
void gt_engine_finish(gt_engine *e);
/* Ordered engines (opts.ordered), collector side. Worker `head` counts
 * the part of the stream after everything emitted so far: emit its closed
 * bins, joining a bin that continues the previous part's last one (counts
 * add; per key the first time is the earlier part's, the last the later
 * one's, and the silence across the join counts as one worker would have
 * seen it, bins.h gt_counts_gap). The last bin is held back until the next
 * start is known. Returns the closed bins taken from the worker. */
int gt_engine_collect_ordered(gt_engine *e, unsigned head);
/* Worker i (a later part): move its closed bins aside, kept sparse (the
 * keys with frames), while all set aside stay within budget bytes, so it
 * goes on counting; gt_engine_collect_ordered(e, i) emits them first.
 * Returns the bins moved. */
int gt_engine_set_aside(gt_engine *e, unsigned i, size_t budget);
/* Drop worker i's closed bins and those set aside (its part is counted by
 * another worker). */
void gt_engine_discard(gt_engine *e, unsigned i);
/* After the last part: emit the held-back bin and free what was set aside
 * (before gt_engine_finish). */
void gt_engine_flush_ordered(gt_engine *e);
/* Whether a worker starting afresh on frames f[n] (the start of the next
 * part) reaches the same clock and open bin as w does on them (engine.h
 * "Clock jumps"), so the part may be counted by another worker and joined:
 * 1 yes, 0 no, -1 cannot tell yet (w's clock is ahead of all n: ask with
 * more frames). Only w's thread may ask. */
int gt_worker_continues(const struct gt_worker *w, const struct gt_frame *f, unsigned n);
/* Replace the lookup while workers run (one caller at a time, not a
 * worker's thread in inline mode is fine: it never waits). Workers adopt it
 * at their next packet, burst or tick; the previous one is retired once none uses
 * it (in gt_engine_collect or gt_engine_free). -1 when lk has fewer keys
 * than the current lookup or more than the capacity, or while a gt_classify
 * stage pins the current one. */
int gt_engine_set_lookup(gt_engine *e, const struct gt_lookup *lk);
/* Key capacity (the most keys a lookup may have). */
uint32_t gt_engine_key_capacity(const gt_engine *e);
/* Totals over everything counted so far (merged from emitted bins). */
struct gt_bin_stats gt_engine_totals(const gt_engine *e);

#endif
