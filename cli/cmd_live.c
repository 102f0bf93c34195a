/* geotap live: per-key traffic of a network interface (libpcap, N workers
 * in a PACKET_FANOUT group) or a DPDK port (one lcore per RX queue), in
 * wall-clock bins: options into a sensor configuration, the sinks, signals,
 * and the configuration file re-read on SIGHUP. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "cli/cli_service.h"
#include "cli/options.h"
#include "cli/view_tty.h"
#include "geotap/http.h"
#include "geotap/clock.h"
#include "geotap/dpdk_port.h"
#include "geotap/live_pcap.h"
#include "geotap/datadir.h"
#include "geotap/parse.h"
#include "gt_config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char head[] =
"usage: geotap live -i IFACE [options]\n"
#if GT_HAVE_DPDK
"       geotap live --dpdk 'EAL ARGS' --port N [--queues Q] [options]\n"
#endif
"       geotap live --config FILE [--check] [options]\n"
"\n"
"Capture live traffic, classify each packet's source and destination address\n"
"by country and autonomous system, and count packets and bytes per key in\n"
"wall-clock bins, until interrupted (SIGINT/SIGTERM drain the capture, flush the\n"
"last partial bin and print the summary), --count, --duration or --idle-stop.\n"
"SIGHUP re-reads --config, reloads the databases, routes and maps (a failed\n"
"reload keeps the old ones; other changed keys need a restart) and reopens the\n"
"output files; SIGUSR1 reopens the output files (for logrotate). Under systemd\n"
"(Type=notify) it reports READY, RELOADING, STOPPING and a STATUS line.\n";
static const char tail[] =
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

/* The service manager's phases, and a line when a reload succeeded. */
static void phase(void *ctx, enum gt_sensor_phase ph, const char *msg)
{
    if (ph == GT_PHASE_RELOADED)
        fprintf(stderr, "geotap live: reloaded the classification (databases, routes and maps)\n");
    cli_notify_phase(ctx, ph, msg);
}

static int run(const struct cli_parsed *p, struct cli_reloader *lv)
{
    const struct cli_config *c = &p->v;
    char err[1024], srcname[300];
    unsigned dims;
    int format, status = 0;
    cli_dims_format(c, &dims, &format);
    int alerts = c->alertmanager.n + c->webhook.n > 0;
    struct gt_alerts_opts ao = { c->alertmanager.v, (uint32_t)c->alertmanager.n, c->webhook.v,
                                 (uint32_t)c->webhook.n, .sensor = c->sensor };
    struct gt_setup_opts so = { .dims = dims, .attribution = c->events || c->listen || alerts };
    cli_config_setup(c, &so);
    if (c->check)
        return cli_check(p, &so);
    struct gt_live_opts lopt = { c->interface, c->filter, cli_given(p, "snaplen") ? (int)c->snaplen : 0,
                                 (int)c->buffer, 100, (unsigned)c->workers };
    struct gt_dpdk_opts dop = { c->dpdk, (uint16_t)c->port, (uint16_t)c->queues };
    struct gt_sensor_config sc = {
        .live = c->interface ? &lopt : NULL, .dpdk = c->interface ? NULL : &dop, .iface = c->interface,
        .setup = so, .parse_flags = c->decap ? GT_PARSE_DECAP : 0, .bytes_l3 = !strcmp(c->bytes, "l3"),
        .bin_seconds = (uint32_t)c->bin, .detect = c->events || format == GT_FMT_TABLE || c->listen || c->state || alerts,
        .fa_per_day = c->fa_budget, .state = c->state, .count = (uint64_t)c->count,
        .duration_s = (double)c->duration, .idle_stop_s = (double)c->idle_stop, .notice = notice,
        .state_every_s = (double)c->state_interval, .phase = phase,
        .reconfigure = c->config ? cli_reconfigure : NULL, .ctx = lv,
    };
    gt_sensor *s = gt_sensor_new(&sc, err, sizeof err);
    if (!s) {
        cli_setup_error(p->prog, c, err);
        return 2;
    }
    if (c->interface)
        snprintf(srcname, sizeof srcname, "%s", gt_sensor_source_name(s));
    else
        snprintf(srcname, sizeof srcname, "dpdk port %lld", c->port);
    int dlt = gt_sensor_dlt(s);
    unsigned nworkers = gt_sensor_queues(s);
    if (!gt_parse_dlt_supported(dlt) && !c->quiet)
        fprintf(stderr, "geotap live: %s: link type %d is not supported; its frames count as non-IP\n",
                srcname, dlt);
    struct gt_output *output = NULL;
    struct gt_http *http = NULL;
    struct gt_report *report;
    struct gt_sink view;
    struct gt_metrics *metrics = NULL;
    FILE *out = stdout;
    const char *src[1] = { srcname };
    /* Every output is opened before privileges are dropped: files (appended,
     * reopened on SIGUSR1) through rotate.h at the current bin's name. */
    unsigned rotate = (format != GT_FMT_TABLE || cli_is_pattern(c->output) ? CLI_ROTATE_OUTPUT : 0) | CLI_ROTATE_EVENTS;
    int64_t now = gt_realtime_ns() / 1000000000;
    if (c->output && !(rotate & CLI_ROTATE_OUTPUT) && !(out = fopen(c->output, "w"))) {
        fprintf(stderr, "geotap live: %s: cannot write: %m\n", c->output);
        status = 2;
    } else if (cli_add_sinks(s, c, out, format, "geotap live", rotate, c->bin ? now - now % c->bin : now,
                             &output) != 0 ||
               cli_view_sink(&view, s, out, format == GT_FMT_TABLE && isatty(fileno(out)), c->quiet, srcname) ||
               gt_sensor_add_sink(s, view) != 0) {
        status = 2;
    } else if (c->listen && (!(metrics = cli_add_metrics(s, &so, srcname, c->metrics_asn, err, sizeof err)) ||
                             !(report = cli_add_report(s, &so, NULL, src, 1, err, sizeof err)) ||
                             !(http = gt_http_start(c->listen, report, metrics, err, sizeof err)))) {
        fprintf(stderr, "geotap live: --listen: %s\n", err);
        status = 2;
    } else if (cli_alerts(s, &ao, err, sizeof err) != 0 || cli_status_sink(s, srcname) != 0 ||
               (c->user && cli_drop_privileges(c->user, err, sizeof err) != 0)) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 2;
    }
    if (status)
        goto done;
    if (http && !c->quiet)
        fprintf(stderr, "geotap live: serving the live page on %s (port %u)\n", c->listen, gt_http_port(http));
    sensor_ = s;
    cli_on_signals(on_signal, (const int[]){ SIGINT, SIGTERM, SIGHUP, SIGUSR1, 0 });
    if (!c->quiet)
        fprintf(stderr, "geotap live: listening on %s (link type %d, %u worker%s)\n", srcname, dlt,
                nworkers, nworkers > 1 ? "s" : "");
    cli_notify_ready(s, srcname);
    double t0 = gt_mono_s();
    if (gt_sensor_run(s, err, sizeof err) != 0) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 1;
    }
    if (!c->quiet) {
        struct gt_sensor_stats st;
        gt_sensor_stats(s, &st);
        cli_print_summary(stderr, &st.totals, gt_sensor_keys(s), gt_output_totals(output), gt_mono_s() - t0,
                          signalled_ ? "interrupted" : NULL);
        cli_live_summary(stderr, &st, nworkers, c->interface != NULL, alerts);
    }
done:
    sensor_ = NULL;
    gt_http_stop(http);     /* it reads the report, which the sensor frees */
    gt_sensor_free(s);
    gt_output_free(output);
    if (out && out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap live: %s: write failed: %m\n", c->output);
        status = 1;
    }
    return status;
}

int cmd_live(int argc, char **argv)
{
    struct cli_parsed p;
    struct cli_reloader lv = { &p, &p, NULL };
    int first, rc = cli_parse(&p, CMD_LIVE, "geotap live", head, tail, argc, argv, &first);
    const struct cli_config *c = &p.v;
    if (rc == 1) {          /* --help or the example printed */
        cli_parsed_free(&p);
        return 0;
    }
    if (rc == 0 && first < argc) {
        fprintf(stderr, "geotap live: unexpected argument '%s'\nTry 'geotap live --help'.\n", argv[first]);
        rc = 2;
    } else if (rc == 0 && !GT_HAVE_DPDK && c->dpdk) {
        fprintf(stderr, "geotap live: --dpdk: this geotap was built without DPDK (meson -Ddpdk=enabled)\n");
        rc = 2;
    } else if (rc == 0 && !c->interface == !c->dpdk) {
        fprintf(stderr, "geotap live: give either -i IFACE or --dpdk 'EAL ARGS'\nTry 'geotap live --help'.\n");
        rc = 2;
    } else if (rc == 0 && c->dpdk && (c->filter || c->user || cli_given(&p, "snaplen") ||
                                       cli_given(&p, "buffer") || c->workers != 1)) {
        fprintf(stderr, "geotap live: -f, -s, -B, -Z and --workers are for -i; with --dpdk use --queues\n");
        rc = 2;
    } else if (rc == 0) {
        rc = run(&p, &lv);
    }
    cli_reloader_free(&lv);
    cli_parsed_free(&p);
    return rc;
}
