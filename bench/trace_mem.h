/* A capture file loaded whole into memory, for the benchmarks that must not
 * measure file reading (bench_engine, bench_lookup). Header-only: shared by
 * two bench programs, not part of libgeotap. */
#ifndef GEOTAP_BENCH_TRACE_MEM_H
#define GEOTAP_BENCH_TRACE_MEM_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trace_pkt {
    int64_t ts_ns;
    uint32_t caplen, wirelen;
    const uint8_t *data;
};

struct trace_mem {
    int dlt;
    size_t n;
    struct trace_pkt *pkts;
    uint8_t *arena;
    size_t arena_len;
};

static inline void trace_mem_free(struct trace_mem *t)
{
    free(t->pkts);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

/* Read up to max packets (0 = all) of path into t. 0, or -1 after one line on stderr. */
static inline int trace_mem_load(struct trace_mem *t, const char *path, size_t max, const char *prog)
{
    char err[PCAP_ERRBUF_SIZE];
    memset(t, 0, sizeof *t);
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, err);
        return -1;
    }
    t->dlt = pcap_datalink(pc);
    size_t cap = 1 << 16, acap = (size_t)1 << 24;
    t->pkts = malloc(cap * sizeof *t->pkts);
    t->arena = malloc(acap);
    /* Offsets first: the arena moves while it grows; pointers are fixed up at the end. */
    size_t *off = malloc(cap * sizeof *off);
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = 1, oom = !t->pkts || !t->arena || !off;
    while (!oom && (max == 0 || t->n < max) && (rc = pcap_next_ex(pc, &h, &d)) == 1) {
        if (t->n == cap) {
            cap *= 2;
            void *p = realloc(t->pkts, cap * sizeof *t->pkts), *q = realloc(off, cap * sizeof *off);
            if (p) t->pkts = p;
            if (q) off = q;
            if (!p || !q) { oom = 1; break; }
        }
        size_t need = t->arena_len + ((h->caplen + 15u) & ~15u);
        if (need > acap) {
            while (need > acap) acap *= 2;
            uint8_t *a = realloc(t->arena, acap);
            if (!a) { oom = 1; break; }
            t->arena = a;
        }
        memcpy(t->arena + t->arena_len, d, h->caplen);
        off[t->n] = t->arena_len;
        t->pkts[t->n].ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec; /* nano precision */
        t->pkts[t->n].caplen = h->caplen;
        t->pkts[t->n].wirelen = h->len;
        t->n++;
        t->arena_len = need;
    }
    if (oom || rc == PCAP_ERROR) {
        if (oom) fprintf(stderr, "%s: %s: out of memory loading the trace\n", prog, path);
        else fprintf(stderr, "%s: %s: %s\n", prog, path, pcap_geterr(pc));
        pcap_close(pc);
        free(off);
        trace_mem_free(t);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        t->pkts[i].data = t->arena + off[i];
    free(off);
    pcap_close(pc);
    return 0;
}

#endif
