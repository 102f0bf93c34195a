/* The HTML report: one self-contained file (scripts, styles and map data
 * inlined; opens from disk with no network) with a header, a world map of
 * traffic share, per-key time series with outages and capture gaps shaded
 * and the detector's expected rate, the event table and the key table.
 *
 * Shaped like a sink: feed closed bins and events in time order, then
 * finish writes the file. Series are kept on a shared grid of at most
 * GT_REPORT_BUCKETS buckets per key (each holding the min and max of the
 * per-bin values it covers, so a one-bin drop stays visible at any length). */
#ifndef GEOTAP_REPORT_H
#define GEOTAP_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include "geotap/anomaly.h"
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"

#define GT_REPORT_BUCKETS 2048

struct gt_report_opts {
    const char *path;                   /* the HTML file written by finish; NULL = none (live page) */
    const gt_classifier *cls;           /* names of ASes and upstreams; may be NULL */
    const gt_anomaly *anomaly;          /* expected rates, sampled per bin; may be NULL */
    const char *const *files;           /* the capture files (or live source), for the header;
                                         * the array is copied, its strings must outlive the report */
    int nfiles;
    const char *const *dbs;             /* database files used, for the header */
    int ndbs;
    const char *lib_dir;                /* cached npm packages; NULL = the setup's cache */
    unsigned top_charts;                /* charts for the top keys [12] (plus every key with an event) */
    unsigned top_rows;                  /* key table rows before "other" [500] */
};

struct gt_report;

/* Create a report for keys (which must outlive it); reads the inlined
 * libraries now, so a missing one fails here. NULL with err on failure. */
struct gt_report *gt_report_new(const struct gt_report_opts *o, const struct gt_keys *keys,
                                char *err, size_t errlen);
/* Add one closed bin (time order). Call after the anomaly module saw it. */
void gt_report_bin(struct gt_report *r, const struct gt_bin *b);
/* Record one event. */
void gt_report_event(struct gt_report *r, const struct gt_event *ev);
/* Write the file. 0, or -1 with err (cannot write, out of memory). */
int gt_report_finish(struct gt_report *r, char *err, size_t errlen);
/* Free the report. */
void gt_report_free(struct gt_report *r);

/* The calls above and below may come from different threads (collector,
 * HTTP server): the report locks itself. */

/* Write the report's data (the JSON object the page reads) to f. 0, or -1
 * when out of memory. */
int gt_report_write_data(struct gt_report *r, FILE *f);
/* Write the whole page to f; a report without a path (live) makes a page
 * that polls /api/bins?since=N on its own origin for new bins. 0, or -1
 * when out of memory or writing failed. */
int gt_report_write_page(struct gt_report *r, FILE *f);
/* Bins added so far. */
uint64_t gt_report_bins(struct gt_report *r);

/* One line describing a database file for the header, e.g.
 * "GeoLite2-Country, built 2019-12-24" (MaxMind metadata) or
 * "modified 2026-06-17" (other files), into buf. */
void gt_db_describe(const char *path, char *buf, size_t len);
/* A MaxMind DB's build time (its metadata), seconds since the epoch; -1 when
 * path is no readable MaxMind DB. */
int64_t gt_db_build_epoch(const char *path);

#endif
