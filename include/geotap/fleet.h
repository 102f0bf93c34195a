/* Many sensors, one view: the keys, bins and detector run of `geotap merge`
 * (per-bin outputs of many analyze runs or sensors summed into one series)
 * and of `geotap watch` (fleet-wide sums read from a Prometheus-compatible
 * store, fleet_watch.h). Both hand the summed bins to the same detector and
 * sinks as the sensor (sensor.h), through a gt_chain (chain.h). */
#ifndef GEOTAP_FLEET_H
#define GEOTAP_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/bins.h"
#include "geotap/keys.h"

/* A key table learned from labels ("CN", "13335", "home"), not from a
 * classifier: ids in order of first sight. */
struct gt_keyset {
    struct gt_keys keys;        /* dims, nkeys, keys; class_key NULL */
    uint32_t cap;
    uint32_t *hash;             /* open addressing, id + 1, [hcap] */
    uint32_t hcap;
};

/* An empty key table for dims (GT_DIM_COUNTRY and/or GT_DIM_ASN). */
void gt_keyset_init(struct gt_keyset *ks, unsigned dims);
/* The id of the key (adding it when new); -1 when out of memory. */
long gt_keyset_id(struct gt_keyset *ks, const struct gt_key *k);
/* The id of the key, -1 when it is not in the table. */
long gt_keyset_find(const struct gt_keyset *ks, const struct gt_key *k);
/* Parse one dimension's label into k: "home", a country code, an AS number.
 * 0, or -1 when it is none of those. */
int gt_key_parse_label(struct gt_key *k, unsigned dim, const char *label);
void gt_keyset_free(struct gt_keyset *ks);

/* Offline merge: bins of csv/jsonl outputs (output.h, with the merge
 * columns) summed per key. Parts of one bin from different files are joined
 * as one stream when they do not overlap in time (a capture split into
 * files: the silences across the cut are counted as one analyze counts them)
 * and as parallel streams otherwise (sensors, or workers). */
typedef struct gt_merge gt_merge;

gt_merge *gt_merge_new(void);
/* Read one file (csv or jsonl, told apart by its first byte). 0, or -1 with
 * "FILE:LINE: reason" in err (bad row, other bin width or key columns than
 * the files before, no merge columns). */
int gt_merge_add_file(gt_merge *m, const char *path, char *err, size_t errlen);
/* The keys of every file read. */
const struct gt_keys *gt_merge_keys(const gt_merge *m);
/* The largest key table of the inputs (the detector's budget, anomaly.h). */
uint32_t gt_merge_budget_keys(const gt_merge *m);
/* Bin width of the inputs (0 before any row). */
uint32_t gt_merge_width(const gt_merge *m);
/* Hand every bin from the first to the last in time order to fn (missing
 * ones as empty bins). 0, or -1 when out of memory. */
int gt_merge_emit(gt_merge *m, gt_bin_fn fn, void *ctx);
void gt_merge_free(gt_merge *m);

#endif
