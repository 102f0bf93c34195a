/* The detector and sinks fed bins in the sensor's order: sinks, detector,
 * then the sinks that want the detector's view; events to every sink. The
 * sensor (sensor.h), geotap merge and geotap watch (fleet.h, fleet_watch.h)
 * and bench/anomaly_replay all hand their bins to one. */
#ifndef GEOTAP_CHAIN_H
#define GEOTAP_CHAIN_H

#include <stddef.h>
#include "geotap/anomaly.h"
#include "geotap/bins.h"
#include "geotap/keys.h"
#include "geotap/sink.h"

typedef struct gt_chain gt_chain;

/* keys must outlive the chain; detect: run the detector (unknown keys
 * ignored, as analyze does) with these options (on_event is the chain's).
 * NULL when out of memory. */
gt_chain *gt_chain_new(const struct gt_keys *keys, int detect, const struct gt_anomaly_opts *ao);
/* Register a sink (freed with the chain). 0, or -1. */
int gt_chain_add_sink(gt_chain *c, struct gt_sink sink);
/* One closed bin (a gt_bin_fn with ctx = the chain). */
void gt_chain_bin(void *chain, const struct gt_bin *b);
/* An event from elsewhere (a watcher's own gaps) to every sink. */
void gt_chain_event(gt_chain *c, const struct gt_event *ev);
/* The detector (NULL without one). */
gt_anomaly *gt_chain_anomaly(gt_chain *c);
/* End of input: the detector's finish, then every sink's; 0 or -1 with the first error. */
int gt_chain_finish(gt_chain *c, char *err, size_t errlen);
/* The sinks (each one's free) and the detector; NULL is fine. */
void gt_chain_free(gt_chain *c);

#endif
