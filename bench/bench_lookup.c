/* bench_lookup: lookups per second of the compiled classifier against
 * libmaxminddb, each giving the country code of an address (for the compiled
 * one also the class id alone, compiled_id_lps), on the same
 * addresses: random IPv4 (all 2^32), random IPv6 (global unicast 2000::/3),
 * and the source and destination addresses of a trace in packet order (the
 * cache behaviour of real traffic). Also checks on the way that both agree on
 * every country (mismatches=, expected 0). One key=value line per mode on
 * stdout, and one with the classifier's compile time and memory. */
#include <arpa/inet.h>
#include <getopt.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "geotap/datadir.h"
#include "geotap/clock.h"
#include "geotap/classifier.h"
#include "trace_mem.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next64(void) /* splitmix64: deterministic address sets */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* An address set: family 4 or 6 per entry. */
struct addr {
    uint8_t family;
    union { uint32_t v4; uint8_t v6[16]; } a;
};

static MMDB_s mmdb;

/* Country of a via libmaxminddb ("ZZ" when none), packed in 16 bits. */
static uint16_t mmdb_cc(const struct addr *x)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    const struct sockaddr *sa;
    if (x->family == 4) {
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        s4.sin_addr.s_addr = htonl(x->a.v4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        memcpy(&s6.sin6_addr, x->a.v6, 16);
        sa = (const struct sockaddr *)&s6;
    }
    int merr;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&mmdb, sa, &merr);
    if (merr == MMDB_SUCCESS && r.found_entry) {
        MMDB_entry_data_s d;
        if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2)
            return (uint16_t)((uint8_t)d.utf8_string[0] << 8 | (uint8_t)d.utf8_string[1]);
    }
    return (uint16_t)('Z' << 8 | 'Z');
}

static inline uint16_t compiled_cc(const gt_classifier *c, const struct addr *x)
{
    uint32_t id = x->family == 4 ? gt_classify4(c, x->a.v4) : gt_classify6(c, x->a.v6);
    const struct gt_class *k = gt_classifier_class(c, id);
    return (uint16_t)((uint8_t)k->cc[0] << 8 | (uint8_t)k->cc[1]);
}

static void run_mode(const char *mode, const gt_classifier *c, const struct addr *as, size_t n, unsigned passes)
{
    /* Agreement first (also warms both structures). */
    size_t mism = 0;
    for (size_t i = 0; i < n; i++)
        if (compiled_cc(c, &as[i]) != mmdb_cc(&as[i])) {
            if (mism == 0) {
                char b[INET6_ADDRSTRLEN];
                uint32_t v4 = htonl(as[i].a.v4);
                inet_ntop(as[i].family == 4 ? AF_INET : AF_INET6, as[i].family == 4 ? (const void *)&v4 : as[i].a.v6,
                          b, sizeof b);
                fprintf(stderr, "bench_lookup: %s: first mismatch at %s\n", mode, b);
            }
            mism++;
        }
    uint32_t *a4 = malloc((n ? n : 1) * sizeof *a4);
    uint8_t *a6 = malloc((n ? n : 1) * 16);
    size_t n4 = 0, n6 = 0;
    if (!a4 || !a6) {
        fprintf(stderr, "bench_lookup: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        if (as[i].family == 4) a4[n4++] = as[i].a.v4;
        else memcpy(a6 + 16 * n6++, as[i].a.v6, 16);
    }
    volatile unsigned sink = 0;
    double best_c = 0, best_id = 0, best_m = 0;
    for (unsigned p = 0; p < passes; p++) {
        unsigned s = 0;
        double t0 = gt_mono_s();
        for (size_t i = 0; i < n; i++)
            s += compiled_cc(c, &as[i]);
        double t = gt_mono_s() - t0;
        sink += s;
        if (p == 0 || t < best_c) best_c = t;
        /* The class id alone, from plain per-family arrays: what the engine's
         * packet path needs before its key-table load. */
        s = 0;
        t0 = gt_mono_s();
        for (size_t i = 0; i < n4; i++)
            s += gt_classify4(c, a4[i]);
        for (size_t i = 0; i < n6; i++)
            s += gt_classify6(c, a6 + 16 * i);
        t = gt_mono_s() - t0;
        sink += s;
        if (p == 0 || t < best_id) best_id = t;
    }
    /* libmaxminddb is ~50x slower: one pass over at most 1M addresses is plenty. */
    size_t nm = n < 1000000 ? n : 1000000;
    {
        unsigned s = 0;
        double t0 = gt_mono_s();
        for (size_t i = 0; i < nm; i++)
            s += mmdb_cc(&as[i]);
        best_m = gt_mono_s() - t0;
        sink += s;
    }
    double lc = (double)n / best_c, lm = (double)nm / best_m;
    printf("mode=%s n=%zu compiled_lps=%.0f compiled_id_lps=%.0f mmdb_lps=%.0f ratio=%.2f compiled_ns=%.2f mmdb_ns=%.2f "
           "mismatches=%zu\n", mode, n, lc, (double)n / best_id, lm, lc / lm, 1e9 / lc, 1e9 / lm, mism);
    (void)sink;
    free(a4);
    free(a6);
}

/* Batch IPv4 lookups (gt_classify4_batch), to show what overlapping memory accesses gives. */
static void run_batch4(const gt_classifier *c, const struct addr *as, size_t n, unsigned passes)
{
    uint32_t *in = malloc(n * sizeof *in), *ids = malloc(n * sizeof *ids);
    if (!in || !ids) { free(in); free(ids); return; }
    for (size_t i = 0; i < n; i++)
        in[i] = as[i].a.v4;
    double best = 0;
    volatile unsigned sink = 0;
    for (unsigned p = 0; p < passes; p++) {
        double t0 = gt_mono_s();
        unsigned s = 0;
        for (size_t i = 0; i < n; i += 256) {
            size_t m = n - i < 256 ? n - i : 256;
            gt_classify4_batch(c, in + i, ids + i, m);
            for (size_t j = 0; j < m; j++)
                s += (uint8_t)gt_classifier_class(c, ids[i + j])->cc[0];
        }
        double t = gt_mono_s() - t0;
        sink += s;
        if (p == 0 || t < best) best = t;
    }
    printf("mode=rand4-batch n=%zu compiled_lps=%.0f compiled_ns=%.2f\n", n, (double)n / best, 1e9 * best / (double)n);
    (void)sink;
    free(in);
    free(ids);
}

/* Source and destination addresses of every IPv4/IPv6 packet of an Ethernet
 * trace (802.1Q/802.1ad tags skipped), in packet order. Other frames are skipped. */
static size_t trace_addrs(const struct trace_mem *t, struct addr *out)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        const uint8_t *d = t->pkts[i].data;
        uint32_t cap = t->pkts[i].caplen, off = 12;
        if (t->dlt != DLT_EN10MB || cap < 14) continue;
        uint16_t et = (uint16_t)(d[off] << 8 | d[off + 1]);
        while ((et == 0x8100 || et == 0x88a8) && off + 6 <= cap) {
            off += 4;
            et = (uint16_t)(d[off] << 8 | d[off + 1]);
        }
        off += 2;
        if (et == 0x0800 && off + 20 <= cap) {
            out[k].family = 4;
            out[k++].a.v4 = (uint32_t)d[off + 12] << 24 | (uint32_t)d[off + 13] << 16 | (uint32_t)d[off + 14] << 8 | d[off + 15];
            out[k].family = 4;
            out[k++].a.v4 = (uint32_t)d[off + 16] << 24 | (uint32_t)d[off + 17] << 16 | (uint32_t)d[off + 18] << 8 | d[off + 19];
        } else if (et == 0x86dd && off + 40 <= cap) {
            out[k].family = 6;
            memcpy(out[k++].a.v6, d + off + 8, 16);
            out[k].family = 6;
            memcpy(out[k++].a.v6, d + off + 24, 16);
        }
    }
    return k;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: bench_lookup [--random N] [--trace FILE.pcap] [--trace-packets N] [--passes N]\n"
                "                    [--country-db F] [--asn-db F]... [--no-asn]\n");
}

int main(int argc, char **argv)
{
    size_t nrand = 2000000, trace_max = 2000000;
    unsigned passes = 3;
    const char *trace = NULL, *country = NULL;
    const char *asn[8];
    size_t nasn = 0;
    int no_asn = 0;
    static const struct option lopts[] = {
        {"random", 1, 0, 'r'}, {"trace", 1, 0, 't'}, {"trace-packets", 1, 0, 'T'}, {"passes", 1, 0, 'p'},
        {"country-db", 1, 0, 'c'}, {"asn-db", 1, 0, 'a'}, {"no-asn", 0, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'r': nrand = strtoul(optarg, NULL, 10); break;
        case 't': trace = optarg; break;
        case 'T': trace_max = strtoul(optarg, NULL, 10); break;
        case 'p': passes = (unsigned)atoi(optarg); break;
        case 'c': country = optarg; break;
        case 'a': if (nasn < 8) asn[nasn++] = optarg; break;
        case 'n': no_asn = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || passes < 1) {
        usage(stderr);
        return 2;
    }
    if (!country) country = gt_default_country_db();
    if (!no_asn && nasn == 0) {
        asn[nasn++] = gt_default_asn_v4();
        asn[nasn++] = gt_default_asn_v6();
    }
    struct gt_classifier_opts co = {.country_db = country, .asn_dbs = no_asn ? NULL : asn, .n_asn_dbs = no_asn ? 0 : nasn};
    char err[512];
    gt_classifier *cls = gt_classifier_build(&co, err, sizeof err);
    if (!cls) {
        fprintf(stderr, "bench_lookup: %s\n", err);
        return 2;
    }
    if (MMDB_open(country, MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS) {
        fprintf(stderr, "bench_lookup: %s: cannot open with libmaxminddb\n", country);
        gt_classifier_free(cls);
        return 2;
    }
    printf("build_seconds=%.3f memory=%zu classes=%u asn=%s\n", gt_classifier_build_seconds(cls),
           gt_classifier_memory(cls), gt_classifier_nclasses(cls), no_asn ? "no" : "yes");

    size_t cap = nrand;
    struct trace_mem t = {0};
    if (trace) {
        if (trace_mem_load(&t, trace, trace_max, "bench_lookup") != 0) {
            MMDB_close(&mmdb);
            gt_classifier_free(cls);
            return 2;
        }
        if (2 * t.n > cap) cap = 2 * t.n;
    }
    struct addr *as = calloc(cap ? cap : 1, sizeof *as);
    if (!as) {
        fprintf(stderr, "bench_lookup: out of memory\n");
        trace_mem_free(&t);
        MMDB_close(&mmdb);
        gt_classifier_free(cls);
        return 1;
    }
    if (nrand) {
        for (size_t i = 0; i < nrand; i++) {
            as[i].family = 4;
            as[i].a.v4 = (uint32_t)next64();
        }
        run_mode("rand4", cls, as, nrand, passes);
        run_batch4(cls, as, nrand, passes);
        for (size_t i = 0; i < nrand; i++) {
            uint64_t hi = next64(), lo = next64();
            hi = (hi & ~(7ull << 61)) | (1ull << 61); /* 2000::/3 */
            as[i].family = 6;
            for (int b = 0; b < 8; b++) {
                as[i].a.v6[b] = (uint8_t)(hi >> (56 - 8 * b));
                as[i].a.v6[8 + b] = (uint8_t)(lo >> (56 - 8 * b));
            }
        }
        run_mode("rand6", cls, as, nrand, passes);
    }
    if (trace) {
        size_t n = trace_addrs(&t, as);
        run_mode("trace", cls, as, n, passes);
        /* Per family, to see where the time goes (stable partition in place). */
        struct addr *tmp = malloc((n ? n : 1) * sizeof *tmp);
        if (tmp) {
            size_t k4 = 0, k6 = 0;
            for (size_t i = 0; i < n; i++)
                if (as[i].family == 4) as[k4++] = as[i];
                else tmp[k6++] = as[i];
            memcpy(as + k4, tmp, k6 * sizeof *tmp);
            free(tmp);
            run_mode("trace4", cls, as, k4, passes);
            if (k6)
                run_mode("trace6", cls, as + k4, k6, passes);
        }
        trace_mem_free(&t);
    }
    free(as);
    MMDB_close(&mmdb);
    gt_classifier_free(cls);
    return 0;
}
