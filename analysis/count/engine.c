/* The counting engine: per-worker bin rings, lock-free hand-over to the
 * collector (see the memory-ordering argument in engine.h). */
#include "geotap/engine.h"
#include "geotap/parse.h"
#include "geotap/upstream_map.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RING 4                       /* closed bins a worker may run ahead of the collector */
#define BURST 128                    /* frames parsed and looked up together (gt_worker_burst) */
_Static_assert(2 * BURST <= 256, "bpos holds an address index in a byte");
#define PF_AHEAD 8                   /* frames whose first bytes are prefetched ahead of the parse */
#define CACHELINE 64

/* Cache-line aligned so the collector reading a closed slot never shares a
 * line with the worker writing the open one. */
struct slot {
    _Alignas(CACHELINE) int64_t start;
    uint32_t nkeys;                  /* keys valid in this slot (the lookup's when it closed) */
    struct gt_counts *counts;        /* [capacity] */
    int64_t *first_ns, *last_ns;     /* [nkeys] */
    struct gt_bin_stats stats;
};

/* A published lookup and the epoch it was retired at. */
struct lk_node {
    struct gt_lookup lk;
    uint64_t retired_at;             /* 0 while current */
    struct lk_node *next;            /* retired list */
};

struct gt_worker {
    /* Written by the worker only. */
    gt_engine *e;
    const struct lk_node *node;      /* the lookup in use */
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
    /* gt_worker_burst's scratch: parsed frames, their addresses per family
     * (source, destination) and the class ids the batch lookups give. */
    struct gt_pkt bp[BURST];
    uint32_t b4[2 * BURST], c4[2 * BURST], c6[2 * BURST];
    uint8_t b6[2 * BURST][16];
    uint8_t bpos[BURST];             /* index of the frame's pair in b4/c4 or b6/c6 */
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
    /* Collector state (one collector at a time: the caller's thread). */
    _Atomic int collecting;
    int have_last;
    int64_t last_emitted;
    uint64_t real_bins, zero_bins;   /* emitted from slots / filled in gaps */
    struct gt_counts *m_counts;
    int64_t *m_first, *m_last;
    struct gt_bin_stats totals;
};

/* Round up to whole cache lines so no two workers' arrays share one. */
static size_t round_line(size_t bytes)
{
    return (bytes + CACHELINE - 1) / CACHELINE * CACHELINE;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p;
    if (sz && n > SIZE_MAX / sz - CACHELINE)
        return NULL;
    size_t bytes = round_line(n * sz);
    if (bytes == 0)
        bytes = CACHELINE;
    if (posix_memalign(&p, CACHELINE, bytes))
        return NULL;
    memset(p, 0, bytes);
    return p;
}

static void slot_free(struct slot *s)
{
    free(s->counts);
    free(s->first_ns);
    free(s->last_ns);
}

static int slot_alloc(struct slot *s, uint32_t nkeys)
{
    s->counts = xcalloc(nkeys, sizeof *s->counts);
    s->first_ns = xcalloc(nkeys, sizeof *s->first_ns);
    s->last_ns = xcalloc(nkeys, sizeof *s->last_ns);
    return s->counts && s->first_ns && s->last_ns ? 0 : -1;
}

static void node_retire(struct lk_node *n)
{
    if (n->lk.retire)
        n->lk.retire(n->lk.retire_ctx);
    free(n);
}

/* Free the retired lookups no unfinished worker can still be using. */
static void reclaim(gt_engine *e, int all)
{
    uint64_t min = UINT64_MAX;
    for (unsigned i = 0; !all && i < e->o.nworkers; i++) {
        struct gt_worker *w = e->w[i];
        if (atomic_load_explicit(&w->finished, memory_order_acquire))
            continue;
        uint64_t q = atomic_load_explicit(&w->quiescent, memory_order_acquire);
        if (q < min)
            min = q;
    }
    pthread_mutex_lock(&e->retire_mu);
    struct lk_node **pp = &e->retired;
    while (*pp) {
        struct lk_node *n = *pp;
        if (all || n->retired_at <= min) {
            *pp = n->next;
            node_retire(n);
        } else {
            pp = &n->next;
        }
    }
    pthread_mutex_unlock(&e->retire_mu);
}

void gt_engine_free(gt_engine *e)
{
    if (!e)
        return;
    for (unsigned i = 0; e->w && i < e->o.nworkers; i++) {
        if (!e->w[i])
            continue;
        for (int r = 0; r < RING; r++)
            slot_free(&e->w[i]->ring[r]);
        free(e->w[i]);
    }
    if (e->w)
        reclaim(e, 1);
    struct lk_node *cur = atomic_load(&e->cur);
    if (cur)
        node_retire(cur);
    pthread_mutex_destroy(&e->retire_mu);
    free(e->w);
    free(e->m_counts);
    free(e->m_first);
    free(e->m_last);
    free(e);
}

/* The worker's copy of a lookup; a larger one zeroes the new keys of the
 * open bin, which the old lookup never counted into. */
static void worker_adopt(struct gt_worker *w, const struct lk_node *n)
{
    const struct gt_lookup *lk = &n->lk;
    if (w->open && lk->nkeys > w->nkeys) {
        struct slot *s = w->cur;
        size_t add = lk->nkeys - w->nkeys;
        memset(s->counts + w->nkeys, 0, add * sizeof *s->counts);
        memset(s->first_ns + w->nkeys, 0, add * sizeof *s->first_ns);
        memset(s->last_ns + w->nkeys, 0, add * sizeof *s->last_ns);
        s->nkeys = lk->nkeys;
    }
    w->node = n;
    w->cls = lk->cls;
    w->class_key = lk->class_key;
    w->keys = lk->keys;
    w->nkeys = lk->nkeys;
    w->l2map = lk->l2map;
    w->l2_row = lk->l2_row;
    w->l2_key = lk->l2_key;
    w->l2_base = lk->l2_base;
}

/* The quiescent point: nothing of an older lookup is in use here. Loads
 * the epoch before the lookup (see (6) in engine.h). */
static inline void worker_quiescent(struct gt_worker *w)
{
    gt_engine *e = w->e;
    uint64_t ep = atomic_load_explicit(&e->epoch, memory_order_acquire);
    const struct lk_node *n = atomic_load_explicit(&e->cur, memory_order_acquire);
    if (__builtin_expect(n != w->node, 0))
        worker_adopt(w, n);
    atomic_store_explicit(&w->quiescent, ep, memory_order_release);
}

gt_engine *gt_engine_new(const struct gt_engine_opts *opts)
{
    gt_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->o = *opts;
    if (e->o.nworkers == 0)
        e->o.nworkers = 1;
    if (e->o.max_gap_bins == 0)
        e->o.max_gap_bins = 1000000;
    pthread_mutex_init(&e->retire_mu, NULL);
    struct lk_node *n = calloc(1, sizeof *n);
    if (!n) {
        pthread_mutex_destroy(&e->retire_mu);
        free(e);
        return NULL;
    }
    if (opts->lookup) {
        n->lk = *opts->lookup;
    } else {
        n->lk = (struct gt_lookup){ .cls = opts->cls, .class_key = opts->keys->class_key,
                                    .keys = opts->keys->keys, .nkeys = opts->keys->nkeys,
                                    .l2map = opts->l2map, .l2_row = opts->l2_row,
                                    .l2_key = opts->l2_key, .l2_base = opts->l2_base };
    }
    atomic_init(&e->cur, n);
    atomic_init(&e->epoch, 1);
    e->cap = opts->max_keys > n->lk.nkeys ? opts->max_keys : n->lk.nkeys;
    e->emit_nkeys = n->lk.nkeys;
    e->w = calloc(e->o.nworkers, sizeof *e->w);
    e->m_counts = xcalloc(e->cap, sizeof *e->m_counts);
    e->m_first = xcalloc(e->cap, sizeof *e->m_first);
    e->m_last = xcalloc(e->cap, sizeof *e->m_last);
    if (!e->w || !e->m_counts || !e->m_first || !e->m_last)
        goto fail;
    for (unsigned i = 0; i < e->o.nworkers; i++) {
        struct gt_worker *w = xcalloc(1, sizeof *w);
        if (!w)
            goto fail;
        e->w[i] = w;
        w->e = e;
        worker_adopt(w, n);
        w->iface = opts->iface;
        w->width = opts->bin_seconds;
        w->jump_ns = (int64_t)(4 * (uint64_t)opts->bin_seconds > 3600 ? 4 * (uint64_t)opts->bin_seconds : 3600)
                     * 1000000000;
        w->parse_flags = opts->parse_flags;
        w->bytes_l3 = opts->bytes_l3;
        for (int r = 0; r < RING; r++)
            if (slot_alloc(&w->ring[r], e->cap))
                goto fail;
        atomic_init(&w->published, 0);
        atomic_init(&w->consumed, 0);
        atomic_init(&w->watermark, INT64_MIN);
        atomic_init(&w->finished, 0);
        atomic_init(&w->quiescent, 1);
    }
    return e;
fail:
    gt_engine_free(e);
    return NULL;
}

int gt_engine_set_lookup(gt_engine *e, const struct gt_lookup *lk)
{
    struct lk_node *old = atomic_load_explicit(&e->cur, memory_order_relaxed);
    if (lk->nkeys < old->lk.nkeys || lk->nkeys > e->cap)
        return -1;
    struct lk_node *n = calloc(1, sizeof *n);
    if (!n)
        return -1;
    n->lk = *lk;
    pthread_mutex_lock(&e->retire_mu);
    /* Publish the lookup, then the epoch that tells workers it is there. */
    old = atomic_exchange_explicit(&e->cur, n, memory_order_acq_rel);
    uint64_t ep = atomic_load_explicit(&e->epoch, memory_order_relaxed) + 1;
    atomic_store_explicit(&e->epoch, ep, memory_order_release);
    old->retired_at = ep;
    old->next = e->retired;
    e->retired = old;
    pthread_mutex_unlock(&e->retire_mu);
    return 0;
}

uint32_t gt_engine_key_capacity(const gt_engine *e)
{
    return e->cap;
}

struct gt_worker *gt_engine_worker(gt_engine *e, unsigned i)
{
    return i < e->o.nworkers ? e->w[i] : NULL;
}

/* Bin start of a time; floor division so times before 1970 bin correctly. */
static int64_t bin_of(uint32_t width, int64_t ts_ns)
{
    if (width == 0)
        return 0;
    int64_t s = ts_ns / 1000000000;
    if (ts_ns < 0 && s * 1000000000 != ts_ns)
        s--;
    int64_t r = s % (int64_t)width;
    if (r < 0)
        r += width;
    return s - r;
}

static void worker_open(struct gt_worker *w, int64_t start)
{
    gt_engine *e = w->e;
    /* Wait for the collector to free the slot: back-pressure, never loss. */
    while (w->seq - atomic_load_explicit(&w->consumed, memory_order_acquire) >= RING) {
        if (e->o.inline_collect)
            gt_engine_collect(e);
        else
            sched_yield();
    }
    struct slot *s = &w->ring[w->seq % RING];
    memset(s->counts, 0, w->nkeys * sizeof *s->counts);
    memset(s->first_ns, 0, w->nkeys * sizeof *s->first_ns);
    memset(s->last_ns, 0, w->nkeys * sizeof *s->last_ns);
    s->nkeys = w->nkeys;
    memset(&s->stats, 0, sizeof s->stats);
    s->stats.drops = w->pending_drops;
    w->pending_drops = 0;
    s->start = start;
    w->cur = s;
    w->open = 1;
    atomic_store_explicit(&w->watermark, start, memory_order_release);
}

static void worker_close(struct gt_worker *w)
{
    w->open = 0;
    w->seq++;
    atomic_store_explicit(&w->published, w->seq, memory_order_release);
    if (w->e->o.inline_collect)
        gt_engine_collect(w->e);
}

/* Make the bin of time ts the open one; late packets stay in the open bin. */
static inline void worker_advance(struct gt_worker *w, int64_t ts_ns)
{
    int64_t b = bin_of(w->width, ts_ns);
    if (__builtin_expect(w->open && b <= w->cur->start, 1))
        return;
    if (w->open)
        worker_close(w);
    worker_open(w, b);
}

/* worker_advance, without bin_of's division for times inside the open bin
 * (most frames; the division is a fifth of the per-frame cost). The window
 * [fast_lo, fast_hi) is exactly the times bin_of maps to the open bin's
 * start, recomputed whenever the bin changes (also through gt_worker_tick). */
static inline void advance_to(struct gt_worker *w, int64_t ts_ns)
{
    if (w->open && ts_ns >= w->fast_lo && ts_ns < w->fast_hi && w->cur->start == w->fast_start)
        return;
    worker_advance(w, ts_ns);
    int64_t st = w->cur->start;
    w->fast_start = st;
    w->fast_lo = w->fast_hi = 0;        /* empty unless set below */
    if (w->width == 0) {
        w->fast_lo = INT64_MIN;
        w->fast_hi = INT64_MAX;
    } else if (st > INT64_MIN / 1000000000 + 1 && st < INT64_MAX / 1000000000 - (int64_t)w->width - 1 &&
               bin_of(w->width, st * 1000000000) == st) {
        w->fast_lo = st * 1000000000;
        w->fast_hi = (st + (int64_t)w->width) * 1000000000;
    }
}

/* a - b, saturated (times may be anything a file holds). */
static inline int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t d;
    if (__builtin_sub_overflow(a, b, &d))
        d = a > b ? INT64_MAX : INT64_MIN;
    return d;
}

/* The rare cases of worker_clock: bad time, first packet, jumps. */
static int64_t worker_clock_slow(struct gt_worker *w, int64_t ts_ns)
{
    if (ts_ns == GT_TS_BAD) {
        int64_t t = w->have_recent ? w->recent_ns : 0;
        if (!w->open)
            advance_to(w, t);
        w->cur->stats.bad_time++;
        return t;
    }
    if (!w->have_recent) {
        w->have_recent = 1;
        w->recent_ns = ts_ns;
        advance_to(w, ts_ns);
        return ts_ns;
    }
    if (ts_ns > w->recent_ns) {
        int64_t d = sat_sub(ts_ns, w->jump_at);
        if (w->jump_n && d <= w->jump_ns && d >= -w->jump_ns) {
            w->jump_n++;
        } else {
            w->jump_at = ts_ns;
            w->jump_n = 1;
        }
        if (w->jump_n >= GT_JUMP_CONFIRM) {   /* a real step forward */
            w->jump_n = 0;
            w->recent_ns = ts_ns;
            advance_to(w, ts_ns);
            return ts_ns;
        }
    } else {
        w->jump_n = 0;
    }
    if (!w->open)
        advance_to(w, w->recent_ns);
    w->cur->stats.clock_jumps++;
    return w->recent_ns;
}

/* Open the right bin for a packet of time ts_ns and return the time to
 * record for it (engine.h "Clock jumps"). */
static inline int64_t worker_clock(struct gt_worker *w, int64_t ts_ns)
{
    int64_t d = sat_sub(ts_ns, w->recent_ns);
    if (__builtin_expect(w->have_recent && ts_ns != GT_TS_BAD && d <= w->jump_ns && d >= -w->jump_ns, 1)) {
        w->jump_n = 0;
        if (d > 0)
            w->recent_ns = ts_ns;
        advance_to(w, ts_ns);
        return ts_ns;
    }
    return worker_clock_slow(w, ts_ns);
}

/* A frame's time through the clock-jump policy into the bin stats; *ts_ns
 * becomes the time to record for it. Returns the open bin. */
static inline struct slot *count_frame(struct gt_worker *w, int64_t *ts_ns, uint32_t wirelen)
{
    int64_t t = worker_clock(w, *ts_ns);
    *ts_ns = t;
    struct slot *s = w->cur;
    s->stats.packets++;
    s->stats.bytes += wirelen;
    /* earliest and latest, so a late packet cannot make the span negative */
    if (!s->stats.first_ns || t < s->stats.first_ns)
        s->stats.first_ns = t;
    if (t > s->stats.last_ns)
        s->stats.last_ns = t;
    return s;
}

/* A parsed frame's kind into the stats; 1 when it is IP (to be counted per key). */
static inline int count_kind(struct slot *s, const struct gt_pkt *p)
{
    switch (p->kind) {
    case GT_PKT_IP:
        s->stats.ip++;
        return 1;
    case GT_PKT_NONIP:
        s->stats.nonip++;
        return 0;
    case GT_PKT_TRUNCATED:
        s->stats.truncated++;
        return 0;
    default:
        s->stats.malformed++;
        return 0;
    }
}

/* Count an IP frame whose addresses have keys ks, kd (before L2 rules). */
static inline void count_ip(struct gt_worker *w, struct slot *s, int64_t ts_ns, uint32_t wirelen,
                            const struct gt_pkt *pk, uint32_t ks, uint32_t kd)
{
    if (__builtin_expect(w->l2map != NULL, 0)) {
        uint32_t u = gt_upstream_map_l2(w->l2map, pk, w->iface);
        if (u && w->l2_row[u]) {
            const uint32_t *row = w->l2_key + (size_t)(w->l2_row[u] - 1) * w->l2_base;
            if (!w->keys[ks].home) ks = row[ks];
            if (!w->keys[kd].home) kd = row[kd];
        }
    }
    uint64_t bytes = w->bytes_l3 ? pk->l3_len : wirelen;
    struct gt_counts *c = s->counts;
    c[ks].pkts_from++;
    c[ks].bytes_from += bytes;
    c[kd].pkts_to++;
    c[kd].bytes_to += bytes;
    gt_counts_gap(&c[ks], s->last_ns[ks], ts_ns);
    if (kd != ks)
        gt_counts_gap(&c[kd], s->last_ns[kd], ts_ns);
    if (!s->first_ns[ks]) s->first_ns[ks] = ts_ns;
    if (!s->first_ns[kd]) s->first_ns[kd] = ts_ns;
    s->last_ns[ks] = ts_ns;
    s->last_ns[kd] = ts_ns;
}

void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct gt_pkt p;
    struct slot *s = count_frame(w, &ts_ns, wirelen);
    gt_parse(dlt, data, caplen, w->parse_flags, &p);
    if (!count_kind(s, &p))
        return;
    uint32_t cs, cd;
    if (p.family == 4) {
        cs = gt_classify4(w->cls, p.src.v4);
        cd = gt_classify4(w->cls, p.dst.v4);
    } else {
        cs = gt_classify6(w->cls, p.src.v6);
        cd = gt_classify6(w->cls, p.dst.v6);
    }
    count_ip(w, s, ts_ns, wirelen, &p, w->class_key[cs], w->class_key[cd]);
}

/* Up to BURST frames in three passes, as DPDK's l3fwd does: parse all
 * (nothing here depends on the bins), look up all addresses with the batch
 * lookups (their cache misses overlap), then count in frame order exactly
 * as gt_worker_packet does (bins advance per frame: the same counts). */
static void burst_chunk(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n)
{
    unsigned n4 = 0, n6 = 0;
    /* frame headers a few frames ahead: a DRAM miss outlasts several parses */
    for (unsigned i = 0; i < PF_AHEAD && i < n; i++)
        __builtin_prefetch(f[i].data);
    for (unsigned i = 0; i < n; i++) {
        if (i + PF_AHEAD < n)
            __builtin_prefetch(f[i + PF_AHEAD].data);
        struct gt_pkt *p = &w->bp[i];
        gt_parse(dlt, f[i].data, f[i].caplen, w->parse_flags, p);
        if (p->kind != GT_PKT_IP)
            continue;
        if (p->family == 4) {
            w->bpos[i] = (uint8_t)n4;
            w->b4[n4++] = p->src.v4;
            w->b4[n4++] = p->dst.v4;
        } else {
            w->bpos[i] = (uint8_t)n6;
            memcpy(w->b6[n6++], p->src.v6, 16);
            memcpy(w->b6[n6++], p->dst.v6, 16);
        }
    }
    if (n4)
        gt_classify4_batch(w->cls, w->b4, w->c4, n4);
    if (n6)
        gt_classify6_batch(w->cls, (const uint8_t (*)[16])w->b6, w->c6, n6);
    /* class -> key for all at once: independent loads whose misses overlap */
    for (unsigned j = 0; j < n4; j++)
        w->c4[j] = w->class_key[w->c4[j]];
    for (unsigned j = 0; j < n6; j++)
        w->c6[j] = w->class_key[w->c6[j]];
    for (unsigned i = 0; i < n; i++) {
        const struct gt_pkt *p = &w->bp[i];
        int64_t ts = f[i].ts_ns;
        struct slot *s = count_frame(w, &ts, f[i].wirelen);
        if (!count_kind(s, p))
            continue;
        const uint32_t *c = p->family == 4 ? &w->c4[w->bpos[i]] : &w->c6[w->bpos[i]];
        count_ip(w, s, ts, f[i].wirelen, p, c[0], c[1]);
    }
}

void gt_worker_burst(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n)
{
    worker_quiescent(w);    /* adopt a new lookup before reading w->cls/class_key */
    for (unsigned i = 0; i < n; i += BURST)
        burst_chunk(w, dlt, f + i, n - i < BURST ? n - i : BURST);
}

void gt_worker_tick(struct gt_worker *w, int64_t now_ns)
{
    worker_quiescent(w);
    if (now_ns == GT_TS_BAD)
        return;
    /* the clock itself: authoritative, never a jump */
    if (!w->have_recent || now_ns > w->recent_ns) {
        w->have_recent = 1;
        w->recent_ns = now_ns;
        w->jump_n = 0;
    }
    worker_advance(w, now_ns);
}

void gt_worker_add_drops(struct gt_worker *w, uint64_t drops)
{
    /* With no open bin (before the first, or after finish) the drops wait
     * for the next bin; gt_engine_finish adds what is left to the totals. */
    if (w->open)
        w->cur->stats.drops += drops;
    else
        w->pending_drops += drops;
}

void gt_worker_finish(struct gt_worker *w)
{
    /* Read everything first: once finished is published the engine may
     * be finished and freed by another thread. */
    gt_engine *e = w->e;
    int inline_collect = e->o.inline_collect;
    if (w->open) {
        w->open = 0;
        w->seq++;
        atomic_store_explicit(&w->published, w->seq, memory_order_release);
    }
    atomic_store_explicit(&w->finished, 1, memory_order_release);
    if (inline_collect)
        gt_engine_collect(e);
}

static void stats_add(struct gt_bin_stats *a, const struct gt_bin_stats *b)
{
    a->packets += b->packets;
    a->bytes += b->bytes;
    a->ip += b->ip;
    a->nonip += b->nonip;
    a->truncated += b->truncated;
    a->malformed += b->malformed;
    a->drops += b->drops;
    a->bad_time += b->bad_time;
    a->clock_jumps += b->clock_jumps;
    a->gap_skipped += b->gap_skipped;
    if (b->first_ns && (!a->first_ns || b->first_ns < a->first_ns))
        a->first_ns = b->first_ns;
    if (b->last_ns > a->last_ns)
        a->last_ns = b->last_ns;
}

static void emit(gt_engine *e, int64_t start, const struct gt_bin_stats *st)
{
    struct gt_bin bin = {
        .start = start, .width = e->o.bin_seconds, .nkeys = e->emit_nkeys,
        .counts = e->m_counts, .first_ns = e->m_first, .last_ns = e->m_last,
        .stats = *st,
    };
    bin.stats.workers = e->o.nworkers;
    if (e->o.bin_seconds == 0)
        bin.start = st->first_ns > 0 ? st->first_ns / 1000000000 : 0;
    stats_add(&e->totals, st);
    e->o.on_bin(e->o.ctx, &bin);
    e->have_last = 1;
    e->last_emitted = start;
}

/* Emit the empty bins between the last emitted one and start: the first
 * ones of the gap, as many as the per-gap and the run-wide bounds allow
 * (engine.h "Gaps"), so a crafted time cannot make the output explode. */
static void fill_gap(gt_engine *e, int64_t start)
{
    int64_t w = e->o.bin_seconds;
    if (!e->have_last || w == 0 || start - e->last_emitted <= w)
        return;
    uint64_t gap = (uint64_t)((start - e->last_emitted) / w) - 1;   /* start > last_emitted */
    uint64_t budget = GT_GAP_FREE + GT_GAP_RATIO * e->real_bins;
    budget = budget > e->zero_bins ? budget - e->zero_bins : 0;
    uint64_t fill = gap < e->o.max_gap_bins ? gap : e->o.max_gap_bins;
    if (fill > budget)
        fill = budget;
    struct gt_bin_stats zero;
    memset(&zero, 0, sizeof zero);
    memset(e->m_counts, 0, e->emit_nkeys * sizeof *e->m_counts);
    memset(e->m_first, 0, e->emit_nkeys * sizeof *e->m_first);
    memset(e->m_last, 0, e->emit_nkeys * sizeof *e->m_last);
    for (uint64_t i = 1; i <= fill; i++)
        emit(e, e->last_emitted + w, &zero);
    e->zero_bins += fill;
    e->totals.gap_skipped += gap - fill;
}

/* Emit every bin all workers are past; the caller holds e->collecting. */
static int collect_locked(gt_engine *e)
{
    int n = 0;
    for (;;) {
        /* Horizon: no worker can add to bins before the smallest open bin. */
        int64_t horizon = INT64_MAX, next = INT64_MAX;
        for (unsigned i = 0; i < e->o.nworkers; i++) {
            struct gt_worker *w = e->w[i];
            int fin = atomic_load_explicit(&w->finished, memory_order_acquire);
            int64_t wm = atomic_load_explicit(&w->watermark, memory_order_acquire);
            uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
            uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
            if (!fin && wm == INT64_MIN)
                horizon = INT64_MIN;              /* not started: nothing is complete yet */
            else if (!fin && pub == con && wm < horizon)
                horizon = wm;                     /* its open bin is the oldest it holds */
            else if (!fin && pub > con) {
                int64_t st = w->ring[con % RING].start;
                if (wm < horizon) horizon = wm;
                if (st < next) next = st;
            } else if (pub > con) {
                int64_t st = w->ring[con % RING].start;
                if (st < next) next = st;
            }
        }
        if (next == INT64_MAX || next >= horizon)
            break;
        fill_gap(e, next);
        struct gt_bin_stats st;
        memset(&st, 0, sizeof st);
        uint32_t nk = e->emit_nkeys;
        memset(e->m_counts, 0, nk * sizeof *e->m_counts);
        memset(e->m_first, 0, nk * sizeof *e->m_first);
        memset(e->m_last, 0, nk * sizeof *e->m_last);
        for (unsigned i = 0; i < e->o.nworkers; i++) {
            struct gt_worker *w = e->w[i];
            uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
            uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
            /* A worker may have closed several bins with the same start
             * (late packets never reopen; ticks may republish): merge all. */
            while (con < pub && w->ring[con % RING].start == next) {
                const struct slot *s = &w->ring[con % RING];
                if (s->nkeys > nk) {
                    /* A lookup with more keys was adopted: the bin grows. */
                    memset(e->m_counts + nk, 0, (s->nkeys - nk) * sizeof *e->m_counts);
                    memset(e->m_first + nk, 0, (s->nkeys - nk) * sizeof *e->m_first);
                    memset(e->m_last + nk, 0, (s->nkeys - nk) * sizeof *e->m_last);
                    nk = e->emit_nkeys = s->nkeys;
                }
                for (uint32_t k = 0; k < s->nkeys; k++) {
                    const struct gt_counts *c = &s->counts[k];
                    if (!(c->pkts_from | c->pkts_to))
                        continue;
                    gt_counts_add(&e->m_counts[k], c);
                    if (!e->m_first[k] || s->first_ns[k] < e->m_first[k])
                        e->m_first[k] = s->first_ns[k];
                    if (s->last_ns[k] > e->m_last[k])
                        e->m_last[k] = s->last_ns[k];
                }
                stats_add(&st, &s->stats);
                con++;
                atomic_store_explicit(&w->consumed, con, memory_order_release);
            }
        }
        emit(e, next, &st);
        e->real_bins++;
        n++;
    }
    return n;
}

int gt_engine_collect(gt_engine *e)
{
    int expected = 0, n;
    /* One collector at a time; a worker in inline mode may call in while
     * the caller collects: it simply returns. The CAS (acquire) and the
     * store below (release) order the collector state between threads. */
    if (!atomic_compare_exchange_strong(&e->collecting, &expected, 1))
        return 0;
    n = collect_locked(e);
    atomic_store(&e->collecting, 0);
    reclaim(e, 0);
    return n;
}

void gt_engine_finish(gt_engine *e)
{
    int expected = 0;
    /* Another thread may be collecting right now: wait for it rather than
     * return with bins left behind. */
    while (!atomic_compare_exchange_weak(&e->collecting, &expected, 1)) {
        expected = 0;
        sched_yield();
    }
    collect_locked(e);
    /* Drops reported by a worker that had no bin open any more (or never
     * opened one) belong to no bin; keep them in the totals. The acquire
     * load of finished makes pending_drops, written before, visible. */
    for (unsigned i = 0; i < e->o.nworkers; i++) {
        struct gt_worker *w = e->w[i];
        if (atomic_load_explicit(&w->finished, memory_order_acquire) && !w->open) {
            e->totals.drops += w->pending_drops;
            w->pending_drops = 0;
        }
    }
    atomic_store(&e->collecting, 0);
}

struct gt_bin_stats gt_engine_totals(const gt_engine *e)
{
    return e->totals;
}
