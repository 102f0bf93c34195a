/* Attribution and the detector's ignore policy, without the CLI: a bin of
 * fine keys (country, asn, upstream) projected onto countries, with the
 * upstream totals and each country's upstream worked out by hand below. */
#include "check.h"
#include "geotap/attribution.h"

#include <string.h>

int main(void)
{
    /* Upstream 1 is AS4837 (China Unicom), upstream 2 AS4134. */
    struct gt_key fk[5] = {
        { "ZZ", 0, 0, 0 },
        { "KP", 0, 131279, 1 },      /* North Korea, reached through upstream 1 */
        { "CN", 0, 4837, 0 },        /* China Unicom's own prefixes: its own upstream is 1 */
        { "CN", 0, 4134, 2 },
        { "", 1, 0, 0 },             /* home */
    };
    struct gt_key ck[4] = { { "ZZ", 0, 0, 0 }, { "KP", 0, 0, 0 }, { "CN", 0, 0, 0 }, { "", 1, 0, 0 } };
    struct gt_keys fine = { GT_DIM_COUNTRY | GT_DIM_ASN | GT_DIM_UPSTREAM, 5, fk, NULL };
    struct gt_keys coarse = { GT_DIM_COUNTRY, 4, ck, NULL };
    uint32_t proj[5] = { 0, 1, 2, 2, 3 }, own_up[5] = { 0, 0, 1, 0, 0 };

    /* The ignore policy: unknown country and home, not real countries. */
    CHECK(gt_key_is_unknown(&coarse, 0));
    CHECK(!gt_key_is_unknown(&coarse, 1));
    CHECK(!gt_key_is_unknown(&coarse, 2));
    CHECK(gt_key_is_unknown(&coarse, 3));
    struct gt_keys asn_only = { GT_DIM_ASN, 5, fk, NULL };
    CHECK(gt_key_is_unknown(&asn_only, 0));       /* AS 0 when counting by AS only */
    CHECK(!gt_key_is_unknown(&asn_only, 2));

    struct gt_anomaly_opts ao;
    memset(&ao, 0, sizeof ao);
    gt_anomaly *a = gt_anomaly_new(&ao, &coarse);
    gt_attribution *t = gt_attribution_new(&fine, &coarse, proj, own_up, 3, a);
    CHECK(a && t);

    struct gt_counts c[5];
    int64_t first[5] = { 0, 100, 90, 95, 0 }, last[5] = { 0, 200, 210, 150, 0 };
    memset(c, 0, sizeof c);
    c[1] = (struct gt_counts){ 10, 1000, 0, 0, 0, 0 };
    c[2] = (struct gt_counts){ 5, 500, 5, 400, 2, 7000 };
    c[3] = (struct gt_counts){ 3, 300, 0, 0, 1, 4000 };
    struct gt_bin in = { 1419264000, 60, 5, c, last, first, { 0 }, 0 }, out;
    gt_attribution_bin(t, &in, &out);
    CHECK_EQ_U(out.nkeys, 4);
    CHECK_EQ_U(out.start, 1419264000);
    CHECK_EQ_U(out.counts[1].pkts_from, 10);
    CHECK_EQ_U(out.counts[2].pkts_from, 8);      /* 5 + 3 */
    CHECK_EQ_U(out.counts[2].bytes_from, 800);
    CHECK_EQ_U(out.counts[2].pkts_to, 5);
    CHECK_EQ_U(out.counts[2].starts, 3);         /* flow starts add up too */
    CHECK_EQ_U(out.counts[2].idle_ms, 11000);
    CHECK_EQ_U(out.counts[0].pkts_from, 0);
    CHECK_EQ_U(out.first_ns[2], 90);             /* earliest of the two CN keys */
    CHECK_EQ_U(out.last_ns[2], 210);
    const uint64_t *up = gt_attribution_upstream_pkts(t);
    CHECK_EQ_U(up[0], 0);
    CHECK_EQ_U(up[1], 20);   /* KP's 10 through it, and its own prefixes' 10 */
    CHECK_EQ_U(up[2], 3);
    const uint32_t *ku = gt_attribution_key_upstreams(t);
    CHECK_EQ_U(ku[1], 1);    /* KP through AS4837 */
    CHECK_EQ_U(ku[2], 2);    /* CN: only the AS4134 key has an upstream */

    /* Next bin: the AS4134 key stays at 3 packets in all, so CN keeps it;
     * counts so far decide, not the bin alone. */
    memset(c, 0, sizeof c);
    c[2] = (struct gt_counts){ 50, 0, 0, 0, 0, 0 };
    gt_attribution_bin(t, &in, &out);
    CHECK_EQ_U(out.counts[2].pkts_from, 50);
    CHECK_EQ_U(up[1], 50);   /* only the own-ASN traffic this time */
    CHECK_EQ_U(up[2], 0);
    CHECK_EQ_U(ku[2], 2);

    gt_attribution_free(t);
    gt_anomaly_free(a);
    return check_result();
}
