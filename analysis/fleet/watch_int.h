/* geotap watch's private layout: watch.c reads the store into chunks of
 * bins and hands them to the chain; watch_health.c judges each sensor per
 * bin (down or losing frames), holds the keys it carries and learns the
 * shares those holds are decided by. Both work on the same chunk arrays. */
#ifndef GEOTAP_FLEET_WATCH_INT_H
#define GEOTAP_FLEET_WATCH_INT_H

#include "geotap/fleet_watch.h"

#include <stdint.h>
#include <stdio.h>

#define CHUNK 240               /* bins per query */
#define NS 1000000000LL
#define SHARE_BINS 240.0        /* bins with traffic a sensor's share of a key averages over */
#define SHARE_MIN_STARTS 20.0   /* flow starts (decayed) a key's shares need; packets below that */
#define DROP_RATIO 0.01         /* a sensor losing this share of its frames is in a gap (the detector's default) */

struct sensor {
    char name[128];
    double *pk, *st;            /* [kcap] its packets and flow starts of the key, decayed as tot */
    int held;                   /* bins still held (in a gap, and the bin after) */
    uint32_t down_bins;         /* of the current gap */
    int released;               /* in a gap past max_hold_s: holds nothing until back */
    int64_t gap_start;          /* ns; 0 = not in a gap */
    int64_t gap_end;
    const char *why;            /* "down" (up = 0) or "capture drops" */
    int up;                     /* up in the last bin read (for /metrics) */
    uint64_t gaps;              /* sensor_gap events so far */
};

struct gt_watch {
    struct gt_watch_opts o;
    gt_prom *p;
    struct gt_keyset ks;
    char by[64];
    const char *labels[4];      /* the key's label names, then the sensor's */
    unsigned nl;
    struct sensor *s;
    size_t nsen, scap;          /* sensors, and the room of the per-sensor arrays */
    uint32_t kcap;              /* room of the per-key arrays */
    double *tot, *tst;          /* [kcap] the fleet's packets and flow starts of the key,
                                 * decayed over SHARE_BINS bins with traffic */
    uint32_t budget;            /* keys of the sensors' tables (geotap_keys), 0 = unknown */
    FILE *ev;
    /* one chunk of bins: [CHUNK][kcap] */
    struct gt_counts *c;
    int64_t *fn, *ln;
    double *spk, *sst;          /* [CHUNK][scap][kcap] per-sensor packets and flow starts */
    uint8_t *sdown;             /* [CHUNK][scap] */
    uint64_t *sfr, *sdr;        /* [CHUNK][scap] frames and capture drops */
};

/* Sensor health of bin b of the chunk (holds in det, shares learned, the
 * sensor_gap events); the capture drops of the sensors not in a gap. */
uint64_t watch_sensor_health(gt_watch *w, gt_anomaly *det, uint32_t b, int64_t start);

#endif
