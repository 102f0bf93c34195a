/* --upstream-map FILE: static upstream rules, and the assembly of the
 * upstream rangeset the classifier compiles.
 *
 * File format, one rule per line (NAME is the rest of the line, may contain
 * spaces; a NAME "AS<n>" is the same upstream as AS n learnt from BGP):
 *   prefix CIDR NAME                 addresses in CIDR (host bits must be 0)
 *   asn N NAME                       addresses whose ASN (ASN sources) is N ("N" or "ASN")
 *   vlan ID NAME                     frames whose outermost 802.1Q VLAN ID is ID (1..4094)
 *   mac XX:XX:XX:XX:XX:XX NAME       frames whose source MAC is this (':' or '-')
 *   interface IFACE NAME             frames captured on IFACE (live)
 * Blank lines and lines starting with '#' are ignored; " #" (whitespace then
 * '#') starts a trailing comment. A malformed or duplicate rule is an error
 * "FILE:LINE: reason".
 *
 * Precedence, highest first:
 *   1. L2 rules, resolved per frame by gt_upstream_map_l2(): mac, then vlan,
 *      then interface. When one matches, it overrides the address's upstream.
 *   2. prefix rules (the longest matching prefix wins among them);
 *   3. asn rules;
 *   4. BGP-derived upstreams (--routes; longest matching prefix).
 * 2-4 are compiled into one upstream rangeset (gt_upstream_compile), so the
 * upstream stays part of the compiled class: no second lookup per packet. */
#ifndef GEOTAP_UPSTREAM_MAP_H
#define GEOTAP_UPSTREAM_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/parse.h"
#include "geotap/ranges.h"
#include "geotap/routes.h"

typedef struct gt_upstream_map gt_upstream_map;

/* Read a map file; NAMEs are interned into names. NULL with one line
 * "FILE:LINE: reason" (or "FILE: reason") in err. */
gt_upstream_map *gt_upstream_map_load(const char *path, gt_upstreams *names, char *err, size_t errlen);
void gt_upstream_map_free(gt_upstream_map *m);

/* Rule counts. */
struct gt_upstream_map_counts { size_t prefix, asn, vlan, mac, iface; };
void gt_upstream_map_counts(const gt_upstream_map *m, struct gt_upstream_map_counts *c);

/* 1 when the map has L2 rules (mac, vlan, interface): only then does the
 * packet path need gt_upstream_map_l2(). */
int gt_upstream_map_has_l2(const gt_upstream_map *m);
/* The upstream indices the L2 rules give, with repeats, into out[max];
 * returns how many were written. */
uint32_t gt_upstream_map_l2_upstreams(const gt_upstream_map *m, uint32_t *out, uint32_t max);
/* Upstream index of frame p by the L2 rules (mac, then vlan, then
 * interface; iface may be NULL), or 0 when none matches. O(1), no allocation. */
uint32_t gt_upstream_map_l2(const gt_upstream_map *m, const struct gt_pkt *p, const char *iface);
/* Upstream index of the interface rule for iface, or 0: lets a capture
 * source resolve its interface once instead of per frame. */
uint32_t gt_upstream_map_iface(const gt_upstream_map *m, const char *iface);

/* Add the prefix rules to out, least specific first (values = upstream
 * indices). 0 or -1 (OOM). */
int gt_upstream_map_export_prefixes(const gt_upstream_map *m, struct gt_rangeset *out);
/* For every range of asn_ranges (values = ASN, as the ASN sources produce;
 * overlaps resolved as gt_rangeset_normalize does) whose ASN has an asn rule,
 * add that range to out with the rule's upstream index. 0 or -1 (OOM). */
int gt_upstream_map_export_asn(const gt_upstream_map *m, const struct gt_rangeset *asn_ranges,
                               struct gt_rangeset *out);

/* The upstream rangeset for gt_classifier_opts.upstream_ranges, in
 * precedence order: BGP routes (may be NULL), then asn rules (needs
 * asn_ranges; skipped when NULL), then prefix rules (map may be NULL); then
 * normalised. BGP upstream ASNs are interned into names. 0 or -1 (OOM). */
int gt_upstream_compile(const gt_routes *routes, const gt_upstream_map *map,
                        const struct gt_rangeset *asn_ranges, gt_upstreams *names,
                        struct gt_rangeset *out);

#endif
