/* geotap analyze: offline per-key traffic of capture files in time bins. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "geotap/clock.h"
#include "geotap/engine.h"
#include "geotap/output.h"
#include "geotap/parse.h"
#include "geotap/pcap_file.h"
#include "geotap/report.h"

#include <getopt.h>
#include <inttypes.h>
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
"  -o, --output FILE     write there instead of standard output\n"
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

static volatile sig_atomic_t stop_;

static void on_signal(int sig)
{
    (void)sig;
    stop_ = 1;
}

int cmd_analyze(int argc, char **argv)
{
    struct cli_cls_opts co;
    const char *bpf = NULL, *outpath = NULL, *by = "country", *fmt = NULL;
    long bin = 60;
    int bytes_l3 = 0, decap = 0, quiet = 0;
    cli_cls_opts_init(&co);

    enum { O_BY = 256, O_BIN, O_BYTES, O_DECAP, O_FORMAT, O_REPORT, O_CLS_BASE };
    static const struct option lo[] = {
        { "by", required_argument, 0, O_BY },
        { "bin", required_argument, 0, O_BIN },
        { "bytes", required_argument, 0, O_BYTES },
        { "decap", no_argument, 0, O_DECAP },
        { "filter", required_argument, 0, 'f' },
        { "format", required_argument, 0, O_FORMAT },
        { "output", required_argument, 0, 'o' },
        { "report", required_argument, 0, O_REPORT },
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

    /* Open every capture first, so a typo fails before any work. */
    int nfiles = argc - optind, status = 0;
    char err[1024];
    gt_pcap_file **files = calloc((size_t)nfiles, sizeof *files);
    if (!files)
        return 2;
    for (int i = 0; i < nfiles; i++) {
        files[i] = gt_pcap_file_open(argv[optind + i], bpf, err, sizeof err);
        if (!files[i]) {
            fprintf(stderr, "geotap analyze: %s\n", err);
            for (int j = 0; j < i; j++)
                gt_pcap_file_close(files[j]);
            free(files);
            return 2;
        }
    }

    struct cli_cls cls;
    if (cli_cls_build(&co, dims, co.events != NULL || co.report || format == GT_FMT_TABLE, &cls, "geotap analyze") != 0) {
        for (int j = 0; j < nfiles; j++)
            gt_pcap_file_close(files[j]);
        free(files);
        return 2;
    }

    FILE *out = stdout;
    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "geotap analyze: %s: cannot write: %m\n", outpath);
        status = 2;
        goto done_cls;
    }

    struct gt_output_opts oo = { (enum gt_format)format, out, &cls.keys, cls.c };
    struct gt_output *output = gt_output_new(&oo);
    struct cli_sinks sinks;
    memset(&sinks, 0, sizeof sinks);
    if (!output || cli_sinks_init(&sinks, &co, output, &cls, "geotap analyze", (enum gt_format)format, out) != 0) {
        status = 2;
        gt_output_free(output);
        goto done_out;
    }
    if (co.report && !(sinks.report = cli_report_new(&co, &cls, sinks.anomaly, co.report, (const char *const *)argv + optind, nfiles, err, sizeof err))) {
        fprintf(stderr, "geotap analyze: --report: %s\n", err);
        status = 2;
        goto done_sinks;
    }
    struct gt_engine_opts eo = {
        .parse_flags = decap ? GT_PARSE_DECAP : 0,
        .bytes_l3 = bytes_l3, .bin_seconds = (uint32_t)bin, .nworkers = 1,
        .on_bin = cli_sinks_bin, .ctx = &sinks, .inline_collect = 1,
    };
    cli_cls_engine_opts(&cls, &eo, NULL);
    gt_engine *eng = gt_engine_new(&eo);
    if (!eng) {
        fprintf(stderr, "geotap analyze: out of memory\n");
        status = 2;
        goto done_sinks;
    }
    struct gt_worker *w = gt_engine_worker(eng, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int tty = !quiet && isatty(STDERR_FILENO);
    double t0 = gt_mono_s(), next_progress = t0 + 1.0;
    uint64_t frames = 0;
    for (int i = 0; i < nfiles && !stop_; i++) {
        gt_pcap_file *f = files[i];
        int dlt = gt_pcap_file_dlt(f);
        if (!gt_parse_dlt_supported(dlt) && !quiet)
            fprintf(stderr, "geotap analyze: %s: link type %d is not supported; its frames count as non-IP\n",
                    argv[optind + i], dlt);
        int64_t ts;
        const uint8_t *data;
        uint32_t caplen, len;
        int rc;
        while ((rc = gt_pcap_file_next(f, &ts, &data, &caplen, &len)) == 1) {
            gt_worker_packet(w, dlt, ts, data, caplen, len);
            if (__builtin_expect((++frames & 0xffff) == 0, 0)) {
                if (stop_)
                    break;
                if (tty) {
                    double t = gt_mono_s();
                    if (t >= next_progress) {
                        uint64_t sz = gt_pcap_file_size(f);
                        fprintf(stderr, "\r%s: %" PRIu64 " frames", argv[optind + i], frames);
                        if (sz)
                            fprintf(stderr, " (%.0f%%)", 100.0 * (double)gt_pcap_file_offset(f) / (double)sz);
                        fprintf(stderr, "   ");
                        next_progress = t + 1.0;
                    }
                }
            }
        }
        if (rc < 0) {
            if (tty && next_progress > t0 + 1.0)
                fputc('\n', stderr);
            fprintf(stderr, "geotap analyze: %s\n", gt_pcap_file_error(f));
            status = 2;
        }
    }
    if (tty && next_progress > t0 + 1.0)
        fputs("\r\033[K", stderr);
    gt_worker_finish(w);
    gt_engine_finish(eng);
    double elapsed = gt_mono_s() - t0;
    if (cli_sinks_finish(&sinks) != 0) {
        fprintf(stderr, "geotap analyze: %s: write failed: %m\n", outpath ? outpath : "standard output");
        status = 2;
    }
    if (sinks.report && gt_report_finish(sinks.report, err, sizeof err) != 0) {
        fprintf(stderr, "geotap analyze: --report: %s\n", err);
        status = 2;
    }
    if (!quiet) {
        struct gt_bin_stats tot = gt_engine_totals(eng);
        cli_print_summary(stderr, &tot, &cls, gt_output_totals(output), elapsed, stop_ ? "interrupted" : NULL);
    }
    gt_engine_free(eng);
done_sinks:
    gt_report_free(sinks.report);
    cli_sinks_free(&sinks);
    gt_output_free(output);
done_out:
    if (out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap analyze: %s: write failed: %m\n", outpath);
        status = 2;
    }
done_cls:
    cli_cls_free(&cls);
    for (int j = 0; j < nfiles; j++)
        gt_pcap_file_close(files[j]);
    free(files);
    return status;
}
