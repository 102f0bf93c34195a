/* libFuzzer: the ASN CSV source. Byte 0 picks an IPv4 or an IPv6 file name
 * (the reader takes integers as IPv6 by name); the rest is the CSV. What
 * loads is normalised: sorted and disjoint. */
#include "fuzz_util.h"
#include "geotap/geodata.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    char path[128], err[512];
    snprintf(path, sizeof path, "/tmp/geotap-fuzz-asn-%d-%s.csv", (int)getpid(), d[0] & 1 ? "ipv6" : "ipv4");
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(d + 1, 1, n - 1, f);
    fclose(f);
    struct gt_rangeset rs = { 0 };
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    FUZZ_CHECK(orgs);
    err[0] = 0;
    int rc = gt_source_asn_csv(path, &rs, orgs, err, sizeof err);
    unlink(path);
    if (rc)
        FUZZ_CHECK(err[0] && !strchr(err, '\n'));
    FUZZ_CHECK(gt_rangeset_normalize(&rs) == 0);
    for (size_t i = 0; i < rs.n4; i++)
        FUZZ_CHECK(rs.v4[i].lo <= rs.v4[i].hi && (!i || rs.v4[i - 1].hi < rs.v4[i].lo));
    for (size_t i = 0; i < rs.n6; i++)
        FUZZ_CHECK(rs.v6[i].lo <= rs.v6[i].hi && (!i || rs.v6[i - 1].hi < rs.v6[i].lo));
    gt_rangeset_free(&rs);
    gt_asn_orgs_free(orgs);
    return 0;
}
