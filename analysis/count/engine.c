/* The counting engine's life cycle and the lookup swap (QSBR, (6) in
 * engine.h): creation, gt_engine_set_lookup, reclaiming retired lookups. */
#include "engine_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* A worker: mapped by ac_map, not allocated and zeroed: its address cache
 * (most of its size) is one huge page, faulted in only when the cache is
 * first used, after AC_WARMUP frames; a short run never pays for clearing
 * 2 MiB. */
_Static_assert(offsetof(struct gt_worker, bs) == 0 && offsetof(struct burst_scratch, ac) == 0,
               "the address cache starts the worker's mapping");

static struct gt_worker *worker_alloc(void)
{
    return ac_map(sizeof(struct gt_worker));
}

static void slot_free(struct slot *s)
{
    free(s->cells);
}

static int slot_alloc(struct slot *s, uint32_t nkeys)
{
    s->cells = xcalloc(nkeys, sizeof *s->cells);
    return s->cells ? 0 : -1;
}

static void node_retire(struct lk_node *n)
{
    if (n->lk.retire)
        n->lk.retire(n->lk.retire_ctx);
    free(n);
}

/* Free the retired lookups no unfinished worker can still be using. */
void engine_reclaim(gt_engine *e, int all)
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
        ac_unmap(e->w[i], sizeof *e->w[i]);
    }
    if (e->w)
        engine_reclaim(e, 1);
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
void engine_worker_adopt(struct gt_worker *w, const struct lk_node *n)
{
    const struct gt_lookup *lk = &n->lk;
    if (w->open && lk->nkeys > w->nkeys) {
        struct slot *s = w->cur;
        size_t add = lk->nkeys - w->nkeys;
        memset(s->cells + w->nkeys, 0, add * sizeof *s->cells);
        s->nkeys = lk->nkeys;
    }
    if (n != w->node && w->bs.ac_filled) {
        addr_cache_clear(&w->bs.ac);    /* its keys are the old lookup's */
        w->bs.ac_filled = 0;
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
        struct gt_worker *w = worker_alloc();
        if (!w)
            goto fail;
        e->w[i] = w;
        w->e = e;
        engine_worker_adopt(w, n);
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
        w->epoch_seen = 1;
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
    if (e->pinned) {
        pthread_mutex_unlock(&e->retire_mu);
        free(n);
        return -1;
    }
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
