/* Drives the anomaly module over a scenario of bench/gen_scenario, until
 * `geotap analyze --events` does: either from the scenario's own per-bin
 * counts (--bins) or by reading its pcap (--pcap), classifying both
 * addresses of every frame with the compiled classifier and counting bins
 * itself. Writes the events as JSON lines (--events FILE, default stdout).
 *
 * usage: anomaly_replay --labels FILE (--bins FILE | --pcap FILE)
 *        [--events FILE] [--text] [--fa-per-day B] [--budget-keys K] [--country-db FILE]
 *        [--upstream CC=CC2]
 *
 * --upstream KP=CN: attribution input as the CLI would pass it: KP's
 * upstream carries KP's and CN's traffic (the per-bin upstream total is the
 * sum of both keys' packets).
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geotap/datadir.h"
#include "geotap/anomaly.h"
#include "geotap/classifier.h"
#include "geotap/events.h"
#include "geotap/geodata.h"

#define NS 1000000000LL

struct counter {
    uint32_t n, width;
    int32_t up_key, up_other;   /* --upstream: key, and the key sharing its upstream; -1 = none */
    int64_t bin;                /* current bin start (s), INT64_MIN before the first */
    struct gt_counts *c;
    int64_t *first, *last;
    uint64_t packets;
    gt_anomaly *a;
};

static void flush_bin(struct counter *k)
{
    struct gt_bin b = { .start = k->bin, .width = k->width, .nkeys = k->n, .counts = k->c,
                        .first_ns = k->first, .last_ns = k->last };
    b.stats.packets = b.stats.ip = k->packets;
    if (k->up_key >= 0) {
        const struct gt_counts *x = &k->c[k->up_key], *y = &k->c[k->up_other];
        uint64_t up[2] = { 0, x->pkts_from + x->pkts_to + y->pkts_from + y->pkts_to };
        gt_anomaly_upstream_counts(k->a, up, 2);
    }
    gt_anomaly_bin(k->a, &b);
    memset(k->c, 0, k->n * sizeof *k->c);
    memset(k->first, 0, k->n * sizeof *k->first);
    memset(k->last, 0, k->n * sizeof *k->last);
    k->packets = 0;
}

/* Close bins up to the one holding time t (s); empty bins are delivered too. */
static void advance(struct counter *k, int64_t t)
{
    int64_t b = t - ((t % k->width) + k->width) % k->width;
    if (k->bin == INT64_MIN)
        k->bin = b;
    while (k->bin < b) {
        flush_bin(k);
        k->bin += k->width;
    }
}

static void add(struct counter *k, uint32_t key, int from, int64_t tns)
{
    if (from)
        k->c[key].pkts_from++;
    else
        k->c[key].pkts_to++;
    if (!k->first[key])
        k->first[key] = tns;
    else
        gt_counts_gap(&k->c[key], k->last[key], tns);
    k->last[key] = tns;
}

static void usage(void)
{
    fprintf(stderr, "usage: anomaly_replay --labels FILE (--bins FILE | --pcap FILE) [--events FILE] [--text]\n"
                    "       [--fa-per-day B] [--budget-keys K] [--country-db FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *labels = NULL, *binsf = NULL, *pcapf = NULL, *evf = NULL, *cdb = NULL, *ups = NULL;
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
        else if (!strcmp(opt, "--fa-per-day")) o.fa_per_day = atof(v);
        else if (!strcmp(opt, "--budget-keys")) o.budget_keys = (uint32_t)atoi(v);
        else if (!strcmp(opt, "--upstream")) ups = v;
        else usage();
    }
    if (!labels || !!binsf == !!pcapf)
        usage();

    /* keys and bin width from the labels */
    FILE *lf = fopen(labels, "r");
    if (!lf) {
        fprintf(stderr, "anomaly_replay: cannot read %s\n", labels);
        return 2;
    }
    struct gt_key *keys = NULL;
    uint32_t n = 0, cap = 0, width = 60;
    static int32_t cc2key[65536];
    memset(cc2key, -1, sizeof cc2key);
    char line[1024];
    while (fgets(line, sizeof line, lf)) {
        const char *p;
        if (strstr(line, "\"type\":\"scenario\"") && (p = strstr(line, "\"bin\":")))
            width = (uint32_t)atoi(p + 6);
        if (strstr(line, "\"type\":\"key\"") && (p = strstr(line, "\"country\":\""))) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                keys = realloc(keys, cap * sizeof *keys);
            }
            memset(&keys[n], 0, sizeof keys[n]);
            keys[n].cc[0] = p[11];
            keys[n].cc[1] = p[12];
            cc2key[GT_CC_PACK(p[11], p[12])] = (int32_t)n;
            n++;
        }
    }
    fclose(lf);
    if (!n || !width) {
        fprintf(stderr, "anomaly_replay: %s: no keys or bin width\n", labels);
        return 2;
    }
    struct gt_keys gk = { .dims = GT_DIM_COUNTRY, .nkeys = n, .keys = keys };

    FILE *out = stdout;
    if (evf && strcmp(evf, "-") && !(out = fopen(evf, "w"))) {
        fprintf(stderr, "anomaly_replay: cannot write %s\n", evf);
        return 2;
    }
    struct gt_events_out eo = { .f = out, .keys = &gk, .text = text };
    o.on_event = gt_events_out_fn;
    o.ctx = &eo;
    struct counter k = { .n = n, .width = width, .bin = INT64_MIN, .up_key = -1, .up_other = -1 };
    if (ups) {
        if (strlen(ups) != 5 || ups[2] != '=' ||
            (k.up_key = cc2key[GT_CC_PACK(ups[0], ups[1])]) < 0 ||
            (k.up_other = cc2key[GT_CC_PACK(ups[3], ups[4])]) < 0) {
            fprintf(stderr, "anomaly_replay: --upstream %s: want CC=CC2, both countries of the scenario\n", ups);
            return 2;
        }
    }
    k.c = calloc(n, sizeof *k.c);
    k.first = calloc(n, sizeof *k.first);
    k.last = calloc(n, sizeof *k.last);
    k.a = gt_anomaly_new(&o, &gk);
    if (!k.a || !k.c || !k.first || !k.last || (k.up_key >= 0 && gt_anomaly_set_upstream(k.a, (uint32_t)k.up_key, 1) < 0)) {
        fprintf(stderr, "anomaly_replay: out of memory\n");
        return 2;
    }

    if (binsf) {
        FILE *bf = fopen(binsf, "r");
        if (!bf) {
            fprintf(stderr, "anomaly_replay: cannot read %s\n", binsf);
            return 2;
        }
        long long start;
        unsigned key;
        uint64_t c;
        int64_t f, l;
        unsigned st, idle;
        while (fgets(line, sizeof line, bf)) {
            st = idle = 0;
            if (sscanf(line, "B %lld", &start) == 1) {
                advance(&k, start);
            } else if (sscanf(line, "K %u %" SCNu64 " %" SCNd64 " %" SCNd64 " %u %u", &key, &c, &f, &l, &st, &idle) >= 4 &&
                       key < n) {
                k.c[key].pkts_from += c;
                k.c[key].starts += st;
                k.c[key].idle_ms += idle;
                k.first[key] = f;
                k.last[key] = l;
                k.packets += c;
            }
        }
        fclose(bf);
        if (k.bin != INT64_MIN)
            flush_bin(&k);
    } else {
        char err[512], perr[PCAP_ERRBUF_SIZE];
        struct gt_classifier_opts co = { .country_db = cdb ? cdb : gt_default_country_db() };
        gt_classifier *cls = gt_classifier_build(&co, err, sizeof err);
        if (!cls) {
            fprintf(stderr, "anomaly_replay: %s\n", err);
            return 2;
        }
        pcap_t *p = pcap_open_offline_with_tstamp_precision(pcapf, PCAP_TSTAMP_PRECISION_NANO, perr);
        if (!p) {
            fprintf(stderr, "anomaly_replay: %s\n", perr);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        int r;
        uint64_t unknown = 0;
        while ((r = pcap_next_ex(p, &h, &d)) == 1) {
            int64_t tns = (int64_t)h->ts.tv_sec * NS + h->ts.tv_usec;
            advance(&k, (int64_t)h->ts.tv_sec);
            k.packets++;
            /* the generator's frames: Ethernet II + IPv4 */
            if (h->caplen < 34 || d[12] != 0x08 || d[13] != 0x00 || (d[14] >> 4) != 4)
                continue;
            for (int dir = 0; dir < 2; dir++) {
                const u_char *a = d + 26 + 4 * dir;
                uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
                const struct gt_class *cl = gt_classifier_class(cls, gt_classify4(cls, addr));
                int32_t key = cc2key[GT_CC_PACK(cl->cc[0], cl->cc[1])];
                if (key >= 0)
                    add(&k, (uint32_t)key, dir == 0, tns);
                else
                    unknown++;
            }
        }
        if (r == PCAP_ERROR) {
            fprintf(stderr, "anomaly_replay: %s: %s\n", pcapf, pcap_geterr(p));
            return 2;
        }
        if (k.bin != INT64_MIN)
            flush_bin(&k);
        pcap_close(p);
        gt_classifier_free(cls);
        fprintf(stderr, "anomaly_replay: %" PRIu64 " addresses outside the scenario's countries\n", unknown);
    }
    gt_anomaly_finish(k.a);
    uint32_t ids[16];
    uint32_t nm = gt_anomaly_not_measurable(k.a, ids, 16);
    fprintf(stderr, "anomaly_replay: %u keys, bin %u s, threshold %.2f, %u not measurable:", n, width,
            gt_anomaly_threshold(k.a, width), nm);
    for (uint32_t i = 0; i < nm && i < 16; i++)
        fprintf(stderr, " %s", keys[ids[i]].cc);
    fputc('\n', stderr);
    if (out != stdout)
        fclose(out);
    gt_anomaly_free(k.a);
    free(k.c); free(k.first); free(k.last); free(keys);
    return 0;
}
