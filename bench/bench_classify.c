/* Classifier micro-benchmark: lookups per second of the compiled classifier
 * against libmaxminddb (MMDB_lookup_sockaddr + country.iso_code) on the same
 * addresses: uniformly random IPv4, random IPv6 (whole space and 2000::/3),
 * and addresses drawn from announced space (the ASN sources' ranges); plus
 * compile time (wall and CPU), memory and class count. One core, best of 3
 * runs, rates per second of thread CPU time (the machine may be shared). Prints "name<TAB>value" lines; asserts
 * nothing.
 * Usage: bench_classify [--country-db F] [--asn-db F]... [-n LOOKUPS] [--seed S] */
#include "geotap/datadir.h"
#include "geotap/classifier.h"
#include "geotap/geodata.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clk(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
/* Lookup rates are per second of this thread's CPU time: on a shared
 * machine wall time mostly measures the other tenants. */
static double now(void) { return clk(CLOCK_THREAD_CPUTIME_ID); }

static uint64_t rng_state;
static uint64_t rnd(void)     /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static volatile uint32_t sink;
static const gt_classifier *C;
static MMDB_s db;

static double run4(const uint32_t *a, size_t n)
{
    double best = 1e9;
    uint32_t acc = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (size_t i = 0; i < n; i++)
            acc += gt_classify4(C, a[i]);
        t = now() - t;
        if (t < best)
            best = t;
    }
    sink = acc;
    return n / best / 1e6;
}

static double run4_batch(const uint32_t *a, uint32_t *ids, size_t n)
{
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        gt_classify4_batch(C, a, ids, n);
        t = now() - t;
        if (t < best)
            best = t;
    }
    sink = ids[n / 2];
    return n / best / 1e6;
}

static double run6_batch(uint8_t (*a)[16], uint32_t *ids, size_t n)
{
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        gt_classify6_batch(C, (const uint8_t (*)[16])a, ids, n);
        t = now() - t;
        if (t < best)
            best = t;
    }
    sink = ids[n / 2];
    return n / best / 1e6;
}

static double run6(uint8_t (*a)[16], size_t n)
{
    double best = 1e9;
    uint32_t acc = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (size_t i = 0; i < n; i++)
            acc += gt_classify6(C, a[i]);
        t = now() - t;
        if (t < best)
            best = t;
    }
    sink = acc;
    return n / best / 1e6;
}

/* libmaxminddb as a per-packet user would call it: lookup + country code. */
static double mmdb_run(const uint32_t *a4, uint8_t (*a6)[16], size_t n)
{
    struct sockaddr_in s4 = { .sin_family = AF_INET };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
    MMDB_entry_data_s ed;
    uint32_t acc = 0;
    int e;
    double t = now();
    for (size_t i = 0; i < n; i++) {
        MMDB_lookup_result_s r;
        if (a4) {
            s4.sin_addr.s_addr = htonl(a4[i]);
            r = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&s4, &e);
        } else {
            memcpy(s6.sin6_addr.s6_addr, a6[i], 16);
            r = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&s6, &e);
        }
        if (r.found_entry && MMDB_get_value(&r.entry, &ed, "country", "iso_code", NULL) == MMDB_SUCCESS &&
            ed.has_data)
            acc += (uint32_t)ed.utf8_string[0];
    }
    t = now() - t;
    sink = acc;
    return n / t / 1e6;
}

static void row(const char *name, double compiled, double mmdb)
{
    printf("lookup_%s_compiled_Mps\t%.1f\n", name, compiled);
    printf("lookup_%s_libmaxminddb_Mps\t%.2f\n", name, mmdb);
    printf("lookup_%s_ratio\t%.0f\n", name, compiled / mmdb);
}

int main(int argc, char **argv)
{
    const char *country = NULL;
    const char *asn[16];
    size_t nasn = 0, n = 10000000;
    uint64_t seed = 42;
    static const struct option lo[] = {
        { "country-db", 1, NULL, 'c' }, { "asn-db", 1, NULL, 'a' },
        { "seed", 1, NULL, 's' }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int o;
    while ((o = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
        switch (o) {
        case 'c': country = optarg; break;
        case 'a': if (nasn < 16) asn[nasn++] = optarg; break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'n': n = strtoull(optarg, NULL, 0); break;
        default:
            fprintf(stderr, "usage: bench_classify [--country-db F] [--asn-db F]... [-n N] [--seed S]\n");
            return o == 'h' ? 0 : 2;
        }
    }
    if (n < 1000)
        n = 1000;
    size_t nm = n / 10;          /* libmaxminddb is ~100x slower: fewer lookups */
    if (!country)
        country = gt_default_country_db();
    if (!nasn) {
        asn[nasn++] = gt_default_asn_v4();
        asn[nasn++] = gt_default_asn_v6();
    }
    struct gt_classifier_opts opts = { .country_db = country, .asn_dbs = asn, .n_asn_dbs = nasn };
    char err[512];
    double cpu0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    gt_classifier *c = gt_classifier_build(&opts, err, sizeof err);
    double cpu = clk(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (!c) {
        fprintf(stderr, "bench_classify: %s\n", err);
        return 2;
    }
    C = c;
    if (MMDB_open(country, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS) {
        fprintf(stderr, "bench_classify: %s: cannot open\n", country);
        return 2;
    }
    printf("compile_wall_seconds\t%.3f\n", gt_classifier_build_seconds(c));
    printf("compile_cpu_seconds\t%.3f\n", cpu);   /* wall minus waiting for a shared CPU */
    printf("classifier_memory_bytes\t%zu\n", gt_classifier_memory(c));
    printf("classes\t%u\n", gt_classifier_nclasses(c));

    /* announced space: the ASN sources' ranges, to draw addresses from */
    struct gt_rangeset ann = { 0 };
    for (size_t i = 0; i < nasn; i++)
        if (gt_source_asn(asn[i], &ann, NULL, err, sizeof err))
            fprintf(stderr, "bench_classify: %s\n", err);

    rng_state = seed;
    uint32_t *a4 = malloc(n * sizeof *a4), *a4ann = malloc(n * sizeof *a4ann), *ids = malloc(n * sizeof *ids);
    uint8_t (*a6)[16] = malloc(n * sizeof *a6), (*a6g)[16] = malloc(n * sizeof *a6g),
            (*a6ann)[16] = malloc(n * sizeof *a6ann);
    if (!a4 || !a4ann || !ids || !a6 || !a6g || !a6ann)
        return 2;
    memset(ids, 0, n * sizeof *ids);        /* no page faults inside the timed batch */
    for (size_t i = 0; i < n; i++) {
        a4[i] = (uint32_t)rnd();
        uint64_t h = rnd(), l = rnd();
        memcpy(a6[i], &h, 8);
        memcpy(a6[i] + 8, &l, 8);
        memcpy(a6g[i], a6[i], 16);
        a6g[i][0] = (uint8_t)(0x20 | (a6g[i][0] & 0x1f));     /* 2000::/3, global unicast */
        a4ann[i] = a4[i];
        memcpy(a6ann[i], a6g[i], 16);
        if (ann.n4) {
            const struct gt_range4 *r = &ann.v4[rnd() % ann.n4];
            a4ann[i] = r->lo + (uint32_t)(rnd() % ((uint64_t)r->hi - r->lo + 1));
        }
        if (ann.n6) {
            const struct gt_range6 *r = &ann.v6[rnd() % ann.n6];
            gt_u128 span = r->hi - r->lo, off = ((gt_u128)rnd() << 64) | rnd();
            gt_u128_to_bytes(r->lo + (span == ~(gt_u128)0 ? off : off % (span + 1)), a6ann[i]);
        }
    }
    gt_rangeset_free(&ann);

    row("v4_random", run4(a4, n), mmdb_run(a4, NULL, nm));
    printf("lookup_v4_random_batch_compiled_Mps\t%.1f\n", run4_batch(a4, ids, n));
    row("v4_announced", run4(a4ann, n), mmdb_run(a4ann, NULL, nm));
    printf("lookup_v4_announced_batch_compiled_Mps\t%.1f\n", run4_batch(a4ann, ids, n));
    row("v6_random", run6(a6, n), mmdb_run(NULL, a6, nm));
    row("v6_random_2000::/3", run6(a6g, n), mmdb_run(NULL, a6g, nm));
    printf("lookup_v6_random_2000::/3_batch_compiled_Mps\t%.1f\n", run6_batch(a6g, ids, n));
    row("v6_announced", run6(a6ann, n), mmdb_run(NULL, a6ann, nm));
    printf("lookup_v6_announced_batch_compiled_Mps\t%.1f\n", run6_batch(a6ann, ids, n));

    MMDB_close(&db);
    gt_classifier_free(c);
    free(a4); free(a4ann); free(ids); free(a6); free(a6g); free(a6ann);
    return 0;
}
