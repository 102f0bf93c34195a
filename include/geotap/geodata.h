/* Geodata sources (analysis/geodata/) read into range sets (see ranges.h):
 * MaxMind DBs, ASN CSVs and the ASN organisation table. */
#ifndef GEOTAP_GEODATA_H
#define GEOTAP_GEODATA_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/ranges.h"

/* Country codes are packed into range values as two bytes. */
#define GT_CC_PACK(a, b) (((uint32_t)(uint8_t)(a) << 8) | (uint32_t)(uint8_t)(b))
#define GT_CC_A(v) ((char)(((v) >> 8) & 0xff))
#define GT_CC_B(v) ((char)((v) & 0xff))

/* ASN -> organisation names collected while loading ASN sources. */
struct gt_asn_orgs;
struct gt_asn_orgs *gt_asn_orgs_new(void);
void gt_asn_orgs_free(struct gt_asn_orgs *o);
/* Organisation of asn, or NULL. */
const char *gt_asn_orgs_get(const struct gt_asn_orgs *o, uint32_t asn);
/* Record the organisation of asn (name need not be NUL-terminated; the first
 * name recorded for an ASN is kept). 0, or -1 when out of memory. */
int gt_asn_orgs_add(struct gt_asn_orgs *o, uint32_t asn, const char *name, size_t len);
/* Bytes held by the table. */
size_t gt_asn_orgs_memory(const struct gt_asn_orgs *o);
/* The table's arrays, to store them: cap slots of 8 bytes ({asn, offset},
 * offset 0 = empty) and the name arena of alen bytes. */
void gt_asn_orgs_arrays(const struct gt_asn_orgs *o, const void **slots, size_t *cap,
                        const char **arena, size_t *alen);
/* A read-only table over stored arrays (borrowed, not copied: they must
 * outlive it; never add to it). NULL when inconsistent or out of memory. */
struct gt_asn_orgs *gt_asn_orgs_view(const void *slots, size_t cap, const char *arena, size_t alen);

/* Walk a MaxMind DB's search tree (libmaxminddb's MMDB_read_node) and add one
 * range per network that has country.iso_code, value GT_CC_PACK. IPv4
 * networks go to rs->v4 (from the IPv4 subtree), IPv6 ones to rs->v6.
 * 0, or -1 with one line naming the file in err. */
int gt_source_mmdb_country(const char *path, struct gt_rangeset *rs, char *err, size_t errlen);
/* Same for autonomous_system_number (value = ASN), organisations into orgs. */
int gt_source_mmdb_asn(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                       char *err, size_t errlen);
/* A CSV of range_start,range_end,asn,organization (addresses or integers;
 * IPv4 or IPv6), as @ip-location-db/asn ships. */
int gt_source_asn_csv(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                      char *err, size_t errlen);
/* An ASN source of either kind: a MaxMind DB (name ending in .mmdb, or the
 * MaxMind metadata marker in the file) goes to gt_source_mmdb_asn, anything
 * else to gt_source_asn_csv. */
int gt_source_asn(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                  char *err, size_t errlen);

#endif
