/* Classifier swap under load: 4 workers count 1M+ frames each, two in
 * bursts (gt_worker_burst) and two frame by frame (gt_worker_packet),
 * while another thread swaps the lookup 1,000 times between two different
 * classifier builds (build B has one more home network, 1.0.0.0/24, which
 * no frame uses and which gives the home class another id; its class -> key map is rewritten onto build A's
 * key ids by label, gt_keyspace_remap). The second lookup also grows the
 * key space by one key no frame uses. Every lookup's class -> key array
 * is a fresh allocation freed when the engine retires it, so a worker
 * still reading a retired one is a use-after-free under ASan; the run is
 * also checked under TSan (suite 'threads').
 * Oracle: the countries of the addresses (checked with mmdblookup on
 * GeoLite2-Country-Test.mmdb, as in test_engine_threads.c) are the same in
 * both builds, so every frame's keys are known without either build:
 * totals per key, frames and retirements must match exactly. Every path
 * passes the quiescent point: lookups are retired while all four workers
 * still count (a path that never adopts holds every retired one back).
 * GEOTAP_SWAP_PACKETS overrides the frames per worker (default 1,000,000;
 * 250,000 under sanitizers, which slow the packet path ten- to fiftyfold). */
#include "check.h"
#include "geotap/engine.h"
#include "geotap/keys.h"
#include "geotap/keyspace.h"
#include "geotap/setup.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define DEFAULT_PACKETS 250000
#else
#define DEFAULT_PACKETS 1000000
#endif
#define NW 4
#define NADDR 7
#define SWAPS 1000
#define BURST 32
#define NS 1000000000LL
#define T0_NS (1419200000LL * NS)

static const struct { uint32_t a; const char *cc; } addrs[NADDR] = {
    { 0x5102458Eu, "GB" },   /* 81.2.69.142 */
    { 0x59A01470u, "SE" },   /* 89.160.20.112 */
    { 0x432B9C00u, "BT" },   /* 67.43.156.0 */
    { 0xD8A05338u, "US" },   /* 216.160.83.56 */
    { 0xCAC4E000u, "PH" },   /* 202.196.224.0 */
    { 0x01010101u, "ZZ" },   /* 1.1.1.1, not in the test DB */
    { 0x0A000001u, "home" }, /* 10.0.0.1, inside the home network */
};

static uint64_t npkts;
static atomic_int workers_done;
static atomic_int retired;
static atomic_int retired_while_all_ran;   /* retirements seen before any worker finished */

struct lk_copy { uint32_t *class_key; };

static void retire(void *ctx)
{
    struct lk_copy *c = ctx;
    free(c->class_key);
    free(c);
    atomic_fetch_add(&retired, 1);
}

/* A lookup of build b with its own copy of the class -> key map. */
static struct gt_lookup make_lookup(const gt_classifier *cls, const uint32_t *class_key, uint32_t ncls,
                                    const struct gt_key *keys, uint32_t nkeys)
{
    struct lk_copy *c = malloc(sizeof *c);
    c->class_key = malloc(ncls * sizeof *c->class_key);
    memcpy(c->class_key, class_key, ncls * sizeof *c->class_key);
    struct gt_lookup lk = { .cls = cls, .class_key = c->class_key, .keys = keys, .nkeys = nkeys,
                            .retire = retire, .retire_ctx = c };
    return lk;
}

struct sink { uint64_t pkts_from[64], pkts_to[64], frames; uint32_t max_nkeys; };

static void on_bin(void *ctx, const struct gt_bin *b)
{
    struct sink *s = ctx;
    for (uint32_t k = 0; k < b->nkeys && k < 64; k++) {
        s->pkts_from[k] += b->counts[k].pkts_from;
        s->pkts_to[k] += b->counts[k].pkts_to;
    }
    s->frames += b->stats.packets;
    if (b->nkeys > s->max_nkeys)
        s->max_nkeys = b->nkeys;
}

static void build_frame(uint8_t f[64], uint32_t s, uint32_t d)
{
    memset(f, 0, 64);
    memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[3] = 46;
    ip[8] = 64;
    ip[9] = 17;
    for (int k = 0; k < 4; k++) {
        ip[12 + k] = (uint8_t)(s >> (24 - 8 * k));
        ip[16 + k] = (uint8_t)(d >> (24 - 8 * k));
    }
}

struct warg { struct gt_worker *w; unsigned idx; };

static void *worker_main(void *p)
{
    struct warg *a = p;
    uint8_t frames[NADDR * NADDR][64];
    for (int i = 0; i < NADDR * NADDR; i++)
        build_frame(frames[i], addrs[i / NADDR].a, addrs[i % NADDR].a);
    struct gt_frame f[BURST];
    for (uint64_t i = 0; i < npkts;) {
        unsigned n = 0;
        for (; n < BURST && i < npkts; n++, i++) {
            /* Pair (i + w) mod 49; times 20 us apart: a bin every 50,000 frames. */
            f[n] = (struct gt_frame){ T0_NS + (int64_t)i * 20000, frames[(i + a->idx) % (NADDR * NADDR)], 60, 60 };
        }
        if (a->idx % 2 == 0)
            gt_worker_burst(a->w, 1, f, n);
        else
            for (unsigned j = 0; j < n; j++)
                gt_worker_packet(a->w, 1, f[j].ts_ns, f[j].data, f[j].caplen, f[j].wirelen);
    }
    gt_worker_finish(a->w);
    atomic_fetch_add(&workers_done, 1);
    return NULL;
}

struct carg { gt_engine *e; };

static void *collector_main(void *p)
{
    struct carg *c = p;
    while (atomic_load(&workers_done) < NW) {
        gt_engine_collect(c->e);
        int r = atomic_load(&retired);
        if (atomic_load(&workers_done) == 0)
            atomic_store(&retired_while_all_ran, r);
        sched_yield();
    }
    return NULL;
}

static int build(struct gt_setup *s, const char *db, int nhome, char *err)
{
    struct gt_setup_opts o;
    memset(&o, 0, sizeof o);
    o.country_db = db;
    o.home[0] = "10.0.0.0/8";
    o.home[1] = "1.0.0.0/24";   /* before 10/8: the home class gets another id */
    o.n_home = nhome;
    o.n_asn = 0;
    o.dims = GT_DIM_COUNTRY;
    return gt_setup_build(&o, s, err, 512);
}

int main(void)
{
    const char *shared = getenv("GEOTAP_SHARED");
    char db[1024], err[512];
    snprintf(db, sizeof db, "%s/mmdb/GeoLite2-Country-Test.mmdb", shared ? shared : "tests/data");
    const char *np = getenv("GEOTAP_SWAP_PACKETS");
    npkts = np ? strtoull(np, NULL, 10) : DEFAULT_PACKETS;

    struct gt_setup A, B;
    if (build(&A, db, 1, err) != 0 || build(&B, db, 2, err) != 0) {
        fprintf(stderr, "set-up: %s\n", err);
        return 1;
    }
    uint32_t *b_class_key, *b_l2, added;
    CHECK(gt_keyspace_remap(&A.keys, A.keys.nkeys, A.c, A.n_upstreams, &B, &b_class_key, &b_l2, &added,
                            err, sizeof err) == 0);
    CHECK(added == 0);          /* the same labels: no new key */
    CHECK(gt_classify4(A.c, 0x0A000001u) != gt_classify4(B.c, 0x0A000001u));   /* the builds differ */
    /* A's keys plus one that nothing maps to: the key space grows once. */
    uint32_t n = A.keys.nkeys;
    struct gt_key *keys = calloc(n + 1, sizeof *keys);
    memcpy(keys, A.keys.keys, n * sizeof *keys);
    memcpy(keys[n].cc, "XX", 3);

    struct sink sk;
    memset(&sk, 0, sizeof sk);
    struct gt_lookup first = make_lookup(A.c, A.keys.class_key, gt_classifier_nclasses(A.c), keys, n);
    struct gt_engine_opts eo = { .bin_seconds = 1, .nworkers = NW, .on_bin = on_bin, .ctx = &sk,
                                 .max_keys = n + 1, .lookup = &first };
    gt_engine *e = gt_engine_new(&eo);
    CHECK(e != NULL);
    struct gt_lookup shrink = make_lookup(A.c, A.keys.class_key, 1, keys, n > 0 ? n - 1 : 0);
    CHECK(gt_engine_set_lookup(e, &shrink) == -1);       /* fewer keys: refused */
    retire(shrink.retire_ctx);
    atomic_store(&retired, 0);

    pthread_t th[NW], col;
    struct warg wa[NW];
    for (unsigned i = 0; i < NW; i++) {
        wa[i] = (struct warg){ gt_engine_worker(e, i), i };
        pthread_create(&th[i], NULL, worker_main, &wa[i]);
    }
    struct carg ca = { e };
    pthread_create(&col, NULL, collector_main, &ca);
    int swaps = 0, during = 0;
    for (; swaps < SWAPS; swaps++) {
        struct gt_lookup lk = swaps % 2 == 0
            ? make_lookup(B.c, b_class_key, gt_classifier_nclasses(B.c), keys, n + 1)
            : make_lookup(A.c, A.keys.class_key, gt_classifier_nclasses(A.c), keys, n + 1);
        CHECK(gt_engine_set_lookup(e, &lk) == 0);
        /* Spread the swaps over the run while the workers count. */
        if (atomic_load(&workers_done) < NW) {
            during++;
            struct timespec nap = { 0, 100000 };
            nanosleep(&nap, NULL);
        }
    }
    fprintf(stderr, "%d of %d swaps while the workers counted\n", during, SWAPS);
    CHECK(during >= 50);
    for (unsigned i = 0; i < NW; i++)
        pthread_join(th[i], NULL);
    pthread_join(col, NULL);
    fprintf(stderr, "%d lookups retired while all four workers counted\n", atomic_load(&retired_while_all_ran));
    CHECK(atomic_load(&retired_while_all_ran) > 0);
    gt_engine_finish(e);
    gt_engine_collect(e);   /* reclaims what the workers have passed */
    CHECK_MSG(atomic_load(&retired) == SWAPS, "retired %d of %d before free", atomic_load(&retired), SWAPS);
    gt_engine_free(e);      /* retires the current one */
    CHECK_EQ_U(atomic_load(&retired), SWAPS + 1);

    /* The oracle: the keys of each frame from the address table alone. */
    uint64_t want_from[64] = { 0 }, want_to[64] = { 0 };
    for (unsigned w = 0; w < NW; w++)
        for (uint64_t i = 0; i < npkts; i++) {
            unsigned pair = (unsigned)((i + w) % (NADDR * NADDR));
            const char *s = addrs[pair / NADDR].cc, *d = addrs[pair % NADDR].cc;
            for (uint32_t k = 0; k < n; k++) {
                const struct gt_key *key = &keys[k];
                int is_s = !strcmp(s, "home") ? key->home : !key->home && !memcmp(key->cc, s, 2);
                int is_d = !strcmp(d, "home") ? key->home : !key->home && !memcmp(key->cc, d, 2);
                want_from[k] += (uint64_t)is_s;
                want_to[k] += (uint64_t)is_d;
            }
        }
    CHECK_EQ_U(sk.frames, (uint64_t)NW * npkts);
    CHECK_EQ_U(sk.max_nkeys, n + 1);
    for (uint32_t k = 0; k < n + 1 && k < 64; k++) {
        CHECK_MSG(sk.pkts_from[k] == want_from[k], "key %u (%.2s%s): from %llu, want %llu", k, keys[k].cc,
                  keys[k].home ? " home" : "", (unsigned long long)sk.pkts_from[k], (unsigned long long)want_from[k]);
        CHECK_MSG(sk.pkts_to[k] == want_to[k], "key %u: to %llu, want %llu", k,
                  (unsigned long long)sk.pkts_to[k], (unsigned long long)want_to[k]);
    }
    uint64_t sum = 0;
    for (uint32_t k = 0; k < n; k++)
        sum += want_from[k];
    CHECK_EQ_U(sum, (uint64_t)NW * npkts);   /* every frame has exactly one source key */
    free(b_class_key);
    free(b_l2);
    free(keys);
    gt_setup_free(&A);
    gt_setup_free(&B);
    return check_result();
}
