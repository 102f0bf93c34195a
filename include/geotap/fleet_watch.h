/* geotap watch: fleet-wide bins read from a Prometheus-compatible store
 * (Prometheus, VictoriaMetrics, Thanos, Mimir: /api/v1/query_range) and
 * handed to the detector chain (chain.h). The metric names are those of
 * metric_names.h. */
#ifndef GEOTAP_FLEET_WATCH_H
#define GEOTAP_FLEET_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "geotap/chain.h"
#include "geotap/fleet.h"

/* A Prometheus HTTP API client (libcurl, JSON by jansson). */
typedef struct gt_prom gt_prom;

/* One series of a matrix answer: the values of the asked labels ("" when
 * absent) and its samples (time in s, value). */
struct gt_prom_series {
    const char *label[4];
    size_t n;
    const double *t, *v;
};

/* base: "http://127.0.0.1:9090" (a trailing / or /api/v1 is accepted).
 * NULL with err. */
gt_prom *gt_prom_new(const char *base, double timeout_s, char *err, size_t errlen);
/* query_range of promql over [start, end] every step seconds; the answer's
 * series with the values of labels[nl] (nl <= 4) in *out[*n], valid until the
 * next query. 0, or -1 with err (HTTP, API error, bad answer). */
int gt_prom_range(gt_prom *p, const char *promql, int64_t start, int64_t end, uint32_t step,
                  const char *const *labels, unsigned nl, const struct gt_prom_series **out, size_t *n,
                  char *err, size_t errlen);
void gt_prom_free(gt_prom *p);

struct gt_watch_opts {
    const char *url;            /* the store's base URL */
    unsigned dims;              /* GT_DIM_COUNTRY and/or GT_DIM_ASN */
    uint32_t width;             /* bin seconds */
    uint32_t lag;               /* a bin [t, t + width) is read at t + width + lag: the
                                 * sensors publish it when it closes, the store has
                                 * scraped it by then (< width) [0] */
    const char *sensor_label;   /* label naming a sensor ["instance"] */
    const char *name;           /* the watcher's own name, in its gap events ["watch"] */
    double share;               /* a sensor in a gap holds the keys it carries at least this share of [0.5] */
    double timeout_s;           /* one query [10] */
    double max_hold_s;          /* a sensor down longer holds nothing more (retired) [3600] */
};

typedef struct gt_watch gt_watch;

/* Connect and learn the keys and sensors seen in the first bin and the
 * lookback before it (or, when none, in the whole [from - lookback, to]);
 * keys and sensors that appear later join while watching (gt_watch_run).
 * NULL with err. */
gt_watch *gt_watch_new(const struct gt_watch_opts *o, int64_t from, int64_t to, int64_t lookback,
                       char *err, size_t errlen);
/* The keys of a state file (gt_anomaly_state_keys) join now, before the
 * detector is made: a restarted watcher keeps what it learned of a key its
 * first bin does not show (silent, or its series not yet back in the store),
 * where the load would drop it. 1 joined, 0 no file, -1 with err. */
int gt_watch_join_state(gt_watch *w, const char *path, char *err, size_t errlen);
/* The keys sharing the detector's false-alarm budget: the largest key table
 * of the sensors (their geotap_keys), as analyze and each sensor share it;
 * the keys seen when the sensors do not export it. */
uint32_t gt_watch_budget_keys(const gt_watch *w);
const struct gt_keys *gt_watch_keys(const gt_watch *w);
/* Feed the bins [from, to) (bin starts, multiples of the width) to chain.
 * Keys and sensors first seen join first (the detector's table grows).
 * Then sensor health per bin: a sensor not scraped (up = 0) or whose capture
 * reports drops (>= 1 % of its frames) is in a gap; for the gap and the bin
 * after it the detector holds the keys it usually carries at least --share
 * of (gt_anomaly_hold_key; shares learned from bins without a gap), the
 * other keys are judged as usual, and one sensor_gap event per gap names
 * it; its drops are left out of the bin's (no capture gap of the fleet).
 * Then the summed bin. 0; -1 with err when the store cannot be queried
 * (nothing of the failed stretch was fed: the caller retries it). */
int gt_watch_run(gt_watch *w, gt_chain *chain, int64_t from, int64_t to, char *err, size_t errlen);
/* The watcher's own gap (the store unreachable from start_ns to end_ns):
 * one JSON line {"type":"watch_gap","watcher":...} on f. */
void gt_watch_gap_event(const gt_watch *w, FILE *f, int64_t start_ns, int64_t end_ns, const char *why);
/* End of input: the sensor_gap of a sensor still held. */
void gt_watch_finish(gt_watch *w);
/* Where sensor_gap events go (JSON lines; NULL = nowhere). */
void gt_watch_set_events(gt_watch *w, FILE *f);
void gt_watch_free(gt_watch *w);

/* One sensor as the watcher sees it (for watch's /metrics). */
struct gt_watch_sensor_info {
    const char *name;           /* valid while w lives */
    int up;                     /* up in the last bin read */
    uint32_t held_keys;         /* keys it holds now (0: none) */
    uint64_t gaps;              /* sensor_gap events so far */
};
/* The sensors watched, and sensor i of them (the thread calling gt_watch_run). */
size_t gt_watch_nsensors(const gt_watch *w);
void gt_watch_sensor_info(const gt_watch *w, size_t i, struct gt_watch_sensor_info *out);

#endif
