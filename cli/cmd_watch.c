/* geotap watch: the outage detector over the fleet-wide sums of many
 * sensors, read from a Prometheus-compatible store (live, or replayed
 * --from/--to through the same queries). */
#include "cli/commands.h"
#include "geotap/alerts.h"
#include "geotap/events.h"
#include "geotap/fleet_watch.h"
#include "geotap/output.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: geotap watch --prometheus URL [options]\n"
"\n"
"Every bin, read the fleet-wide sums per key of the geotap sensors scraped\n"
"into a Prometheus-compatible store (Prometheus, VictoriaMetrics, Thanos,\n"
"Mimir: its /api/v1/query_range) and run the outage detector over them: the\n"
"same events, state file and alert delivery as geotap live. A sensor that is\n"
"down (up = 0) holds the keys it carries a large share of (no drop_to_zero on\n"
"missing data) and is named in one sensor_gap event; a store that cannot be\n"
"queried is a watch_gap of the watcher.\n"
"\n"
"  --prometheus URL      the store's base URL (http://127.0.0.1:9090)\n"
"  --by KEYS             country (default), asn, or country,asn\n"
"  --bin SECONDS         bin width (default 60)\n"
"  --from T0 --to T1     replay [T0, T1) (RFC 3339 UTC or seconds since the epoch)\n"
"                        bin by bin, then exit\n"
"  --lag SECONDS         read a bin this long after its end, once every sensor\n"
"                        has published and been scraped (default half a bin)\n"
"  --delay SECONDS       live: and query this much later still (default 5; against\n"
"                        VictoriaMetrics, more than its -search.latencyOffset)\n"
"  --duration SECONDS    live: stop after this long\n"
"  --lookback SECONDS    keys and sensors seen this long before the start are\n"
"                        watched (default 86400 live, 0 replay)\n"
"  --sensor-label NAME   the label naming a sensor (default instance)\n"
"  --share F             a down sensor holds the keys it carried at least this\n"
"                        share of (default 0.5)\n"
"  --max-hold SECONDS    a sensor down longer than this holds nothing more (its\n"
"                        sensor_gap is reported then; default 3600)\n"
"  --name NAME           the watcher's name in its events and alerts (default watch)\n"
"  --events FILE         events as JSON lines ('-' = standard output)\n"
"  -o, --output FILE     the fleet's bins (csv, or --format jsonl)\n"
"  --format FMT          csv (default) or jsonl\n"
"  --state FILE          the detector's learned state, loaded at start, saved at exit\n"
"  --fa-budget N         false alarms per day across all keys (default 0.01)\n"
"  --alertmanager URL    post drop_to_zero, restored and capture_gap alerts (repeatable)\n"
"  -h, --help            this text\n";

static volatile sig_atomic_t stop_;

static void on_signal(int sig)
{
    (void)sig;
    stop_ = 1;
}

static int parse_time(const char *s, int64_t *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (e && !*e) {
        *t = (int64_t)timegm(&tm);
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || errno)
        return -1;
    *t = v;
    return 0;
}

static int parse_num(const char *flag, const char *s, double lo, double hi, double *v)
{
    char *end;
    *v = strtod(s, &end);
    if (*end || end == s || !(*v >= lo && *v <= hi)) {
        fprintf(stderr, "geotap watch: %s '%s': want a number from %g to %g\n", flag, s, lo, hi);
        return -1;
    }
    return 0;
}

static void alerts_event(void *self, const struct gt_event *ev)
{
    gt_alerts_event_fn(self, ev);
}

static int alerts_finish(void *self, char *err, size_t errlen)
{
    struct gt_alerts_sink *s = self;
    (void)err; (void)errlen;
    gt_alerts_flush(s->alerts, 5);
    return 0;
}

static void alerts_free(void *self)
{
    struct gt_alerts_sink *s = self;
    gt_alerts_free(s->alerts, NULL);
    free(s);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_watch(int argc, char **argv)
{
    const char *url = NULL, *by = "country", *events = NULL, *outpath = NULL, *fmt = "csv", *state = NULL;
    const char *ams[GT_ALERTS_MAX_RECEIVERS];
    uint32_t nams = 0;
    struct gt_watch_opts wo = { 0 };
    double bin = 60, delay = 5, lag = -1, duration = 0, lookback = -1, fa = 0;
    int64_t from = 0, to = 0;
    int have_from = 0, have_to = 0;
    enum { O_PROM = 256, O_BY, O_BIN, O_FROM, O_TO, O_DELAY, O_LAG, O_DURATION, O_LOOKBACK, O_SLABEL, O_SHARE,
           O_NAME, O_MAXHOLD, O_EVENTS, O_FORMAT, O_STATE, O_FA, O_AM };
    static const struct option lo[] = {
        { "prometheus", required_argument, 0, O_PROM }, { "by", required_argument, 0, O_BY },
        { "bin", required_argument, 0, O_BIN }, { "from", required_argument, 0, O_FROM },
        { "to", required_argument, 0, O_TO }, { "delay", required_argument, 0, O_DELAY },
        { "lag", required_argument, 0, O_LAG },
        { "duration", required_argument, 0, O_DURATION }, { "lookback", required_argument, 0, O_LOOKBACK },
        { "sensor-label", required_argument, 0, O_SLABEL }, { "share", required_argument, 0, O_SHARE },
        { "name", required_argument, 0, O_NAME }, { "max-hold", required_argument, 0, O_MAXHOLD }, { "events", required_argument, 0, O_EVENTS },
        { "format", required_argument, 0, O_FORMAT }, { "state", required_argument, 0, O_STATE },
        { "fa-budget", required_argument, 0, O_FA }, { "alertmanager", required_argument, 0, O_AM },
        { "output", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_PROM: url = optarg; break;
        case O_BY: by = optarg; break;
        case O_BIN: bad = parse_num("--bin", optarg, 1, 86400, &bin); break;
        case O_FROM: case O_TO:
            if (parse_time(optarg, c == O_FROM ? &from : &to) != 0) {
                fprintf(stderr, "geotap watch: %s '%s': want RFC 3339 UTC (2014-12-22T16:00:00Z) or epoch seconds\n",
                        c == O_FROM ? "--from" : "--to", optarg);
                return 2;
            }
            *(c == O_FROM ? &have_from : &have_to) = 1;
            break;
        case O_DELAY: bad = parse_num("--delay", optarg, 0, 86400, &delay); break;
        case O_LAG: bad = parse_num("--lag", optarg, 0, 86400, &lag); break;
        case O_DURATION: bad = parse_num("--duration", optarg, 0, 1e9, &duration); break;
        case O_LOOKBACK: bad = parse_num("--lookback", optarg, 0, 1e9, &lookback); break;
        case O_SLABEL: wo.sensor_label = optarg; break;
        case O_SHARE: bad = parse_num("--share", optarg, 0.01, 1, &wo.share); break;
        case O_NAME: wo.name = optarg; break;
        case O_MAXHOLD: bad = parse_num("--max-hold", optarg, 1, 1e9, &wo.max_hold_s); break;
        case O_EVENTS: events = optarg; break;
        case O_FORMAT: fmt = optarg; break;
        case O_STATE: state = optarg; break;
        case O_FA: bad = parse_num("--fa-budget", optarg, 1e-9, 1e6, &fa); break;
        case O_AM:
            if (nams == GT_ALERTS_MAX_RECEIVERS) {
                fprintf(stderr, "geotap watch: at most %d --alertmanager\n", GT_ALERTS_MAX_RECEIVERS);
                return 2;
            }
            ams[nams++] = optarg;
            break;
        case 'o': outpath = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: bad = 1; break;
        }
        if (bad) {
            fprintf(stderr, "Try 'geotap watch --help'.\n");
            return 2;
        }
    }
    int format = gt_format_parse(fmt);
    wo.dims = gt_dims_parse(by);
    if (!url || optind < argc || have_from != have_to || (have_from && to <= from) ||
        (format != GT_FMT_CSV && format != GT_FMT_JSONL) || !wo.dims || (wo.dims & GT_DIM_UPSTREAM)) {
        fprintf(stderr, "geotap watch: %s\nTry 'geotap watch --help'.\n",
                !url ? "--prometheus URL is needed" : optind < argc ? "no arguments besides the options"
                : have_from != have_to ? "--from and --to go together" : have_from && to <= from ? "--to must be after --from"
                : !wo.dims || (wo.dims & GT_DIM_UPSTREAM) ? "--by: country, asn or country,asn"
                : "--format: csv or jsonl");
        return 2;
    }
    uint32_t W = (uint32_t)bin;
    if (lag < 0)
        lag = W / 2;
    if (lag >= W) {
        fprintf(stderr, "geotap watch: --lag %g: want less than the bin (%u s)\n", lag, W);
        return 2;
    }
    wo.url = url;
    wo.width = W;
    wo.lag = (uint32_t)lag;
    int replay = have_from;
    double t0 = now_s();
    int64_t next = replay ? from / W * W : ((int64_t)(t0 - delay - lag) / W) * W;
    int64_t last_end = replay ? (to + W - 1) / W * W : next;
    if (lookback < 0)
        lookback = replay ? 0 : 86400;

    char err[1024];
    int status = 0;
    gt_watch *w = NULL;
    gt_chain *ch = NULL;
    struct gt_output *output = NULL;
    FILE *out = NULL, *ev = NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!(w = gt_watch_new(&wo, next, last_end, (int64_t)lookback, err, sizeof err))) {
        fprintf(stderr, "geotap watch: %s\n", err);
        return 2;
    }
    const struct gt_keys *keys = gt_watch_keys(w);
    struct gt_anomaly_opts ao = { .fa_per_day = fa, .budget_keys = gt_watch_budget_keys(w) };
    struct gt_sink sk;
    if (!(ch = gt_chain_new(keys, 1, &ao)))
        goto oom;
    if (outpath) {
        struct gt_output_opts oo = { (enum gt_format)format, NULL, keys, NULL };
        if (!(out = strcmp(outpath, "-") ? fopen(outpath, "w") : stdout)) {
            fprintf(stderr, "geotap watch: %s: cannot write: %s\n", outpath, strerror(errno));
            status = 2;
            goto done;
        }
        oo.out = out;
        if (!(output = gt_output_new(&oo)) || gt_output_sink(&sk, output, outpath) != 0 || gt_chain_add_sink(ch, sk) != 0)
            goto oom;
    }
    if (events) {
        if (!(ev = strcmp(events, "-") ? fopen(events, "w") : stdout)) {
            fprintf(stderr, "geotap watch: %s: cannot write events: %s\n", events, strerror(errno));
            status = 2;
            goto done;
        }
        if (gt_events_sink(&sk, ev, 0, 0, keys, NULL, events) != 0 || gt_chain_add_sink(ch, sk) != 0)
            goto oom;
        gt_watch_set_events(w, ev);
    }
    if (nams) {
        struct gt_alerts_opts al = { .alertmanagers = ams, .nalertmanagers = nams, .sensor = wo.name ? wo.name : "watch" };
        struct gt_alerts_sink *as = calloc(1, sizeof *as);
        if (!as)
            goto oom;
        if (!(as->alerts = gt_alerts_new(&al, err, sizeof err))) {
            fprintf(stderr, "geotap watch: --alertmanager: %s\n", err);
            free(as);
            status = 2;
            goto done;
        }
        as->keys = keys;
        if (gt_chain_add_sink(ch, (struct gt_sink){ "alerts", as, NULL, alerts_event, alerts_finish, alerts_free, 0 }) != 0) {
            alerts_free(as);
            goto oom;
        }
    }
    if (state && gt_anomaly_load(gt_chain_anomaly(ch), state, W, err, sizeof err) < 0)
        fprintf(stderr, "geotap watch: %s; starting fresh\n", err);

    /* live: each bin once it ended `delay` ago; replay: all of them. A
     * failed stretch is retried (live) or reported and skipped (replay). */
    double fail_since = 0;
    int tries = 0;
    while (!stop_) {
        int64_t end = replay ? last_end : ((int64_t)(now_s() - delay - lag) / W) * W;
        if (!replay && duration > 0 && now_s() - t0 >= duration)
            break;
        if (end > next) {
            int64_t upto = end - next > 240LL * W ? next + 240LL * W : end;
            if (gt_watch_run(w, ch, next, upto, err, sizeof err) == 0) {
                if (fail_since)
                    gt_watch_gap_event(w, ev, (int64_t)(fail_since * 1e9), (int64_t)(now_s() * 1e9), "store unreachable");
                fail_since = 0;
                tries = 0;
                next = upto;
                continue;
            }
            fprintf(stderr, "geotap watch: %s\n", err);
            if (!fail_since)
                fail_since = now_s();
            if (replay && ++tries >= 3) {
                gt_watch_gap_event(w, ev, next * 1000000000LL, upto * 1000000000LL, err);
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
        sleep(1);
    }
    gt_watch_finish(w);
    if (gt_chain_finish(ch, err, sizeof err) != 0) {
        fprintf(stderr, "geotap watch: %s\n", err);
        status = 2;
    }
    if (state && gt_anomaly_save(gt_chain_anomaly(ch), state, err, sizeof err) < 0)
        fprintf(stderr, "geotap watch: %s\n", err);
    goto done;
oom:
    fprintf(stderr, "geotap watch: out of memory\n");
    status = 2;
done:
    gt_chain_free(ch);
    gt_output_free(output);
    gt_watch_free(w);
    if (ev && ev != stdout)
        fclose(ev);
    if (out && out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap watch: %s: write failed: %s\n", outpath, strerror(errno));
        status = 2;
    }
    return status;
}
