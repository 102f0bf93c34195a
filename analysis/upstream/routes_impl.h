/* The BGP route table's insides, shared by the table (routes.c), the
 * bgpdump -m parser (routes_parse.c) and the per-prefix summary, queries and
 * export (routes_query.c). The prefix hash probe is inline here: the parser
 * and every query walk it. Not a public header. */
#ifndef GEOTAP_ROUTES_IMPL_H
#define GEOTAP_ROUTES_IMPL_H

#include "geotap/routes.h"

#include <stdint.h>

/* One prefix ever seen; kept (with an empty list) after its last withdrawal. */
struct pfx {
    gt_u128 addr;       /* IPv4 in the low 32 bits */
    uint32_t head;      /* first route node, 0 = none */
    uint8_t len, family;
};

/* One peer's route for one prefix; a node whose epoch differs from its
 * peer's is stale (the session went down after it was learnt). */
struct rt {
    uint32_t next;
    uint32_t peer;
    uint32_t epoch;
    uint32_t origin, upstream;
};

struct peer {
    char ip[48];
    uint32_t as;
    uint32_t epoch;
};

struct gt_routes {
    struct pfx *p; uint32_t np, capp;
    uint32_t *slot; uint32_t nslot;          /* prefix hash: 0 empty, else index+1 */
    struct rt *rt; uint32_t nrt, caprt, freert;   /* node 0 unused; free list */
    struct peer *peer; uint32_t npeer, cappeer;
    uint64_t lenmask4;                       /* bit l: some prefix of length l exists */
    uint64_t lenmask6[3];
    struct gt_routes_stats st;
    /* scratch for path parsing */
    uint32_t *el; uint8_t *elset; size_t capel;
};

static inline uint32_t routes_hash_pfx(int family, gt_u128 addr, unsigned len)
{
    uint64_t a = (uint64_t)(addr >> 64), b = (uint64_t)addr;
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull * (len + 1 + (unsigned)family * 256));
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* Index of the prefix, or UINT32_MAX when absent. */
static inline uint32_t routes_find_pfx(const gt_routes *r, int family, gt_u128 addr, unsigned len)
{
    uint32_t k = routes_hash_pfx(family, addr, len) & (r->nslot - 1);
    for (; r->slot[k]; k = (k + 1) & (r->nslot - 1)) {
        const struct pfx *p = &r->p[r->slot[k] - 1];
        if (p->addr == addr && p->len == len && p->family == family)
            return r->slot[k] - 1;
    }
    return UINT32_MAX;
}

static inline int routes_live(const gt_routes *r, const struct rt *n)
{
    return n->epoch == r->peer[n->peer].epoch;
}

uint32_t routes_add_pfx(gt_routes *r, int family, gt_u128 addr, unsigned len);
/* Index of the peer (ip, as), created when create; UINT32_MAX when absent or out of memory. */
uint32_t routes_find_peer(gt_routes *r, const char *ip, size_t iplen, uint32_t as, int create);
/* Remove stale nodes and peer's node from p's list; 1 when peer had a live one. */
int routes_unlink_peer(gt_routes *r, struct pfx *p, uint32_t peer);
int routes_set_route(gt_routes *r, uint32_t pi, uint32_t peer, uint32_t origin, uint32_t upstream);
/* "ADDR/LEN" between s and e as family, network address and length; 0 or -1. */
int routes_parse_prefix(const char *s, const char *e, int *family, gt_u128 *addr, unsigned *len);

#endif
