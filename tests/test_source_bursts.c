/* Capture files hand the engine real bursts (gt_source_files ->
 * gt_worker_burst, up to 128 frames straight from the file's map) and count
 * exactly what the per-frame path counts (gt_pcap_file_next ->
 * gt_worker_packet; that path is checked against tshark elsewhere): every
 * bin's start, stats and per-key counters, first/last times and flow
 * starts, on every test capture (tests/data/pcap and the repro captures:
 * clock jumps, late frames, gaps, bad times), and on a generated capture
 * with late frames, gaps of bins and a truncated last record (the reader
 * falls back to libpcap in mid-file). Classic pcaps must arrive in bursts
 * of more than one frame. */
#include "bin_log.h"
#include "captures.h"
#include "check.h"
#include "classifier_oracle.h"
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/engine.h"
#include "geotap/keys.h"
#include "geotap/parse.h"
#include "geotap/pcap_file.h"
#include "geotap/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const gt_classifier *cls;
static struct gt_keys keys;

static gt_engine *engine(struct log *out)
{
    struct gt_engine_opts eo = { .cls = cls, .keys = &keys, .parse_flags = GT_PARSE_DECAP, .bin_seconds = 10,
                                 .nworkers = 1, .on_bin = on_bin, .ctx = out, .inline_collect = 1,
                                 .max_gap_bins = 3 };
    return gt_engine_new(&eo);
}

static void done(gt_engine *e)
{
    gt_worker_finish(gt_engine_worker(e, 0));
    gt_engine_finish(e);
    gt_engine_free(e);
}

/* The oracle: frame by frame from the reader. Returns the frames read. */
static uint64_t per_frame(const char *path, struct log *out)
{
    char err[1024];
    gt_pcap_file *f = gt_pcap_file_open(path, NULL, err, sizeof err);
    if (!f)
        return 0;
    gt_engine *e = engine(out);
    struct gt_worker *w = gt_engine_worker(e, 0);
    int64_t ts;
    const uint8_t *d;
    uint32_t cl, wl;
    uint64_t n = 0;
    while (gt_pcap_file_next(f, &ts, &d, &cl, &wl) == 1) {
        gt_worker_packet(w, gt_pcap_file_dlt(f), ts, d, cl, wl);
        n++;
    }
    done(e);
    gt_pcap_file_close(f);
    return n;
}

struct feed { struct gt_worker *w; unsigned max_n; uint64_t frames; };

static void on_burst(void *ctx, int dlt, const struct gt_frame *f, unsigned n)
{
    struct feed *c = ctx;
    gt_worker_burst(c->w, dlt, f, n);
    if (n > c->max_n)
        c->max_n = n;
    c->frames += n;
}

/* The source's bursts; returns the largest burst. */
static unsigned bursts(const char *path, struct log *out)
{
    char err[1024];
    gt_source *s = gt_source_files(&path, 1, NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return 0;
    gt_engine *e = engine(out);
    struct feed c = { gt_engine_worker(e, 0), 0, 0 };
    int rc;
    while ((rc = gt_source_poll(s, 0, on_burst, &c)) != GT_SOURCE_END)
        ;
    done(e);
    gt_source_close(s);
    return c.max_n;
}

static int compared, in_bursts;

static void compare(const char *path, int classic)
{
    struct log ref = { 0 }, got = { 0 };
    uint64_t n = per_frame(path, &ref);
    if (!n)
        return;   /* a capture the reader refuses is not this test's */
    unsigned mx = bursts(path, &got);
    CHECK_MSG(log_same(&got, &ref), "%s (%llu frames): the bursts give other bins or counts (%zu vs %zu records)",
              path, (unsigned long long)n, got.n, ref.n);
    if (classic && n > 1) {
        CHECK_MSG(mx > 1, "%s: a classic pcap of %llu frames came one frame at a time", path, (unsigned long long)n);
        in_bursts += mx > 1;
    }
    compared++;
    free(ref.r);
    free(got.r);
}

static void compare_dir(const char *dir)
{
    size_t n;
    char **paths = captures_list(dir, &n);
    CHECK_MSG(paths != NULL, "%s: cannot open", dir);
    for (size_t i = 0; i < n; i++) {
        const char *path = paths[i];
        /* classic pcap by its magic (some .pcap files are pcapng) */
        uint32_t m = 0;
        FILE *f = fopen(path, "rb");
        if (f) {
            if (fread(&m, 4, 1, f) != 1)
                m = 0;
            fclose(f);
        }
        compare(path, m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1);
    }
    captures_free(paths);
}

static void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}

/* 20,000 IPv4/IPv6 frames, 0.2-1.4 ms apart, late frames (1.5 s back),
 * gaps of 35 s, a corrupt time (fraction >= 1 s) and a truncated last record. */
static void write_trace(const char *path)
{
    FILE *f = fopen(path, "wb");
    put32(f, 0xa1b2c3d4);
    put32(f, 0x00040002);   /* version 2.4 */
    put32(f, 0);
    put32(f, 0);
    put32(f, 65535);
    put32(f, 1);
    int64_t us = 1700000000LL * 1000000;
    for (int i = 0; i < 20000; i++) {
        uint8_t fr[80];
        memset(fr, 0, sizeof fr);
        fr[5] = 1; fr[11] = 2;
        uint64_t r = oracle_rand();
        uint32_t len;
        if (r % 10) {
            fr[12] = 0x08; fr[14] = 0x45; fr[17] = 46; fr[22] = 64; fr[23] = 17;
            uint32_t s = (uint32_t)oracle_rand(), d = (uint32_t)oracle_rand();
            for (int k = 0; k < 4; k++) {
                fr[26 + k] = (uint8_t)(s >> (24 - 8 * k));
                fr[30 + k] = (uint8_t)(d >> (24 - 8 * k));
            }
            len = 60;
        } else {
            fr[12] = 0x86; fr[13] = 0xdd; fr[14] = 0x60; fr[19] = 26; fr[20] = 17; fr[21] = 64;
            oracle_rand6(fr + 22);
            oracle_rand6(fr + 38);
            len = 80;
        }
        us += 200 + (int64_t)(oracle_rand() % 1200);
        if (i % 7000 == 6999)
            us += 35000000;                               /* a gap of empty bins */
        int64_t t = (r >> 20) % 40 == 0 ? us - 1500000 : us;   /* late frames */
        put32(f, (uint32_t)(t / 1000000));
        put32(f, i == 12345 ? 1500000u : (uint32_t)(t % 1000000));   /* one bad time */
        put32(f, len);
        put32(f, len + 100);
        fwrite(fr, 1, len, f);
    }
    put32(f, 1700001000u);   /* a record cut short */
    put32(f, 0);
    put32(f, 60);
    put32(f, 60);
    fwrite("\0\0\0\0\0\0\0\0", 1, 8, f);
    fclose(f);
}

int main(void)
{
    const char *sh = getenv("GEOTAP_SHARED");
    const char *home[] = { "10.0.0.0/8" };
    struct gt_classifier_opts co = { .country_db = gt_default_country_db(), .home_nets = home, .n_home_nets = 1 };
    char err[1024], dir[4096];
    gt_classifier *c = gt_classifier_cached(&co, err, sizeof err);
    if (!c) {
        fprintf(stderr, "FAIL: %s (scripts/setup fetches the data)\n", err);
        return 1;
    }
    cls = c;
    CHECK(gt_keys_build(&keys, cls, GT_DIM_COUNTRY) == 0);
    snprintf(dir, sizeof dir, "%s/pcap", sh ? sh : "tests/data");
    compare_dir(dir);
    snprintf(dir, sizeof dir, "%s/repro", sh ? sh : "tests/data");
    compare_dir(dir);
    CHECK_MSG(compared >= 25, "only %d captures compared", compared);
    CHECK_MSG(in_bursts >= 15, "only %d captures came in bursts", in_bursts);

    char path[64];
    snprintf(path, sizeof path, "/tmp/geotap-bursts-%d.pcap", (int)getpid());
    write_trace(path);
    struct log ref = { 0 }, got = { 0 };
    CHECK_EQ_U(per_frame(path, &ref), 20000);
    unsigned mx = bursts(path, &got);
    CHECK_MSG(log_same(&got, &ref), "generated trace: the bursts give other bins or counts (%zu vs %zu records)",
              got.n, ref.n);
    CHECK_EQ_U(mx, 128);
    free(ref.r);
    free(got.r);
    unlink(path);
    fprintf(stderr, "%d captures (%d in bursts) and a generated trace compared with the per-frame path\n",
            compared, in_bursts);
    gt_keys_free(&keys);
    gt_classifier_free(c);
    return check_result();
}
