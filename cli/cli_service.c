/* Rotating outputs, alert delivery and notifications (cli_service.h). */
#include "cli/cli_service.h"
#include "geotap/clock.h"
#include "geotap/datadir.h"
#include "geotap/events.h"
#include "geotap/metrics.h"
#include "geotap/notify.h"
#include "geotap/rotate.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rotators a reopen request reaches: set and cleared on the main thread,
 * read by its signal handlers. */
#define MAX_ROTATORS 4
static gt_rotate *_Atomic rotators_[MAX_ROTATORS];

static int add_rotator(gt_rotate *r)
{
    for (int i = 0; i < MAX_ROTATORS; i++)
        if (!atomic_load(&rotators_[i])) {
            atomic_store(&rotators_[i], r);
            return 0;
        }
    return -1;
}

static void drop_rotator(gt_rotate *r)
{
    for (int i = 0; i < MAX_ROTATORS; i++)
        if (atomic_load(&rotators_[i]) == r)
            atomic_store(&rotators_[i], NULL);
}

void cli_reopen_outputs(void)
{
    for (int i = 0; i < MAX_ROTATORS; i++) {
        gt_rotate *r = atomic_load(&rotators_[i]);
        if (r)
            gt_rotate_request_reopen(r);
    }
}

int cli_is_pattern(const char *path)
{
    return path && strchr(path, '%') != NULL;
}

/* A rotating output or event writer as a sink. */
struct rot_sink {
    struct gt_rotating_output ro;
    struct gt_rotating_events re;
    struct gt_events_out eo;
    gt_rotate *rot;
    int events;
    uint64_t told;      /* errors already reported */
};

/* One line on standard error per new failure (a file that cannot be opened
 * is retried at each bin: told once until it changes). */
static void tell(struct rot_sink *k)
{
    uint64_t n = k->events ? k->re.errors : k->ro.errors;
    const char *e = k->events ? k->re.err : k->ro.err;
    static char last[512];
    if (n == k->told)
        return;
    k->told = n;
    if (strcmp(last, e) != 0)
        fprintf(stderr, "geotap: %s\n", e);
    snprintf(last, sizeof last, "%s", e);
}

static const char *upstream_name(void *ctx, uint32_t u)
{
    return gt_classifier_upstream_name(ctx, u);
}

static void rot_bin(void *self, const struct gt_bin *b)
{
    gt_rotating_output_bin(&((struct rot_sink *)self)->ro, b);
    tell(self);
}

static void rot_event(void *self, const struct gt_event *ev)
{
    gt_rotating_events_fn(&((struct rot_sink *)self)->re, ev);
    tell(self);
}

static void rot_stats(void *self, struct gt_sensor_stats *st)
{
    struct rot_sink *k = self;
    st->output_errors += k->events ? k->re.errors : k->ro.errors;
    st->output_lost += k->events ? k->re.lost_events : k->ro.lost_bins;
}

/* The end: the output's finish, then the close (its error too). */
static int rot_finish(void *self, char *err, size_t errlen)
{
    struct rot_sink *k = self;
    char e[512] = "";
    int rc = 0;
    if (!k->events && gt_rotating_output_finish(&k->ro) != 0) {
        snprintf(err, errlen, "%s: write failed", gt_rotate_path(k->rot));
        rc = -1;
    }
    drop_rotator(k->rot);
    if (gt_rotate_free(k->rot, e, sizeof e) != 0 && !rc) {
        snprintf(err, errlen, "%s", e);
        rc = -1;
    }
    k->rot = NULL;
    return rc;
}

static void rot_free(void *self)
{
    struct rot_sink *k = self;
    char e[512];
    if (k->rot) {
        drop_rotator(k->rot);
        gt_rotate_free(k->rot, e, sizeof e);
    }
    free(k);
}

static int rot_new(gt_sensor *s, struct gt_output *o, const char *pattern, int64_t preopen,
                   char *err, size_t errlen)
{
    struct rot_sink *k = calloc(1, sizeof *k);
    if (!k || !(k->rot = gt_rotate_new(pattern, err, errlen))) {
        if (!k)
            snprintf(err, errlen, "out of memory");
        free(k);
        return -1;
    }
    k->events = o == NULL;
    k->ro.out = o;
    k->ro.rot = k->rot;
    k->eo.keys = gt_sensor_keys(s);
    k->eo.upstream_name = upstream_name;
    k->eo.name_ctx = (void *)gt_sensor_classifier(s);
    k->re.out = &k->eo;
    k->re.rot = k->rot;
    struct gt_sink sk = { k->events ? "events" : "output", k, k->events ? NULL : rot_bin,
                          k->events ? rot_event : NULL, rot_finish, rot_free, 0 };
    if (preopen >= 0) {
        enum gt_rotate_change ch;
        FILE *f = gt_rotate_file(k->rot, preopen, &ch, err, errlen);
        if (!f || err[0]) {
            rot_free(k);
            return -1;
        }
        if (o)
            gt_output_set_file(o, f, ch == GT_ROT_NEW);
    }
    if (add_rotator(k->rot) != 0 || gt_sensor_add_stats(s, rot_stats, k) != 0 || gt_sensor_add_sink(s, sk) != 0) {
        snprintf(err, errlen, "out of memory");
        rot_free(k);
        return -1;
    }
    return 0;
}

int cli_rotating_output(gt_sensor *s, struct gt_output *o, const char *pattern, int64_t preopen,
                        char *err, size_t errlen)
{
    return rot_new(s, o, pattern, preopen, err, errlen);
}

int cli_rotating_events(gt_sensor *s, const char *pattern, int64_t preopen, char *err, size_t errlen)
{
    return rot_new(s, NULL, pattern, preopen, err, errlen);
}

int cli_alerts(gt_sensor *s, const struct gt_alerts_opts *o, char *err, size_t errlen)
{
    struct gt_sink sk;
    if (!o->nalertmanagers && !o->nwebhooks)
        return 0;
    /* At exit, receivers get a few seconds for the last events (a restored). */
    if (gt_alerts_sink(&sk, o, gt_sensor_keys(s), gt_sensor_classifier(s), 5.0, err, errlen) != 0)
        return -1;
    if (gt_sensor_add_stats(s, gt_alerts_sink_stats, sk.self) != 0 || gt_sensor_add_sink(s, sk) != 0) {
        sk.free(sk.self);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- the service manager ---- */

struct status {
    gt_sensor *s;
    char src[128];
    double next;
};

static void send_status(gt_sensor *s, const char *src, const char *what)
{
    struct gt_sensor_stats st;
    char line[1200];
    gt_sensor_stats(s, &st);
    snprintf(line, sizeof line,
             "%s%s%s: %" PRIu64 " frames, %" PRIu32 " keys, %" PRIu64 " dropped; reloads %" PRIu64
             " ok %" PRIu64 " failed; alerts %" PRIu64 " sent %" PRIu64 " dropped",
             what ? what : "", what ? "; " : "", src, st.totals.packets, st.nkeys, st.drops[0] + st.drops[1],
             st.reloads, st.reloads_failed, st.alerts_sent, st.alerts_dropped);
    gt_notify_status(line);
}

static void status_bin(void *self, const struct gt_bin *b)
{
    struct status *k = self;
    (void)b;
    double now = gt_mono_s();
    if (now < k->next)
        return;
    k->next = now + 5.0;
    send_status(k->s, k->src, NULL);
}

static struct status *status_;      /* for the phase messages */

static void status_free(void *self)
{
    if (status_ == self)
        status_ = NULL;
    free(self);
}

int cli_status_sink(gt_sensor *s, const char *srcname)
{
    if (!getenv("NOTIFY_SOCKET"))
        return 0;
    struct status *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    k->s = s;
    snprintf(k->src, sizeof k->src, "%s", srcname);
    struct gt_sink sk = { "status", k, status_bin, NULL, NULL, status_free, 1 };
    if (gt_sensor_add_sink(s, sk) != 0) {
        free(k);
        return -1;
    }
    status_ = k;
    return 0;
}

void cli_notify_ready(gt_sensor *s, const char *srcname)
{
    send_status(s, srcname, "capturing");
    gt_notify_ready();
}

void cli_notify_phase(void *ctx, enum gt_sensor_phase ph, const char *msg)
{
    char m[600];
    (void)ctx;
    switch (ph) {
    case GT_PHASE_RELOADING:
        gt_notify_reloading();
        break;
    case GT_PHASE_RELOADED:
    case GT_PHASE_RELOAD_FAILED:
        snprintf(m, sizeof m, "%s%s", ph == GT_PHASE_RELOADED ? "reloaded" : "reload failed: ",
                 ph == GT_PHASE_RELOADED ? "" : msg ? msg : "");
        if (status_)
            send_status(status_->s, status_->src, m);
        else
            gt_notify_status(m);
        gt_notify_ready();
        break;
    case GT_PHASE_STOPPING:
        gt_notify_stopping();
        break;
    }
}

/* The /metrics exporter, registered as a sink (owned by s from then on). */
struct gt_metrics *cli_add_metrics(gt_sensor *s, const struct gt_setup_opts *so, const char *srcname,
                                   long long asn_top, char *err, size_t errlen)
{
    struct gt_metrics_opts mo = {
        .keys = gt_sensor_keys(s), .max_keys = gt_sensor_key_capacity(s), .cls = gt_sensor_classifier(s),
        .anomaly = gt_sensor_anomaly(s), .sensor = s, .interface = srcname, .asn_top = (uint32_t)asn_top,
        .country_db = so->country_db ? so->country_db : gt_default_country_db(),
        .asn_dbs = so->asn_dbs, .n_asn = so->n_asn,
    };
    struct gt_metrics *m = gt_metrics_new(&mo);
    if (!m || gt_sensor_add_sink(s, gt_metrics_sink(m)) != 0) {
        gt_metrics_free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return m;
}
