/* Unit tests of the route table: path rules, shares, withdrawals, session
 * resets, longest match, export order, malformed input, the file reader and
 * the upstream name table. Expectations are hand-computed from the rules in
 * include/geotap/routes.h. */
#include "geotap/routes.h"
#include "check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[256];

static int apply(gt_routes *r, const char *line)
{
    int rc = gt_routes_apply_line(r, line, err, sizeof err);
    if (rc)
        fprintf(stderr, "  (apply: %s)\n", err);
    return rc;
}

/* origin and upstream of one path announced by one peer on a fresh table */
static void path_case(const char *path, uint32_t origin, uint32_t upstream, int line)
{
    gt_routes *r = gt_routes_new();
    char buf[512];
    snprintf(buf, sizeof buf, "BGP4MP|1|A|192.0.2.1|64500|198.51.100.0/24|%s|IGP|192.0.2.1|0|0||NAG||", path);
    struct gt_route_info ri;
    CHECK_MSG(apply(r, buf) == 0, "line %d path '%s'", line, path);
    CHECK_MSG(gt_routes_get(r, "198.51.100.0/24", &ri) == 1, "line %d", line);
    CHECK_MSG(ri.origin == origin && ri.upstream == upstream,
              "line %d path '%s': origin %u upstream %u, want %u %u", line, path, ri.origin, ri.upstream,
              origin, upstream);
    gt_routes_free(r);
}

static uint32_t rs_value4(const struct gt_rangeset *rs, uint32_t a)
{
    for (size_t i = 0; i < rs->n4; i++)
        if (rs->v4[i].lo <= a && a <= rs->v4[i].hi)
            return rs->v4[i].val;
    return 0;
}

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return ntohl(a.s_addr);
}

static void test_paths(void)
{
    path_case("2914 1239 4837 131279", 131279, 4837, __LINE__);
    path_case("2914 1239 4837 131279 131279", 131279, 4837, __LINE__);   /* prepends */
    path_case("2914 4837 4837 4837 131279 131279", 131279, 4837, __LINE__);
    path_case("7545", 7545, 0, __LINE__);                /* one AS: no upstream */
    path_case("7545 7545 7545", 7545, 0, __LINE__);
    path_case("", 0, 0, __LINE__);                       /* iBGP-local */
    path_case("1273 55410 38266 {38266}", 38266, 55410, __LINE__);  /* one-member set */
    path_case("1853 1239 13659 {13659,701}", 13659, 1239, __LINE__); /* aggregate */
    path_case("3255 {65530,65531}", 3255, 0, __LINE__);
    path_case("{65531,65530}", 65530, 0, __LINE__);
    path_case("101 47065 {61575} 47065", 47065, 61575, __LINE__);
    path_case("1 {9,8} 3", 3, 8, __LINE__);              /* mid-path set: lowest member */
    path_case("1 (65000 65001) 2 3", 3, 2, __LINE__);    /* confederation skipped */
    path_case("1 2 3 [65000 65001]", 3, 2, __LINE__);
    path_case("1 1.10 4200000000", 4200000000u, 65546, __LINE__);   /* asdot, 32-bit */
}

static void test_shares_and_updates(void)
{
    gt_routes *r = gt_routes_new();
    struct gt_route_info ri;
    /* four peers on 10.0.0.0/8: upstreams 20, 20, 10 and none */
    CHECK(apply(r, "TABLE_DUMP2|1|B|192.0.2.1|1|10.0.0.0/8|1 20 100|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "TABLE_DUMP2|1|B|192.0.2.2|2|10.0.0.0/8|2 20 100 100|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "TABLE_DUMP|1|B|192.0.2.3|3|10.0.0.0/8|3 10 100|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "TABLE_DUMP|1|B|192.0.2.4|100|10.0.0.0/8|100|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1);
    CHECK_EQ_U(ri.paths, 4);
    CHECK_EQ_U(ri.origin, 100);
    CHECK_EQ_U(ri.upstream, 20);
    CHECK_EQ_U(ri.nup, 3);
    CHECK_EQ_U(ri.up[0].asn, 20);
    CHECK(ri.up[0].share == 0.5);
    double sum = 0;
    for (uint32_t i = 0; i < ri.nup; i++)
        sum += ri.up[i].share;
    CHECK(sum == 1.0);

    /* peer 1 replaces its route (upstream 10 now): 10 has 2 paths, 20 one */
    CHECK(apply(r, "BGP4MP|2|A|192.0.2.1|1|10.0.0.0/8|1 10 100|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.upstream == 10 && ri.paths == 4);
    /* peer 1 moves to 30 and peer 3 withdraws: 20, 30 and none, one path each:
     * tie between 20 and 30 -> lowest ASN; the pathless one never wins */
    CHECK(apply(r, "BGP4MP|2|A|192.0.2.1|1|10.0.0.0/8|1 30 100|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "BGP4MP|2|W|192.0.2.3|3|10.0.0.0/8") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.upstream == 20 && ri.paths == 3);
    CHECK(ri.nup == 3 && ri.up[0].asn == 0 && ri.up[1].asn == 20 && ri.up[2].asn == 30);
    /* origin tie: peer 2 now sees origin 99 -> origins 100, 99, 100: 100 wins;
     * then peer 1 withdraws: 99 and 100 tie -> 99 */
    CHECK(apply(r, "BGP4MP|2|A|192.0.2.2|2|10.0.0.0/8|2 20 99|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.origin == 100);
    CHECK(apply(r, "BGP4MP|2|W|192.0.2.1|1|10.0.0.0/8") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.origin == 99 && ri.paths == 2);
    CHECK(apply(r, "BGP4MP|2|A|192.0.2.2|2|10.0.0.0/8|2 20 100|IGP|x|0|0||NAG||") == 0);

    /* only the direct path left: no upstream */
    CHECK(apply(r, "BGP4MP|3|W|192.0.2.1|1|10.0.0.0/8") == 0);
    CHECK(apply(r, "BGP4MP_ET|3.5|W|192.0.2.2|2|10.0.0.0/8") == 0);
    CHECK(apply(r, "BGP4MP|3|W|192.0.2.3|3|10.0.0.0/8") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.upstream == 0 && ri.paths == 1 && ri.origin == 100);
    /* withdrawal by a peer that never announced it, and of an unknown prefix: no-ops */
    CHECK(apply(r, "BGP4MP|3|W|192.0.2.9|9|10.0.0.0/8") == 0);
    CHECK(apply(r, "BGP4MP|3|W|192.0.2.4|100|11.0.0.0/8") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1);

    /* the same address with another AS is another peer */
    CHECK(apply(r, "BGP4MP|4|A|192.0.2.4|101|10.0.0.0/8|101 7 100|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.paths == 2 && ri.upstream == 7);

    /* longest match */
    CHECK(apply(r, "BGP4MP|5|A|192.0.2.1|1|10.1.0.0/16|1 30 200|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "BGP4MP|5|A|192.0.2.1|1|10.1.2.0/24|1 40 300|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_lookup4(r, ip4("10.1.2.3"), &ri) == 1 && ri.len == 24 && ri.origin == 300);
    CHECK(gt_routes_lookup4(r, ip4("10.1.3.3"), &ri) == 1 && ri.len == 16 && ri.upstream == 30);
    CHECK(gt_routes_lookup4(r, ip4("10.200.0.1"), &ri) == 1 && ri.len == 8 && ri.prefix4 == ip4("10.0.0.0"));
    CHECK(gt_routes_lookup4(r, ip4("11.0.0.1"), &ri) == 0);

    /* session reset: peer 1 leaves Established, its routes go; 10.1.2.3 falls back to /8 */
    CHECK(apply(r, "BGP4MP|6|STATE|192.0.2.1|1|6|1") == 0);
    CHECK(gt_routes_lookup4(r, ip4("10.1.2.3"), &ri) == 1 && ri.len == 8);
    CHECK(gt_routes_get(r, "10.1.0.0/16", &ri) == 0);
    /* other state changes change nothing */
    CHECK(apply(r, "BGP4MP|7|STATE|192.0.2.4|100|1|2") == 0);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.paths == 2);
    /* after the session is back, new announcements count again (old ones stay gone) */
    CHECK(apply(r, "BGP4MP|8|A|192.0.2.1|1|10.1.2.0/24|1 41 300|IGP|x|0|0||NAG||") == 0);
    CHECK(gt_routes_get(r, "10.1.2.0/24", &ri) == 1 && ri.upstream == 41 && ri.paths == 1);
    CHECK(gt_routes_get(r, "10.1.0.0/16", &ri) == 0);

    /* a more specific prefix without upstream exports 0 over its covering prefix */
    CHECK(apply(r, "BGP4MP|9|A|192.0.2.1|1|10.9.0.0/16|500|IGP|x|0|0||NAG||") == 0);
    /* IPv6 */
    CHECK(apply(r, "BGP4MP|9|A|2001:db8::1|1|2001:db8::/32|1 60 600|IGP|x|0|0||NAG||") == 0);
    CHECK(apply(r, "BGP4MP|9|A|2001:db8::1|1|2001:db8:1::/48|1 61 601|IGP|x|0|0||NAG||") == 0);
    uint8_t a6[16];
    inet_pton(AF_INET6, "2001:db8:1::5", a6);
    CHECK(gt_routes_lookup6(r, a6, &ri) == 1 && ri.family == 6 && ri.len == 48 && ri.upstream == 61);
    inet_pton(AF_INET6, "2001:db8:2::5", a6);
    CHECK(gt_routes_lookup6(r, a6, &ri) == 1 && ri.len == 32 && ri.origin == 600);

    gt_upstreams *names = gt_upstreams_new();
    struct gt_rangeset rs = { 0 };
    CHECK(gt_routes_export(r, names, &rs) == 0);
    CHECK(gt_rangeset_normalize(&rs) == 0);
    uint32_t i7 = gt_upstreams_intern_asn(names, 7), i41 = gt_upstreams_intern_asn(names, 41);
    CHECK(i7 && i41 && i7 != i41);
    CHECK_EQ_U(rs_value4(&rs, ip4("10.0.0.1")), i7);
    CHECK_EQ_U(rs_value4(&rs, ip4("10.1.2.9")), i41);
    CHECK_EQ_U(rs_value4(&rs, ip4("10.1.3.9")), i7);      /* withdrawn /16: the /8 */
    CHECK_EQ_U(rs_value4(&rs, ip4("10.9.1.1")), 0);       /* specific without upstream */
    CHECK_EQ_U(rs_value4(&rs, ip4("10.10.0.0")), i7);
    CHECK_EQ_U(rs_value4(&rs, ip4("11.0.0.0")), 0);
    CHECK_EQ_U(rs.n6, 3);
    CHECK(strcmp(gt_upstreams_name(names, i41), "AS41") == 0);
    gt_rangeset_free(&rs);
    gt_upstreams_free(names);

    struct gt_routes_stats st;
    gt_routes_stats(r, &st);
    CHECK_EQ_U(st.peer_down, 1);
    CHECK_EQ_U(st.prefixes6, 2);
    gt_routes_free(r);
}

static void test_malformed(void)
{
    gt_routes *r = gt_routes_new();
    const char *bad[] = {
        "hello world",
        "BGP4MP|1|A|192.0.2.1",
        "BGP4MP|1|A|192.0.2.1|x|10.0.0.0/8|1 2|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/33|1 2|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0|1 2|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8|1 2x|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8|1 {2,3|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8|1 99999999999|IGP",
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8",
        "BGP4MP|1|W|192.0.2.1|1|zzz",
        "BGP4MP|1|STATE|192.0.2.1|1|6",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        CHECK_MSG(gt_routes_apply_line(r, bad[i], err, sizeof err) == -1 && err[0], "accepted '%s'", bad[i]);
    }
    CHECK(gt_routes_apply_line(r, "", err, sizeof err) == 0);   /* blank */
    struct gt_routes_stats st;
    gt_routes_stats(r, &st);
    CHECK_EQ_U(st.prefixes4, 0);
    gt_routes_free(r);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static void test_files(void)
{
    char dir[] = "/tmp/gt_routes_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[512];
    gt_routes *r = gt_routes_new();
    struct gt_route_info ri;

    snprintf(p, sizeof p, "%s/missing", dir);
    CHECK(gt_routes_load(r, p, err, sizeof err) == -1 && strstr(err, p));

    const char *txt = "TABLE_DUMP2|1|B|192.0.2.1|1|10.0.0.0/8|1 20 100|IGP|x|0|0||NAG||\r\n"
                      "BGP4MP|2|A|192.0.2.1|1|10.1.0.0/16|1 21 101|IGP|x|0|0||NAG||";  /* no final newline */
    snprintf(p, sizeof p, "%s/ok.txt", dir);
    write_file(p, txt, strlen(txt));
    CHECK(gt_routes_load(r, p, err, sizeof err) == 0);
    CHECK(gt_routes_get(r, "10.1.0.0/16", &ri) == 1 && ri.upstream == 21);
    CHECK(gt_routes_get(r, "10.0.0.0/8", &ri) == 1 && ri.upstream == 20);

    const char *badtxt = "BGP4MP|2|A|192.0.2.1|1|10.2.0.0/16|1 21 101|IGP\nBGP4MP|2|A|192.0.2.1|1|10.3.0.0/16|1 x|IGP\n";
    snprintf(p, sizeof p, "%s/bad.txt", dir);
    write_file(p, badtxt, strlen(badtxt));
    char want[600];
    snprintf(want, sizeof want, "%s:2: ", p);
    CHECK_MSG(gt_routes_load(r, p, err, sizeof err) == -1 && strncmp(err, want, strlen(want)) == 0, "err '%s'", err);

    snprintf(p, sizeof p, "%s/empty", dir);
    write_file(p, "", 0);
    CHECK(gt_routes_load(r, p, err, sizeof err) == 0);

    const char junk[] = "\x01\x02\x03garbage that is neither text nor MRT";
    snprintf(p, sizeof p, "%s/junk", dir);
    write_file(p, junk, sizeof junk);
    CHECK_MSG(gt_routes_load(r, p, err, sizeof err) == -1 && strstr(err, "neither"), "err '%s'", err);

    /* an MRT header (type 16 BGP4MP) goes to bgpdump; a failing one is an error */
    unsigned char mrt[32] = { 0x57, 0x5b, 0x5c, 0x00, 0x00, 16, 0x00, 4, 0, 0, 0, 20 };
    snprintf(p, sizeof p, "%s/fake.mrt", dir);
    write_file(p, mrt, sizeof mrt);
    setenv("GEOTAP_BGPDUMP", "false", 1);
    CHECK_MSG(gt_routes_load(r, p, err, sizeof err) == -1 && strstr(err, "exit 1"), "err '%s'", err);
    setenv("GEOTAP_BGPDUMP", "/nonexistent/bgpdump", 1);
    CHECK_MSG(gt_routes_load(r, p, err, sizeof err) == -1 && strstr(err, "needs"), "err '%s'", err);
    unsetenv("GEOTAP_BGPDUMP");

    /* real bgpdump on a real MRT file whose name a shell would mangle */
    const char *shared = getenv("GEOTAP_SHARED");
    if (shared) {
        char src[512];
        snprintf(src, sizeof src, "%s/bgp/updates.20160811.1600.gz", shared);
        snprintf(p, sizeof p, "%s/-n $(touch pwned); x.gz", dir);
        CHECK(symlink(src, p) == 0);
        gt_routes *r2 = gt_routes_new();
        CHECK_MSG(gt_routes_load(r2, p, err, sizeof err) == 0, "err '%s'", err);
        struct gt_routes_stats st;
        gt_routes_stats(r2, &st);
        CHECK(st.withdraw > 1000 && st.prefixes6 > 0);
        CHECK(access("pwned", F_OK) != 0);
        gt_routes_free(r2);
        unlink(p);
    }
    gt_routes_free(r);
    const char *names[] = { "missing", "ok.txt", "bad.txt", "empty", "junk", "fake.mrt" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static const char *org(const void *ctx, uint32_t asn)
{
    (void)ctx;
    return asn == 4837 ? "CHINA UNICOM China169 Backbone" : NULL;
}

static void test_names(void)
{
    gt_upstreams *t = gt_upstreams_new();
    CHECK_EQ_U(gt_upstreams_count(t), 1);
    CHECK(strcmp(gt_upstreams_names(t)[0], "") == 0);
    uint32_t a = gt_upstreams_intern_asn(t, 4837);
    CHECK(a == 1);
    CHECK_EQ_U(gt_upstreams_intern_asn(t, 4837), a);
    CHECK_EQ_U(gt_upstreams_intern_name(t, "AS4837"), a);
    CHECK_EQ_U(gt_upstreams_intern_name(t, "as4837"), a);
    uint32_t b = gt_upstreams_intern_name(t, "AS4837 via Dandong");   /* a free-form name */
    CHECK(b && b != a);
    uint32_t c = gt_upstreams_intern_name(t, "Transit X");
    CHECK(c && c != b && gt_upstreams_intern_name(t, "Transit X") == c);
    CHECK_EQ_U(gt_upstreams_asn(t, a), 4837);
    CHECK_EQ_U(gt_upstreams_asn(t, c), 0);
    CHECK_EQ_U(gt_upstreams_intern_name(t, ""), 0);
    for (uint32_t i = 1; i <= 3000; i++)   /* growth and rehash */
        CHECK_MSG(gt_upstreams_intern_asn(t, 100000 + i) == 3 + i, "asn %u", 100000 + i);
    CHECK_EQ_U(gt_upstreams_intern_asn(t, 4837), a);
    CHECK(gt_upstreams_apply_orgs(t, org, NULL) == 0);
    CHECK(strcmp(gt_upstreams_name(t, a), "AS4837 CHINA UNICOM China169 Backbone") == 0);
    CHECK(strcmp(gt_upstreams_names(t)[a], "AS4837 CHINA UNICOM China169 Backbone") == 0);
    CHECK(strcmp(gt_upstreams_name(t, 4), "AS100001") == 0);
    CHECK(strcmp(gt_upstreams_name(t, c), "Transit X") == 0);
    CHECK(strcmp(gt_upstreams_name(t, 999999), "") == 0);
    gt_upstreams_free(t);
}

int main(void)
{
    test_paths();
    test_shares_and_updates();
    test_malformed();
    test_files();
    test_names();
    return check_result();
}
