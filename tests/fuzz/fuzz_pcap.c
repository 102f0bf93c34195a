/* libFuzzer: the capture reader, differentially. The input is a capture
 * file; it is read once through the zero-copy mmap path (classic pcap; other
 * formats and irregular records fall to libpcap) and once through libpcap
 * only (GEOTAP_NO_MMAP): both must return the same frames, times and end.
 * The frames then go through the counting engine (clock-jump and gap
 * logic): bins must come in increasing order and count every frame. */
#include "fuzz_util.h"
#include "geotap/classifier.h"
#include "geotap/engine.h"
#include "geotap/keys.h"
#include "geotap/parse.h"
#include "geotap/pcap_file.h"

#include <string.h>

#define MAXF 4096
struct frame { int64_t ts; uint32_t caplen, wirelen; uint64_t sum; };

static int read_all(const char *path, int nommap, struct frame *fr, size_t *nf, int *dlt)
{
    char err[512];
    if (nommap)
        setenv("GEOTAP_NO_MMAP", "1", 1);
    else
        unsetenv("GEOTAP_NO_MMAP");
    gt_pcap_file *f = gt_pcap_file_open(path, NULL, err, sizeof err);
    if (!f)
        return -2;
    *dlt = gt_pcap_file_dlt(f);
    int64_t ts;
    const uint8_t *data;
    uint32_t cl, wl;
    int rc;
    *nf = 0;
    while ((rc = gt_pcap_file_next(f, &ts, &data, &cl, &wl)) == 1 && *nf < MAXF) {
        uint64_t h = 1469598103934665603ull;
        for (uint32_t i = 0; i < cl; i++)
            h = (h ^ data[i]) * 1099511628211ull;
        fr[(*nf)++] = (struct frame){ ts, cl, wl, h };
    }
    if (rc < 0)
        FUZZ_CHECK(strlen(gt_pcap_file_error(f)) > 0);
    gt_pcap_file_close(f);
    return rc;
}

static gt_classifier *cls;
static struct gt_keys keys;
struct sink { int64_t last; int have; uint64_t packets; };

static void on_bin(void *ctx, const struct gt_bin *b)
{
    struct sink *s = ctx;
    if (b->width) {
        FUZZ_CHECK(!s->have || b->start > s->last);
        s->last = b->start;
        s->have = 1;
    }
    s->packets += b->stats.packets;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static struct frame a[MAXF], b[MAXF];
    char path[64];
    if (!cls) {
        struct gt_classifier_opts o = { 0 };
        char err[256];
        cls = gt_classifier_build(&o, err, sizeof err);
        FUZZ_CHECK(cls && gt_keys_build(&keys, cls, GT_DIM_COUNTRY) == 0);
    }
    int fd = fuzz_file(d, n, path, sizeof path);
    if (fd < 0)
        return 0;
    size_t na, nb;
    int dlta = 0, dltb = 0;
    int ra = read_all(path, 0, a, &na, &dlta), rb = read_all(path, 1, b, &nb, &dltb);
    close(fd);
    FUZZ_CHECK(ra == rb);
    if (ra == -2)
        return 0;
    FUZZ_CHECK(na == nb && dlta == dltb);
    for (size_t i = 0; i < na; i++) {
        FUZZ_CHECK(a[i].ts == b[i].ts && a[i].caplen == b[i].caplen);
        FUZZ_CHECK(a[i].wirelen == b[i].wirelen && a[i].sum == b[i].sum);
        FUZZ_CHECK(a[i].ts == GT_TS_BAD || a[i].ts >= 0);
    }
    /* the engine on these times, bin width from the last input byte */
    static const uint32_t widths[] = { 0, 1, 60, 3600 };
    struct sink s = { 0, 0, 0 };
    struct gt_engine_opts eo = { .cls = cls, .keys = &keys, .bin_seconds = widths[n ? d[n - 1] % 4 : 0],
                                 .nworkers = 1, .on_bin = on_bin, .ctx = &s, .inline_collect = 1 };
    gt_engine *e = gt_engine_new(&eo);
    FUZZ_CHECK(e);
    struct gt_worker *w = gt_engine_worker(e, 0);
    static const uint8_t frame[] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
    for (size_t i = 0; i < na; i++)
        gt_worker_packet(w, GT_DLT_RAW, a[i].ts, frame, sizeof frame, a[i].wirelen);
    gt_worker_finish(w);
    gt_engine_finish(e);
    FUZZ_CHECK(s.packets == na);
    struct gt_bin_stats t = gt_engine_totals(e);
    FUZZ_CHECK(t.packets == na && t.first_ns <= t.last_ns);
    gt_engine_free(e);
    return 0;
}
