/* Detector input: attribution and the keys the detector ignores.
 * Attribution: the engine counts finer keys (with asn and upstream) than
 * are written; each bin is projected onto the written keys, each upstream's
 * traffic is totalled (its customers' prefixes and its own), and every
 * written key is given the upstream that carried most of its packets so
 * far, so the detector can tell a country's own outage from its transit's. */
#ifndef GEOTAP_ATTRIBUTION_H
#define GEOTAP_ATTRIBUTION_H

#include <stdint.h>
#include "geotap/anomaly.h"
#include "geotap/bins.h"
#include "geotap/keys.h"

/* Keys that are not places that can go dark: home networks, unknown
 * country (ZZ) when counting by country, AS 0 when counting by AS only. */
int gt_key_is_unknown(const struct gt_keys *keys, uint32_t k);
/* Tell the detector to ignore every such key of keys. */
void gt_detect_ignore_unknown(gt_anomaly *a, const struct gt_keys *keys);

typedef struct gt_attribution gt_attribution;

/* fine: the counted keys; coarse: the written ones; proj[fine->nkeys]: the
 * coarse key of each fine key; own_up[fine->nkeys]: the upstream of the
 * key's own ASN (0 = none); n_upstreams: upstream ids are below it. The
 * tables must outlive the object. NULL when out of memory. */
gt_attribution *gt_attribution_new(const struct gt_keys *fine, const struct gt_keys *coarse,
                                   const uint32_t *proj, const uint32_t *own_up, uint32_t n_upstreams,
                                   gt_anomaly *a);
/* Project bin `in` (fine keys) into *out (coarse keys; valid until the next
 * call) and hand the detector its upstream inputs for that bin (an empty
 * bin after an empty one: nothing to project, O(upstreams)). */
void gt_attribution_bin(gt_attribution *t, const struct gt_bin *in, struct gt_bin *out);
/* What the detector was last given: the upstream of each written key
 * ([coarse->nkeys], 0 = none) and each upstream's packets in the last bin. */
const uint32_t *gt_attribution_key_upstreams(const gt_attribution *t);
const uint64_t *gt_attribution_upstream_pkts(const gt_attribution *t);
/* Free it. */
void gt_attribution_free(gt_attribution *t);

#endif
