/* bench/gen_scenario's parts: the deterministic random source, the rate
 * model of each key (diurnal, weekly, events), the plan of events, and the
 * countries' address space. One process, one scenario: the state is global. */
#ifndef GEOTAP_BENCH_SCENARIO_H
#define GEOTAP_BENCH_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#define NS 1000000000LL
#define MAXEV 40
#define NADDR 4
#define MAXSTRAY 1024

enum { EV_OUTAGE = 1, EV_PARTIAL, EV_LULL, EV_SHIFT };

/* One labelled event of a key: [t0, t1) s since the start, rate times factor. */
struct sev { int type; double t0, t1; double factor; };

struct skey {
    char cc[3];
    uint32_t addr[NADDR];
    double rate, amp, phase_h, weekend;
    struct sev ev[MAXEV];
    int nev, cur;
};

/* What the plan needs to know (gen_scenario's options). */
struct plan_opts {
    double hours, minr, maxr, scale;
    int gap, kp, flows, weekly, outages;
};

/* The plan: events per key, the capture gap [g0, g1) and the stray packets
 * (time, key) inside outages. */
struct plan {
    double dur, g0, g1;
    double stray[MAXSTRAY][2];
    size_t nstray;
};

/* scenario_model.c */
extern long long T_START;       /* the scenario's start, s since the epoch */
void seed_rng(uint64_t s);
uint64_t next_u64(void);
double urand(void);             /* uniform in (0, 1) */
double logu(double lo, double hi);
/* Key k's rate at t (s since the start) before events: diurnal and weekly. */
double diurnal(const struct skey *k, double t);
/* Key k's rate at t, events applied (t non-decreasing per key). */
double rate_now(struct skey *k, double t);
/* Rates, cycles and events of the keys, the capture gap and the strays. */
void plan_scenario(struct skey *K, unsigned nkeys, const struct plan_opts *o, struct plan *p);

/* scenario_space.c */
/* Pick nkeys countries of the country DB cdb (deterministic for the seed)
 * and NADDR addresses inside each; kp: KP in 175.45.176.0/22 and CN in
 * AS4837 (from asncsv) first. Keys sorted by country code. 0, or -1 with the
 * reason printed. */
int pick_countries(const char *cdb, const char *asncsv, int kp, struct skey *K, unsigned nkeys);

#endif
