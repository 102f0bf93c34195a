/* Independent oracles for the classifier tests: libmaxminddb's own lookup
 * (MMDB_lookup_sockaddr + MMDB_get_value), a seeded PRNG, and a binary
 * search over ASN CSV ranges ("a later line wins where lines overlap"). */
#ifndef GEOTAP_TESTS_CLASSIFIER_ORACLE_H
#define GEOTAP_TESTS_CLASSIFIER_ORACLE_H

#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "geotap/classifier.h"

static uint64_t oracle_rng = 0x1234567887654321ULL;
static inline uint64_t oracle_rand(void)       /* splitmix64 */
{
    uint64_t z = (oracle_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* libmaxminddb's record for an address (v4 host order, or 16 bytes). */
static inline MMDB_lookup_result_s oracle_lookup(const MMDB_s *db, int v6, uint32_t a4, const uint8_t *a6)
{
    int e;
    if (!v6) {
        struct sockaddr_in s = { .sin_family = AF_INET };
        s.sin_addr.s_addr = htonl(a4);
        return MMDB_lookup_sockaddr(db, (struct sockaddr *)&s, &e);
    }
    struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
    memcpy(s.sin6_addr.s6_addr, a6, 16);
    return MMDB_lookup_sockaddr(db, (struct sockaddr *)&s, &e);
}

/* country.iso_code as libmaxminddb gives it, "ZZ" when absent. */
static inline void oracle_cc(const MMDB_s *db, int v6, uint32_t a4, const uint8_t *a6, char cc[3])
{
    MMDB_lookup_result_s r = oracle_lookup(db, v6, a4, a6);
    MMDB_entry_data_s ed;
    strcpy(cc, "ZZ");
    if (r.found_entry && MMDB_get_value(&r.entry, &ed, "country", "iso_code", NULL) == MMDB_SUCCESS &&
        ed.has_data && ed.type == MMDB_DATA_TYPE_UTF8_STRING && ed.data_size == 2) {
        cc[0] = ed.utf8_string[0];
        cc[1] = ed.utf8_string[1];
    }
}

/* autonomous_system_number as libmaxminddb gives it, 0 when absent. */
static inline uint32_t oracle_asn(const MMDB_s *db, int v6, uint32_t a4, const uint8_t *a6)
{
    MMDB_lookup_result_s r = oracle_lookup(db, v6, a4, a6);
    MMDB_entry_data_s ed;
    if (r.found_entry && MMDB_get_value(&r.entry, &ed, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
        ed.has_data && ed.type == MMDB_DATA_TYPE_UINT32)
        return ed.uint32;
    return 0;
}

/* Random IPv6 address, biased into the interesting parts of the space. */
static inline void oracle_rand6(uint8_t a[16])
{
    uint64_t h = oracle_rand(), l = oracle_rand();
    memcpy(a, &h, 8);
    memcpy(a + 8, &l, 8);
    switch (oracle_rand() % 8) {
    case 0: case 1: case 2: case 3:             /* global unicast 2000::/3 */
        a[0] = (uint8_t)(0x20 | (a[0] & 0x1f));
        break;
    case 4:                                     /* densely used 2001::/16, 2400::/6, 2a00::/12 */
        a[0] = (uint8_t)(0x20 | (oracle_rand() % 3 == 0 ? 0x01 : (oracle_rand() & 1) ? 0x04 | (a[0] & 3) : 0x0a));
        if (a[0] == 0x2a)
            a[1] &= 0x0f;
        else if (a[0] == 0x20)
            a[1] = 0x01;
        break;
    case 5:                                     /* ::/96 (IPv4-compatible) */
        memset(a, 0, 12);
        break;
    case 6:                                     /* ::ffff:0:0/96 and 2002::/16 (aliases of IPv4) */
        if (oracle_rand() & 1) {
            memset(a, 0, 10);
            a[10] = a[11] = 0xff;
        } else {
            a[0] = 0x20;
            a[1] = 0x02;
        }
        break;
    default:                                    /* anywhere */
        break;
    }
}

static inline void fmt6(const uint8_t a[16], char *buf)
{
    inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static inline void fmt4(uint32_t a, char *buf)
{
    uint32_t n = htonl(a);
    inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
}

#endif
