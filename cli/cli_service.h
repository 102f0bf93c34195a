/* The service side of the subcommands: -o and --events through rotating
 * files (rotate.h: strftime names, reopened on SIGUSR1/SIGHUP), alert
 * delivery (alerts.h) and the service manager's notifications (notify.h). */
#ifndef GEOTAP_CLI_SERVICE_H
#define GEOTAP_CLI_SERVICE_H

#include <stdint.h>
#include "geotap/alerts.h"
#include "geotap/output.h"
#include "geotap/sensor.h"

/* Is path a strftime pattern (it has a '%')? */
int cli_is_pattern(const char *path);
/* Register the output o (csv or jsonl) writing to the files named by pattern;
 * with preopen >= 0 the file of that time is opened now (before privileges
 * are dropped; an error is fatal). -1 with err. */
int cli_rotating_output(gt_sensor *s, struct gt_output *o, const char *pattern, int64_t preopen,
                        char *err, size_t errlen);
/* The same for the JSON events (--events). */
int cli_rotating_events(gt_sensor *s, const char *pattern, int64_t preopen, char *err, size_t errlen);
/* Every rotating file is reopened at its next write (async-signal-safe: the
 * SIGUSR1 handler of logrotate's postrotate, and SIGHUP). */
void cli_reopen_outputs(void);

/* Register the alert delivery for o's receivers as a sink of s (none: nothing). -1 with err. */
int cli_alerts(gt_sensor *s, const struct gt_alerts_opts *o, char *err, size_t errlen);

/* A gt_sensor_config phase callback telling the service manager (ctx unused). */
void cli_notify_phase(void *ctx, enum gt_sensor_phase ph, const char *msg);
/* Under a service manager: register a sink that sends a one-line STATUS
 * (source, frames, keys, drops, reloads, alerts) at most every few seconds. */
int cli_status_sink(gt_sensor *s, const char *srcname);
/* READY=1 with a first STATUS (after capture, port and privilege drop). */
void cli_notify_ready(gt_sensor *s, const char *srcname);

struct gt_metrics;
/* The /metrics exporter of --listen as a sink of s (s frees it); NULL with err. */
struct gt_metrics *cli_add_metrics(gt_sensor *s, const struct gt_setup_opts *so, const char *srcname,
                                   long long asn_top, char *err, size_t errlen);

#endif
