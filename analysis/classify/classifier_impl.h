/* The classifier's insides, shared by the compiler (classifier.c, with its
 * range preparation in classifier_ranges.c), the batch lookups and
 * accessors (classifier_lookup.c) and the compiled-classifier cache
 * (classifier_cache*.c), which maps the same arrays from a file instead of
 * allocating them. Not a public header. */
#ifndef GEOTAP_CLASSIFIER_IMPL_H
#define GEOTAP_CLASSIFIER_IMPL_H

#include "geotap/classifier.h"
#include "geotap/geodata.h"

struct gt_classifier {
    struct gt_classifier_lookup lk;     /* first: the inline lookups cast to it */
    const struct gt_class *classes;
    uint32_t nclasses;
    struct gt_asn_orgs *orgs;
    /* Upstream names: name i at up_arena + up_off[i] (up_off[0] = ""). */
    const uint32_t *up_off;
    const char *up_arena;
    size_t n_upstream_names, up_alen;
    double build_seconds;
    int cache_state;                    /* enum gt_cache_state */
    void *file_map;                     /* the cache file mapped (arrays point into it), or NULL */
    size_t file_bytes;
    void *owned[3];                     /* built in memory: classes, up_off, up_arena */
    char *cache_file;                   /* the entry mapped or written, or NULL */
};

/* One normalised dimension of one family, widened to 128 bits (build time). */
struct dim { const struct gt_range4 *r4; const struct gt_range6 *r6; size_t n; };

static inline gt_u128 dim_lo(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].lo : d->r6[i].lo; }
static inline gt_u128 dim_hi(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].hi : d->r6[i].hi; }
static inline uint32_t dim_val(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].val : d->r6[i].val; }

/* Copy of a caller's range set into dst. 0 or -1 (out of memory). */
int cls_copy_rangeset(struct gt_rangeset *dst, const struct gt_rangeset *src);
/* Make rs disjoint and sorted for the class sweep. 0 or -1 (out of memory). */
int cls_canonicalize(struct gt_rangeset *rs);

#endif
