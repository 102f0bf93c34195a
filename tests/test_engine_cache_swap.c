/* The burst path's address cache never outlives its lookup: a worker
 * counts bursts of the same few IPv4 and IPv6 addresses (so every one is
 * in its cache), the lookup is replaced by one whose class -> key map
 * sends every class to the next key, and the next bursts must count under
 * the new map, per frame and per key, in the first burst after the swap.
 * Oracle: the keys by construction (key k under the first lookup is
 * (k + 1) % nkeys under the second), k from the single-address lookups
 * (gt_classify4/6, no cache), which test_classifier_equivalence checks
 * against libmaxminddb. */
#include "check.h"
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/engine.h"
#include "geotap/keys.h"
#include "geotap/parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPAIR 4
#define BURSTS 64                   /* 4096 frames a phase: past the cache's warm-up (AC_WARMUP) */
#define BURST 64

static uint64_t *from_, *to_;       /* per key, over all bins */

static void on_bin(void *ctx, const struct gt_bin *b)
{
    (void)ctx;
    for (uint32_t k = 0; k < b->nkeys; k++) {
        from_[k] += b->counts[k].pkts_from;
        to_[k] += b->counts[k].pkts_to;
    }
}

/* An Ethernet frame from a to b (IPv4 or IPv6 text). */
static uint32_t put_frame(uint8_t *f, const char *a, const char *b)
{
    memset(f, 0, 80);
    memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
    if (strchr(a, ':')) {
        f[12] = 0x86, f[13] = 0xdd, f[14] = 0x60, f[19] = 0, f[20] = 17, f[21] = 64;
        CHECK(inet_pton(AF_INET6, a, f + 22) == 1);
        CHECK(inet_pton(AF_INET6, b, f + 38) == 1);
        return 54;
    }
    f[12] = 0x08, f[14] = 0x45, f[17] = 20, f[22] = 64, f[23] = 17;
    CHECK(inet_pton(AF_INET, a, f + 26) == 1);
    CHECK(inet_pton(AF_INET, b, f + 30) == 1);
    return 34;
}

static uint32_t key_of(const gt_classifier *c, const uint32_t *class_key, const char *a)
{
    uint8_t x[16];
    if (strchr(a, ':')) {
        CHECK(inet_pton(AF_INET6, a, x) == 1);
        return class_key[gt_classify6(c, x)];
    }
    CHECK(inet_pton(AF_INET, a, x) == 1);
    return class_key[gt_classify4(c, (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3])];
}

int main(void)
{
    static const char *pair[NPAIR][2] = {
        { "8.8.8.8", "1.1.1.1" }, { "81.2.69.160", "202.12.27.33" },
        { "2001:4860:4860::8888", "2606:4700:4700::1111" }, { "2a02:ff0::1", "2001:200::1" },
    };
    struct gt_classifier_opts co = { .country_db = gt_default_country_db() };
    char err[1024];
    gt_classifier *c = gt_classifier_cached(&co, err, sizeof err);
    if (!c) {
        fprintf(stderr, "FAIL: %s (scripts/setup fetches the data)\n", err);
        return 1;
    }
    struct gt_keys keys;
    CHECK(gt_keys_build(&keys, c, GT_DIM_COUNTRY) == 0);
    uint32_t nk = keys.nkeys, ncl = gt_classifier_nclasses(c);
    uint32_t *shifted = malloc(ncl * sizeof *shifted);
    from_ = calloc(nk, sizeof *from_);
    to_ = calloc(nk, sizeof *to_);
    uint64_t *want_from = calloc(nk, sizeof *want_from), *want_to = calloc(nk, sizeof *want_to);
    CHECK(shifted && from_ && to_ && want_from && want_to);
    for (uint32_t i = 0; i < ncl; i++)
        shifted[i] = (keys.class_key[i] + 1) % nk;

    static uint8_t buf[BURST][80];
    struct gt_frame f[BURST];
    for (unsigned i = 0; i < BURST; i++) {
        const char *const *p = pair[i % NPAIR];
        uint32_t len = put_frame(buf[i], p[0], p[1]);
        f[i] = (struct gt_frame){ 1700000000000000000 + i, buf[i], len, len };
    }
    struct gt_engine_opts eo = { .cls = c, .keys = &keys, .bin_seconds = 0, .nworkers = 1,
                                 .on_bin = on_bin, .inline_collect = 1 };
    gt_engine *e = gt_engine_new(&eo);
    CHECK(e != NULL);
    struct gt_worker *w = gt_engine_worker(e, 0);
    /* Bursts under the first lookup, the swap, bursts under the second;
     * and back, so a cache kept across either swap shows. */
    for (int phase = 0; phase < 3; phase++) {
        const uint32_t *ck = phase == 1 ? shifted : keys.class_key;
        if (phase > 0) {
            struct gt_lookup lk = { .cls = c, .class_key = ck, .keys = keys.keys, .nkeys = nk };
            CHECK(gt_engine_set_lookup(e, &lk) == 0);
        }
        for (int b = 0; b < BURSTS; b++)
            gt_worker_burst(w, GT_DLT_EN10MB, f, BURST);
        for (unsigned i = 0; i < BURST; i++) {
            want_from[key_of(c, ck, pair[i % NPAIR][0])] += BURSTS;
            want_to[key_of(c, ck, pair[i % NPAIR][1])] += BURSTS;
        }
    }
    gt_worker_finish(w);
    gt_engine_finish(e);
    for (uint32_t k = 0; k < nk; k++) {
        CHECK_MSG(from_[k] == want_from[k], "key %u: %llu packets from, want %llu", k,
                  (unsigned long long)from_[k], (unsigned long long)want_from[k]);
        CHECK_MSG(to_[k] == want_to[k], "key %u: %llu packets to, want %llu", k,
                  (unsigned long long)to_[k], (unsigned long long)want_to[k]);
    }
    gt_engine_free(e);
    gt_keys_free(&keys);
    gt_classifier_free(c);
    free(shifted);
    free(from_);
    free(to_);
    free(want_from);
    free(want_to);
    return check_result();
}
