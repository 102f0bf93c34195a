/* Classifier micro-benchmark: lookups per second of the compiled classifier
 * against libmaxminddb (lookup + country.iso_code) for random IPv4 and IPv6
 * addresses, plus compile time, memory and class count. Prints, asserts nothing.
 * Usage: bench_classify [--country-db F] [--asn-db F]... [-n LOOKUPS] [--seed S] */
#include "geotap/classifier.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state;
static uint64_t rnd(void)     /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static volatile uint32_t sink;

int main(int argc, char **argv)
{
    const char *country = NULL;
    const char *asn[16];
    size_t nasn = 0, n = 10000000, nm = 1000000;
    uint64_t seed = 42;
    static const struct option lo[] = {
        { "country-db", 1, NULL, 'c' }, { "asn-db", 1, NULL, 'a' },
        { "seed", 1, NULL, 's' }, { NULL, 0, NULL, 0 } };
    int o;
    while ((o = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
        switch (o) {
        case 'c': country = optarg; break;
        case 'a': if (nasn < 16) asn[nasn++] = optarg; break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'n': n = strtoull(optarg, NULL, 0); nm = n / 10 ? n / 10 : 1; break;
        default:
            fprintf(stderr, "usage: bench_classify [--country-db F] [--asn-db F]... [-n N] [--seed S]\n");
            return 2;
        }
    }
    if (!country)
        country = gt_default_country_db();
    if (!nasn) {
        asn[nasn++] = gt_default_asn_v4();
        asn[nasn++] = gt_default_asn_v6();
    }
    struct gt_classifier_opts opts = { .country_db = country, .asn_dbs = asn, .n_asn_dbs = nasn };
    char err[512];
    gt_classifier *c = gt_classifier_build(&opts, err, sizeof err);
    if (!c) {
        fprintf(stderr, "bench_classify: %s\n", err);
        return 2;
    }
    MMDB_s db;
    if (MMDB_open(country, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS) {
        fprintf(stderr, "bench_classify: %s: cannot open\n", country);
        return 2;
    }
    printf("compile_seconds\t%.3f\n", gt_classifier_build_seconds(c));
    printf("memory_bytes\t%zu\n", gt_classifier_memory(c));
    printf("classes\t%u\n", gt_classifier_nclasses(c));

    rng_state = seed;
    uint32_t *a4 = malloc(n * sizeof *a4), *ids = malloc(n * sizeof *ids);
    uint8_t (*a6)[16] = malloc(n * sizeof *a6);
    uint8_t (*a6g)[16] = malloc(n * sizeof *a6g);
    if (!a4 || !ids || !a6 || !a6g)
        return 2;
    memset(ids, 0, n * sizeof *ids);        /* no page faults inside the timed batch */
    for (size_t i = 0; i < n; i++) {
        a4[i] = (uint32_t)rnd();
        uint64_t h = rnd(), l = rnd();
        memcpy(a6[i], &h, 8);
        memcpy(a6[i] + 8, &l, 8);
        memcpy(a6g[i], a6[i], 16);
        a6g[i][0] = (uint8_t)(0x20 | (a6g[i][0] & 0x1f));     /* 2000::/3, global unicast */
    }
    double t, dt;
    uint32_t acc = 0;

    dt = 1e9;
    for (int rep = 0; rep < 3; rep++) {     /* best of 3: the machine is shared */
        t = now();
        for (size_t i = 0; i < n; i++)
            acc += gt_classify4(c, a4[i]);
        if (now() - t < dt)
            dt = now() - t;
    }
    printf("compiled_v4_random_Mps\t%.1f\n", n / dt / 1e6);

    dt = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        t = now();
        gt_classify4_batch(c, a4, ids, n);
        if (now() - t < dt)
            dt = now() - t;
    }
    acc += ids[n / 2];
    printf("compiled_v4_batch_random_Mps\t%.1f\n", n / dt / 1e6);

    dt = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        t = now();
        for (size_t i = 0; i < n; i++)
            acc += gt_classify6(c, a6g[i]);
        if (now() - t < dt)
            dt = now() - t;
    }
    printf("compiled_v6_random_2000::/3_Mps\t%.1f\n", n / dt / 1e6);

    dt = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        t = now();
        for (size_t i = 0; i < n; i++)
            acc += gt_classify6(c, a6[i]);
        if (now() - t < dt)
            dt = now() - t;
    }
    printf("compiled_v6_random_all_Mps\t%.1f\n", n / dt / 1e6);

    /* libmaxminddb: lookup + country.iso_code, as a per-packet user would */
    struct sockaddr_in s4 = { .sin_family = AF_INET };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
    MMDB_entry_data_s ed;
    int e;
    t = now();
    for (size_t i = 0; i < nm; i++) {
        s4.sin_addr.s_addr = htonl(a4[i]);
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&s4, &e);
        if (r.found_entry && MMDB_get_value(&r.entry, &ed, "country", "iso_code", NULL) == MMDB_SUCCESS && ed.has_data)
            acc += (uint32_t)ed.utf8_string[0];
    }
    dt = now() - t;
    printf("libmaxminddb_v4_random_Mps\t%.2f\n", nm / dt / 1e6);
    t = now();
    for (size_t i = 0; i < nm; i++) {
        memcpy(s6.sin6_addr.s6_addr, a6g[i], 16);
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&s6, &e);
        if (r.found_entry && MMDB_get_value(&r.entry, &ed, "country", "iso_code", NULL) == MMDB_SUCCESS && ed.has_data)
            acc += (uint32_t)ed.utf8_string[0];
    }
    dt = now() - t;
    printf("libmaxminddb_v6_random_2000::/3_Mps\t%.2f\n", nm / dt / 1e6);
    sink = acc;
    MMDB_close(&db);
    gt_classifier_free(c);
    free(a4); free(ids); free(a6); free(a6g);
    return 0;
}
