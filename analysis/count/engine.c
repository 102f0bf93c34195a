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
    uint64_t seq;                    /* closed bins so far (== published) */
    struct slot ring[RING];
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

void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct gt_pkt p;
    worker_advance(w, ts_ns);
    struct slot *s = w->cur;
    s->stats.packets++;
    s->stats.bytes += wirelen;
    if (!s->stats.first_ns)
        s->stats.first_ns = ts_ns;
    s->stats.last_ns = ts_ns;

    gt_parse(dlt, data, caplen, w->parse_flags, &p);
    switch (p.kind) {
    case GT_PKT_IP:
        break;
    case GT_PKT_NONIP:
        s->stats.nonip++;
        return;
    case GT_PKT_TRUNCATED:
        s->stats.truncated++;
        return;
    default:
        s->stats.malformed++;
        return;
    }
    s->stats.ip++;
    uint32_t cs, cd;
    if (p.family == 4) {
        cs = gt_classify4(w->cls, p.src.v4);
        cd = gt_classify4(w->cls, p.dst.v4);
    } else {
        cs = gt_classify6(w->cls, p.src.v6);
        cd = gt_classify6(w->cls, p.dst.v6);
    }
    uint32_t ks = w->class_key[cs], kd = w->class_key[cd];
    if (__builtin_expect(w->l2map != NULL, 0)) {
        uint32_t u = gt_upstream_map_l2(w->l2map, &p, w->iface);
        if (u && w->l2_row[u]) {
            const uint32_t *row = w->l2_key + (size_t)(w->l2_row[u] - 1) * w->l2_base;
            if (!w->keys[ks].home) ks = row[ks];
            if (!w->keys[kd].home) kd = row[kd];
        }
    }
    uint64_t bytes = w->bytes_l3 ? p.l3_len : wirelen;
    struct gt_counts *c = s->counts;
    c[ks].pkts_from++;
    c[ks].bytes_from += bytes;
    c[kd].pkts_to++;
    c[kd].bytes_to += bytes;
    if (!s->first_ns[ks]) s->first_ns[ks] = ts_ns;
    if (!s->first_ns[kd]) s->first_ns[kd] = ts_ns;
    s->last_ns[ks] = ts_ns;
    s->last_ns[kd] = ts_ns;
}

void gt_worker_burst(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n)
{
    worker_quiescent(w);
    for (unsigned i = 0; i < n; i++)
        gt_worker_packet(w, dlt, f[i].ts_ns, f[i].data, f[i].caplen, f[i].wirelen);
}

void gt_worker_tick(struct gt_worker *w, int64_t now_ns)
{
    worker_quiescent(w);
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
    if (e->o.bin_seconds == 0)
        bin.start = st->first_ns > 0 ? st->first_ns / 1000000000 : 0;
    stats_add(&e->totals, st);
    e->o.on_bin(e->o.ctx, &bin);
    e->have_last = 1;
    e->last_emitted = start;
}

/* Emit the empty bins between the last emitted one and start, bounded so
 * a corrupt timestamp cannot make us write for ever. */
static void fill_gap(gt_engine *e, int64_t start)
{
    if (!e->have_last || e->o.bin_seconds == 0)
        return;
    int64_t w = e->o.bin_seconds;
    if ((uint64_t)((start - e->last_emitted) / w) > e->o.max_gap_bins + 1)
        return;
    struct gt_bin_stats zero;
    memset(&zero, 0, sizeof zero);
    memset(e->m_counts, 0, e->emit_nkeys * sizeof *e->m_counts);
    memset(e->m_first, 0, e->emit_nkeys * sizeof *e->m_first);
    memset(e->m_last, 0, e->emit_nkeys * sizeof *e->m_last);
    for (int64_t t = e->last_emitted + w; t < start; t += w)
        emit(e, t, &zero);
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
                    gt_counts_merge(&e->m_counts[k], &e->m_first[k], &e->m_last[k],
                                    c, s->first_ns[k], s->last_ns[k]);
                }
                stats_add(&st, &s->stats);
                con++;
                atomic_store_explicit(&w->consumed, con, memory_order_release);
            }
        }
        emit(e, next, &st);
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
