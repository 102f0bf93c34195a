/* gen_scenario's random source and rate model: xoshiro256** seeded by
 * splitmix64, each key's diurnal and weekly rate with its events applied,
 * and the plan of events (outages, partial drops, lulls, level shifts, the
 * capture gap, stray packets inside outages). bench/scenario.h. */
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

long long T_START = 1419120000LL;  /* 2014-12-21T00:00:00Z; kp2014: 2014-12-22T08:00:00Z */

static uint64_t rs[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t next_u64(void)
{
    uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
    rs[2] ^= rs[0]; rs[3] ^= rs[1]; rs[1] ^= rs[2]; rs[0] ^= rs[3];
    rs[2] ^= t; rs[3] = rotl(rs[3], 45);
    return r;
}
double urand(void) { return ((next_u64() >> 11) + 0.5) / 9007199254740992.0; }
void seed_rng(uint64_t s)
{
    for (int i = 0; i < 4; i++) {
        s += 0x9e3779b97f4a7c15ULL;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rs[i] = z ^ (z >> 31);
    }
}
double logu(double lo, double hi) { return lo * exp(urand() * log(hi / lo)); }

double diurnal(const struct skey *k, double t)
{
    double abs_h = (double)T_START / 3600 + t / 3600;
    double h = fmod(abs_h, 24.0);
    int dow = (int)fmod(floor(abs_h / 24) + 4, 7);     /* 1970-01-01 was a Thursday (4) */
    double wk = dow == 0 || dow == 6 ? k->weekend : 1;
    return wk * k->rate * (1 + k->amp * sin(2 * M_PI * (h - k->phase_h) / 24));
}

double rate_now(struct skey *k, double t)
{
    while (k->cur < k->nev && k->ev[k->cur].t1 <= t)
        k->cur++;
    double r = diurnal(k, t);
    if (k->cur < k->nev && k->ev[k->cur].t0 <= t) {
        const struct sev *e = &k->ev[k->cur];
        r = e->type == EV_PARTIAL || e->type == EV_SHIFT ? r * e->factor : 0;
    }
    return r;
}

static int overlaps(const struct skey *k, double t0, double t1, double margin)
{
    for (int i = 0; i < k->nev; i++)
        if (t0 < k->ev[i].t1 + margin && k->ev[i].t0 < t1 + margin)
            return 1;
    return 0;
}

static int cmp_ev(const void *a, const void *b)
{
    const struct sev *x = a, *y = b;
    return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* The kp2014 preset: steady diurnal traffic, North Korea dark from 16:15:00
 * UTC for 9 h 31 min. */
static void plan_kp(struct skey *K, unsigned nkeys, double scale)
{
    for (unsigned k = 0; k < nkeys; k++) {
        struct skey *s = &K[k];
        int isk = !strcmp(s->cc, "KP"), isc = !strcmp(s->cc, "CN");
        s->rate = scale * (isk ? 0.25 : isc ? 2 : logu(0.1, 0.5));
        s->weekend = 1;
        s->amp = 0.2 + 0.3 * urand();
        s->phase_h = 24 * urand();
        if (isk) {
            s->ev[0] = (struct sev){ EV_OUTAGE, 8 * 3600 + 15 * 60, 8 * 3600 + 15 * 60 + 9 * 3600 + 31 * 60, 0 };
            s->nev = 1;
        }
    }
}

void plan_scenario(struct skey *K, unsigned nkeys, const struct plan_opts *o, struct plan *p)
{
    /* the capture gap: 30-45 minutes in the middle third */
    double dur = o->hours * 3600, g0 = 0, g1 = 0;
    if (o->gap) {
        g0 = floor((dur / 3 + urand() * dur / 3) / 7) * 7 + 13.37;   /* not bin aligned */
        g1 = g0 + 1800 + urand() * 900;
    }
    p->dur = dur;
    p->g0 = g0;
    p->g1 = g1;
    p->nstray = 0;
    const double first = 3 * 3600, last = dur - 3600, margin = 900;
    struct skey gapk = { .nev = 0 };
    if (o->gap) {
        gapk.ev[0].t0 = g0;
        gapk.ev[0].t1 = g1;
        gapk.nev = 1;
    }
    if (o->kp) {
        plan_kp(K, nkeys, o->scale);
        return;
    }
    for (unsigned k = 0; k < nkeys; k++) {
        struct skey *s = &K[k];
        s->rate = o->scale * logu(o->minr, o->maxr);
        s->amp = 0.2 + 0.3 * urand();
        s->phase_h = 24 * urand();
        s->weekend = o->weekly ? 0.5 + 0.4 * urand() : 1;
        double u = urand();
        int nout = !o->outages ? 0 : u < 0.25 ? 0 : u < 0.75 ? 1 : 2;
        int npart = urand() < 0.35, nlull = urand() < 0.3, nshift = o->flows && urand() < 0.4;
        if (o->hours > 48) {    /* long runs: about one event of each kind per key and day */
            nout = o->outages ? (int)(o->hours / 24 * urand()) : 0;
            npart = (int)(o->hours / 24 * urand());
            nlull = (int)(o->hours / 24 * urand());
            nshift = o->flows ? (int)(o->hours / 24 * urand()) : 0;
        }
        int ntot = nout + npart + nlull + nshift;
        if (ntot > MAXEV)
            ntot = MAXEV;
        for (int e = 0; e < ntot; e++) {
            int type = e < nout ? EV_OUTAGE : e < nout + npart ? EV_PARTIAL : e < nout + npart + nlull ? EV_LULL : EV_SHIFT;
            for (int tries = 0; tries < 50; tries++) {
                double len = type == EV_OUTAGE ? logu(1200, 6 * 3600) : type == EV_PARTIAL ? logu(1800, 3 * 3600)
                           : type == EV_SHIFT ? logu(3600, 6 * 3600) : 0;
                double t0 = first + urand() * (last - first);
                if (type == EV_LULL)
                    len = (2 + 4 * urand()) / diurnal(s, t0);
                double t1 = t0 + len;
                if (t1 > last || overlaps(s, t0, t1, margin) || (o->gap && overlaps(&gapk, t0, t1, margin)))
                    continue;
                double f = type == EV_PARTIAL ? 0.3 : type == EV_SHIFT ? (urand() < 0.5 ? 2 : 0.5) : 0;
                s->ev[s->nev++] = (struct sev){ type, t0, t1, f };
                if (type == EV_OUTAGE && len > 1800 && urand() < 0.5 && p->nstray < MAXSTRAY) {
                    p->stray[p->nstray][0] = t0 + 600 + urand() * (len - 1200);
                    p->stray[p->nstray][1] = k;
                    p->nstray++;
                }
                break;
            }
        }
        qsort(s->ev, (size_t)s->nev, sizeof s->ev[0], cmp_ev);
    }
}
