/* Unit tests of the compiled classifier on MaxMind's test databases (fake
 * data, exact expectations checked with mmdblookup) and on hand-made
 * sources: libmaxminddb is the oracle for every MaxMind lookup. */
#include "check.h"
#include "classifier_oracle.h"
#include "geotap/classifier.h"
#include "geotap/geodata.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char mmdb_dir[1024];

static const char *tdb(const char *name)
{
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", mmdb_dir, name);
    return buf[k];
}

static uint32_t v4(const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        fprintf(stderr, "bad test address %s\n", s);
        exit(2);
    }
    return ntohl(a.s_addr);
}

static const struct gt_class *cls(const gt_classifier *c, const char *addr)
{
    struct in6_addr a6;
    if (strchr(addr, ':')) {
        if (inet_pton(AF_INET6, addr, &a6) != 1) {
            fprintf(stderr, "bad test address %s\n", addr);
            exit(2);
        }
        return gt_classifier_class(c, gt_classify6(c, a6.s6_addr));
    }
    return gt_classifier_class(c, gt_classify4(c, v4(addr)));
}

#define CHECK_CC(c, addr, want) do { const struct gt_class *k_ = cls(c, addr); \
    CHECK_MSG(strcmp(k_->cc, want) == 0, "%s: country %s, want %s", addr, k_->cc, want); } while (0)
#define CHECK_ASN(c, addr, want) do { const struct gt_class *k_ = cls(c, addr); \
    CHECK_MSG(k_->asn == (want), "%s: asn %u, want %u", addr, k_->asn, (unsigned)(want)); } while (0)

static void test_exact(void)
{
    const char *asn[] = { tdb("GeoLite2-ASN-Test.mmdb") };
    struct gt_classifier_opts o = { .country_db = tdb("GeoLite2-Country-Test.mmdb"),
                                    .asn_dbs = asn, .n_asn_dbs = 1 };
    char err[512];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (!c)
        return;
    /* expectations from mmdblookup on the same files */
    CHECK_CC(c, "81.2.69.142", "GB");
    CHECK_CC(c, "89.160.20.112", "SE");
    CHECK_CC(c, "2001:218::1", "JP");
    CHECK_CC(c, "2001:218:ffff:ffff:ffff:ffff:ffff:ffff", "JP");
    CHECK_CC(c, "2a02:cf40::1", "NO");
    CHECK_CC(c, "::ffff:81.2.69.142", "GB");
    CHECK_CC(c, "::81.2.69.142", "GB");
    CHECK_CC(c, "2002:5102:458e::", "GB");
    CHECK_CC(c, "1.2.3.4", "ZZ");
    CHECK_ASN(c, "1.2.3.4", 0);
    CHECK_EQ_U(gt_classify4(c, v4("1.2.3.4")), 0);      /* unknown everywhere is class 0 */
    CHECK_ASN(c, "1.128.0.0", 1221);
    CHECK_ASN(c, "1.159.255.255", 1221);
    CHECK_ASN(c, "1.127.255.255", 0);
    CHECK_ASN(c, "1.160.0.0", 0);
    CHECK_ASN(c, "12.81.92.0", 7018);
    CHECK_ASN(c, "2600:6000::1", 237);
    const char *org = gt_classifier_asn_org(c, 1221);
    CHECK_MSG(org && strcmp(org, "Telstra Pty Ltd") == 0, "org of 1221: %s", org ? org : "(null)");
    org = gt_classifier_asn_org(c, 237);
    CHECK_MSG(org && strcmp(org, "Merit Network Inc.") == 0, "org of 237: %s", org ? org : "(null)");
    CHECK(gt_classifier_asn_org(c, 4294967295u) == NULL);
    const struct gt_class *z = gt_classifier_class(c, 0);
    CHECK(strcmp(z->cc, "ZZ") == 0 && z->asn == 0 && z->upstream == 0 && z->flags == 0);
    CHECK(gt_classifier_memory(c) > 0);
    CHECK(gt_classifier_build_seconds(c) >= 0);
    CHECK(strcmp(gt_classifier_upstream_name(c, 0), "") == 0);
    gt_classifier_free(c);
}

/* Every network of one test DB (first, last, and the addresses just
 * outside), plus random addresses: the classifier equals libmaxminddb. */
static void cross_check(const char *name, int want_asn)
{
    const char *path = tdb(name);
    MMDB_s db;
    CHECK_MSG(MMDB_open(path, MMDB_MODE_MMAP, &db) == MMDB_SUCCESS, "open %s", path);
    struct gt_classifier_opts o = { 0 };
    const char *asn[] = { path };
    if (want_asn) {
        o.asn_dbs = asn;
        o.n_asn_dbs = 1;
    } else {
        o.country_db = path;
    }
    char err[512];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    struct gt_rangeset rs = { 0 };
    int r = want_asn ? gt_source_mmdb_asn(path, &rs, NULL, err, sizeof err)
                     : gt_source_mmdb_country(path, &rs, err, sizeof err);
    CHECK_MSG(r == 0, "%s", err);
    CHECK_MSG(rs.n4 > 0 && rs.n6 > 0, "%s: %zu v4, %zu v6 networks", name, rs.n4, rs.n6);
    if (!c) {
        MMDB_close(&db);
        return;
    }
    long bad = 0, n = 0;
    char buf[64];
    /* addresses to probe: chosen from the walk, judged by libmaxminddb */
    for (size_t i = 0; i < rs.n4 && bad < 20; i++) {
        uint32_t probe[4] = { rs.v4[i].lo, rs.v4[i].hi, rs.v4[i].lo - 1, rs.v4[i].hi + 1 };
        for (int k = 0; k < 4; k++) {
            const struct gt_class *g = gt_classifier_class(c, gt_classify4(c, probe[k]));
            n++;
            if (want_asn ? g->asn != oracle_asn(&db, 0, probe[k], NULL)
                         : (oracle_cc(&db, 0, probe[k], NULL, buf), strcmp(g->cc, buf) != 0)) {
                fmt4(probe[k], buf);
                CHECK_MSG(0, "%s: %s differs from libmaxminddb", name, buf);
                bad++;
            }
        }
    }
    for (size_t i = 0; i < rs.n6 && bad < 20; i++) {
        gt_u128 probe[4] = { rs.v6[i].lo, rs.v6[i].hi, rs.v6[i].lo - 1, rs.v6[i].hi + 1 };
        for (int k = 0; k < 4; k++) {
            uint8_t a[16];
            gt_u128_to_bytes(probe[k], a);
            const struct gt_class *g = gt_classifier_class(c, gt_classify6(c, a));
            n++;
            if (want_asn ? g->asn != oracle_asn(&db, 1, 0, a)
                         : (oracle_cc(&db, 1, 0, a, buf), strcmp(g->cc, buf) != 0)) {
                fmt6(a, buf);
                CHECK_MSG(0, "%s: %s differs from libmaxminddb", name, buf);
                bad++;
            }
        }
    }
    for (int i = 0; i < 100000 && bad < 20; i++) {
        uint32_t a4 = (uint32_t)oracle_rand();
        uint8_t a6[16];
        oracle_rand6(a6);
        const struct gt_class *g4 = gt_classifier_class(c, gt_classify4(c, a4));
        const struct gt_class *g6 = gt_classifier_class(c, gt_classify6(c, a6));
        char cc4[3], cc6[3];
        n += 2;
        if (want_asn ? g4->asn != oracle_asn(&db, 0, a4, NULL)
                     : (oracle_cc(&db, 0, a4, NULL, cc4), strcmp(g4->cc, cc4) != 0)) {
            fmt4(a4, buf);
            CHECK_MSG(0, "%s: %s differs from libmaxminddb", name, buf);
            bad++;
        }
        if (want_asn ? g6->asn != oracle_asn(&db, 1, 0, a6)
                     : (oracle_cc(&db, 1, 0, a6, cc6), strcmp(g6->cc, cc6) != 0)) {
            fmt6(a6, buf);
            CHECK_MSG(0, "%s: %s differs from libmaxminddb", name, buf);
            bad++;
        }
    }
    CHECK(n > 200000);
    /* the batch lookups, against the same oracle (odd count: a partial group) */
    enum { NB = 50001 };
    uint32_t *b4 = malloc(NB * sizeof *b4), *id4 = malloc(NB * sizeof *id4), *id6 = malloc(NB * sizeof *id6);
    uint8_t (*b6)[16] = malloc(NB * sizeof *b6);
    for (size_t i = 0; i < NB; i++) {
        b4[i] = i < rs.n4 ? rs.v4[i].hi : (uint32_t)oracle_rand();
        if (i < rs.n6)
            gt_u128_to_bytes(rs.v6[i].lo, b6[i]);
        else
            oracle_rand6(b6[i]);
    }
    gt_classify4_batch(c, b4, id4, NB);
    gt_classify6_batch(c, (const uint8_t (*)[16])b6, id6, NB);
    for (size_t i = 0; i < NB && bad < 40; i++) {
        const struct gt_class *g4 = gt_classifier_class(c, id4[i]), *g6 = gt_classifier_class(c, id6[i]);
        char cc[3];
        if (want_asn ? g4->asn != oracle_asn(&db, 0, b4[i], NULL)
                     : (oracle_cc(&db, 0, b4[i], NULL, cc), strcmp(g4->cc, cc) != 0)) {
            fmt4(b4[i], buf);
            CHECK_MSG(0, "%s: batch %s differs from libmaxminddb", name, buf);
            bad++;
        }
        if (want_asn ? g6->asn != oracle_asn(&db, 1, 0, b6[i])
                     : (oracle_cc(&db, 1, 0, b6[i], cc), strcmp(g6->cc, cc) != 0)) {
            fmt6(b6[i], buf);
            CHECK_MSG(0, "%s: batch %s differs from libmaxminddb", name, buf);
            bad++;
        }
    }
    CHECK_EQ_U(bad, 0);
    free(b4); free(id4); free(id6); free(b6);
    gt_rangeset_free(&rs);
    gt_classifier_free(c);
    MMDB_close(&db);
}

static void test_home_and_upstream(void)
{
    const char *asn[] = { tdb("GeoLite2-ASN-Test.mmdb") };
    const char *home[] = { "81.2.69.0/24", "2001:218::/32" };
    struct gt_rangeset up = { 0 };
    gt_rangeset_add4(&up, v4("1.128.0.0"), v4("1.143.255.255"), 1);
    gt_rangeset_add4(&up, v4("81.2.69.142"), v4("81.2.69.142"), 2);   /* inside a home net */
    struct in6_addr a6;
    inet_pton(AF_INET6, "2600::", &a6);
    gt_u128 lo = gt_u128_from_bytes(a6.s6_addr);
    gt_rangeset_add6(&up, lo, lo | (((gt_u128)1 << 116) - 1), 2);      /* 2600::/12 */
    const char *names[] = { "", "up-a", "up-b" };
    struct gt_classifier_opts o = { .country_db = tdb("GeoLite2-Country-Test.mmdb"),
                                    .asn_dbs = asn, .n_asn_dbs = 1,
                                    .home_nets = home, .n_home_nets = 2,
                                    .upstream_ranges = &up, .upstream_names = names,
                                    .n_upstream_names = 3 };
    char err[512];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (!c)
        return;
    const struct gt_class *k = cls(c, "81.2.69.142");
    CHECK(k->flags & GT_CLASS_HOME);
    CHECK(strcmp(k->cc, "ZZ") == 0 && k->asn == 0 && k->upstream == 0);
    CHECK(cls(c, "81.2.69.0")->flags & GT_CLASS_HOME);
    CHECK(cls(c, "81.2.69.255")->flags & GT_CLASS_HOME);
    CHECK(!(cls(c, "81.2.70.0")->flags & GT_CLASS_HOME));
    CHECK(!(cls(c, "81.2.68.255")->flags & GT_CLASS_HOME));
    CHECK(cls(c, "2001:218::1")->flags & GT_CLASS_HOME);
    CHECK(!(cls(c, "2001:219::1")->flags & GT_CLASS_HOME));
    k = cls(c, "1.130.0.0");
    CHECK(k->asn == 1221 && k->upstream == 1 && !k->flags);
    CHECK(strcmp(gt_classifier_upstream_name(c, k->upstream), "up-a") == 0);
    k = cls(c, "1.143.255.255");
    CHECK(k->asn == 1221 && k->upstream == 1);
    k = cls(c, "1.144.0.0");
    CHECK(k->asn == 1221 && k->upstream == 0);
    k = cls(c, "2600:6000::1");
    CHECK(k->asn == 237 && k->upstream == 2);
    CHECK(strcmp(gt_classifier_upstream_name(c, 2), "up-b") == 0);
    CHECK(strcmp(gt_classifier_upstream_name(c, 99), "") == 0);
    /* the id space is dense and the tuples distinct */
    uint32_t n = gt_classifier_nclasses(c);
    CHECK(n >= 5);
    int dup = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            const struct gt_class *x = gt_classifier_class(c, i), *y = gt_classifier_class(c, j);
            if (!strcmp(x->cc, y->cc) && x->asn == y->asn && x->upstream == y->upstream && x->flags == y->flags)
                dup++;
        }
    CHECK_EQ_U(dup, 0);
    for (int i = 0; i < 10000; i++)
        CHECK(gt_classify4(c, (uint32_t)oracle_rand()) < n);
    gt_classifier_free(c);
    gt_rangeset_free(&up);

    const char *badhome[] = { "1.2.3.4/33" };
    struct gt_classifier_opts b = { .home_nets = badhome, .n_home_nets = 1 };
    c = gt_classifier_build(&b, err, sizeof err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "1.2.3.4/33") != NULL, "%s", err);
    gt_classifier_free(c);

    /* nothing loaded: everything is class 0 */
    struct gt_classifier_opts none = { 0 };
    c = gt_classifier_build(&none, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (c) {
        CHECK_EQ_U(gt_classifier_nclasses(c), 1);
        CHECK_EQ_U(gt_classify4(c, 0x01020304), 0);
        uint8_t z[16] = { 0x20, 0x01 };
        CHECK_EQ_U(gt_classify6(c, z), 0);
        gt_classifier_free(c);
    }
}

int main(void)
{
    const char *shared = getenv("GEOTAP_SHARED");
    if (!shared) {
        fprintf(stderr, "GEOTAP_SHARED not set\n");
        return 1;
    }
    snprintf(mmdb_dir, sizeof mmdb_dir, "%s/mmdb", shared);
    test_exact();
    cross_check("GeoLite2-Country-Test.mmdb", 0);
    cross_check("GeoIP2-Country-Test.mmdb", 0);
    cross_check("GeoLite2-ASN-Test.mmdb", 1);
    cross_check("GeoIP2-ISP-Test.mmdb", 1);
    test_home_and_upstream();
    return check_result();
}
