/* Aggregation keys: the projection of a class onto the dimensions the user
 * counts by (--by country,asn,upstream). Every class maps to one key, so the
 * packet path turns a class id into a key id with one array load. */
#ifndef GEOTAP_KEYS_H
#define GEOTAP_KEYS_H

#include <stdint.h>
#include "geotap/classifier.h"

enum gt_dim {
    GT_DIM_COUNTRY = 0x1,
    GT_DIM_ASN = 0x2,
    GT_DIM_UPSTREAM = 0x4,
};

/* One key: the dimensions not counted by are zero. home keys stand for
 * --home-net space and print as "home" in every key column. */
struct gt_key {
    char cc[3];
    uint8_t home;
    uint32_t asn;
    uint32_t upstream;
};

struct gt_keys {
    unsigned dims;              /* GT_DIM_* bits */
    uint32_t nkeys;
    struct gt_key *keys;        /* [nkeys] */
    uint32_t *class_key;        /* [nclasses]: class id -> key id */
};

/* Parse "country", "asn", "upstream" or a comma list of them into GT_DIM_*
 * bits; 0 when invalid. */
unsigned gt_dims_parse(const char *s);
/* Build the key table for classifier c and dims. 0, or -1 when out of memory. */
int gt_keys_build(struct gt_keys *k, const gt_classifier *c, unsigned dims);
/* For every key of fine, the key of coarse it projects onto (coarse's dims
 * must be a subset of fine's) into proj[fine->nkeys]. 0, or -1. */
int gt_keys_project(const struct gt_keys *fine, const struct gt_keys *coarse, uint32_t *proj);
/* Per-frame upstream overrides (L2 rules): for each upstream ups[r], add the
 * keys equal to each existing key but with that upstream; *table gets
 * [nups][old nkeys] key ids (malloc'ed). 0, or -1 when out of memory. */
int gt_keys_upstream_variants(struct gt_keys *k, const uint32_t *ups, uint32_t nups, uint32_t **table);
/* Make room for cap keys in k->keys (so keys appended later never move the
 * array others read). 0, or -1 when out of memory. */
int gt_keys_reserve(struct gt_keys *k, uint32_t cap);
/* Free the key table. */
void gt_keys_free(struct gt_keys *k);

#endif
