/* geotap watch's sensor health (watch_int.h): which sensors are down or
 * losing frames in a bin, the keys each one carries (its learned shares)
 * held in the detector meanwhile, one sensor_gap event per held stretch,
 * and the per-sensor read-out for watch's /metrics. Apart from watch.c's
 * reading of the store: this is the policy, that the plumbing. */
#include "watch_int.h"
#include "geotap/attribution.h"
#include "geotap/events.h"
#include "geotap/output.h"

#include <math.h>
#include <string.h>

/* The sensor's share of the key: of its flow starts (the independent
 * arrivals its silences are judged on; one large flow does not make a
 * sensor the key's carrier), as the lower Wilson bound (z = 1) so that a
 * few starts of a quiet key do not make it look carried; of its packets
 * while too few starts are known. */
static double share(const gt_watch *w, const struct sensor *s, uint32_t k)
{
    double n = w->tst[k];
    if (n < SHARE_MIN_STARTS)
        return w->tot[k] > 0 ? s->pk[k] / w->tot[k] : 0;
    double p = s->st[k] / n;
    return (p + 0.5 / n - sqrt(p * (1 - p) / n + 0.25 / (n * n))) / (1 + 1 / n);
}

static int carries(const gt_watch *w, const struct sensor *s, uint32_t k)
{
    return share(w, s, k) >= w->o.share && !gt_key_is_unknown(&w->ks.keys, k);
}

/* One sensor_gap line when a sensor's held stretch ends (or at the end). */
static void sensor_gap_event(gt_watch *w, struct sensor *s)
{
    char a[40], b[40], lab[64];
    if (w->ev) {
        gt_rfc3339_ns(a, sizeof a, s->gap_start);
        gt_rfc3339_ns(b, sizeof b, s->gap_end);
        fprintf(w->ev, "{\"type\":\"sensor_gap\",\"sensor\":");
        gt_json_string(w->ev, s->name);
        fprintf(w->ev, ",\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":%.3f,\"reason\":\"%s\",\"held\":[", a, b,
                (double)(s->gap_end - s->gap_start) / NS, s->why ? s->why : "down");
        int first = 1;
        for (uint32_t k = 0; k < w->ks.keys.nkeys; k++)
            if (carries(w, s, k)) {
                gt_key_render(&w->ks.keys, NULL, k, 0, lab, sizeof lab);   /* as the events name keys */
                if (!first)
                    fputc(',', w->ev);
                gt_json_string(w->ev, lab);
                first = 0;
            }
        fputs("]}\n", w->ev);
        fflush(w->ev);
    }
    s->gap_start = 0;
    s->gaps++;
}

void gt_watch_finish(gt_watch *w)
{
    for (size_t i = 0; i < w->nsen; i++)
        if (w->s[i].gap_start)
            sensor_gap_event(w, &w->s[i]);
}

/* Sensor health of bin b: a sensor not scraped (up = 0) or whose capture
 * lost frames is in a gap; the keys it usually carries most of are held in
 * the detector for the gap and the bin after it (nothing else is: the
 * other keys are judged as usual). Shares are learned from bins where no
 * sensor is held. Returns the capture drops of the sensors not in a gap
 * (those in one are accounted for by the holds). */
uint64_t watch_sensor_health(gt_watch *w, gt_anomaly *det, uint32_t b, int64_t start)
{
    uint32_t nk = w->ks.keys.nkeys, kc = w->kcap;
    int any = 0;
    uint64_t drops = 0;
    for (size_t i = 0; i < w->nsen; i++) {
        struct sensor *s = &w->s[i];
        size_t bs = (size_t)b * w->scap + i;
        int down = w->sdown[bs];
        uint64_t dr = w->sdr[bs], fr = w->sfr[bs];
        int lossy = dr > 0 && (double)dr >= DROP_RATIO * (double)(fr + dr);
        s->up = !down;
        if (down || lossy) {
            s->held = 2;        /* this bin and the one after it is back */
            if (!s->gap_start && !s->released) {
                s->gap_start = start * NS;
                s->why = down ? "down" : "capture drops";
            }
            s->gap_end = (start + w->o.width) * NS;
            /* gone for good (or long): report it, and stop holding its keys
             * (its shares then fade as the others carry them) */
            if (!s->released && ++s->down_bins * (double)w->o.width > w->o.max_hold_s) {
                sensor_gap_event(w, s);
                s->released = 1;
            }
        } else {
            drops += dr;
            s->down_bins = 0;
            s->released = 0;
            if (s->held && --s->held == 0 && s->gap_start)
                sensor_gap_event(w, s);
        }
        if (!s->held || s->released)
            continue;
        any = 1;
        for (uint32_t k = 0; det && k < nk; k++)
            if (carries(w, s, k))
                gt_anomaly_hold_key(det, k);
    }
    if (any)
        return drops;
    const double keep = 1 - 1 / SHARE_BINS;
    for (uint32_t k = 0; k < nk; k++) {
        const struct gt_counts *c = &w->c[(size_t)b * kc + k];
        double tot = (double)(c->pkts_from + c->pkts_to);
        if (tot <= 0)
            continue;           /* a key silent (or down) teaches nothing */
        w->tot[k] = w->tot[k] * keep + tot;
        w->tst[k] = w->tst[k] * keep + c->starts;
        for (size_t i = 0; i < w->nsen; i++) {
            size_t j = ((size_t)b * w->scap + i) * kc + k;
            w->s[i].pk[k] = w->s[i].pk[k] * keep + w->spk[j];
            w->s[i].st[k] = w->s[i].st[k] * keep + w->sst[j];
        }
    }
    return drops;
}

size_t gt_watch_nsensors(const gt_watch *w) { return w->nsen; }

void gt_watch_sensor_info(const gt_watch *w, size_t i, struct gt_watch_sensor_info *out)
{
    const struct sensor *s = &w->s[i];
    memset(out, 0, sizeof *out);
    out->name = s->name;
    out->up = s->up;
    out->gaps = s->gaps;
    for (uint32_t k = 0; s->held && !s->released && k < w->ks.keys.nkeys; k++)
        out->held_keys += carries(w, s, k);
}
