/* The engine's packet path: one worker's bins, clock and counting
 * (gt_worker_packet, gt_worker_burst, gt_worker_tick). Only the worker's
 * own fields and its open slot are written here. */
#include "engine_impl.h"

#include <sched.h>
#include <string.h>

/* The quiescent point, first thing in every worker entry point (packet,
 * burst, tick): between two calls a worker holds nothing of a lookup, so
 * here it adopts the current one and declares every older one unused ((6)
 * in engine.h; the epoch is loaded before the lookup). Usually one load of
 * a line only gt_engine_set_lookup writes and a compare: the quiescent
 * counter is stored only when the epoch has moved. */
static inline void worker_quiescent(struct gt_worker *w)
{
    gt_engine *e = w->e;
    uint64_t ep = atomic_load_explicit(&e->epoch, memory_order_acquire);
    if (__builtin_expect(ep == w->epoch_seen, 1))
        return;
    const struct lk_node *n = atomic_load_explicit(&e->cur, memory_order_acquire);
    if (n != w->node)
        engine_worker_adopt(w, n);
    w->epoch_seen = ep;
    atomic_store_explicit(&w->quiescent, ep, memory_order_release);
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
    memset(s->cells, 0, w->nkeys * sizeof *s->cells);
    s->nkeys = w->nkeys;
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

/* worker_advance, without bin_of's division for times inside the open bin
 * (most frames; the division is a fifth of the per-frame cost). The window
 * [fast_lo, fast_hi) is exactly the times bin_of maps to the open bin's
 * start, recomputed whenever the bin changes (also through gt_worker_tick). */
static inline void advance_to(struct gt_worker *w, int64_t ts_ns)
{
    if (w->open && ts_ns >= w->fast_lo && ts_ns < w->fast_hi && w->cur->start == w->fast_start)
        return;
    worker_advance(w, ts_ns);
    int64_t st = w->cur->start;
    w->fast_start = st;
    w->fast_lo = w->fast_hi = 0;        /* empty unless set below */
    if (w->width == 0) {
        w->fast_lo = INT64_MIN;
        w->fast_hi = INT64_MAX;
    } else if (st > INT64_MIN / 1000000000 + 1 && st < INT64_MAX / 1000000000 - (int64_t)w->width - 1 &&
               bin_of(w->width, st * 1000000000) == st) {
        w->fast_lo = st * 1000000000;
        w->fast_hi = (st + (int64_t)w->width) * 1000000000;
    }
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
            advance_to(w, t);
        w->cur->stats.bad_time++;
        return t;
    }
    if (!w->have_recent) {
        w->have_recent = 1;
        w->recent_ns = ts_ns;
        advance_to(w, ts_ns);
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
            advance_to(w, ts_ns);
            return ts_ns;
        }
    } else {
        w->jump_n = 0;
    }
    if (!w->open)
        advance_to(w, w->recent_ns);
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
        advance_to(w, ts_ns);
        return ts_ns;
    }
    return worker_clock_slow(w, ts_ns);
}

/* A frame's time through the clock-jump policy into the bin stats; *ts_ns
 * becomes the time to record for it. Returns the open bin. */
static inline struct slot *count_frame(struct gt_worker *w, int64_t *ts_ns, uint32_t wirelen)
{
    int64_t t = worker_clock(w, *ts_ns);
    *ts_ns = t;
    struct slot *s = w->cur;
    s->stats.packets++;
    s->stats.bytes += wirelen;
    /* earliest and latest, so a late packet cannot make the span negative */
    if (!s->stats.first_ns || t < s->stats.first_ns)
        s->stats.first_ns = t;
    if (t > s->stats.last_ns)
        s->stats.last_ns = t;
    return s;
}

/* A parsed frame's kind into the stats; 1 when it is IP (to be counted per key). */
static inline int count_kind(struct slot *s, unsigned kind)
{
    switch (kind) {
    case GT_PKT_IP:
        s->stats.ip++;
        return 1;
    case GT_PKT_NONIP:
        s->stats.nonip++;
        return 0;
    case GT_PKT_TRUNCATED:
        s->stats.truncated++;
        return 0;
    default:
        s->stats.malformed++;
        return 0;
    }
}

/* A key's first packet in the bin (last == 0) or its first after a silence
 * (last < ts_ns - GT_FLOW_GAP_NS): the rare half of count_cell. first_ns
 * is 0 only while last_ns is (both are set together, to the same times),
 * so testing last_ns alone finds the first packet. */
static __attribute__((noinline)) void cell_edge(struct key_cell *c, int64_t last, int64_t ts_ns)
{
    if (last == 0) {
        if (!c->first_ns)
            c->first_ns = ts_ns;
        return;
    }
    gt_counts_gap(&c->c, last, ts_ns);
}

/* A key's packet at ts_ns into its cell, the key's silences before it
 * too; lim is ts_ns - GT_FLOW_GAP_NS (saturated), one compare on the
 * common path instead of bins.h's arithmetic (this loop's busiest part). */
static inline void count_cell(struct key_cell *c, int64_t ts_ns, int64_t lim)
{
    int64_t last = c->last_ns;
    if (__builtin_expect(last == 0 || last < lim, 0))
        cell_edge(c, last, ts_ns);
    c->last_ns = ts_ns;
}

/* Count an IP frame of `bytes` at ts_ns whose addresses have keys ks, kd
 * into a bin's cells (the same cell twice when ks == kd: its second visit
 * sees last_ns == ts_ns, no silence). */
static inline void count_cells(struct key_cell *restrict kc, int64_t ts_ns, uint64_t bytes, uint32_t ks, uint32_t kd)
{
    struct key_cell *a = &kc[ks], *b = &kc[kd];
    int64_t lim = ts_ns < INT64_MIN + GT_FLOW_GAP_NS ? INT64_MIN : ts_ns - GT_FLOW_GAP_NS;
    a->c.pkts_from++;
    a->c.bytes_from += bytes;
    b->c.pkts_to++;
    b->c.bytes_to += bytes;
    count_cell(a, ts_ns, lim);
    count_cell(b, ts_ns, lim);
}

static inline void count_keys(struct slot *s, int64_t ts_ns, uint64_t bytes, uint32_t ks, uint32_t kd)
{
    count_cells(s->cells, ts_ns, bytes, ks, kd);
}

/* Count an IP frame whose addresses have keys ks, kd (before L2 rules). */
static inline void count_ip(struct gt_worker *w, struct slot *s, int64_t ts_ns, uint32_t wirelen,
                            const struct gt_pkt *pk, uint32_t ks, uint32_t kd)
{
    if (__builtin_expect(w->l2map != NULL, 0))
        l2_keys(w->l2map, w->iface, w->l2_row, w->l2_key, w->l2_base, w->keys, pk, &ks, &kd);
    count_keys(s, ts_ns, w->bytes_l3 ? pk->l3_len : wirelen, ks, kd);
}

void gt_worker_packet(struct gt_worker *w, int dlt, int64_t ts_ns,
                      const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct gt_pkt p;
    worker_quiescent(w);    /* adopt a new lookup before reading w->cls/class_key */
    struct slot *s = count_frame(w, &ts_ns, wirelen);
    gt_parse(dlt, data, caplen, w->parse_flags, &p);
    if (!count_kind(s, p.kind))
        return;
    uint32_t cs, cd;
    if (p.family == 4) {
        cs = gt_classify4(w->cls, p.src.v4);
        cd = gt_classify4(w->cls, p.dst.v4);
    } else {
        cs = gt_classify6(w->cls, p.src.v6);
        cd = gt_classify6(w->cls, p.dst.v6);
    }
    count_ip(w, s, ts_ns, wirelen, &p, w->class_key[cs], w->class_key[cd]);
}

/* Count frames f[0..n) of a burst whose times all lie in the open bin's
 * fast window, the clock's latest time too, so every frame takes
 * worker_clock's common path and the same bin: the clock and the bin stats
 * are updated once for the burst, with the values the per-frame path would
 * leave (times > 0: first_ns is then the minimum). l2 is w->l2map != NULL,
 * a constant in each caller. */
static inline __attribute__((always_inline)) void
count_in_window(struct gt_worker *w, const struct burst_scratch *bs, const struct gt_frame *f, unsigned n,
                int64_t mn, int64_t mx, int l2)
{
    struct slot *s = w->cur;
    /* locals: the counter stores cannot alias them, so nothing is reloaded
     * per frame, and no per-frame total goes through memory */
    struct key_cell *restrict kc = s->cells;
    const int l3 = w->bytes_l3;
    uint64_t bytes = 0, ip = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct gt_pkt *p = &bs->bp[i];
        uint32_t wl = f[i].wirelen;
        bytes += wl;
        if (__builtin_expect(p->kind != GT_PKT_IP, 0)) {
            count_kind(s, p->kind);
            continue;
        }
        ip++;
        const uint32_t *k = burst_keys(bs, i);
        uint32_t ks = k[0], kd = k[1];
        if (l2)
            l2_keys(w->l2map, w->iface, w->l2_row, w->l2_key, w->l2_base, w->keys, p, &ks, &kd);
        count_cells(kc, f[i].ts_ns, l3 ? p->l3_len : wl, ks, kd);
    }
    w->jump_n = 0;
    if (mx > w->recent_ns)
        w->recent_ns = mx;
    s->stats.packets += n;
    s->stats.bytes += bytes;
    s->stats.ip += ip;
    if (!s->stats.first_ns || mn < s->stats.first_ns)
        s->stats.first_ns = mn;
    if (mx > s->stats.last_ns)
        s->stats.last_ns = mx;
}

/* Up to BURST frames: parse and look up all (burst_lookup), then count in
 * frame order exactly as gt_worker_packet does (bins advance per frame:
 * the same counts). */
static void burst_chunk(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n)
{
    struct burst_scratch *bs = &w->bs;
    burst_lookup(bs, w->cls, w->class_key, w->l2map, w->parse_flags, dlt, f, n);
    int64_t mn = bs->mn, mx = bs->mx;
    /* The whole burst in the open bin, and it and the clock's latest time
     * within the jump threshold of one another (so within it of every
     * later time the clock holds): no frame can be a jump, a bad time or
     * open a bin. */
    int64_t lo = mn < w->recent_ns ? mn : w->recent_ns, hi = mx > w->recent_ns ? mx : w->recent_ns;
    if (__builtin_expect(w->open && w->have_recent && w->cur->start == w->fast_start && mn > 0 &&
                         mn >= w->fast_lo && mx < w->fast_hi && sat_sub(hi, lo) <= w->jump_ns, 1)) {
        if (w->l2map)
            count_in_window(w, bs, f, n, mn, mx, 1);
        else
            count_in_window(w, bs, f, n, mn, mx, 0);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct gt_pkt *p = &bs->bp[i];
        int64_t ts = f[i].ts_ns;
        struct slot *s = count_frame(w, &ts, f[i].wirelen);
        if (!count_kind(s, p->kind))
            continue;
        const uint32_t *c = burst_keys(bs, i);
        count_ip(w, s, ts, f[i].wirelen, p, c[0], c[1]);
    }
}

void gt_worker_burst(struct gt_worker *w, int dlt, const struct gt_frame *f, unsigned n)
{
    worker_quiescent(w);    /* adopt a new lookup before reading w->cls/class_key */
    for (unsigned i = 0; i < n; i += BURST)
        burst_chunk(w, dlt, f + i, n - i < BURST ? n - i : BURST);
}

void gt_worker_count(struct gt_worker *w, const struct gt_frame *f, const struct gt_classified *c, unsigned n)
{
    worker_quiescent(w);
    for (unsigned i = 0; i < n; i++) {
        int64_t ts = f[i].ts_ns;
        struct slot *s = count_frame(w, &ts, f[i].wirelen);
        if (count_kind(s, c[i].kind))
            count_keys(s, ts, c[i].bytes, c[i].ks, c[i].kd);
    }
}

void gt_worker_tick(struct gt_worker *w, int64_t now_ns)
{
    worker_quiescent(w);
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
    /* Read everything first: once finished is published the engine may
     * be finished and freed by another thread. */
    gt_engine *e = w->e;
    int inline_collect = e->o.inline_collect;
    if (w->open) {
        w->open = 0;
        w->seq++;
        atomic_store_explicit(&w->published, w->seq, memory_order_release);
    }
    atomic_store_explicit(&w->finished, 1, memory_order_release);
    if (inline_collect)
        gt_engine_collect(e);
}
