/* The sensor: the one pipeline that analyze, live and the benchmarks run.
 * source -> engine workers (one per source queue) -> collector -> detector
 * (with attribution) -> sinks. Files run in the calling thread on packet
 * time; live sources run one worker thread per queue on wall-clock time
 * while the calling thread collects every 100 ms. */
#ifndef GEOTAP_SENSOR_H
#define GEOTAP_SENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/bins.h"
#include "geotap/keys.h"
#include "geotap/setup.h"
#include "geotap/sink.h"

struct gt_live_opts;
struct gt_dpdk_opts;
typedef struct gt_sensor gt_sensor;

enum gt_sensor_phase {
    GT_PHASE_RELOADING = 1,         /* a requested reload starts */
    GT_PHASE_RELOADED,              /* it succeeded */
    GT_PHASE_RELOAD_FAILED,         /* it failed: the old classification stays */
    GT_PHASE_STOPPING,              /* the run ends: capture drains, sinks finish */
};

struct gt_sensor_config {
    /* The source: files (in order, as one capture), or live, or dpdk. */
    const char *const *files;
    unsigned nfiles;
    const char *bpf;                /* files: BPF filter (live: in live->bpf) */
    const struct gt_live_opts *live;
    const struct gt_dpdk_opts *dpdk;
    const char *iface;              /* interface for 'interface' upstream rules */
    /* Classification (rebuilt on reload). */
    struct gt_setup_opts setup;
    /* Counting. */
    unsigned file_threads;          /* files: threads for one file (one classic pcap file in as many
                                     * parts; else a reader that counts, the rest classify);
                                     * 0 or 1 = one; the counts are the same */
    unsigned parse_flags;           /* GT_PARSE_* */
    int bytes_l3;
    uint32_t bin_seconds;
    /* Detection: run the detector and hand its events to the sinks. */
    int detect;
    double fa_per_day;              /* 0 = the detector's default */
    const char *state;              /* the detector's learned state: loaded at start when the
                                     * file exists, saved every state_every_s and at the end; NULL = none */
    double state_every_s;           /* 0 = every 300 s */
    /* Stop conditions (0 = none). */
    uint64_t count;                 /* frames */
    double duration_s;
    double idle_stop_s;             /* no frame for this long after the first one */
    /* Messages for the operator (the library never prints): warnings and
     * per-file errors, one line each. May be NULL. */
    void (*notice)(void *ctx, const char *msg);
    /* Files: called every 65536 frames from the running thread. */
    void (*progress)(void *ctx, gt_sensor *s);
    /* Live: the run's phases, on the collecting thread (for a service
     * manager); msg is the reason of a failed reload. May be NULL. */
    void (*phase)(void *ctx, enum gt_sensor_phase ph, const char *msg);
    /* Reload: called first, with out = the current classification options,
     * to change them (e.g. from a re-read configuration file); -1 with err
     * fails the reload. The strings must outlive the sensor. May be NULL. */
    int (*reconfigure)(void *ctx, struct gt_setup_opts *out, char *err, size_t errlen);
    void *ctx;
};

/* The published statistics (a consistent snapshot). */
#define GT_SENSOR_MAX_WORKERS 64
struct gt_sensor_stats {
    struct gt_bin_stats totals;     /* over every emitted bin */
    uint64_t bins;                  /* bins emitted */
    int64_t last_bin;               /* start of the last emitted bin */
    uint64_t drops[2];              /* [0] kernel or ring, [1] interface or NIC */
    uint64_t reloads;               /* successful reloads */
    uint64_t reloads_failed;        /* failed reloads (the old classification stayed) */
    uint64_t state_saves;           /* detector state written (periodic and final) */
    uint64_t state_save_errors;     /* ... and writes that failed */
    /* Sinks' own counters (gt_sensor_add_stats): */
    uint64_t alerts_queued;         /* events accepted for delivery (alerts.h) */
    uint64_t alerts_sent;           /* POSTs a receiver accepted */
    uint64_t alerts_failed;         /* POSTs that failed and are retried */
    uint64_t alerts_dropped;        /* alerts given up: queue or table full, rejected, undelivered at exit */
    uint64_t output_errors;         /* rotating files that could not be opened or closed (rotate.h) */
    uint64_t output_lost;           /* bins and events that had no file to go to */
    uint32_t nkeys;                 /* keys of the current lookup */
    uint32_t nworkers;
    uint64_t worker_frames[GT_SENSOR_MAX_WORKERS];
};

/* Open the source and build the classifier (files: the files first, so a
 * typo fails before seconds of loading; live: the classifier first, so the
 * capture ring does not fill meanwhile). NULL with one line in err. */
gt_sensor *gt_sensor_new(const struct gt_sensor_config *c, char *err, size_t errlen);
/* Register a sink (before gt_sensor_run); sinks are called in this order
 * and freed by gt_sensor_free. 0, or -1 when out of memory. */
int gt_sensor_add_sink(gt_sensor *s, struct gt_sink sink);
/* Have fn add a sink's own counters (alerts_*, output_*) to every published
 * snapshot, on the collecting thread; self as the sink's. 0, or -1 (out of memory). */
typedef void (*gt_sensor_stats_fn)(void *self, struct gt_sensor_stats *st);
int gt_sensor_add_stats(gt_sensor *s, gt_sensor_stats_fn fn, void *self);
/* Run until the source ends, a stop condition or gt_sensor_stop; then
 * drain, emit every bin and finish the sinks. 0, or -1 with the first
 * error (a source or sink failure) in err, or err "" when only files were
 * damaged (each reported through notice); what was read is still counted. */
int gt_sensor_run(gt_sensor *s, char *err, size_t errlen);
/* Ask the run to stop: from any thread or a signal handler. */
void gt_sensor_stop(gt_sensor *s);
/* Rebuild the classifier from the configuration (off the packet path) and
 * hand it to the workers; key ids stay those of the same labels, new labels
 * (a new database's countries) get new ids, appended to gt_sensor_keys()
 * (room for a quarter more keys, at least 256; none with attribution's
 * finer keys). A failed reload keeps the old classifier: -1 with err. Call
 * it while the sensor is not running, or let the running collector do it
 * (gt_sensor_request_reload): sinks read the key table on that thread. */
int gt_sensor_reload(gt_sensor *s, char *err, size_t errlen);
/* Ask the running collector to reload (async-signal-safe). */
void gt_sensor_request_reload(gt_sensor *s);
/* Copy the latest published statistics (any thread; never blocks workers). */
void gt_sensor_stats(const gt_sensor *s, struct gt_sensor_stats *out);
/* The written keys, for labels (valid until gt_sensor_free; they only grow). */
const struct gt_keys *gt_sensor_keys(const gt_sensor *s);
/* The most keys that table may grow to by reloads. */
uint32_t gt_sensor_key_capacity(const gt_sensor *s);
/* The first build's classifier: AS organisations and upstream names. */
const gt_classifier *gt_sensor_classifier(const gt_sensor *s);
/* The current build (its count and upstream tables). */
const struct gt_setup *gt_sensor_setup(const gt_sensor *s);
/* The source's name for messages, its link type and number of queues. */
const char *gt_sensor_source_name(const gt_sensor *s);
int gt_sensor_dlt(const gt_sensor *s);
unsigned gt_sensor_queues(const gt_sensor *s);
/* Files: index of the file being read, its bytes read and size. */
void gt_sensor_position(const gt_sensor *s, unsigned *file, uint64_t *offset, uint64_t *size);
/* DPDK benchmarks: prefill the RX mbufs (see dpdk_port.h). */
void gt_sensor_prefill(gt_sensor *s, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx);
/* The detector (NULL when not run), for its expected rates. */
const gt_anomaly *gt_sensor_anomaly(const gt_sensor *s);
/* Stop and free everything (after gt_sensor_run returned). */
void gt_sensor_free(gt_sensor *s);

#endif
