/* The Prometheus exporter's private layout (metrics.c keeps the per-key
 * records and publishes them per bin; metrics_render.c turns the published
 * snapshot into text on the HTTP thread): both sides read the same words. */
#ifndef GEOTAP_METRICS_INT_H
#define GEOTAP_METRICS_INT_H

#include "geotap/metrics.h"
#include "geotap/seqlock.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* One key's record, in the private accumulator and the snapshot alike:
 * counts while the key had its own series (own) or was summed into
 * asn="other" (oth), so every series only grows and the sum is the total. */
/* K_ID: the key itself: the renderer never reads the (growing) key table. */
enum { K_PF, K_BF, K_PT, K_BT, K_ST, O_PF, O_BF, O_PT, O_BT, O_ST, K_IDLE, O_IDLE, K_LAST, K_RATE, K_FLAGS, K_ID,
       K_ID_END = K_ID + 1, KW };
_Static_assert(sizeof(struct gt_key) <= 8 * (K_ID_END - K_ID + 1), "a key fits its words");
enum { F_SEEN = 1, F_OWN = 2, F_OTHER = 4, F_DOWN = 8, F_UNMEAS = 16 };
/* The snapshot's header words; the build-info labels follow as text. */
enum { H_NKEYS, H_BINS, H_IP, H_NONIP, H_TRUNC, H_MAL, H_DROPS, H_LAST_END, H_INFO, INFO_WORDS = 96, HDR = H_INFO + INFO_WORDS };

struct gt_metrics {
    struct gt_metrics_opts o;
    uint32_t cap;                   /* keys the snapshot holds at most */
    unsigned dims;                  /* the key table's (fixed) */
    uint32_t n;                     /* keys seen in bins so far */
    uint64_t *acc;                  /* [cap][KW], collector only */
    uint64_t hdr[HDR];              /* collector only */
    uint32_t *members;              /* ASNs with their own series, sorted; [asn_top] */
    uint32_t *unmeas;               /* [cap] scratch: the detector's not_measurable keys */
    uint32_t nmembers;
    uint64_t reloads_seen;
    _Atomic uint64_t events[5];     /* by gt_event_type; collector writes, renderer reads */
    double start_time;
    void (*extra)(void *ctx, FILE *f);
    void *extra_ctx;
    struct gt_seqlock pub;
    _Atomic uint64_t *words;        /* [HDR + cap * KW] */
};

#endif
