/* Stable key identities: a key is its label (country code, home, ASN,
 * upstream by name), not its index in one classifier build. A rebuilt
 * classifier's class -> key map is rewritten onto the ids the first build
 * gave the same labels, so counters, detector state and sinks stay aligned
 * across a reload. */
#ifndef GEOTAP_KEYSPACE_H
#define GEOTAP_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/setup.h"

/* For build nw, a class -> key map (*class_key, [nclasses]) and per-frame
 * variant rows (*l2_key, like nw->l2_key; NULL when none) in the key ids of
 * build old. 0, or -1 with one line in err (a label old does not have:
 * new labels need a restart for now). */
int gt_keyspace_remap(const struct gt_setup *old, const struct gt_setup *nw, uint32_t **class_key,
                      uint32_t **l2_key, char *err, size_t errlen);

#endif
