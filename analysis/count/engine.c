/* The counting engine: per-worker bin rings, lock-free hand-over to the
 * collector (see the memory-ordering argument in engine.h). */
#include "geotap/engine.h"
#include "geotap/parse.h"
#include "geotap/upstream_map.h"

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
    struct gt_counts *counts;        /* [nkeys] */
    int64_t *first_ns, *last_ns;     /* [nkeys] */
    struct gt_bin_stats stats;
};

struct gt_worker {
    /* Written by the worker only. */
    gt_engine *e;
    const uint32_t *class_key;
    const gt_classifier *cls;
    const struct gt_key *keys;
    /* Copies of the L2 upstream rules: the packet path reads nothing from
     * the engine struct, whose lines the collector writes. */
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
    /* Shared: each on its own cache line, one writer each. */
    _Alignas(CACHELINE) _Atomic uint64_t published;  /* worker writes */
    _Atomic int64_t watermark;                        /* worker writes: start of the open bin */
    _Atomic int finished;                             /* worker writes */
    _Alignas(CACHELINE) _Atomic uint64_t consumed;   /* collector writes */
    char pad_[CACHELINE - sizeof(_Atomic uint64_t)];
};

struct gt_engine {
    struct gt_engine_opts o;
    uint32_t nkeys;
    struct gt_worker **w;
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
    free(e->w);
    free(e->m_counts);
    free(e->m_first);
    free(e->m_last);
    free(e);
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
    e->nkeys = opts->keys->nkeys;
    e->w = calloc(e->o.nworkers, sizeof *e->w);
    e->m_counts = xcalloc(e->nkeys, sizeof *e->m_counts);
    e->m_first = xcalloc(e->nkeys, sizeof *e->m_first);
    e->m_last = xcalloc(e->nkeys, sizeof *e->m_last);
    if (!e->w || !e->m_counts || !e->m_first || !e->m_last)
        goto fail;
    for (unsigned i = 0; i < e->o.nworkers; i++) {
        struct gt_worker *w = xcalloc(1, sizeof *w);
        if (!w)
            goto fail;
        e->w[i] = w;
        w->e = e;
        w->class_key = opts->keys->class_key;
        w->keys = opts->keys->keys;
        w->l2map = opts->l2map;
        w->iface = opts->iface;
        w->l2_row = opts->l2_row;
        w->l2_key = opts->l2_key;
        w->l2_base = opts->l2_base;
        w->cls = opts->cls;
        w->width = opts->bin_seconds;
        w->jump_ns = (int64_t)(4 * (uint64_t)opts->bin_seconds > 3600 ? 4 * (uint64_t)opts->bin_seconds : 3600)
                     * 1000000000;
        w->parse_flags = opts->parse_flags;
        w->bytes_l3 = opts->bytes_l3;
        for (int r = 0; r < RING; r++)
            if (slot_alloc(&w->ring[r], e->nkeys))
                goto fail;
        atomic_init(&w->published, 0);
        atomic_init(&w->consumed, 0);
        atomic_init(&w->watermark, INT64_MIN);
        atomic_init(&w->finished, 0);
    }
    return e;
fail:
    gt_engine_free(e);
    return NULL;
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
    memset(s->counts, 0, e->nkeys * sizeof *s->counts);
    memset(s->first_ns, 0, e->nkeys * sizeof *s->first_ns);
    memset(s->last_ns, 0, e->nkeys * sizeof *s->last_ns);
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
            worker_advance(w, t);
        w->cur->stats.bad_time++;
        return t;
    }
    if (!w->have_recent) {
        w->have_recent = 1;
        w->recent_ns = ts_ns;
        worker_advance(w, ts_ns);
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
            worker_advance(w, ts_ns);
            return ts_ns;
        }
    } else {
        w->jump_n = 0;
    }
    if (!w->open)
        worker_advance(w, w->recent_ns);
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
        worker_advance(w, ts_ns);
        return ts_ns;
    }
    return worker_clock_slow(w, ts_ns);
}

void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct gt_pkt p;
    ts_ns = worker_clock(w, ts_ns);
    struct slot *s = w->cur;
    s->stats.packets++;
    s->stats.bytes += wirelen;
    /* earliest and latest, so a late packet cannot make the span negative */
    if (!s->stats.first_ns || ts_ns < s->stats.first_ns)
        s->stats.first_ns = ts_ns;
    if (ts_ns > s->stats.last_ns)
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

void gt_worker_tick(struct gt_worker *w, int64_t now_ns)
{
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
    if (w->open) {
        w->open = 0;
        w->seq++;
        atomic_store_explicit(&w->published, w->seq, memory_order_release);
    }
    atomic_store_explicit(&w->finished, 1, memory_order_release);
    if (w->e->o.inline_collect)
        gt_engine_collect(w->e);
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
        .start = start, .width = e->o.bin_seconds, .nkeys = e->nkeys,
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
    memset(e->m_counts, 0, e->nkeys * sizeof *e->m_counts);
    memset(e->m_first, 0, e->nkeys * sizeof *e->m_first);
    memset(e->m_last, 0, e->nkeys * sizeof *e->m_last);
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
        memset(e->m_counts, 0, e->nkeys * sizeof *e->m_counts);
        memset(e->m_first, 0, e->nkeys * sizeof *e->m_first);
        memset(e->m_last, 0, e->nkeys * sizeof *e->m_last);
        for (unsigned i = 0; i < e->o.nworkers; i++) {
            struct gt_worker *w = e->w[i];
            uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
            uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
            /* A worker may have closed several bins with the same start
             * (late packets never reopen; ticks may republish): merge all. */
            while (con < pub && w->ring[con % RING].start == next) {
                const struct slot *s = &w->ring[con % RING];
                for (uint32_t k = 0; k < e->nkeys; k++) {
                    const struct gt_counts *c = &s->counts[k];
                    if (!(c->pkts_from | c->pkts_to))
                        continue;
                    struct gt_counts *m = &e->m_counts[k];
                    m->pkts_from += c->pkts_from;
                    m->bytes_from += c->bytes_from;
                    m->pkts_to += c->pkts_to;
                    m->bytes_to += c->bytes_to;
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
