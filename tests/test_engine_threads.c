/* The counting engine under concurrency: several worker threads count
 * millions of generated frames whose keys, lengths and times are known,
 * crossing hundreds of bin boundaries (with late packets, wall-clock ticks,
 * a silent stretch and drops), while a collector thread merges
 * concurrently. Every merged bin and the totals must equal an oracle
 * computed independently from the same generator: the countries of the
 * addresses were checked with mmdblookup on GeoLite2-Country-Test.mmdb,
 * and the bin of each packet follows the documented rule (the packet's
 * bin, or the worker's open bin when that is later).
 *
 * GEOTAP_THREADS_PACKETS overrides the packets per worker (default
 * 1,000,000; 100,000 under sanitizers). */
#include "check.h"
#include "geotap/classifier.h"
#include "geotap/engine.h"
#include "geotap/keys.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define DEFAULT_PACKETS 100000
#else
#define DEFAULT_PACKETS 1000000
#endif

#define NADDR 7
#define NCC 7
#define MAXW 8
#define SPAN_S 200           /* seconds of packet time per run, before the gap shift */
#define GAP_AT_S 50          /* no packet in [GAP_AT_S, GAP_AT_S + GAP_S) of packet time */
#define GAP_S 10
#define T0_S 1419200000LL    /* 2014-12-21T22:13:20Z */
#define NS 1000000000LL

/* Addresses and their countries as mmdblookup reports them ("ZZ": not in
 * the database; "home": inside --home-net 10.0.0.0/8). */
static const struct { uint32_t a; int cc; } addrs[NADDR] = {
    { 0x5102458Eu, 0 },   /* 81.2.69.142    GB */
    { 0x59A01470u, 1 },   /* 89.160.20.112  SE */
    { 0x432B9C00u, 2 },   /* 67.43.156.0    BT */
    { 0xD8A05338u, 3 },   /* 216.160.83.56  US */
    { 0xCAC4E000u, 4 },   /* 202.196.224.0  PH */
    { 0x01010101u, 5 },   /* 1.1.1.1        not in the test DB */
    { 0x0A000001u, 6 },   /* 10.0.0.1       home */
};
static const char *const ccs[NCC] = { "GB", "SE", "BT", "US", "PH", "ZZ", "home" };

struct oracle_bin {
    struct gt_counts c[NCC];
    uint64_t packets, drops;
};

/* The generator: frame i of worker w. Everything derives from (w, i). */
struct gen {
    unsigned nworkers;
    uint64_t npkts;
    uint32_t width;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2661e9ull;
    x ^= x >> 33;
    return x;
}

static void gen_packet(const struct gen *g, unsigned w, uint64_t i, int64_t *ts,
                       int *src, int *dst, uint32_t *wirelen, int *tick_after, int *drop)
{
    uint64_t h = mix(((uint64_t)w << 40) ^ i ^ 0x5eed);
    /* Times sweep SPAN_S seconds; each worker offset differently so they
     * cross boundaries at different moments. */
    int64_t x = (int64_t)((__int128)i * SPAN_S * NS / (int64_t)g->npkts) + (int64_t)w * 137000000LL;
    if (x >= GAP_AT_S * NS)
        x += GAP_S * NS;                 /* a silent stretch: zero bins */
    if (h % 97 == 0)
        x -= 1500000000LL;               /* a late packet, 1.5 s old */
    *ts = T0_S * NS + x;
    *src = (int)((h >> 8) % NADDR);
    *dst = (int)((h >> 16) % NADDR);
    *wirelen = 60 + (uint32_t)((h >> 24) % 1400);
    *tick_after = (i % 5000) == 4999;    /* then tick to 0.3 s after this packet */
    *drop = (h >> 40) % 10007 == 0;
}

static void build_frame(uint8_t f[64], uint32_t s, uint32_t d, uint32_t wirelen)
{
    memset(f, 0, 64);
    memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((wirelen - 14) >> 8);
    ip[3] = (uint8_t)(wirelen - 14);
    ip[8] = 64;
    ip[9] = 17;
    for (int k = 0; k < 4; k++) {
        ip[12 + k] = (uint8_t)(s >> (24 - 8 * k));
        ip[16 + k] = (uint8_t)(d >> (24 - 8 * k));
    }
}

static int64_t bin_of(uint32_t width, int64_t ts_ns)
{
    if (!width)
        return 0;
    int64_t s = ts_ns / NS;   /* all times here are positive */
    return s - s % width;
}

struct worker_arg {
    const struct gen *g;
    struct gt_worker *w;
    unsigned idx;
};

static void *worker_main(void *p)
{
    struct worker_arg *a = p;
    uint8_t frames[NADDR][NADDR][64];
    for (int s = 0; s < NADDR; s++)
        for (int d = 0; d < NADDR; d++)
            build_frame(frames[s][d], addrs[s].a, addrs[d].a, 60);
    for (uint64_t i = 0; i < a->g->npkts; i++) {
        int64_t ts;
        int s, d, tick, drop;
        uint32_t len;
        gen_packet(a->g, a->idx, i, &ts, &s, &d, &len, &tick, &drop);
        uint8_t *f = frames[s][d];
        f[16] = (uint8_t)((len - 14) >> 8);   /* IP total length, consistent with len */
        f[17] = (uint8_t)(len - 14);
        gt_worker_packet(a->w, 1, ts, f, 60, len);
        if (drop)
            gt_worker_add_drops(a->w, 3);
        if (tick)
            gt_worker_tick(a->w, ts + 300000000LL);
    }
    gt_worker_finish(a->w);
    return NULL;
}

/* What the engine emitted. */
struct got {
    int64_t first, prev;
    int nbins, order_ok, width_ok;
    uint32_t width;
    struct oracle_bin *bins;   /* [maxbins] by (start - first) / width */
    size_t maxbins;
    const int *key_cc;         /* key id -> country index */
    uint32_t nkeys;
    struct gt_bin_stats stats;
};

static void on_bin(void *ctx, const struct gt_bin *b)
{
    struct got *g = ctx;
    if (g->nbins == 0)
        g->first = b->start;
    else if (g->width && b->start != g->prev + g->width)
        g->order_ok = 0;
    if (b->width != g->width || b->nkeys != g->nkeys)
        g->width_ok = 0;
    g->prev = b->start;
    g->nbins++;
    size_t ix = g->width ? (size_t)((b->start - g->first) / g->width) : 0;
    if (ix >= g->maxbins) {
        g->order_ok = 0;
        return;
    }
    struct oracle_bin *o = &g->bins[ix];
    for (uint32_t k = 0; k < b->nkeys; k++) {
        int cc = g->key_cc[k];
        const struct gt_counts *c = &b->counts[k];
        if (cc < 0) {
            if (c->pkts_from | c->pkts_to)
                g->order_ok = 0;   /* traffic on a key no address maps to */
            continue;
        }
        o->c[cc].pkts_from += c->pkts_from;
        o->c[cc].bytes_from += c->bytes_from;
        o->c[cc].pkts_to += c->pkts_to;
        o->c[cc].bytes_to += c->bytes_to;
    }
    o->packets += b->stats.packets;
    o->drops += b->stats.drops;
    g->stats.packets += b->stats.packets;
    g->stats.ip += b->stats.ip;
    g->stats.drops += b->stats.drops;
}

struct collector_arg {
    gt_engine *e;
    atomic_int *stop;
    long rounds;
};

static void *collector_main(void *p)
{
    struct collector_arg *c = p;
    while (!atomic_load(c->stop)) {
        if (gt_engine_collect(c->e) == 0)
            sched_yield();   /* share the cores with the workers */
        c->rounds++;
    }
    return NULL;
}

static void run(const gt_classifier *cls, const struct gt_keys *keys, const int *key_cc,
                unsigned nworkers, uint64_t npkts, uint32_t width, int inline_collect)
{
    struct gen g = { nworkers, npkts, width };
    fprintf(stderr, "run: %u workers x %llu packets, bin %u s, %s collector\n", nworkers,
            (unsigned long long)npkts, width, inline_collect ? "inline" : "concurrent");

    /* Oracle: each worker's bin for each packet is max(its bin, the bin
     * the worker has open), the open bin also moving with ticks. */
    size_t maxbins = (SPAN_S + GAP_S + 20) / (width ? width : 1) + 4;
    struct oracle_bin *want = calloc(maxbins, sizeof *want);
    int64_t base = INT64_MAX, last = INT64_MIN;
    int64_t *cur = calloc(nworkers, sizeof *cur);
    for (unsigned w = 0; w < nworkers; w++) {
        int64_t ts, first_ts;
        gen_packet(&g, w, 0, &first_ts, &(int){0}, &(int){0}, &(uint32_t){0}, &(int){0}, &(int){0});
        (void)ts;
        if (bin_of(width, first_ts) < base)
            base = bin_of(width, first_ts);
    }
    for (unsigned w = 0; w < nworkers; w++) {
        cur[w] = INT64_MIN;
        uint64_t pending = 0;
        for (uint64_t i = 0; i < npkts; i++) {
            int64_t ts;
            int s, d, tick, drop;
            uint32_t len;
            gen_packet(&g, w, i, &ts, &s, &d, &len, &tick, &drop);
            int64_t b = bin_of(width, ts);
            if (b > cur[w])
                cur[w] = b;
            struct oracle_bin *o = &want[width ? (cur[w] - base) / width : 0];
            o->packets++;
            o->drops += pending;
            pending = 0;
            o->c[addrs[s].cc].pkts_from++;
            o->c[addrs[s].cc].bytes_from += len;
            o->c[addrs[d].cc].pkts_to++;
            o->c[addrs[d].cc].bytes_to += len;
            if (drop)
                o->drops += 3;
            if (tick) {
                int64_t tb = bin_of(width, ts + 300000000LL);
                if (tb > cur[w])
                    cur[w] = tb;
            }
        }
        if (cur[w] > last)
            last = cur[w];
    }
    size_t nwant = width ? (size_t)((last - base) / width) + 1 : 1;

    struct gt_engine_opts eo = {
        .cls = cls, .keys = keys, .bin_seconds = width, .nworkers = nworkers,
        .on_bin = on_bin, .inline_collect = inline_collect,
    };
    struct got got = { .order_ok = 1, .width_ok = 1, .width = width, .maxbins = maxbins,
                       .key_cc = key_cc, .nkeys = keys->nkeys };
    got.bins = calloc(maxbins, sizeof *got.bins);
    eo.ctx = &got;
    gt_engine *e = gt_engine_new(&eo);
    CHECK(e != NULL);
    if (!e)
        return;

    pthread_t th[MAXW], ct;
    struct worker_arg wa[MAXW];
    atomic_int stop = 0;
    struct collector_arg ca = { e, &stop, 0 };
    if (!inline_collect)
        CHECK(pthread_create(&ct, NULL, collector_main, &ca) == 0);
    for (unsigned w = 0; w < nworkers; w++) {
        wa[w] = (struct worker_arg){ &g, gt_engine_worker(e, w), w };
        CHECK(pthread_create(&th[w], NULL, worker_main, &wa[w]) == 0);
    }
    for (unsigned w = 0; w < nworkers; w++)
        pthread_join(th[w], NULL);
    /* The collector may still be running: gt_engine_finish must wait for it. */
    gt_engine_finish(e);
    atomic_store(&stop, 1);
    if (!inline_collect) {
        pthread_join(ct, NULL);
        fprintf(stderr, "  collector rounds: %ld\n", ca.rounds);
    }

    CHECK_MSG(got.order_ok, "bins out of order, gap or stray key");
    CHECK(got.width_ok);
    CHECK_EQ_U(got.nbins, nwant);
    if (width)
        CHECK_EQ_U(got.first, base);
    int bad = 0;
    uint64_t tot_pk = 0, tot_drops = 0;
    for (size_t b = 0; b < nwant && b < maxbins; b++) {
        const struct oracle_bin *x = &got.bins[b], *y = &want[b];
        tot_pk += y->packets;
        tot_drops += y->drops;
        if (memcmp(x->c, y->c, sizeof x->c) || x->packets != y->packets || x->drops != y->drops) {
            if (bad++ < 5)
                fprintf(stderr, "  bin %zu (start %lld): packets %llu want %llu, drops %llu want %llu\n",
                        b, (long long)(base + (int64_t)b * width), (unsigned long long)x->packets,
                        (unsigned long long)y->packets, (unsigned long long)x->drops,
                        (unsigned long long)y->drops);
        }
    }
    CHECK_EQ_U(bad, 0);
    CHECK_EQ_U(tot_pk, (uint64_t)nworkers * npkts);
    CHECK_EQ_U(got.stats.packets, (uint64_t)nworkers * npkts);
    CHECK_EQ_U(got.stats.ip, (uint64_t)nworkers * npkts);
    CHECK_EQ_U(got.stats.drops, tot_drops);
    struct gt_bin_stats t = gt_engine_totals(e);
    CHECK_EQ_U(t.packets, (uint64_t)nworkers * npkts);
    CHECK_EQ_U(t.drops, tot_drops);
    /* The silent stretch is in the output as zero bins. */
    if (width == 1) {
        int64_t gs = T0_S + GAP_AT_S + 2;   /* late packets and ticks can spill 2 s in */
        size_t ix = (size_t)((gs - base) / width);
        CHECK(ix < nwant && got.bins[ix].packets == 0 && want[ix].packets == 0);
    }
    gt_engine_free(e);
    free(got.bins);
    free(want);
    free(cur);
}

/* A silent link: bins close on ticks alone and come out as zero bins;
 * drops land in the open bin, or (with none open) in the totals. */
struct silent_got {
    int n;
    int64_t starts[16];
    uint64_t drops[16], packets;
};

static void silent_bin(void *ctx, const struct gt_bin *b)
{
    struct silent_got *g = ctx;
    if (g->n < 16) {
        g->starts[g->n] = b->start;
        g->drops[g->n] = b->stats.drops;
    }
    g->packets += b->stats.packets;
    g->n++;
}

static void silent(const gt_classifier *cls, const struct gt_keys *keys)
{
    struct silent_got g;
    memset(&g, 0, sizeof g);
    struct gt_engine_opts eo = { .cls = cls, .keys = keys, .bin_seconds = 10, .nworkers = 2,
                                 .on_bin = silent_bin, .ctx = &g };
    gt_engine *e = gt_engine_new(&eo);
    CHECK(e != NULL);
    if (!e)
        return;
    struct gt_worker *w0 = gt_engine_worker(e, 0), *w1 = gt_engine_worker(e, 1);
    int64_t t = 1700000005LL * NS;             /* bin 1700000000 */
    gt_worker_add_drops(w0, 7);                /* before any bin: goes to the first */
    for (int i = 0; i < 4; i++) {           /* 3 closed + 1 open: the ring (4) is not full */
        gt_worker_tick(w0, t + i * 10 * NS);
        gt_worker_add_drops(w0, (uint64_t)i);
    }
    gt_worker_add_drops(w1, 11);               /* w1 never opens a bin */
    /* w1 has not started: nothing is complete yet. */
    CHECK_EQ_U(gt_engine_collect(e), 0);
    gt_worker_finish(w1);
    /* Now the 3 bins w0 has closed are complete; its open one is not. */
    CHECK_EQ_U(gt_engine_collect(e), 3);
    gt_worker_finish(w0);
    gt_engine_finish(e);
    CHECK_EQ_U(g.n, 4);
    for (int i = 0; i < 4 && i < g.n; i++) {
        CHECK_EQ_U(g.starts[i], 1700000000LL + 10 * i);
        CHECK_EQ_U(g.drops[i], (uint64_t)i + (i == 0 ? 7 : 0));
    }
    CHECK_EQ_U(g.packets, 0);
    struct gt_bin_stats tot = gt_engine_totals(e);
    CHECK_EQ_U(tot.drops, 7 + 0 + 1 + 2 + 3 + 11);
    gt_engine_free(e);
}

/* Flow starts: per key, worker and bin, the silences over 5 s that end (at
 * the key's next packet in that worker and bin) and their length past 5 s;
 * merged across workers by summing; the bin says how many workers merged.
 * Expected values computed by hand from the packet times below. */
struct flow_got {
    int n;
    uint32_t starts[4], idle_ms[4], workers[4];
};

static void flow_bin(void *ctx, const struct gt_bin *b)
{
    struct flow_got *g = ctx;
    if (g->n < 4) {
        for (uint32_t k = 0; k < b->nkeys; k++) {
            g->starts[g->n] += b->counts[k].starts;
            g->idle_ms[g->n] += b->counts[k].idle_ms;
        }
        g->workers[g->n] = b->stats.workers;
    }
    g->n++;
}

static void flow_starts(const gt_classifier *cls, const struct gt_keys *keys)
{
    struct flow_got g;
    memset(&g, 0, sizeof g);
    struct gt_engine_opts eo = { .cls = cls, .keys = keys, .bin_seconds = 60, .nworkers = 2,
                                 .on_bin = flow_bin, .ctx = &g };
    gt_engine *e = gt_engine_new(&eo);
    CHECK(e != NULL);
    if (!e)
        return;
    struct gt_worker *w[2] = { gt_engine_worker(e, 0), gt_engine_worker(e, 1) };
    uint8_t f[64];
    build_frame(f, addrs[0].a, addrs[6].a, 60);   /* GB -> home: two keys per packet */
    const int64_t t0 = 1700000040LL * NS;          /* bin 1700000040 */
    /* worker 0: 0, 1, 7 (gap 6 s: 1 start, 1000 ms), 7.5, 20 (12.5 s: 7500 ms);
     * next bin: 65 (first in its bin: nothing), 80 (15 s: 10000 ms).
     * worker 1: 3, 9 (6 s: 1000 ms), 9.001 (short: nothing); next bin: 61. */
    const double t_w0[] = { 0, 1, 7, 7.5, 20, 65, 80 }, t_w1[] = { 3, 9, 9.001, 61 };
    for (unsigned i = 0; i < sizeof t_w0 / sizeof t_w0[0]; i++)
        gt_worker_packet(w[0], 1, t0 + (int64_t)(t_w0[i] * NS), f, 60, 60);
    for (unsigned i = 0; i < sizeof t_w1 / sizeof t_w1[0]; i++)
        gt_worker_packet(w[1], 1, t0 + (int64_t)(t_w1[i] * NS), f, 60, 60);
    gt_worker_finish(w[0]);
    gt_worker_finish(w[1]);
    gt_engine_finish(e);
    CHECK_EQ_U(g.n, 2);
    /* both keys (GB and home) see every packet */
    CHECK_EQ_U(g.starts[0], 2 * (2 + 1));
    CHECK_EQ_U(g.idle_ms[0], 2 * (1000 + 7500 + 1000));
    CHECK_EQ_U(g.starts[1], 2 * 1);
    CHECK_EQ_U(g.idle_ms[1], 2 * 10000);
    CHECK_EQ_U(g.workers[0], 2);
    gt_engine_free(e);
}

int main(void)
{
    const char *db = getenv("GEOTAP_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/mmdb/GeoLite2-Country-Test.mmdb", db ? db : "tests/data");
    const char *home[] = { "10.0.0.0/8" };
    struct gt_classifier_opts co = { .country_db = path, .home_nets = home, .n_home_nets = 1 };
    char err[512];
    gt_classifier *cls = gt_classifier_build(&co, err, sizeof err);
    CHECK_MSG(cls != NULL, "%s", err);
    if (!cls)
        return check_result();
    struct gt_keys keys;
    CHECK(gt_keys_build(&keys, cls, GT_DIM_COUNTRY) == 0);

    /* key id -> country index, and each address's key has the country
     * mmdblookup gave (independent check of the classifier set-up). */
    int *key_cc = malloc(((size_t)keys.nkeys + 1) * sizeof *key_cc);
    for (uint32_t k = 0; k < keys.nkeys; k++)
        key_cc[k] = -1;
    for (int a = 0; a < NADDR; a++) {
        uint32_t k = keys.class_key[gt_classify4(cls, addrs[a].a)];
        const struct gt_key *key = &keys.keys[k];
        const char *name = key->home ? "home" : key->cc;
        CHECK_MSG(!strcmp(name, ccs[addrs[a].cc]), "address %d: %s, want %s", a, name, ccs[addrs[a].cc]);
        key_cc[k] = addrs[a].cc;
    }

    uint64_t n = DEFAULT_PACKETS;
    const char *env = getenv("GEOTAP_THREADS_PACKETS");
    if (env && atoll(env) > 0)
        n = (uint64_t)atoll(env);

    silent(cls, &keys);
    flow_starts(cls, &keys);
    run(cls, &keys, key_cc, 4, n, 1, 0);        /* 4 workers, 1 s bins, ~210 boundaries */
    run(cls, &keys, key_cc, 2, n / 4, 7, 0);    /* bins not dividing the span */
    run(cls, &keys, key_cc, 3, n / 10, 0, 0);   /* one bin for everything */
    run(cls, &keys, key_cc, 1, n / 4, 1, 1);    /* analyze's mode: inline collector */

    free(key_cc);
    gt_keys_free(&keys);
    gt_classifier_free(cls);
    return check_result();
}
