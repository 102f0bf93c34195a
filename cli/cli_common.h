/* What the subcommands share: classification options and loading, the
 * fan-out of bins to outputs and the anomaly module, the final summary. */
#ifndef GEOTAP_CLI_COMMON_H
#define GEOTAP_CLI_COMMON_H

#include <stdio.h>
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"
#include "geotap/output.h"

#define CLI_MAX_LIST 64

struct cli_cls_opts {
    const char *country_db;                 /* NULL = default */
    const char *asn_dbs[CLI_MAX_LIST];      /* none = default CSVs */
    int n_asn;
    const char *home[CLI_MAX_LIST];
    int n_home;
    const char *events;                     /* --events FILE ('-' = stdout), NULL = none */
    double fa_per_day;                      /* --fa-budget; 0 = the module's default */
};

enum { CLI_O_COUNTRY_DB = 1000, CLI_O_ASN_DB, CLI_O_HOME_NET, CLI_O_EVENTS, CLI_O_FA_BUDGET };

#define CLI_CLS_LONGOPTS \
    { "country-db", required_argument, 0, CLI_O_COUNTRY_DB }, \
    { "asn-db", required_argument, 0, CLI_O_ASN_DB }, \
    { "home-net", required_argument, 0, CLI_O_HOME_NET }, \
    { "events", required_argument, 0, CLI_O_EVENTS }, \
    { "fa-budget", required_argument, 0, CLI_O_FA_BUDGET }

#define CLI_UPSTREAM_USAGE ""
#define CLI_EVENTS_USAGE \
"\n" \
"Outage detection (see README, 'Anomaly module'):\n" \
"  --events FILE         write drop_to_zero, restored, capture_gap and\n" \
"                        not_measurable events as JSON lines ('-' = standard output).\n" \
"                        The table format always lists the events after the table.\n" \
"  --fa-budget N         false alarms per day allowed across all keys together\n" \
"                        (default 0.01); sets the silence threshold ln(1/alpha)\n"

/* A built classifier with its key table. */
struct cli_cls {
    gt_classifier *c;
    struct gt_keys keys;
};

/* Bins go to the output (and, when asked, the anomaly module). */
struct gt_anomaly;
struct cli_sinks {
    struct gt_output *output;
    struct gt_anomaly *anomaly;        /* NULL when not asked for */
    FILE *events_f;                    /* --events target */
    int events_close;
    int table_events;                  /* the table format lists events */
    struct gt_event *held;             /* events held for the table */
    size_t n_held, cap_held;
    const struct cli_cls *cls;
    FILE *table_f;
};

/* Defaults for every option. */
void cli_cls_opts_init(struct cli_cls_opts *o);
/* Handle one getopt_long result c of CLI_CLS_LONGOPTS; 0 if handled, -1 if
 * not ours or invalid (a message is printed for invalid values). */
int cli_cls_opt(struct cli_cls_opts *o, int c, const char *arg);
/* Load the sources needed for dims and build classifier and keys; on error
 * prints one line prefixed by prog and returns -1. */
int cli_cls_build(const struct cli_cls_opts *o, unsigned dims, struct cli_cls *out, const char *prog);
/* Free what cli_cls_build made. */
void cli_cls_free(struct cli_cls *c);

/* Set up the bin consumers; -1 with a message on failure. */
int cli_sinks_init(struct cli_sinks *s, const struct cli_cls_opts *o, struct gt_output *out,
                   const struct cli_cls *cls, const char *prog, enum gt_format format, FILE *table_f);
/* gt_bin_fn: hand a merged bin to every consumer. */
void cli_sinks_bin(void *sinks, const struct gt_bin *bin);
/* End of run; -1 when an output could not be written. */
int cli_sinks_finish(struct cli_sinks *s);
/* Free the consumers (not the output). */
void cli_sinks_free(struct cli_sinks *s);

/* The end-of-run summary: frames, non-IP, truncated, unknown share, span, rate. */
void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct cli_cls *cls,
                       const struct gt_counts *key_totals, double elapsed, const char *note);

#endif
