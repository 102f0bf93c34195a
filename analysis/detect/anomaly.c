/* Drop-to-zero detection per key over closed bins; the model is documented
 * in include/geotap/anomaly.h. */
#include "geotap/anomaly.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NSLOT 24
#define N_EFF 12.0              /* packets the recent level averages over */
#define HIST_BINS 64            /* recent bins kept for the change-point bound */
#define UCB_Z 1.0               /* one-sided z of the recent-rate upper bound */
#define HIST_GAP UINT32_MAX     /* marks a bin the capture was not fully alive in */             /* ... when it falls (partial drops are followed faster) */
#define SLOT_MATURE_S 1800.0    /* history a time-of-day slot needs */
#define SLOT_MEMORY_S (3 * 3600.0)  /* slot EWMA memory, in slot time (~3 days) */
#define DAY_S 86400.0
#define RESET_L 5.0             /* silence after a candidate return that abandons it */
#define ATTR_MIN_EXP 20.0       /* expected packets needed to attribute */
#define GAP_REPORT_S 10.0       /* shorter silent gaps freeze learning but are not reported */
#define NS 1000000000LL

struct slot {
    float rate;                 /* packets/s */
    float hist_s;               /* seconds of history */
    float pkts;
};

struct kst {
    double fast;                /* recent level, packets/s */
    double r_sil;               /* level the current silence is judged on */
    double glob;                /* day-long level */
    double nbins, hist_s, pkts; /* history learned */
    struct slot slot[NSLOT];
    int64_t last_ns;            /* last packet of the key (0 = never seen) */
    /* Learning is held back while a silence may turn out to be an outage:
     * the last bin with packets (its tail is part of the silence) and the
     * zero bins after it are learned when traffic resumes, dropped when the
     * silence is declared an outage. */
    uint8_t pend;               /* a bin with packets is held back */
    double pend_c;
    int64_t pend_start;
    uint32_t deferred;          /* zero bins held back after it */
    int64_t deferred_start;     /* start (s) of the first of them */
    double lam;                 /* expected count over the current silence */
    int h0;                     /* hour slot at the silence start */
    uint8_t down, unmeas, warm;
    uint8_t was_down;           /* down during this bin: its counts are no history */
    uint8_t ignored;            /* no decisions, no events */
    int64_t hold_until;
    /* while down */
    int64_t down_last_seen;
    uint64_t cand_count;
    int64_t cand_first;
    double cand_lam;
    /* attribution: upstream's other traffic during the silence / the outage */
    uint32_t upstream;
    double up_obs, up_exp;
};

struct gt_anomaly {
    struct gt_anomaly_opts o;
    const struct gt_keys *keys;
    uint32_t nkeys;
    struct kst *k;
    uint32_t *hist;             /* [nkeys][HIST_BINS] recent counts, ring */
    uint32_t hpos;              /* ring slot of the current bin */
    /* upstreams */
    uint32_t nup;               /* size of the arrays below */
    double *up_rate;            /* learned packets/s per upstream */
    uint64_t *up_tot;           /* this bin's totals */
    int up_given;               /* totals passed for the next bin */
    int up_from_keys;           /* keys have the upstream dimension */
    int have_up;                /* any key has an upstream */
    /* capture */
    uint32_t width;
    double lthr;
    int64_t cap_last;           /* capture's last packet so far */
    int in_gap;
    int64_t gap_start;
    enum gt_gap_reason gap_reason;
    uint64_t gap_drops;
    int64_t last_end;
};

static double dflt(double v, double d) { return v > 0 ? v : d; }

gt_anomaly *gt_anomaly_new(const struct gt_anomaly_opts *opts, const struct gt_keys *keys)
{
    struct gt_anomaly_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.fa_per_day < 0 || o.max_delay_s < 0 || o.warmup_s < 0 || o.hold_s < 0 ||
        o.gap_ratio < 0 || o.drop_ratio < 0 || !keys)
        return NULL;
    o.fa_per_day = dflt(o.fa_per_day, 0.01);
    o.max_delay_s = dflt(o.max_delay_s, 7200);
    o.warmup_s = dflt(o.warmup_s, 1800);
    if (!o.warmup_pkts)
        o.warmup_pkts = 12;
    if (!o.restore_pkts)
        o.restore_pkts = 3;
    o.gap_ratio = dflt(o.gap_ratio, 0.05);
    o.drop_ratio = dflt(o.drop_ratio, 0.01);
    if (!o.budget_keys)
        o.budget_keys = keys->nkeys ? keys->nkeys : 1;

    gt_anomaly *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->o = o;
    a->keys = keys;
    a->nkeys = keys->nkeys;
    a->k = calloc(a->nkeys ? a->nkeys : 1, sizeof *a->k);
    a->hist = calloc((size_t)(a->nkeys ? a->nkeys : 1) * HIST_BINS, sizeof *a->hist);
    if (!a->k || !a->hist) {
        gt_anomaly_free(a);
        return NULL;
    }
    if ((keys->dims & GT_DIM_UPSTREAM) && keys->keys) {
        uint32_t mx = 0;
        for (uint32_t i = 0; i < a->nkeys; i++) {
            a->k[i].upstream = keys->keys[i].upstream;
            if (keys->keys[i].upstream > mx)
                mx = keys->keys[i].upstream;
        }
        if (mx) {
            a->up_from_keys = 1;
            a->have_up = 1;
            a->nup = mx + 1;
            a->up_rate = calloc(a->nup, sizeof *a->up_rate);
            a->up_tot = calloc(a->nup, sizeof *a->up_tot);
            if (!a->up_rate || !a->up_tot) {
                gt_anomaly_free(a);
                return NULL;
            }
        }
    }
    return a;
}

void gt_anomaly_free(gt_anomaly *a)
{
    if (!a)
        return;
    free(a->k);
    free(a->hist);
    free(a->up_rate);
    free(a->up_tot);
    free(a);
}

static int up_grow(gt_anomaly *a, uint32_t n)
{
    if (n <= a->nup)
        return 0;
    double *r = realloc(a->up_rate, n * sizeof *r);
    if (!r)
        return -1;
    a->up_rate = r;
    uint64_t *t = realloc(a->up_tot, n * sizeof *t);
    if (!t)
        return -1;
    a->up_tot = t;
    for (uint32_t i = a->nup; i < n; i++) {
        a->up_rate[i] = 0;
        a->up_tot[i] = 0;
    }
    a->nup = n;
    return 0;
}

void gt_anomaly_ignore_key(gt_anomaly *a, uint32_t key)
{
    if (key < a->nkeys)
        a->k[key].ignored = 1;
}

int gt_anomaly_set_upstream(gt_anomaly *a, uint32_t key, uint32_t upstream)
{
    if (key >= a->nkeys)
        return 0;
    if (up_grow(a, upstream + 1) < 0)
        return -1;
    a->k[key].upstream = upstream;
    if (upstream)
        a->have_up = 1;
    return 0;
}

void gt_anomaly_upstream_counts(gt_anomaly *a, const uint64_t *pkts, uint32_t n)
{
    if (up_grow(a, n) < 0)
        return;
    for (uint32_t u = 0; u < a->nup; u++)
        a->up_tot[u] = u < n ? pkts[u] : 0;
    a->up_given = 1;
}

double gt_anomaly_threshold(const gt_anomaly *a, uint32_t width)
{
    double per_day = width ? DAY_S / width : 1;
    double alpha = a->o.fa_per_day / ((double)a->o.budget_keys * per_day);
    return log(1.0 / alpha);
}

static int hour_of(int64_t ns)
{
    int64_t s = ns / NS;
    int64_t h = (s % 86400 + 86400) % 86400 / 3600;
    return (int)h;
}

static int slot_mature(const struct kst *k, int h)
{
    return k->slot[h].hist_s >= SLOT_MATURE_S && k->slot[h].pkts >= N_EFF && k->slot[h].rate > 0;
}

/* Expected rate at time t of a silence that began in hour slot k->h0. */
static double rate_at(const struct kst *k, int64_t t)
{
    int h = hour_of(t);
    if (h == k->h0 || !slot_mature(k, h) || !slot_mature(k, k->h0))
        return k->r_sil;
    double f = (double)k->slot[h].rate / k->slot[k->h0].rate;
    if (f < 0.5)
        f = 0.5;
    if (f > 2)
        f = 2;
    return k->r_sil * f;
}

/* Learn one bin of count c starting at s (seconds). */
static void learn(struct kst *k, double c, uint32_t w, int64_t s)
{
    double x = c / w;
    k->nbins += 1;
    double a;
    if (k->fast > 0) {
        double tau = N_EFF / k->fast;
        if (tau < w)
            tau = w;
        a = 1 - exp(-(double)w / tau);
    } else {
        a = 0;
    }
    if (a < 1 / k->nbins)
        a = 1 / k->nbins;
    k->fast += a * (x - k->fast);
    k->r_sil = k->fast;
    double ag = 1 / k->nbins;
    if (ag < w / DAY_S)
        ag = w / DAY_S;
    k->glob += ag * (x - k->glob);
    k->hist_s += w;
    k->pkts += c;
    struct slot *sl = &k->slot[hour_of(s * NS)];
    double n = sl->hist_s / w + 1;
    double as = 1 / n;
    if (as < w / SLOT_MEMORY_S)
        as = w / SLOT_MEMORY_S;
    sl->rate += (float)(as * (x - sl->rate));
    sl->hist_s += (float)w;
    sl->pkts += (float)c;
}

/* Learn what was held back: the silence was a natural lull. */
static void apply_deferred(struct kst *k, uint32_t w)
{
    if (k->pend)
        learn(k, k->pend_c, w, k->pend_start);
    k->pend = 0;
    for (uint32_t i = 0; i < k->deferred; i++)
        learn(k, 0, w, k->deferred_start + (int64_t)i * w);
    k->deferred = 0;
}

static enum gt_cause cause_of(double obs, double exp_, double *ratio)
{
    if (exp_ < ATTR_MIN_EXP) {
        *ratio = -1;
        return GT_CAUSE_UNKNOWN;
    }
    *ratio = obs / exp_;
    if (*ratio >= 0.5)
        return GT_CAUSE_INSIDE;
    if (*ratio <= 0.1)
        return GT_CAUSE_UPSTREAM;
    return GT_CAUSE_UNKNOWN;
}

static void emit(gt_anomaly *a, const struct gt_event *ev)
{
    if (a->o.on_event)
        a->o.on_event(a->o.ctx, ev);
}

static void emit_gap(gt_anomaly *a, int64_t end, int64_t detected)
{
    int64_t stop = end ? end : a->last_end;
    double dur = (double)(stop - a->gap_start) / NS;
    if (a->gap_reason == GT_GAP_SILENCE && dur < GAP_REPORT_S && end)
        return;
    struct gt_event ev = { 0 };
    ev.type = GT_EV_CAPTURE_GAP;
    ev.key = GT_NO_KEY;
    ev.last_seen_ns = a->gap_start;
    ev.first_seen_ns = end;
    ev.detected_ns = detected;
    ev.duration_s = dur;
    ev.gap_reason = a->gap_reason;
    ev.drops = a->gap_drops;
    ev.upstream_ratio = -1;
    emit(a, &ev);
}

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

void gt_anomaly_bin(void *ctx, const struct gt_bin *b)
{
    gt_anomaly *a = ctx;
    if (!b || b->width == 0 || (b->nkeys && !b->counts))
        return;
    uint32_t w = b->width;
    if (a->width != w) {
        a->width = w;
        a->lthr = gt_anomaly_threshold(a, w);
    }
    double hold = a->o.hold_s > 0 ? a->o.hold_s : 2.0 * w;
    int64_t s_ns = b->start * NS, e_ns = (b->start + (int64_t)w) * NS, mid = (s_ns + e_ns) / 2;
    uint32_t n = b->nkeys < a->nkeys ? b->nkeys : a->nkeys;
    a->last_end = e_ns;

    /* capture-wide figures */
    uint64_t total = 0;
    int64_t tlast = 0, tfirst = 0;
    double exp_rate = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct gt_counts *c = &b->counts[i];
        uint64_t cnt = c->pkts_from + c->pkts_to;
        if (cnt) {
            total += cnt;
            int64_t l = b->last_ns && b->last_ns[i] ? b->last_ns[i] : mid;
            int64_t f = b->first_ns && b->first_ns[i] ? b->first_ns[i] : mid;
            if (l > tlast)
                tlast = l;
            if (!tfirst || f < tfirst)
                tfirst = f;
        }
        struct kst *k = &a->k[i];
        if (k->last_ns && !k->down && k->hist_s > 0 && !k->ignored)
            exp_rate += rate_at(k, mid);
    }
    if (a->have_up && !a->up_given && a->up_from_keys) {
        memset(a->up_tot, 0, a->nup * sizeof *a->up_tot);
        for (uint32_t i = 0; i < n; i++)
            if (a->k[i].upstream < a->nup)
                a->up_tot[a->k[i].upstream] += b->counts[i].pkts_from + b->counts[i].pkts_to;
    }
    int have_up_tot = a->have_up && (a->up_given || a->up_from_keys);
    a->up_given = 0;

    /* capture gap: the part of the bin where the capture was alive */
    int64_t live_from = s_ns, live_to = e_ns;
    uint64_t seen = b->stats.packets + b->stats.drops;
    int bad_drops = b->stats.drops > 0 && (double)b->stats.drops >= a->o.drop_ratio * (double)seen;
    int degraded = total > 0 && exp_rate * w >= 100 && (double)total < a->o.gap_ratio * exp_rate * w;
    if (a->in_gap) {
        if (bad_drops || degraded || total == 0) {
            live_from = live_to;
            a->gap_drops += b->stats.drops;
        } else {
            live_from = tfirst;
            a->in_gap = 0;
            emit_gap(a, tfirst, e_ns);
        }
    } else if (bad_drops || degraded) {
        a->in_gap = 1;
        a->gap_start = s_ns;
        a->gap_reason = bad_drops ? GT_GAP_DROPS : GT_GAP_DEGRADED;
        a->gap_drops = b->stats.drops;
        live_from = live_to;
    } else {
        int64_t from = total ? tlast : a->cap_last;
        if (from && exp_rate * (double)(e_ns - from) / NS >= a->lthr) {
            a->in_gap = 1;
            a->gap_start = from;
            a->gap_reason = GT_GAP_SILENCE;
            a->gap_drops = 0;
            live_to = from > s_ns ? from : s_ns;
        }
    }
    if (total)
        a->cap_last = tlast;
    int full_live = live_from == s_ns && live_to == e_ns;

    for (uint32_t i = 0; i < n; i++) {
        struct kst *k = &a->k[i];
        const struct gt_counts *c = &b->counts[i];
        uint64_t cnt = c->pkts_from + c->pkts_to;
        if ((!cnt && !k->last_ns) || k->ignored)
            continue;                   /* never seen, or not watched */
        int64_t ln = 0, fn = 0;
        if (cnt) {
            ln = b->last_ns && b->last_ns[i] ? b->last_ns[i] : mid;
            fn = b->first_ns && b->first_ns[i] ? b->first_ns[i] : mid;
        }
        /* the key's silence inside this bin, where the capture was alive */
        double eff = (double)overlap(cnt ? ln : s_ns, e_ns, live_from, live_to) / NS;
        double live_s = (double)overlap(s_ns, e_ns, live_from, live_to) / NS;
        double others = 0, others_exp = 0;
        int attr = have_up_tot && k->upstream && k->upstream < a->nup;
        if (attr) {
            uint64_t ut = a->up_tot[k->upstream];
            others = ut > cnt ? (double)(ut - cnt) : 0;
            others_exp = a->up_rate[k->upstream] - k->fast;
            if (others_exp < 0)
                others_exp = 0;
        }

        if (k->down) {
            k->was_down = 1;
            double r = rate_at(k, mid);
            if (attr && live_s > 0) {
                k->up_obs += others * live_s / w;
                k->up_exp += others_exp * live_s;
            }
            if (cnt) {
                if (!k->cand_count)
                    k->cand_first = fn;
                k->cand_count += cnt;
                k->cand_lam = r * eff;
                if (k->cand_count >= a->o.restore_pkts) {
                    struct gt_event ev = { 0 };
                    ev.type = GT_EV_RESTORED;
                    ev.key = i;
                    ev.last_seen_ns = k->down_last_seen;
                    ev.first_seen_ns = k->cand_first;
                    ev.detected_ns = e_ns;
                    ev.duration_s = (double)(k->cand_first - k->down_last_seen) / NS;
                    ev.expected_rate = r;
                    ev.upstream = attr ? k->upstream : 0;
                    ev.cause = attr ? cause_of(k->up_obs, k->up_exp, &ev.upstream_ratio) : GT_CAUSE_UNKNOWN;
                    if (!attr)
                        ev.upstream_ratio = -1;
                    emit(a, &ev);
                    k->down = 0;
                    k->hold_until = e_ns + (int64_t)(hold * NS);
                    k->last_ns = ln;
                    k->h0 = hour_of(ln);
                    k->lam = r * eff;
                    k->deferred = 0;
                    k->pend = 0;
                    k->up_obs = k->up_exp = 0;
                }
            } else if (k->cand_count) {
                k->cand_lam += r * eff;
                if (k->cand_lam >= RESET_L)
                    k->cand_count = 0;      /* a stray packet, not a return */
            }
            continue;
        }

        if (cnt) {
            if (k->lam >= a->lthr / 2) {
                /* A silence this improbable that ends (often one stray
                 * packet inside an outage not yet declared) teaches nothing:
                 * the level stays where it was before it, and the recent-rate
                 * bound below does not see it either. */
                uint32_t *hk = a->hist + (size_t)i * HIST_BINS;
                for (uint32_t j = 1; j <= k->deferred + 1 && j < HIST_BINS; j++)
                    hk[(a->hpos + HIST_BINS - j) % HIST_BINS] = HIST_GAP;
                k->pend = 0;
                k->deferred = 0;
            }
            apply_deferred(k, w);
            k->h0 = hour_of(ln);
            /* The trailing silence is judged on the learned level, unless
             * the recent packets show a lower rate: for every change point
             * tau at a bin start in the last HIST_BINS bins, the rate of the
             * packets from tau to the last one has an upper bound; the
             * smallest counts. A key that fell to a partial rate is judged
             * on the partial rate; one that ran at full rate until its last
             * packet keeps its level. */
            int64_t from = s_ns > live_from ? s_ns : live_from;
            double r = k->fast;
            const uint32_t *hk = a->hist + (size_t)i * HIST_BINS;
            double nsum = 0;
            for (uint32_t j = 0; j < HIST_BINS; j++) {
                uint32_t c = j == 0 ? (uint32_t)(cnt < HIST_GAP ? cnt : HIST_GAP - 1)
                                    : hk[(a->hpos + HIST_BINS - j) % HIST_BINS];
                if (c == HIST_GAP || (j > 0 && (double)j * w > k->hist_s))
                    break;
                nsum += c;
                double dt = (double)(ln - (j == 0 ? from : s_ns - (int64_t)j * w * NS)) / NS;
                if (dt <= 0)
                    continue;
                double ucb = (nsum + UCB_Z * UCB_Z / 2 + UCB_Z * sqrt(nsum + UCB_Z * UCB_Z / 4)) / dt;
                if (ucb < r)
                    r = ucb;
            }
            k->r_sil = r;
            k->lam = r * eff;
            k->up_obs = k->up_exp = 0;
            if (full_live) {
                if (k->lam < 1) {
                    learn(k, (double)cnt, w, b->start);   /* no silence worth holding back */
                    k->r_sil = r;
                } else {
                    k->pend = 1;
                    k->pend_c = (double)cnt;
                    k->pend_start = b->start;
                }
            }
            k->last_ns = ln;
        } else {
            k->lam += rate_at(k, mid) * eff;
            if (full_live) {
                if (!k->deferred)
                    k->deferred_start = b->start;
                k->deferred++;
            }
        }
        if (attr && eff > 0) {
            k->up_obs += others * eff / w;
            k->up_exp += others_exp * eff;
        }

        /* after warmup_s a key too quiet to decide is reported even when
         * it has not reached warmup_pkts; decisions need both */
        if (k->hist_s < a->o.warmup_s)
            continue;
        k->warm = k->pkts >= a->o.warmup_pkts;
        int meas = k->fast > 0 && a->lthr / k->fast <= a->o.max_delay_s;
        if (!meas) {
            if (!k->unmeas) {
                k->unmeas = 1;
                struct gt_event ev = { 0 };
                ev.type = GT_EV_NOT_MEASURABLE;
                ev.key = i;
                ev.last_seen_ns = k->last_ns;
                ev.detected_ns = e_ns;
                ev.expected_rate = k->fast;
                ev.threshold = a->lthr;
                ev.upstream_ratio = -1;
                emit(a, &ev);
            }
            continue;
        }
        k->unmeas = 0;
        if (!k->warm || e_ns < k->hold_until || k->lam < a->lthr)
            continue;

        struct gt_event ev = { 0 };
        ev.type = GT_EV_DROP_TO_ZERO;
        ev.key = i;
        ev.last_seen_ns = k->last_ns;
        ev.detected_ns = e_ns;
        ev.expected_rate = rate_at(k, e_ns);
        ev.expected_count = k->lam;
        ev.threshold = a->lthr;
        ev.silence_s = (double)(e_ns - k->last_ns) / NS;
        ev.upstream = attr ? k->upstream : 0;
        ev.upstream_ratio = -1;
        if (attr) {
            double o = k->up_obs, x = k->up_exp;
            if (x < ATTR_MIN_EXP && live_s > 0) {
                /* too short a silence to judge: take the whole deciding bin */
                o = others * live_s / w;
                x = others_exp * live_s;
            }
            ev.cause = cause_of(o, x, &ev.upstream_ratio);
        }
        emit(a, &ev);
        k->down = 1;
        k->down_last_seen = k->last_ns;
        k->deferred = 0;            /* the outage teaches nothing */
        k->pend = 0;
        k->cand_count = 0;
    }

    for (uint32_t i = 0; i < n; i++) {
        uint64_t cnt = b->counts[i].pkts_from + b->counts[i].pkts_to;
        int skip = !full_live || a->k[i].was_down;
        a->k[i].was_down = 0;
        a->hist[(size_t)i * HIST_BINS + a->hpos] =
            skip ? HIST_GAP : cnt < HIST_GAP ? (uint32_t)cnt : HIST_GAP - 1;
    }
    a->hpos = (a->hpos + 1) % HIST_BINS;

    /* upstream levels: learned on fully live bins where they carried traffic */
    if (have_up_tot && full_live) {
        for (uint32_t u = 1; u < a->nup; u++) {
            if (!a->up_tot[u])
                continue;
            double x = (double)a->up_tot[u] / w;
            a->up_rate[u] = a->up_rate[u] > 0 ? a->up_rate[u] + 0.2 * (x - a->up_rate[u]) : x;
        }
    }
}

void gt_anomaly_finish(gt_anomaly *a)
{
    /* A gap that began in the last bin is the input ending inside that bin
     * (its tail was never observed), not the capture failing: no event. */
    if (a->in_gap && a->gap_start < a->last_end - (int64_t)a->width * NS) {
        emit_gap(a, 0, a->last_end);
        a->in_gap = 0;
    }
}

uint32_t gt_anomaly_not_measurable(const gt_anomaly *a, uint32_t *ids, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->nkeys; i++) {
        if (!a->k[i].unmeas)
            continue;
        if (n < max)
            ids[n] = i;
        n++;
    }
    return n;
}

int gt_anomaly_key_down(const gt_anomaly *a, uint32_t key)
{
    return key < a->nkeys && a->k[key].down;
}

double gt_anomaly_expected_rate(const gt_anomaly *a, uint32_t key)
{
    return key < a->nkeys ? a->k[key].fast : 0;
}
