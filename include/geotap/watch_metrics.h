/* geotap watch's own health on its /metrics (beside the fleet's per-key
 * families of metrics.h, geotap_fleet_*, whose last_bin_end gauge tells the
 * time they are as of): each sensor's up, held keys and sensor_gap count,
 * the store's failed reads and watch gaps, the last good read, state saves
 * and alert delivery. The watch loop publishes it once per read as one
 * seqlock snapshot (it never waits on a scrape); the HTTP thread renders it
 * through gt_metrics_extra. Names are metric_names.h's. */
#ifndef GEOTAP_WATCH_METRICS_H
#define GEOTAP_WATCH_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "geotap/fleet_watch.h"

/* The loop's own counters, as of a publication. */
struct gt_watch_health {
    uint64_t query_failures;    /* failed reads of the store */
    uint64_t watch_gaps;        /* watch_gap events */
    uint64_t state_saves, state_save_errors;
    uint64_t alerts_sent, alerts_failed, alerts_dropped;
    double last_success_s;      /* wall clock of the last good read (0: none yet) */
};

struct gt_watch_metrics;

/* Room for max_sensors sensors (more are not shown). NULL when out of memory. */
struct gt_watch_metrics *gt_watch_metrics_new(size_t max_sensors);
/* Publish h and the sensors of w (NULL: none); the thread of gt_watch_run. */
void gt_watch_metrics_publish(struct gt_watch_metrics *m, const gt_watch *w, const struct gt_watch_health *h);
/* Render the latest publication to f: a gt_metrics_extra callback (ctx = m). */
void gt_watch_metrics_render(void *ctx, FILE *f);
void gt_watch_metrics_free(struct gt_watch_metrics *m);

#endif
