/* Address-range sets: what every classification source (GeoIP country,
 * ASN database or CSV, home networks, BGP routes, upstream maps) produces,
 * and what the classifier compiles. A value is a source-specific id. */
#ifndef GEOTAP_RANGES_H
#define GEOTAP_RANGES_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 gt_u128;

struct gt_range4 { uint32_t lo, hi; uint32_t val; };       /* inclusive, host order */
struct gt_range6 { gt_u128 lo, hi; uint32_t val; };        /* inclusive, host order */

struct gt_rangeset {
    struct gt_range4 *v4; size_t n4, cap4;
    struct gt_range6 *v6; size_t n6, cap6;
};

/* Append an inclusive IPv4 range; returns 0, or -1 when out of memory. */
int gt_rangeset_add4(struct gt_rangeset *rs, uint32_t lo, uint32_t hi, uint32_t val);
/* Append an inclusive IPv6 range; returns 0, or -1 when out of memory. */
int gt_rangeset_add6(struct gt_rangeset *rs, gt_u128 lo, gt_u128 hi, uint32_t val);
/* Sort by start and resolve overlaps: a later-added range wins where ranges
 * overlap (so more specific prefixes added after less specific ones win).
 * Leaves disjoint ranges, adjacent equal values merged. 0 or -1 (OOM). */
int gt_rangeset_normalize(struct gt_rangeset *rs);
/* Release the arrays; the set is empty and reusable afterwards. */
void gt_rangeset_free(struct gt_rangeset *rs);

/* 16 network-order bytes to a host-order 128-bit integer, and back. */
gt_u128 gt_u128_from_bytes(const uint8_t b[16]);
void gt_u128_to_bytes(gt_u128 v, uint8_t b[16]);

/* Parse "A.B.C.D/len" or "v6addr/len" (or a bare address, as /32 or /128).
 * Returns 4 or 6 and fills lo/hi (v4 in lo4/hi4), or 0 when invalid. */
int gt_parse_cidr(const char *s, uint32_t *lo4, uint32_t *hi4, gt_u128 *lo6, gt_u128 *hi6);

#endif
