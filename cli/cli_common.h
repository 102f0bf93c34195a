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
#include "cli/options.h"

/* Send the signals of sigs (0-terminated) to fn (without SA_RESTART, so a
 * sleep or a blocking read returns); SIGPIPE is ignored (a closed output
 * pipe shows as a write error instead, which ends the run cleanly). */
void cli_on_signals(void (*fn)(int), const int *sigs);
/* The --by and --format of c (checked by the option table) as dimensions
 * and a format: table on a terminal without -o, else csv. */
void cli_dims_format(const struct cli_config *c, unsigned *dims, int *format);
/* Print a set-up error of the sensor, with the hint when the default
 * databases are missing. */
void cli_setup_error(const char *prog, const struct cli_config *c, const char *err);
/* --check: build the classification of so (the databases load), print
 * p's effective configuration; the exit status (2 after the error). */
int cli_check(const struct cli_parsed *p, const struct gt_setup_opts *so);
/* Open every output (c's -o is out already; --events here, so all are open
 * before privileges are dropped) and register the sinks: the output, the
 * JSON events, the events listed after a table. rotate: CLI_ROTATE_OUTPUT,
 * CLI_ROTATE_EVENTS: that file goes through rotate.h instead (appended,
 * strftime names, reopened on request; out is unused), its first file opened
 * for the time preopen unless it is < 0. *output gets the output (for its
 * totals; freed by the caller after the sensor). -1 with a message. */
enum { CLI_ROTATE_OUTPUT = 1, CLI_ROTATE_EVENTS = 2 };
int cli_add_sinks(gt_sensor *s, const struct cli_config *c, FILE *out, int format, const char *prog,
                  unsigned rotate, int64_t preopen, struct gt_output **output);
/* The HTML report (path NULL: the live page) of s's classification, naming
 * files and every database in its header, registered as a sink that sees
 * each bin after the detector (owned by s from then on). NULL with err. */
struct gt_report *cli_add_report(gt_sensor *s, const struct gt_setup_opts *so, const char *path,
                                 const char *const *files, int nfiles, char *err, size_t errlen);
/* The rest of live's summary: frames per worker, drops (iface: kernel and
 * interface, else the NIC's), reloads, alerts, output files. */
void cli_live_summary(FILE *f, const struct gt_sensor_stats *st, unsigned nworkers, int iface, int alerts);
/* The end-of-run summary: frames, non-IP, truncated, unknown share, span, rate. */
void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct gt_keys *keys,
                       const struct gt_counts *key_totals, double elapsed, const char *note);

#endif
