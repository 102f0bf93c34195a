/* Packet sources behind one interface (source.h): capture files, libpcap
 * live handles and DPDK ports, each with its own drop rule and threads. */
#include "geotap/source.h"
#include "geotap/cpus.h"
#include "geotap/live_pcap.h"
#include "geotap/pcap_file.h"
#include "gt_config.h"
#if GT_HAVE_DPDK
#include "geotap/dpdk_port.h"
#endif

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FILE_BURST 128           /* frames per burst from a capture file */
#define LIVE_BURST 64            /* live: frames gathered per burst ... */
#define LIVE_ARENA (256u << 10)  /* ... in this many bytes of copies */
#define MAX_FRAME 262144u        /* libpcap's largest snapshot length */
#define DPDK_DRAIN 256           /* dpdk: bursts drained after a stop (> an RX ring of 32-frame bursts) */
#define DRAIN_NS 250000000LL     /* live: how long a stopped queue keeps draining its ring */

enum kind { SRC_FILES, SRC_LIVE, SRC_DPDK };

/* Per queue: written by its own thread only. */
struct queue {
    _Alignas(64) uint64_t seen[2];   /* cumulative counters last read: kernel/ring, interface/NIC */
    uint64_t total[2];               /* drops reported so far */
    int ended;
    int err_pending;
    unsigned drained;                /* dpdk: bursts received since the stop */                 /* files: err is due after the frames already returned */
    int draining;
    int64_t drain_until;
    /* live: the burst callback of the running poll, and the burst being
     * gathered (frames copied into arena: see live_frame) */
    gt_burst_fn fn;
    void *ctx;
    int dlt;
    unsigned nb;
    size_t used;
    struct gt_frame *burst;          /* [LIVE_BURST] */
    uint8_t *arena;                  /* [LIVE_ARENA] */
    char err[512];
};

struct gt_source {
    enum kind kind;
    unsigned nq;
    char name[300];
    atomic_int broken;
    struct queue *q;
    /* files */
    gt_pcap_file **files;
    char **paths;
    unsigned nfiles, cur;
    /* live */
    gt_live *live;
    pthread_t *th;
    unsigned started;
#if GT_HAVE_DPDK
    gt_dpdk *dpdk;
#endif
};

static gt_source *source_new(enum kind k, unsigned nq)
{
    gt_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->kind = k;
    s->nq = nq;
    atomic_init(&s->broken, 0);
    s->q = aligned_alloc(64, (sizeof *s->q * nq + 63) / 64 * 64);
    if (!s->q) {
        free(s);
        return NULL;
    }
    memset(s->q, 0, sizeof *s->q * nq);
    return s;
}

gt_source *gt_source_files(const char *const *paths, unsigned n, const char *bpf, char *err, size_t errlen)
{
    gt_source *s = source_new(SRC_FILES, 1);
    if (!s || !(s->files = calloc(n ? n : 1, sizeof *s->files)) || !(s->paths = calloc(n ? n : 1, sizeof *s->paths))) {
        gt_source_close(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->nfiles = n;
    for (unsigned i = 0; i < n; i++) {
        s->paths[i] = strdup(paths[i]);
        s->files[i] = s->paths[i] ? gt_pcap_file_open(paths[i], bpf, err, errlen) : NULL;
        if (!s->files[i]) {
            if (!s->paths[i])
                snprintf(err, errlen, "out of memory");
            gt_source_close(s);
            return NULL;
        }
    }
    snprintf(s->name, sizeof s->name, "%s", n ? paths[0] : "");
    return s;
}

gt_source *gt_source_live(const struct gt_live_opts *o, char *err, size_t errlen)
{
    gt_source *s = source_new(SRC_LIVE, o->nhandles ? o->nhandles : 1);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(s->live = gt_live_open(o, err, errlen))) {
        gt_source_close(s);
        return NULL;
    }
    for (unsigned i = 0; i < s->nq; i++)
        if (!(s->q[i].burst = malloc(LIVE_BURST * sizeof *s->q[i].burst)) || !(s->q[i].arena = malloc(LIVE_ARENA))) {
            gt_source_close(s);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    snprintf(s->name, sizeof s->name, "%s", o->iface);
    return s;
}

gt_source *gt_source_dpdk(const struct gt_dpdk_opts *o, char *err, size_t errlen)
{
#if GT_HAVE_DPDK
    gt_dpdk *d = gt_dpdk_open(o, err, errlen);
    if (!d)
        return NULL;
    gt_source *s = source_new(SRC_DPDK, gt_dpdk_queues(d));
    if (!s) {
        gt_dpdk_close(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->dpdk = d;
    snprintf(s->name, sizeof s->name, "dpdk port %u", (unsigned)o->port);
    return s;
#else
    (void)o;
    snprintf(err, errlen, "this geotap was built without DPDK");
    return NULL;
#endif
}

unsigned gt_source_queues(const gt_source *s)
{
    return s->nq;
}

int gt_source_dlt(const gt_source *s)
{
    switch (s->kind) {
    case SRC_FILES:
        return s->nfiles ? gt_pcap_file_dlt(s->files[s->cur < s->nfiles ? s->cur : s->nfiles - 1]) : 1;
    case SRC_LIVE:
        return gt_live_dlt(s->live);
    default:
        return 1;   /* DLT_EN10MB */
    }
}

const char *gt_source_name(const gt_source *s)
{
    return s->kind == SRC_FILES && s->cur < s->nfiles ? s->paths[s->cur] : s->name;
}

int gt_source_packet_clock(const gt_source *s)
{
    return s->kind == SRC_FILES;
}

static int poll_files(gt_source *s, gt_burst_fn fn, void *ctx)
{
    struct queue *q = &s->q[0];
    if (s->cur >= s->nfiles || atomic_load_explicit(&s->broken, memory_order_relaxed))
        return GT_SOURCE_END;
    gt_pcap_file *f = s->files[s->cur];
    int dlt = gt_pcap_file_dlt(f);
    /* Bursts straight from the file's map (see gt_pcap_file_burst). */
    struct gt_frame fr[FILE_BURST];
    int n = gt_pcap_file_burst(f, fr, FILE_BURST);
    if (n > 0) {
        fn(ctx, dlt, fr, (unsigned)n);
        return n;
    }
    s->cur++;
    if (n < 0) {
        snprintf(q->err, sizeof q->err, "%s", gt_pcap_file_error(f));
        return GT_SOURCE_ERR;
    }
    return 0;
}

int gt_source_read(gt_source *s, struct gt_frame *f, unsigned max, uint8_t *arena, size_t arena_len, int *dlt)
{
    struct queue *q = &s->q[0];
    if (s->kind != SRC_FILES || s->cur >= s->nfiles || atomic_load_explicit(&s->broken, memory_order_relaxed))
        return GT_SOURCE_END;
    gt_pcap_file *pf = s->files[s->cur];
    *dlt = gt_pcap_file_dlt(pf);
    if (q->err_pending) {   /* the error after the frames the last call returned */
        q->err_pending = 0;
        s->cur++;
        return GT_SOURCE_ERR;
    }
    unsigned n = 0;
    size_t used = 0;
    int rc = 1;
    while (n < max) {
        /* a frame libpcap reads must fit: stop while a whole one still does */
        if (!gt_pcap_file_mapped(pf) && arena_len - used < MAX_FRAME + 16)
            break;
        rc = gt_pcap_file_burst(pf, f + n, max - n);
        if (rc <= 0)
            break;
        if (gt_pcap_file_mapped(pf)) {
            n += (unsigned)rc;   /* zero copy: the map lives until close */
            continue;
        }
        /* libpcap's buffer is reused by its next read: keep a copy */
        if (used + f[n].caplen > arena_len) {   /* larger than libpcap's own limit: cannot be */
            snprintf(q->err, sizeof q->err, "%s: a frame of %u bytes is larger than the reader's buffer",
                     s->paths[s->cur], (unsigned)f[n].caplen);
            s->cur++;
            return GT_SOURCE_ERR;
        }
        memcpy(arena + used, f[n].data, f[n].caplen);
        f[n].data = arena + used;
        used += (f[n].caplen + 15u) & ~(size_t)15;
        n++;
    }
    if (rc < 0) {
        snprintf(q->err, sizeof q->err, "%s", gt_pcap_file_error(pf));
        if (n) {
            q->err_pending = 1;
            return (int)n;
        }
        s->cur++;
        return GT_SOURCE_ERR;
    }
    if (n)
        return (int)n;
    s->cur++;
    return 0;
}

static void live_flush(struct queue *q)
{
    if (q->nb)
        q->fn(q->ctx, q->dlt, q->burst, q->nb);
    q->nb = 0;
    q->used = 0;
}

/* libpcap hands a TPACKET_V3 block back to the kernel as soon as its last
 * frame was dispatched and goes on with the next block in the same
 * pcap_dispatch call, so a frame's pointer dies with its block: the frames
 * of a burst are copied (into a per-queue arena; allocated at open) and
 * handed over when the burst or the arena is full and at the end of the
 * dispatch. */
static void live_frame(void *ctx, int64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct queue *q = ctx;
    if (q->used + caplen > LIVE_ARENA)
        live_flush(q);
    if (caplen > LIVE_ARENA) {   /* larger than the arena (a jumbo snaplen): on its own, in place */
        struct gt_frame f = { ts_ns, data, caplen, wirelen };
        q->fn(q->ctx, q->dlt, &f, 1);
        return;
    }
    uint8_t *d = q->arena + q->used;
    memcpy(d, data, caplen);
    q->used += (caplen + 15u) & ~(size_t)15;   /* headers 16-byte aligned, as in the ring */
    q->burst[q->nb++] = (struct gt_frame){ ts_ns, d, caplen, wirelen };
    if (q->nb == LIVE_BURST)
        live_flush(q);
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int poll_live(gt_source *s, unsigned i, gt_burst_fn fn, void *ctx)
{
    struct queue *q = &s->q[i];
    if (q->ended)
        return GT_SOURCE_END;
    q->fn = fn;
    q->ctx = ctx;
    q->dlt = gt_live_dlt(s->live);
    if (atomic_load_explicit(&s->broken, memory_order_acquire) && !q->draining) {
        /* Stopping: TPACKET_V3 hands a block over when it is full or its
         * timer (the read timeout) expires, so frames already received may
         * still sit in an open block. Read without blocking, for a bounded
         * time longer than that timer, until the ring is empty. */
        q->draining = 1;
        q->drain_until = mono_ns() + DRAIN_NS;
        gt_live_nonblock(s->live, i);
    }
    int rc = gt_live_dispatch(s->live, i, live_frame, q);
    live_flush(q);
    if (rc == -1) {
        snprintf(q->err, sizeof q->err, "%s", gt_live_error(s->live, i));
        q->ended = 1;
        return GT_SOURCE_ERR;
    }
    if (rc == -2)
        rc = 0;
    if (q->draining && rc == 0) {
        if (mono_ns() >= q->drain_until) {
            q->ended = 1;
            return GT_SOURCE_END;
        }
        struct timespec nap = { 0, 5000000 };
        nanosleep(&nap, NULL);
    }
    return rc;
}

#if GT_HAVE_DPDK
struct dpdk_ctx { gt_burst_fn fn; void *ctx; };

static void dpdk_burst(void *ctx, const struct gt_frame *f, unsigned n)
{
    struct dpdk_ctx *c = ctx;
    c->fn(c->ctx, 1, f, n);
}
#endif

int gt_source_poll(gt_source *s, unsigned q, gt_burst_fn fn, void *ctx)
{
    switch (s->kind) {
    case SRC_FILES:
        return poll_files(s, fn, ctx);
    case SRC_LIVE:
        return poll_live(s, q, fn, ctx);
    default: {
#if GT_HAVE_DPDK
        struct dpdk_ctx c = { fn, ctx };
        int n = gt_dpdk_rx(s->dpdk, (uint16_t)q, dpdk_burst, &c);
        /* Stopping: what the queue already holds is still counted, for at
         * most DPDK_DRAIN bursts (a port that never runs dry, e.g. net_null,
         * would hold the stop forever). */
        if (atomic_load_explicit(&s->broken, memory_order_acquire) && (n == 0 || ++s->q[q].drained > DPDK_DRAIN))
            return GT_SOURCE_END;
        return n;
#else
        return GT_SOURCE_END;
#endif
    }
    }
}

const char *gt_source_error(const gt_source *s, unsigned q)
{
    return s->q[q].err;
}

/* A cumulative counter read now: the delta since the last reading. */
static uint64_t delta(struct queue *q, int which, uint64_t now)
{
    uint64_t d = now >= q->seen[which] ? now - q->seen[which] : now;
    q->seen[which] = now;
    q->total[which] += d;
    return d;
}

uint64_t gt_source_drops(gt_source *s, unsigned i)
{
    struct queue *q = &s->q[i];
    if (s->kind == SRC_LIVE) {
        uint64_t k, f;
        if (gt_live_drops(s->live, i, &k, &f) != 0)
            return 0;
        /* ps_ifdrop is interface-wide: every handle sees the same; count it once. */
        return delta(q, 0, k) + (i == 0 ? delta(q, 1, f) : 0);
    }
#if GT_HAVE_DPDK
    if (s->kind == SRC_DPDK && i == 0) {
        uint64_t m, e, nb;
        /* Port-wide counters: queue 0 reports them. */
        if (gt_dpdk_drops(s->dpdk, &m, &e, &nb) == 0)
            return delta(q, 1, m + e + nb);
    }
#endif
    return 0;
}

void gt_source_drop_totals(const gt_source *s, uint64_t out[2])
{
    out[0] = out[1] = 0;
    for (unsigned i = 0; i < s->nq; i++) {
        out[0] += s->q[i].total[0];
        out[1] += s->q[i].total[1];
    }
}

void gt_source_position(const gt_source *s, unsigned *file, uint64_t *offset, uint64_t *size)
{
    *file = s->cur;
    *offset = *size = 0;
    if (s->kind == SRC_FILES && s->cur < s->nfiles) {
        *offset = gt_pcap_file_offset(s->files[s->cur]);
        *size = gt_pcap_file_size(s->files[s->cur]);
    }
}

gt_pcap_file *gt_source_split_file(gt_source *s)
{
    if (s->kind != SRC_FILES || s->nfiles != 1 || s->cur != 0 || !gt_pcap_file_splittable(s->files[0]))
        return NULL;
    return s->files[0];
}

void gt_source_break(gt_source *s)
{
    atomic_store_explicit(&s->broken, 1, memory_order_release);
    if (s->kind == SRC_LIVE)
        gt_live_breakloop(s->live);
}

struct launch { int (*loop)(void *); void *arg; };

static void *thread_main(void *p)
{
    struct launch l = *(struct launch *)p;
    free(p);
    l.loop(l.arg);
    return NULL;
}

unsigned gt_source_launch(gt_source *s, int (*loop)(void *), void *const *args)
{
#if GT_HAVE_DPDK
    if (s->kind == SRC_DPDK)
        return s->started = (unsigned)gt_dpdk_launch(s->dpdk, loop, args);
#endif
    if (!(s->th = calloc(s->nq, sizeof *s->th)))
        return 0;
    /* Pin worker i to the i-th CPU we may run on, when there is one each:
     * cheap, and keeps each worker's ring and counters warm. */
    int cpus[CPU_SETSIZE], ncpu = gt_allowed_cpus(cpus);
    for (; s->started < s->nq; s->started++) {
        struct launch *l = malloc(sizeof *l);
        if (!l)
            break;
        *l = (struct launch){ loop, args[s->started] };
        if (pthread_create(&s->th[s->started], NULL, thread_main, l) != 0) {
            free(l);
            break;
        }
        if (s->nq > 1 && ncpu >= (int)s->nq) {
            cpu_set_t cs;
            CPU_ZERO(&cs);
            CPU_SET(cpus[s->started], &cs);
            pthread_setaffinity_np(s->th[s->started], sizeof cs, &cs);
        }
    }
    return s->started;
}

void gt_source_wait(gt_source *s)
{
#if GT_HAVE_DPDK
    if (s->kind == SRC_DPDK) {
        if (s->started)
            gt_dpdk_wait(s->dpdk);
        s->started = 0;
        return;
    }
#endif
    for (unsigned i = 0; i < s->started; i++)
        pthread_join(s->th[i], NULL);
    s->started = 0;
}

void gt_source_prefill(gt_source *s, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx)
{
#if GT_HAVE_DPDK
    if (s->kind == SRC_DPDK)
        gt_dpdk_prefill(s->dpdk, fn, ctx);
#else
    (void)s;
    (void)fn;
    (void)ctx;
#endif
}

void gt_source_close(gt_source *s)
{
    if (!s)
        return;
    for (unsigned i = 0; s->files && i < s->nfiles; i++)
        gt_pcap_file_close(s->files[i]);
    for (unsigned i = 0; s->paths && i < s->nfiles; i++)
        free(s->paths[i]);
    free(s->files);
    free(s->paths);
    gt_live_close(s->live);
#if GT_HAVE_DPDK
    if (s->dpdk)
        gt_dpdk_close(s->dpdk);
#endif
    free(s->th);
    for (unsigned i = 0; s->q && i < s->nq; i++) {
        free(s->q[i].burst);
        free(s->q[i].arena);
    }
    free(s->q);
    free(s);
}
