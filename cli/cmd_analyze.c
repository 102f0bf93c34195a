/* geotap analyze: offline per-key traffic of capture files in time bins. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "cli/options.h"
#include "cli/cli_service.h"
#include "geotap/clock.h"
#include "geotap/output.h"
#include "geotap/parse.h"
#include "geotap/sensor.h"

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char head[] =
"usage: geotap analyze [options] FILE...\n"
"\n"
"Read pcap or pcapng files (in order, as one capture; '-' is standard input),\n"
"classify each packet's source and destination address by country and\n"
"autonomous system, and count packets and bytes per key in time bins.\n";
static const char tail[] =
"\n"
"Unknown addresses count as country ZZ and AS 0. A summary goes to standard\n"
"error at the end. Exit status: 0 on success, 2 on a usage error, an unreadable\n"
"database or file, or a corrupt capture (what was read is still counted and\n"
"written).\n";

static gt_sensor *sensor_;          /* for the signal handler */
static volatile sig_atomic_t stopped_;

static void on_signal(int sig)
{
    (void)sig;
    stopped_ = 1;
    if (sensor_)
        gt_sensor_stop(sensor_);
}

static void notice(void *ctx, const char *msg)
{
    int *quiet_warn = ctx;
    /* Unsupported link types are warnings (-q hides them); file errors not. */
    if (*quiet_warn && strstr(msg, "is not supported"))
        return;
    fprintf(stderr, "geotap analyze: %s\n", msg);
}

struct progress { int tty; double t0, next; };
static struct progress prog_;

static void progress(void *ctx, gt_sensor *s)
{
    (void)ctx;
    double t = gt_mono_s();
    if (!prog_.tty || t < prog_.next)
        return;
    struct gt_sensor_stats st;
    unsigned file;
    uint64_t off, sz;
    gt_sensor_stats(s, &st);
    gt_sensor_position(s, &file, &off, &sz);
    fprintf(stderr, "\r%s: %" PRIu64 " frames", gt_sensor_source_name(s), st.worker_frames[0]);
    if (sz)
        fprintf(stderr, " (%.0f%%)", 100.0 * (double)off / (double)sz);
    fprintf(stderr, "   ");
    prog_.next = t + 1.0;
}

static int analyze(const struct cli_parsed *p, char **files, int nfiles);

/* --workers 0: every CPU this process may run on. */
static unsigned file_threads(long long n)
{
    cpu_set_t cs;
    if (n == 0)
        n = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : 1;
    return (unsigned)n;
}

int cmd_analyze(int argc, char **argv)
{
    struct cli_parsed p;
    int first, rc = cli_parse(&p, CMD_ANALYZE, "geotap analyze", head, tail, argc, argv, &first);
    if (rc == 0 && first >= argc && !p.v.check) {
        fprintf(stderr, "geotap analyze: no capture file given (use '-' for standard input)\n"
                        "Try 'geotap analyze --help'.\n");
        rc = 2;
    } else if (rc == 0) {
        rc = analyze(&p, argv + first, argc - first);
    }
    cli_parsed_free(&p);
    return rc == 1 ? 0 : rc;
}

static int analyze(const struct cli_parsed *p, char **files, int nfiles)
{
    const struct cli_config *c = &p->v;
    unsigned dims;
    int format, quiet = c->quiet;
    cli_dims_format(c, &dims, &format);
    /* The detector runs for the events, the table's event list, the report
     * and a kept state; finer keys for its attribution when they show. */
    int detect = c->events || format == GT_FMT_TABLE || c->report || c->state;
    struct gt_setup_opts so = { .dims = dims, .attribution = c->events || c->report || format == GT_FMT_TABLE };
    cli_config_setup(c, &so);
    char err[1024];
    if (c->check)
        return cli_check(p, &so);
    struct gt_sensor_config sc = {
        .files = (const char *const *)files, .nfiles = (unsigned)nfiles, .bpf = c->filter,
        .setup = so, .parse_flags = c->decap ? GT_PARSE_DECAP : 0, .bytes_l3 = !strcmp(c->bytes, "l3"),
        .bin_seconds = (uint32_t)c->bin, .detect = detect, .file_threads = file_threads(c->workers),
        .fa_per_day = c->fa_budget, .state = c->state, .notice = notice, .progress = progress, .ctx = &quiet,
    };
    gt_sensor *s = gt_sensor_new(&sc, err, sizeof err);
    if (!s) {
        cli_setup_error(p->prog, c, err);
        return 2;
    }
    int status = 0;
    struct gt_output *output = NULL;
    FILE *out = stdout;
    /* strftime names (a '%'): files per bin time, appended (cli_service.h) */
    unsigned rotate = (cli_is_pattern(c->output) ? CLI_ROTATE_OUTPUT : 0) |
                      (cli_is_pattern(c->events) ? CLI_ROTATE_EVENTS : 0);
    if (c->output && !(rotate & CLI_ROTATE_OUTPUT) && !(out = fopen(c->output, "w"))) {
        fprintf(stderr, "geotap analyze: %s: cannot write: %m\n", c->output);
        gt_sensor_free(s);
        return 2;
    }
    if (cli_add_sinks(s, c, out, format, "geotap analyze", rotate, -1, &output) != 0) {
        status = 2;
        goto done;
    }
    if (c->report && !cli_add_report(s, &so, c->report, (const char *const *)files, nfiles, err, sizeof err)) {
        fprintf(stderr, "geotap analyze: --report: %s\n", err);
        status = 2;
        goto done;
    }
    sensor_ = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    prog_ = (struct progress){ !quiet && isatty(STDERR_FILENO), gt_mono_s(), gt_mono_s() + 1.0 };
    double t0 = prog_.t0;
    int rc = gt_sensor_run(s, err, sizeof err);
    if (prog_.tty && prog_.next > t0 + 1.0)
        fputs("\r\033[K", stderr);
    double elapsed = gt_mono_s() - t0;
    if (rc != 0) {
        if (err[0])
            fprintf(stderr, "geotap analyze: %s\n", err);
        status = 2;
    }
    if (!quiet) {
        struct gt_sensor_stats st;
        gt_sensor_stats(s, &st);
        cli_print_summary(stderr, &st.totals, gt_sensor_keys(s), gt_output_totals(output), elapsed,
                          stopped_ ? "interrupted" : NULL);
    }
done:
    sensor_ = NULL;
    gt_sensor_free(s);
    gt_output_free(output);
    if (out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap analyze: %s: write failed: %m\n", c->output);
        status = 2;
    }
    return status;
}
