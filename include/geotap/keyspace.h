/* Stable key identities: a key is its label (country code, home, ASN,
 * upstream by name), not its index in one classifier build. A rebuilt
 * classifier's class -> key map is rewritten onto the ids the running key
 * table gives the same labels, and labels it lacks are appended to it with
 * new ids, so counters, detector state and sinks stay aligned across a
 * reload and a new database's new countries are counted from then on. */
#ifndef GEOTAP_KEYSPACE_H
#define GEOTAP_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/setup.h"

/* For build nw, a class -> key map (*class_key, [nclasses]) and per-frame
 * variant rows (*l2_key, like nw->l2_key; NULL when none) in the ids of the
 * stable table (whose upstream ids are those of classifier names0, 1..n_up0);
 * labels stable lacks are appended to it (its keys array must have room for
 * cap keys: gt_keys_reserve), *added of them. 0, or -1 with one line in err
 * (more new keys than cap, or an upstream name names0 lacks); nothing is
 * appended then. */
int gt_keyspace_remap(struct gt_keys *stable, uint32_t cap, const gt_classifier *names0, uint32_t n_up0,
                      const struct gt_setup *nw, uint32_t **class_key, uint32_t **l2_key, uint32_t *added,
                      char *err, size_t errlen);

#endif
