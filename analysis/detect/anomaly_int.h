/* Internal to the anomaly module (analysis/detect/): per-key state, the
 * detector, and the helpers its files share. */
#ifndef GEOTAP_ANOMALY_INT_H
#define GEOTAP_ANOMALY_INT_H

#include "geotap/anomaly.h"

#define NSLOT 24
#define NWSLOT 168              /* hour-of-week slots */
#define WEEK_S (7 * 86400.0)
#define N_EFF 12.0              /* packets the recent packet level averages over */
#define N_TAIL 60.0             /* flow starts the flow-start rate averages over */
#define TAIL_MAX_S (6 * 3600.0) /* longest memory of the flow-start rate */
#define DISP_BINS 60.0          /* bins the count dispersion averages over */
#define DISP_POISSON 1.5        /* dispersion index below this: Poisson-like packets */
#define N_TAIL_MIN 20.0         /* fewer flow starts remembered: decide on whole empty bins only */
#define HIST_BINS 64            /* recent bins kept for the change-point bound */
#define UCB_Z 1.0               /* one-sided z of the recent-rate upper bound */
#define HIST_GAP UINT32_MAX     /* hbin.pk of a bin the capture or key was not fully up in */
#define SLOT_MATURE_S 1800.0    /* history a time-of-day slot needs */
#define SLOT_MEMORY_S (3 * 3600.0)  /* slot EWMA memory, in slot time (~3 days) */
#define DAY_S 86400.0
#define SUSPECT_FLOOR 0.5       /* after an improbable silence, judged on at least this share of the rate before */
#define CARRY_MARGIN 10.0      /* two silences around a stray decide at Lthr + this at least */
#define STRAY_MAX 1             /* a bin of at most this many packets between two silences can be a stray */
#define RESID_FRAC 0.3          /* a partial drop's residual share of the rate ... */
#define RESID_L 6.5             /* ... at which a drop's silence must be this improbable (e^-6.5) */
#define RESET_L 5.0             /* silence after a candidate return that abandons it */
#define ATTR_MIN_EXP 20.0       /* expected packets needed to attribute */
#define GAP_REPORT_S 10.0       /* shorter silent gaps freeze learning but are not reported */
#define NS 1000000000LL
/* Bins further from the epoch (about 250 years: 2220, 1720) are out of
 * range: their times in ns, plus the hold and the silences, must not wrap. */
#define GT_ANOM_MAX_S (INT64_MAX / NS - 40LL * 365 * 86400)
/* The times the detector holds stay within this of the first bin it saw
 * (140 years: any two of them, plus a year's hold, subtract in ns without
 * wrapping); a bin further away starts it afresh. */
#define GT_ANOM_SPAN_S (140LL * 365 * 86400)

struct slot {
    float rate;                 /* packets/s */
    float hist_s;               /* seconds of history */
    float pkts;
};

/* One bin of the history ring: packets, flow starts, idle seconds. */
struct hbin {
    uint32_t pk, st;
    float idle;
};

struct kst {
    double fast;                /* recent level, packets/s */
    double tn, te, tau_t;       /* flow starts and idle s, decayed with memory tau_t */
    double mu;                  /* flow-start rate, /s: what silences are judged on */
    double r_sil;               /* flow-start rate the current silence is judged on */
    double glob;                /* day-long level */
    double prev_c, dsq, dmean;  /* bin-to-bin count differences: dispersion */
    double nbins, hist_s, pkts; /* history learned */
    struct slot slot[NSLOT];
    struct slot wslot[NWSLOT];
    int64_t last_ns;            /* last packet of the key (0 = never seen) */
    /* Learning is held back while a silence may turn out to be an outage:
     * the last bin with packets (its tail is part of the silence) and the
     * zero bins after it are learned when traffic resumes, dropped when the
     * silence is declared an outage. */
    uint8_t pend;               /* a bin with packets is held back */
    double pend_c, pend_n, pend_e;
    int64_t pend_start;
    uint32_t deferred;          /* zero bins held back after it */
    int64_t deferred_start;     /* start (s) of the first of them */
    uint8_t hist_bn;            /* this bin's silence from the previous bin, for the ring */
    double hist_be;
    double lam;                 /* expected count over the current silence */
    double carry;               /* expected count of the improbable silence before it (0 = none) */
    double r_full, lam_full;    /* the rate before that silence, and the current one's count at it */
    int h0;                     /* hour slot at the silence start */
    uint8_t down, unmeas, warm;
    uint8_t was_down;           /* down during this bin: its counts are no history */
    uint8_t ignored;            /* no decisions, no events */
    /* (held and held_gap fit the padding before hold_until: the state
     * file's layout stays the same) */
    uint8_t held;               /* this bin only: its data incomplete (gt_anomaly_hold_key) */
    uint8_t held_gap;           /* a hold lies inside its silence since last_ns: no flow gap */
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
    struct hbin *hist;          /* [nkeys][HIST_BINS] recent counts, ring */
    uint32_t hpos;              /* ring slot of the current bin */
    /* Keys a bin without packets can change (seen, not ignored), for the
     * stretches of empty bins the engine fills into a silence: built at the
     * first of them, dropped by any other bin. */
    uint32_t *act, nact;
    int act_ok;
    /* upstreams */
    uint32_t nup;               /* size of the arrays below */
    double *up_rate;            /* learned packets/s per upstream */
    uint64_t *up_tot;           /* this bin's totals */
    int up_given;               /* totals passed for the next bin */
    int up_zero;                /* up_tot is all zero */
    int up_from_keys;           /* keys have the upstream dimension */
    int have_up;                /* any key has an upstream */
    /* capture */
    uint32_t width;
    double lthr;
    double ldec;                /* a drop's silence needs this L */
    double lcarry;              /* two silences around a stray decide at this L */
    int64_t cap_last;           /* capture's last packet so far */
    int in_gap;
    int64_t gap_start;
    enum gt_gap_reason gap_reason;
    uint64_t gap_drops;
    int64_t last_end;
    int64_t gap_end;            /* end of the last capture gap */
    uint64_t out_of_range;      /* bins ignored: too far from the epoch */
    int have_origin;
    int64_t origin_ns;          /* the first bin's start (see GT_ANOM_SPAN_S) */
};


/* anomaly_model.c: the learned rates */
int gt_anom_hour_of(int64_t ns);
double gt_anom_rate_at(const struct kst *k, int64_t t);
void gt_anom_learn(struct kst *k, double c, double n, double e, uint32_t w, int64_t s);
int gt_anom_poisson_like(const struct kst *k);
void gt_anom_apply_deferred(struct kst *k, uint32_t w);

/* anomaly.c: thresholds and events */
void gt_anom_set_width(gt_anomaly *a, uint32_t w);
void gt_anom_forget(gt_anomaly *a);
struct gt_event gt_anom_event(enum gt_event_type type, uint32_t key, int64_t last_seen_ns, int64_t detected_ns);
void gt_anom_emit(gt_anomaly *a, const struct gt_event *ev);
void gt_anom_emit_gap(gt_anomaly *a, int64_t end, int64_t detected);
enum gt_cause gt_anom_cause_of(double obs, double exp_, double *ratio);

#endif
