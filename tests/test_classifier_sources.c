/* Unit tests of the classifier's sources on hand-written files: the ASN CSV
 * format (quotes, integers, IPv6, overlaps), malformed lines, and missing,
 * truncated and corrupt databases (clear error naming the file, no crash). */
#include "check.h"
#include "geotap/classifier.h"
#include "geotap/geodata.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[512];

static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    FILE *f = fopen(path[k], "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path[k], strerror(errno));
        exit(2);
    }
    return path[k];
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static const struct gt_class *cls(const gt_classifier *c, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return gt_classifier_class(c, gt_classify4(c, ntohl(a4.s_addr)));
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return gt_classifier_class(c, gt_classify6(c, a6.s6_addr));
    fprintf(stderr, "bad test address %s\n", addr);
    exit(2);
}

#define CHECK_ASN(c, addr, want) do { const struct gt_class *k_ = cls(c, addr); \
    CHECK_MSG(k_->asn == (want), "%s: asn %u, want %u", addr, k_->asn, (unsigned)(want)); } while (0)
#define CHECK_ORG(c, asn, want) do { const char *o_ = gt_classifier_asn_org(c, asn); \
    CHECK_MSG(o_ && strcmp(o_, want) == 0, "org of %u: '%s', want '%s'", (unsigned)(asn), o_ ? o_ : "(null)", want); } while (0)

static void test_csv_good(void)
{
    const char *csv =
        "range_start,range_end,asn,organization\n"
        "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
        "1.0.1.0,1.0.1.255,64500,\"LLC \"\"SPUTNIK\"\"\"\r\n"
        "16777728,16777983,64501,Integer Org\n"
        "\n"
        "2001:db8::,2001:db8::ffff,64502,V6 Org\n"
        "42540766490510755371168322545197776896,42540766490510755371168322545197842431,64503,Int V6\n"
        "10.0.0.0,10.255.255.255,64510,Big\n"
        "10.1.0.0,10.1.0.255,64511,Inner\n"
        "10.1.0.0,10.1.0.15,64512,Innermost\n"
        "11.0.0.0,11.0.0.255,0,Reserved\n"
        "12.0.0.0,12.0.0.255,64515,Covered\n"
        "12.0.0.16,12.0.0.31,0,Hole\n"
        "255.255.255.0,255.255.255.255,64513,Top\n"
        "ffff:ffff:ffff:ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,64514,\n";
    const char *path = write_text("asn-good.csv", csv);
    const char *asn[] = { path };
    struct gt_classifier_opts o = { .asn_dbs = asn, .n_asn_dbs = 1 };
    char err[512];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (!c)
        return;
    CHECK_ASN(c, "1.0.0.0", 13335);
    CHECK_ASN(c, "1.0.0.255", 13335);
    CHECK_ORG(c, 13335, "Cloudflare, Inc.");
    CHECK_ASN(c, "1.0.1.9", 64500);
    CHECK_ORG(c, 64500, "LLC \"SPUTNIK\"");
    CHECK_ASN(c, "1.0.2.0", 64501);
    CHECK_ASN(c, "1.0.2.255", 64501);
    CHECK_ASN(c, "1.0.3.0", 0);
    CHECK_ORG(c, 64501, "Integer Org");
    CHECK_ASN(c, "2001:db8::", 64502);
    CHECK_ASN(c, "2001:db8::ffff", 64502);
    CHECK_ASN(c, "2001:db8::1:0", 0);
    CHECK_ASN(c, "2001:db9::7", 64503);
    CHECK_ASN(c, "2001:db9::1:0", 0);
    /* overlapping lines: the later line wins where it applies */
    CHECK_ASN(c, "10.0.0.1", 64510);
    CHECK_ASN(c, "10.1.0.0", 64512);
    CHECK_ASN(c, "10.1.0.15", 64512);
    CHECK_ASN(c, "10.1.0.16", 64511);
    CHECK_ASN(c, "10.1.0.255", 64511);
    CHECK_ASN(c, "10.1.1.0", 64510);
    CHECK_ASN(c, "10.255.255.255", 64510);
    CHECK_ASN(c, "11.0.0.1", 0);
    CHECK_ASN(c, "12.0.0.15", 64515);
    CHECK_ASN(c, "12.0.0.16", 0);
    CHECK_ASN(c, "12.0.0.32", 64515);
    CHECK_ASN(c, "255.255.255.255", 64513);
    CHECK_ASN(c, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 64514);
    CHECK(gt_classifier_asn_org(c, 64514) == NULL);
    CHECK_ASN(c, "8.8.8.8", 0);
    gt_classifier_free(c);

    /* a later file wins over an earlier one */
    const char *p2 = write_text("asn-later.csv", "1.0.0.128,1.0.1.3,65000,Later\n");
    const char *two[] = { path, p2 };
    struct gt_classifier_opts o2 = { .asn_dbs = two, .n_asn_dbs = 2 };
    c = gt_classifier_build(&o2, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (c) {
        CHECK_ASN(c, "1.0.0.127", 13335);
        CHECK_ASN(c, "1.0.0.128", 65000);
        CHECK_ASN(c, "1.0.1.3", 65000);
        CHECK_ASN(c, "1.0.1.4", 64500);
        gt_classifier_free(c);
    }

    /* an empty CSV is valid and gives nothing */
    const char *empty = write_text("empty.csv", "");
    struct gt_rangeset rs = { 0 };
    CHECK(gt_source_asn_csv(empty, &rs, NULL, err, sizeof err) == 0);
    CHECK(rs.n4 == 0 && rs.n6 == 0);
    gt_rangeset_free(&rs);
}

static void expect_csv_error(const char *name, const char *text, const char *line_tag)
{
    const char *path = write_text(name, text);
    struct gt_rangeset rs = { 0 };
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    char err[512] = "";
    int r = gt_source_asn_csv(path, &rs, orgs, err, sizeof err);
    CHECK_MSG(r == -1, "%s accepted", name);
    CHECK_MSG(strstr(err, path) != NULL, "error does not name the file: %s", err);
    if (line_tag)
        CHECK_MSG(strstr(err, line_tag) != NULL, "error does not name line %s: %s", line_tag, err);
    gt_rangeset_free(&rs);
    gt_asn_orgs_free(orgs);
}

static void test_csv_bad(void)
{
    expect_csv_error("bad-asn.csv", "1.0.0.0,1.0.0.255,1,A\n1.0.1.0,1.0.1.255,abc,B\n", ":2:");
    expect_csv_error("bad-fields.csv", "1.0.0.0,1.0.0.255\n", ":1:");
    expect_csv_error("bad-many.csv", "1.0.0.0,1.0.0.255,1,A,B\n", ":1:");
    expect_csv_error("bad-addr.csv", "\n\n1.0.0.300,1.0.1.0,5,x\n", ":3:");
    expect_csv_error("bad-order.csv", "1.0.0.9,1.0.0.1,5,x\n", ":1:");
    expect_csv_error("bad-mixed.csv", "1.0.0.0,2001::,5,x\n", ":1:");
    expect_csv_error("bad-quote.csv", "1.0.0.0,1.0.0.1,5,\"x\n", ":1:");
    expect_csv_error("bad-bigasn.csv", "1.0.0.0,1.0.0.1,4294967296,x\n", ":1:");
    expect_csv_error("bad-bigint.csv", "0,340282366920938463463374607431768211456,5,x\n", ":1:");
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + (i >> 3) * 17);
    const char *p = write_file("junk.csv", junk, sizeof junk);
    struct gt_rangeset rs = { 0 };
    char err[512] = "";
    CHECK(gt_source_asn_csv(p, &rs, NULL, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, p) != NULL, "%s", err);
    gt_rangeset_free(&rs);

    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such.csv", tmpdir);
    const char *asn[] = { missing };
    struct gt_classifier_opts o = { .asn_dbs = asn, .n_asn_dbs = 1 };
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, missing) != NULL, "%s", err);
    CHECK(gt_source_asn_csv(tmpdir, &rs, NULL, err, sizeof err) == -1);   /* a directory */
    CHECK_MSG(strstr(err, tmpdir) != NULL, "%s", err);
    gt_rangeset_free(&rs);
}

/* Build with path as the country DB (or ASN DB); must not crash; when it
 * fails the error names the file. Returns 1 when it failed. */
static int try_mmdb(const char *path, int as_asn)
{
    const char *asn[] = { path };
    struct gt_classifier_opts o = { 0 };
    if (as_asn) {
        o.asn_dbs = asn;
        o.n_asn_dbs = 1;
    } else {
        o.country_db = path;
    }
    char err[512] = "";
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    if (c) {
        gt_classify4(c, 0x51024590);
        gt_classifier_free(c);
        return 0;
    }
    CHECK_MSG(strstr(err, path) != NULL, "error does not name the file: %s", err);
    CHECK_MSG(strchr(err, '\n') == NULL, "error is not one line: %s", err);
    return 1;
}

static void test_mmdb_bad(const char *shared)
{
    char src[700];
    snprintf(src, sizeof src, "%s/mmdb/GeoLite2-Country-Test.mmdb", shared);
    size_t len;
    unsigned char *db = read_all(src, &len);
    CHECK_MSG(db != NULL, "cannot read %s", src);
    if (!db)
        return;
    char missing[700];
    snprintf(missing, sizeof missing, "%s/missing.mmdb", tmpdir);
    CHECK(try_mmdb(missing, 0) == 1);
    CHECK(try_mmdb(missing, 1) == 1);
    CHECK(try_mmdb(write_file("empty.mmdb", "", 0), 0) == 1);
    CHECK(try_mmdb(write_file("half.mmdb", db, len / 2), 0) == 1);
    CHECK(try_mmdb(write_file("tail-cut.mmdb", db, len - 100), 0) == 1);
    CHECK(try_mmdb(write_text("text.mmdb", "this is not a database\n"), 0) == 1);
    CHECK(try_mmdb(write_file("half-asn.mmdb", db, len / 3), 1) == 1);
    /* a database of the wrong kind */
    char asnpath[700];
    snprintf(asnpath, sizeof asnpath, "%s/mmdb/GeoLite2-ASN-Test.mmdb", shared);
    CHECK(try_mmdb(asnpath, 0) == 1);
    CHECK(try_mmdb(src, 1) == 1);
    /* the metadata is intact but the tree points outside the file */
    unsigned char *bad = malloc(len);
    memcpy(bad, db, len);
    memset(bad, 0xff, 4096);
    CHECK(try_mmdb(write_file("tree-ff.mmdb", bad, len), 0) == 1);
    /* random damage anywhere: no crash, and errors name the file */
    uint64_t s = 7;
    int failed = 0;
    for (int round = 0; round < 60; round++) {
        memcpy(bad, db, len);
        for (int k = 0; k < 8; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)(s >> 33) % (len - 200);   /* keep the metadata readable */
            bad[at] = (unsigned char)(s >> 20);
        }
        failed += try_mmdb(write_file("damaged.mmdb", bad, len), round & 1);
    }
    fprintf(stderr, "damaged databases rejected: %d of 60\n", failed);
    free(bad);
    free(db);
}

static void test_asn_autodetect(const char *shared)
{
    /* a MaxMind ASN DB under a name without .mmdb is still recognised */
    char src[700];
    snprintf(src, sizeof src, "%s/mmdb/GeoLite2-ASN-Test.mmdb", shared);
    size_t len;
    unsigned char *db = read_all(src, &len);
    CHECK(db != NULL);
    if (!db)
        return;
    const char *p = write_file("asn-db.bin", db, len);
    free(db);
    struct gt_rangeset rs = { 0 };
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    char err[512];
    CHECK_MSG(gt_source_asn(p, &rs, orgs, err, sizeof err) == 0, "%s", err);
    CHECK(rs.n4 > 0);
    const char *org = gt_asn_orgs_get(orgs, 1221);
    CHECK(org && strcmp(org, "Telstra Pty Ltd") == 0);
    gt_rangeset_free(&rs);
    gt_asn_orgs_free(orgs);
}

static void cleanup(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
    const char *shared = getenv("GEOTAP_SHARED");
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/gt-classifier-XXXXXX", t && *t ? t : "/tmp");
    if (!shared || !mkdtemp(tmpdir)) {
        fprintf(stderr, "need GEOTAP_SHARED and a temporary directory\n");
        return 1;
    }
    test_csv_good();
    test_csv_bad();
    test_mmdb_bad(shared);
    test_asn_autodetect(shared);
    cleanup();
    return check_result();
}
