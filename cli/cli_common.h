/* What the subcommands share: classification options, the choice of
 * sinks, the final summary. */
#ifndef GEOTAP_CLI_COMMON_H
#define GEOTAP_CLI_COMMON_H

#include <stdio.h>
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keys.h"
#include "geotap/output.h"
#include "geotap/sensor.h"
#include "geotap/setup.h"

struct cli_cls_opts {
    struct gt_setup_opts so;                /* classification, as the library takes it */
    const char *events;                     /* --events FILE ('-' = stdout), NULL = none */
    double fa_per_day;                      /* --fa-budget; 0 = the module's default */
    const char *state;                      /* --state FILE, NULL = none */
    const char *report;                     /* analyze --report FILE, live --listen: need the detector */
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
"                        when FILE exists, saved at exit and every 5 minutes\n" \
"                        (live: --state-interval)\n"

/* --by and --format (table on a terminal without -o, else csv); -1 after a
 * message naming prog and the bad value. */
int cli_parse_by_format(const char *prog, const char *by, const char *fmt, const char *outpath,
                        unsigned *dims, int *format);
/* Defaults for every option. */
void cli_cls_opts_init(struct cli_cls_opts *o);
/* Handle one getopt_long result c of CLI_CLS_LONGOPTS; 0 if handled, -1 if
 * not ours or invalid (a message is printed for invalid values). */
int cli_cls_opt(struct cli_cls_opts *o, int c, const char *arg);
/* Print a set-up error of the sensor, with the hint when the default
 * databases are missing. */
void cli_setup_error(const char *prog, const struct cli_cls_opts *o, const char *err);
/* Open every output (-o is out already; --events here, so all are open
 * before privileges are dropped) and register the sinks: the output, the
 * JSON events, the events listed after a table. rotate: CLI_ROTATE_OUTPUT,
 * CLI_ROTATE_EVENTS: that file goes through rotate.h instead (appended,
 * strftime names, reopened on request; out is unused), its first file opened
 * for the time preopen unless it is < 0. *output gets the output (for its
 * totals; freed by the caller after the sensor). -1 with a message. */
enum { CLI_ROTATE_OUTPUT = 1, CLI_ROTATE_EVENTS = 2 };
int cli_add_sinks(gt_sensor *s, const struct cli_cls_opts *o, FILE *out, const char *outpath,
                  int format, const char *prog, unsigned rotate, int64_t preopen, struct gt_output **output);
/* The HTML report (path NULL: the live page) of s's classification, naming
 * files and every database in its header, registered as a sink that sees
 * each bin after the detector (owned by s from then on). NULL with err. */
struct gt_report *cli_add_report(gt_sensor *s, const struct cli_cls_opts *co, const char *path,
                                 const char *const *files, int nfiles, char *err, size_t errlen);
/* The end-of-run summary: frames, non-IP, truncated, unknown share, span, rate. */
void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct gt_keys *keys,
                       const struct gt_counts *key_totals, double elapsed, const char *note);

#endif
