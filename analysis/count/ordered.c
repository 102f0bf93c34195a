/* Ordered collection (engine.h gt_engine_collect_ordered): the workers of
 * an ordered engine count consecutive parts of one capture, and their bins
 * are joined in part order into what one worker counting the whole would
 * have emitted. Called from the collector's thread only. */
#include "engine_impl.h"

#include <string.h>

/* Join slot s, the next part's first bin, into the held-back bin of the
 * same start: in frame order the held-back frames came first. */
static void join_next_part(gt_engine *e, const struct slot *s)
{
    for (uint32_t k = 0; k < s->nkeys; k++) {
        const struct gt_counts *c = &s->counts[k];
        if (!(c->pkts_from | c->pkts_to))
            continue;
        /* the key's silence across the join, as one worker would have seen it */
        gt_counts_gap(&e->m_counts[k], e->m_last[k], s->first_ns[k]);
        gt_counts_add(&e->m_counts[k], c);
        if (!e->m_first[k])
            e->m_first[k] = s->first_ns[k];
        if (s->last_ns[k])
            e->m_last[k] = s->last_ns[k];
    }
}

/* Several slots of one start from one worker (a worker never reopens a
 * bin, but ticks may republish one): merged as collect.c does. */
static void merge_same_worker(gt_engine *e, const struct slot *s)
{
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
}

static void emit_pending(gt_engine *e)
{
    if (!e->have_pend)
        return;
    engine_emit(e, e->pend_start, &e->pend_st);
    e->real_bins++;
    e->have_pend = 0;
}

/* Make room in the merge arrays for a slot with more keys (a new lookup). */
static void grow(gt_engine *e, uint32_t nkeys)
{
    uint32_t nk = e->emit_nkeys;
    if (nkeys <= nk)
        return;
    memset(e->m_counts + nk, 0, (nkeys - nk) * sizeof *e->m_counts);
    memset(e->m_first + nk, 0, (nkeys - nk) * sizeof *e->m_first);
    memset(e->m_last + nk, 0, (nkeys - nk) * sizeof *e->m_last);
    e->emit_nkeys = nkeys;
}

int gt_engine_collect_ordered(gt_engine *e, unsigned head)
{
    struct gt_worker *w = e->w[head];
    uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
    uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
    int n = 0;
    for (; con < pub; con++) {
        const struct slot *s = &w->ring[con % RING];
        if (e->have_pend && s->start == e->pend_start) {
            grow(e, s->nkeys);
            if (e->pend_worker == head)
                merge_same_worker(e, s);
            else
                join_next_part(e, s);
            engine_stats_add(&e->pend_st, &s->stats);
        } else {
            /* Same order as collect.c: the gap before this bin is filled
             * once the one before it is out, so the gap budget agrees. */
            emit_pending(e);
            engine_fill_gap(e, s->start);
            memset(e->m_counts, 0, e->emit_nkeys * sizeof *e->m_counts);
            memset(e->m_first, 0, e->emit_nkeys * sizeof *e->m_first);
            memset(e->m_last, 0, e->emit_nkeys * sizeof *e->m_last);
            grow(e, s->nkeys);
            merge_same_worker(e, s);   /* into zeroes: a copy */
            e->have_pend = 1;
            e->pend_start = s->start;
            memset(&e->pend_st, 0, sizeof e->pend_st);
            engine_stats_add(&e->pend_st, &s->stats);
        }
        e->pend_worker = head;
        atomic_store_explicit(&w->consumed, con + 1, memory_order_release);
        n++;
    }
    engine_reclaim(e, 0);
    return n;
}

void gt_engine_discard(gt_engine *e, unsigned i)
{
    struct gt_worker *w = e->w[i];
    uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
    atomic_store_explicit(&w->consumed, pub, memory_order_release);
}

void gt_engine_flush_ordered(gt_engine *e)
{
    emit_pending(e);
}

int gt_worker_continues(const struct gt_worker *w, int64_t ts_ns)
{
    if (ts_ns == GT_TS_BAD)
        return 0;
    /* the bin the fresh worker opens must not be before w's open one (w
     * would count the frame in its open bin, late) */
    if (w->open && w->width) {
        int64_t s = ts_ns / 1000000000;
        if (ts_ns < 0 && s * 1000000000 != ts_ns)
            s--;
        if (s < w->cur->start)
            return 0;
    }
    /* no time recorded after it can be 0 ("none" in first/last): joins
     * stay exact (a fresh worker's times stay within J of this one's) */
    if (ts_ns <= w->jump_ns)
        return 0;
    if (!w->have_recent)
        return 1;   /* w would take the frame's time as its first, as a fresh worker does */
    /* a frame w takes as in order: no jump pending, not behind, within J */
    int64_t d;
    return w->jump_n == 0 && !__builtin_sub_overflow(ts_ns, w->recent_ns, &d) && d >= 0 && d <= w->jump_ns;
}
