/* The anomaly module: detects a key's traffic dropping to zero, its
 * restoration, and capture gaps, from closed time bins (bins.h). It only sees
 * bins and packet timestamps, so the same code serves `analyze` (packet time)
 * and `live` (wall clock).
 *
 * Model
 * -----
 * Per key (any key of gt_keys: country by default), packets come in flows
 * (a DNS exchange is 2 packets, a page load dozens within a second, a
 * download thousands), so the silences between packets are far longer than
 * the packet rate predicts. The flows start close to Poisson, though
 * (Paxson & Floyd), and a silence longer than the gaps inside a flow
 * (GT_FLOW_GAP_NS, 5 s) ends only at the next flow start, which is
 * memoryless. So silences are judged on the rate mu of flow starts.
 *
 * Flow-start rate. The engine counts, per key and bin, the silences longer
 * than 5 s that ended and their length past 5 s (gt_counts.starts, idle_ms;
 * per worker: each flow lives in one worker, so the idle time is divided by
 * the number of workers); the silence across a bin boundary is added here.
 * mu = (starts + 1) / (idle + 1 / packet rate), time-decayed over about
 * N_TAIL = 60 starts (at most 6 h): the exponential fit to the tail of the
 * gaps; the one pseudo-start at the packet rate stands in for a key too fast
 * to be silent for 5 s (for Poisson packets mu is the packet rate). No flow
 * table, no 5-tuple: one compare per packet. Computed example (flows: 40 %
 * one packet, the rest Pareto(1.3) up to 2,000, 5 on average): a key at 0.1
 * flows/s sends 0.5 packets/s; judged as Poisson packets it would be
 * declared after 35 s of silence, and a normal gap between its flows is
 * longer than that 3 % of the time; judged on mu it is declared after 217 s
 * (Ldec below), which an up key stays silent for with probability e^-21.7.
 * Also learned: the packet level `fast` (EWMA with tau = max(width, 12 /
 * rate)), a day-long level, a time-of-day profile (one EWMA per hour of the
 * day, ~3 days of memory) and a time-of-week profile (per hour of the week,
 * ~3 weeks), each slot used once it holds 30 minutes and 12 packets.
 * A silence is judged on r0 = min(mu, U), frozen at the key's last packet,
 * where U is a change-point bound: for every bin start tau in the last 64
 * bins (outages and gaps excluded), with n the packets from tau to the last
 * packet over that time d, and s the flow starts over their idle time i, the
 * upper bounds (n + z^2/2 + z*sqrt(n + z^2/4)) / d and the same of s over i
 * (z = 1); U is the smallest. A key that fell to a partial rate (e.g. 30 %)
 * or halved shortly before is judged on the lower rate; one that ran at its
 * level until its last packet keeps it.
 * During the silence r0 follows the learned shape: r(t) = r0 * clamp(slot[h(t)]
 * / slot[h(t0)], 0.5, 2), with the hour-of-week slots once the key has a week
 * of history and both slots are mature (weekdays vs weekends), else the
 * hour-of-day ones.
 * Robustness: the learners never see an outage or a gap. The last bin with
 * packets (whose tail may be the start of an outage) and the zero bins after
 * it are held back and learned only when the key's traffic resumes without a
 * declared drop (a natural lull); they are discarded when the silence is
 * declared an outage, or when it had reached L >= Lthr/2 before a packet
 * ended it (typically one stray packet inside an outage not yet declared:
 * the silence after it is judged on the level from before). Nothing is
 * learned while a key is down, in the bin where it comes back, or while the
 * capture is in a gap; a silence with a capture gap inside is no flow gap.
 *
 * Silence test. With Poisson flow starts, seeing none over a stretch whose
 * expected count is L = integral of r dt has probability e^-L (a silence
 * needs no flow start in it, so this bounds it whatever the flows look like).
 * Decisions are made once per key per bin, so with a budget B of false
 * alarms per day over all K keys and bins of width w, the per-decision
 * false-alarm probability is
 *    alpha = B / (K * 86400 / w)   and the threshold is  Lthr = ln(1/alpha).
 * (B = 0.01/day, K = 250, w = 60 s gives Lthr = 17.4.)
 * Partial drops. A key that fell abruptly to part of its rate a moment ago
 * has its first silence judged on the rate from before (nothing showed the
 * fall yet); at 30 % of the rate that silence reaches Lthr = 15.6 (K = 40)
 * with probability e^-0.3*15.6 = 1 % per partial drop: as many false outages
 * as real ones where partial drops are as common. So a drop also needs the
 * silence to be improbable, e^-6.5 = 0.15 %, at a residual 30 % of the rate:
 *    L >= Ldec = max(Lthr, 6.5 / 0.3 = 21.7),
 * which costs 25 % of delay at K = 250 (17.4 -> 21.7) and nothing once
 * Lthr >= 21.7 (K >= 17,800 at the defaults). A key at 1 flow/s is declared
 * after 22 s of silence, at 0.01 flows/s after 36 minutes. (With e^-6, 7
 * false drops at partial-drop onsets in 35 quiet days, seeds 101-105, where
 * the budget allows 0.35; with e^-6.5, 1; with the stray rule below too, 0,
 * and 1 in the 35 untuned days 106-110: bench/anomaly_eval.sh, kind quiet.)
 * A stray packet inside an outage not yet declared splits its silence in
 * two: the pair, judged together on the rate from before, also decides
 * once it reaches Lcarry = max(Lthr + 10, 29.3), where 29.3 makes two such
 * silences as improbable at the residual 30 % (e^-y (1 + y) = e^-6.5 for
 * y = 0.3 L) as one silence at Ldec. Only a bin of one packet after the
 * first silence (past Lthr/2) counts as a stray: more is a flow, the
 * traffic going on (the onset of a partial drop on a slow key looks like
 * silence, one flow, silence), and the silence after it must reach Ldec
 * alone. (Pairs around flows gave the false drops at partial-drop onsets
 * in quiet 105 and weekly 1, tuned on, and in quiet 107.)
 * The silence runs from the key's last packet (last_ns, packet-time precise);
 * drop_to_zero is declared at the end of the first bin where L >= Ldec.
 * While fewer than 20 flow starts are remembered, the packet rate stands in
 * for mu and may be far too high for clustered traffic: then only a silence
 * of a whole bin decides, unless the bin counts are as dispersed as Poisson
 * packets (variance of bin-to-bin differences / (2 * mean) < 1.5), when the
 * packet rate is the right one.
 *
 * Not measurable. A key whose time to declare a drop, Ldec/mu (the silence a
 * drop needs at its rate of flow starts, not of packets), exceeds max_delay_s
 * (default 2 h) gets no decisions and one not_measurable event (again after it
 * has been measurable in between); gt_anomaly_not_measurable() lists them.
 * (K = 250: Ldec = 21.7, so below 21.7 / 7200 = 0.0030 flows/s.)
 * Warm-up: no decisions for a key before warmup_s of history and warmup_pkts
 * packets.
 *
 * Restoration (hysteresis). After a declared drop, restored needs
 * restore_pkts packets (default 3); a candidate return is abandoned when its
 * packets are followed by a silence with L >= 5 (so isolated stray packets
 * never end an outage). After a restoration no new drop is declared for
 * hold_s (default 2 bins): no flapping.
 *
 * Capture gaps. The capture is in a gap when it reports drops for a bin
 * (drops >= drop_ratio of packets+drops), when a bin holds less than
 * gap_ratio of the packets expected over all keys, or when the whole capture
 * has been silent (no key has a packet) for a stretch where the summed
 * expected flow starts of all keys reach Lthr, or when bins are missing
 * (a restart with saved state: nobody was watching). The gap starts at the capture's last
 * packet (or the bin start) and ends at its first packet back; silence inside
 * it counts for no key and nothing is learned; one capture_gap event is
 * reported when it ends (and at finish when still open); silent gaps shorter
 * than 10 s freeze the same way but are not reported. A key held by the
 * caller (gt_anomaly_hold_key: a fleet sensor down) is frozen the same way
 * for that bin alone, without an event.
 *
 * Attribution. When the keys carry the upstream dimension, or the caller
 * maps keys to upstreams (gt_anomaly_set_upstream) and passes each
 * upstream's packets per bin (gt_anomaly_upstream_counts), the traffic the
 * upstream carried for other keys during the key's silence is compared with
 * what it usually carries: >= 50 % -> the outage is inside the key's own
 * networks (GT_CAUSE_INSIDE), <= 10 % -> the upstream dropped as a whole
 * (GT_CAUSE_UPSTREAM), otherwise or with fewer than 20 expected packets:
 * unknown. Evaluated at the drop and again, over the whole outage, at the
 * restoration.
 *
 * State. gt_anomaly_save / gt_anomaly_load keep everything learned (per
 * key, by label: country/ASN/upstream id/home) in one file, so a run split
 * in two with the state in between gives the events of one run.
 */
#ifndef GEOTAP_ANOMALY_H
#define GEOTAP_ANOMALY_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/bins.h"
#include "geotap/keys.h"

enum gt_event_type {
    GT_EV_DROP_TO_ZERO = 1,
    GT_EV_RESTORED,
    GT_EV_CAPTURE_GAP,
    GT_EV_NOT_MEASURABLE,
};

enum gt_cause {
    GT_CAUSE_UNKNOWN = 0,
    GT_CAUSE_INSIDE,            /* the upstream kept carrying others: "inside_country" */
    GT_CAUSE_UPSTREAM,          /* the upstream dropped as a whole: "upstream" */
};

enum gt_gap_reason {
    GT_GAP_SILENCE = 1,         /* every key silent at once */
    GT_GAP_DROPS,               /* the capture reported drops */
    GT_GAP_DEGRADED,            /* far fewer packets than expected across keys */
};

#define GT_NO_KEY UINT32_MAX

/* One event. Times are ns since the epoch (0 = none). */
struct gt_event {
    enum gt_event_type type;
    uint32_t key;               /* key id; GT_NO_KEY for capture_gap */
    int64_t last_seen_ns;       /* drop/restored: last packet before the silence; gap: its start */
    int64_t first_seen_ns;      /* restored: first packet back; gap: its end (0 = still open) */
    int64_t detected_ns;        /* when the decision was made (end of the deciding bin) */
    double duration_s;          /* restored: first_seen - last_seen; gap: end - start */
    double expected_rate;       /* flow starts/s (packets/s for Poisson keys) expected at the decision */
    double expected_count;      /* drop: L over the silence at the decision */
    double threshold;           /* drop and not_measurable: Ldec (the L a drop needs) */
    double silence_s;           /* drop: detected - last_seen */
    enum gt_cause cause;
    uint32_t upstream;          /* upstream id used for the attribution, 0 = none */
    double upstream_ratio;      /* upstream's other traffic observed / expected, -1 = n/a */
    enum gt_gap_reason gap_reason;
    uint64_t drops;             /* gap: drops reported by the capture inside it */
};

typedef void (*gt_event_fn)(void *ctx, const struct gt_event *ev);

/* Options; a zero field takes the default in brackets. */
struct gt_anomaly_opts {
    double fa_per_day;          /* false alarms per day, all keys together [0.01] */
    uint32_t budget_keys;       /* keys sharing the budget [keys->nkeys] */
    double max_delay_s;         /* slower to decide than this: not measurable [7200] */
    double warmup_s;            /* history needed before decisions [1800] */
    uint32_t warmup_pkts;       /* packets needed before decisions [12] */
    uint32_t restore_pkts;      /* packets after a drop to declare restored [3] */
    double hold_s;              /* no drop for this long after a restoration [2 bins], <= 1 year */
    double gap_ratio;           /* bin below this share of expected total: gap [0.05] */
    double drop_ratio;          /* capture drops at or above this share: gap [0.01] */
    gt_event_fn on_event;       /* receives events in time order; may be NULL */
    void *ctx;
};

typedef struct gt_anomaly gt_anomaly;

/* Create a detector for the keys of `keys` (which must outlive it). NULL when
 * out of memory or the options are invalid (negative values). */
gt_anomaly *gt_anomaly_new(const struct gt_anomaly_opts *opts, const struct gt_keys *keys);
/* Free the detector. */
void gt_anomaly_free(gt_anomaly *a);

/* The key table grew (a reload appended labels, keyspace.h): new keys start
 * with no history, as a key first seen. 0, or -1 when out of memory. */
int gt_anomaly_keys_grew(gt_anomaly *a);

/* Exclude key from decisions and events (e.g. "ZZ" unknown space or home
 * networks); its packets still count as the capture being alive. */
void gt_anomaly_ignore_key(gt_anomaly *a, uint32_t key);

/* Hold key for the next bin only (its data are known to be incomplete, e.g.
 * a fleet sensor that carries it is down): as inside a capture gap, for this
 * key alone, its silence does not grow, nothing is learned from the bin, no
 * drop is decided and it is left out of the capture's expected total. Call
 * before gt_anomaly_bin() of that bin. */
void gt_anomaly_hold_key(gt_anomaly *a, uint32_t key);

/* Attribution input: key `key` is carried by upstream `upstream` (1..n, any
 * id space the caller chooses; 0 = none). 0, or -1 when out of memory. */
int gt_anomaly_set_upstream(gt_anomaly *a, uint32_t key, uint32_t upstream);
/* Attribution input for the next bin: packets carried by each upstream in it
 * (pkts[u] for u < n, the key's own packets included). Call before
 * gt_anomaly_bin() of that bin. Without it, when the keys have the upstream
 * dimension, totals are summed from the bin itself. */
void gt_anomaly_upstream_counts(gt_anomaly *a, const uint64_t *pkts, uint32_t n);

/* Feed one closed bin (time order; empty bins too). Usable as a gt_bin_fn
 * with ctx = the detector. Bins with width 0 are ignored; bins more than
 * ~250 years from 1970 are counted as out of range and ignored; a bin more
 * than 140 years from the first one starts the detector afresh (what it
 * learned and any open outage or gap are dropped without an event). A bin
 * marked empty (gt_bin.empty) visits only the keys seen so far, so a long
 * silence filled with empty bins costs the key table once. */
void gt_anomaly_bin(void *a, const struct gt_bin *bin);
/* End of input: reports a capture gap still open that began before the last
 * bin (one inside it is the input ending mid-bin). Outages still open stay
 * open (no event): the data ended, not the outage. */
void gt_anomaly_finish(gt_anomaly *a);

/* Save the learned state to path atomically (path.tmp, fsync, rename); keys
 * are stored by label. 0, or -1 with the reason in err. */
int gt_anomaly_save(const gt_anomaly *a, const char *path, char *err, size_t errlen);
/* Load a state saved by gt_anomaly_save, for bins of width s: 1 loaded, 0 no
 * such file, -1 unusable (corrupt, truncated, another format version or bin
 * width; err says which) and the detector left as new. Call before the first
 * bin, after gt_anomaly_ignore_key. */
int gt_anomaly_load(gt_anomaly *a, const char *path, uint32_t width, char *err, size_t errlen);
/* What a state file holds before it is loaded, for a caller whose key
 * table grows (watch): the end of its last bin (ns, 0 = none; last_end_ns
 * may be NULL) and fn per key in the file's order (fn may be NULL; it
 * returns 0, or -1 to stop: no memory). 1 read, 0 no such file, -1 with err
 * as gt_anomaly_load (the file is checked whole first; a bad one names none). */
int gt_anomaly_state_keys(const char *path, uint32_t width, int64_t *last_end_ns,
                          int (*fn)(void *ctx, const struct gt_key *k), void *ctx, char *err, size_t errlen);
/* Bins ignored because their time was out of range. */
uint64_t gt_anomaly_out_of_range(const gt_anomaly *a);
/* Lthr (the silence threshold) in use, for bins of width w seconds. */
double gt_anomaly_threshold(const gt_anomaly *a, uint32_t width);
/* Key ids currently not measurable (too quiet), into ids[max]; returns the
 * total count (may exceed max). */
uint32_t gt_anomaly_not_measurable(const gt_anomaly *a, uint32_t *ids, uint32_t max);
/* Is key currently declared down? */
int gt_anomaly_key_down(const gt_anomaly *a, uint32_t key);
/* The key's current expected rate of independent arrivals (flow starts; for
 * Poisson traffic, packets) per second, what its silences are judged on
 * (0 before any history). */
double gt_anomaly_expected_rate(const gt_anomaly *a, uint32_t key);
/* The key's current expected packets per second (0 before any history). */
double gt_anomaly_expected_packet_rate(const gt_anomaly *a, uint32_t key);

#endif
