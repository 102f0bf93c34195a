/* Shared option handling, the choice of sinks and the summary. */
#include "cli/cli_common.h"
#include "cli/cli_service.h"
#include "geotap/datadir.h"
#include "geotap/events.h"
#include "geotap/report.h"

#include <errno.h>

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_dims_format(const struct cli_config *c, unsigned *dims, int *format)
{
    *dims = gt_dims_parse(c->by);
    if (c->format)
        *format = gt_format_parse(c->format);
    else
        *format = (!c->output && isatty(STDOUT_FILENO)) ? GT_FMT_TABLE : GT_FMT_CSV;
}

void cli_setup_error(const char *prog, const struct cli_config *c, const char *err)
{
    fprintf(stderr, "%s: %s\n", prog, err);
    const char *db = c->country_db ? c->country_db : gt_default_country_db();
    if (!c->country_db && access(db, R_OK) != 0)
        fprintf(stderr, "%s: (the default databases are fetched by scripts/setup)\n", prog);
}

void cli_on_signals(void (*fn)(int), const int *sigs)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    for (; *sigs; sigs++)
        sigaction(*sigs, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cli_check(const struct cli_parsed *p, const struct gt_setup_opts *so)
{
    struct gt_setup st;
    char err[1024];
    if (gt_setup_build(so, &st, err, sizeof err) != 0) {
        cli_setup_error(p->prog, &p->v, err);
        return 2;
    }
    gt_setup_free(&st);
    cli_print_config(stdout, p);
    return 0;
}

int cli_add_sinks(gt_sensor *s, const struct cli_config *o, FILE *out, int format, const char *prog,
                  unsigned rotate, int64_t preopen, struct gt_output **output)
{
    const char *outpath = o->output;
    const struct gt_keys *keys = gt_sensor_keys(s);
    const gt_classifier *cls = gt_sensor_classifier(s);
    struct gt_output_opts oo = { (enum gt_format)format, out, keys, cls };
    struct gt_sink sk;
    FILE *ev = NULL;
    char err[600];
    *output = gt_output_new(&oo);
    if (!*output)
        goto oom;
    if (outpath && (rotate & CLI_ROTATE_OUTPUT)) {
        if (format == GT_FMT_TABLE) {
            fprintf(stderr, "%s: -o %s: rotating files are written as csv or jsonl, not table\n", prog, outpath);
            return -1;
        }
        if (cli_rotating_output(s, *output, outpath, preopen, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
    } else if (gt_output_sink(&sk, *output, outpath ? outpath : "standard output") != 0 ||
               gt_sensor_add_sink(s, sk) != 0) {
        goto oom;
    }
    if (o->events && strcmp(o->events, "-") && (rotate & CLI_ROTATE_EVENTS)) {
        if (cli_rotating_events(s, o->events, preopen, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
    } else if (o->events) {
        if (!strcmp(o->events, "-")) {
            ev = stdout;
        } else if (!(ev = fopen(o->events, "w"))) {
            fprintf(stderr, "%s: %s: cannot write events: %s\n", prog, o->events, strerror(errno));
            return -1;
        }
        if (gt_events_sink(&sk, ev, ev != stdout, 0, keys, cls, o->events) != 0) {
            if (ev != stdout)
                fclose(ev);
            goto oom;
        }
        if (gt_sensor_add_sink(s, sk) != 0) {
            sk.free(sk.self);
            goto oom;
        }
    }
    if (format == GT_FMT_TABLE) {
        if (gt_events_sink(&sk, out, 0, 1, keys, cls, outpath ? outpath : "standard output") != 0)
            goto oom;
        if (gt_sensor_add_sink(s, sk) != 0) {
            sk.free(sk.self);
            goto oom;
        }
    }
    return 0;
oom:
    fprintf(stderr, "%s: out of memory\n", prog);
    return -1;
}

static void report_bin(void *self, const struct gt_bin *b)
{
    gt_report_bin(self, b);
}

static void report_event(void *self, const struct gt_event *ev)
{
    gt_report_event(self, ev);
}

static int report_finish(void *self, char *err, size_t errlen)
{
    char e[512];
    if (gt_report_finish(self, e, sizeof e) == 0)
        return 0;
    snprintf(err, errlen, "--report: %s", e);
    return -1;
}

static void report_free(void *self)
{
    gt_report_free(self);
}

struct gt_report *cli_add_report(gt_sensor *s, const struct gt_setup_opts *so, const char *path,
                                 const char *const *files, int nfiles, char *err, size_t errlen)
{
    const char *dbs[2 * GT_SETUP_MAX_LIST + 4];
    int n = 0;
    dbs[n++] = so->country_db ? so->country_db : gt_default_country_db();
    if (!so->n_asn) {
        dbs[n++] = gt_default_asn_v4();
        dbs[n++] = gt_default_asn_v6();
    }
    for (int i = 0; i < so->n_asn; i++)
        dbs[n++] = so->asn_dbs[i];
    for (int i = 0; i < so->n_routes; i++)
        dbs[n++] = so->routes[i];
    if (so->upstream_map)
        dbs[n++] = so->upstream_map;
    struct gt_report_opts ro = {
        .path = path, .cls = gt_sensor_classifier(s), .anomaly = gt_sensor_anomaly(s),
        .files = files, .nfiles = nfiles, .dbs = dbs, .ndbs = n,
    };
    struct gt_report *r = gt_report_new(&ro, gt_sensor_keys(s), err, errlen);
    if (!r)
        return NULL;
    struct gt_sink sk = { "report", r, report_bin, report_event, report_finish, report_free, 1 };
    if (gt_sensor_add_sink(s, sk) != 0) {
        gt_report_free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return r;
}

static void span(char *buf, size_t len, const struct gt_bin_stats *t)
{
    char a[GT_TIME_LEN], b[GT_TIME_LEN];
    if (!t->first_ns) {
        snprintf(buf, len, "none");
        return;
    }
    gt_time_format_ns(a, sizeof a, t->first_ns, GT_TIME_S);
    gt_time_format_ns(b, sizeof b, t->last_ns, GT_TIME_S);
    snprintf(buf, len, "%s .. %s (%.3f s)", a, b, (double)(t->last_ns - t->first_ns) / 1e9);
}

void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct gt_keys *keys,
                       const struct gt_counts *key_totals, double elapsed, const char *note)
{
    uint64_t unknown = 0, addrs = 0;
    char sp[128];
    for (uint32_t k = 0; k < keys->nkeys; k++) {
        const struct gt_key *key = &keys->keys[k];
        uint64_t n = key_totals[k].pkts_from + key_totals[k].pkts_to;
        addrs += n;
        if (!key->home && (keys->dims & GT_DIM_COUNTRY ? key->cc[0] == 'Z' && key->cc[1] == 'Z'
                                                            : key->asn == 0))
            unknown += n;
    }
    span(sp, sizeof sp, tot);
    fprintf(f, "geotap: %" PRIu64 " frames (%" PRIu64 " bytes): %" PRIu64 " IP, %" PRIu64 " non-IP, %"
               PRIu64 " truncated, %" PRIu64 " malformed",
            tot->packets, tot->bytes, tot->ip, tot->nonip, tot->truncated, tot->malformed);
    if (tot->drops)
        fprintf(f, ", %" PRIu64 " dropped by the capture", tot->drops);
    if (tot->bad_time)
        fprintf(f, "\ngeotap: %" PRIu64 " frames with an unrepresentable timestamp, counted in the open bin",
                tot->bad_time);
    if (tot->clock_jumps)
        fprintf(f, "\ngeotap: %" PRIu64 " frames more than max(1 h, 4 bins) from the capture's recent time "
                   "(clock jumps), counted in the open bin and left out of the time span", tot->clock_jumps);
    if (tot->gap_skipped)
        fprintf(f, "\ngeotap: warning: %" PRIu64 " empty bins of long silences not written (zero rows bounded "
                   "by the output; the first empty bins of each gap are)", tot->gap_skipped);
    fprintf(f, "\ngeotap: unknown %s: %.2f%% of addresses; time span %s\n",
            keys->dims & GT_DIM_COUNTRY ? "country" : "AS", addrs ? 100.0 * (double)unknown / (double)addrs : 0.0, sp);
    fprintf(f, "geotap: %.3f s elapsed, %.0f frames/s%s%s\n", elapsed,
            elapsed > 0 ? (double)tot->packets / elapsed : 0.0, note ? "; " : "", note ? note : "");
}

void cli_live_summary(FILE *f, const struct gt_sensor_stats *st, unsigned nworkers, int iface, int alerts)
{
    fprintf(f, "geotap live: frames per worker:");
    for (unsigned i = 0; i < nworkers && i < GT_SENSOR_MAX_WORKERS; i++)
        fprintf(f, " %" PRIu64, st->worker_frames[i]);
    fputc('\n', f);
    if (iface)
        fprintf(f, "geotap live: drops: %" PRIu64 " by the kernel, %" PRIu64 " by the interface\n",
                st->drops[0], st->drops[1]);
    else
        fprintf(f, "geotap live: drops: %" PRIu64 " by the NIC (missed, errors, no mbuf)\n", st->drops[1]);
    if (st->reloads || st->reloads_failed)
        fprintf(f, "geotap live: reloads: %" PRIu64 " ok, %" PRIu64 " failed\n", st->reloads, st->reloads_failed);
    if (alerts)
        fprintf(f, "geotap live: alerts: %" PRIu64 " queued, %" PRIu64 " posts sent, %" PRIu64
                " failed (retried), %" PRIu64 " dropped\n", st->alerts_queued, st->alerts_sent, st->alerts_failed,
                st->alerts_dropped);
    if (st->output_errors || st->output_lost)
        fprintf(f, "geotap live: output files: %" PRIu64 " errors, %" PRIu64 " bins or events lost\n",
                st->output_errors, st->output_lost);
}
