/* gen_scenario's countries: a deterministic pick of countries with IPv4
 * space in the GeoLite2 country DB and addresses inside each; for the
 * kp2014 preset North Korea inside 175.45.176.0/22 and China inside AS4837
 * (China Unicom, North Korea's upstream). bench/scenario.h. */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geotap/classifier.h"
#include "geotap/datadir.h"
#include "geotap/geodata.h"
#include "geotap/ranges.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Country value of addr in the normalized set, or 0. */
static uint32_t cc_of(const struct gt_rangeset *cr, uint32_t addr)
{
    size_t lo = 0, hi = cr->n4;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (cr->v4[m].hi < addr)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < cr->n4 && cr->v4[lo].lo <= addr ? cr->v4[lo].val : 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct skey *)a)->cc, ((const struct skey *)b)->cc);
}

/* KP and CN to the front of the shuffled list; -1 when the DB lacks one. */
static int kp_first(uint32_t *ccs, size_t ncc, const char *cdb)
{
    uint32_t want[2] = { GT_CC_PACK('K', 'P'), GT_CC_PACK('C', 'N') };
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < ncc; i++)
            if (ccs[i] == want[w]) {
                ccs[i] = ccs[w];
                ccs[w] = want[w];
            }
    if (ccs[0] != want[0] || ccs[1] != want[1]) {
        fprintf(stderr, "gen_scenario: %s has no KP or CN space\n", cdb);
        return -1;
    }
    return 0;
}

/* KP (K[0]) inside 175.45.176.0/22; CN (K[1]) inside AS4837 (China Unicom). */
static int kp_addresses(const struct gt_rangeset *cr, const char *cdb, const char *asncsv, struct skey *K)
{
    uint32_t p22 = 175u << 24 | 45u << 16 | 176u << 8;
    char err[512];
    for (int a = 0; a < NADDR; a++) {
        uint32_t x = 0;
        for (int tries = 0; tries < 100000 && !x; tries++) {
            uint32_t c = p22 + (uint32_t)(next_u64() % 1024);
            if (cc_of(cr, c) == GT_CC_PACK('K', 'P'))
                x = c;
        }
        if (!x) {
            fprintf(stderr, "gen_scenario: %s does not place 175.45.176.0/22 in KP\n", cdb);
            return -1;
        }
        K[0].addr[a] = x;
    }
    struct gt_rangeset ar = { 0 };
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    const char *ap = asncsv ? asncsv : gt_default_asn_v4();
    if (!orgs || gt_source_asn_csv(ap, &ar, orgs, err, sizeof err) < 0) {
        fprintf(stderr, "gen_scenario: %s\n", orgs ? err : "out of memory");
        return -1;
    }
    size_t idx[4096], nr = 0;
    for (size_t i = 0; i < ar.n4 && nr < 4096; i++)
        if (ar.v4[i].val == 4837)
            idx[nr++] = i;
    for (int a = 0; a < NADDR && nr; a++) {
        for (int tries = 0; tries < 100000; tries++) {
            const struct gt_range4 *r = &ar.v4[idx[next_u64() % nr]];
            uint32_t c = r->lo + (uint32_t)(next_u64() % ((uint64_t)r->hi - r->lo + 1));
            if (cc_of(cr, c) == GT_CC_PACK('C', 'N')) {
                K[1].addr[a] = c;
                break;
            }
        }
    }
    gt_rangeset_free(&ar);
    gt_asn_orgs_free(orgs);
    return 0;
}

int pick_countries(const char *cdb, const char *asncsv, int kp, struct skey *K, unsigned nkeys)
{
    struct gt_rangeset cr = { 0 };
    char err[512];
    if (gt_source_mmdb_country(cdb, &cr, err, sizeof err) < 0) {
        fprintf(stderr, "gen_scenario: %s\n", err);
        return -1;
    }
    gt_rangeset_normalize(&cr);
    uint32_t ccs[1024];
    size_t ncc = 0;
    for (size_t i = 0; i < cr.n4; i++) {
        uint32_t v = cr.v4[i].val;
        size_t j;
        for (j = 0; j < ncc && ccs[j] != v; j++)
            ;
        if (j == ncc && ncc < 1024)
            ccs[ncc++] = v;
    }
    qsort(ccs, ncc, sizeof *ccs, cmp_u32);
    int rc = -1;
    if (ncc < nkeys) {
        fprintf(stderr, "gen_scenario: %s has only %zu countries with IPv4 space\n", cdb, ncc);
        goto out;
    }
    for (size_t i = ncc - 1; i > 0; i--) {     /* deterministic pick of countries */
        size_t j = next_u64() % (i + 1);
        uint32_t t = ccs[i]; ccs[i] = ccs[j]; ccs[j] = t;
    }
    if (kp && kp_first(ccs, ncc, cdb) < 0)
        goto out;
    for (unsigned k = 0; k < nkeys; k++) {
        K[k].cc[0] = GT_CC_A(ccs[k]);
        K[k].cc[1] = GT_CC_B(ccs[k]);
        size_t idx[256], nr = 0;
        for (size_t i = 0; i < cr.n4 && nr < 256; i++)
            if (cr.v4[i].val == ccs[k])
                idx[nr++] = i;
        for (int a = 0; a < NADDR; a++) {
            const struct gt_range4 *r = &cr.v4[idx[next_u64() % nr]];
            K[k].addr[a] = r->lo + (uint32_t)(next_u64() % ((uint64_t)r->hi - r->lo + 1));
        }
    }
    if (kp && kp_addresses(&cr, cdb, asncsv, K) < 0)
        goto out;
    qsort(K, nkeys, sizeof *K, cmp_key);     /* listed by country code */
    rc = 0;
out:
    gt_rangeset_free(&cr);
    return rc;
}
