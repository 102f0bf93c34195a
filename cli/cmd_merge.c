/* geotap merge: per-bin outputs of many analyze runs or sensors summed into
 * one series, optionally with the detector run over the merged bins. */
#include "cli/commands.h"
#include "geotap/events.h"
#include "geotap/chain.h"
#include "geotap/fleet.h"
#include "geotap/output.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
"usage: geotap merge [options] FILE...\n"
"\n"
"Sum the per-bin csv or jsonl outputs (-o of analyze or live) of many runs\n"
"into one series: same key columns and bin width in every file; the rows of a\n"
"key in one bin are added. Parts of a bin from different files are joined as\n"
"one capture when they do not overlap in time (a capture split into files:\n"
"the silences across a cut count as in one run), as parallel captures\n"
"otherwise (sensors). With --events the outage detector runs over the merged\n"
"bins: for a capture split into files, the events of one analyze over all.\n"
"\n"
"  --events FILE         write the detector's events as JSON lines ('-' = standard output)\n"
"  --fa-budget N         false alarms per day across all keys (default 0.01)\n"
"  --format FMT          csv (default) or jsonl\n"
"  -o, --output FILE     write the merged bins there instead of standard output\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 on success, 2 on a usage error or a file that cannot be merged\n"
"(one line naming the file and line: another bin width or key columns than the\n"
"files before, a bad row, an output of an older geotap without the merge columns).\n";

int cmd_merge(int argc, char **argv)
{
    const char *outpath = NULL, *events = NULL, *fmt = "csv";
    double fa = 0;
    enum { O_EVENTS = 256, O_FORMAT, O_FA };
    static const struct option lo[] = {
        { "events", required_argument, 0, O_EVENTS },
        { "format", required_argument, 0, O_FORMAT },
        { "fa-budget", required_argument, 0, O_FA },
        { "output", required_argument, 0, 'o' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case O_EVENTS: events = optarg; break;
        case O_FORMAT: fmt = optarg; break;
        case O_FA: {
            char *end;
            fa = strtod(optarg, &end);
            if (*end || end == optarg || !(fa > 0)) {
                fprintf(stderr, "geotap merge: --fa-budget '%s': want a positive number\n", optarg);
                return 2;
            }
            break;
        }
        case 'o': outpath = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            fprintf(stderr, "Try 'geotap merge --help'.\n");
            return 2;
        }
    }
    int format = gt_format_parse(fmt);
    if (format != GT_FMT_CSV && format != GT_FMT_JSONL) {
        fprintf(stderr, "geotap merge: --format '%s': want csv or jsonl\n", fmt);
        return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "geotap merge: no file given\nTry 'geotap merge --help'.\n");
        return 2;
    }
    char err[1024];
    gt_merge *m = gt_merge_new();
    if (!m) {
        fprintf(stderr, "geotap merge: out of memory\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (gt_merge_add_file(m, argv[i], err, sizeof err) != 0) {
            fprintf(stderr, "geotap merge: %s\n", err);
            gt_merge_free(m);
            return 2;
        }
    int status = 0;
    FILE *out = stdout, *ev = NULL;
    struct gt_output *output = NULL;
    gt_chain *ch = NULL;
    const struct gt_keys *keys = gt_merge_keys(m);
    struct gt_anomaly_opts ao = { .fa_per_day = fa, .budget_keys = gt_merge_budget_keys(m) };
    struct gt_sink sk;
    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "geotap merge: %s: cannot write: %s\n", outpath, strerror(errno));
        gt_merge_free(m);
        return 2;
    }
    if (events && strcmp(events, "-") && !(ev = fopen(events, "w"))) {
        fprintf(stderr, "geotap merge: %s: cannot write events: %s\n", events, strerror(errno));
        status = 2;
        goto done;
    }
    if (events && !ev)
        ev = stdout;
    struct gt_output_opts oo = { (enum gt_format)format, out, keys, NULL };
    if (!(ch = gt_chain_new(keys, events != NULL, &ao)) || !(output = gt_output_new(&oo)) ||
        gt_output_sink(&sk, output, outpath ? outpath : "standard output") != 0 || gt_chain_add_sink(ch, sk) != 0)
        goto oom;
    if (ev) {
        if (gt_events_sink(&sk, ev, ev != stdout, 0, keys, NULL, events) != 0)
            goto oom;
        ev = NULL;              /* the sink closes it */
        if (gt_chain_add_sink(ch, sk) != 0) {
            sk.free(sk.self);
            goto oom;
        }
    }
    if (gt_merge_emit(m, gt_chain_bin, ch) != 0)
        goto oom;
    if (gt_chain_finish(ch, err, sizeof err) != 0) {
        fprintf(stderr, "geotap merge: %s\n", err);
        status = 2;
    }
    goto done;
oom:
    fprintf(stderr, "geotap merge: out of memory\n");
    status = 2;
done:
    gt_chain_free(ch);
    gt_output_free(output);
    gt_merge_free(m);
    if (ev && ev != stdout)
        fclose(ev);
    if (out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap merge: %s: write failed: %s\n", outpath, strerror(errno));
        status = 2;
    }
    return status;
}
