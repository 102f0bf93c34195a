/* One classic pcap file in parts, one thread and one ordered-engine worker
 * each (file_split.h chunks_run).
 *
 * Part i owns the records that start in its byte range [lo, hi). It finds
 * its first record (gt_pcap_file_resync) and its first frame's time, and
 * publishes them (READY) before counting anything. A part reaching hi
 * decides on the next one only once it is final itself (ACCEPTED; part 0
 * is from the start), so its worker's clock is the one a single worker
 * would have there. The next part is ACCEPTED when it starts exactly at
 * the record this part stopped before and a fresh worker would reach the
 * same clock on its first frames (gt_worker_continues); otherwise it is
 * VOID and this part reads its range too, and decides on the one after.
 * The collector (the calling thread) emits the final parts' bins in part
 * order, joining bins across a boundary (gt_engine_collect_ordered), and
 * drops the VOID parts' bins. A final part that met a record the map path
 * cannot read voids all later parts, and libpcap reads on from that record
 * on its worker, as the single-threaded path would. So the counts, the
 * messages and the output are those of one worker.
 *
 * States move PENDING -> READY (the part) or -> VOID (the part, when its
 * range holds no frame; or its decider), READY -> ACCEPTED or VOID (the
 * decider), by compare-and-swap; the writes before a state's release are
 * visible after its acquire.
 *
 * Memory: besides each worker's ring of bins (the engine's RING slots of
 * the key capacity), the closed bins of later parts are set aside, sparse
 * (64 bytes per key with frames), up to SET_ASIDE bytes in all; beyond it
 * a later part whose ring is full waits until it is the one emitted (so a
 * capture of very many bins per part degrades to fewer parts at a time,
 * never to unbounded memory). */
#include "file_split.h"
#include "geotap/pcap_file.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 128
#define SCAN_MAX 1024                  /* frames of the next part read to compare clocks */
#define SET_ASIDE ((size_t)64 << 20)   /* bytes of later parts' bins kept while an earlier one is emitted */

enum { PENDING, READY, ACCEPTED, VOID };

struct chunks;

struct part {
    _Alignas(64) struct chunks *c;
    unsigned i;
    struct gt_worker *w;
    uint64_t lo, hi;                 /* nominal byte range */
    uint64_t start;                  /* its first record (READY on) */
    int64_t first_ts;                /* its first frame's time (READY on) */
    /* results, valid once done */
    uint64_t records, frames;        /* over everything its thread read */
    int irregular;                   /* stopped before a record the map path cannot read ... */
    uint64_t irr_off;                /* ... at this offset */
    pthread_t th;
    int started;
    double cpu_s;                    /* the thread's CPU time (GEOTAP_PARTS_TRACE) */
    _Alignas(64) _Atomic int state;
    _Atomic int done;
    _Atomic uint64_t counted;        /* progress */
};

struct chunks {
    gt_pcap_file *f;                 /* the source's file: this thread's alone (read on after a part) */
    gt_pcap_file *tpl;               /* a view of it that no one changes: what the parts read from */
    gt_engine *e;
    int dlt;
    unsigned n;
    struct part *p;
    size_t set_aside;                /* SET_ASIDE; GEOTAP_PARTS_SET_ASIDE for the tests */
    sem_t wake;                      /* posted by a part that is done: the collector naps on it */
    _Alignas(64) _Atomic int stop;
};

static void nap(void)
{
    struct timespec t = { 0, 50000 };
    nanosleep(&t, NULL);
}

static int cas_state(struct part *p, int from, int to)
{
    return atomic_compare_exchange_strong_explicit(&p->state, &from, to, memory_order_acq_rel,
                                                   memory_order_acquire);
}

static void void_part(struct part *p)
{
    if (!cas_state(p, PENDING, VOID))
        cas_state(p, READY, VOID);
}

/* Wait until part p is final (ACCEPTED, 1) or VOID (0). */
static int wait_final(struct part *p)
{
    for (;;) {
        int st = atomic_load_explicit(&p->state, memory_order_acquire);
        if (st == ACCEPTED)
            return 1;
        if (st == VOID)
            return 0;
        nap();
    }
}

/* After the end of a final part's reading: no later part may count. */
static void void_after(struct chunks *c, unsigned i)
{
    for (unsigned j = i + 1; j < c->n; j++)
        void_part(&c->p[j]);
}

/* Whether part x's worker, starting afresh, reaches the clock p's worker
 * would on x's first frames (gt_worker_continues): read them again from
 * the map, within x's range, as far as it takes (a few frames at most when
 * a capture's times are a little out of order; SCAN_MAX at the most). */
static int continues(struct part *p, const struct part *x)
{
    struct gt_frame f[SCAN_MAX];
    unsigned n = 1;
    f[0].ts_ns = x->first_ts;
    int v = gt_worker_continues(p->w, f, n);
    gt_pcap_file *r = v < 0 ? gt_pcap_file_view(p->c->tpl, x->start) : NULL;
    if (r) {
        n = 0;
        while (v < 0 && n < SCAN_MAX) {
            int got = gt_pcap_file_view_burst(r, f + n, SCAN_MAX - n, x->hi);
            if (got <= 0)
                break;
            n += (unsigned)got;
            v = gt_worker_continues(p->w, f, n);
        }
    }
    gt_pcap_file_close(r);
    return v == 1;
}

/* Part p reached `end` at record offset q: decide on the part that starts
 * there. Returns the new end when p reads on (the next part is VOID), 0
 * when p is done. */
static uint64_t decide_next(struct part *p, unsigned *next, uint64_t q)
{
    struct chunks *c = p->c;
    if (*next >= c->n)
        return 0;
    struct part *x = &c->p[*next];
    int st;
    while ((st = atomic_load_explicit(&x->state, memory_order_acquire)) == PENDING)
        nap();
    if (st == READY && x->start == q && continues(p, x) && cas_state(x, READY, ACCEPTED))
        return 0;
    void_part(x);
    (*next)++;
    return x->hi;
}

static void *part_main(void *arg)
{
    struct part *p = arg;
    struct chunks *c = p->c;
    struct gt_frame f[BURST];
    uint64_t start = p->i == 0 ? 24 : gt_pcap_file_resync(c->tpl, p->lo, p->hi);
    gt_pcap_file *v = start < p->hi ? gt_pcap_file_view(c->tpl, start) : NULL;
    uint64_t end = p->hi;
    unsigned next = p->i + 1;
    int n = v ? gt_pcap_file_view_burst(v, f, BURST, end) : 0;
    if (p->i > 0) {
        /* nothing to count here (or no reader): the part before reads the range */
        if (n <= 0) {
            void_part(p);
            goto out;
        }
        p->start = start;
        p->first_ts = f[0].ts_ns;
        if (!cas_state(p, PENDING, READY))
            goto out;
    }
    for (;;) {
        if (n > 0) {
            gt_worker_burst(p->w, c->dlt, f, (unsigned)n);
            p->frames += (unsigned)n;
            atomic_store_explicit(&p->counted, p->frames, memory_order_relaxed);
        } else if (n == -2 || !v) {
            if (!wait_final(p))
                break;
            p->irregular = 1;
            p->irr_off = v ? gt_pcap_file_offset(v) : start;
            void_after(c, p->i);
            break;
        } else {
            if (!wait_final(p))
                break;
            uint64_t more = decide_next(p, &next, gt_pcap_file_offset(v));
            if (!more)
                break;
            end = more;
        }
        if (atomic_load_explicit(&p->state, memory_order_acquire) == VOID)
            break;
        if (atomic_load_explicit(&c->stop, memory_order_relaxed)) {
            if (wait_final(p))
                void_after(c, p->i);   /* what was counted is a prefix of the file */
            break;
        }
        n = gt_pcap_file_view_burst(v, f, BURST, end);
    }
out:
    p->records = v ? gt_pcap_file_records(v) : 0;
    gt_pcap_file_close(v);
    struct timespec cpu;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    p->cpu_s = (double)cpu.tv_sec + cpu.tv_nsec * 1e-9;
    atomic_store_explicit(&p->done, 1, memory_order_release);
    sem_post(&c->wake);
    return NULL;
}

/* Worker `head` reads on with the source from where the final parts left
 * off (a record the map path cannot read: libpcap decides from there, as
 * on the one-worker path), collecting after every frame: with this thread
 * the collector, a burst must not open more bins than the ring holds. */
static void read_on(struct chunks *c, gt_source *src, unsigned head, uint64_t fr,
                    const struct chunk_ops *ops, void *ctx)
{
    struct part *p = &c->p[head];
    struct gt_frame f[BURST];
    uint8_t *arena = malloc(GT_SOURCE_ARENA);
    for (;;) {
        int dlt, n = arena ? gt_source_read(src, f, BURST, arena, GT_SOURCE_ARENA, &dlt) : GT_SOURCE_END;
        if (n == GT_SOURCE_END || ops->stop(ctx))
            break;
        if (n == GT_SOURCE_ERR) {
            ops->error(ctx, gt_source_error(src, 0));
            continue;
        }
        for (int i = 0; i < n; i++) {
            gt_worker_burst(p->w, dlt, &f[i], 1);
            gt_engine_collect_ordered(c->e, head);
        }
        p->frames += (unsigned)n;
        ops->frames(ctx, fr + p->frames);
    }
    if (!arena)
        ops->error(ctx, "out of memory");
    free(arena);
}

/* The later parts: drop a VOID one's bins, set the others' aside (within
 * SET_ASIDE bytes) so they go on counting. Returns bins moved. */
static int later_parts(struct chunks *c, unsigned from)
{
    int n = 0;
    for (unsigned j = from; j < c->n; j++) {
        if (atomic_load_explicit(&c->p[j].state, memory_order_acquire) == VOID)
            gt_engine_discard(c->e, j);
        else
            n += gt_engine_set_aside(c->e, j, c->set_aside);
    }
    return n;
}

int chunks_run(gt_source *src, gt_engine *e, unsigned nparts, const struct chunk_ops *ops, void *ctx)
{
    gt_pcap_file *pf = gt_source_split_file(src);
    if (!pf || nparts < 2)
        return -1;
    struct chunks c = { .f = pf, .e = e, .dlt = gt_source_dlt(src), .n = nparts };
    atomic_init(&c.stop, 0);
    if (!(c.p = aligned_alloc(64, sizeof *c.p * nparts))) {
        ops->error(ctx, "out of memory");
        for (unsigned i = 0; i < nparts; i++)
            gt_worker_finish(gt_engine_worker(e, i));
        return -1;
    }
    /* without either no part starts: this thread reads alone (below) */
    c.tpl = gt_pcap_file_view(pf, 24);
    int sem = sem_init(&c.wake, 0, 0) == 0;
    const char *sa = getenv("GEOTAP_PARTS_SET_ASIDE");
    c.set_aside = sa ? (size_t)strtoull(sa, NULL, 10) : SET_ASIDE;
    memset(c.p, 0, sizeof *c.p * nparts);
    uint64_t size = gt_pcap_file_size(pf), body = size - 24;
    for (unsigned i = 0; i < nparts; i++) {
        struct part *p = &c.p[i];
        p->c = &c;
        p->i = i;
        p->w = gt_engine_worker(e, i);
        p->lo = 24 + body / nparts * i;
        p->hi = i + 1 == nparts ? size : 24 + body / nparts * (i + 1);
        atomic_init(&p->state, i == 0 ? ACCEPTED : PENDING);
        atomic_init(&p->done, 0);
        atomic_init(&p->counted, 0);
    }
    /* Signals stay with the calling thread: parts start with them blocked. */
    sigset_t block, old;
    sigfillset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (unsigned i = 0; i < nparts && c.tpl && sem; i++)
        c.p[i].started = pthread_create(&c.p[i].th, NULL, part_main, &c.p[i]) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* A part that could not start is VOID: the one before it reads its
     * range; without part 0 this thread reads the whole file on worker 0. */
    for (unsigned i = 1; i < nparts; i++)
        if (!c.p[i].started || !c.p[0].started)
            void_part(&c.p[i]);
    if (!c.p[0].started)
        read_on(&c, src, 0, 0, ops, ctx);

    uint64_t rec = 0, fr = 0;   /* records and frames of the final parts before head */
    unsigned head = 0;
    long idle_ns = 50000;   /* this thread's nap: doubles while there is nothing to collect */
    while (c.p[0].started && head < nparts) {
        struct part *p = &c.p[head];
        int moved = later_parts(&c, head + 1);
        if (gt_engine_collect_ordered(e, head) + moved > 0)
            idle_ns = 50000;
        else if (idle_ns < 1000000)
            idle_ns *= 2;
        if (p->started && atomic_load_explicit(&p->done, memory_order_acquire)) {
            /* the part's thread is done: its worker is this thread's now */
            if (p->irregular) {
                gt_pcap_file_resume(c.f, p->irr_off, rec + p->records, fr + p->frames);
                read_on(&c, src, head, fr, ops, ctx);
            }
            gt_worker_finish(p->w);
            gt_engine_collect_ordered(e, head);
            rec += p->records;
            fr += p->frames;
            do
                head++;
            while (head < nparts && atomic_load_explicit(&c.p[head].state, memory_order_acquire) == VOID);
            continue;
        }
        uint64_t sum = fr;
        for (unsigned j = head; j < nparts; j++)
            sum += atomic_load_explicit(&c.p[j].counted, memory_order_relaxed);
        ops->frames(ctx, sum);
        if (ops->stop(ctx))
            atomic_store_explicit(&c.stop, 1, memory_order_relaxed);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += idle_ns;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        sem_timedwait(&c.wake, &until);   /* a part done ends the nap at once */
    }
    /* The VOID parts: wait for their threads (dropping what they count,
     * so none waits on a full ring), then finish their workers. */
    for (unsigned i = 0; i < nparts; i++) {
        struct part *p = &c.p[i];
        while (p->started && !atomic_load_explicit(&p->done, memory_order_acquire)) {
            gt_engine_discard(e, i);
            nap();
        }
        if (p->started)
            pthread_join(p->th, NULL);
        if (i > 0 && atomic_load(&p->state) == VOID) {
            gt_worker_finish(p->w);
            gt_engine_discard(e, i);
        }
    }
    if (!c.p[0].started) {
        gt_worker_finish(c.p[0].w);
        gt_engine_collect_ordered(e, 0);
    }
    /* for the tests and the benchmark: how the file was split */
    if (getenv("GEOTAP_PARTS_TRACE")) {
        static const char *const names[] = { "pending", "ready", "final", "void" };
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        for (unsigned i = 0; i < nparts; i++)
            fprintf(stderr, "part %u: %s, first record at %llu, %llu records, %llu frames%s, cpu %.3f s\n", i,
                    names[atomic_load(&c.p[i].state)], (unsigned long long)(i ? c.p[i].start : 24),
                    (unsigned long long)c.p[i].records, (unsigned long long)c.p[i].frames,
                    c.p[i].irregular ? ", then libpcap" : "", c.p[i].cpu_s);
        fprintf(stderr, "parts: collector cpu %.3f s\n", (double)cpu.tv_sec + cpu.tv_nsec * 1e-9);
    }
    gt_engine_flush_ordered(e);
    ops->frames(ctx, fr + (c.p[0].started ? 0 : c.p[0].frames));
    free(c.p);
    if (sem)
        sem_destroy(&c.wake);
    gt_pcap_file_close(c.tpl);
    return 0;
}
