/* geotap merge: per-bin outputs of many analyze runs or sensors summed into
 * one series, optionally with the detector run over the merged bins. */
#include "cli/commands.h"
#include "cli/options.h"
#include "geotap/events.h"
#include "geotap/chain.h"
#include "geotap/fleet.h"
#include "geotap/output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int merge(const struct cli_config *c, char **files, int nfiles)
{
    const char *outpath = c->output, *events = c->events;
    int format = gt_format_parse(c->format);
    char err[1024];
    gt_merge *m = gt_merge_new();
    if (!m) {
        fprintf(stderr, "geotap merge: out of memory\n");
        return 2;
    }
    for (int i = 0; i < nfiles; i++)
        if (gt_merge_add_file(m, files[i], err, sizeof err) != 0) {
            fprintf(stderr, "geotap merge: %s\n", err);
            gt_merge_free(m);
            return 2;
        }
    int status = 0;
    FILE *out = stdout, *ev = NULL;
    struct gt_output *output = NULL;
    gt_chain *ch = NULL;
    const struct gt_keys *keys = gt_merge_keys(m);
    struct gt_anomaly_opts ao = { .fa_per_day = c->fa_budget, .budget_keys = gt_merge_budget_keys(m) };
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

static const char head[] =
"usage: geotap merge [options] FILE...\n"
"\n"
"Sum the per-bin csv or jsonl outputs (-o of analyze or live) of many runs\n"
"into one series: same key columns and bin width in every file; the rows of a\n"
"key in one bin are added. Parts of a bin from different files are joined as\n"
"one capture when they do not overlap in time (a capture split into files:\n"
"the silences across a cut count as in one run), as parallel captures\n"
"otherwise (sensors). With --events the outage detector runs over the merged\n"
"bins: for a capture split into files, the events of one analyze over all.\n";
static const char tail[] =
"\n"
"Exit status: 0 on success, 2 on a usage error or a file that cannot be merged\n"
"(one line naming the file and line: another bin width or key columns than the\n"
"files before, a bad row, an output of an older geotap without the merge columns).\n";

int cmd_merge(int argc, char **argv)
{
    struct cli_parsed p;
    int first, rc = cli_parse(&p, CMD_MERGE, "geotap merge", head, tail, argc, argv, &first);
    if (rc == 0 && first >= argc) {
        fprintf(stderr, "geotap merge: no file given\nTry 'geotap merge --help'.\n");
        rc = 2;
    }
    if (rc == 0)
        rc = merge(&p.v, argv + first, argc - first);
    cli_parsed_free(&p);
    return rc == 1 ? 0 : rc;
}
