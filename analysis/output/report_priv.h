/* The report's state, shared by its collecting (report.c) and writing
 * (report_data.c, report_html.c) halves. */
#ifndef GEOTAP_REPORT_PRIV_H
#define GEOTAP_REPORT_PRIV_H

#include "geotap/report.h"

#include <pthread.h>

/* Min and max over the bins a bucket covers: packets from and to per bin,
 * and the detector's expected rate (packets/s, from and to together). */
struct gt_rbucket {
    uint32_t fmin, fmax, tmin, tmax;
    float emin, emax;
};

/* Bounds on the page's size: charts for keys with an outage, and
 * not_measurable events listed (the rest are counted). */
#define GT_REPORT_MAX_EVENT_CHARTS 60
#define GT_REPORT_MAX_QUIET_EVENTS 200

/* Series are kept for at most this many keys (memory bound for 70k ASNs). */
#define GT_REPORT_MAX_SERIES 2048

struct gt_report {
    struct gt_report_opts o;
    char *path;
    const char **dbs, **files;       /* copies of o.dbs, o.files (the strings must outlive the report) */
    const struct gt_keys *keys;
    uint32_t nkeys;                  /* keys held (grows with keys->nkeys at each bin: reloads add keys) */
    struct gt_counts *tot;           /* [nkeys] totals */
    struct gt_rbucket **ser;         /* [nkeys] bucket arrays, NULL until the key has traffic */
    uint32_t nser;                   /* series allocated */
    uint64_t ser_refused;            /* keys with traffic beyond GT_REPORT_MAX_SERIES */
    int64_t t0;                      /* first bin's start */
    uint32_t width;                  /* bin width (0 = one bin) */
    uint64_t nbins;                  /* bins seen */
    uint32_t step;                   /* bins per bucket, a power of two */
    int64_t last_bucket;             /* highest bucket filled, -1 = none */
    struct gt_bin_stats stats;       /* summed over bins */
    struct gt_event *ev;
    size_t nev, cap_ev;
    int oom;                         /* an allocation failed while collecting */
    pthread_mutex_t mu;              /* the collector adds, the HTTP server reads */
    char *lib_css, *lib_js, *atlas, *codes;   /* the inlined libraries and data */
};

/* The page's own script and style (analysis/output/web/, embedded at build
 * time by embed.py). */
extern const char gt_web_report_js[], gt_web_report_map_js[], gt_web_report_charts_js[];
extern const char gt_web_report_css[];

/* gt_report_write_data with the lock held. */
int gt_report_write_data_locked(const struct gt_report *r, FILE *f);

/* Write s as a JSON string safe inside an HTML <script> element. */
void gt_report_json_str(FILE *f, const char *s);
/* A key's label ("KP", "131279", "KP / AS4837 ...") and readable name. */
void gt_report_key_label(const struct gt_report *r, uint32_t k, char *buf, size_t len);
void gt_report_key_name(const struct gt_report *r, uint32_t k, char *buf, size_t len);

#endif
