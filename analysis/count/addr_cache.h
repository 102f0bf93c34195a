/* A burst's address -> key cache (burst_lookup, engine_impl.h): exact
 * match, direct-mapped, one per burst scratch. Traffic repeats addresses
 * (flows of Zipf-like popularity), and a hit is one load and a compare
 * instead of a trie walk plus the class -> key load. Entries hold exactly what the lookup it was filled
 * under gives, so the counts are those of the lookups themselves; the
 * owner clears it (addr_cache_clear) whenever the lookup changes.
 * Invariant, from addr_cache_init on (burst_lookup runs it when its
 * warm-up ends, the first probe after it): a slot holds an address that
 * maps to it (an entry) or one that does not (empty): all zero but in
 * slot 0, to which address 0 (::) maps and which holds 1 when empty. So a
 * probe is one compare of the address, with no "empty" flag to test, and
 * a cache never used is untouched zero pages. Not a public header. */
#ifndef GT_ADDR_CACHE_H
#define GT_ADDR_CACHE_H

#include <stdint.h>
#include <string.h>
#include "geotap/hugemap.h"

/* Sizes: on run_bench's trace (100k Zipf flows) 2^12/2^10 entries miss 32 %
 * of its IPv4 / 29 % of its IPv6 addresses, 2^13/2^11 26 %/24 %, 2^15/2^13
 * 16 %/11 %, 2^16/2^14 11 %/7 %. A miss costs a trie walk of dependent
 * reads (an IPv6 one 3-9 levels), so fewer misses beat an L2-sized table
 * (L2 is 512 KiB here): in quiet paired bench_engine runs 2^17/2^15
 * (2 MiB) gave 7 % more packets per CPU second than 2^15/2^13 with one
 * worker and 1.5 % more than 2^16/2^14; with two workers (both caches then
 * in the shared L3) the three sizes were within 2 %. Pages are touched
 * only when used (a worker is mapped by ac_map, and a short run fills
 * none). */
#define AC4_BITS 17                  /* 131072 IPv4 entries, 1 MiB */
#define AC6_BITS 15                  /* 32768 IPv6 entries, 1 MiB */
/* (2 MiB in all: ac_map's huge page) */

struct ac4 {
    uint32_t addr;                   /* host order */
    uint32_t key;
};

struct ac6 {
    uint64_t hi, lo;                 /* the address's bytes as stored (network order) */
    uint32_t key;
    uint32_t pad_[3];                /* 32 bytes: an entry never straddles a line */
};

struct addr_cache {
    struct ac4 v4[1u << AC4_BITS];
    struct ac6 v6[1u << AC6_BITS];
};

/* A zeroed cache made empty (the invariant above): 1 does not map to slot 0. */
static inline void addr_cache_init(struct addr_cache *c)
{
    c->v4[0].addr = 1;
    c->v6[0].hi = 1;
}

static inline void addr_cache_clear(struct addr_cache *c)
{
    memset(c, 0, sizeof *c);
    addr_cache_init(c);
}

static inline struct ac4 *ac4_slot(struct addr_cache *c, uint32_t a)
{
    return &c->v4[(a * 0x9E3779B1u) >> (32 - AC4_BITS)];
}

static inline struct ac6 *ac6_slot(struct addr_cache *c, uint64_t hi, uint64_t lo)
{
    return &c->v6[((hi ^ lo) * 0x9E3779B97F4A7C15ull) >> (64 - AC6_BITS)];
}

/* ac6_slot of an address's 16 bytes. */
static inline struct ac6 *ac6_slot_of(struct addr_cache *c, const uint8_t *a)
{
    uint64_t hi, lo;
    memcpy(&hi, a, 8);
    memcpy(&lo, a + 8, 8);
    return ac6_slot(c, hi, lo);
}

/* Memory for a structure that begins with an address cache (a worker, a
 * classify stage): zeroed, with a transparent huge page asked for its
 * first 2 MiB, which is the cache (hugemap.h). Why: probed at random, on
 * 4 KiB pages the cache is 512 first-touch faults inside the packet loop
 * (two workers' faults contend for the process's page tables) and a TLB
 * miss on most probes; on a huge page it is one fault and one TLB entry.
 * Only the cache's page: the rest is touched at creation, where zeroing
 * 2 MiB would be waste. NULL when out of memory. */
static inline void *ac_map(size_t size)
{
    return gt_huge_map(size, sizeof(struct addr_cache));
}

/* Unmap what ac_map(size) returned. */
static inline void ac_unmap(void *p, size_t size)
{
    gt_huge_unmap(p, size);
}

#endif
