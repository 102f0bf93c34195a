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
    const char *routes[CLI_MAX_LIST];       /* --routes FILE */
    int n_routes;
    const char *upstream_map;               /* --upstream-map FILE */
    const char *events;                     /* --events FILE ('-' = stdout), NULL = none */
    double fa_per_day;                      /* --fa-budget; 0 = the module's default */
    const char *state;                      /* --state FILE, NULL = none */
    const char *report;                     /* analyze --report FILE, live --listen: need the detector */
    int classes_only;                       /* no key tables (lookup): they cost start-up time */
};

enum { CLI_O_COUNTRY_DB = 1000, CLI_O_ASN_DB, CLI_O_HOME_NET, CLI_O_EVENTS, CLI_O_FA_BUDGET,
       CLI_O_ROUTES, CLI_O_UPSTREAM_MAP, CLI_O_STATE };

#define CLI_CLS_LONGOPTS \
    { "country-db", required_argument, 0, CLI_O_COUNTRY_DB }, \
    { "asn-db", required_argument, 0, CLI_O_ASN_DB }, \
    { "home-net", required_argument, 0, CLI_O_HOME_NET }, \
    { "routes", required_argument, 0, CLI_O_ROUTES }, \
    { "upstream-map", required_argument, 0, CLI_O_UPSTREAM_MAP }, \
    { "events", required_argument, 0, CLI_O_EVENTS }, \
    { "fa-budget", required_argument, 0, CLI_O_FA_BUDGET }, \
    { "state", required_argument, 0, CLI_O_STATE }

#define CLI_UPSTREAM_USAGE \
"  --routes FILE         BGP routes: bgpdump -m output (plain or gzip), or a binary\n" \
"                        MRT RIB/updates dump (read through bgpdump); repeatable,\n" \
"                        applied in order. Gives each prefix its upstream: the AS\n" \
"                        before the origin on the path (the most common one across\n" \
"                        peers)\n" \
"  --upstream-map FILE   static upstream rules, one per line: 'prefix CIDR NAME',\n" \
"                        'asn N NAME', 'vlan ID NAME', 'mac XX:XX:XX:XX:XX:XX NAME',\n" \
"                        'interface IFACE NAME'; '#' comments. Precedence: mac, vlan,\n" \
"                        interface (per frame, for the frame's non-home addresses),\n" \
"                        then prefix, asn, then --routes\n"
#define CLI_EVENTS_USAGE \
"\n" \
"Outage detection (see README, 'Anomaly module'):\n" \
"  --events FILE         write drop_to_zero, restored, capture_gap and\n" \
"                        not_measurable events as JSON lines ('-' = standard output).\n" \
"                        The table format always lists the events after the table.\n" \
"  --fa-budget N         false alarms per day allowed across all keys together\n" \
"                        (default 0.01); sets the silence threshold ln(1/alpha)\n" \
"  --state FILE          keep the learned baselines across runs: loaded at start\n" \
"                        when FILE exists, saved at exit and every 5 minutes\n"

struct gt_routes;
struct gt_upstream_map;
struct gt_upstreams;
struct gt_engine_opts;

/* A built classifier with its key tables. */
struct cli_cls {
    gt_classifier *c;
    struct gt_keys keys;        /* what is written (--by) */
    struct gt_keys count;       /* what the engine counts; finer than keys only for attribution */
    int fine;                   /* count differs from keys */
    uint32_t *proj;             /* [count.nkeys] -> keys id, when fine */
    uint32_t *count_up2;        /* [count.nkeys] upstream index of the key's own ASN (0 = none), when fine */
    uint32_t n_upstreams;       /* upstream names, [0] unknown; 0 = no upstream data */
    struct gt_routes *routes;
    struct gt_upstream_map *map;
    struct gt_upstreams *ups;
    uint32_t *l2_row, *l2_key, l2_base;
};

/* Bins go to the output (and, when asked, the anomaly module). */
struct gt_anomaly;
struct gt_report;
struct cli_sinks {
    struct gt_output *output;
    struct gt_anomaly *anomaly;        /* NULL when not asked for */
    FILE *events_f;                    /* --events target */
    int events_close;
    int table_events;                  /* the table format lists events */
    const char *state, *prog;          /* --state FILE; the program for its messages */
    int state_loaded;                  /* tried at the first bin (its width is known then) */
    double state_saved;                /* monotonic time of the last save */
    struct gt_event *held;             /* events held for the table */
    size_t n_held, cap_held;
    const struct cli_cls *cls;
    FILE *table_f;
    struct gt_report *report;          /* --report, set by the command; NULL = none */
    /* attribution (cls->fine): the bin projected onto the output keys */
    struct gt_counts *p_counts;
    int64_t *p_first, *p_last;
    uint64_t *up_pkts;                 /* [n_upstreams] per bin */
    uint64_t *cum;                     /* [count.nkeys] packets so far */
    uint32_t *key_up;                  /* [keys.nkeys] upstream set for the key */
    uint64_t *best;                    /* [keys.nkeys] scratch: cum of the key's best upstream */
};

/* --by and --format (table on a terminal without -o, else csv); -1 after a
 * message naming prog and the bad value. */
int cli_parse_by_format(const char *prog, const char *by, const char *fmt, const char *outpath,
                        unsigned *dims, int *format);
/* Defaults for every option. */
void cli_cls_opts_init(struct cli_cls_opts *o);
/* Handle one getopt_long result c of CLI_CLS_LONGOPTS; 0 if handled, -1 if
 * not ours or invalid (a message is printed for invalid values). */
int cli_cls_opt(struct cli_cls_opts *o, int c, const char *arg);
/* Load the sources needed for dims and build classifier and keys; with
 * attribution set and upstream data given, the engine counts finer keys
 * (by asn and upstream too) so the anomaly module can tell a country's own
 * outage from its transit's. On error prints one line prefixed by prog and
 * returns -1. */
int cli_cls_build(const struct cli_cls_opts *o, unsigned dims, int attribution,
                  struct cli_cls *out, const char *prog);
/* Fill the classification fields of engine options (cls, keys, L2 rules). */
void cli_cls_engine_opts(const struct cli_cls *c, struct gt_engine_opts *eo, const char *iface);
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

/* The HTML report (path NULL: the live page) of this classification, naming
 * files and every database in its header; NULL with err. */
struct gt_report *cli_report_new(const struct cli_cls_opts *co, const struct cli_cls *cls,
                                 const struct gt_anomaly *an, const char *path,
                                 const char *const *files, int nfiles, char *err, size_t errlen);

/* The end-of-run summary: frames, non-IP, truncated, unknown share, span, rate. */
void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct cli_cls *cls,
                       const struct gt_counts *key_totals, double elapsed, const char *note);

#endif
