/* BGP routes (--routes FILE): which upstream AS carries each prefix, and the
 * shared upstream name table that routes and --upstream-map intern into.
 *
 * Input: bgpdump's one-line format (`bgpdump -m`), plain or gzip; a binary
 * MRT dump (plain, gzip or bzip2; detected by content) is read through
 * `bgpdump -m -- FILE` (binary from $GEOTAP_BGPDUMP, else "bgpdump" on PATH;
 * no shell). Limits: bgpdump exits 0 on a truncated or corrupt MRT file and
 * logs only to syslog, so such a file loads the records bgpdump could decode;
 * a bzip2 file is always handed to bgpdump (bzip2-compressed text is not read).
 * Records are applied in file order, per (peer, prefix), giving the table at
 * the end of the file(s):
 *   TABLE_DUMP / TABLE_DUMP2 "B" and BGP4MP / BGP4MP_ET "A": set the route;
 *   BGP4MP(_ET) "W": remove it;
 *   BGP4MP(_ET) "STATE" leaving Established (old state 6, new state != 6):
 *     every route of that peer is gone (the session reset flushes its RIB).
 * A peer is its (peer_ip, peer_as) pair.
 *
 * Path rules (documented contract, the integration test's oracle applies the
 * same ones independently):
 *   - the AS path is a list of segments; "{a,b}" is an AS_SET, "(..)" and
 *     "[..]" confederation segments are skipped (internal to one AS);
 *   - a one-member AS_SET "{a}" counts as the plain AS a;
 *   - a several-member AS_SET at the END of the path is dropped: the AS
 *     before it aggregated the routes and originated the aggregate
 *     (RFC 4271 9.2.2.2), so it is the origin; a path made only of such a
 *     set has origin = the lowest member;
 *   - a several-member AS_SET elsewhere stands for its lowest member;
 *   - consecutive repeats (prepends) collapse to one AS;
 *   - origin = last AS; upstream = the AS before the origin;
 *   - a path of one AS (the origin is the collector's neighbour itself) or
 *     an empty path (iBGP-local) has no upstream (ASN 0); an empty path has
 *     origin 0 (unknown).
 * Per prefix, across peers:
 *   - each upstream ASN (0 = none) with its share = paths / all paths (the
 *     shares sum to 1);
 *   - origin = the origin AS of most paths (ties: lowest ASN);
 *   - dominant upstream = the non-zero upstream of most paths (ties: lowest
 *     ASN); 0 only when no path has an upstream. */
#ifndef GEOTAP_ROUTES_H
#define GEOTAP_ROUTES_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/ranges.h"
#include "geotap/geodata.h"

/* ---- Upstream name table -------------------------------------------------
 * Index 0 is "unknown" (name ""). An AS upstream is named "AS4837", or
 * "AS4837 <organisation>" once organisations are applied; the same ASN always
 * gets the same index, whether it comes from routes or from the map. */
typedef struct gt_upstreams gt_upstreams;

gt_upstreams *gt_upstreams_new(void);
void gt_upstreams_free(gt_upstreams *t);
/* Index of AS asn (asn > 0), added when new; 0 on out of memory. */
uint32_t gt_upstreams_intern_asn(gt_upstreams *t, uint32_t asn);
/* Index of a map NAME, added when new. A NAME of the form "AS<digits>"
 * (case-insensitive "AS", nothing after the digits) is the AS itself and
 * interns as gt_upstreams_intern_asn(). 0 on out of memory or empty name. */
uint32_t gt_upstreams_intern_name(gt_upstreams *t, const char *name);
/* Number of entries, including [0]. */
uint32_t gt_upstreams_count(const gt_upstreams *t);
/* Name of index i ("" for 0 or out of range). */
const char *gt_upstreams_name(const gt_upstreams *t, uint32_t i);
/* ASN of index i, 0 when it is a named (non-AS) entry or unknown. */
uint32_t gt_upstreams_asn(const gt_upstreams *t, uint32_t i);
/* The name array [0..count-1] for gt_classifier_opts.upstream_names; valid
 * until the next intern or apply_orgs call. */
const char *const *gt_upstreams_names(const gt_upstreams *t);
/* Rename AS entries "AS<n> <org>" where org(ctx, n) returns non-NULL/non-empty.
 * 0, or -1 on out of memory. */
typedef const char *(*gt_org_fn)(const void *ctx, uint32_t asn);
int gt_upstreams_apply_orgs(gt_upstreams *t, gt_org_fn org, const void *ctx);
/* Adapter for gt_upstreams_apply_orgs() over the ASN sources' organisations. */
static inline const char *gt_upstreams_org_from_asn_orgs(const void *ctx, uint32_t asn)
{
    return gt_asn_orgs_get((const struct gt_asn_orgs *)ctx, asn);
}

/* ---- Route table ---------------------------------------------------------- */
typedef struct gt_routes gt_routes;

gt_routes *gt_routes_new(void);
void gt_routes_free(gt_routes *r);
/* Apply one file (bgpdump text plain/gzip, or MRT via bgpdump) on top of what
 * is loaded. 0, or -1 with one line "FILE:LINE: reason" / "FILE: reason" in
 * err (the table keeps the lines applied before the error). */
int gt_routes_load(gt_routes *r, const char *path, char *err, size_t errlen);
/* Apply one bgpdump -m line (no trailing newline needed). 0, or -1 with the
 * reason in err. For tests and for feeding lines from elsewhere. */
int gt_routes_apply_line(gt_routes *r, const char *line, char *err, size_t errlen);

/* Counters of what was read. */
struct gt_routes_stats {
    uint64_t lines;          /* records read */
    uint64_t announce;       /* A and B records */
    uint64_t withdraw;       /* W records */
    uint64_t peer_down;      /* STATE records leaving Established */
    uint64_t other;          /* other STATE changes and ignored record kinds */
    size_t prefixes4, prefixes6;  /* prefixes with at least one live route */
    size_t peers;
    size_t memory;           /* bytes held by the table */
};
void gt_routes_stats(const gt_routes *r, struct gt_routes_stats *st);

/* Per-address query (for `geotap lookup`; not the packet path). */
#define GT_ROUTES_MAX_UP 16
struct gt_route_up { uint32_t asn; uint32_t paths; double share; };
struct gt_route_info {
    int family;                 /* 4 or 6 */
    uint8_t len;                /* prefix length */
    uint32_t prefix4;           /* host order, when family 4 */
    uint8_t prefix6[16];        /* network order, when family 6 */
    uint32_t origin;            /* dominant origin AS, 0 unknown */
    uint32_t upstream;          /* dominant upstream AS, 0 none */
    uint32_t paths;             /* live paths (peers) */
    uint32_t nup;               /* entries in up[], by paths descending, then ASN ascending */
    uint32_t nup_total;         /* distinct upstreams (> nup when truncated) */
    struct gt_route_up up[GT_ROUTES_MAX_UP];  /* ASN 0 = paths without upstream */
};
/* Longest live prefix covering addr (host order): 1 and *out filled, or 0. */
int gt_routes_lookup4(const gt_routes *r, uint32_t addr, struct gt_route_info *out);
/* Same for IPv6 (16 network-order bytes). */
int gt_routes_lookup6(const gt_routes *r, const uint8_t addr[16], struct gt_route_info *out);
/* The route of exactly this prefix ("a.b.c.d/len" or v6): 1 and *out, or 0. */
int gt_routes_get(const gt_routes *r, const char *cidr, struct gt_route_info *out);

/* Call fn for every live prefix (unspecified order); stops when fn returns
 * non-zero and returns that value. */
typedef int (*gt_routes_fn)(void *ctx, const struct gt_route_info *ri);
int gt_routes_foreach(const gt_routes *r, gt_routes_fn fn, void *ctx);

/* Add one range per live prefix to out, value = the interned index of its
 * dominant upstream (0 when none, so a more specific prefix without upstream
 * still overrides a covering one), in prefix-length-ascending order so that
 * gt_rangeset_normalize() lets more specific prefixes win. 0 or -1 (OOM). */
int gt_routes_export(const gt_routes *r, gt_upstreams *names, struct gt_rangeset *out);

#endif
