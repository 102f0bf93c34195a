/* Replays a scenario of bench/gen_scenario through the library's pipeline,
 * for bench/anomaly_eval.sh and the anomaly tests. Writes the events as
 * JSON lines (--events FILE, default stdout) or readable lines (--text).
 *   --pcap FILE: the capture through the sensor (sensor.h) with the
 *     classification `geotap analyze --events` builds (every country of the
 *     database, the scenario's sensor network as home): its events are
 *     analyze's, byte for byte.
 *   --bins FILE: the scenario's own per-bin counts of its countries into
 *     the detector-and-sinks chain the sensor's bins go through (chain.h,
 *     as `geotap merge` feeds it); the budget is shared over the
 *     scenario's keys only (--budget-keys changes that), so thresholds
 *     differ from the pcap's by ln(1/alpha).
 *
 * usage: anomaly_replay --labels FILE (--bins FILE | --pcap FILE)
 *        [--events FILE] [--text] [--fa-per-day B] [--budget-keys K]
 *        [--country-db FILE] [--home-net CIDR]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geotap/anomaly.h"
#include "geotap/events.h"
#include "geotap/chain.h"
#include "geotap/sensor.h"

static void usage(void)
{
    fprintf(stderr, "usage: anomaly_replay --labels FILE (--bins FILE | --pcap FILE) [--events FILE] [--text]\n"
                    "       [--fa-per-day B] [--budget-keys K] [--country-db FILE] [--home-net CIDR]\n");
    exit(2);
}

static void notice(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "anomaly_replay: %s\n", msg);
}

static void summary(const gt_anomaly *a, const struct gt_keys *keys, uint32_t width)
{
    uint32_t ids[16];
    uint32_t nm = gt_anomaly_not_measurable(a, ids, 16);
    fprintf(stderr, "anomaly_replay: %u keys, bin %u s, threshold %.2f, %u not measurable:", keys->nkeys, width,
            gt_anomaly_threshold(a, width), nm);
    for (uint32_t i = 0; i < nm && i < 16; i++)
        fprintf(stderr, " %s", keys->keys[ids[i]].cc);
    fputc('\n', stderr);
}

/* The sensor over the pcap, configured as analyze --events is by default. */
static int run_pcap(const char *pcapf, const char *cdb, const char *home, uint32_t width, double fa,
                    FILE *out, int text)
{
    const char *files[1] = { pcapf };
    struct gt_sensor_config sc = {
        .files = files, .nfiles = 1, .bin_seconds = width, .detect = 1, .fa_per_day = fa,
        .setup = { .country_db = cdb, .home = { home }, .n_home = 1, .dims = GT_DIM_COUNTRY, .attribution = 1 },
        .notice = notice,
    };
    char err[1024];
    gt_sensor *s = gt_sensor_new(&sc, err, sizeof err);
    struct gt_sink sink;
    if (!s || gt_events_sink(&sink, out, 0, text, gt_sensor_keys(s), gt_sensor_classifier(s), "anomaly_replay") ||
        gt_sensor_add_sink(s, sink)) {
        fprintf(stderr, "anomaly_replay: %s\n", s ? "out of memory" : err);
        gt_sensor_free(s);
        return 2;
    }
    int rc = gt_sensor_run(s, err, sizeof err);
    if (rc != 0 && err[0])
        fprintf(stderr, "anomaly_replay: %s\n", err);
    summary(gt_sensor_anomaly(s), gt_sensor_keys(s), width);
    gt_sensor_free(s);
    return rc ? 2 : 0;
}

/* The counts file ("B start", then "K key count first last [starts idle_ms]"
 * per key with traffic) as bins into the chain; empty bins delivered too. */
static int run_bins(const char *binsf, const struct gt_keys *gk, uint32_t width, const struct gt_anomaly_opts *o,
                    FILE *out, int text)
{
    FILE *bf = fopen(binsf, "r");
    if (!bf) {
        fprintf(stderr, "anomaly_replay: cannot read %s\n", binsf);
        return 2;
    }
    uint32_t n = gk->nkeys;
    struct gt_counts *c = calloc(n, sizeof *c);
    int64_t *first = calloc(n, sizeof *first), *last = calloc(n, sizeof *last);
    gt_chain *ch = gt_chain_new(gk, 1, o);
    struct gt_sink sink;
    if (!c || !first || !last || !ch || gt_events_sink(&sink, out, 0, text, gk, NULL, "anomaly_replay") ||
        gt_chain_add_sink(ch, sink)) {
        fprintf(stderr, "anomaly_replay: out of memory\n");
        return 2;
    }
    struct gt_bin b = { .start = INT64_MIN, .width = width, .nkeys = n, .counts = c, .first_ns = first, .last_ns = last };
    char line[1024];
    long long start;
    unsigned key, st, idle;
    uint64_t cnt;
    int64_t f, l;
    while (fgets(line, sizeof line, bf)) {
        st = idle = 0;
        if (sscanf(line, "B %lld", &start) == 1) {
            int64_t t = start - ((start % width) + width) % width;
            if (b.start == INT64_MIN)
                b.start = t;
            while (b.start < t) {
                gt_chain_bin(ch, &b);
                memset(c, 0, n * sizeof *c);
                memset(first, 0, n * sizeof *first);
                memset(last, 0, n * sizeof *last);
                b.stats.packets = b.stats.ip = 0;
                b.start += width;
            }
        } else if (sscanf(line, "K %u %" SCNu64 " %" SCNd64 " %" SCNd64 " %u %u", &key, &cnt, &f, &l, &st, &idle) >= 4 &&
                   key < n) {
            c[key].pkts_from += cnt;
            c[key].starts += st;
            c[key].idle_ms += idle;
            first[key] = f;
            last[key] = l;
            b.stats.packets += cnt;
            b.stats.ip += cnt;
        }
    }
    fclose(bf);
    if (b.start != INT64_MIN)
        gt_chain_bin(ch, &b);
    char err[512];
    int rc = gt_chain_finish(ch, err, sizeof err);
    if (rc)
        fprintf(stderr, "anomaly_replay: %s\n", err);
    summary(gt_chain_anomaly(ch), gk, width);
    gt_chain_free(ch);
    free(c); free(first); free(last);
    return rc ? 2 : 0;
}

int main(int argc, char **argv)
{
    const char *labels = NULL, *binsf = NULL, *pcapf = NULL, *evf = NULL, *cdb = NULL;
    const char *home = "192.0.2.0/24";  /* gen_scenario's sensor network */
    int text = 0;
    struct gt_anomaly_opts o = { 0 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--text")) { text = 1; continue; }
        if (i + 1 >= argc)
            usage();
        const char *opt = argv[i], *v = argv[++i];
        if (!strcmp(opt, "--labels")) labels = v;
        else if (!strcmp(opt, "--bins")) binsf = v;
        else if (!strcmp(opt, "--pcap")) pcapf = v;
        else if (!strcmp(opt, "--events")) evf = v;
        else if (!strcmp(opt, "--country-db")) cdb = v;
        else if (!strcmp(opt, "--home-net")) home = v;
        else if (!strcmp(opt, "--fa-per-day")) o.fa_per_day = atof(v);
        else if (!strcmp(opt, "--budget-keys")) o.budget_keys = (uint32_t)atoi(v);
        else usage();
    }
    if (!labels || !!binsf == !!pcapf || (pcapf && o.budget_keys))
        usage();

    /* keys (for --bins) and bin width from the labels */
    FILE *lf = fopen(labels, "r");
    if (!lf) {
        fprintf(stderr, "anomaly_replay: cannot read %s\n", labels);
        return 2;
    }
    struct gt_keys gk = { .dims = GT_DIM_COUNTRY };
    struct gt_key *keys = NULL;
    uint32_t cap = 0, width = 60;
    char line[1024];
    while (fgets(line, sizeof line, lf)) {
        const char *p;
        if (strstr(line, "\"type\":\"scenario\"") && (p = strstr(line, "\"bin\":")))
            width = (uint32_t)atoi(p + 6);
        if (strstr(line, "\"type\":\"key\"") && (p = strstr(line, "\"country\":\""))) {
            if (gk.nkeys == cap) {
                cap = cap ? 2 * cap : 256;
                struct gt_key *nk = realloc(keys, cap * sizeof *nk);
                if (!nk) {
                    fprintf(stderr, "anomaly_replay: out of memory\n");
                    return 2;
                }
                keys = nk;
            }
            memset(&keys[gk.nkeys], 0, sizeof keys[gk.nkeys]);
            keys[gk.nkeys].cc[0] = p[11];
            keys[gk.nkeys].cc[1] = p[12];
            gk.nkeys++;
        }
    }
    fclose(lf);
    gk.keys = keys;
    if (!gk.nkeys || !width) {
        fprintf(stderr, "anomaly_replay: %s: no keys or bin width\n", labels);
        return 2;
    }
    FILE *out = stdout;
    if (evf && strcmp(evf, "-") && !(out = fopen(evf, "w"))) {
        fprintf(stderr, "anomaly_replay: cannot write %s\n", evf);
        return 2;
    }
    int rc = pcapf ? run_pcap(pcapf, cdb, home, width, o.fa_per_day, out, text)
                   : run_bins(binsf, &gk, width, &o, out, text);
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "anomaly_replay: %s: write failed\n", evf);
        rc = 2;
    }
    free(keys);
    return rc;
}
