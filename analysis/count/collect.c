/* The engine's collector: merges the closed bins of every worker in time
 * order, fills gaps, emits (engine.h (3)-(5)). */
#include "engine_impl.h"

#include <sched.h>
#include <string.h>

void engine_stats_add(struct gt_bin_stats *a, const struct gt_bin_stats *b)
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

/* empty: a bin of the gap fill, every count and time zero (gt_bin.empty) */
static void emit_bin(gt_engine *e, int64_t start, const struct gt_bin_stats *st, uint32_t empty)
{
    struct gt_bin bin = {
        .start = start, .width = e->o.bin_seconds, .nkeys = e->emit_nkeys,
        .counts = e->m_counts, .first_ns = e->m_first, .last_ns = e->m_last,
        .stats = *st, .empty = empty,
    };
    bin.stats.workers = e->o.ordered ? 1 : e->o.nworkers;   /* ordered: joined as one worker counts */
    if (e->o.bin_seconds == 0)
        bin.start = st->first_ns > 0 ? st->first_ns / 1000000000 : 0;
    engine_stats_add(&e->totals, st);
    e->o.on_bin(e->o.ctx, &bin);
    e->have_last = 1;
    e->last_emitted = start;
}

void engine_emit(gt_engine *e, int64_t start, const struct gt_bin_stats *st)
{
    emit_bin(e, start, st, 0);
}

/* Emit the empty bins between the last emitted one and start: the first
 * ones of the gap, as many as the per-gap and the run-wide bounds allow
 * (engine.h "Gaps"), so a crafted time cannot make the output explode. */
void engine_fill_gap(gt_engine *e, int64_t start)
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
    engine_merge_zero(e, 0, e->emit_nkeys);
    for (uint64_t i = 1; i <= fill; i++)
        emit_bin(e, e->last_emitted + w, &zero, 1);
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
        engine_fill_gap(e, next);
        struct gt_bin_stats st;
        memset(&st, 0, sizeof st);
        engine_merge_zero(e, 0, e->emit_nkeys);
        for (unsigned i = 0; i < e->o.nworkers; i++) {
            struct gt_worker *w = e->w[i];
            uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
            uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
            /* A worker may have closed several bins with the same start
             * (late packets never reopen; ticks may republish): merge all. */
            while (con < pub && w->ring[con % RING].start == next) {
                const struct slot *s = &w->ring[con % RING];
                engine_merge_grow(e, s->nkeys);
                for (uint32_t k = 0; k < s->nkeys; k++) {
                    const struct key_cell *kc = &s->cells[k];
                    if (!(kc->c.pkts_from | kc->c.pkts_to))
                        continue;
                    engine_merge_key(e, k, &kc->c, kc->first_ns, kc->last_ns);
                }
                engine_stats_add(&st, &s->stats);
                con++;
                atomic_store_explicit(&w->consumed, con, memory_order_release);
            }
        }
        engine_emit(e, next, &st);
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
    engine_reclaim(e, 0);
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
