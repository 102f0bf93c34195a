/* Parser throughput on real captures, plus a check of the Ethernet+IPv4 fast
 * path: every Ethernet packet is also parsed wrapped in a PPI header (which
 * takes the general path) and both results must agree field by field.
 * Usage: test_parse_bench [-r REPS] DIR|FILE...   (default REPS 50)
 * Prints ns/packet for outer-header and decap parsing; exits 1 on mismatch. */
#include "geotap/parse.h"
#include "captures.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pkt { int dlt; uint32_t len; size_t at; };

static struct pkt *pkts;
static size_t npkts, cap_pkts;
static uint8_t *arena;
static size_t arena_len, arena_cap;

static void load_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, "test_parse_bench: %s: %s\n", path, err);
        return;
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        if (npkts == cap_pkts) {
            cap_pkts = cap_pkts ? 2 * cap_pkts : 4096;
            pkts = realloc(pkts, cap_pkts * sizeof *pkts);
        }
        while (arena_len + h->caplen > arena_cap) {
            arena_cap = arena_cap ? 2 * arena_cap : 1 << 20;
            arena = realloc(arena, arena_cap);
        }
        if (!pkts || !arena) {
            fprintf(stderr, "test_parse_bench: out of memory\n");
            exit(2);
        }
        memcpy(arena + arena_len, d, h->caplen);
        pkts[npkts++] = (struct pkt){ dlt, h->caplen, arena_len };
        arena_len += h->caplen;
    }
    pcap_close(pc);
}

static void load(const char *path)
{
    size_t n;
    char **paths = captures_list(path, &n);
    if (!paths) {
        load_file(path);
        return;
    }
    for (size_t i = 0; i < n; i++)
        load_file(paths[i]);
    captures_free(paths);
}

static int same(const struct gt_pkt *a, const struct gt_pkt *b)
{
    if (a->kind != b->kind || a->has_vlan != b->has_vlan || a->has_mac != b->has_mac)
        return 0;
    if (a->has_vlan && a->vlan != b->vlan)
        return 0;
    if (a->has_mac && memcmp(a->src_mac, b->src_mac, 6))
        return 0;
    if (a->kind != GT_PKT_IP)
        return 1;
    if (a->family != b->family || a->l3_len != b->l3_len)
        return 0;
    if (a->family == 4)
        return a->src.v4 == b->src.v4 && a->dst.v4 == b->dst.v4;
    return !memcmp(a->src.v6, b->src.v6, 16) && !memcmp(a->dst.v6, b->dst.v6, 16);
}

static double run(unsigned flags, int reps)
{
    struct timespec t0, t1;
    unsigned long sink = 0;
    struct gt_pkt p;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < npkts; i++) {
            gt_parse(pkts[i].dlt, arena + pkts[i].at, pkts[i].len, flags, &p);
            sink += p.kind + p.src.v4;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (sink == 1)      /* keep the loop */
        putchar(' ');
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)npkts * reps);
}

int main(int argc, char **argv)
{
    int reps = 50, a = 1;
    if (a + 1 < argc && !strcmp(argv[a], "-r")) {
        reps = atoi(argv[a + 1]);
        a += 2;
    }
    if (a >= argc || reps < 1) {
        fprintf(stderr, "usage: test_parse_bench [-r REPS] DIR|FILE...\n");
        return 2;
    }
    for (; a < argc; a++)
        load(argv[a]);
    if (!npkts) {
        fprintf(stderr, "test_parse_bench: no packets\n");
        return 1;
    }

    /* Fast path vs general path (PPI-wrapped, inner DLT 1). */
    static uint8_t wrapped[8 + 262144];
    size_t eth = 0, bad = 0;
    for (size_t i = 0; i < npkts; i++) {
        if (pkts[i].dlt != GT_DLT_EN10MB || pkts[i].len > sizeof wrapped - 8)
            continue;
        static const uint8_t ppi[8] = { 0, 0, 8, 0, 1, 0, 0, 0 };
        memcpy(wrapped, ppi, 8);
        memcpy(wrapped + 8, arena + pkts[i].at, pkts[i].len);
        for (unsigned flags = 0; flags <= GT_PARSE_DECAP; flags += GT_PARSE_DECAP) {
            struct gt_pkt x, y;
            gt_parse(GT_DLT_EN10MB, arena + pkts[i].at, pkts[i].len, flags, &x);
            gt_parse(GT_DLT_PPI, wrapped, pkts[i].len + 8, flags, &y);
            if (!same(&x, &y)) {
                if (bad < 5)
                    fprintf(stderr, "packet %zu (flags %u): fast and general path differ\n", i, flags);
                bad++;
            }
        }
        eth++;
    }
    printf("%zu packets (%zu Ethernet checked on both paths, %zu differ)\n", npkts, eth, bad);

    double outer = run(0, reps), inner = run(GT_PARSE_DECAP, reps);
    printf("outer header: %.2f ns/packet (%.1f Mpps); with decap: %.2f ns/packet (%.1f Mpps); %d passes\n",
           outer, 1e3 / outer, inner, 1e3 / inner, reps);
    free(pkts);
    free(arena);
    return bad || !eth ? 1 : 0;
}
