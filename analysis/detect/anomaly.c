/* The anomaly module's lifecycle, inputs other than bins, queries and
 * events; the model is documented in include/geotap/anomaly.h, the per-bin
 * steps are in anomaly_bin.c. */
#include "anomaly_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double dflt(double v, double d) { return v > 0 ? v : d; }

gt_anomaly *gt_anomaly_new(const struct gt_anomaly_opts *opts, const struct gt_keys *keys)
{
    struct gt_anomaly_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.fa_per_day < 0 || o.max_delay_s < 0 || o.warmup_s < 0 || o.hold_s < 0 || o.hold_s > 365 * 86400.0 ||
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
    a->act = calloc(a->nkeys ? a->nkeys : 1, sizeof *a->act);
    a->up_zero = 1;
    if (!a->k || !a->hist || !a->act) {
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
    free(a->act);
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

int gt_anomaly_keys_grew(gt_anomaly *a)
{
    uint32_t n = a->keys->nkeys, old = a->nkeys;
    if (n <= old)
        return 0;
    struct kst *k = realloc(a->k, (size_t)n * sizeof *k);
    if (!k)
        return -1;
    a->k = k;
    struct hbin *h = realloc(a->hist, (size_t)n * HIST_BINS * sizeof *h);
    if (!h)
        return -1;
    a->hist = h;
    uint32_t *act = realloc(a->act, (size_t)n * sizeof *act);
    if (!act)
        return -1;
    a->act = act;
    a->act_ok = 0;
    memset(a->k + old, 0, (size_t)(n - old) * sizeof *a->k);
    memset(a->hist + (size_t)old * HIST_BINS, 0, (size_t)(n - old) * HIST_BINS * sizeof *a->hist);
    for (uint32_t i = old; i < n; i++) {
        uint32_t u = a->up_from_keys ? a->keys->keys[i].upstream : 0;
        if (u && up_grow(a, u + 1) < 0)
            return -1;
        a->k[i].upstream = u;
    }
    a->nkeys = n;
    return 0;
}

void gt_anomaly_ignore_key(gt_anomaly *a, uint32_t key)
{
    if (key < a->nkeys)
        a->k[key].ignored = 1;
    a->act_ok = 0;
}

void gt_anomaly_hold_key(gt_anomaly *a, uint32_t key)
{
    if (key < a->nkeys)
        a->k[key].held = 1;
    a->act_ok = 0;              /* an empty bin must visit it too (history_step clears it) */
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
    int zero = 1;
    for (uint32_t u = 0; u < a->nup; u++) {
        a->up_tot[u] = u < n ? pkts[u] : 0;
        zero &= !a->up_tot[u];
    }
    a->up_zero = zero;
    a->up_given = 1;
}

double gt_anomaly_threshold(const gt_anomaly *a, uint32_t width)
{
    double per_day = width ? DAY_S / width : 1;
    double alpha = a->o.fa_per_day / ((double)a->o.budget_keys * per_day);
    return log(1.0 / alpha);
}

/* The silences a drop needs, for bins of width w. Ldec: Lthr, and
 * improbable (e^-RESID_L) even at the residual RESID_FRAC of the rate, since
 * the first silence after an abrupt partial drop began at the full rate and
 * is judged on it; but at most DELAY_CAP * Lthr, so that the delay stays
 * within 1.5x the minimum ln(1/alpha)/mu even for a few keys, with the
 * rate's estimation error (1/sqrt(N_TAIL) = 13 %) on top. Lcarry: two
 * silences around a stray packet judged together at the rate from before
 * (past Lthr + CARRY_MARGIN), as improbable at the residual rate as one
 * silence at Ldec: two arrivals' worth of silence at rate r has probability
 * e^-y (1 + y), y = RESID_FRAC * L, so y = r + ln(1 + y) with e^-r the
 * residual improbability reached (y = 8.78, L = 29.3 for r = 6.5). */
void gt_anom_set_width(gt_anomaly *a, uint32_t w)
{
    a->width = w;
    a->lthr = gt_anomaly_threshold(a, w);
    double floor = RESID_L / RESID_FRAC, cap = 1.5 / (1 + 1 / sqrt(N_TAIL)) * a->lthr;
    if (floor > cap)
        floor = cap;
    a->ldec = a->lthr > floor ? a->lthr : floor;
    double r = RESID_FRAC * floor, y = r;
    for (int i = 0; i < 30; i++)
        y = r + log(1 + y);
    a->lcarry = a->lthr + CARRY_MARGIN > y / RESID_FRAC ? a->lthr + CARRY_MARGIN : y / RESID_FRAC;
}

/* Forget everything learned and every open silence, gap or outage (no
 * events): the next bin is centuries away from what the state holds. Keys
 * ignored and their upstreams stay. */
void gt_anom_forget(gt_anomaly *a)
{
    for (uint32_t i = 0; i < a->nkeys; i++) {
        struct kst *k = &a->k[i];
        uint8_t ign = k->ignored;
        uint32_t up = k->upstream;
        memset(k, 0, sizeof *k);
        k->ignored = ign;
        k->upstream = up;
    }
    memset(a->hist, 0, (size_t)(a->nkeys ? a->nkeys : 1) * HIST_BINS * sizeof *a->hist);
    a->hpos = 0;
    a->act_ok = 0;
    if (a->up_rate)
        memset(a->up_rate, 0, a->nup * sizeof *a->up_rate);
    a->up_given = 0;
    a->cap_last = 0;
    a->in_gap = 0;
    a->gap_start = a->gap_end = a->last_end = 0;
    a->gap_drops = 0;
}

/* The one event initialiser: every field not set here is zero, and no
 * upstream ratio (-1) until an attribution sets one. */
struct gt_event gt_anom_event(enum gt_event_type type, uint32_t key, int64_t last_seen_ns, int64_t detected_ns)
{
    struct gt_event ev = { 0 };
    ev.type = type;
    ev.key = key;
    ev.last_seen_ns = last_seen_ns;
    ev.detected_ns = detected_ns;
    ev.upstream_ratio = -1;
    return ev;
}

enum gt_cause gt_anom_cause_of(double obs, double exp_, double *ratio)
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

void gt_anom_emit(gt_anomaly *a, const struct gt_event *ev)
{
    if (a->o.on_event)
        a->o.on_event(a->o.ctx, ev);
}

void gt_anom_emit_gap(gt_anomaly *a, int64_t end, int64_t detected)
{
    int64_t stop = end ? end : a->last_end;
    double dur = (double)(stop - a->gap_start) / NS;
    if (a->gap_reason == GT_GAP_SILENCE && dur < GAP_REPORT_S && end)
        return;
    struct gt_event ev = gt_anom_event(GT_EV_CAPTURE_GAP, GT_NO_KEY, a->gap_start, detected);
    ev.first_seen_ns = end;
    ev.duration_s = dur;
    ev.gap_reason = a->gap_reason;
    ev.drops = a->gap_drops;
    gt_anom_emit(a, &ev);
}

void gt_anomaly_finish(gt_anomaly *a)
{
    /* A gap that began in the last bin is the input ending inside that bin
     * (its tail was never observed), not the capture failing: no event. */
    if (a->in_gap && a->gap_start < a->last_end - (int64_t)a->width * NS) {
        gt_anom_emit_gap(a, 0, a->last_end);
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

uint64_t gt_anomaly_out_of_range(const gt_anomaly *a)
{
    return a->out_of_range;
}

double gt_anomaly_expected_rate(const gt_anomaly *a, uint32_t key)
{
    return key < a->nkeys ? a->k[key].mu : 0;
}

double gt_anomaly_expected_packet_rate(const gt_anomaly *a, uint32_t key)
{
    return key < a->nkeys ? a->k[key].fast : 0;
}

