/* The synthetic bin streams shared by the anomaly unit tests: Poisson (or
 * evenly spaced) keys, bins fed to the detector, events collected. */
#ifndef GEOTAP_TESTS_ANOMALY_SIM_H
#define GEOTAP_TESTS_ANOMALY_SIM_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "geotap/anomaly.h"
#include "geotap/events.h"

#define NS 1000000000LL
#define MAXK 64
#define MAXEV 4096

struct simkey {
    double rate;        /* packets/s; 0 = silent */
    int regular;        /* evenly spaced instead of Poisson */
    int64_t next;       /* next arrival, ns */
};

struct sim {
    uint32_t n, w;
    struct simkey k[MAXK];
    struct gt_counts c[MAXK];
    int64_t first[MAXK], last[MAXK];
    uint64_t rng;
    uint64_t drops;     /* reported in the next bin */
    int64_t cut_from, cut_to;   /* the capture sees nothing in [from, to) ns */
};

static struct gt_event evs[MAXEV];
static int nev;

static void on_ev(void *ctx, const struct gt_event *ev)
{
    (void)ctx;
    if (nev < MAXEV)
        evs[nev++] = *ev;
}

static double urand(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return ((s->rng >> 11) + 0.5) / 9007199254740992.0;
}

static int64_t gap_ns(struct sim *s, const struct simkey *k)
{
    double g = k->regular ? 1.0 / k->rate : -log(urand(s)) / k->rate;
    return (int64_t)(g * NS);
}

/* Change key i's rate from time t on. */
static void set_rate(struct sim *s, uint32_t i, double rate, int64_t t)
{
    s->k[i].rate = rate;
    if (rate > 0)
        s->k[i].next = t + gap_ns(s, &s->k[i]);
}

/* Produce the bin starting at `start` (seconds) and feed it to a. */
static void run_bin(struct sim *s, gt_anomaly *a, int64_t start)
{
    int64_t s0 = start * NS, e0 = (start + s->w) * NS;
    uint64_t total = 0;
    memset(s->c, 0, sizeof s->c);
    memset(s->first, 0, sizeof s->first);
    memset(s->last, 0, sizeof s->last);
    for (uint32_t i = 0; i < s->n; i++) {
        struct simkey *k = &s->k[i];
        if (k->rate <= 0)
            continue;
        if (k->next < s0)
            k->next = s0 + gap_ns(s, k);
        while (k->next < e0) {
            if (k->next >= s->cut_from && k->next < s->cut_to) {
                k->next += gap_ns(s, k);
                continue;
            }
            s->c[i].pkts_from++;
            if (!s->first[i])
                s->first[i] = k->next;
            s->last[i] = k->next;
            k->next += gap_ns(s, k);
        }
        total += s->c[i].pkts_from;
    }
    struct gt_bin b = { .start = start, .width = s->w, .nkeys = s->n, .counts = s->c,
                        .last_ns = s->last, .first_ns = s->first };
    b.stats.packets = b.stats.ip = total;
    b.stats.drops = s->drops;
    s->drops = 0;
    gt_anomaly_bin(a, &b);
}

static void run(struct sim *s, gt_anomaly *a, int64_t *t, int64_t seconds)
{
    for (int64_t end = *t + seconds; *t < end; *t += s->w)
        run_bin(s, a, *t);
}

static struct gt_keys mkkeys(uint32_t n, struct gt_key *kk)
{
    for (uint32_t i = 0; i < n; i++) {
        memset(&kk[i], 0, sizeof kk[i]);
        kk[i].cc[0] = (char)('A' + i / 26);
        kk[i].cc[1] = (char)('A' + i % 26);
    }
    struct gt_keys k = { .dims = GT_DIM_COUNTRY, .nkeys = n, .keys = kk };
    return k;
}

static int count_type(enum gt_event_type t, uint32_t key)
{
    int c = 0;
    for (int i = 0; i < nev; i++)
        if (evs[i].type == t && (key == GT_NO_KEY || evs[i].key == key))
            c++;
    return c;
}

static const struct gt_event *find(enum gt_event_type t, uint32_t key)
{
    for (int i = 0; i < nev; i++)
        if (evs[i].type == t && evs[i].key == key)
            return &evs[i];
    return NULL;
}

static const int64_t T0 = 1419206400;   /* 2014-12-22T00:00:00Z */

#endif
