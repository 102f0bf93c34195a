/* geotap watch: the outage detector over the fleet-wide sums of many
 * sensors, read from a Prometheus-compatible store (live, or replayed
 * --from/--to through the same queries). */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "cli/options.h"
#include "geotap/alerts.h"
#include "geotap/chain.h"
#include "geotap/events.h"
#include "geotap/fleet_watch.h"
#include "geotap/http.h"
#include "geotap/metrics.h"
#include "geotap/output.h"
#include "geotap/sensor.h"
#include "geotap/watch_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char head[] =
"usage: geotap watch --prometheus URL [options]\n"
"       geotap watch --config FILE [--check] [options]\n"
"\n"
"Every bin, read the fleet-wide sums per key of the geotap sensors scraped\n"
"into a Prometheus-compatible store (Prometheus, VictoriaMetrics, Thanos,\n"
"Mimir: its /api/v1/query_range) and run the outage detector over them: the\n"
"same events, state file and alert delivery as geotap live. A sensor that is\n"
"down (up = 0) or whose capture loses frames holds only the keys it carries a\n"
"large share of (no drop_to_zero on missing data; the others are judged as\n"
"usual) and is named in one sensor_gap event; a store that cannot be\n"
"queried is a watch_gap of the watcher. SIGINT/SIGTERM stop it (the state is\n"
"saved, alerts get a few seconds to go out); the configuration is read at\n"
"start only (SIGHUP says so and goes on).\n";
static const char tail[] =
"\n"
"Exit status: 0 on success, 2 on a usage error, a store without geotap series in\n"
"the time asked, or an output that cannot be written.\n";

static volatile sig_atomic_t stop_, hup_;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        hup_ = 1;
    else
        stop_ = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}


/* What a run holds (freed by run_free). */
struct run {
    const struct cli_config *c;
    gt_watch *w;
    gt_chain *ch;
    struct gt_output *output;
    FILE *out, *ev;
    void *alerts;                       /* the alert sink's self, for its counters */
    struct gt_http *http;
    struct gt_watch_metrics *wm;
    struct gt_watch_health h;
};

/* The loop's counters and each sensor's state, to /metrics. */
static void publish(struct run *r)
{
    if (!r->wm)
        return;
    if (r->alerts) {
        struct gt_sensor_stats st;
        memset(&st, 0, sizeof st);
        gt_alerts_sink_stats(r->alerts, &st);
        r->h.alerts_sent = st.alerts_sent;
        r->h.alerts_failed = st.alerts_failed;
        r->h.alerts_dropped = st.alerts_dropped;
    }
    gt_watch_metrics_publish(r->wm, r->w, &r->h);
}

static void save_state(struct run *r)
{
    char err[1024];
    if (!r->c->state)
        return;
    if (gt_anomaly_save(gt_chain_anomaly(r->ch), r->c->state, err, sizeof err) < 0) {
        fprintf(stderr, "geotap watch: %s\n", err);
        r->h.state_save_errors++;
    } else {
        r->h.state_saves++;
    }
}

/* Outputs, events, alerts and /metrics as the chain's sinks; 0, or 2 after a message. */
static int setup(struct run *r, uint32_t W, int load)
{
    const struct cli_config *c = r->c;
    const struct gt_keys *keys = gt_watch_keys(r->w);
    struct gt_anomaly_opts ao = { .fa_per_day = c->fa_budget, .budget_keys = gt_watch_budget_keys(r->w) };
    struct gt_sink sk;
    char err[1024];
    if (!(r->ch = gt_chain_new(keys, 1, &ao)))
        goto oom;
    if (c->output) {
        struct gt_output_opts oo = { (enum gt_format)gt_format_parse(c->format), NULL, keys, NULL };
        if (!(r->out = strcmp(c->output, "-") ? fopen(c->output, "w") : stdout)) {
            fprintf(stderr, "geotap watch: %s: cannot write: %s\n", c->output, strerror(errno));
            return 2;
        }
        oo.out = r->out;
        if (!(r->output = gt_output_new(&oo)) || gt_output_sink(&sk, r->output, c->output) != 0 ||
            gt_chain_add_sink(r->ch, sk) != 0)
            goto oom;
    }
    if (c->events) {
        if (!(r->ev = strcmp(c->events, "-") ? fopen(c->events, "w") : stdout)) {
            fprintf(stderr, "geotap watch: %s: cannot write events: %s\n", c->events, strerror(errno));
            return 2;
        }
        if (gt_events_sink(&sk, r->ev, 0, 0, keys, NULL, c->events) != 0 || gt_chain_add_sink(r->ch, sk) != 0)
            goto oom;
        gt_watch_set_events(r->w, r->ev);
    }
    if (c->alertmanager.n + c->webhook.n) {
        struct gt_alerts_opts al = { c->alertmanager.v, (uint32_t)c->alertmanager.n, c->webhook.v,
                                     (uint32_t)c->webhook.n, .sensor = c->name };
        if (gt_alerts_sink(&sk, &al, keys, NULL, 5.0, err, sizeof err) != 0) {
            fprintf(stderr, "geotap watch: --alertmanager: %s\n", err);
            return 2;
        }
        if (gt_chain_add_sink(r->ch, sk) != 0) {
            sk.free(sk.self);
            goto oom;
        }
        r->alerts = sk.self;
    }
    if (load && gt_anomaly_load(gt_chain_anomaly(r->ch), c->state, W, err, sizeof err) < 0)
        fprintf(stderr, "geotap watch: %s; starting fresh\n", err);
    if (c->listen) {
        /* room for keys added while running, as a sensor's reload has */
        uint32_t nk = keys->nkeys, more = nk / 4 > 256 ? nk / 4 : 256;
        struct gt_metrics_opts mo = { .keys = keys, .max_keys = nk + more, .anomaly = gt_chain_anomaly(r->ch),
                                      .prefix = "geotap_fleet_", .no_capture = 1 };
        struct gt_metrics *m = gt_metrics_new(&mo);
        size_t ns = gt_watch_nsensors(r->w);
        if (!m || !(r->wm = gt_watch_metrics_new(ns + (ns / 4 > 64 ? ns / 4 : 64))) ||
            gt_chain_add_sink(r->ch, gt_metrics_sink(m)) != 0) {
            gt_metrics_free(m);
            goto oom;
        }
        gt_metrics_extra(m, gt_watch_metrics_render, r->wm);
        publish(r);
        if (!(r->http = gt_http_start(c->listen, NULL, m, err, sizeof err))) {
            fprintf(stderr, "geotap watch: --listen: %s\n", err);
            return 2;
        }
        fprintf(stderr, "geotap watch: serving /metrics on %s (port %u)\n", c->listen, gt_http_port(r->http));
    }
    return 0;
oom:
    fprintf(stderr, "geotap watch: out of memory\n");
    return 2;
}

static int run_free(struct run *r, int status)
{
    gt_http_stop(r->http);      /* it reads the metrics, which the chain frees */
    gt_chain_free(r->ch);
    gt_output_free(r->output);
    gt_watch_free(r->w);
    gt_watch_metrics_free(r->wm);
    if (r->ev && r->ev != stdout)
        fclose(r->ev);
    if (r->out && r->out != stdout && fclose(r->out) != 0 && status == 0) {
        fprintf(stderr, "geotap watch: %s: write failed: %s\n", r->c->output, strerror(errno));
        status = 2;
    }
    return status;
}

/* live: each bin once it ended `delay` ago; replay: all of them. A failed
 * stretch is retried (live) or reported and skipped (replay). */
static void loop(struct run *r, int replay, int64_t next, int64_t last_end, uint32_t W, double lag, double t0)
{
    const struct cli_config *c = r->c;
    double fail_since = 0, saved = now_s();
    int tries = 0;
    char err[1024];
    while (!stop_) {
        if (hup_) {     /* a service manager's reload must not end the watcher */
            hup_ = 0;
            fprintf(stderr, "geotap watch: SIGHUP: the configuration is read at start only; restart to change it\n");
        }
        int64_t end = replay ? last_end : ((int64_t)(now_s() - c->delay - lag) / W) * W;
        if (!replay && c->duration > 0 && now_s() - t0 >= c->duration)
            break;
        if (!replay && c->state && now_s() - saved >= c->state_interval) {
            save_state(r);
            saved = now_s();
        }
        if (end > next) {
            int64_t upto = end - next > 240LL * W ? next + 240LL * W : end;
            if (gt_watch_run(r->w, r->ch, next, upto, err, sizeof err) == 0) {
                if (fail_since) {
                    gt_watch_gap_event(r->w, r->ev, (int64_t)(fail_since * 1e9), (int64_t)(now_s() * 1e9),
                                       "store unreachable");
                    r->h.watch_gaps++;
                }
                fail_since = 0;
                tries = 0;
                next = upto;
                r->h.last_success_s = now_s();
                publish(r);
                continue;
            }
            fprintf(stderr, "geotap watch: %s\n", err);
            r->h.query_failures++;
            publish(r);
            if (!fail_since)
                fail_since = now_s();
            if (replay && ++tries >= 3) {
                gt_watch_gap_event(r->w, r->ev, next * 1000000000LL, upto * 1000000000LL, err);
                r->h.watch_gaps++;
                fail_since = 0;
                tries = 0;
                next = upto;
                continue;
            }
            sleep(replay ? 1 : 5);
            continue;
        }
        if (replay)
            break;
        publish(r);
        sleep(1);
    }
    /* stopped while the store is unreachable: that gap is reported too */
    if (fail_since) {
        gt_watch_gap_event(r->w, r->ev, (int64_t)(fail_since * 1e9), (int64_t)(now_s() * 1e9), "store unreachable");
        r->h.watch_gaps++;
    }
}

/* live with --state: a restarted watcher goes on from the state's last bin,
 * reading the stretch it missed from the store as a replay does. live's
 * restart is a capture_gap because its packets of that stretch are gone;
 * the sensors watch reads counted on, so nothing is missing and nothing is
 * alerted. Further back than the lookback (or no bin in the state): from
 * now, and the stretch between is the detector's capture_gap, as live's. */
static int64_t resume_at(const char *state, uint32_t W, int64_t now_bin, long long lookback)
{
    int64_t end_ns = 0;
    char err[1024];
    if (gt_anomaly_state_keys(state, W, &end_ns, NULL, NULL, err, sizeof err) <= 0 || end_ns <= 0)
        return now_bin;         /* a bad file: the load says so */
    int64_t end = end_ns / 1000000000LL / W * W;
    if (end >= now_bin || now_bin - end > lookback)
        return now_bin;
    fprintf(stderr, "geotap watch: %s: going on from its last bin, %" PRId64 " s ago (read from the store)\n",
            state, now_bin - end);
    return end;
}

static int watch(const struct cli_parsed *p)
{
    const struct cli_config *c = &p->v;
    int64_t from = 0, to = 0;
    int replay = c->from != NULL;
    if (replay) {
        cli_time(c->from, &from);
        cli_time(c->to, &to);
    }
    uint32_t W = (uint32_t)c->bin;
    double lag = cli_given(p, "lag") ? (double)c->lag : W / 2;
    if (lag >= W) {
        fprintf(stderr, "geotap watch: --lag %g: want less than the bin (%u s)\n", lag, W);
        return 2;
    }
    struct gt_watch_opts wo = { .url = c->prometheus, .dims = gt_dims_parse(c->by), .width = W,
                                .lag = (uint32_t)lag, .sensor_label = c->sensor_label, .name = c->name,
                                .share = c->share, .max_hold_s = (double)c->max_hold };
    double t0 = now_s();
    int64_t next = replay ? from / W * W : ((int64_t)(t0 - c->delay - lag) / W) * W;
    long long lookback = cli_given(p, "lookback") ? c->lookback : replay ? 0 : 86400;
    if (!replay && c->state)
        next = resume_at(c->state, W, next, lookback);
    int64_t last_end = replay ? (to + W - 1) / W * W : next;
    char err[1024];
    struct run r = { .c = c };
    cli_on_signals(on_signal, (const int[]){ SIGINT, SIGTERM, SIGHUP, 0 });
    if (!(r.w = gt_watch_new(&wo, next, last_end, (int64_t)lookback, err, sizeof err))) {
        fprintf(stderr, "geotap watch: %s\n", err);
        return 2;
    }
    r.h.last_success_s = now_s();     /* gt_watch_new read the keys from the store */
    int load = c->state != NULL;
    if (load && gt_watch_join_state(r.w, c->state, err, sizeof err) < 0) {
        fprintf(stderr, "geotap watch: %s; starting fresh\n", err);
        load = 0;                       /* the load would say it again */
    }
    int status = setup(&r, W, load);
    if (status)
        return run_free(&r, status);
    loop(&r, replay, next, last_end, W, lag, t0);
    gt_watch_finish(r.w);
    if (gt_chain_finish(r.ch, err, sizeof err) != 0) {
        fprintf(stderr, "geotap watch: %s\n", err);
        status = 2;
    }
    save_state(&r);
    return run_free(&r, status);
}

int cmd_watch(int argc, char **argv)
{
    struct cli_parsed p;
    int first, rc = cli_parse(&p, CMD_WATCH, "geotap watch", head, tail, argc, argv, &first);
    const struct cli_config *c = &p.v;
    int64_t from = 0, to = 0;
    if (rc == 0 && c->from && c->to) {
        cli_time(c->from, &from);
        cli_time(c->to, &to);
    }
    const char *why = rc ? NULL : !c->prometheus ? "--prometheus URL is needed"
                      : first < argc ? "no arguments besides the options"
                      : !c->from != !c->to ? "--from and --to go together"
                      : c->from && to <= from ? "--to must be after --from" : NULL;
    if (why) {
        fprintf(stderr, "geotap watch: %s\nTry 'geotap watch --help'.\n", why);
        rc = 2;
    } else if (rc == 0 && c->check) {
        cli_print_config(stdout, &p);
    } else if (rc == 0) {
        rc = watch(&p);
    }
    cli_parsed_free(&p);
    return rc == 1 ? 0 : rc;
}
