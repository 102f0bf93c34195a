/* The compiled classifier: every source is compiled at start-up into one
 * longest-prefix-match structure per address family mapping an address to a
 * small class id; the id indexes a table of {country, asn, upstream}.
 * Immutable once built: build a new one beside it and swap the pointer. */
#ifndef GEOTAP_CLASSIFIER_H
#define GEOTAP_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "geotap/poptrie.h"
#include "geotap/ranges.h"

#define GT_CLASS_HOME 0x1u      /* inside a --home-net; not looked up */

/* The attributes of one class. */
struct gt_class {
    char cc[3];                 /* ISO 3166 alpha-2, "ZZ" when unknown, NUL-terminated */
    uint8_t flags;              /* GT_CLASS_* */
    uint32_t asn;               /* 0 when unknown */
    uint32_t upstream;          /* index into the upstream name table, 0 = unknown */
};

struct gt_asn_orgs;

/* Everything the classifier compiles. NULL/0 fields are skipped. */
struct gt_classifier_opts {
    const char *country_db;           /* MaxMind .mmdb with country.iso_code */
    const char *const *asn_dbs;       /* .mmdb (autonomous_system_number) or CSV range files */
    size_t n_asn_dbs;
    /* ASN ranges already read (instead of asn_dbs), so a caller that needs
     * them too reads the sources once; asn_orgs is taken over (freed with
     * the classifier, also on failure). */
    const struct gt_rangeset *asn_ranges;
    struct gt_asn_orgs *asn_orgs;
    const char *const *home_nets;     /* CIDR strings */
    size_t n_home_nets;
    const struct gt_rangeset *upstream_ranges;  /* values are upstream indices */
    const char *const *upstream_names;          /* [0] unused ("unknown") */
    size_t n_upstream_names;
};

typedef struct gt_classifier gt_classifier;

/* Load and compile all sources. On failure returns NULL and writes one
 * line naming the file and the problem into err. */
gt_classifier *gt_classifier_build(const struct gt_classifier_opts *opts, char *err, size_t errlen);
/* Free a classifier built by gt_classifier_build(). */
void gt_classifier_free(gt_classifier *c);

/* The lookup structures, the first member of every gt_classifier: exposed
 * so that the per-packet lookups below inline (a call costs measurably at
 * these rates). Read-only; never touch it directly. */
struct gt_classifier_lookup {
    struct gt_poptrie v4, v6;
};

/* Class id of an IPv4 address (host order). Never fails: unknown space has a class. */
static inline uint32_t gt_classify4(const gt_classifier *c, uint32_t addr)
{
    return gt_poptrie_lookup4(&((const struct gt_classifier_lookup *)(const void *)c)->v4, addr);
}

/* Class id of an IPv6 address (16 network-order bytes). */
static inline uint32_t gt_classify6(const gt_classifier *c, const uint8_t addr[16])
{
    uint64_t hi, lo;
    memcpy(&hi, addr, 8);
    memcpy(&lo, addr + 8, 8);
    gt_u128 a = ((gt_u128)__builtin_bswap64(hi) << 64) | __builtin_bswap64(lo);
    return gt_poptrie_lookup6(&((const struct gt_classifier_lookup *)(const void *)c)->v6, a);
}
/* Classify n IPv4 addresses at once (lets the implementation overlap memory accesses). */
void gt_classify4_batch(const gt_classifier *c, const uint32_t *addrs, uint32_t *ids, size_t n);
/* Classify n IPv6 addresses (16 network-order bytes each) at once. */
void gt_classify6_batch(const gt_classifier *c, const uint8_t (*addrs)[16], uint32_t *ids, size_t n);

/* Classify n4 IPv4 and n6 IPv6 addresses at once, in steps, so that a
 * caller can do other work while the walks' cache misses are in flight
 * (the engine probes its IPv4 addresses while the IPv6 ones walk): start,
 * step now and then, finish; ids4[i] for a4[i], ids6[i] for a6[i]. The
 * arrays must stay put until finish, and so must the classifier. State
 * only: never touch its fields. */
#define GT_WALK_LANES 16
#define GT_WALK_RQ 64
struct gt_classify_walk {
    const struct gt_poptrie *p4, *p6;
    const uint32_t *a4;
    const uint8_t (*a6)[16];
    uint32_t *ids4, *ids6;
    size_t n6, n, next;
    uint32_t active;                 /* lanes with a walk in flight */
    unsigned nrq;
    struct gt_walk_lane {
        const struct gt_poptrie *pt;
        const struct gt_pt_node *nd;
        gt_u128 k;
        uint32_t *out;
    } lane[GT_WALK_LANES];
    const uint32_t *rq_leaf[GT_WALK_RQ];   /* leaves found, read at finish */
    uint32_t *rq_out[GT_WALK_RQ];
};
/* Begin the walks of a4[0..n4) and a6[0..n6). */
void gt_classify_walk_start(struct gt_classify_walk *w, const gt_classifier *c, const uint32_t *a4, uint32_t *ids4,
                            size_t n4, const uint8_t (*a6)[16], uint32_t *ids6, size_t n6);
/* One trie level of every walk in flight (no-op when none is). */
void gt_classify_walk_step(struct gt_classify_walk *w);
/* Complete every walk: all ids are written after it. */
void gt_classify_walk_finish(struct gt_classify_walk *w);

/* Number of classes; ids are 0 .. n-1. */
uint32_t gt_classifier_nclasses(const gt_classifier *c);
/* Attributes of class id. */
const struct gt_class *gt_classifier_class(const gt_classifier *c, uint32_t id);
/* Organisation name of an ASN from the ASN source, or NULL. */
const char *gt_classifier_asn_org(const gt_classifier *c, uint32_t asn);
/* Name of an upstream index ("" for 0). */
const char *gt_classifier_upstream_name(const gt_classifier *c, uint32_t upstream);
/* Bytes held by the compiled lookup structures (v4 + v6 + class table). */
size_t gt_classifier_memory(const gt_classifier *c);
/* Seconds spent compiling (load + build), for the benchmark. */
double gt_classifier_build_seconds(const gt_classifier *c);

#endif
