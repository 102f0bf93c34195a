/* One closed bin through the anomaly module, step by step: capture-wide
 * figures, the capture-gap state, then per key (restoration while down; the
 * silence and what is learned while up; the decision), then the history
 * ring and the upstream levels. The model is in include/geotap/anomaly.h. */
#include "anomaly_int.h"

#include <math.h>
#include <string.h>

/* What one bin looks like to every key. */
struct binctx {
    uint32_t w, n;
    int64_t s_ns, e_ns, mid;
    int64_t prev_end;           /* end of the previous bin (0 = none) */
    double hold;                /* no drop this long after a restoration (s) */
    uint64_t total;             /* packets of all keys */
    int64_t tfirst, tlast;      /* capture's first and last packet in the bin */
    double exp_rate;            /* packets/s expected over the keys up */
    double exp_flow;            /* flow starts/s expected over the keys up */
    double workers;             /* workers merged in the bin (idle time is per worker) */
    int have_up_tot;            /* per-upstream totals known for this bin */
    int64_t live_from, live_to; /* where the capture was alive in the bin */
    int full_live;
    const uint32_t *ids;        /* keys to visit (NULL = 0..n-1): an empty bin visits a->act */
    uint32_t nids;
};

/* The j-th key to visit, or UINT32_MAX past this bin's keys. */
static uint32_t key_at(const struct binctx *x, uint32_t j)
{
    uint32_t i = x->ids ? x->ids[j] : j;
    return i < x->n ? i : UINT32_MAX;
}

/* One key in one bin. */
struct keyctx {
    uint32_t id;
    uint64_t cnt;
    int64_t ln, fn;             /* its last and first packet in the bin */
    double eff;                 /* its silence in the bin while the capture was alive (s) */
    double live_s;              /* the capture's live time in the bin (s) */
    double n, e;                /* flow starts and idle s past the flow gap ... */
    double bn, be;              /* ... of which the silence that ended at the bin's first packet */
    int attr;                   /* attribution possible */
    double others, others_exp;  /* upstream's packets for other keys: seen, expected per s */
};

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

static uint64_t key_count(const struct gt_bin *b, uint32_t i)
{
    return b->counts[i].pkts_from + b->counts[i].pkts_to;
}

static void capture_totals(gt_anomaly *a, const struct gt_bin *b, struct binctx *x)
{
    for (uint32_t j = 0; j < x->nids; j++) {
        uint32_t i = key_at(x, j);
        if (i == UINT32_MAX)
            continue;
        uint64_t cnt = key_count(b, i);
        if (cnt) {
            x->total += cnt;
            int64_t l = b->last_ns && b->last_ns[i] ? b->last_ns[i] : x->mid;
            int64_t f = b->first_ns && b->first_ns[i] ? b->first_ns[i] : x->mid;
            if (l > x->tlast)
                x->tlast = l;
            if (!x->tfirst || f < x->tfirst)
                x->tfirst = f;
        }
        struct kst *k = &a->k[i];
        if (k->last_ns && !k->down && k->hist_s > 0 && !k->ignored && !k->held) {
            x->exp_rate += k->fast;
            x->exp_flow += gt_anom_rate_at(k, x->mid);
        }
    }
}

static void upstream_totals(gt_anomaly *a, const struct gt_bin *b, struct binctx *x)
{
    if (a->have_up && !a->up_given && a->up_from_keys && !(b->empty && a->up_zero)) {
        memset(a->up_tot, 0, a->nup * sizeof *a->up_tot);
        a->up_zero = 1;
        for (uint32_t i = 0; i < x->n && !b->empty; i++)
            if (a->k[i].upstream < a->nup && key_count(b, i)) {
                a->up_tot[a->k[i].upstream] += key_count(b, i);
                a->up_zero = 0;
            }
    }
    x->have_up_tot = a->have_up && (a->up_given || a->up_from_keys);
    a->up_given = 0;
}

/* Capture gap: enter, stay or leave; sets the part of the bin where the
 * capture was alive. */
static void capture_gap_step(gt_anomaly *a, const struct gt_bin *b, struct binctx *x)
{
    x->live_from = x->s_ns;
    x->live_to = x->e_ns;
    if (x->prev_end && x->s_ns > x->prev_end && !a->in_gap) {
        /* bins missing (a restart with --state, or a clock jump): nobody
         * was watching, so a gap from the end of the last bin */
        a->in_gap = 1;
        a->gap_start = x->prev_end;
        a->gap_reason = GT_GAP_SILENCE;
        a->gap_drops = 0;
    }
    uint64_t seen = b->stats.packets + b->stats.drops;
    int bad_drops = b->stats.drops > 0 && (double)b->stats.drops >= a->o.drop_ratio * (double)seen;
    int degraded = x->total > 0 && x->exp_rate * x->w >= 100 &&
                   (double)x->total < a->o.gap_ratio * x->exp_rate * x->w;
    if (a->in_gap) {
        if (bad_drops || degraded || x->total == 0) {
            x->live_from = x->live_to;
            a->gap_drops += b->stats.drops;
        } else {
            x->live_from = x->tfirst;
            a->in_gap = 0;
            a->gap_end = x->tfirst;
            gt_anom_emit_gap(a, x->tfirst, x->e_ns);
        }
    } else if (bad_drops || degraded) {
        a->in_gap = 1;
        a->gap_start = x->s_ns;
        a->gap_reason = bad_drops ? GT_GAP_DROPS : GT_GAP_DEGRADED;
        a->gap_drops = b->stats.drops;
        x->live_from = x->live_to;
    } else {
        int64_t from = x->total ? x->tlast : a->cap_last;
        if (from && x->exp_flow * (double)(x->e_ns - from) / NS >= a->lthr) {
            a->in_gap = 1;
            a->gap_start = from;
            a->gap_reason = GT_GAP_SILENCE;
            a->gap_drops = 0;
            x->live_to = from > x->s_ns ? from : x->s_ns;
        }
    }
    if (x->total)
        a->cap_last = x->tlast;
    x->full_live = x->live_from == x->s_ns && x->live_to == x->e_ns;
}

static void key_context(const gt_anomaly *a, const struct gt_bin *b, const struct binctx *x,
                        uint32_t i, struct keyctx *kc)
{
    const struct kst *k = &a->k[i];
    memset(kc, 0, sizeof *kc);
    kc->id = i;
    kc->cnt = key_count(b, i);
    if (kc->cnt) {
        kc->ln = b->last_ns && b->last_ns[i] ? b->last_ns[i] : x->mid;
        kc->fn = b->first_ns && b->first_ns[i] ? b->first_ns[i] : x->mid;
    }
    if (kc->cnt) {
        const struct gt_counts *c = &b->counts[i];
        kc->n = c->starts;
        kc->e = c->idle_ms / 1000.0 / x->workers;
        /* the silence since the key's previous bin, unless a capture gap or
         * an outage lies inside it */
        int64_t g = kc->fn - k->last_ns - GT_FLOW_GAP_NS;
        if (k->last_ns && g > 0 && !k->down && k->last_ns >= a->gap_end && !k->held_gap) {
            kc->bn = 1;
            kc->be = (double)g / NS;
            kc->n += kc->bn;
            kc->e += kc->be;
        }
    }
    kc->eff = (double)overlap(kc->cnt ? kc->ln : x->s_ns, x->e_ns, x->live_from, x->live_to) / NS;
    kc->live_s = (double)overlap(x->s_ns, x->e_ns, x->live_from, x->live_to) / NS;
    kc->attr = x->have_up_tot && k->upstream && k->upstream < a->nup;
    if (kc->attr) {
        uint64_t ut = a->up_tot[k->upstream];
        kc->others = ut > kc->cnt ? (double)(ut - kc->cnt) : 0;
        kc->others_exp = a->up_rate[k->upstream] - k->fast;
        if (kc->others_exp < 0)
            kc->others_exp = 0;
    }
}

/* A key declared down: collect its return; restored after restore_pkts
 * packets, unless they are followed by a silence that abandons them. */
static void key_down_step(gt_anomaly *a, const struct binctx *x, struct kst *k, const struct keyctx *kc)
{
    k->was_down = 1;
    double r = gt_anom_rate_at(k, x->mid);
    if (kc->attr && kc->live_s > 0) {
        k->up_obs += kc->others * kc->live_s / x->w;
        k->up_exp += kc->others_exp * kc->live_s;
    }
    if (!kc->cnt) {
        if (k->cand_count) {
            k->cand_lam += r * kc->eff;
            if (k->cand_lam >= RESET_L)
                k->cand_count = 0;      /* a stray packet, not a return */
        }
        return;
    }
    if (!k->cand_count)
        k->cand_first = kc->fn;
    k->cand_count += kc->cnt;
    k->cand_lam = r * kc->eff;
    if (k->cand_count < a->o.restore_pkts)
        return;
    struct gt_event ev = gt_anom_event(GT_EV_RESTORED, kc->id, k->down_last_seen, x->e_ns);
    ev.first_seen_ns = k->cand_first;
    ev.duration_s = (double)(k->cand_first - k->down_last_seen) / NS;
    ev.expected_rate = r;
    if (kc->attr) {
        ev.upstream = k->upstream;
        ev.cause = gt_anom_cause_of(k->up_obs, k->up_exp, &ev.upstream_ratio);
    }
    gt_anom_emit(a, &ev);
    k->down = 0;
    k->carry = 0;
    k->hold_until = x->e_ns + (int64_t)(x->hold * NS);
    k->last_ns = kc->ln;
    k->h0 = gt_anom_hour_of(kc->ln);
    k->lam = r * kc->eff;
    k->deferred = 0;
    k->pend = 0;
    k->up_obs = k->up_exp = 0;
}

static double ucb(double n)
{
    return n + UCB_Z * UCB_Z / 2 + UCB_Z * sqrt(n + UCB_Z * UCB_Z / 4);
}

/* The change-point bound: for every change point tau at a bin start in the
 * last HIST_BINS bins, the rate of the packets from tau to the last one has
 * an upper bound; the smallest counts, if below the learned level. */
static double recent_bound(const gt_anomaly *a, const struct binctx *x, const struct kst *k,
                           const struct keyctx *kc)
{
    int64_t from = x->s_ns > x->live_from ? x->s_ns : x->live_from;
    double r = k->mu;
    const struct hbin *hk = a->hist + (size_t)kc->id * HIST_BINS;
    double nsum = 0, ssum = 0, isum = 0;
    for (uint32_t j = 0; j < HIST_BINS; j++) {
        struct hbin h = { (uint32_t)(kc->cnt < HIST_GAP ? kc->cnt : HIST_GAP - 1), (uint32_t)kc->n, (float)kc->e };
        if (j > 0)
            h = hk[(a->hpos + HIST_BINS - j) % HIST_BINS];
        if (h.pk == HIST_GAP || (j > 0 && (double)j * x->w > k->hist_s))
            break;
        nsum += h.pk;
        ssum += h.st;
        isum += h.idle;
        /* packets over the time to the last one bound the flow starts too */
        double dt = (double)(kc->ln - (j == 0 ? from : x->s_ns - (int64_t)j * x->w * NS)) / NS;
        if (dt > 0 && ucb(nsum) / dt < r)
            r = ucb(nsum) / dt;
        if (isum > 0 && ucb(ssum) / isum < r)
            r = ucb(ssum) / isum;
    }
    return r;
}

/* A key up with packets in the bin: its silence restarts at the last one,
 * judged on the learned level or the lower recent rate; learning of the
 * bin is held back while the silence after it may be an outage. */
static void key_packets(gt_anomaly *a, const struct gt_bin *b, const struct binctx *x,
                        struct kst *k, struct keyctx *kc)
{
    int suspect = k->lam >= a->lthr / 2;
    double r_before = k->r_sil, lam_before = k->lam;
    if (suspect) {
        /* A silence this improbable that ends (one stray packet inside an
         * outage not yet declared, or the onset of a partial drop) teaches
         * the long-term level nothing. The recent-rate bound sees it, so
         * the next silence is judged on the lower rate it shows (a partial
         * drop is not mistaken for an outage); and so that a stray packet
         * does not delay the outage much, the two silences together at the
         * rate from before also decide, past a margin (key_decide). */
        k->pend = 0;
        k->deferred = 0;
    }
    gt_anom_apply_deferred(k, x->w);
    k->h0 = gt_anom_hour_of(kc->ln);
    double r = recent_bound(a, x, k, kc);
    if (suspect && r < SUSPECT_FLOOR * r_before)
        r = SUSPECT_FLOOR * r_before;
    k->r_sil = r;
    k->lam = r * kc->eff;
    /* (a silence past Lthr that was not declared, while warming up or
     * holding after a restoration, carries nothing) */
    /* (nor one ended by more than a stray's packets: a flow that began
     * after it is the traffic going on, at a lower rate perhaps, but on) */
    k->carry = suspect && lam_before < a->ldec && kc->cnt <= STRAY_MAX ? lam_before : 0;
    k->r_full = r_before;
    k->lam_full = r_before * kc->eff;
    if (suspect) {
        kc->n -= kc->bn;
        kc->e -= kc->be;
    }
    k->up_obs = k->up_exp = 0;
    if (x->full_live) {
        if (k->lam < 1) {
            gt_anom_learn(k, (double)kc->cnt, kc->n, kc->e, x->w, b->start);   /* no silence worth holding back */
            k->r_sil = r;
        } else {
            k->pend = 1;
            k->pend_c = (double)kc->cnt;
            k->pend_n = kc->n;
            k->pend_e = kc->e;
            k->pend_start = b->start;
        }
    }
    k->hist_bn = kc->bn > 0;
    k->hist_be = kc->be;
    k->last_ns = kc->ln;
    k->held_gap = k->held;
}

/* A key up and silent for the whole bin. */
static void key_silent(const struct gt_bin *b, const struct binctx *x, struct kst *k, const struct keyctx *kc)
{
    double r = gt_anom_rate_at(k, x->mid);
    k->lam += r * kc->eff;
    if (k->carry > 0 && k->r_sil > 0)
        k->lam_full += r * k->r_full / k->r_sil * kc->eff;
    if (x->full_live) {
        if (!k->deferred)
            k->deferred_start = b->start;
        k->deferred++;
    }
}

/* Measurability, then the drop decision. */
static void key_decide(gt_anomaly *a, const struct binctx *x, struct kst *k, const struct keyctx *kc)
{
    /* after warmup_s a key too quiet to decide is reported even when it has
     * not reached warmup_pkts; decisions need both */
    if (k->hist_s < a->o.warmup_s)
        return;
    k->warm = k->pkts >= a->o.warmup_pkts;
    /* the time a drop would take to declare: the silence it needs (Ldec)
     * at the rate of independent arrivals (flow starts) */
    double ld = a->ldec;
    int meas = k->mu > 0 && ld / k->mu <= a->o.max_delay_s;
    if (!meas) {
        if (!k->unmeas) {
            k->unmeas = 1;
            struct gt_event ev = gt_anom_event(GT_EV_NOT_MEASURABLE, kc->id, k->last_ns, x->e_ns);
            ev.expected_rate = k->mu;
            ev.threshold = ld;
            gt_anom_emit(a, &ev);
        }
        return;
    }
    k->unmeas = 0;
    int carried = k->carry > 0 && k->carry + k->lam_full >= a->lcarry;
    if (!k->warm || x->e_ns < k->hold_until || (k->lam < ld && !carried))
        return;
    /* Too few flow starts seen to know the rate (the packet rate stands in,
     * too high for clustered traffic): only a whole empty bin decides. */
    if (k->tn < N_TAIL_MIN && !gt_anom_poisson_like(k) && x->e_ns - k->last_ns < (int64_t)x->w * NS)
        return;

    struct gt_event ev = gt_anom_event(GT_EV_DROP_TO_ZERO, kc->id, k->last_ns, x->e_ns);
    ev.expected_rate = gt_anom_rate_at(k, x->e_ns);
    ev.expected_count = k->lam;
    ev.threshold = ld;
    ev.silence_s = (double)(x->e_ns - k->last_ns) / NS;
    if (kc->attr) {
        double o = k->up_obs, e = k->up_exp;
        if (e < ATTR_MIN_EXP && kc->live_s > 0) {
            /* too short a silence to judge: take the whole deciding bin */
            o = kc->others * kc->live_s / x->w;
            e = kc->others_exp * kc->live_s;
        }
        ev.upstream = k->upstream;
        ev.cause = gt_anom_cause_of(o, e, &ev.upstream_ratio);
    }
    gt_anom_emit(a, &ev);
    k->down = 1;
    k->carry = 0;
    k->down_last_seen = k->last_ns;
    k->deferred = 0;            /* the outage teaches nothing */
    k->pend = 0;
    k->cand_count = 0;
}

/* A key held for this bin (gt_anomaly_hold_key) sees the bin as a capture
 * gap: no live time, so no silence, no learning and no decision. */
static const struct binctx *held_view(const struct kst *k, const struct binctx *x, struct binctx *hx)
{
    if (!k->held)
        return x;
    *hx = *x;
    hx->live_from = hx->live_to = x->e_ns;
    hx->full_live = 0;
    return hx;
}

static void key_step(gt_anomaly *a, const struct gt_bin *b, const struct binctx *x0, uint32_t i)
{
    struct kst *k = &a->k[i];
    struct keyctx kc;
    struct binctx hx;
    if ((!key_count(b, i) && !k->last_ns) || k->ignored)
        return;                         /* never seen, or not watched */
    const struct binctx *x = held_view(k, x0, &hx);
    if (k->held)
        k->held_gap = 1;
    key_context(a, b, x, i, &kc);
    if (k->down) {
        key_down_step(a, x, k, &kc);
        return;
    }
    if (kc.cnt)
        key_packets(a, b, x, k, &kc);
    else
        key_silent(b, x, k, &kc);
    if (kc.attr && kc.eff > 0) {
        k->up_obs += kc.others * kc.eff / x->w;
        k->up_exp += kc.others_exp * kc.eff;
    }
    if (!k->held)
        key_decide(a, x, k, &kc);
}

/* The ring of recent counts for the change-point bound; bins the capture
 * or the key was not fully up in are marked, not counted. */
static void history_step(gt_anomaly *a, const struct gt_bin *b, const struct binctx *x)
{
    for (uint32_t j = 0; j < x->nids; j++) {
        uint32_t i = key_at(x, j);
        if (i == UINT32_MAX)
            continue;
        uint64_t cnt = key_count(b, i);
        int skip = !x->full_live || a->k[i].was_down || a->k[i].held;
        a->k[i].was_down = 0;
        a->k[i].held = 0;
        struct hbin *h = &a->hist[(size_t)i * HIST_BINS + a->hpos];
        const struct gt_counts *c = &b->counts[i];
        h->pk = skip ? HIST_GAP : cnt < HIST_GAP ? (uint32_t)cnt : HIST_GAP - 1;
        h->st = c->starts + (a->k[i].hist_bn ? 1 : 0);
        h->idle = (float)(c->idle_ms / 1000.0 / x->workers + a->k[i].hist_be);
        a->k[i].hist_bn = 0;
        a->k[i].hist_be = 0;
    }
    a->hpos = (a->hpos + 1) % HIST_BINS;
}

/* Upstream levels: learned on fully live bins where they carried traffic. */
static void upstream_learn(gt_anomaly *a, const struct binctx *x)
{
    if (!x->have_up_tot || !x->full_live || a->up_zero)
        return;
    for (uint32_t u = 1; u < a->nup; u++) {
        if (!a->up_tot[u])
            continue;
        double v = (double)a->up_tot[u] / x->w;
        a->up_rate[u] = a->up_rate[u] > 0 ? a->up_rate[u] + 0.2 * (v - a->up_rate[u]) : v;
    }
}

/* A bin without packets changes only the keys seen before and not
 * ignored, and clears the holds: every step visits just those (and the
 * held ones), in key order, so that a stretch of empty bins costs the key
 * table once and then its seen keys per bin. The
 * ring slots of the others stay as they were: a key's ring is read only
 * back to its first learned bin (recent_bound stops at hist_s). */
static void empty_bin_keys(gt_anomaly *a, struct binctx *x)
{
    if (!a->act_ok) {
        a->nact = 0;
        for (uint32_t i = 0; i < a->nkeys; i++) {
            const struct kst *k = &a->k[i];
            if ((!k->ignored && (k->last_ns || k->hist_s > 0)) || k->held)
                a->act[a->nact++] = i;
        }
        a->act_ok = 1;
    }
    x->ids = a->act;
    x->nids = a->nact;
}

void gt_anomaly_bin(void *ctx, const struct gt_bin *b)
{
    gt_anomaly *a = ctx;
    if (!b || b->width == 0 || (b->nkeys && !b->counts))
        return;
    if (b->start > GT_ANOM_MAX_S || b->start < -GT_ANOM_MAX_S) {
        a->out_of_range++;      /* times in ns would wrap: never judged */
        return;
    }
    /* origin_ns +- GT_ANOM_SPAN_S: compared in double, the difference itself could wrap */
    if (!a->have_origin || fabs((double)b->start * NS - (double)a->origin_ns) > (double)GT_ANOM_SPAN_S * NS) {
        if (a->have_origin)
            gt_anom_forget(a);
        a->have_origin = 1;
        a->origin_ns = b->start * NS;
    }
    struct binctx x = { 0 };
    x.w = b->width;
    if (a->width != x.w)
        gt_anom_set_width(a, x.w);
    x.hold = a->o.hold_s > 0 ? a->o.hold_s : 2.0 * x.w;
    x.s_ns = b->start * NS;
    x.e_ns = (b->start + (int64_t)x.w) * NS;
    x.mid = x.s_ns + (x.e_ns - x.s_ns) / 2;
    x.n = b->nkeys < a->nkeys ? b->nkeys : a->nkeys;
    x.workers = b->stats.workers ? b->stats.workers : 1;
    x.prev_end = a->last_end;
    a->last_end = x.e_ns;

    x.nids = x.n;
    if (b->empty)
        empty_bin_keys(a, &x);
    else
        a->act_ok = 0;          /* keys may start being seen */

    capture_totals(a, b, &x);
    upstream_totals(a, b, &x);
    capture_gap_step(a, b, &x);
    for (uint32_t j = 0; j < x.nids; j++) {
        uint32_t i = key_at(&x, j);
        if (i != UINT32_MAX)
            key_step(a, b, &x, i);
    }
    history_step(a, b, &x);
    upstream_learn(a, &x);
}
