/* One ordered stream on several cores: the classify half of
 * gt_worker_burst as a stage of its own (engine.h gt_classify), for threads
 * other than the worker's. A stage pins the lookup current at its creation
 * (gt_engine_set_lookup refuses to swap it meanwhile), so it needs no
 * quiescent point of its own. */
#include "engine_impl.h"

#include <stddef.h>
#include <stdlib.h>

struct gt_classify {
    struct burst_scratch bs;         /* first: see burst_scratch */
    gt_engine *e;
    struct gt_lookup lk;             /* a copy: the stage reads nothing shared but the lookup */
    const char *iface;
    unsigned parse_flags;
    int bytes_l3;
};

_Static_assert(offsetof(struct gt_classify, bs) == 0, "the address cache starts the stage's mapping");

gt_classify *gt_classify_new(gt_engine *e)
{
    /* mapped, as a worker is (engine.c worker_alloc) */
    gt_classify *c = ac_map(sizeof *c);
    if (!c)
        return NULL;
    c->e = e;
    c->iface = e->o.iface;
    c->parse_flags = e->o.parse_flags;
    c->bytes_l3 = e->o.bytes_l3;
    /* Under the setter's mutex: no swap between reading the lookup and pinning it. */
    pthread_mutex_lock(&e->retire_mu);
    c->lk = atomic_load_explicit(&e->cur, memory_order_acquire)->lk;
    e->pinned++;
    pthread_mutex_unlock(&e->retire_mu);
    return c;
}

void gt_classify_burst(gt_classify *c, int dlt, const struct gt_frame *f, unsigned n, struct gt_classified *out)
{
    const struct gt_lookup *lk = &c->lk;
    struct burst_scratch *bs = &c->bs;
    for (unsigned base = 0; base < n; base += BURST) {
        unsigned m = n - base < BURST ? n - base : BURST;
        burst_lookup(bs, lk->cls, lk->class_key, lk->l2map, c->parse_flags, dlt, f + base, m);
        for (unsigned i = 0; i < m; i++) {
            const struct gt_pkt *p = &bs->bp[i];
            struct gt_classified *o = &out[base + i];
            o->kind = p->kind;
            if (p->kind != GT_PKT_IP)
                continue;
            const uint32_t *k = burst_keys(bs, i);
            o->ks = k[0];
            o->kd = k[1];
            if (__builtin_expect(lk->l2map != NULL, 0))
                l2_keys(lk->l2map, c->iface, lk->l2_row, lk->l2_key, lk->l2_base, lk->keys, p, &o->ks, &o->kd);
            o->bytes = c->bytes_l3 ? p->l3_len : f[base + i].wirelen;
        }
    }
}

void gt_classify_free(gt_classify *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->e->retire_mu);
    c->e->pinned--;
    pthread_mutex_unlock(&c->e->retire_mu);
    ac_unmap(c, sizeof *c);
}
