/* Classification assembly: load the sources a run needs (country and ASN
 * databases, home networks, BGP routes, upstream maps), read the ASN
 * sources once, and build the classifier with its key tables and per-frame
 * upstream rules. Runs off the packet path (start-up and reload). */
#ifndef GEOTAP_SETUP_H
#define GEOTAP_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/classifier.h"
#include "geotap/engine.h"
#include "geotap/keys.h"

#define GT_SETUP_MAX_LIST 64

struct gt_setup_opts {
    const char *country_db;                     /* NULL = the default database */
    const char *asn_dbs[GT_SETUP_MAX_LIST];     /* none = the default CSVs */
    int n_asn;
    const char *home[GT_SETUP_MAX_LIST];        /* CIDRs counted as home */
    int n_home;
    const char *routes[GT_SETUP_MAX_LIST];      /* BGP route files, applied in order */
    int n_routes;
    const char *upstream_map;                   /* static upstream rules; NULL = none */
    unsigned dims;                              /* GT_DIM_* written */
    int attribution;                            /* count finer keys for the detector's attribution */
    int classes_only;                           /* the classifier only, no key tables (lookup) */
};

/* A built classifier with its key tables. */
struct gt_setup {
    gt_classifier *c;
    struct gt_keys keys;        /* what is written (dims) */
    struct gt_keys count;       /* what the engine counts; finer than keys only for attribution */
    int fine;                   /* count differs from keys */
    uint32_t *proj;             /* [count.nkeys] -> keys id, when fine */
    uint32_t *count_up2;        /* [count.nkeys] upstream index of the key's own ASN (0 = none), when fine */
    uint32_t n_upstreams;       /* upstream names, [0] unknown; 0 = no upstream data */
    struct gt_routes *routes;
    struct gt_upstream_map *map;
    struct gt_upstreams *ups;
    uint32_t *l2_row, *l2_key, l2_base;
    char warning[512];          /* "" or why the compiled-classifier cache was not used */
};

/* Load and build everything o asks for (the classifier through the
 * compiled-classifier cache). 0, or -1 with one line in err. */
int gt_setup_build(const struct gt_setup_opts *o, struct gt_setup *out, char *err, size_t errlen);
/* The engine's view of a build: classifier, counted keys and L2 rules. */
void gt_setup_lookup(const struct gt_setup *s, struct gt_lookup *lk);
/* Free what gt_setup_build made. */
void gt_setup_free(struct gt_setup *s);

#endif
