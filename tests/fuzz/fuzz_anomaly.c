/* libFuzzer: the anomaly module fed synthetic bins: key counts, first/last
 * packet times, drops, gaps of missing bins and attribution counts, all
 * from the input, at any bin start an int64 holds: across the whole
 * range, around the module's limits (about 250 years either side of 1970,
 * where its ns times would wrap) and in today's decades. Bins beyond the
 * limits must be counted as out of range (their ns times, which the caller
 * cannot represent, are garbage here); events must name a valid key and
 * type and carry no NaN. */
#include "fuzz_util.h"
#include "geotap/anomaly.h"

#include <math.h>
#include <string.h>

#define MAXK 8
static uint32_t nkeys;

#define LIMIT_S 7889400000LL     /* 250 years of 365.25 days: the header's "about 250 years" */

static void on_event(void *ctx, const struct gt_event *ev)
{
    (void)ctx;
    FUZZ_CHECK(ev->type >= GT_EV_DROP_TO_ZERO && ev->type <= GT_EV_NOT_MEASURABLE);
    FUZZ_CHECK(ev->key == GT_NO_KEY || ev->key < nkeys);
    FUZZ_CHECK(!isnan(ev->expected_rate) && !isnan(ev->duration_s) && !isnan(ev->silence_s));
}

static uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t hi = fuzz_u32(in);
    return hi << 32 | fuzz_u32(in);
}

/* The first bin start: anywhere in int64, near +-LIMIT_S (within 4 years),
 * or in 1970..2096. */
static int64_t first_start(struct fuzz_in *in, uint32_t mode)
{
    uint64_t r = fuzz_u64(in);
    switch (mode & 3) {
    case 0:
        return (int64_t)r;
    case 1:
    case 2: {
        int64_t off = (int64_t)(r % (1ULL << 27)) - (1LL << 26);
        return (mode & 3) == 1 ? LIMIT_S + off : -LIMIT_S + off;
    }
    default:
        return (int64_t)(r % 4000000000u);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static const uint32_t widths[] = { 1, 10, 60, 300 };
    struct fuzz_in in = { d, n, 0 };
    uint32_t h = fuzz_u8(&in);
    nkeys = 1 + h % MAXK;
    struct gt_key kk[MAXK];
    memset(kk, 0, sizeof kk);
    for (uint32_t k = 0; k < nkeys; k++) {
        kk[k].cc[0] = 'A';
        kk[k].cc[1] = (char)('A' + k);
        kk[k].upstream = k % 3;
    }
    struct gt_keys keys = { (h & 0x80) ? GT_DIM_COUNTRY | GT_DIM_UPSTREAM : GT_DIM_COUNTRY, nkeys, kk, NULL };
    uint32_t o1 = fuzz_u8(&in);
    struct gt_anomaly_opts o = { .fa_per_day = (o1 & 3) ? 0.001 * (double)(1u << (o1 & 15)) : 0,
                                 .warmup_s = (o1 & 16) ? 60 : 0, .warmup_pkts = (o1 & 32) ? 1 : 0,
                                 .on_event = on_event };
    gt_anomaly *a = gt_anomaly_new(&o, &keys);
    FUZZ_CHECK(a);
    if (h & 0x40)
        gt_anomaly_ignore_key(a, 0);
    for (uint32_t k = 0; k < nkeys && (h & 0x20); k++)
        gt_anomaly_set_upstream(a, k, 1 + k % 3);
    uint32_t w = widths[(h >> 3) & 3];
    int64_t t = first_start(&in, fuzz_u8(&in));
    t -= t % w;
    struct gt_counts c[MAXK];
    int64_t first[MAXK], last[MAXK];
    uint64_t bins = 0, beyond = 0, within = 0;
    for (;;) {
        if (in.i >= n)
            break;
        uint32_t op = fuzz_u8(&in);
        if (op >= 0xf0 && __builtin_add_overflow(t, (int64_t)w * (1 + (fuzz_u8(&in) << (op & 15))), &t))
            break;              /* a run of missing bins, up to the end of int64 */
        if (t > INT64_MAX - 2 * (int64_t)w)
            break;
        memset(c, 0, sizeof c);
        memset(first, 0, sizeof first);
        memset(last, 0, sizeof last);
        struct gt_bin b = { .start = t, .width = w, .nkeys = nkeys, .counts = c,
                            .first_ns = first, .last_ns = last };
        /* ns times exist only where t * 1e9 fits */
        int in_ns = t > INT64_MIN / 1000000000 + 2 * (int64_t)w && t < INT64_MAX / 1000000000 - 2 * (int64_t)w;
        for (uint32_t k = 0; k < nkeys; k++) {
            uint32_t v = fuzz_u8(&in);
            uint64_t cnt = v < 128 ? 0 : (uint64_t)(v & 15) << ((v >> 4) & 7);
            c[k].pkts_from = cnt / 2;
            c[k].pkts_to = cnt - cnt / 2;
            if (cnt && in_ns) {
                int64_t f = (int64_t)(fuzz_u8(&in) % (w * 4 + 1)) * w * 250000000 / (int64_t)w;
                if (f >= (int64_t)w * 1000000000) f = (int64_t)w * 1000000000 - 1;
                first[k] = t * 1000000000 + f;
                last[k] = first[k] + ((int64_t)w * 1000000000 - 1 - f) * (int64_t)(fuzz_u8(&in) % 5) / 4;
            } else if (cnt) {
                first[k] = (int64_t)fuzz_u64(&in);
                last[k] = (int64_t)fuzz_u64(&in);
            }
            b.stats.packets += cnt;
        }
        if (op & 1)
            b.stats.drops = (uint64_t)fuzz_u8(&in) << (op & 14);
        if (op & 2) {
            uint64_t up[4] = { 0, fuzz_u8(&in), fuzz_u8(&in), fuzz_u8(&in) };
            gt_anomaly_upstream_counts(a, up, 4);
        }
        gt_anomaly_bin(a, &b);
        bins++;
        beyond += t > LIMIT_S + (1LL << 27) || t < -LIMIT_S - (1LL << 27);
        within += t < LIMIT_S - (1LL << 27) && t > -LIMIT_S + (1LL << 27);
        t += w;
    }
    gt_anomaly_finish(a);
    uint64_t oor = gt_anomaly_out_of_range(a);
    FUZZ_CHECK(oor >= beyond && oor <= bins - within);
    uint32_t ids[MAXK];
    FUZZ_CHECK(gt_anomaly_not_measurable(a, ids, MAXK) <= nkeys);
    for (uint32_t k = 0; k < nkeys; k++)
        FUZZ_CHECK(!isnan(gt_anomaly_expected_rate(a, k)));
    gt_anomaly_free(a);
    return 0;
}
