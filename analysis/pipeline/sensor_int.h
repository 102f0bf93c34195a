/* The sensor's private state (sensor.c), in a header of its own to keep
 * sensor.c one readable file; nothing outside analysis/pipeline/ includes it. */
#ifndef GT_SENSOR_INT_H
#define GT_SENSOR_INT_H

#include "geotap/sensor.h"
#include "geotap/anomaly.h"
#include "geotap/attribution.h"
#include "geotap/engine.h"
#include "geotap/chain.h"
#include "geotap/seqlock.h"
#include "geotap/source.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#define GRACE_NS 500000000LL      /* ticks lag the clock: frames in flight still reach their bin */
#define STATS_NS 250000000LL      /* how often a worker reads its drop counters */
#define COLLECT_NS 100000000L     /* the collector's period */
#define STAT_WORDS ((sizeof(struct gt_sensor_stats) + 7) / 8)
#define KEY_ROOM 256                /* keys a reload may add, at least (a quarter more when larger) */

/* One build of the classification, with key ids made stable (keyspace.c). */
struct build {
    struct gt_setup st;
    uint32_t *class_key;          /* stable ids; NULL = st's own (the first build) */
    uint32_t *l2_key;
    gt_sensor *s;
};

/* One per worker thread, on its own cache lines. */
struct wk {
    _Alignas(64) gt_sensor *s;
    struct gt_worker *w;
    unsigned q;
    uint64_t frames;                  /* private; published below */
    _Atomic uint64_t frames_pub;
    _Atomic int64_t last_rx;          /* wall clock of the last poll with frames */
    _Atomic int done;                 /* gt_worker_finish was called */
    int failed;
    char err[512];
};

struct gt_sensor {
    struct gt_sensor_config c;
    gt_source *src;
    gt_engine *eng;
    struct build *first;              /* owns the written keys the sinks label */
    struct build *cur;                /* the workers' build (collector thread only) */
    uint32_t key_cap;                 /* keys a reload may grow the stable table to */
    gt_anomaly *det;
    gt_attribution *attr;
    double state_saved;               /* monotonic time of the last state save */
    gt_chain *chain;                  /* the detector (det) and the sinks, in order */
    struct { gt_sensor_stats_fn fn; void *self; } *stats;
    unsigned nstats;
    struct wk *wk;
    unsigned nw;
    unsigned parts;                   /* files: one file read in this many parts (0 = not) */
    volatile sig_atomic_t stop_sig, reload_sig;
    atomic_int stop;
    _Alignas(64) _Atomic uint64_t taken;  /* frames taken under count (only then touched) */
    /* statistics: written by the collector only, published by a seqlock */
    struct gt_sensor_stats st;
    struct gt_seqlock pub;
    _Atomic uint64_t words[STAT_WORDS];
    atomic_uint_fast64_t reloads, reloads_failed;
    pthread_mutex_t reload_mu;
    uint64_t src_errors;              /* file errors, already handed to notice */
    unsigned last_file;               /* files: the file of the last link-type check */
    uint64_t next_progress;           /* files: frames at the next progress call */
    char err[1024];
};

#endif
