/* Equivalence on the real data (integration): the compiled classifier built
 * from GeoLite2-Country and the @ip-location-db ASN CSVs gives, for every
 * network of the database (first and last address, walked here with
 * MMDB_read_node) and for 1,000,000 random IPv4 and IPv6 addresses, exactly
 * libmaxminddb's country.iso_code and the ASN that a binary search over the
 * CSV lines (written here, a later line winning on overlap) gives.
 * The same classifier written to the compiled-classifier cache and mapped
 * back gives, for every one of these addresses, the fresh compile's class
 * (country, ASN, flags, upstream) and AS organisation, by single and batch
 * lookups.
 * GEOTAP_EQUIV_RANDOM lowers the random count (sanitizer builds only). */
#include "check.h"
#include "classifier_oracle.h"
#include "geotap/datadir.h"
#include "geotap/classifier.h"
#include "geotap/classifier_cache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- ASN oracle: the CSV lines in file order (sorted by start) ---- */
struct line { gt_u128 lo, hi, maxhi; uint32_t asn; };
struct csv { struct line *l; size_t n; };

static int load_csv(const char *path, struct csv *t)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s (run scripts/setup to fetch the data)\n", path, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t cap = 0;
    while (fgets(buf, sizeof buf, f)) {
        char *c1 = strchr(buf, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2) {
            fprintf(stderr, "%s: unexpected line %s", path, buf);
            fclose(f);
            return -1;
        }
        *c1 = *c2 = 0;
        struct line ln = { 0 };
        struct in_addr a4, b4;
        struct in6_addr a6, b6;
        if (inet_pton(AF_INET, buf, &a4) == 1 && inet_pton(AF_INET, c1 + 1, &b4) == 1) {
            ln.lo = ntohl(a4.s_addr);
            ln.hi = ntohl(b4.s_addr);
        } else if (inet_pton(AF_INET6, buf, &a6) == 1 && inet_pton(AF_INET6, c1 + 1, &b6) == 1) {
            ln.lo = gt_u128_from_bytes(a6.s6_addr);
            ln.hi = gt_u128_from_bytes(b6.s6_addr);
        } else {
            fprintf(stderr, "%s: bad addresses %s,%s\n", path, buf, c1 + 1);
            fclose(f);
            return -1;
        }
        ln.asn = (uint32_t)strtoul(c2 + 1, NULL, 10);
        if (t->n == cap) {
            cap = cap ? cap * 2 : 65536;
            t->l = realloc(t->l, cap * sizeof *t->l);
        }
        if (t->n && ln.lo < t->l[t->n - 1].lo) {
            fprintf(stderr, "%s: lines not sorted; the oracle assumes they are\n", path);
            fclose(f);
            return -1;
        }
        ln.maxhi = t->n && t->l[t->n - 1].maxhi > ln.hi ? t->l[t->n - 1].maxhi : ln.hi;
        t->l[t->n++] = ln;
    }
    fclose(f);
    return 0;
}

/* The last line (in file order) containing x. */
static uint32_t csv_asn(const struct csv *t, gt_u128 x)
{
    size_t lo = 0, hi = t->n;                   /* first line with start > x */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (t->l[m].lo <= x)
            lo = m + 1;
        else
            hi = m;
    }
    for (size_t j = lo; j-- > 0 && t->l[j].maxhi >= x;)
        if (t->l[j].hi >= x)
            return t->l[j].asn;
    return 0;
}

static MMDB_s db;
static gt_classifier *cl, *cached;
static long cache_bad;

/* The mapped classifier's class of an address against the fresh one's. */
static void compare_cached(uint32_t id, uint32_t cid, const char *why, uint32_t a4, const uint8_t *a6)
{
    const struct gt_class *k = gt_classifier_class(cl, id), *c = gt_classifier_class(cached, cid);
    const char *o1 = gt_classifier_asn_org(cl, k->asn), *o2 = gt_classifier_asn_org(cached, c->asn);
    if (id != cid || strcmp(k->cc, c->cc) || k->asn != c->asn || k->flags != c->flags || k->upstream != c->upstream ||
        !o1 != !o2 || (o1 && strcmp(o1, o2))) {
        char addr[64];
        if (a6)
            fmt6(a6, addr);
        else
            fmt4(a4, addr);
        if (cache_bad++ < 30)
            CHECK_MSG(0, "%s %s: compiled class %u %s AS%u, cached class %u %s AS%u", why, addr, id, k->cc, k->asn,
                      cid, c->cc, c->asn);
    }
}
static struct csv asn4, asn6;
static long bad, compared;

static void compare4(uint32_t a, const char *why)
{
    char cc[3], buf[64];
    const struct gt_class *k = gt_classifier_class(cl, gt_classify4(cl, a));
    oracle_cc(&db, 0, a, NULL, cc);
    uint32_t asn = csv_asn(&asn4, a);
    compared++;
    compare_cached(gt_classify4(cl, a), gt_classify4(cached, a), why, a, NULL);
    if (strcmp(cc, k->cc) != 0 || asn != k->asn) {
        fmt4(a, buf);
        if (bad++ < 30)
            CHECK_MSG(0, "%s %s: compiled %s AS%u, libmaxminddb %s, CSV AS%u", why, buf, k->cc, k->asn, cc, asn);
    }
}

static void compare6(const uint8_t a[16], const char *why)
{
    char cc[3], buf[64];
    const struct gt_class *k = gt_classifier_class(cl, gt_classify6(cl, a));
    oracle_cc(&db, 1, 0, a, cc);
    uint32_t asn = csv_asn(&asn6, gt_u128_from_bytes(a));
    compared++;
    compare_cached(gt_classify6(cl, a), gt_classify6(cached, a), why, 0, a);
    if (strcmp(cc, k->cc) != 0 || asn != k->asn) {
        fmt6(a, buf);
        if (bad++ < 30)
            CHECK_MSG(0, "%s %s: compiled %s AS%u, libmaxminddb %s, CSV AS%u", why, buf, k->cc, k->asn, cc, asn);
    }
}

/* Every network of the tree; IPv4 ones (in ::/96) are also checked as IPv4. */
static long networks;
static void network(gt_u128 prefix, int depth)
{
    gt_u128 last = prefix | (depth == 0 ? ~(gt_u128)0 : (((gt_u128)1 << (128 - depth)) - 1));
    uint8_t a[16];
    gt_u128_to_bytes(prefix, a);
    compare6(a, "network first");
    gt_u128_to_bytes(last, a);
    compare6(a, "network last");
    if (depth >= 96 && (prefix >> 32) == 0) {
        compare4((uint32_t)prefix, "network first");
        compare4((uint32_t)last, "network last");
    }
    networks++;
}

static void walk(uint32_t node, int depth, gt_u128 prefix)
{
    MMDB_search_node_s n;
    if (MMDB_read_node(&db, node, &n) != MMDB_SUCCESS) {
        CHECK_MSG(0, "MMDB_read_node %u failed", node);
        return;
    }
    for (int side = 0; side < 2; side++) {
        gt_u128 p = side ? prefix | ((gt_u128)1 << (127 - depth)) : prefix;
        uint8_t type = side ? n.right_record_type : n.left_record_type;
        uint64_t rec = side ? n.right_record : n.left_record;
        if (type == MMDB_RECORD_TYPE_SEARCH_NODE && depth + 1 < 128)
            walk((uint32_t)rec, depth + 1, p);
        else
            network(p, depth + 1);
    }
}

int main(void)
{
    const char *country = gt_default_country_db();
    const char *asn[] = { gt_default_asn_v4(), gt_default_asn_v6() };
    for (int i = 0; i < 3; i++) {
        const char *p = i == 0 ? country : asn[i - 1];
        if (access(p, R_OK) != 0) {
            fprintf(stderr, "FAIL: real data %s is missing (%s); run scripts/setup to fetch it\n", p, strerror(errno));
            return 1;
        }
    }
    long nrand = 1000000;
    const char *e = getenv("GEOTAP_EQUIV_RANDOM");
    if (e && *e)
        nrand = atol(e);
    struct gt_classifier_opts o = { .country_db = country, .asn_dbs = asn, .n_asn_dbs = 2 };
    char err[512];
    cl = gt_classifier_build(&o, err, sizeof err);
    if (!cl) {
        fprintf(stderr, "FAIL: %s\n", err);
        return 1;
    }
    fprintf(stderr, "compiled in %.3f s, %u classes, %zu bytes\n", gt_classifier_build_seconds(cl),
            gt_classifier_nclasses(cl), gt_classifier_memory(cl));
    /* through a cache of its own: written by the first call, mapped by the second */
    char cdir[] = "/tmp/geotap-equiv-cache-XXXXXX";
    if (!mkdtemp(cdir)) {
        fprintf(stderr, "FAIL: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    setenv("GEOTAP_CACHE_DIR", cdir, 1);
    gt_classifier *w = gt_classifier_cached(&o, err, sizeof err);
    CHECK(w && gt_classifier_cache_state(w) == GT_CACHE_WRITTEN);
    gt_classifier_free(w);
    cached = gt_classifier_cached(&o, err, sizeof err);
    if (!cached) {
        fprintf(stderr, "FAIL: %s\n", err);
        return 1;
    }
    CHECK_EQ_U(gt_classifier_cache_state(cached), GT_CACHE_MAPPED);
    CHECK_EQ_U(gt_classifier_nclasses(cached), gt_classifier_nclasses(cl));
    if (MMDB_open(country, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS || load_csv(asn[0], &asn4) ||
        load_csv(asn[1], &asn6)) {
        fprintf(stderr, "FAIL: cannot load the oracle data\n");
        return 1;
    }
    CHECK(db.metadata.ip_version == 6);
    walk(0, 0, 0);
    fprintf(stderr, "%ld networks checked\n", networks);
    CHECK(networks > 100000);
    /* random addresses, through the single and the batch lookups */
    enum { CHUNK = 4099 };
    uint32_t b4[CHUNK], id4[CHUNK], id6[CHUNK];
    static uint8_t b6[CHUNK][16];
    for (long done = 0; done < nrand;) {
        size_t m = nrand - done < CHUNK ? (size_t)(nrand - done) : CHUNK;
        for (size_t i = 0; i < m; i++) {
            b4[i] = (uint32_t)oracle_rand();
            oracle_rand6(b6[i]);
            compare4(b4[i], "random");
            compare6(b6[i], "random");
        }
        gt_classify4_batch(cached, b4, id4, m);
        gt_classify6_batch(cached, (const uint8_t (*)[16])b6, id6, m);
        for (size_t i = 0; i < m; i++) {
            compare_cached(gt_classify4(cl, b4[i]), id4[i], "cached batch", b4[i], NULL);
            compare_cached(gt_classify6(cl, b6[i]), id6[i], "cached batch", 0, b6[i]);
        }
        /* both families in one walk, stepped as the engine steps it (every
         * 16th round: the first chunk's all at once) */
        struct gt_classify_walk wk;
        gt_classify_walk_start(&wk, cl, b4, id4, m, (const uint8_t (*)[16])b6, id6, m);
        for (int st = 0; st < 3 && done > 0; st++)
            gt_classify_walk_step(&wk);
        gt_classify_walk_finish(&wk);
        for (size_t i = 0; i < m; i++) {
            compare_cached(gt_classify4(cl, b4[i]), id4[i], "stepped walk", b4[i], NULL);
            compare_cached(gt_classify6(cl, b6[i]), id6[i], "stepped walk", 0, b6[i]);
        }
        gt_classify4_batch(cl, b4, id4, m);
        gt_classify6_batch(cl, (const uint8_t (*)[16])b6, id6, m);
        for (size_t i = 0; i < m; i++) {
            if (id4[i] != gt_classify4(cl, b4[i]) && bad++ < 30) {
                char buf[64];
                fmt4(b4[i], buf);
                CHECK_MSG(0, "batch %s: class %u, single lookup %u", buf, id4[i], gt_classify4(cl, b4[i]));
            }
            if (id6[i] != gt_classify6(cl, b6[i]) && bad++ < 30) {
                char buf[64];
                fmt6(b6[i], buf);
                CHECK_MSG(0, "batch %s: class %u, single lookup %u", buf, id6[i], gt_classify6(cl, b6[i]));
            }
        }
        done += (long)m;
    }
    /* the CSV's own boundaries too */
    for (size_t i = 0; i < asn4.n; i++) {
        compare4((uint32_t)asn4.l[i].lo, "csv first");
        compare4((uint32_t)asn4.l[i].hi, "csv last");
    }
    for (size_t i = 0; i < asn6.n; i++) {
        uint8_t a[16];
        gt_u128_to_bytes(asn6.l[i].lo, a);
        compare6(a, "csv first");
        gt_u128_to_bytes(asn6.l[i].hi, a);
        compare6(a, "csv last");
    }
    fprintf(stderr, "%ld addresses compared, %ld differ\n", compared, bad);
    CHECK_EQ_U(bad, 0);
    fprintf(stderr, "cached classifier: %ld addresses differ from the fresh compile\n", cache_bad);
    CHECK_EQ_U(cache_bad, 0);
    gt_classifier_free(cached);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", cdir);
    CHECK(system(rm) == 0);
    MMDB_close(&db);
    free(asn4.l);
    free(asn6.l);
    gt_classifier_free(cl);
    return check_result();
}
