/* geotap live: per-key traffic of a network interface (libpcap, N workers
 * in a PACKET_FANOUT group) or a DPDK port (one lcore per RX queue), in
 * wall-clock bins: flags into a sensor configuration, the sinks, signals. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "cli/cli_service.h"
#include "cli/view_tty.h"
#include "geotap/http.h"
#include "geotap/clock.h"
#include "geotap/dpdk_port.h"
#include "geotap/live_pcap.h"
#include "geotap/output.h"
#include "geotap/parse.h"
#include "geotap/sensor.h"
#include "gt_config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
"usage: geotap live -i IFACE [options]\n"
#if GT_HAVE_DPDK
"       geotap live --dpdk 'EAL ARGS' --port N [--queues Q] [options]\n"
#endif
"\n"
"Capture live traffic, classify each packet's source and destination address\n"
"by country and autonomous system, and count packets and bytes per key in\n"
"wall-clock bins, until interrupted (SIGINT/SIGTERM drain the capture, flush the\n"
"last partial bin and print the summary), --count, --duration or --idle-stop.\n"
"SIGHUP reloads the databases, routes and maps (a failed reload keeps the old\n"
"ones) and reopens the output files; SIGUSR1 reopens the output files (for\n"
"logrotate). Under systemd (Type=notify) it reports READY, RELOADING, STOPPING\n"
"and a STATUS line.\n"
"\n"
"Capture:\n"
"  -i, --interface IFACE libpcap capture from IFACE (TPACKET_V3 on Linux)\n"
"  -f, --filter EXPR     only frames matching the BPF expression EXPR\n"
"  --workers N           N capture threads in one PACKET_FANOUT group hashed by\n"
"                        flow (default 1)\n"
"  -s, --snaplen BYTES   bytes captured per frame (default 262144)\n"
"  -B, --buffer MB       kernel ring per worker in MB (default: libpcap's)\n"
"  -Z, --user USER       drop privileges to USER once the capture and every\n"
"                        output are open\n"
#if GT_HAVE_DPDK
"  --dpdk 'EAL ARGS'     capture from a DPDK port instead, e.g. '-l 0-2 -a 0000:03:00.0'\n"
"                        or '--no-huge --no-pci --vdev=net_pcap0,rx_pcap=FILE -l 0-1'\n"
"  --port N              DPDK port id (default 0)\n"
"  --queues Q            RX queues, one worker lcore each (default: every worker lcore)\n"
#endif
"  --count N             stop after N frames\n"
"  --duration SECONDS    stop after SECONDS\n"
"  --idle-stop SECONDS   stop when no frame came for SECONDS after the first one\n"
"                        (e.g. a DPDK net_pcap port at the end of its file)\n"
"\n"
"Counting:\n"
"  --by KEYS             country (default), asn, upstream, or a comma list of them\n"
"  --bin SECONDS         bin width, aligned to the epoch, wall-clock time (default\n"
"                        60); 0 = one bin for the whole run\n"
"  --bytes frame|l3      count the frame length (default) or the IP-layer length\n"
"  --decap               count the innermost IP header of tunnels\n"
"\n"
"Classification:\n"
"  --country-db FILE     MaxMind DB with country.iso_code (default: cached GeoLite2)\n"
"  --asn-db FILE         ASN source (.mmdb or CSV of ranges); repeatable\n"
"  --home-net CIDR       local network, counted as 'home'; repeatable\n"
CLI_UPSTREAM_USAGE
"\n"
"Output:\n"
"  --format FMT          table (default on a terminal: a per-key view refreshed each\n"
"                        bin, and the totals at the end), csv (default otherwise) or\n"
"                        jsonl, one row per bin and key, flushed each bin\n"
"  -o, --output FILE     write there instead of standard output (appended to). A\n"
"                        FILE with '%' is a strftime pattern of each bin's UTC start\n"
"                        (also for --events), e.g. /var/lib/geotap/%Y/%m/%d/traffic-%H.csv:\n"
"                        the next file is opened at the first bin of a new name\n"
"  --listen HOST:PORT    serve the live page (the HTML report, updated every bin)\n"
"                        at http://HOST:PORT/ and its data at /api/bins?since=N;\n"
"                        read-only; HOST defaults to 127.0.0.1 ('PORT' alone)\n"
CLI_EVENTS_USAGE
"\n"
"Alerts (see README, 'Running on a tap'):\n"
"  --alertmanager URL    post drop_to_zero, restored and capture_gap to this\n"
"                        Alertmanager (API v2, e.g. http://127.0.0.1:9093); repeatable\n"
"  --webhook URL         post every event's JSON to URL; repeatable\n"
"  --sensor NAME         this sensor's name in the alerts (default: the host name)\n"
"  --state-interval SECONDS  save --state this often (default 300)\n"
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            this text\n"
"\n"
"Drops reported by the kernel, the interface or the NIC are counted per bin and\n"
"in the summary. Exit status: 0 on success, 2 on a usage error or when the\n"
"capture cannot be opened, 1 when it fails while running.\n";

static gt_sensor *sensor_;          /* for the signal handlers */
static volatile sig_atomic_t signalled_;

static void on_signal(int sig)
{
    if (sig == SIGHUP || sig == SIGUSR1) {
        cli_reopen_outputs();
        if (sensor_ && sig == SIGHUP)
            gt_sensor_request_reload(sensor_);
        return;
    }
    signalled_ = 1;
    if (sensor_)
        gt_sensor_stop(sensor_);
}

static void notice(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "geotap live: %s\n", msg);
}

static int parse_num(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "geotap live: %s '%s': want a whole number from %lld to %lld\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_live(int argc, char **argv)
{
    struct cli_cls_opts co;
    const char *iface = NULL, *bpf = NULL, *outpath = NULL, *by = "country", *fmt = NULL, *user = NULL;
    const char *dpdk_args = NULL;
    long long bin = 60, workers = 1, snaplen = 0, buffer_mb = 0, count = 0, duration = 0, idle_stop = 0, port = 0, queues = 0;
    int bytes_l3 = 0, decap = 0, quiet = 0;
    cli_cls_opts_init(&co);
    /* Service options (issue 14): alert receivers, sensor name, state period. */
    const char *alertmanagers[GT_ALERTS_MAX_RECEIVERS], *webhooks[GT_ALERTS_MAX_RECEIVERS];
    struct gt_alerts_opts ao = { .alertmanagers = alertmanagers, .webhooks = webhooks };
    long long state_every = 0;

    enum { O_BY = 256, O_BIN, O_BYTES, O_DECAP, O_FORMAT, O_WORKERS, O_COUNT, O_DURATION, O_IDLE_STOP,
           O_DPDK, O_PORT, O_QUEUES, O_LISTEN, O_ALERTMANAGER, O_WEBHOOK, O_SENSOR, O_STATE_INTERVAL };
    static const struct option lo[] = {
        { "interface", required_argument, 0, 'i' },
        { "filter", required_argument, 0, 'f' },
        { "workers", required_argument, 0, O_WORKERS },
        { "snaplen", required_argument, 0, 's' },
        { "buffer", required_argument, 0, 'B' },
        { "user", required_argument, 0, 'Z' },
        { "dpdk", required_argument, 0, O_DPDK },
        { "port", required_argument, 0, O_PORT },
        { "queues", required_argument, 0, O_QUEUES },
        { "count", required_argument, 0, O_COUNT },
        { "duration", required_argument, 0, O_DURATION },
        { "idle-stop", required_argument, 0, O_IDLE_STOP },
        { "by", required_argument, 0, O_BY },
        { "bin", required_argument, 0, O_BIN },
        { "bytes", required_argument, 0, O_BYTES },
        { "decap", no_argument, 0, O_DECAP },
        { "format", required_argument, 0, O_FORMAT },
        { "output", required_argument, 0, 'o' },
        { "listen", required_argument, 0, O_LISTEN },
        { "alertmanager", required_argument, 0, O_ALERTMANAGER },
        { "webhook", required_argument, 0, O_WEBHOOK },
        { "sensor", required_argument, 0, O_SENSOR },
        { "state-interval", required_argument, 0, O_STATE_INTERVAL },
        { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' },
        CLI_CLS_LONGOPTS,
        { 0, 0, 0, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:f:s:B:Z:o:qh", lo, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'i': iface = optarg; break;
        case 'f': bpf = optarg; break;
        case 'Z': user = optarg; break;
        case O_WORKERS: rc = parse_num("--workers", optarg, 1, 64, &workers); break;
        case 's': rc = parse_num("--snaplen", optarg, 64, 262144, &snaplen); break;
        case 'B': rc = parse_num("--buffer", optarg, 1, 65536, &buffer_mb); break;
        case O_COUNT: rc = parse_num("--count", optarg, 1, INT64_MAX, &count); break;
        case O_DURATION: rc = parse_num("--duration", optarg, 1, 100L * 365 * 86400, &duration); break;
        case O_IDLE_STOP: rc = parse_num("--idle-stop", optarg, 1, 100L * 365 * 86400, &idle_stop); break;
        case O_BIN: rc = parse_num("--bin", optarg, 0, 31 * 86400L, &bin); break;
        case O_DPDK: dpdk_args = optarg; break;
        case O_PORT: rc = parse_num("--port", optarg, 0, 65535, &port); break;
        case O_QUEUES: rc = parse_num("--queues", optarg, 1, 1024, &queues); break;
        case O_BY: by = optarg; break;
        case O_BYTES:
            if (!strcmp(optarg, "l3")) bytes_l3 = 1;
            else if (!strcmp(optarg, "frame")) bytes_l3 = 0;
            else {
                fprintf(stderr, "geotap live: --bytes '%s': want frame or l3\n", optarg);
                rc = -1;
            }
            break;
        case O_DECAP: decap = 1; break;
        case O_FORMAT: fmt = optarg; break;
        case 'o': outpath = optarg; break;
        case O_LISTEN: co.report = optarg; break;
        case O_ALERTMANAGER: rc = cli_add_receiver(alertmanagers, &ao.nalertmanagers, optarg, "--alertmanager"); break;
        case O_WEBHOOK: rc = cli_add_receiver(webhooks, &ao.nwebhooks, optarg, "--webhook"); break;
        case O_SENSOR: ao.sensor = optarg; break;
        case O_STATE_INTERVAL: rc = parse_num("--state-interval", optarg, 1, 86400, &state_every); break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            if (cli_cls_opt(&co, c, optarg) == 0)
                break;
            fprintf(stderr, "Try 'geotap live --help'.\n");
            return 2;
        }
        if (rc)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "geotap live: unexpected argument '%s'\nTry 'geotap live --help'.\n", argv[optind]);
        return 2;
    }
#if !GT_HAVE_DPDK
    if (dpdk_args) {
        fprintf(stderr, "geotap live: --dpdk: this geotap was built without DPDK (meson -Ddpdk=enabled)\n");
        return 2;
    }
#endif
    if (!iface == !dpdk_args) {
        fprintf(stderr, "geotap live: give either -i IFACE or --dpdk 'EAL ARGS'\nTry 'geotap live --help'.\n");
        return 2;
    }
    if (dpdk_args && (bpf || user || snaplen || buffer_mb || workers != 1)) {
        fprintf(stderr, "geotap live: -f, -s, -B, -Z and --workers are for -i; with --dpdk use --queues\n");
        return 2;
    }
    unsigned dims;
    int format;
    if (cli_parse_by_format("geotap live", by, fmt, outpath, &dims, &format) != 0)
        return 2;
    if (user && !getpwnam(user)) {
        fprintf(stderr, "geotap live: -Z %s: no such user\n", user);
        return 2;
    }
    co.so.dims = dims;
    /* Finer keys for the anomaly module's attribution only when it runs. */
    int alerts = ao.nalertmanagers + ao.nwebhooks > 0;
    co.so.attribution = co.events != NULL || co.report || alerts;
    struct gt_live_opts lopt = { iface, bpf, (int)snaplen, (int)buffer_mb, 100, (unsigned)workers };
    struct gt_dpdk_opts dop = { dpdk_args, (uint16_t)port, (uint16_t)queues };
    struct gt_sensor_config sc = {
        .live = iface ? &lopt : NULL, .dpdk = iface ? NULL : &dop, .iface = iface,
        .setup = co.so, .parse_flags = decap ? GT_PARSE_DECAP : 0, .bytes_l3 = bytes_l3,
        .bin_seconds = (uint32_t)bin, .detect = co.events != NULL || format == GT_FMT_TABLE || co.report || co.state || alerts,
        .fa_per_day = co.fa_per_day, .state = co.state, .count = (uint64_t)count, .duration_s = (double)duration,
        .idle_stop_s = (double)idle_stop, .notice = notice,
        .state_every_s = (double)state_every, .phase = cli_notify_phase,
    };
    char err[1024];
    gt_sensor *s = gt_sensor_new(&sc, err, sizeof err);
    if (!s) {
        cli_setup_error("geotap live", &co, err);
        return 2;
    }
    const char *source = gt_sensor_source_name(s);
    char srcname[300];
    if (iface)
        snprintf(srcname, sizeof srcname, "%s", source);
    else
        snprintf(srcname, sizeof srcname, "dpdk port %lld", port);
    int dlt = gt_sensor_dlt(s), status = 0;
    unsigned nworkers = gt_sensor_queues(s);
    if (!gt_parse_dlt_supported(dlt) && !quiet)
        fprintf(stderr, "geotap live: %s: link type %d is not supported; its frames count as non-IP\n",
                srcname, dlt);
    struct gt_output *output = NULL;
    struct gt_http *http = NULL;
    FILE *out = stdout;
    /* Every output is opened before privileges are dropped: files (appended,
     * reopened on SIGUSR1) through rotate.h at the current bin's name. */
    unsigned rotate = (format != GT_FMT_TABLE || cli_is_pattern(outpath) ? CLI_ROTATE_OUTPUT : 0) | CLI_ROTATE_EVENTS;
    int64_t now = gt_realtime_ns() / 1000000000;
    if (outpath && !(rotate & CLI_ROTATE_OUTPUT) && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "geotap live: %s: cannot write: %m\n", outpath);
        status = 2;
        goto done;
    }
    struct gt_sink view;
    if (cli_add_sinks(s, &co, out, outpath, format, "geotap live", rotate, bin ? now - now % bin : now,
                      &output) != 0 ||
        cli_view_sink(&view, s, out, format == GT_FMT_TABLE && isatty(fileno(out)), quiet, srcname) != 0 ||
        gt_sensor_add_sink(s, view) != 0) {
        status = 2;
        goto done;
    }
    struct gt_report *report;
    if (co.report) {
        const char *src[1] = { srcname };
        if (!(report = cli_add_report(s, &co, NULL, src, 1, err, sizeof err)) ||
            !(http = gt_http_start(co.report, report, err, sizeof err))) {
            fprintf(stderr, "geotap live: --listen: %s\n", err);
            status = 2;
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "geotap live: serving the live page on %s (port %u)\n", co.report, gt_http_port(http));
    }
    if (cli_alerts(s, &ao, err, sizeof err) != 0 || cli_status_sink(s, srcname) != 0) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 2;
        goto done;
    }
    if (user && cli_drop_privileges(user, err, sizeof err) != 0) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 2;
        goto done;
    }
    sensor_ = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    /* A closed output pipe shows as a write error instead, which ends the run cleanly. */
    signal(SIGPIPE, SIG_IGN);
    if (!quiet)
        fprintf(stderr, "geotap live: listening on %s (link type %d, %u worker%s)\n", srcname, dlt,
                nworkers, nworkers > 1 ? "s" : "");
    cli_notify_ready(s, srcname);
    double t0 = gt_mono_s();
    if (gt_sensor_run(s, err, sizeof err) != 0) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 1;
    }
    double elapsed = gt_mono_s() - t0;
    if (!quiet) {
        struct gt_sensor_stats st;
        gt_sensor_stats(s, &st);
        cli_print_summary(stderr, &st.totals, gt_sensor_keys(s), gt_output_totals(output), elapsed,
                          signalled_ ? "interrupted" : NULL);
        fprintf(stderr, "geotap live: frames per worker:");
        for (unsigned i = 0; i < nworkers && i < GT_SENSOR_MAX_WORKERS; i++)
            fprintf(stderr, " %" PRIu64, st.worker_frames[i]);
        fputc('\n', stderr);
        if (iface)
            fprintf(stderr, "geotap live: drops: %" PRIu64 " by the kernel, %" PRIu64 " by the interface\n",
                    st.drops[0], st.drops[1]);
        else
            fprintf(stderr, "geotap live: drops: %" PRIu64 " by the NIC (missed, errors, no mbuf)\n", st.drops[1]);
        if (st.reloads || st.reloads_failed)
            fprintf(stderr, "geotap live: reloads: %" PRIu64 " ok, %" PRIu64 " failed\n", st.reloads, st.reloads_failed);
        if (alerts)
            fprintf(stderr, "geotap live: alerts: %" PRIu64 " queued, %" PRIu64 " posts sent, %" PRIu64
                    " failed (retried), %" PRIu64 " dropped\n", st.alerts_queued, st.alerts_sent, st.alerts_failed,
                    st.alerts_dropped);
        if (st.output_errors || st.output_lost)
            fprintf(stderr, "geotap live: output files: %" PRIu64 " errors, %" PRIu64 " bins or events lost\n",
                    st.output_errors, st.output_lost);
    }
done:
    sensor_ = NULL;
    gt_http_stop(http);     /* it reads the report, which the sensor frees */
    gt_sensor_free(s);
    gt_output_free(output);
    if (out && out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap live: %s: write failed: %m\n", outpath);
        status = 1;
    }
    return status;
}
