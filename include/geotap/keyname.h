/* The one key renderer of every output. A key prints two ways:
 *  - value, one dimension as a column, label or JSON string shows it (csv,
 *    jsonl, alert labels): "KP", "4837", the upstream's name (its number
 *    when unnamed, "" for none), and "home" for --home-net space in every
 *    dimension;
 *  - label, the dimensions joined by " / ", for people: short ("KP",
 *    "AS4837", "via NAME": event lines, the report, which shows the names
 *    in a column of their own) or named ("KP North Korea", "ZZ (unknown)",
 *    "AS4837 CHINA UNICOM ...", "AS0 (unknown)", "via NAME", "via
 *    (unknown)": the table, the live view); "home" alone.
 * Every view ranks keys the same way: by packets (from + to), then key id. */
#ifndef GEOTAP_KEYNAME_H
#define GEOTAP_KEYNAME_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/classifier.h"
#include "geotap/keys.h"

/* Names an upstream id (for the key object and the attribution); NULL or ""
 * prints the number. */
typedef const char *(*gt_upstream_name_fn)(void *ctx, uint32_t upstream);

/* Where names come from: upstream names (callback, or cls when NULL) and AS
 * organisations (cls; none without it). All may be NULL: numbers only. */
struct gt_key_names {
    const gt_classifier *cls;
    gt_upstream_name_fn upstream;
    void *ctx;
};

/* Dimension dim (GT_DIM_*) of key id as a value into buf[len]. */
void gt_key_value(const struct gt_keys *keys, const struct gt_key_names *nm, uint32_t id, unsigned dim,
                  char *buf, size_t len);
/* Key id as a label into buf[len]: named (country and AS names) or short. */
void gt_key_render(const struct gt_keys *keys, const struct gt_key_names *nm, uint32_t id, int named,
                   char *buf, size_t len);
/* gt_key_value with names from cls (may be NULL), for older callers. */
void gt_key_label(const struct gt_keys *keys, const gt_classifier *cls, uint32_t key,
                  unsigned dim, char *buf, size_t len);

#endif
