/* Ordered collection (engine.h gt_engine_collect_ordered): the workers of
 * an ordered engine count consecutive parts of one capture, and their bins
 * are joined in part order into what one worker counting the whole would
 * have emitted. Called from the collector's thread only. */
#include "engine_impl.h"

#include <stdlib.h>
#include <string.h>

/* A closed bin of a worker that is not being emitted yet, kept sparse
 * (its keys with frames only) so the worker goes on counting. */
struct spill_key {
    uint32_t k;
    struct gt_counts c;
    int64_t first, last;
};
struct spill_bin {
    struct spill_bin *next;
    int64_t start;
    uint32_t nkeys, n;
    struct gt_bin_stats stats;
    struct spill_key key[];
};
struct spill {
    struct spill_bin *head, *tail;
};

/* One key of the next part's first bin into the held-back bin of the same
 * start: in frame order the held-back frames came first. */
static inline void join_key(gt_engine *e, uint32_t k, const struct gt_counts *c, int64_t first, int64_t last)
{
    /* the key's silence across the join, as one worker would have seen it */
    gt_counts_gap(&e->m_counts[k], e->m_last[k], first);
    gt_counts_add(&e->m_counts[k], c);
    if (!e->m_first[k])
        e->m_first[k] = first;
    if (last)
        e->m_last[k] = last;
}

static void emit_pending(gt_engine *e)
{
    if (!e->have_pend)
        return;
    engine_emit(e, e->pend_start, &e->pend_st);
    e->real_bins++;
    e->have_pend = 0;
}

/* Worker head's next closed bin (dense slot s, or sparse b): joined into
 * the held-back bin, or the held-back bin goes out and this one is held. */
static void take(gt_engine *e, unsigned head, const struct slot *s, const struct spill_bin *b)
{
    int64_t start = s ? s->start : b->start;
    const struct gt_bin_stats *st = s ? &s->stats : &b->stats;
    int join = e->have_pend && start == e->pend_start && e->pend_worker != head;
    if (!e->have_pend || start != e->pend_start) {
        /* Same order as collect.c: the gap before this bin is filled once
         * the one before it is out, so the gap budget agrees. */
        emit_pending(e);
        engine_fill_gap(e, start);
        engine_merge_zero(e, 0, e->emit_nkeys);
        memset(&e->pend_st, 0, sizeof e->pend_st);
        e->have_pend = 1;
        e->pend_start = start;
    }
    engine_merge_grow(e, s ? s->nkeys : b->nkeys);
    if (s) {
        for (uint32_t k = 0; k < s->nkeys; k++) {
            const struct key_cell *kc = &s->cells[k];
            if (!(kc->c.pkts_from | kc->c.pkts_to))
                continue;
            if (join)
                join_key(e, k, &kc->c, kc->first_ns, kc->last_ns);
            else    /* the same worker's slot of the same start (ticks may republish one), or the first */
                engine_merge_key(e, k, &kc->c, kc->first_ns, kc->last_ns);
        }
    } else {
        for (uint32_t i = 0; i < b->n; i++) {
            const struct spill_key *x = &b->key[i];
            if (join)
                join_key(e, x->k, &x->c, x->first, x->last);
            else
                engine_merge_key(e, x->k, &x->c, x->first, x->last);
        }
    }
    engine_stats_add(&e->pend_st, st);
    e->pend_worker = head;
}

int gt_engine_collect_ordered(gt_engine *e, unsigned head)
{
    struct gt_worker *w = e->w[head];
    int n = 0;
    /* what was set aside while an earlier part was emitted comes first */
    struct spill *sp = e->spill ? &e->spill[head] : NULL;
    while (sp && sp->head) {
        struct spill_bin *b = sp->head;
        take(e, head, NULL, b);
        sp->head = b->next;
        e->spilled -= sizeof *b + b->n * sizeof *b->key;
        free(b);
        n++;
    }
    uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
    uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
    for (; con < pub; con++, n++) {
        take(e, head, &w->ring[con % RING], NULL);
        atomic_store_explicit(&w->consumed, con + 1, memory_order_release);
    }
    engine_reclaim(e, 0);
    return n;
}

int gt_engine_set_aside(gt_engine *e, unsigned i, size_t budget)
{
    if (!e->spill && !(e->spill = calloc(e->o.nworkers, sizeof *e->spill)))
        return 0;
    struct gt_worker *w = e->w[i];
    struct spill *sp = &e->spill[i];
    uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
    uint64_t con = atomic_load_explicit(&w->consumed, memory_order_relaxed);
    int n = 0;
    for (; con < pub; con++, n++) {
        const struct slot *s = &w->ring[con % RING];
        uint32_t used = 0;
        for (uint32_t k = 0; k < s->nkeys; k++)
            used += (s->cells[k].c.pkts_from | s->cells[k].c.pkts_to) != 0;
        size_t sz = sizeof(struct spill_bin) + used * sizeof(struct spill_key);
        struct spill_bin *b = e->spilled + sz <= budget ? malloc(sz) : NULL;
        if (!b)
            break;   /* the worker waits for its turn (back-pressure) */
        b->next = NULL;
        b->start = s->start;
        b->nkeys = s->nkeys;
        b->stats = s->stats;
        b->n = 0;
        for (uint32_t k = 0; k < s->nkeys; k++)
            if (s->cells[k].c.pkts_from | s->cells[k].c.pkts_to)
                b->key[b->n++] = (struct spill_key){ k, s->cells[k].c, s->cells[k].first_ns, s->cells[k].last_ns };
        if (sp->tail && sp->head)
            sp->tail->next = b;
        else
            sp->head = b;
        sp->tail = b;
        e->spilled += sz;
        atomic_store_explicit(&w->consumed, con + 1, memory_order_release);
    }
    return n;
}

void gt_engine_discard(gt_engine *e, unsigned i)
{
    struct gt_worker *w = e->w[i];
    struct spill *sp = e->spill ? &e->spill[i] : NULL;
    while (sp && sp->head) {
        struct spill_bin *b = sp->head;
        sp->head = b->next;
        e->spilled -= sizeof *b + b->n * sizeof *b->key;
        free(b);
    }
    uint64_t pub = atomic_load_explicit(&w->published, memory_order_acquire);
    atomic_store_explicit(&w->consumed, pub, memory_order_release);
}

void gt_engine_flush_ordered(gt_engine *e)
{
    emit_pending(e);
    for (unsigned i = 0; e->spill && i < e->o.nworkers; i++)
        gt_engine_discard(e, i);   /* none is left after the last part; a stopped run's */
    free(e->spill);
    e->spill = NULL;
}

/* Whole seconds of a time, rounded down (bin starts are whole seconds). */
static int64_t floor_s(int64_t ts_ns)
{
    int64_t s = ts_ns / 1000000000;
    return ts_ns < 0 && s * 1000000000 != ts_ns ? s - 1 : s;
}

/* |a - b| <= j, without overflow. */
static int within(int64_t a, int64_t b, int64_t j)
{
    int64_t d;
    return !__builtin_sub_overflow(a, b, &d) && d <= j && d >= -j;
}

int gt_worker_continues(const struct gt_worker *w, const struct gt_frame *f, unsigned n)
{
    if (n == 0)
        return -1;
    int64_t t = f[0].ts_ns, J = w->jump_ns;
    /* no time recorded from here on can be 0 ("none" in first/last), as
     * every one stays within J of a time above J: the joins stay exact */
    if (t == GT_TS_BAD || t <= J)
        return 0;
    /* the bin a fresh worker opens must not be before w's open one (w
     * would count the frame there, late) */
    if (w->open && w->width && floor_s(t) < w->cur->start)
        return 0;
    if (!w->have_recent)
        return 1;   /* w takes the frame's time as its first, as a fresh worker does */
    if (w->jump_n != 0 || !within(t, w->recent_ns, J))
        return 0;   /* a jump pending, or the frame is one */
    int64_t R = w->recent_ns;
    if (t >= R)
        return 1;   /* in order: both clocks are at t */
    /* Slightly behind (frames of several capture queues): w keeps R and
     * its open bin, which must be the fresh worker's; the clocks differ
     * until a frame reaches R. Every frame before it must be taken as in
     * order by both (then both record the frame's own time, and no bin can
     * move: such frames are before R), and that frame too. */
    if (w->open && w->width && floor_s(t) != w->cur->start)
        return 0;
    int64_t rf = t;   /* the fresh worker's recent time */
    for (unsigned i = 1; i < n; i++) {
        int64_t x = f[i].ts_ns;
        if (x == GT_TS_BAD || !within(x, R, J) || !within(x, rf, J))
            return 0;
        if (x >= R)
            return 1;
        if (x > rf)
            rf = x;
    }
    return -1;
}
