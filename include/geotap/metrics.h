/* The Prometheus exporter: a sink that keeps per-key cumulative counters
 * from the closed bins and the detector's per-key state, publishes them at
 * each bin as one snapshot (a seqlock: the collector never waits, nothing
 * touches the packet path), and renders /metrics in the text exposition
 * format (version 0.0.4) from that snapshot on the HTTP server's thread.
 * Names, types and help are metric_names.h's. Counters step once per bin:
 * they are the bins' figures, the same as the bin output's, so a scrape
 * never shows a count that a closed bin later contradicts (reading the open
 * bins would need the workers to publish on the packet path). */
#ifndef GEOTAP_METRICS_H
#define GEOTAP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "geotap/anomaly.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"
#include "geotap/sink.h"

struct gt_sensor;

struct gt_metrics_opts {
    const struct gt_keys *keys;     /* the key table (grows at reloads; entries never change) */
    uint32_t max_keys;              /* the most keys it may grow to */
    const gt_classifier *cls;       /* upstream names of the keys' upstream ids */
    const gt_anomaly *anomaly;      /* NULL: no per-key gauges */
    const struct gt_sensor *sensor; /* reload counts (gt_sensor_stats); may be NULL */
    const char *interface;          /* the interface label of frames and drops */
    uint32_t asn_top;               /* ASN labels for this many ASNs (0: none, summed away) */
    const char *country_db;         /* for geotap_build_info (NULL: not shown) */
    const char *const *asn_dbs;     /* [n_asn] */
    int n_asn;
    /* A watcher's view (geotap watch): the key families named with this
     * prefix instead of "geotap_" (geotap_fleet_: they must not add into
     * the sensors' sums when the same store scrapes both), NULL = none. */
    const char *prefix;
    int no_capture;                 /* no frames/drops families (no capture of its own) */
};

struct gt_metrics;

/* NULL when out of memory. */
struct gt_metrics *gt_metrics_new(const struct gt_metrics_opts *o);
/* The sink to register with the sensor (after the detector); it owns m. */
struct gt_sink gt_metrics_sink(struct gt_metrics *m);
/* Render the latest snapshot to f (any thread, concurrently with the sink).
 * 0, or -1 when out of memory or f failed. */
int gt_metrics_render(struct gt_metrics *m, FILE *f);
/* More families rendered after geotap's own (e.g. alert delivery counters);
 * fn runs on the HTTP thread. Set before the server starts. */
void gt_metrics_extra(struct gt_metrics *m, void (*fn)(void *ctx, FILE *f), void *ctx);
/* The # HELP and # TYPE lines of a metric of metric_names.h (-1: unknown). */
int gt_metrics_family(FILE *f, const char *name);
/* A label value, escaped as the exposition format wants (\\, \", \n). */
void gt_metrics_escape(FILE *f, const char *s);
/* Free (only when it was never registered as a sink: the sensor frees it). */
void gt_metrics_free(struct gt_metrics *m);

#endif
