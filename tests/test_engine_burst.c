/* gt_worker_burst counts exactly what gt_worker_packet counts, frame by
 * frame (the per-frame path is the oracle; it is checked against tshark
 * elsewhere): every bin's start, stats and per-key counters and first/last
 * times, on every shared capture and on a generated IMIX trace whose bins
 * change inside bursts (late frames and gaps included), for burst sizes
 * 1..300, with and without tunnel decapsulation and L3 byte counting. The
 * classifier is the real GeoLite2 country + ASN data (through the test
 * cache) with a home network; keys by country, and by country and ASN. */
#include "bin_log.h"
#include "captures.h"
#include "check.h"
#include "classifier_oracle.h"
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/engine.h"
#include "geotap/keys.h"
#include "geotap/parse.h"
#include "../bench/trace_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gt_classifier *cls;
static struct gt_keys keys_asn, keys_cc;
static const struct gt_keys *keys;
static uint32_t bin_s;

/* Run the engine over frames: per frame (burst 0) or in bursts of `burst`. */
static void run(const struct gt_frame *f, size_t n, int dlt, unsigned burst, unsigned flags, int l3, struct log *out)
{
    /* few gap bins: an empty bin costs a pass over every key */
    struct gt_engine_opts eo = { .cls = cls, .keys = keys, .parse_flags = flags, .bytes_l3 = l3,
                                 .bin_seconds = bin_s, .nworkers = 1, .on_bin = on_bin, .ctx = out,
                                 .inline_collect = 1, .max_gap_bins = 3 };
    gt_engine *e = gt_engine_new(&eo);
    struct gt_worker *w = gt_engine_worker(e, 0);
    if (!burst)
        for (size_t i = 0; i < n; i++)
            gt_worker_packet(w, dlt, f[i].ts_ns, f[i].data, f[i].caplen, f[i].wirelen);
    else
        for (size_t i = 0; i < n; i += burst)
            gt_worker_burst(w, dlt, f + i, (unsigned)(n - i < burst ? n - i : burst));
    gt_worker_finish(w);
    gt_engine_finish(e);
    gt_engine_free(e);
}

static long compared;

static void compare(const char *what, const struct gt_frame *f, size_t n, int dlt)
{
    static const unsigned sizes[] = { 1, 7, 32, 100, 300 };   /* 300: several internal chunks */
    for (unsigned v = 0; v < 4; v++) {
        unsigned flags = v & 1 ? GT_PARSE_DECAP : 0;
        int l3 = (v & 2) != 0;
        struct log ref = { 0 };
        run(f, n, dlt, 0, flags, l3, &ref);
        for (unsigned s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            struct log got = { 0 };
            run(f, n, dlt, sizes[s], flags, l3, &got);
            int same = log_same(&got, &ref);
            CHECK_MSG(same, "%s (%zu frames, decap %u, l3 %d): burst %u gives other bins or counts (%zu vs %zu records)",
                      what, n, flags, l3, sizes[s], got.n, ref.n);
            compared++;
            free(got.r);
        }
        free(ref.r);
    }
}

static void put_frame(uint8_t *buf, uint32_t *len, int v6, int vlan, uint32_t size)
{
    uint8_t *p = buf;
    memset(p, 0, 12);
    p[5] = 1; p[11] = 2;
    p += 12;
    if (vlan) {
        *p++ = 0x81; *p++ = 0x00; *p++ = 0x00; *p++ = 0x64;
    }
    if (!v6) {
        *p++ = 0x08; *p++ = 0x00;
        p[0] = 0x45;
        p[2] = (uint8_t)((size - 14) >> 8);
        p[3] = (uint8_t)(size - 14);
        p[8] = 64; p[9] = 17;
        uint32_t s = (uint32_t)oracle_rand(), d = (uint32_t)oracle_rand();
        if (oracle_rand() % 8 == 0)
            s = 0x0a000000 | (s & 0xffffff);            /* the home network */
        for (int i = 0; i < 4; i++) {
            p[12 + i] = (uint8_t)(s >> (24 - 8 * i));
            p[16 + i] = (uint8_t)(d >> (24 - 8 * i));
        }
        p += 20;
    } else {
        *p++ = 0x86; *p++ = 0xdd;
        p[0] = 0x60;
        p[4] = (uint8_t)((size - 54) >> 8);
        p[5] = (uint8_t)(size - 54);
        p[6] = 17; p[7] = 64;
        oracle_rand6(p + 8);
        oracle_rand6(p + 24);
        p += 40;
    }
    *len = (uint32_t)(p - buf);
}

int main(void)
{
    const char *sh = getenv("GEOTAP_SHARED");
    char dir[4096];
    const char *asn[] = { gt_default_asn_v4(), gt_default_asn_v6() };
    const char *home[] = { "10.0.0.0/8" };
    struct gt_classifier_opts co = { .country_db = gt_default_country_db(), .asn_dbs = asn, .n_asn_dbs = 2,
                                     .home_nets = home, .n_home_nets = 1 };
    char err[1024];
    gt_classifier *c = gt_classifier_cached(&co, err, sizeof err);
    if (!c) {
        fprintf(stderr, "FAIL: %s (scripts/setup fetches the data)\n", err);
        return 1;
    }
    cls = c;
    CHECK(gt_keys_build(&keys_asn, cls, GT_DIM_COUNTRY | GT_DIM_ASN) == 0);
    CHECK(gt_keys_build(&keys_cc, cls, GT_DIM_COUNTRY) == 0);
    /* the captures: keys by country, 10-second bins (an engine and a bin
     * cost passes over every key: the ~150k keys by country and ASN are
     * for the IMIX trace only) */
    keys = &keys_cc;
    bin_s = 10;

    /* every shared capture */
    snprintf(dir, sizeof dir, "%s/pcap", sh ? sh : "tests/data");
    size_t ncap;
    char **paths = captures_list(dir, &ncap);
    CHECK_MSG(paths != NULL, "%s: cannot open", dir);
    int files = 0;
    for (size_t c = 0; c < ncap; c++) {
        const char *path = paths[c], *name = strrchr(path, '/') + 1;
        struct trace_mem t;
        if (trace_mem_load(&t, path, 0, "test_engine_burst") != 0)
            continue;                   /* a capture libpcap cannot read is not this test's */
        struct gt_frame *f = malloc((t.n + 1) * sizeof *f);
        for (size_t i = 0; i < t.n; i++)
            f[i] = (struct gt_frame){ t.pkts[i].ts_ns, t.pkts[i].data, t.pkts[i].caplen, t.pkts[i].wirelen };
        if (gt_parse_dlt_supported(t.dlt)) {
            compare(name, f, t.n, t.dlt);
            files++;
        }
        free(f);
        trace_mem_free(&t);
    }
    captures_free(paths);
    CHECK_MSG(files >= 20, "only %d shared captures compared", files);

    /* IMIX: 64/576/1500-byte frames (7:4:1), 10 % IPv6, some VLAN-tagged,
     * ~300 frames per 1-second bin with late frames and gaps of bins;
     * keys by country (hundreds of bins) */
    enum { N = 100000 };
    keys = &keys_cc;
    bin_s = 1;
    struct gt_frame *f = malloc(N * sizeof *f);
    uint8_t *arena = malloc((size_t)N * 64);
    int64_t ts = 1700000000LL * 1000000000;
    for (size_t i = 0; i < N; i++) {
        uint64_t r = oracle_rand();
        uint32_t size = r % 12 < 7 ? 64 : r % 12 < 11 ? 576 : 1500, len;
        put_frame(arena + i * 64, &len, (r >> 8) % 10 == 0, (r >> 16) % 16 == 0, size);
        ts += (int64_t)(oracle_rand() % 6000000);
        if ((r >> 24) % 5000 == 0)
            ts += 7LL * 1000000000;         /* a gap of empty bins */
        int64_t t = (r >> 40) % 50 == 0 ? ts - 1500000000 : ts;   /* late frames */
        f[i] = (struct gt_frame){ t, arena + i * 64, len, size };
    }
    compare("IMIX", f, N, GT_DLT_EN10MB);
    keys = &keys_asn;
    bin_s = 60;
    compare("IMIX by country and ASN, 60-s bins", f, N, GT_DLT_EN10MB);
    free(f);
    free(arena);
    fprintf(stderr, "%d captures and an IMIX trace: %ld burst runs compared with the per-frame path\n", files,
            compared);
    gt_keys_free(&keys_asn);
    gt_keys_free(&keys_cc);
    gt_classifier_free(c);
    return check_result();
}
