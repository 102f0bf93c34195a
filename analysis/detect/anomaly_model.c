/* The anomaly module's learned rates: recent level, time-of-day slots, the
 * rate a silence is judged on (include/geotap/anomaly.h). */
#include "anomaly_int.h"

#include <math.h>

int gt_anom_hour_of(int64_t ns)
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
double gt_anom_rate_at(const struct kst *k, int64_t t)
{
    int h = gt_anom_hour_of(t);
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
void gt_anom_learn(struct kst *k, double c, uint32_t w, int64_t s)
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
    struct slot *sl = &k->slot[gt_anom_hour_of(s * NS)];
    double n = sl->hist_s / w + 1;
    double as = 1 / n;
    if (as < w / SLOT_MEMORY_S)
        as = w / SLOT_MEMORY_S;
    sl->rate += (float)(as * (x - sl->rate));
    sl->hist_s += (float)w;
    sl->pkts += (float)c;
}

/* Learn what was held back: the silence was a natural lull. */
void gt_anom_apply_deferred(struct kst *k, uint32_t w)
{
    if (k->pend)
        gt_anom_learn(k, k->pend_c, w, k->pend_start);
    k->pend = 0;
    for (uint32_t i = 0; i < k->deferred; i++)
        gt_anom_learn(k, 0, w, k->deferred_start + (int64_t)i * w);
    k->deferred = 0;
}
