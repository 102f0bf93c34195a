/* The compiled-classifier cache file (read in classifier_cache_read.c,
 * written in classifier_cache_write.c), version 1:
 *   header | inputs | body
 * header   struct gtc_header (fixed size)
 * inputs   n_inputs records: struct gtc_input then the path, NUL, 8-aligned
 * body     sections at the header's offsets (64-aligned): v4 and v6 trie
 *          arrays (nodes, direct, leaves), classes, ASN org slots + arena,
 *          upstream name offsets + arena.
 * hdr_sum covers header (with hdr_sum zero) and inputs, body_sum the body:
 * a truncated or altered file fails one of them and is rebuilt. Native
 * byte order and layout: the version and a layout word reject a file
 * from another ABI. Not a public header. */
#ifndef GEOTAP_CACHE_FORMAT_H
#define GEOTAP_CACHE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GTC_MAGIC "GTCLSF\r\n"
#define GTC_VERSION 1u
/* sizes of the stored structs: a build with another layout rejects the file */
#define GTC_LAYOUT ((uint32_t)(sizeof(struct gt_pt_node) << 16 | sizeof(struct gt_class) << 8 | 8))

enum { GTC_V4NODES, GTC_V4DIRECT, GTC_V4LEAVES, GTC_V6NODES, GTC_V6DIRECT, GTC_V6LEAVES,
       GTC_CLASSES, GTC_ORGSLOTS, GTC_ORGARENA, GTC_UPOFF, GTC_UPARENA, GTC_NSEC };

struct gtc_header {
    char magic[8];
    uint32_t version, layout;
    uint64_t file_bytes;
    uint64_t opt_hash;              /* hash of the options (gtc_opt_hash) */
    uint64_t hdr_sum, body_sum;
    uint64_t inputs_bytes;          /* the inputs section, right after the header */
    uint32_t n_inputs, nclasses;
    uint32_t sbits4, sbits6;
    uint64_t nnodes4, nleaves4, nnodes6, nleaves6;
    uint64_t orgs_cap, orgs_alen, n_up, up_alen;
    uint64_t off[GTC_NSEC], len[GTC_NSEC];
};

/* One input file as it was when compiled. */
struct gtc_input {
    uint64_t size, ino, dev;
    int64_t mtime_ns, ctime_ns;
    uint64_t content_hash;
    uint32_t path_len, pad_;        /* path follows, path_len bytes + NUL, padded to 8 */
};

/* A 4-lane multiply-rotate hash (the round of xxHash64): about 8 bytes per
 * cycle, so checking a few MB at start-up costs well under a millisecond. */
#define GTC_P1 0x9E3779B185EBCA87ULL
#define GTC_P2 0xC2B2AE3D27D4EB4FULL
#define GTC_P3 0x165667B19E3779F9ULL

static inline uint64_t gtc_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t gtc_round(uint64_t acc, uint64_t w) { return gtc_rotl(acc + w * GTC_P2, 31) * GTC_P1; }

static inline uint64_t gtc_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t a = seed + GTC_P1 + GTC_P2, b = seed + GTC_P2, c = seed, d = seed - GTC_P1;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a = gtc_round(a, w[0]);
        b = gtc_round(b, w[1]);
        c = gtc_round(c, w[2]);
        d = gtc_round(d, w[3]);
    }
    uint64_t h = gtc_rotl(a, 1) + gtc_rotl(b, 7) + gtc_rotl(c, 12) + gtc_rotl(d, 18) + (uint64_t)len;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = gtc_rotl(h ^ gtc_round(0, w), 27) * GTC_P1 + GTC_P3;
    }
    for (; i < len; i++)
        h = gtc_rotl(h ^ (p[i] * GTC_P3), 11) * GTC_P1;
    h ^= h >> 33; h *= GTC_P2; h ^= h >> 29; h *= GTC_P3; h ^= h >> 32;
    return h;
}

#endif
