/* Labelled scenarios for the anomaly module: many hours of traffic from
 * --keys countries at rates spread log-uniformly over [--min-rate,
 * --max-rate] packets/s, with diurnal cycles, full outages (20 min .. 6 h,
 * sometimes with one stray packet inside), partial drops to 30 %, natural
 * lulls (silences whose expected count is 2..6) and one capture gap.
 * Packets are non-homogeneous Poisson (thinning), deterministic for --seed.
 * --flows: the rates are of flow starts instead (Poisson, thinned), each flow
 * 1 packet (40 %) or Pareto(1.3)-sized from 2 up to 2,000 packets (about 5 on
 * average), its packets 0.2 s apart on average (exponential), sharing one
 * 5-tuple; level shifts (the key's flows doubling or halving for 1-6 h) too.
 * --weekly: weekends (Saturday, Sunday UTC) at 50-90 % of weekdays per key.
 * --no-outages: no outage, stray packet or capture gap (false-alarm runs).
 * Writes the labels (JSON lines), and optionally the pcap (minimum-size
 * Ethernet/IPv4/UDP frames, each country's packets from addresses inside
 * that country's space in the GeoLite2 DB) and/or the per-bin counts the
 * scenario produced (for bench/anomaly_replay). This file: options,
 * labels and the packets; the rate model and the plan of events are in
 * scenario_model.c, the countries and their addresses in scenario_space.c.
 *
 * usage: gen_scenario --labels FILE [--pcap FILE] [--bins FILE] [--seed N]
 *        [--hours H] [--keys K] [--min-rate R] [--max-rate R] [--bin S]
 *        [--country-db FILE] [--no-gap] [--rate-scale F]
 *        [--preset kp2014 [--asn-csv FILE]]
 *
 * --preset kp2014: the demo of 22-23 Dec 2014 from 08:00 UTC for 20 hours:
 * 40 countries with steady diurnal traffic and no other event; North Korea
 * (addresses in 175.45.176.0/22, 0.5 packets/s) dark from 16:15 UTC for
 * 9 h 31 min while China (5 packets/s, addresses in AS4837 China Unicom,
 * North Korea's upstream) and everyone else carry on.
 */
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geotap/datadir.h"
#include "geotap/bins.h"
#include "geotap/events.h"
#include "scenario.h"

/* A heap entry: a Poisson arrival (packet, or flow start with --flows), a
 * stray packet, or the next packet of a flow (rem packets left after it). */
enum { H_ARRIVAL, H_STRAY, H_FLOW };
struct hent { double t; uint32_t key; uint8_t kind, addr; uint16_t port; uint32_t rem, other; };

static struct hent *heap;
static size_t heap_cap;

static void heap_push(size_t *n, struct hent e)
{
    if (*n == heap_cap) {       /* flows in progress: grows with them */
        heap_cap = heap_cap ? 2 * heap_cap : 1024;
        if (!(heap = realloc(heap, heap_cap * sizeof *heap))) {
            fprintf(stderr, "gen_scenario: out of memory\n");
            exit(2);
        }
    }
    struct hent *h = heap;
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (h[p].t <= e.t)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static struct hent heap_pop(struct hent *h, size_t *n)
{
    struct hent top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].t < h[c].t)
            c++;
        if (h[c].t >= last.t)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

static void ts(char *buf, size_t n, double t)
{
    gt_time_format_ns(buf, n, T_START * NS + (int64_t)llround(t * 1e6) * 1000, GT_TIME_US);
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/* A 60-byte Ethernet/IPv4/UDP frame from src:sport to dst:dport. */
static void frame(uint8_t *f, uint32_t src, uint32_t dst, unsigned sport, unsigned dport, unsigned id)
{
    static const uint8_t mac[12] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };
    memset(f, 0, 60);
    memcpy(f, mac, 12);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, 28);
    put16(ip + 4, id & 0xffff);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffff);
    put16(ip + 20, sport);
    put16(ip + 22, dport);
    put16(ip + 24, 8);
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_scenario --labels FILE [--pcap FILE] [--bins FILE] [--seed N] [--hours H]\n"
                    "       [--keys K] [--min-rate R] [--max-rate R] [--bin S] [--country-db FILE] [--no-gap]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *labels = NULL, *pcapf = NULL, *binsf = NULL, *cdb = NULL;
    uint64_t seed = 1;
    double hours = 30, minr = 0.01, maxr = 50;
    unsigned nkeys = 120, binw = 60;
    int gap = 1, kp = 0, flows = 0, weekly = 0, outages = 1;
    double scale = 1;
    const char *asncsv = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--no-gap")) { gap = 0; continue; }
        if (!strcmp(o, "--flows")) { flows = 1; continue; }
        if (!strcmp(o, "--weekly")) { weekly = 1; continue; }
        if (!strcmp(o, "--no-outages")) { outages = 0; gap = 0; continue; }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(o, "--labels")) labels = v;
        else if (!strcmp(o, "--pcap")) pcapf = v;
        else if (!strcmp(o, "--bins")) binsf = v;
        else if (!strcmp(o, "--country-db")) cdb = v;
        else if (!strcmp(o, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--hours")) hours = atof(v);
        else if (!strcmp(o, "--keys")) nkeys = (unsigned)atoi(v);
        else if (!strcmp(o, "--min-rate")) minr = atof(v);
        else if (!strcmp(o, "--max-rate")) maxr = atof(v);
        else if (!strcmp(o, "--bin")) binw = (unsigned)atoi(v);
        else if (!strcmp(o, "--rate-scale")) scale = atof(v);
        else if (!strcmp(o, "--asn-csv")) asncsv = v;
        else if (!strcmp(o, "--preset") && !strcmp(v, "kp2014")) kp = 1;
        else usage();
    }
    if (kp) {
        T_START = 1419235200LL;     /* 2014-12-22T08:00:00Z */
        gap = 0;
        flows = 1;
        if (hours == 30)
            hours = 20;
        if (nkeys == 120)
            nkeys = 40;
    }
    if (scale <= 0) {
        fprintf(stderr, "gen_scenario: --rate-scale must be positive\n");
        return 2;
    }
    if (!labels || hours < 5 || nkeys < 2 || minr <= 0 || maxr < minr || binw < 1 || binw > 3600) {
        fprintf(stderr, "gen_scenario: need --labels, --hours >= 5, --keys >= 2, 0 < min-rate <= max-rate, 1 <= bin <= 3600\n");
        return 2;
    }
    if (!cdb)
        cdb = gt_default_country_db();

    struct skey *K = calloc(nkeys, sizeof *K);
    if (!K) {
        fprintf(stderr, "gen_scenario: out of memory\n");
        return 2;
    }
    seed_rng(seed);
    if (pick_countries(cdb, asncsv, kp, K, nkeys) < 0)
        return 2;
    struct plan_opts po = { .hours = hours, .minr = minr, .maxr = maxr, .scale = scale, .gap = gap, .kp = kp,
                            .flows = flows, .weekly = weekly, .outages = outages };
    static struct plan P;
    plan_scenario(K, nkeys, &po, &P);
    const double dur = P.dur, g0 = P.g0, g1 = P.g1;
    const size_t nstray = P.nstray;
    double (*stray)[2] = P.stray;

    /* labels */
    FILE *lf = fopen(labels, "w");
    if (!lf) {
        fprintf(stderr, "gen_scenario: cannot write %s\n", labels);
        return 2;
    }
    char a[40], b[40];
    ts(a, sizeof a, 0);
    ts(b, sizeof b, dur);
    fprintf(lf, "{\"type\":\"scenario\",\"seed\":%" PRIu64 ",\"start\":\"%s\",\"end\":\"%s\",\"start_s\":%lld,"
                "\"end_s\":%.0f,\"keys\":%u,\"bin\":%u,\"min_rate\":%g,\"max_rate\":%g,\"unit\":\"%s\"}\n",
            seed, a, b, (long long)T_START, T_START + dur, nkeys, binw, minr, maxr, flows ? "flows" : "packets");
    for (unsigned k = 0; k < nkeys; k++)
        fprintf(lf, "{\"type\":\"key\",\"country\":\"%s\",\"rate\":%.6g,\"amplitude\":%.3f,\"phase_h\":%.3f,"
                    "\"weekend\":%.3f}\n", K[k].cc, K[k].rate, K[k].amp, K[k].phase_h, K[k].weekend);
    static const char *names[] = { "", "outage", "partial", "lull", "shift" };
    for (unsigned k = 0; k < nkeys; k++)
        for (int e = 0; e < K[k].nev; e++) {
            const struct sev *v = &K[k].ev[e];
            int ns = 0;
            for (size_t i = 0; i < nstray; i++)
                ns += stray[i][1] == k && stray[i][0] >= v->t0 && stray[i][0] < v->t1;
            ts(a, sizeof a, v->t0);
            ts(b, sizeof b, v->t1);
            fprintf(lf, "{\"type\":\"%s\",\"country\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"start_s\":%.6f,"
                        "\"end_s\":%.6f,\"rate_at_start\":%.6g,\"rate_at_end\":%.6g,\"factor\":%g,\"strays\":%d%s}\n",
                    names[v->type], K[k].cc, a, b, T_START + v->t0, T_START + v->t1, diurnal(&K[k], v->t0),
                    diurnal(&K[k], v->t1),
                    v->factor, ns, kp && !strcmp(K[k].cc, "KP") ? ",\"upstream_asn\":4837,\"cause\":\"inside_country\"" : "");
        }
    if (gap) {
        ts(a, sizeof a, g0);
        ts(b, sizeof b, g1);
        fprintf(lf, "{\"type\":\"capture_gap\",\"start\":\"%s\",\"end\":\"%s\",\"start_s\":%.6f,\"end_s\":%.6f}\n",
                a, b, T_START + g0, T_START + g1);
    }
    fclose(lf);

    /* packets */
    pcap_t *pd = NULL;
    pcap_dumper_t *dump = NULL;
    if (pcapf) {
        pd = pcap_open_dead(DLT_EN10MB, 65535);
        dump = pd ? pcap_dump_open(pd, pcapf) : NULL;
        if (!dump) {
            fprintf(stderr, "gen_scenario: cannot write %s: %s\n", pcapf, pd ? pcap_geterr(pd) : "pcap");
            return 2;
        }
    }
    FILE *bf = NULL;
    if (binsf && !(bf = fopen(binsf, "w"))) {
        fprintf(stderr, "gen_scenario: cannot write %s\n", binsf);
        return 2;
    }
    if (bf)
        fprintf(bf, "# geotap scenario bins: B <start s>, then K <key index> <packets> <first ns> <last ns> "
                    "<flow starts> <idle ms>\n");
    uint64_t *cnt = calloc(nkeys, sizeof *cnt);
    struct gt_counts *gc = calloc(nkeys, sizeof *gc);     /* flow starts and idle time */
    int64_t *fst = calloc(nkeys, sizeof *fst), *lst = calloc(nkeys, sizeof *lst);
    size_t hn = 0;
    for (unsigned k = 0; k < nkeys; k++) {
        double mx = K[k].rate * (1 + K[k].amp);
        heap_push(&hn, (struct hent){ .t = -log(urand()) / mx, .key = k, .kind = H_ARRIVAL });
    }
    for (size_t i = 0; i < nstray; i++)
        heap_push(&hn, (struct hent){ .t = stray[i][0], .key = (uint32_t)stray[i][1], .kind = H_STRAY });
    int64_t bin = 0, nbins = (int64_t)(dur / binw);
    uint64_t npk = 0;
    uint8_t f[60];
    while (hn) {
        struct hent e = heap_pop(heap, &hn);
        if (e.t >= dur)
            continue;
        struct skey *s = &K[e.key];
        if (e.kind == H_ARRIVAL) {
            double mx = s->rate * (1 + s->amp) * (flows ? 2 : 1);    /* shifts double it */
            heap_push(&hn, (struct hent){ .t = e.t - log(urand()) / mx, .key = e.key, .kind = H_ARRIVAL });
            if (urand() * mx >= rate_now(s, e.t))
                continue;
            if (flows) {        /* a new flow: its size and 5-tuple */
                double u = urand();
                e.rem = u < 0.4 ? 0 : (uint32_t)fmin(2000, floor(2 * pow(urand(), -1 / 1.3))) - 1;
                e.addr = (uint8_t)(next_u64() % NADDR);
                e.other = 0xC0000201u + (uint32_t)(next_u64() % 200);
                e.port = (uint16_t)(1024 + next_u64() % 60000);
                e.kind = H_FLOW;
            }
        } else if (e.kind == H_FLOW && rate_now(s, e.t) == 0) {
            continue;           /* an outage cuts the flows in progress */
        }
        if (e.kind == H_FLOW && e.rem > 0)
            heap_push(&hn, (struct hent){ .t = e.t - 0.2 * log(urand()), .key = e.key, .kind = H_FLOW,
                                             .addr = e.addr, .port = e.port, .rem = e.rem - 1, .other = e.other });
        if (gap && e.t >= g0 && e.t < g1)
            continue;
        int64_t us = llround(e.t * 1e6), tns = T_START * NS + us * 1000;
        while (us / ((int64_t)binw * 1000000) > bin) {
            if (bf) {
                fprintf(bf, "B %lld\n", (long long)(T_START + bin * binw));
                for (unsigned k = 0; k < nkeys; k++)
                    if (cnt[k])
                        fprintf(bf, "K %u %" PRIu64 " %" PRId64 " %" PRId64 " %u %u\n", k, cnt[k], fst[k], lst[k],
                                gc[k].starts, gc[k].idle_ms);
            }
            memset(cnt, 0, nkeys * sizeof *cnt);
            memset(gc, 0, nkeys * sizeof *gc);
            bin++;
        }
        if (!cnt[e.key])
            fst[e.key] = tns;
        else
            gt_counts_gap(&gc[e.key], lst[e.key], tns);
        cnt[e.key]++;
        lst[e.key] = tns;
        npk++;
        if (dump) {
            int rev = (int)(npk & 1);
            uint32_t ca = s->addr[npk % NADDR], other = 0xC0000201u + (uint32_t)(npk % 200);  /* 192.0.2.x */
            unsigned port = 40000 + (unsigned)(npk % 1000);
            if (e.kind == H_FLOW) {
                ca = s->addr[e.addr];
                other = e.other;
                port = e.port;
            }
            frame(f, rev ? other : ca, rev ? ca : other, rev ? 53 : port, rev ? port : 53, (unsigned)npk);
            struct pcap_pkthdr ph = { .caplen = 60, .len = 60 };
            ph.ts.tv_sec = (time_t)(T_START + us / 1000000);
            ph.ts.tv_usec = (suseconds_t)(us % 1000000);
            pcap_dump((u_char *)dump, &ph, f);
        }
    }
    for (; bin < nbins; bin++) {
        if (bf) {
            fprintf(bf, "B %lld\n", (long long)(T_START + bin * binw));
            for (unsigned k = 0; k < nkeys; k++)
                if (cnt[k])
                    fprintf(bf, "K %u %" PRIu64 " %" PRId64 " %" PRId64 " %u %u\n", k, cnt[k], fst[k], lst[k],
                            gc[k].starts, gc[k].idle_ms);
        }
        memset(cnt, 0, nkeys * sizeof *cnt);
        memset(gc, 0, nkeys * sizeof *gc);
    }
    if (dump)
        pcap_dump_close(dump);
    if (pd)
        pcap_close(pd);
    if (bf && fclose(bf) != 0) {
        fprintf(stderr, "gen_scenario: write error on %s\n", binsf);
        return 2;
    }
    fprintf(stderr, "gen_scenario: seed %" PRIu64 ": %u countries, %.0f h, %" PRIu64 " packets, %zu strays\n",
            seed, nkeys, hours, npk, nstray);
    free(cnt); free(gc); free(fst); free(lst); free(heap); free(K);
    return 0;
}
