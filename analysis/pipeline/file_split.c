/* One capture file on several cores (file_split.h).
 *
 * Bursts live in a ring of RING descriptors, filled and counted in order by
 * this thread (the reader). A descriptor is either kept by the reader or
 * handed to one helper through that helper's single-producer
 * single-consumer queue of descriptor indices: the reader writes idx[k],
 * then store-releases put = k+1; the helper load-acquires put, classifies
 * the descriptor and store-releases its `done` flag, which the reader
 * load-acquires before counting it. Each location has one writer; no lock
 * and no read-modify-write. The frames point into the file's map (valid
 * until the source is closed) or into the descriptor's own copy. */
#include "file_split.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 128    /* frames per descriptor */
#define RING 32      /* descriptors in flight */
#define QUEUE 4      /* at most this many handed to one helper and not yet counted: few, so
                      * a helper the scheduler preempts holds little back */

struct desc {
    struct gt_frame f[BURST];
    struct gt_classified c[BURST];
    unsigned n;
    int dlt;
    int owner;                        /* helper index, or -1: the reader's */
    int classified;                   /* the reader's own: classified already */
    uint8_t *arena;                   /* GT_SOURCE_ARENA bytes: copies of frames not from a map */
    _Alignas(64) _Atomic int done;    /* the helper's: classified */
};

struct helper {
    _Alignas(64) _Atomic uint64_t put;   /* reader writes: descriptors handed over */
    uint32_t idx[RING];                  /* reader writes, before put */
    _Alignas(64) _Atomic int quit;       /* reader writes */
    unsigned pending;                    /* reader's: handed, not yet counted */
    gt_classify *cls;
    struct desc *ring;
    pthread_t th;
};

static void *helper_main(void *p)
{
    struct helper *h = p;
    uint64_t got = 0;
    unsigned idle = 0;
    for (;;) {
        uint64_t put = atomic_load_explicit(&h->put, memory_order_acquire);
        if (got == put) {
            if (atomic_load_explicit(&h->quit, memory_order_acquire))
                break;
            /* spin a little, then nap: an idle helper must not take the core
             * from the reader (the machine may have no core to spare) */
            if (++idle > 256) {
                struct timespec nap = { 0, 20000 };
                nanosleep(&nap, NULL);
            } else if (idle > 64) {
                sched_yield();
            }
            continue;
        }
        idle = 0;
        struct desc *d = &h->ring[h->idx[got % RING]];
        gt_classify_burst(h->cls, d->dlt, d->f, d->n, d->c);
        atomic_store_explicit(&d->done, 1, memory_order_release);
        got++;
    }
    return NULL;
}

static void stop_helpers(struct helper *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        atomic_store_explicit(&h[i].quit, 1, memory_order_release);
    for (unsigned i = 0; i < n; i++)
        pthread_join(h[i].th, NULL);
}

int split_run(gt_source *src, gt_engine *e, unsigned helpers, const struct split_ops *ops, void *ctx)
{
    struct desc *ring = aligned_alloc(64, sizeof(struct desc) * RING);
    struct helper *hp = aligned_alloc(64, sizeof(struct helper) * (helpers ? helpers : 1));
    gt_classify *own = gt_classify_new(e);
    unsigned started = 0;
    int ok = ring && hp && own;
    for (unsigned i = 0; ok && i < RING; i++) {
        memset(&ring[i], 0, sizeof ring[i]);
        atomic_init(&ring[i].done, 0);
        ok = (ring[i].arena = malloc(GT_SOURCE_ARENA)) != NULL;   /* untouched unless libpcap reads */
    }
    /* Signals stay with the calling thread: helpers start with them blocked. */
    sigset_t block, old;
    sigfillset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; ok && started < helpers; started++) {
        struct helper *h = &hp[started];
        memset(h, 0, sizeof *h);
        atomic_init(&h->put, 0);
        atomic_init(&h->quit, 0);
        h->ring = ring;
        if (!(h->cls = gt_classify_new(e)) || pthread_create(&h->th, NULL, helper_main, h) != 0) {
            gt_classify_free(h->cls);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok || started < helpers) {
        stop_helpers(hp, started);
        for (unsigned i = 0; i < started; i++)
            gt_classify_free(hp[i].cls);
        for (unsigned i = 0; ring && i < RING; i++)
            free(ring[i].arena);
        free(ring);
        free(hp);
        gt_classify_free(own);
        return -1;
    }

    uint64_t head = 0, tail = 0, next_ahead = 0;   /* filled, counted; reader's scan for its own work */
    unsigned rr = 0;
    int eof = 0;
    /* In flight: every helper's QUEUE and two of the reader's. Filling all
     * RING would leave the helpers QUEUE of every RING bursts, the reader
     * classifying the rest itself (measured: the helper did 3-8 %). */
    uint64_t ahead = (uint64_t)QUEUE * helpers + 2 < RING ? (uint64_t)QUEUE * helpers + 2 : RING;
    for (;;) {
        /* Fill: each new burst goes to the next helper with room, else stays ours. */
        while (!eof && head - tail < ahead) {
            struct desc *d = &ring[head % RING];
            if (ops->stop(ctx)) {
                eof = 1;
                break;
            }
            int n = gt_source_read(src, d->f, BURST, d->arena, GT_SOURCE_ARENA, &d->dlt);
            if (n == GT_SOURCE_END) {
                eof = 1;
                break;
            }
            if (n == GT_SOURCE_ERR) {
                ops->error(ctx, gt_source_error(src, 0));
                continue;
            }
            if (n == 0)
                continue;   /* the next file */
            d->n = (unsigned)n;
            d->owner = -1;
            d->classified = 0;
            atomic_store_explicit(&d->done, 0, memory_order_relaxed);   /* ours until handed over */
            for (unsigned t = 0; t < helpers; t++) {
                struct helper *h = &hp[(rr + t) % helpers];
                if (h->pending < QUEUE) {
                    uint64_t k = atomic_load_explicit(&h->put, memory_order_relaxed);
                    h->idx[k % RING] = (uint32_t)(head % RING);
                    d->owner = (int)((rr + t) % helpers);
                    h->pending++;
                    atomic_store_explicit(&h->put, k + 1, memory_order_release);
                    rr = (rr + t + 1) % helpers;
                    break;
                }
            }
            head++;
        }
        if (tail == head)
            break;
        /* Count in order. */
        struct desc *d = &ring[tail % RING];
        if (d->owner < 0) {
            if (!d->classified)
                gt_classify_burst(own, d->dlt, d->f, d->n, d->c);
        } else if (!atomic_load_explicit(&d->done, memory_order_acquire)) {
            /* Its helper is still at it: classify one of ours further on meanwhile. */
            if (next_ahead < tail)
                next_ahead = tail;
            while (next_ahead < head && (ring[next_ahead % RING].owner >= 0 || ring[next_ahead % RING].classified))
                next_ahead++;
            if (next_ahead < head) {
                struct desc *a = &ring[next_ahead % RING];
                gt_classify_burst(own, a->dlt, a->f, a->n, a->c);
                a->classified = 1;
            } else {
                sched_yield();
            }
            continue;
        } else {
            hp[d->owner].pending--;
        }
        ops->count(ctx, d->f, d->c, d->n);
        tail++;
    }
    stop_helpers(hp, started);
    for (unsigned i = 0; i < started; i++)
        gt_classify_free(hp[i].cls);
    for (unsigned i = 0; i < RING; i++)
        free(ring[i].arena);
    free(ring);
    free(hp);
    gt_classify_free(own);
    return 0;
}
