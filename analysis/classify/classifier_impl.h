/* The classifier's insides, shared by the compiler (classifier.c) and the
 * compiled-classifier cache (classifier_cache.c), which maps the same
 * arrays from a file instead of allocating them. Not a public header. */
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

#endif
