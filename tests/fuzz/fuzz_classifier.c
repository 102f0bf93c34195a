/* libFuzzer: the classifier build, differentially. The input describes up
 * to 64 upstream ranges (IPv4, and IPv6 in the top 32 bits), many nested in
 * earlier ones. Every range edge and its neighbours must get the value of a
 * naive oracle (the last added range containing the address wins, 0 when
 * none) from (a) gt_rangeset_normalize + a Poptrie of 8 direct bits, on
 * every input, and (b) the full gt_classifier_build, on one input in 16
 * (its 2^S direct table costs ~0.1 s a build). */
#include "fuzz_util.h"
#include "geotap/classifier.h"
#include "geotap/poptrie.h"

#include <string.h>

#define MAXR 64
struct r { uint32_t lo, hi, val; int v6; };

static uint32_t oracle(const struct r *rr, size_t n, int v6, uint32_t a)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        if (rr[i].v6 == v6 && rr[i].lo <= a && a <= rr[i].hi)
            v = rr[i].val;
    return v;
}

/* Normalised ranges of one family to Poptrie segments (gaps = value 0). */
static void trie(const struct gt_rangeset *rs, int v6, struct gt_poptrie *pt)
{
    size_t n = v6 ? rs->n6 : rs->n4, k = 0;
    gt_u128 *st = malloc((2 * n + 2) * sizeof *st);
    uint32_t *val = malloc((2 * n + 2) * sizeof *val);
    gt_u128 top = v6 ? ~(gt_u128)0 : UINT32_MAX, at = 0;
    FUZZ_CHECK(st && val);
    for (size_t i = 0; i < n; i++) {
        gt_u128 lo = v6 ? rs->v6[i].lo : rs->v4[i].lo, hi = v6 ? rs->v6[i].hi : rs->v4[i].hi;
        FUZZ_CHECK(lo >= at && lo <= hi);
        if (lo > at) {
            st[k] = at;
            val[k++] = 0;
        }
        st[k] = lo;
        val[k++] = v6 ? rs->v6[i].val : rs->v4[i].val;
        if (hi == top)
            break;
        at = hi + 1;
        if (i + 1 == n) {
            st[k] = at;
            val[k++] = 0;
        }
    }
    if (!k) {
        st[0] = 0;
        val[k++] = 0;
    }
    FUZZ_CHECK(gt_poptrie_build(pt, v6 ? 128 : 32, 8, st, val, k) == 0);
    free(st);
    free(val);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static const char *const names[8] = { "", "U1", "U2", "U3", "U4", "U5", "U6", "U7" };
    struct r rr[MAXR];
    size_t nr = 0;
    struct fuzz_in in = { d, n, 0 };
    struct gt_rangeset rs = { 0 };
    while (in.i < n && nr < MAXR) {
        uint32_t fl = fuzz_u8(&in), a = fuzz_u32(&in), b = fuzz_u32(&in);
        int v6 = fl & 1;
        uint32_t lo, hi;
        size_t parent = nr;
        for (size_t k = nr; k-- > 0;)      /* nested: inside the latest range of the family */
            if (rr[k].v6 == v6 && (fl & 2)) {
                parent = k;
                break;
            }
        if (parent < nr) {
            uint64_t span = (uint64_t)rr[parent].hi - rr[parent].lo + 1;
            lo = rr[parent].lo + (uint32_t)(a % span);
            hi = lo + (uint32_t)(b % ((uint64_t)rr[parent].hi - lo + 1));
        } else {
            lo = a;
            hi = lo + (uint32_t)(b % ((uint64_t)UINT32_MAX - lo + 1)) / (fl & 4 ? 1 : 65536);
        }
        rr[nr] = (struct r){ lo, hi, 1 + (fl >> 3) % 7, v6 };
        nr++;
    }
    /* arrays of exactly the ranges' size, as a source that sized them up
     * front leaves them: normalisation must make room for its pieces */
    for (size_t i = 0; i < nr; i++)
        rs.n6 += rr[i].v6;
    rs.n4 = nr - rs.n6;
    rs.v4 = malloc(rs.n4 * sizeof *rs.v4 + 1);
    rs.v6 = malloc(rs.n6 * sizeof *rs.v6 + 1);
    FUZZ_CHECK(rs.v4 && rs.v6);
    rs.cap4 = rs.n4;
    rs.cap6 = rs.n6;
    for (size_t i = 0, k4 = 0, k6 = 0; i < nr; i++) {
        if (rr[i].v6)
            rs.v6[k6++] = (struct gt_range6){ (gt_u128)rr[i].lo << 96,
                                              ((gt_u128)rr[i].hi << 96) | (((gt_u128)1 << 96) - 1), rr[i].val };
        else
            rs.v4[k4++] = (struct gt_range4){ rr[i].lo, rr[i].hi, rr[i].val };
    }
    struct gt_rangeset norm = { 0 };
    norm.v4 = malloc(rs.n4 * sizeof *rs.v4 + 1);
    norm.v6 = malloc(rs.n6 * sizeof *rs.v6 + 1);
    FUZZ_CHECK(norm.v4 && norm.v6);
    memcpy(norm.v4, rs.v4, rs.n4 * sizeof *rs.v4);
    memcpy(norm.v6, rs.v6, rs.n6 * sizeof *rs.v6);
    norm.n4 = norm.cap4 = rs.n4;
    norm.n6 = norm.cap6 = rs.n6;
    FUZZ_CHECK(gt_rangeset_normalize(&norm) == 0);
    struct gt_poptrie p4, p6;
    trie(&norm, 0, &p4);
    trie(&norm, 1, &p6);
    for (size_t i = 0; i < nr; i++) {
        uint32_t probes[5] = { rr[i].lo, rr[i].hi, rr[i].lo - 1, rr[i].hi + 1,
                               rr[i].lo + (rr[i].hi - rr[i].lo) / 2 };
        for (int p = 0; p < 5; p++) {
            FUZZ_CHECK(gt_poptrie_lookup4(&p4, probes[p]) == oracle(rr, nr, 0, probes[p]));
            gt_u128 a6 = ((gt_u128)probes[p] << 96) | (gt_u128)p;
            FUZZ_CHECK(gt_poptrie_lookup6(&p6, a6) == oracle(rr, nr, 1, probes[p]));
        }
    }
    gt_poptrie_free(&p4);
    gt_poptrie_free(&p6);
    gt_rangeset_free(&norm);
    if (n && (d[0] & 0xf0) != 0x50) {
        gt_rangeset_free(&rs);
        return 0;
    }
    struct gt_classifier_opts o = { .upstream_ranges = &rs, .upstream_names = names, .n_upstream_names = 8 };
    char err[256];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    FUZZ_CHECK(c);
    for (size_t i = 0; i < nr; i++) {
        uint32_t probes[5] = { rr[i].lo, rr[i].hi, rr[i].lo - 1, rr[i].hi + 1,
                               rr[i].lo + (rr[i].hi - rr[i].lo) / 2 };
        for (int p = 0; p < 5; p++) {
            uint32_t a = probes[p];
            uint32_t got4 = gt_classifier_class(c, gt_classify4(c, a))->upstream;
            FUZZ_CHECK(got4 == oracle(rr, nr, 0, a));
            uint8_t a6[16] = { 0 };
            a6[0] = (uint8_t)(a >> 24); a6[1] = (uint8_t)(a >> 16); a6[2] = (uint8_t)(a >> 8); a6[3] = (uint8_t)a;
            a6[15] = (uint8_t)p;
            uint32_t got6 = gt_classifier_class(c, gt_classify6(c, a6))->upstream;
            FUZZ_CHECK(got6 == oracle(rr, nr, 1, a));
        }
    }
    gt_classifier_free(c);
    gt_rangeset_free(&rs);
    return 0;
}
