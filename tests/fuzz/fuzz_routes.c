/* libFuzzer: the BGP routes line parser. Each input line goes to
 * gt_routes_apply_line(); the table is then exported, normalised (sorted,
 * disjoint), walked and queried. Odd inputs also go through gt_routes_load
 * (plain or gzip text; MRT would need bgpdump, pointed nowhere here). */
#include "fuzz_util.h"
#include "geotap/routes.h"

#include <string.h>

static int count_cb(void *ctx, const struct gt_route_info *ri)
{
    FUZZ_CHECK(ri->nup <= GT_ROUTES_MAX_UP && ri->nup <= ri->nup_total);
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char err[512];
    gt_routes *r = gt_routes_new();
    gt_upstreams *names = gt_upstreams_new();
    FUZZ_CHECK(r && names);
    if (n && (d[0] & 1)) {
        char path[64];
        setenv("GEOTAP_BGPDUMP", "/nonexistent/bgpdump", 1);
        int fd = fuzz_file(d + 1, n - 1, path, sizeof path);
        if (fd >= 0) {
            gt_routes_load(r, path, err, sizeof err);
            close(fd);
        }
    } else {
        char *buf = malloc(n + 1);
        FUZZ_CHECK(buf);
        memcpy(buf, d, n);
        buf[n] = 0;
        for (char *s = buf, *e; s && *s; s = e) {
            e = strchr(s, '\n');
            if (e)
                *e++ = 0;
            gt_routes_apply_line(r, s, err, sizeof err);
        }
        free(buf);
    }
    struct gt_rangeset rs = { 0 };
    FUZZ_CHECK(gt_routes_export(r, names, &rs) == 0 && gt_rangeset_normalize(&rs) == 0);
    for (size_t i = 1; i < rs.n4; i++)
        FUZZ_CHECK(rs.v4[i - 1].hi < rs.v4[i].lo);
    for (size_t i = 1; i < rs.n6; i++)
        FUZZ_CHECK(rs.v6[i - 1].hi < rs.v6[i].lo);
    size_t np = 0;
    gt_routes_foreach(r, count_cb, &np);
    struct gt_routes_stats st;
    gt_routes_stats(r, &st);
    FUZZ_CHECK(np == st.prefixes4 + st.prefixes6);
    struct gt_route_info ri;
    uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    gt_routes_lookup4(r, 0x0a000001, &ri);
    gt_routes_lookup6(r, a6, &ri);
    gt_rangeset_free(&rs);
    gt_routes_free(r);
    gt_upstreams_free(names);
    return 0;
}
