/* The anomaly module's learned rates: the recent packet level, the rate of
 * flow starts from the tail of the silences, time-of-day and time-of-week
 * slots, and the rate a silence is judged on (include/geotap/anomaly.h). */
#include "anomaly_int.h"

#include <math.h>

/* Hour of the week, 0..167; its remainder by 24 is the hour of the day. */
int gt_anom_hour_of(int64_t ns)
{
    int64_t s = ns / NS;
    int64_t h = (s % (int64_t)WEEK_S + (int64_t)WEEK_S) % (int64_t)WEEK_S / 3600;
    return (int)h;
}

static int mature(const struct slot *sl)
{
    return sl->hist_s >= SLOT_MATURE_S && sl->pkts >= N_EFF && sl->rate > 0;
}

static double clamp_ratio(double f)
{
    return f < 0.5 ? 0.5 : f > 2 ? 2 : f;
}

/* Expected flow-start rate at time t of a silence that began in hour slot
 * k->h0: the rate at its start times the learned shape of the week (once a
 * week of history holds both hours) or of the day. */
double gt_anom_rate_at(const struct kst *k, int64_t t)
{
    int h = gt_anom_hour_of(t);
    if (h == k->h0)
        return k->r_sil;
    if (k->hist_s >= WEEK_S && mature(&k->wslot[h]) && mature(&k->wslot[k->h0]))
        return k->r_sil * clamp_ratio((double)k->wslot[h].rate / k->wslot[k->h0].rate);
    int d = h % 24, d0 = k->h0 % 24;
    if (d == d0 || !mature(&k->slot[d]) || !mature(&k->slot[d0]))
        return k->r_sil;
    return k->r_sil * clamp_ratio((double)k->slot[d].rate / k->slot[d0].rate);
}

static void slot_learn(struct slot *sl, double x, double c, uint32_t w, double memory_s)
{
    double n = sl->hist_s / w + 1;
    double as = 1 / n;
    if (as < w / memory_s)
        as = w / memory_s;
    sl->rate += (float)(as * (x - sl->rate));
    sl->hist_s += (float)w;
    sl->pkts += (float)c;
}

/* Flow starts per second: the silences longer than GT_FLOW_GAP_NS end at
 * the next flow start, which is memoryless, so starts / idle time past the
 * gap estimates it. One pseudo-start at the packet rate stands in while
 * there are none (Poisson keys too fast to ever be silent that long). */
static double flow_rate(const struct kst *k)
{
    if (k->fast <= 0)
        return 0;
    return (k->tn + 1) / (k->te + 1 / k->fast);
}

/* Learn one bin starting at s (seconds): c packets, n flow starts, e idle
 * seconds past the flow gap. */
void gt_anom_learn(struct kst *k, double c, double n, double e, uint32_t w, int64_t s)
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
    /* dispersion of the counts from bin to bin (1 for Poisson packets) */
    if (k->nbins > 1) {
        double ad = 1 / (k->nbins - 1) > 1 / DISP_BINS ? 1 / (k->nbins - 1) : 1 / DISP_BINS;
        double dc = c - k->prev_c;
        k->dsq += ad * (dc * dc - k->dsq);
        k->dmean += ad * ((c + k->prev_c) / 2 - k->dmean);
    }
    k->prev_c = c;
    /* memory of the flow-start sums: about N_TAIL of them */
    double rev = k->tau_t > 0 ? k->tn / k->tau_t : 0;
    double tau = rev > 0 ? N_TAIL / rev : TAIL_MAX_S;
    tau = tau < w ? w : tau > TAIL_MAX_S ? TAIL_MAX_S : tau;
    double d = exp(-(double)w / tau);
    k->tn = d * k->tn + n;
    k->te = d * k->te + e;
    k->tau_t = tau;
    k->mu = flow_rate(k);
    k->r_sil = k->mu;
    double ag = 1 / k->nbins;
    if (ag < w / DAY_S)
        ag = w / DAY_S;
    k->glob += ag * (x - k->glob);
    k->hist_s += w;
    k->pkts += c;
    int h = gt_anom_hour_of(s * NS);
    slot_learn(&k->slot[h % 24], x, c, w, SLOT_MEMORY_S);
    slot_learn(&k->wslot[h], x, c, w, SLOT_MEMORY_S);
}

/* Counts as dispersed as Poisson packets: the packet rate is the rate of
 * independent arrivals even without silences long enough to show it. */
int gt_anom_poisson_like(const struct kst *k)
{
    return k->nbins >= DISP_BINS / 2 && k->dmean > 0 && k->dsq / (2 * k->dmean) < DISP_POISSON;
}

/* Learn what was held back: the silence was a natural lull. */
void gt_anom_apply_deferred(struct kst *k, uint32_t w)
{
    if (k->pend)
        gt_anom_learn(k, k->pend_c, k->pend_n, k->pend_e, w, k->pend_start);
    k->pend = 0;
    for (uint32_t i = 0; i < k->deferred; i++)
        gt_anom_learn(k, 0, 0, 0, w, k->deferred_start + (int64_t)i * w);
    k->deferred = 0;
}
