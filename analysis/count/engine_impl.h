/* The engine's private state, shared by its three parts: engine.c (life
 * cycle and the lookup swap, QSBR), worker.c (the packet path) and
 * collect.c (the collector). The memory-ordering argument is in engine.h. */
#ifndef GT_ENGINE_IMPL_H
#define GT_ENGINE_IMPL_H

#include "geotap/engine.h"
#include "geotap/parse.h"
#include "geotap/upstream_map.h"
#include "addr_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define RING 4                       /* closed bins a worker may run ahead of the collector */
#define BURST 128                    /* frames parsed and looked up together (gt_worker_burst) */
_Static_assert(2 * BURST <= 256, "mi holds an address index in a byte");
#define C6 (2 * BURST)                /* the IPv6 keys' start in ck */
#define PF_AHEAD 8                   /* frames whose first bytes are prefetched ahead of the parse */
#define CACHELINE 64
#define AC_WARMUP 2048               /* frames looked up without the address cache first */

/* A key's counts in one bin of one worker with the times of its first and
 * last packet, on one cache line: counting a packet touches two lines
 * (source's, destination's), not six. */
struct key_cell {
    _Alignas(CACHELINE) struct gt_counts c;
    int64_t first_ns, last_ns;
};

/* Cache-line aligned so the collector reading a closed slot never shares a
 * line with the worker writing the open one. */
struct slot {
    _Alignas(CACHELINE) int64_t start;
    uint32_t nkeys;                  /* keys valid in this slot (the lookup's when it closed) */
    struct key_cell *cells;          /* [capacity] */
    struct gt_bin_stats stats;
};

/* A burst's scratch: parsed frames, their addresses per family (source,
 * destination), the keys they get (burst_lookup) and the address cache
 * that gives most of them. */
struct burst_scratch {
    /* First, and 2 MiB: at the start of its owner's ac_map region it is
     * that region's whole first huge page (addr_cache.h). */
    struct addr_cache ac;            /* its owner clears it when the lookup changes */
    struct gt_pkt bp[BURST];
    uint32_t b4[2 * BURST];
    uint32_t ck[4 * BURST];          /* the keys: IPv4 addresses' from 0, IPv6 ones' from C6 */
    uint8_t b6[2 * BURST][16];
    uint32_t mk4[2 * BURST], mk6[2 * BURST];   /* the cache misses' classes */
    uint8_t mi4[2 * BURST], mi6[2 * BURST];     /* the cache misses' indexes in b4, b6 */
    struct gt_classify_walk walk6;   /* the IPv6 misses' (burst_lookup) */
    uint16_t bpos[BURST];            /* index of the frame's pair of keys in ck */
    int64_t mn, mx;                  /* the burst's earliest and latest frame times */
    uint32_t warm;                   /* frames looked up so far, up to AC_WARMUP */
    int ac_filled;                   /* ac holds entries (else it is all zero: nothing to clear) */
};

_Static_assert(sizeof(struct addr_cache) == GT_HUGE_SZ, "the address cache is ac_map's huge page");

/* A published lookup and the epoch it was retired at. */
struct lk_node {
    struct gt_lookup lk;
    uint64_t retired_at;             /* 0 while current */
    struct lk_node *next;            /* retired list */
};

struct gt_worker {
    struct burst_scratch bs;         /* gt_worker_burst's; first: see burst_scratch */
    /* Written by the worker only. */
    gt_engine *e;
    const struct lk_node *node;      /* the lookup in use */
    uint64_t epoch_seen;             /* the epoch last stored in quiescent */
    /* Copies of the lookup: the packet path reads nothing from the engine
     * struct, whose lines the collector writes. */
    const uint32_t *class_key;
    const gt_classifier *cls;
    const struct gt_key *keys;
    uint32_t nkeys;
    const struct gt_upstream_map *l2map;
    const char *iface;
    const uint32_t *l2_row, *l2_key;
    uint32_t l2_base;
    uint32_t width;
    unsigned parse_flags;
    int bytes_l3;
    int open;                        /* a bin is open in cur */
    struct slot *cur;
    uint64_t pending_drops;          /* drops reported while no bin was open */
    /* Clock-jump state (engine.h "Clock jumps"). */
    int have_recent;
    int64_t recent_ns;               /* latest accepted packet or tick */
    int64_t jump_ns;                 /* J */
    int64_t jump_at;                 /* time of the first unconfirmed jump in a row */
    unsigned jump_n;                 /* jumps in a row near jump_at */
    uint64_t seq;                    /* closed bins so far (== published) */
    struct slot ring[RING];
    /* Times [fast_lo, fast_hi) fall in the open bin of start fast_start:
     * count_frame skips worker_advance's division for them. */
    int64_t fast_lo, fast_hi, fast_start;
    /* Shared: each on its own cache line, one writer each. */
    _Alignas(CACHELINE) _Atomic uint64_t published;  /* worker writes */
    _Atomic int64_t watermark;                        /* worker writes: start of the open bin */
    _Atomic int finished;                             /* worker writes */
    _Atomic uint64_t quiescent;                       /* worker writes: last epoch seen between bursts */
    _Alignas(CACHELINE) _Atomic uint64_t consumed;   /* collector writes */
    char pad_[CACHELINE - sizeof(_Atomic uint64_t)];
};

struct gt_engine {
    struct gt_engine_opts o;
    uint32_t cap;                    /* key capacity of every slot */
    uint32_t emit_nkeys;             /* keys of the last emitted bin (never shrinks) */
    struct gt_worker **w;
    /* Lookup publication (QSBR): read by workers once per burst, written
     * only by gt_engine_set_lookup, on lines of their own. */
    _Alignas(CACHELINE) _Atomic(struct lk_node *) cur;
    _Atomic uint64_t epoch;
    _Alignas(CACHELINE) pthread_mutex_t retire_mu;   /* setter vs reclaimer; never on the packet path */
    struct lk_node *retired;
    unsigned pinned;                 /* gt_classify stages alive (split.c): no swap meanwhile */
    /* Collector state (one collector at a time: the caller's thread). */
    _Atomic int collecting;
    int have_last;
    int64_t last_emitted;
    uint64_t real_bins, zero_bins;   /* emitted from slots / filled in gaps */
    struct gt_counts *m_counts;
    int64_t *m_first, *m_last;
    struct gt_bin_stats totals;
    /* Ordered collection (ordered.c): the bin held back for joining. */
    int have_pend;
    int64_t pend_start;
    unsigned pend_worker;
    struct gt_bin_stats pend_st;
    struct spill *spill;             /* [nworkers] bins set aside (gt_engine_set_aside), or NULL */
    size_t spilled;                  /* their bytes */
};

#define STEP6 16                     /* IPv4 probes between two steps of the IPv6 walks (~150 cycles) */

/* The keys of the n4 IPv4 addresses in s->b4 into s->ck: from the cache,
 * the misses through one batch lookup (their cache misses overlap), which
 * then fill the cache. s->b4 is left holding the misses. Meanwhile the
 * IPv6 walks w6 (or NULL) take a step every STEP6 probes and between
 * stages: an IPv6 walk is a chain of up to 9 dependent reads, which would
 * otherwise stall the core after this (a tenth of run_bench's frames are
 * IPv6, yet their lookups took 11 of its 83 cycles per frame). */
static inline void burst_keys4(struct burst_scratch *s, const gt_classifier *cls, const uint32_t *class_key,
                               unsigned n4, struct gt_classify_walk *w6)
{
    unsigned nm = 0;
    for (unsigned j0 = 0; j0 < n4; j0 += STEP6) {
        if (w6 && j0)
            gt_classify_walk_step(w6);
        unsigned end = n4 - j0 < STEP6 ? n4 : j0 + STEP6;
        for (unsigned j = j0; j < end; j++) {
            /* branch-free: a miss rate of 10-20 % would mispredict often */
            uint32_t a = s->b4[j];
            const struct ac4 *e = ac4_slot(&s->ac, a);
            s->ck[j] = e->key;
            s->b4[nm] = a;                      /* nm <= j: compacts the misses in place */
            s->mi4[nm] = (uint8_t)j;
            nm += e->addr != a;
        }
    }
    if (!nm)
        return;
    s->ac_filled = 1;
    gt_classify4_batch(cls, s->b4, s->mk4, nm);
    if (w6)
        gt_classify_walk_step(w6);
    for (unsigned x = 0; x < nm; x++) {
        uint32_t k = class_key[s->mk4[x]];
        s->ck[s->mi4[x]] = k;
        *ac4_slot(&s->ac, s->b4[x]) = (struct ac4){ s->b4[x], k };
    }
}

/* The cache probes of the n6 IPv6 addresses in s->b6: hits' keys into
 * s->ck + C6, the misses compacted to the front of s->b6 (their indexes
 * in s->mi6). Returns the misses. */
static inline unsigned probe6(struct burst_scratch *s, unsigned n6)
{
    unsigned nm = 0;
    for (unsigned j = 0; j < n6; j++) {
        uint64_t hi, lo;
        memcpy(&hi, s->b6[j], 8);
        memcpy(&lo, s->b6[j] + 8, 8);
        const struct ac6 *e = ac6_slot(&s->ac, hi, lo);
        s->ck[C6 + j] = e->key;
        memcpy(s->b6[nm], &hi, 8);
        memcpy(s->b6[nm] + 8, &lo, 8);
        s->mi6[nm] = (uint8_t)j;
        nm += ((e->hi ^ hi) | (e->lo ^ lo)) != 0;
    }
    return nm;
}

/* The m6 IPv6 misses' keys, their walk done, into s->ck + C6 and the cache. */
static inline void fill6(struct burst_scratch *s, const uint32_t *class_key, unsigned m6)
{
    for (unsigned x = 0; x < m6; x++) {
        uint32_t k = class_key[s->mk6[x]];
        uint64_t hi, lo;
        memcpy(&hi, s->b6[x], 8);
        memcpy(&lo, s->b6[x] + 8, 8);
        s->ck[C6 + s->mi6[x]] = k;
        struct ac6 *e = ac6_slot(&s->ac, hi, lo);
        e->hi = hi;
        e->lo = lo;
        e->key = k;
    }
}

/* Parse up to BURST frames and find the keys of all their addresses
 * (probe6 and its walk, burst_keys4), as DPDK's l3fwd looks up a burst;
 * l2map is the lookup's L2 rules (NULL: none, and no L2 fields parsed). After it,
 * s->bp[i] is frame i parsed and, for an IP frame, its source and
 * destination keys (before L2 rules) are c[0], c[1] of
 * burst_keys(s, i); s->mn, s->mx the earliest and latest frame times.
 * Nothing here depends on the bins. */
static inline void burst_lookup(struct burst_scratch *s, const gt_classifier *cls, const uint32_t *class_key,
                                const struct gt_upstream_map *l2map, unsigned flags, int dlt,
                                const struct gt_frame *f, unsigned n)
{
    /* no L2 rules: the parse may skip the MAC and VLAN fields */
    if (!l2map)
        flags |= GT_PARSE_NO_L2;
    unsigned n4 = 0, n6 = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    /* frame headers a few frames ahead: a DRAM miss outlasts several parses */
    for (unsigned i = 0; i < PF_AHEAD && i < n; i++)
        __builtin_prefetch(f[i].data);
    for (unsigned i = 0; i < n; i++) {
        if (i + PF_AHEAD < n)
            __builtin_prefetch(f[i + PF_AHEAD].data);
        int64_t t = f[i].ts_ns;
        mn = t < mn ? t : mn;
        mx = t > mx ? t : mx;
        struct gt_pkt *p = &s->bp[i];
        gt_parse_inline(dlt, f[i].data, f[i].caplen, flags, p);
        if (p->kind != GT_PKT_IP)
            continue;
        /* the cache entries early: the probes (probe6, burst_keys4) then hit L1 */
        if (p->family == 4) {
            s->bpos[i] = (uint16_t)n4;
            s->b4[n4++] = p->src.v4;
            s->b4[n4++] = p->dst.v4;
            __builtin_prefetch(ac4_slot(&s->ac, p->src.v4));
            __builtin_prefetch(ac4_slot(&s->ac, p->dst.v4));
        } else {
            s->bpos[i] = (uint16_t)(C6 + n6);
            memcpy(s->b6[n6++], p->src.v6, 16);
            memcpy(s->b6[n6++], p->dst.v6, 16);
            __builtin_prefetch(ac6_slot_of(&s->ac, p->src.v6));
            __builtin_prefetch(ac6_slot_of(&s->ac, p->dst.v6));
        }
    }
    s->mn = mn;
    s->mx = mx;
    if (__builtin_expect(s->warm < AC_WARMUP, 0)) {
        /* a short run: the batch lookups alone, so it does not fault in
         * the cache's huge page for a few hundred addresses; the cache is
         * made empty (its one written slot) only when first used */
        s->warm += n;
        if (s->warm >= AC_WARMUP)
            addr_cache_init(&s->ac);
        gt_classify4_batch(cls, s->b4, s->ck, n4);
        gt_classify6_batch(cls, (const uint8_t (*)[16])s->b6, s->ck + C6, n6);
        for (unsigned j = 0; j < n4; j++)
            s->ck[j] = class_key[s->ck[j]];
        for (unsigned j = 0; j < n6; j++)
            s->ck[C6 + j] = class_key[s->ck[C6 + j]];
        return;
    }
    /* the IPv6 misses' walks first, stepped while the IPv4 ones are found */
    unsigned m6 = n6 ? probe6(s, n6) : 0;
    struct gt_classify_walk *w6 = NULL;
    if (m6) {
        s->ac_filled = 1;
        w6 = &s->walk6;
        gt_classify_walk_start(w6, cls, NULL, NULL, 0, (const uint8_t (*)[16])s->b6, s->mk6, m6);
    }
    if (n4)
        burst_keys4(s, cls, class_key, n4, w6);
    if (m6) {
        gt_classify_walk_finish(w6);
        fill6(s, class_key, m6);
    }
}

/* The source and destination keys burst_lookup found for IP frame i. */
static inline const uint32_t *burst_keys(const struct burst_scratch *s, unsigned i)
{
    return &s->ck[s->bpos[i]];   /* no branch on the family: 10 % IPv6 mispredicts */
}

/* The per-frame upstream rules (--upstream-map mac/vlan/interface) on a
 * frame's keys: the rule's upstream replaces the class's for the non-home
 * addresses. */
static inline void l2_keys(const struct gt_upstream_map *l2map, const char *iface, const uint32_t *l2_row,
                           const uint32_t *l2_key, uint32_t l2_base, const struct gt_key *keys,
                           const struct gt_pkt *pk, uint32_t *ks, uint32_t *kd)
{
    uint32_t u = gt_upstream_map_l2(l2map, pk, iface);
    if (u && l2_row[u]) {
        const uint32_t *row = l2_key + (size_t)(l2_row[u] - 1) * l2_base;
        if (!keys[*ks].home) *ks = row[*ks];
        if (!keys[*kd].home) *kd = row[*kd];
    }
}

/* The merge arrays (m_counts, m_first, m_last), shared by collect.c and
 * ordered.c. Keys [from, to) zeroed: */
static inline void engine_merge_zero(gt_engine *e, uint32_t from, uint32_t to)
{
    memset(e->m_counts + from, 0, (to - from) * sizeof *e->m_counts);
    memset(e->m_first + from, 0, (to - from) * sizeof *e->m_first);
    memset(e->m_last + from, 0, (to - from) * sizeof *e->m_last);
}

/* Room for a bin of nkeys keys (a lookup with more keys was adopted): the
 * bin grows, its new keys zero. */
static inline void engine_merge_grow(gt_engine *e, uint32_t nkeys)
{
    if (nkeys <= e->emit_nkeys)
        return;
    engine_merge_zero(e, e->emit_nkeys, nkeys);
    e->emit_nkeys = nkeys;
}

/* Key k of another slot of the bin being merged, as parallel parts add:
 * counts summed, the earliest first time, the latest last. */
static inline void engine_merge_key(gt_engine *e, uint32_t k, const struct gt_counts *c, int64_t first,
                                    int64_t last)
{
    gt_counts_add(&e->m_counts[k], c);
    if (!e->m_first[k] || first < e->m_first[k])
        e->m_first[k] = first;
    if (last > e->m_last[k])
        e->m_last[k] = last;
}

/* collect.c, for ordered.c too: add b's figures to a; emit the merged bin
 * in m_counts/m_first/m_last; emit the zero bins before start. */
void engine_stats_add(struct gt_bin_stats *a, const struct gt_bin_stats *b);
void engine_emit(gt_engine *e, int64_t start, const struct gt_bin_stats *st);
void engine_fill_gap(gt_engine *e, int64_t start);
/* engine.c: make lookup n the worker's (at its quiescent point, worker.c). */
void engine_worker_adopt(struct gt_worker *w, const struct lk_node *n);
/* engine.c: free the retired lookups no unfinished worker can still use
 * (all: every one, at gt_engine_free); called by the collector. */
void engine_reclaim(gt_engine *e, int all);

#endif
