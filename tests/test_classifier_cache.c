/* The compiled-classifier cache: an entry is written once and then mapped;
 * it is rebuilt when any input file or option changes (each case), when
 * the file is truncated or a byte flipped; two processes building it at
 * once leave a valid file; an unwritable cache directory compiles in
 * memory with one warning. The oracle for every classifier the cache
 * gives is a fresh gt_classifier_build of the same options: the same
 * classes, ASN organisations and upstream names for 200,000 random IPv4
 * and IPv6 addresses. (tests/test_classifier_equiv.c compares the cached
 * classifier on the real data with libmaxminddb and the CSVs.) */
#include "check.h"
#include "classifier_oracle.h"
#include "geotap/classifier_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256], cdir[300];
static char country[320], asn_csv[320];
static const char *asn_list[1];
static char share[512];

static int same_classifier(const gt_classifier *a, const gt_classifier *b)
{
    int diff = 0;
    uint64_t saved = oracle_rng;
    oracle_rng = 0x5eed;
    diff += gt_classifier_nclasses(a) != gt_classifier_nclasses(b);
    for (int i = 0; i < 200000 && !diff; i++) {
        uint32_t x = (uint32_t)oracle_rand();
        uint8_t y[16];
        oracle_rand6(y);
        uint32_t ids[4] = { gt_classify4(a, x), gt_classify4(b, x), gt_classify6(a, y), gt_classify6(b, y) };
        for (int k = 0; k < 4; k += 2) {
            const struct gt_class *p = gt_classifier_class(a, ids[k]), *q = gt_classifier_class(b, ids[k + 1]);
            const char *oa = gt_classifier_asn_org(a, p->asn), *ob = gt_classifier_asn_org(b, q->asn);
            if (ids[k] != ids[k + 1] || strcmp(p->cc, q->cc) || p->asn != q->asn || p->flags != q->flags ||
                p->upstream != q->upstream || (!oa != !ob) || (oa && strcmp(oa, ob)) ||
                strcmp(gt_classifier_upstream_name(a, p->upstream), gt_classifier_upstream_name(b, q->upstream)))
                diff++;
        }
    }
    oracle_rng = saved;
    return !diff;
}

/* Through the cache, then checked against a fresh compile; returns the state. */
static int via_cache(const struct gt_classifier_opts *o, const char *what)
{
    char err[1024];
    gt_classifier *c = gt_classifier_cached(o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s: %s", what, err);
    if (!c)
        return -1;
    CHECK_MSG(err[0] == 0, "%s: unexpected warning: %s", what, err);
    gt_classifier *f = gt_classifier_build(o, err, sizeof err);
    CHECK_MSG(f && same_classifier(c, f), "%s: cached classifier differs from a fresh compile", what);
    int st = gt_classifier_cache_state(c);
    gt_classifier_free(c);
    gt_classifier_free(f);
    return st;
}

static void copy(const char *from, const char *to)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    CHECK(system(cmd) == 0);
}

static void write_csv(const char *asn)
{
    FILE *f = fopen(asn_csv, "w");
    fprintf(f, "1.0.0.0,1.0.0.255,%s,\"Example, Inc.\"\n81.2.69.0,81.2.69.255,64512,Private\n"
               "2001:db8::,2001:db8::ffff,64513,Doc\n", asn);
    fclose(f);
}

static void entry_path(const struct gt_classifier_opts *o, char *buf, size_t len)
{
    char err[256];
    CHECK(gt_classifier_cache_path(o, NULL, buf, len, err, sizeof err) == 0);
}

static void flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    unsigned char b;
    CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
    b ^= 0x10;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

int main(void)
{
    const char *sh = getenv("GEOTAP_SHARED");
    snprintf(share, sizeof share, "%s/mmdb", sh ? sh : "tests/data");
    snprintf(dir, sizeof dir, "/tmp/geotap-cache-test-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    setenv("GEOTAP_CACHE_DIR", cdir, 1);
    snprintf(country, sizeof country, "%s/country.mmdb", dir);
    snprintf(asn_csv, sizeof asn_csv, "%s/asn.csv", dir);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/GeoLite2-Country-Test.mmdb", share);
    snprintf(b, sizeof b, "%s/GeoIP2-Country-Test.mmdb", share);
    copy(a, country);
    write_csv("13335");
    asn_list[0] = asn_csv;
    struct gt_classifier_opts o = { .country_db = country, .asn_dbs = asn_list, .n_asn_dbs = 1 };
    char path[4200];

    /* written once, then mapped */
    CHECK_EQ_U(via_cache(&o, "first"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o, "second"), GT_CACHE_MAPPED);
    entry_path(&o, path, sizeof path);
    CHECK(access(path, R_OK) == 0);

    /* inputs: touched only (same contents) -> still valid, and the new
     * times are recorded; another file at the path -> rebuilt */
    CHECK(utimensat(AT_FDCWD, country, NULL, 0) == 0);
    CHECK_EQ_U(via_cache(&o, "country touched"), GT_CACHE_MAPPED);
    CHECK_EQ_U(via_cache(&o, "country touched, again"), GT_CACHE_MAPPED);
    copy(b, country);
    CHECK_EQ_U(via_cache(&o, "country replaced"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o, "country replaced, again"), GT_CACHE_MAPPED);
    /* the same size and mtime, other contents: the ctime and the content hash tell */
    struct stat st;
    CHECK(stat(asn_csv, &st) == 0);
    write_csv("13336");
    struct timespec keep[2] = { st.st_atim, st.st_mtim };
    CHECK(utimensat(AT_FDCWD, asn_csv, keep, 0) == 0);
    CHECK_EQ_U(via_cache(&o, "ASN CSV edited, mtime kept"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o, "ASN CSV edited, again"), GT_CACHE_MAPPED);

    /* options: each gives another entry */
    struct gt_classifier_opts o2 = o;
    o2.n_asn_dbs = 0;
    CHECK_EQ_U(via_cache(&o2, "without ASN"), GT_CACHE_WRITTEN);
    const char *home[] = { "81.2.69.0/24", "2001:db8::/32" };
    o2 = o;
    o2.home_nets = home;
    o2.n_home_nets = 1;
    CHECK_EQ_U(via_cache(&o2, "home net"), GT_CACHE_WRITTEN);
    o2.n_home_nets = 2;
    CHECK_EQ_U(via_cache(&o2, "second home net"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o2, "second home net, again"), GT_CACHE_MAPPED);
    struct gt_rangeset up;
    memset(&up, 0, sizeof up);
    gt_rangeset_add4(&up, 0x01000000, 0x010000ff, 1);
    const char *names[] = { "", "AS174 Cogent", "AS3356 Lumen" };
    o2 = o;
    o2.upstream_ranges = &up;
    o2.upstream_names = names;
    o2.n_upstream_names = 3;
    CHECK_EQ_U(via_cache(&o2, "upstream ranges"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o2, "upstream ranges, again"), GT_CACHE_MAPPED);
    up.v4[0].val = 2;
    CHECK_EQ_U(via_cache(&o2, "upstream range value"), GT_CACHE_WRITTEN);
    names[2] = "AS3356 Level3";
    CHECK_EQ_U(via_cache(&o2, "upstream name"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o2, "upstream name, again"), GT_CACHE_MAPPED);
    gt_rangeset_free(&up);

    /* damaged files: truncated, a byte flipped in the body and in the header */
    char err[1024];
    CHECK_EQ_U(via_cache(&o, "before damage"), GT_CACHE_MAPPED);
    CHECK(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size / 2) == 0);
    gt_classifier *bad = gt_classifier_map(path, &o, err, sizeof err);
    CHECK_MSG(!bad && strstr(err, "truncated"), "truncated file: %s", bad ? "mapped" : err);
    gt_classifier_free(bad);
    CHECK_EQ_U(via_cache(&o, "truncated"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o, "verified once"), GT_CACHE_MAPPED);
    flip_byte(path, st.st_size * 3 / 4);
    bad = gt_classifier_map(path, &o, err, sizeof err);
    CHECK_MSG(!bad && strstr(err, "checksum"), "flipped body byte: %s", bad ? "mapped" : err);
    gt_classifier_free(bad);
    CHECK_EQ_U(via_cache(&o, "flipped body byte"), GT_CACHE_WRITTEN);
    flip_byte(path, 40);
    bad = gt_classifier_map(path, &o, err, sizeof err);
    CHECK_MSG(!bad && strstr(err, "checksum"), "flipped header byte: %s", bad ? "mapped" : err);
    gt_classifier_free(bad);
    CHECK_EQ_U(via_cache(&o, "flipped header byte"), GT_CACHE_WRITTEN);
    CHECK_EQ_U(via_cache(&o, "after damage"), GT_CACHE_MAPPED);

    /* two processes building the same entry at once: both get a
     * classifier, the file left behind is valid, no temporary file stays */
    CHECK(unlink(path) == 0);
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t kid[2];
    for (int i = 0; i < 2; i++)
        if ((kid[i] = fork()) == 0) {
            char x;
            close(go[1]);
            if (read(go[0], &x, 1) != 0)
                _exit(3);
            char e[512];
            gt_classifier *c = gt_classifier_cached(&o, e, sizeof e);
            _exit(c && !e[0] && gt_classifier_cache_state(c) != GT_CACHE_OFF ? 0 : 1);
        }
    close(go[0]);
    close(go[1]);                       /* both start now */
    for (int i = 0; i < 2; i++) {
        int ws;
        CHECK(waitpid(kid[i], &ws, 0) == kid[i]);
        CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "concurrent builder %d failed", i);
    }
    CHECK_EQ_U(via_cache(&o, "after concurrent builders"), GT_CACHE_MAPPED);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q tmp", cdir);
    CHECK_MSG(system(cmd) != 0, "a temporary file was left in %s", cdir);

    /* unwritable cache: not a directory, and a write that runs out of room
     * (a file size limit, as a full disk): compiled in memory, one warning */
    setenv("GEOTAP_CACHE_DIR", "/dev/null/geotap", 1);
    gt_classifier *c = gt_classifier_cached(&o, err, sizeof err);
    CHECK(c && gt_classifier_cache_state(c) == GT_CACHE_OFF);
    CHECK_MSG(strstr(err, "cannot write") && strstr(err, "compiled in memory") && !strchr(err, '\n'),
              "warning: '%s'", err);
    gt_classifier_free(c);
    snprintf(cmd, sizeof cmd, "%s/full", dir);
    setenv("GEOTAP_CACHE_DIR", cmd, 1);
    pid_t p = fork();
    if (p == 0) {
        struct rlimit rl = { 4096, 4096 };
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        char e[1024];
        gt_classifier *k = gt_classifier_cached(&o, e, sizeof e);
        int ok = k && gt_classifier_cache_state(k) == GT_CACHE_OFF && strstr(e, "cannot write") &&
                 strstr(e, "compiled in memory");
        if (!ok)
            fprintf(stderr, "full cache: state %d, warning '%s'\n", k ? (int)gt_classifier_cache_state(k) : -1, e);
        _exit(ok ? 0 : 1);
    }
    int ws;
    CHECK(waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    setenv("GEOTAP_CACHE_DIR", "off", 1);
    CHECK_EQ_U(via_cache(&o, "cache off"), GT_CACHE_OFF);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_result();
}
