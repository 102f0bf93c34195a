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
 * scenario produced (for bench/anomaly_replay).
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
#include "geotap/classifier.h"
#include "geotap/events.h"
#include "geotap/ranges.h"
#include "geotap/geodata.h"

#define NS 1000000000LL
static long long T_START = 1419120000LL;  /* 2014-12-21T00:00:00Z; kp2014: 2014-12-22T08:00:00Z */
#define MAXEV 40
#define NADDR 4

enum { EV_OUTAGE = 1, EV_PARTIAL, EV_LULL, EV_SHIFT };

struct sev { int type; double t0, t1; double factor; };

struct skey {
    char cc[3];
    uint32_t addr[NADDR];
    double rate, amp, phase_h, weekend;
    struct sev ev[MAXEV];
    int nev, cur;
};

/* A heap entry: a Poisson arrival (packet, or flow start with --flows), a
 * stray packet, or the next packet of a flow (rem packets left after it). */
enum { H_ARRIVAL, H_STRAY, H_FLOW };
struct hent { double t; uint32_t key; uint8_t kind, addr; uint16_t port; uint32_t rem, other; };

static uint64_t rs[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t next_u64(void)
{
    uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
    rs[2] ^= rs[0]; rs[3] ^= rs[1]; rs[1] ^= rs[2]; rs[0] ^= rs[3];
    rs[2] ^= t; rs[3] = rotl(rs[3], 45);
    return r;
}
static double urand(void) { return ((next_u64() >> 11) + 0.5) / 9007199254740992.0; }
static void seed_rng(uint64_t s)
{
    for (int i = 0; i < 4; i++) {
        s += 0x9e3779b97f4a7c15ULL;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rs[i] = z ^ (z >> 31);
    }
}
static double logu(double lo, double hi) { return lo * exp(urand() * log(hi / lo)); }

static double diurnal(const struct skey *k, double t)
{
    double abs_h = (double)T_START / 3600 + t / 3600;
    double h = fmod(abs_h, 24.0);
    int dow = (int)fmod(floor(abs_h / 24) + 4, 7);     /* 1970-01-01 was a Thursday (4) */
    double wk = dow == 0 || dow == 6 ? k->weekend : 1;
    return wk * k->rate * (1 + k->amp * sin(2 * M_PI * (h - k->phase_h) / 24));
}

/* Rate of key k at t (s since start), events applied. */
static double rate_now(struct skey *k, double t)
{
    while (k->cur < k->nev && k->ev[k->cur].t1 <= t)
        k->cur++;
    double r = diurnal(k, t);
    if (k->cur < k->nev && k->ev[k->cur].t0 <= t) {
        const struct sev *e = &k->ev[k->cur];
        r = e->type == EV_PARTIAL || e->type == EV_SHIFT ? r * e->factor : 0;
    }
    return r;
}

static int overlaps(const struct skey *k, double t0, double t1, double margin)
{
    for (int i = 0; i < k->nev; i++)
        if (t0 < k->ev[i].t1 + margin && k->ev[i].t0 < t1 + margin)
            return 1;
    return 0;
}

static int cmp_ev(const void *a, const void *b)
{
    const struct sev *x = a, *y = b;
    return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

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
    gt_rfc3339_ns(buf, n, T_START * NS + (int64_t)llround(t * 1e6) * 1000);
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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Country value of addr in the normalized set, or 0. */
static uint32_t cc_of(const struct gt_rangeset *cr, uint32_t addr)
{
    size_t lo = 0, hi = cr->n4;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (cr->v4[m].hi < addr)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < cr->n4 && cr->v4[lo].lo <= addr ? cr->v4[lo].val : 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct skey *)a)->cc, ((const struct skey *)b)->cc);
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

    /* countries and their IPv4 space */
    struct gt_rangeset cr = { 0 };
    char err[512];
    if (gt_source_mmdb_country(cdb, &cr, err, sizeof err) < 0) {
        fprintf(stderr, "gen_scenario: %s\n", err);
        return 2;
    }
    gt_rangeset_normalize(&cr);
    uint32_t ccs[1024];
    size_t ncc = 0;
    for (size_t i = 0; i < cr.n4; i++) {
        uint32_t v = cr.v4[i].val;
        size_t j;
        for (j = 0; j < ncc && ccs[j] != v; j++)
            ;
        if (j == ncc && ncc < 1024)
            ccs[ncc++] = v;
    }
    qsort(ccs, ncc, sizeof *ccs, cmp_u32);
    if (ncc < nkeys) {
        fprintf(stderr, "gen_scenario: %s has only %zu countries with IPv4 space\n", cdb, ncc);
        return 2;
    }
    seed_rng(seed);
    for (size_t i = ncc - 1; i > 0; i--) {     /* deterministic pick of countries */
        size_t j = next_u64() % (i + 1);
        uint32_t t = ccs[i]; ccs[i] = ccs[j]; ccs[j] = t;
    }
    if (kp) {                                   /* KP and CN first */
        uint32_t want[2] = { GT_CC_PACK('K', 'P'), GT_CC_PACK('C', 'N') };
        for (int w = 0; w < 2; w++)
            for (size_t i = 0; i < ncc; i++)
                if (ccs[i] == want[w]) {
                    ccs[i] = ccs[w];
                    ccs[w] = want[w];
                }
        if (ccs[0] != want[0] || ccs[1] != want[1]) {
            fprintf(stderr, "gen_scenario: %s has no KP or CN space\n", cdb);
            return 2;
        }
    }
    struct skey *K = calloc(nkeys, sizeof *K);
    for (unsigned k = 0; k < nkeys; k++) {
        K[k].cc[0] = GT_CC_A(ccs[k]);
        K[k].cc[1] = GT_CC_B(ccs[k]);
        size_t idx[256], nr = 0;
        for (size_t i = 0; i < cr.n4 && nr < 256; i++)
            if (cr.v4[i].val == ccs[k])
                idx[nr++] = i;
        for (int a = 0; a < NADDR; a++) {
            const struct gt_range4 *r = &cr.v4[idx[next_u64() % nr]];
            K[k].addr[a] = r->lo + (uint32_t)(next_u64() % ((uint64_t)r->hi - r->lo + 1));
        }
    }
    if (kp) {
        /* KP inside 175.45.176.0/22; CN inside AS4837 (China Unicom) */
        uint32_t p22 = 175u << 24 | 45u << 16 | 176u << 8;
        for (int a = 0; a < NADDR; a++) {
            uint32_t x = 0;
            for (int tries = 0; tries < 100000 && !x; tries++) {
                uint32_t c = p22 + (uint32_t)(next_u64() % 1024);
                if (cc_of(&cr, c) == GT_CC_PACK('K', 'P'))
                    x = c;
            }
            if (!x) {
                fprintf(stderr, "gen_scenario: %s does not place 175.45.176.0/22 in KP\n", cdb);
                return 2;
            }
            K[0].addr[a] = x;
        }
        struct gt_rangeset ar = { 0 };
        struct gt_asn_orgs *orgs = gt_asn_orgs_new();
        const char *ap = asncsv ? asncsv : gt_default_asn_v4();
        if (!orgs || gt_source_asn_csv(ap, &ar, orgs, err, sizeof err) < 0) {
            fprintf(stderr, "gen_scenario: %s\n", orgs ? err : "out of memory");
            return 2;
        }
        size_t idx[4096], nr = 0;
        for (size_t i = 0; i < ar.n4 && nr < 4096; i++)
            if (ar.v4[i].val == 4837)
                idx[nr++] = i;
        for (int a = 0; a < NADDR && nr; a++) {
            for (int tries = 0; tries < 100000; tries++) {
                const struct gt_range4 *r = &ar.v4[idx[next_u64() % nr]];
                uint32_t c = r->lo + (uint32_t)(next_u64() % ((uint64_t)r->hi - r->lo + 1));
                if (cc_of(&cr, c) == GT_CC_PACK('C', 'N')) {
                    K[1].addr[a] = c;
                    break;
                }
            }
        }
        gt_rangeset_free(&ar);
        gt_asn_orgs_free(orgs);
    }
    qsort(K, nkeys, sizeof *K, cmp_key);     /* listed by country code */
    gt_rangeset_free(&cr);

    /* the capture gap: 30-45 minutes in the middle third */
    double dur = hours * 3600, g0 = 0, g1 = 0;
    if (gap) {
        g0 = floor((dur / 3 + urand() * dur / 3) / 7) * 7 + 13.37;   /* not bin aligned */
        g1 = g0 + 1800 + urand() * 900;
    }
    const double first = 3 * 3600, last = dur - 3600, margin = 900;
    struct skey gapk = { .nev = 0 };
    if (gap) {
        gapk.ev[0].t0 = g0;
        gapk.ev[0].t1 = g1;
        gapk.nev = 1;
    }
    double stray[1024][2];
    size_t nstray = 0;
    for (unsigned k = 0; k < nkeys && kp; k++) {
        struct skey *s = &K[k];
        int isk = !strcmp(s->cc, "KP"), isc = !strcmp(s->cc, "CN");
        s->rate = scale * (isk ? 0.25 : isc ? 2 : logu(0.1, 0.5));
        s->weekend = 1;
        s->amp = 0.2 + 0.3 * urand();
        s->phase_h = 24 * urand();
        if (isk) {              /* 16:15:00 UTC for 9 h 31 min */
            s->ev[0] = (struct sev){ EV_OUTAGE, 8 * 3600 + 15 * 60, 8 * 3600 + 15 * 60 + 9 * 3600 + 31 * 60, 0 };
            s->nev = 1;
        }
    }
    for (unsigned k = 0; k < nkeys && !kp; k++) {
        struct skey *s = &K[k];
        s->rate = scale * logu(minr, maxr);
        s->amp = 0.2 + 0.3 * urand();
        s->phase_h = 24 * urand();
        s->weekend = weekly ? 0.5 + 0.4 * urand() : 1;
        double u = urand();
        int nout = !outages ? 0 : u < 0.25 ? 0 : u < 0.75 ? 1 : 2;
        int npart = urand() < 0.35, nlull = urand() < 0.3, nshift = flows && urand() < 0.4;
        if (hours > 48) {       /* long runs: about one event of each kind per key and day */
            nout = outages ? (int)(hours / 24 * urand()) : 0;
            npart = (int)(hours / 24 * urand());
            nlull = (int)(hours / 24 * urand());
            nshift = flows ? (int)(hours / 24 * urand()) : 0;
        }
        int ntot = nout + npart + nlull + nshift;
        if (ntot > MAXEV)
            ntot = MAXEV;
        for (int e = 0; e < ntot; e++) {
            int type = e < nout ? EV_OUTAGE : e < nout + npart ? EV_PARTIAL : e < nout + npart + nlull ? EV_LULL : EV_SHIFT;
            for (int tries = 0; tries < 50; tries++) {
                double len = type == EV_OUTAGE ? logu(1200, 6 * 3600) : type == EV_PARTIAL ? logu(1800, 3 * 3600)
                           : type == EV_SHIFT ? logu(3600, 6 * 3600) : 0;
                double t0 = first + urand() * (last - first);
                if (type == EV_LULL)
                    len = (2 + 4 * urand()) / diurnal(s, t0);
                double t1 = t0 + len;
                if (t1 > last || overlaps(s, t0, t1, margin) || (gap && overlaps(&gapk, t0, t1, margin)))
                    continue;
                double f = type == EV_PARTIAL ? 0.3 : type == EV_SHIFT ? (urand() < 0.5 ? 2 : 0.5) : 0;
                s->ev[s->nev++] = (struct sev){ type, t0, t1, f };
                if (type == EV_OUTAGE && len > 1800 && urand() < 0.5 && nstray < 1024) {
                    stray[nstray][0] = t0 + 600 + urand() * (len - 1200);
                    stray[nstray][1] = k;
                    nstray++;
                }
                break;
            }
        }
        qsort(s->ev, (size_t)s->nev, sizeof s->ev[0], cmp_ev);
    }

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
