/* libFuzzer: the --upstream-map loader. The input is a map file; when it
 * loads, its rules are compiled with a small ASN rangeset (the result must
 * be sorted and disjoint) and the L2 rules resolved for a few frames. */
#include "fuzz_util.h"
#include "geotap/upstream_map.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char path[64], err[512];
    int fd = fuzz_file(d, n, path, sizeof path);
    if (fd < 0)
        return 0;
    gt_upstreams *names = gt_upstreams_new();
    FUZZ_CHECK(names);
    err[0] = 0;
    gt_upstream_map *m = gt_upstream_map_load(path, names, err, sizeof err);
    close(fd);
    if (!m) {
        FUZZ_CHECK(err[0] && !strchr(err, '\n') && !strchr(err, '\x1b'));
        gt_upstreams_free(names);
        return 0;
    }
    struct gt_rangeset asn = { 0 }, out = { 0 };
    gt_rangeset_add4(&asn, 0, 0xffffffffu, 1);
    gt_rangeset_add4(&asn, 0x0a000000, 0x0affffff, 5);
    gt_rangeset_add6(&asn, 0, ~(gt_u128)0, 7);
    FUZZ_CHECK(gt_upstream_compile(NULL, m, &asn, names, &out) == 0);
    uint32_t nu = gt_upstreams_count(names);
    for (size_t i = 0; i < out.n4; i++) {
        FUZZ_CHECK(out.v4[i].lo <= out.v4[i].hi && out.v4[i].val < nu);
        FUZZ_CHECK(!i || out.v4[i - 1].hi < out.v4[i].lo);
    }
    for (size_t i = 0; i < out.n6; i++) {
        FUZZ_CHECK(out.v6[i].lo <= out.v6[i].hi && out.v6[i].val < nu);
        FUZZ_CHECK(!i || out.v6[i - 1].hi < out.v6[i].lo);
    }
    struct gt_pkt p;
    memset(&p, 0, sizeof p);
    for (int k = 0; k < 4; k++) {
        p.has_mac = k & 1;
        p.has_vlan = (k >> 1) & 1;
        p.vlan = (uint16_t)(n & 0xfff);
        for (int b = 0; b < 6; b++)
            p.src_mac[b] = n > (size_t)b ? d[n - 1 - (size_t)b] : 0;
        FUZZ_CHECK(gt_upstream_map_l2(m, &p, k & 1 ? "eth0" : NULL) < nu);
    }
    uint32_t ups[64];
    FUZZ_CHECK(gt_upstream_map_l2_upstreams(m, ups, 64) <= 64);
    gt_rangeset_free(&asn);
    gt_rangeset_free(&out);
    gt_upstream_map_free(m);
    gt_upstreams_free(names);
    return 0;
}
