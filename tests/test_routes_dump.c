/* Test helper for tests/test_routes.py: loads --routes files with the
 * library and prints what the oracle compares.
 *   test_routes_dump FILE...            one line per live prefix:
 *       prefix|origin|upstream|paths|distinct_upstreams|asn:paths:share,...
 *   test_routes_dump -q ADDRFILE FILE...  the same, then per address of
 *       ADDRFILE (one per line): Q|addr|prefix|origin|upstream|exported_upstream_name
 *     (prefix "-" when no route covers it; exported_upstream_name is the
 *      value of the normalised exported rangeset at that address)
 * Load time, memory and counters go to stderr. */
#include "geotap/routes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void fmt_prefix(const struct gt_route_info *ri, char *buf, size_t n)
{
    char a[INET6_ADDRSTRLEN];
    if (ri->family == 4) {
        uint32_t be = htonl(ri->prefix4);
        inet_ntop(AF_INET, &be, a, sizeof a);
    } else {
        inet_ntop(AF_INET6, ri->prefix6, a, sizeof a);
    }
    snprintf(buf, n, "%s/%u", a, ri->len);
}

static int print_one(void *ctx, const struct gt_route_info *ri)
{
    (void)ctx;
    char p[64];
    fmt_prefix(ri, p, sizeof p);
    printf("%s|%u|%u|%u|%u|", p, ri->origin, ri->upstream, ri->paths, ri->nup_total);
    for (uint32_t i = 0; i < ri->nup; i++)
        printf("%s%u:%u:%.9f", i ? "," : "", ri->up[i].asn, ri->up[i].paths, ri->up[i].share);
    putchar('\n');
    return 0;
}

static uint32_t rs_value4(const struct gt_rangeset *rs, uint32_t a)
{
    size_t lo = 0, hi = rs->n4;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rs->v4[mid].hi < a) lo = mid + 1; else hi = mid;
    }
    return lo < rs->n4 && rs->v4[lo].lo <= a ? rs->v4[lo].val : 0;
}

static uint32_t rs_value6(const struct gt_rangeset *rs, gt_u128 a)
{
    size_t lo = 0, hi = rs->n6;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rs->v6[mid].hi < a) lo = mid + 1; else hi = mid;
    }
    return lo < rs->n6 && rs->v6[lo].lo <= a ? rs->v6[lo].val : 0;
}

int main(int argc, char **argv)
{
    const char *query = NULL;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-q")) {
        query = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: test_routes_dump [-q ADDRFILE] FILE...\n");
        return 2;
    }
    gt_routes *r = gt_routes_new();
    char err[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double c0 = cpu_now();
    for (; i < argc; i++)
        if (gt_routes_load(r, argv[i], err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            gt_routes_free(r);
            return 1;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double c1 = cpu_now();
    struct gt_routes_stats st;
    gt_routes_stats(r, &st);
    fprintf(stderr, "load %.3f s (cpu %.3f s, bgpdump not included); maxrss %ld KB; records %llu (A/B %llu, W %llu, peer-down %llu); "
            "prefixes v4 %zu v6 %zu; peers %zu; table %.1f MB\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, c1 - c0,
            maxrss_kb(), (unsigned long long)st.lines, (unsigned long long)st.announce,
            (unsigned long long)st.withdraw, (unsigned long long)st.peer_down,
            st.prefixes4, st.prefixes6, st.peers, (double)st.memory / 1e6);
    gt_routes_foreach(r, print_one, NULL);
    if (!query) {
        gt_routes_free(r);
        return 0;
    }
    FILE *qf = fopen(query, "r");
    if (!qf) {
        perror(query);
        return 1;
    }
    gt_upstreams *names = gt_upstreams_new();
    struct gt_rangeset rs = { 0 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    c0 = cpu_now();
    if (gt_routes_export(r, names, &rs) || gt_rangeset_normalize(&rs)) {
        fprintf(stderr, "export failed\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c1 = cpu_now();
    fprintf(stderr, "export+normalize %.3f s (cpu %.3f s); maxrss %ld KB: %zu v4 + %zu v6 ranges, %u upstreams\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, c1 - c0,
            maxrss_kb(), rs.n4, rs.n6, gt_upstreams_count(names));
    char line[256];
    while (fgets(line, sizeof line, qf)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        struct gt_route_info ri;
        uint8_t a6[16];
        uint32_t a4;
        int found;
        uint32_t ex;
        if (inet_pton(AF_INET, line, &a4) == 1) {
            found = gt_routes_lookup4(r, ntohl(a4), &ri);
            ex = rs_value4(&rs, ntohl(a4));
        } else if (inet_pton(AF_INET6, line, a6) == 1) {
            found = gt_routes_lookup6(r, a6, &ri);
            ex = rs_value6(&rs, gt_u128_from_bytes(a6));
        } else {
            printf("Q|%s|bad\n", line);
            continue;
        }
        char p[64] = "-";
        if (found)
            fmt_prefix(&ri, p, sizeof p);
        printf("Q|%s|%s|%u|%u|%s\n", line, p, found ? ri.origin : 0, found ? ri.upstream : 0,
               gt_upstreams_name(names, ex));
    }
    fclose(qf);
    gt_rangeset_free(&rs);
    gt_upstreams_free(names);
    gt_routes_free(r);
    return 0;
}
