/* geotap analyze: offline per-key traffic of capture files in time bins. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "cli/cli_service.h"
#include "geotap/clock.h"
#include "geotap/output.h"
#include "geotap/parse.h"
#include "geotap/sensor.h"

#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: geotap analyze [options] FILE...\n"
"\n"
"Read pcap or pcapng files (in order, as one capture; '-' is standard input),\n"
"classify each packet's source and destination address by country and\n"
"autonomous system, and count packets and bytes per key in time bins.\n"
"\n"
"Counting:\n"
"  --by KEYS             country (default), asn, upstream, or a comma list of them\n"
"                        (e.g. country,asn)\n"
"  --bin SECONDS         bin width, aligned to the epoch, in packet time (default 60);\n"
"                        0 = one bin for the whole capture\n"
"  --bytes frame|l3      count frame length as captured on the wire (default, as\n"
"                        tcpdump and Wireshark) or the IP-layer length (as pmacct)\n"
"  --decap               count the innermost IP header of GRE, IP-in-IP, GTP-U and\n"
"                        VXLAN tunnels instead of the outer one\n"
"  -f, --filter EXPR     only frames matching the BPF expression EXPR\n"
"  --workers N           threads for one capture (default 1; 0 = every CPU it may\n"
"                        run on): one reads and counts, the others classify;\n"
"                        the output is the same for every N\n"
"\n"
"Classification:\n"
"  --country-db FILE     MaxMind DB with country.iso_code (default: the cached\n"
"                        GeoLite2-Country.mmdb, see scripts/setup)\n"
"  --asn-db FILE         ASN source: a MaxMind ASN .mmdb or a CSV of\n"
"                        range_start,range_end,asn,organization; repeatable\n"
"                        (default: the cached @ip-location-db/asn CSVs)\n"
"  --home-net CIDR       local network, counted as 'home', not looked up; repeatable\n"
CLI_UPSTREAM_USAGE
"\n"
"Output:\n"
"  --format FMT          table (default on a terminal), csv (default otherwise) or\n"
"                        jsonl. csv/jsonl: one row per bin and key with time (RFC 3339\n"
"                        UTC bin start), the key columns, packets_from, bytes_from,\n"
"                        packets_to, bytes_to. A key seen before stays in later bins,\n"
"                        with zeros when silent.\n"
"  -o, --output FILE     write there instead of standard output. A FILE with '%'\n"
"                        is a strftime pattern of each bin's UTC start (also for\n"
"                        --events), e.g. out/%Y%m%d/traffic-%H.csv: one file per\n"
"                        name, appended to, directories created\n"
"  --report FILE.html    also write an HTML report: one self-contained page (opens\n"
"                        from disk, no network) with a world map, per-key charts\n"
"                        with outages shaded, and the event and key tables\n"
CLI_EVENTS_USAGE
"  -q, --quiet           no summary or progress on standard error\n"
"  -h, --help            this text\n"
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

int cmd_analyze(int argc, char **argv)
{
    struct cli_cls_opts co;
    const char *bpf = NULL, *outpath = NULL, *by = "country", *fmt = NULL;
    long bin = 60;
    int bytes_l3 = 0, decap = 0, quiet = 0;
    cli_cls_opts_init(&co);

    long workers = 1;
    enum { O_BY = 256, O_BIN, O_BYTES, O_DECAP, O_FORMAT, O_REPORT, O_WORKERS, O_CLS_BASE };
    static const struct option lo[] = {
        { "by", required_argument, 0, O_BY },
        { "bin", required_argument, 0, O_BIN },
        { "bytes", required_argument, 0, O_BYTES },
        { "decap", no_argument, 0, O_DECAP },
        { "filter", required_argument, 0, 'f' },
        { "format", required_argument, 0, O_FORMAT },
        { "output", required_argument, 0, 'o' },
        { "report", required_argument, 0, O_REPORT },
        { "workers", required_argument, 0, O_WORKERS },
        { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' },
        CLI_CLS_LONGOPTS,
        { 0, 0, 0, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:qh", lo, NULL)) != -1) {
        switch (c) {
        case O_BY: by = optarg; break;
        case O_BIN: {
            char *end;
            bin = strtol(optarg, &end, 10);
            if (*end || end == optarg || bin < 0 || bin > 31 * 86400L) {
                fprintf(stderr, "geotap analyze: --bin '%s': want whole seconds from 0 to 2678400\n", optarg);
                return 2;
            }
            break;
        }
        case O_BYTES:
            if (!strcmp(optarg, "l3")) bytes_l3 = 1;
            else if (!strcmp(optarg, "frame")) bytes_l3 = 0;
            else {
                fprintf(stderr, "geotap analyze: --bytes '%s': want frame or l3\n", optarg);
                return 2;
            }
            break;
        case O_DECAP: decap = 1; break;
        case O_WORKERS: {
            char *end;
            workers = strtol(optarg, &end, 10);
            if (*end || end == optarg || workers < 0 || workers > 64) {
                fprintf(stderr, "geotap analyze: --workers '%s': want a number from 0 to 64\n", optarg);
                return 2;
            }
            if (workers == 0) {
                cpu_set_t cs;
                workers = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : 1;
            }
            break;
        }
        case 'f': bpf = optarg; break;
        case O_FORMAT: fmt = optarg; break;
        case 'o': outpath = optarg; break;
        case O_REPORT: co.report = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            if (cli_cls_opt(&co, c, optarg) == 0)
                break;
            fprintf(stderr, "Try 'geotap analyze --help'.\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "geotap analyze: no capture file given (use '-' for standard input)\nTry 'geotap analyze --help'.\n");
        return 2;
    }
    unsigned dims;
    int format;
    if (cli_parse_by_format("geotap analyze", by, fmt, outpath, &dims, &format) != 0)
        return 2;
    co.so.dims = dims;
    /* The detector runs for the events, the table's event list, the report
     * and a kept state; finer keys for its attribution when they show. */
    int detect = co.events != NULL || format == GT_FMT_TABLE || co.report || co.state;
    co.so.attribution = co.events != NULL || co.report || format == GT_FMT_TABLE;

    char err[1024];
    struct gt_sensor_config sc = {
        .files = (const char *const *)argv + optind, .nfiles = (unsigned)(argc - optind), .bpf = bpf,
        .setup = co.so, .parse_flags = decap ? GT_PARSE_DECAP : 0, .bytes_l3 = bytes_l3,
        .bin_seconds = (uint32_t)bin, .detect = detect, .file_threads = (unsigned)workers,
        .fa_per_day = co.fa_per_day, .state = co.state, .notice = notice, .progress = progress, .ctx = &quiet,
    };
    gt_sensor *s = gt_sensor_new(&sc, err, sizeof err);
    if (!s) {
        cli_setup_error("geotap analyze", &co, err);
        return 2;
    }
    int status = 0;
    struct gt_output *output = NULL;
    FILE *out = stdout;
    /* strftime names (a '%'): files per bin time, appended (cli_service.h) */
    unsigned rotate = (cli_is_pattern(outpath) ? CLI_ROTATE_OUTPUT : 0) |
                      (cli_is_pattern(co.events) ? CLI_ROTATE_EVENTS : 0);
    if (outpath && !(rotate & CLI_ROTATE_OUTPUT) && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "geotap analyze: %s: cannot write: %m\n", outpath);
        gt_sensor_free(s);
        return 2;
    }
    if (cli_add_sinks(s, &co, out, outpath, format, "geotap analyze", rotate, -1, &output) != 0) {
        status = 2;
        goto done;
    }
    if (co.report && !cli_add_report(s, &co, co.report, (const char *const *)argv + optind, argc - optind,
                                     err, sizeof err)) {
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
        fprintf(stderr, "geotap analyze: %s: write failed: %m\n", outpath);
        status = 2;
    }
    return status;
}
