/* The sensor (sensor.h): source -> workers -> collector -> detector
 * (with attribution) -> sinks, with reload and a published snapshot. */
#include "geotap/sensor.h"
#include "geotap/anomaly.h"
#include "geotap/attribution.h"
#include "geotap/clock.h"
#include "geotap/engine.h"
#include "geotap/keyspace.h"
#include "geotap/parse.h"
#include "geotap/seqlock.h"
#include "geotap/source.h"
#include "file_split.h"
#include "sensor_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATE_SAVE_S 300.0          /* the learned state is saved this often by default, and at the end */

static void note(gt_sensor *s, const char *fmt, const char *a, const char *b)
{
    char m[1200];
    if (!s->c.notice)
        return;
    snprintf(m, sizeof m, fmt, a, b);
    s->c.notice(s->c.ctx, m);
}

static void set_err(gt_sensor *s, const char *msg)
{
    if (!s->err[0])
        snprintf(s->err, sizeof s->err, "%s", msg);
}

static void publish(gt_sensor *s)
{
    uint64_t w[STAT_WORDS];
    memset(w, 0, sizeof w);
    s->st.reloads = atomic_load(&s->reloads);
    s->st.reloads_failed = atomic_load(&s->reloads_failed);
    s->st.alerts_queued = s->st.alerts_sent = s->st.alerts_failed = s->st.alerts_dropped = 0;
    s->st.output_errors = s->st.output_lost = 0;
    for (unsigned i = 0; i < s->nstats; i++)
        s->stats[i].fn(s->stats[i].self, &s->st);
    for (unsigned i = 0; i < s->nw && i < GT_SENSOR_MAX_WORKERS; i++)
        s->st.worker_frames[i] = atomic_load_explicit(&s->wk[i].frames_pub, memory_order_relaxed);
    memcpy(w, &s->st, sizeof s->st);
    gt_seqlock_begin(&s->pub);
    gt_seqlock_store(&s->pub, 0, w, STAT_WORDS);
    gt_seqlock_end(&s->pub);
}

/* Write the learned state (atomically: anomaly_state.c); counted. */
static void save_state(gt_sensor *s, int final)
{
    char e[512];
    int ok = gt_anomaly_save(s->det, s->c.state, e, sizeof e) == 0;
    s->st.state_saves += ok;
    s->st.state_save_errors += !ok;
    if (!ok)
        final ? set_err(s, e) : note(s, "%s%s", e, "");
}

static void phase(gt_sensor *s, enum gt_sensor_phase ph, const char *msg)
{
    if (s->c.phase)
        s->c.phase(s->c.ctx, ph, msg);
}

/* The engine's bin consumer: attribution, then the chain (sinks, the
 * detector, the sinks that want its view: the one path merge and the
 * anomaly replay feed too). */
static void on_bin(void *ctx, const struct gt_bin *bin)
{
    gt_sensor *s = ctx;
    struct gt_bin pb;
    if (s->attr) {
        gt_attribution_bin(s->attr, bin, &pb);
        bin = &pb;
    }
    gt_chain_bin(s->chain, bin);
    if (s->det) {
        double every = s->c.state_every_s > 0 ? s->c.state_every_s : STATE_SAVE_S;
        if (s->c.state && gt_mono_s() - s->state_saved >= every) {
            s->state_saved = gt_mono_s();
            save_state(s, 0);
        }
    }
    s->st.bins++;
    s->st.last_bin = bin->start;
    s->st.totals = gt_engine_totals(s->eng);
    s->st.nkeys = bin->nkeys;
}

static void build_free(struct build *b)
{
    if (!b)
        return;
    gt_setup_free(&b->st);
    free(b->class_key);
    free(b->l2_key);
    free(b);
}

static void build_retire(void *ctx)
{
    struct build *b = ctx;
    if (b != b->s->first)
        build_free(b);
}

static void build_lookup(struct build *b, struct gt_lookup *lk)
{
    gt_setup_lookup(&b->st, lk);
    if (b->class_key)
        lk->class_key = b->class_key;
    if (b->l2_key)
        lk->l2_key = b->l2_key;
    /* The stable ids are the first build's, extended. */
    const struct gt_keys *k0 = b->s->first->st.fine ? &b->s->first->st.count : &b->s->first->st.keys;
    lk->keys = k0->keys;
    lk->nkeys = k0->nkeys;
    lk->retire = build_retire;
    lk->retire_ctx = b;
}

static struct build *build_new(gt_sensor *s, const struct gt_setup_opts *o, char *err, size_t errlen)
{
    struct build *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->s = s;
    if (gt_setup_build(o, &b->st, err, errlen) != 0) {
        free(b);
        return NULL;
    }
    if (b->st.warning[0])
        note(s, "warning: %s%s", b->st.warning, "");
    return b;
}

gt_sensor *gt_sensor_new(const struct gt_sensor_config *c, char *err, size_t errlen)
{
    gt_sensor *s = aligned_alloc(64, (sizeof *s + 63) / 64 * 64);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->c = *c;
    atomic_init(&s->stop, 0);
    atomic_init(&s->taken, 0);
    gt_seqlock_init(&s->pub, s->words, STAT_WORDS);
    atomic_init(&s->reloads, 0);
    atomic_init(&s->reloads_failed, 0);
    pthread_mutex_init(&s->reload_mu, NULL);
    if (c->files && !(s->src = gt_source_files(c->files, c->nfiles, c->bpf, err, errlen)))
        goto fail;
    if (!(s->first = build_new(s, &c->setup, err, errlen)))
        goto fail;
    s->cur = s->first;
    if (!s->src && c->live && !(s->src = gt_source_live(c->live, err, errlen)))
        goto fail;
    if (!s->src && c->dpdk && !(s->src = gt_source_dpdk(c->dpdk, err, errlen)))
        goto fail;
    if (!s->src) {
        snprintf(err, errlen, "no packet source given");
        goto fail;
    }
    s->nw = gt_source_queues(s->src);
    /* One classic pcap file on several threads: in parts, one worker each
     * (file_split.h); a count limit needs the frames in order. */
    if (c->files && c->file_threads > 1 && !c->count && gt_source_split_file(s->src))
        s->parts = c->file_threads;
    s->wk = aligned_alloc(64, (sizeof *s->wk * s->nw + 63) / 64 * 64);
    if (!s->wk) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memset(s->wk, 0, sizeof *s->wk * s->nw);
    /* Room for the keys a reload may add (new countries of a new database):
     * reserved now so the table the workers and sinks read never moves.
     * Attribution's finer keys have projections fixed at start: no growth. */
    struct gt_keys *stable = s->first->st.fine ? &s->first->st.count : &s->first->st.keys;
    s->key_cap = stable->nkeys;
    if (!s->first->st.fine) {
        uint32_t room = stable->nkeys / 4 > KEY_ROOM ? stable->nkeys / 4 : KEY_ROOM;
        s->key_cap = stable->nkeys + room;
        if (gt_keys_reserve(stable, s->key_cap) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    struct gt_lookup lk;
    build_lookup(s->first, &lk);
    const struct gt_keys *counted = s->first->st.fine ? &s->first->st.count : &s->first->st.keys;
    struct gt_engine_opts eo = {
        .parse_flags = c->parse_flags, .bytes_l3 = c->bytes_l3, .bin_seconds = c->bin_seconds,
        .nworkers = s->parts ? s->parts : s->nw, .on_bin = on_bin, .ctx = s,
        .inline_collect = gt_source_packet_clock(s->src) && !s->parts, .ordered = s->parts != 0,
        .keys = counted, .iface = c->iface, .lookup = &lk, .max_keys = s->key_cap,
    };
    if (!(s->eng = gt_engine_new(&eo))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < s->nw; i++) {
        s->wk[i].s = s;
        s->wk[i].q = i;
        s->wk[i].w = gt_engine_worker(s->eng, i);
        atomic_init(&s->wk[i].frames_pub, 0);
        atomic_init(&s->wk[i].last_rx, 0);
        atomic_init(&s->wk[i].done, 0);
    }
    s->st.nworkers = s->nw;
    struct gt_anomaly_opts ao = { .fa_per_day = c->fa_per_day };
    const struct gt_setup *st = &s->first->st;
    if (!(s->chain = gt_chain_new(&st->keys, c->detect, &ao))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->det = gt_chain_anomaly(s->chain);
    if (c->detect) {
        if (st->fine && !(s->attr = gt_attribution_new(&st->count, &st->keys, st->proj, st->count_up2,
                                                       st->n_upstreams, s->det))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        s->state_saved = gt_mono_s();
        if (c->state && c->bin_seconds && gt_anomaly_load(s->det, c->state, c->bin_seconds, err, errlen) < 0)
            note(s, "%s; starting with no learned state%s", err, "");
        err[0] = 0;
    }
    publish(s);
    return s;
fail:
    gt_sensor_free(s);
    return NULL;
}

int gt_sensor_add_sink(gt_sensor *s, struct gt_sink sink)
{
    return gt_chain_add_sink(s->chain, sink);
}

int gt_sensor_add_stats(gt_sensor *s, gt_sensor_stats_fn fn, void *self)
{
    void *n = realloc(s->stats, (s->nstats + 1) * sizeof *s->stats);
    if (!n)
        return -1;
    s->stats = n;
    s->stats[s->nstats].fn = fn;
    s->stats[s->nstats++].self = self;
    return 0;
}

/* How many of n frames the count limit lets through (all without one). */
static inline unsigned take(gt_sensor *s, unsigned n)
{
    if (__builtin_expect(s->c.count != 0, 0)) {
        /* Only with a count limit: one shared add per burst keeps it exact. */
        uint64_t t = atomic_fetch_add_explicit(&s->taken, n, memory_order_relaxed);
        if (t >= s->c.count)
            n = 0;
        else if (t + n > s->c.count)
            n = (unsigned)(s->c.count - t);
        if (t + n >= s->c.count)
            atomic_store(&s->stop, 1);
    }
    return n;
}

static inline void counted(struct wk *k, unsigned n)
{
    k->frames += n;
    atomic_store_explicit(&k->frames_pub, k->frames, memory_order_relaxed);
}

/* The packet path's entry: one burst into the worker (count limit first). */
static void on_burst(void *ctx, int dlt, const struct gt_frame *f, unsigned n)
{
    struct wk *k = ctx;
    if (!(n = take(k->s, n)))
        return;
    gt_worker_burst(k->w, dlt, f, n);
    counted(k, n);
}

/* A live worker: poll, tick the wall clock, read drops; drain when stopped. */
static int worker_loop(void *arg)
{
    struct wk *k = arg;
    gt_sensor *s = k->s;
    int64_t next_stats = 0;
    unsigned busy = 0;
    int got = 0;
    for (;;) {
        int n = gt_source_poll(s->src, k->q, on_burst, k);
        if (n == GT_SOURCE_END)
            break;
        if (n == GT_SOURCE_ERR) {
            snprintf(k->err, sizeof k->err, "%s", gt_source_error(s->src, k->q));
            k->failed = 1;
            atomic_store(&s->stop, 1);
            continue;
        }
        got |= n > 0;
        if (n > 0 && (++busy & 63) != 0)
            continue;   /* busy: read the clock once every 64 polls */
        busy = 0;
        int64_t now = gt_realtime_ns();
        /* Wall-clock bins: a silent link still closes its bins. */
        gt_worker_tick(k->w, now - GRACE_NS);
        if (got) {
            atomic_store_explicit(&k->last_rx, now, memory_order_relaxed);
            got = 0;
        }
        if (now >= next_stats) {
            gt_worker_add_drops(k->w, gt_source_drops(s->src, k->q));
            next_stats = now + STATS_NS;
        }
    }
    gt_worker_add_drops(k->w, gt_source_drops(s->src, k->q));
    gt_worker_finish(k->w);
    atomic_store_explicit(&k->done, 1, memory_order_release);
    return 0;
}

/* Files, before each read: the link-type notice of a new file, progress;
 * nonzero when the run stops. */
static int files_stop(void *ctx)
{
    gt_sensor *s = ctx;
    struct wk *k = &s->wk[0];
    unsigned file;
    uint64_t off, size;
    gt_source_position(s->src, &file, &off, &size);
    if (file != s->last_file) {
        s->last_file = file;
        int dlt = gt_source_dlt(s->src);
        char d[16];
        snprintf(d, sizeof d, "%d", dlt);
        if (file < s->c.nfiles && !gt_parse_dlt_supported(dlt))
            note(s, "%s: link type %s is not supported; its frames count as non-IP", gt_source_name(s->src), d);
    }
    if (k->frames >= s->next_progress) {
        s->next_progress = k->frames + 65536;
        if (s->c.progress)
            s->c.progress(s->c.ctx, s);
    }
    return s->stop_sig || atomic_load_explicit(&s->stop, memory_order_relaxed);
}

/* Reported here; what was read is counted and the next file follows. */
static void files_error(void *ctx, const char *msg)
{
    gt_sensor *s = ctx;
    note(s, "%s%s", msg, "");
    s->src_errors++;
}

/* Files on several threads: frames the helpers classified, in order. */
static void files_count(void *ctx, const struct gt_frame *f, const struct gt_classified *c, unsigned n)
{
    gt_sensor *s = ctx;
    struct wk *k = &s->wk[0];
    if (!(n = take(s, n)))
        return;
    gt_worker_count(k->w, f, c, n);
    counted(k, n);
}

/* Files in parts: the frames counted so far, for the progress. */
static void files_frames(void *ctx, uint64_t n)
{
    gt_sensor *s = ctx;
    s->wk[0].frames = n;
    atomic_store_explicit(&s->wk[0].frames_pub, n, memory_order_relaxed);
}

/* Files: one worker in this thread on packet time, collecting inline;
 * with file_threads > 1, one file in parts on as many workers, or helper
 * threads classify (file_split.h). */
static void run_files(gt_sensor *s)
{
    struct wk *k = &s->wk[0];
    s->last_file = (unsigned)-1;
    s->next_progress = 65536;
    static const struct split_ops ops = { files_count, files_stop, files_error };
    static const struct chunk_ops cops = { files_stop, files_error, files_frames };
    if (s->parts) {
        files_stop(s);   /* the file's link-type notice, before any thread reads */
        chunks_run(s->src, s->eng, s->parts, &cops, s);
        return;
    }
    if (s->c.file_threads > 1 && split_run(s->src, s->eng, s->c.file_threads - 1, &ops, s) == 0) {
        gt_worker_finish(k->w);
        return;
    }
    while (!files_stop(s)) {
        int n = gt_source_poll(s->src, 0, on_burst, k);
        if (n == GT_SOURCE_END)
            break;
        if (n == GT_SOURCE_ERR)
            files_error(s, gt_source_error(s->src, 0));
    }
    gt_worker_finish(k->w);
}

/* Live: workers on their threads, this thread collects every 100 ms. */
static void run_live(gt_sensor *s)
{
    void **args = malloc(s->nw * sizeof *args);
    unsigned started = 0;
    /* Signals go to this thread only: workers start with them blocked. */
    sigset_t block, old;
    sigfillset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (unsigned i = 0; args && i < s->nw; i++)
        args[i] = &s->wk[i];
    if (args)
        started = gt_source_launch(s->src, worker_loop, args);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(args);
    if (started < s->nw) {
        char m[96];
        snprintf(m, sizeof m, "cannot start %u workers", s->nw);
        set_err(s, m);
        atomic_store(&s->stop, 1);
        /* Workers never started still owe a finish, or the engine waits for them. */
        for (unsigned i = started; i < s->nw; i++) {
            gt_worker_finish(s->wk[i].w);
            atomic_store(&s->wk[i].done, 1);
        }
    }
    double t0 = gt_mono_s();
    while (!atomic_load(&s->stop) && !s->stop_sig) {
        struct timespec nap = { 0, COLLECT_NS };
        nanosleep(&nap, NULL);   /* a signal cuts it short */
        if (s->reload_sig) {
            s->reload_sig = 0;
            char e[512];
            phase(s, GT_PHASE_RELOADING, NULL);
            int rc = gt_sensor_reload(s, e, sizeof e);
            publish(s);     /* the counters the phase's message shows */
            if (rc != 0)
                note(s, "reload failed, the old classification stays: %s%s", e, "");
            phase(s, rc ? GT_PHASE_RELOAD_FAILED : GT_PHASE_RELOADED, rc ? e : NULL);
        }
        gt_engine_collect(s->eng);
        publish(s);
        if (s->c.duration_s > 0 && gt_mono_s() - t0 >= s->c.duration_s)
            break;
        if (s->c.idle_stop_s > 0) {
            int64_t last = 0;
            for (unsigned i = 0; i < started; i++) {
                int64_t t = atomic_load_explicit(&s->wk[i].last_rx, memory_order_relaxed);
                if (t > last)
                    last = t;
            }
            if (last && gt_realtime_ns() - last >= (int64_t)(s->c.idle_stop_s * 1e9))
                break;
        }
    }
    atomic_store(&s->stop, 1);
    phase(s, GT_PHASE_STOPPING, NULL);
    gt_source_break(s->src);
    /* Keep collecting while the workers drain: a worker whose bin ring is
     * full waits for the collector (back-pressure), so joining it without
     * collecting could wait forever. */
    for (unsigned i = 0; i < s->nw; i++)
        while (!atomic_load_explicit(&s->wk[i].done, memory_order_acquire)) {
            gt_engine_collect(s->eng);
            nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
        }
    gt_source_wait(s->src);
    for (unsigned i = 0; i < s->nw; i++)
        if (s->wk[i].failed) {
            char m[900];
            snprintf(m, sizeof m, "%s: %s", gt_source_name(s->src), s->wk[i].err);
            set_err(s, m);
        }
}

int gt_sensor_run(gt_sensor *s, char *err, size_t errlen)
{
    if (gt_source_packet_clock(s->src))
        run_files(s);
    else
        run_live(s);
    /* Every worker published its last partial bin: emit everything. */
    gt_engine_finish(s->eng);
    gt_source_drop_totals(s->src, s->st.drops);
    s->st.totals = gt_engine_totals(s->eng);
    publish(s);
    char e[512] = "";
    if (gt_chain_finish(s->chain, e, sizeof e) != 0)
        set_err(s, e);
    if (s->det && s->c.state)
        save_state(s, 1);
    publish(s);     /* with the sinks' final counters */
    snprintf(err, errlen, "%s", s->err);
    return s->err[0] || s->src_errors ? -1 : 0;
}

void gt_sensor_stop(gt_sensor *s)
{
    s->stop_sig = 1;
}

void gt_sensor_request_reload(gt_sensor *s)
{
    s->reload_sig = 1;
}

int gt_sensor_reload(gt_sensor *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->reload_mu);
    int rc = -1;
    uint32_t added = 0;
    struct gt_setup_opts so = s->c.setup;
    struct build *b = s->c.reconfigure && s->c.reconfigure(s->c.ctx, &so, err, errlen) ? NULL
                                                                                        : build_new(s, &so, err, errlen);
    struct gt_setup *f = &s->first->st;
    struct gt_keys *stable = f->fine ? &f->count : &f->keys;
    if (b && gt_keyspace_remap(stable, s->key_cap, f->c, f->n_upstreams, &b->st, &b->class_key, &b->l2_key,
                               &added, err, errlen) == 0) {
        struct gt_lookup lk;
        build_lookup(b, &lk);
        /* New keys start with no history; the sinks see them in the bins
         * once a worker counts with the new lookup. */
        if (added && s->det && gt_anomaly_keys_grew(s->det) != 0) {
            snprintf(err, errlen, "out of memory");
        } else if (gt_engine_set_lookup(s->eng, &lk) == 0) {
            s->cur = b;
            s->c.setup = so;
            b = NULL;
            atomic_fetch_add(&s->reloads, 1);
            rc = 0;
        } else {
            snprintf(err, errlen, "the engine cannot take the new lookup");
        }
    }
    build_free(b);
    if (rc)
        atomic_fetch_add(&s->reloads_failed, 1);
    pthread_mutex_unlock(&s->reload_mu);
    return rc;
}

void gt_sensor_free(gt_sensor *s)
{
    if (!s)
        return;
    free(s->stats);
    gt_attribution_free(s->attr);
    gt_chain_free(s->chain);    /* the sinks and the detector */
    /* The engine retires every build but the first. */
    gt_engine_free(s->eng);
    if (!s->eng && s->cur != s->first)
        build_free(s->cur);
    build_free(s->first);
    gt_source_close(s->src);
    free(s->wk);
    pthread_mutex_destroy(&s->reload_mu);
    free(s);
}
