/* gt_rangeset_normalize against a naive oracle (the last added range that
 * contains an address wins), on random nested ranges and on the nested
 * reproducers of issue 11 (ASN CSV, upstream map, routes), which made
 * normalisation write past its buffer: run under ASan to see that too. */
#include "check.h"
#include "geotap/ranges.h"
#include "geotap/routes.h"
#include "geotap/geodata.h"
#include "geotap/upstream_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Value of a in a normalised set by binary search; 0 when uncovered. */
static uint32_t norm4(const struct gt_rangeset *rs, uint32_t a)
{
    size_t lo = 0, hi = rs->n4;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (rs->v4[m].hi < a) lo = m + 1;
        else if (rs->v4[m].lo > a) hi = m;
        else return rs->v4[m].val;
    }
    return 0;
}

static uint32_t norm6(const struct gt_rangeset *rs, gt_u128 a)
{
    for (size_t i = 0; i < rs->n6; i++)
        if (rs->v6[i].lo <= a && a <= rs->v6[i].hi)
            return rs->v6[i].val;
    return 0;
}

static int sorted_disjoint(const struct gt_rangeset *rs)
{
    for (size_t i = 0; i < rs->n4; i++) {
        if (rs->v4[i].lo > rs->v4[i].hi) return 0;
        if (i && rs->v4[i - 1].hi >= rs->v4[i].lo) return 0;
    }
    for (size_t i = 0; i < rs->n6; i++) {
        if (rs->v6[i].lo > rs->v6[i].hi) return 0;
        if (i && rs->v6[i - 1].hi >= rs->v6[i].lo) return 0;
    }
    return 1;
}

/* Random sets of mostly nested ranges; every range edge (and its
 * neighbours) is queried against the naive oracle. */
static void test_random(void)
{
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + rnd() % 200;
        struct gt_range4 *raw = malloc(n * sizeof *raw);
        struct gt_range6 *raw6 = malloc(n * sizeof *raw6);
        struct gt_rangeset rs;
        memset(&rs, 0, sizeof rs);
        for (size_t i = 0; i < n; i++) {
            uint32_t lo, hi;
            if (i && rnd() % 4) {   /* inside an earlier one: splits it */
                const struct gt_range4 *o = &raw[rnd() % i];
                uint64_t span = (uint64_t)o->hi - o->lo + 1;
                lo = o->lo + (uint32_t)(rnd() % span);
                hi = lo + (uint32_t)(rnd() % ((uint64_t)o->hi - lo + 1));
            } else {
                lo = (uint32_t)rnd() >> (rnd() % 32);
                hi = lo + (uint32_t)(rnd() % ((uint64_t)UINT32_MAX - lo + 1));
            }
            raw[i] = (struct gt_range4){ lo, hi, 1 + (uint32_t)(rnd() % 5) };
            raw6[i] = (struct gt_range6){ (gt_u128)lo << 96, ((gt_u128)hi << 96) | (((gt_u128)1 << 96) - 1), raw[i].val };
            CHECK(gt_rangeset_add4(&rs, lo, hi, raw[i].val) == 0);
            CHECK(gt_rangeset_add6(&rs, raw6[i].lo, raw6[i].hi, raw6[i].val) == 0);
        }
        CHECK(gt_rangeset_normalize(&rs) == 0);
        CHECK(sorted_disjoint(&rs));
        for (size_t i = 0; i < n; i++) {
            uint32_t probes[6] = { raw[i].lo, raw[i].hi, raw[i].lo - 1, raw[i].hi + 1,
                                   raw[i].lo + (raw[i].hi - raw[i].lo) / 2, (uint32_t)rnd() };
            for (int p = 0; p < 6; p++) {
                uint32_t a = probes[p], want = 0;
                for (size_t j = 0; j < n; j++)
                    if (raw[j].lo <= a && a <= raw[j].hi)
                        want = raw[j].val;
                CHECK_EQ_U(norm4(&rs, a), want);
                if (p < 2)
                    CHECK_EQ_U(norm6(&rs, ((gt_u128)a << 96) | 5), want);
            }
        }
        gt_rangeset_free(&rs);
        free(raw);
        free(raw6);
    }
}

static char path_buf[1024];
static const char *repro(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/repro/%s", getenv("GEOTAP_SHARED"), name);
    return path_buf;
}

/* asn_nested_shuffled.csv: 0..2^32-1 = AS1, then 1,000 /24s of AS2 inside. */
static void test_asn_csv(void)
{
    struct gt_rangeset rs;
    memset(&rs, 0, sizeof rs);
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    char err[512];
    const char *p = repro("asn_nested_shuffled.csv");
    CHECK_MSG(gt_source_asn_csv(p, &rs, orgs, err, sizeof err) == 0, "%s", err);
    size_t nraw = rs.n4;
    struct gt_range4 *raw = malloc(nraw * sizeof *raw);
    memcpy(raw, rs.v4, nraw * sizeof *raw);
    CHECK(gt_rangeset_normalize(&rs) == 0);
    CHECK(sorted_disjoint(&rs));
    CHECK(rs.n4 >= nraw);     /* the container is split around every /24 */
    for (size_t i = 0; i < nraw; i++) {
        uint32_t probes[4] = { raw[i].lo, raw[i].hi, raw[i].lo - 1, raw[i].hi + 1 };
        for (int k = 0; k < 4; k++) {
            uint32_t want = 0;
            for (size_t j = 0; j < nraw; j++)
                if (raw[j].lo <= probes[k] && probes[k] <= raw[j].hi)
                    want = raw[j].val;
            CHECK_EQ_U(norm4(&rs, probes[k]), want);
        }
    }
    free(raw);
    gt_rangeset_free(&rs);
    gt_asn_orgs_free(orgs);
}

/* um_nested.txt and routes_nested.txt through gt_upstream_compile: the /24s
 * have their own upstream, the rest of 0.0.0.0/1 the outer one. */
static void test_upstream(int routes)
{
    char err[512];
    gt_upstreams *names = gt_upstreams_new();
    gt_upstream_map *m = NULL;
    gt_routes *r = NULL;
    if (routes) {
        r = gt_routes_new();
        CHECK_MSG(gt_routes_load(r, repro("routes_nested.txt"), err, sizeof err) == 0, "%s", err);
    } else {
        m = gt_upstream_map_load(repro("um_nested.txt"), names, err, sizeof err);
        CHECK_MSG(m != NULL, "%s", err);
    }
    struct gt_rangeset out;
    memset(&out, 0, sizeof out);
    CHECK(gt_upstream_compile(r, m, NULL, names, &out) == 0);
    CHECK(sorted_disjoint(&out));
    /* 10.0.0.0/24 and 10.0.2.0/24 are inner, 10.0.1.0 and 1.2.3.4 outer. */
    uint32_t in1 = norm4(&out, 0x0a000005), in2 = norm4(&out, 0x0a000205);
    uint32_t out1 = norm4(&out, 0x0a000105), out2 = norm4(&out, 0x01020304);
    CHECK(in1 != 0 && out1 != 0);
    CHECK_EQ_U(out1, out2);
    CHECK(in1 != out1);
    if (!routes)
        CHECK_EQ_U(in1, in2);
    CHECK_EQ_U(norm4(&out, 0x80000001), 0);   /* outside 0.0.0.0/1 */
    const char *n_in = gt_upstreams_name(names, in1), *n_out = gt_upstreams_name(names, out1);
    CHECK_MSG(!strcmp(n_in, routes ? "AS3356" : "Inner"), "%s", n_in);
    CHECK_MSG(!strcmp(n_out, routes ? "AS4837" : "Outer"), "%s", n_out);
    gt_rangeset_free(&out);
    gt_upstream_map_free(m);
    gt_routes_free(r);
    gt_upstreams_free(names);
}

int main(void)
{
    if (!getenv("GEOTAP_SHARED")) {
        fprintf(stderr, "GEOTAP_SHARED not set\n");
        return 2;
    }
    test_random();
    test_asn_csv();
    test_upstream(0);
    test_upstream(1);
    return check_result();
}
