/* The one time formatter (timefmt.h) and the one key renderer (keyname.h)
 * against hand-written expectations: 1419264903 s is 2014-12-22T16:15:03Z
 * (calendar.timegm), -1 ns is 1969-12-31T23:59:59.999999Z; country names
 * from country_names.h ("KP" North Korea), no classifier (so no AS
 * organisations), upstream names from a callback. */
#include <string.h>
#include "check.h"
#include "geotap/keyname.h"
#include "geotap/timefmt.h"

#define EXPECT(got, want) CHECK_MSG(!strcmp((got), (want)), "'%s', expected '%s'", (got), (want))

static const char *up_name(void *ctx, uint32_t u)
{
    (void)ctx;
    return u == 7 ? "AS4837 CHINA UNICOM" : NULL;
}

static void test_time(void)
{
    char b[GT_TIME_LEN];
    EXPECT(gt_time_format(b, sizeof b, 1419264903, 0, GT_TIME_S), "2014-12-22T16:15:03Z");
    EXPECT(gt_time_format(b, sizeof b, 1419264903, 123456789, GT_TIME_US), "2014-12-22T16:15:03.123456Z");
    EXPECT(gt_time_format(b, sizeof b, 1419264903, 999999999, GT_TIME_TEXT), "2014-12-22 16:15:03Z");
    EXPECT(gt_time_format(b, sizeof b, 1419264903, 0, GT_TIME_HMS), "16:15:03Z");
    EXPECT(gt_time_format(b, sizeof b, 1419264903, 0, GT_TIME_DATE), "2014-12-22");
    EXPECT(gt_time_format_ns(b, sizeof b, 1419264903123456789LL, GT_TIME_US), "2014-12-22T16:15:03.123456Z");
    EXPECT(gt_time_format_ns(b, sizeof b, -1, GT_TIME_US), "1969-12-31T23:59:59.999999Z");
    EXPECT(gt_time_format_ns(b, sizeof b, -1, GT_TIME_S), "1969-12-31T23:59:59Z");
    /* beyond what gmtime represents: the number of seconds */
    EXPECT(gt_time_format(b, sizeof b, INT64_MAX, 0, GT_TIME_S), "9223372036854775807");
    /* the shorthands */
    gt_rfc3339(1419264903, b);
    EXPECT(b, "2014-12-22T16:15:03Z");
    gt_rfc3339_ns(b, sizeof b, 1419264903000001000LL);
    EXPECT(b, "2014-12-22T16:15:03.000001Z");
    /* a short buffer is cut, still terminated */
    char s[8];
    gt_time_format(s, sizeof s, 1419264903, 0, GT_TIME_S);
    EXPECT(s, "2014-12");
}

static void test_keys(void)
{
    struct gt_key kk[4] = {
        { .cc = "KP", .asn = 131279, .upstream = 7 },
        { .cc = "ZZ", .asn = 0, .upstream = 0 },
        { .cc = "CN", .asn = 4837, .upstream = 9 },    /* upstream without a name */
        { .cc = "", .home = 1 },
    };
    struct gt_keys all = { .dims = GT_DIM_COUNTRY | GT_DIM_ASN | GT_DIM_UPSTREAM, .nkeys = 4, .keys = kk };
    struct gt_keys cc = { .dims = GT_DIM_COUNTRY, .nkeys = 4, .keys = kk };
    struct gt_keys asn = { .dims = GT_DIM_ASN, .nkeys = 4, .keys = kk };
    struct gt_key_names nm = { .upstream = up_name };
    char b[256];
    gt_key_value(&all, &nm, 0, GT_DIM_COUNTRY, b, sizeof b);
    EXPECT(b, "KP");
    gt_key_value(&all, &nm, 0, GT_DIM_ASN, b, sizeof b);
    EXPECT(b, "131279");
    gt_key_value(&all, &nm, 0, GT_DIM_UPSTREAM, b, sizeof b);
    EXPECT(b, "AS4837 CHINA UNICOM");
    gt_key_value(&all, &nm, 2, GT_DIM_UPSTREAM, b, sizeof b);
    EXPECT(b, "9");
    gt_key_value(&all, &nm, 1, GT_DIM_UPSTREAM, b, sizeof b);
    EXPECT(b, "");
    gt_key_value(&all, &nm, 3, GT_DIM_ASN, b, sizeof b);
    EXPECT(b, "home");

    gt_key_render(&all, &nm, 0, 0, b, sizeof b);
    EXPECT(b, "KP / AS131279 / via AS4837 CHINA UNICOM");
    gt_key_render(&all, &nm, 0, 1, b, sizeof b);
    EXPECT(b, "KP North Korea / AS131279 / via AS4837 CHINA UNICOM");
    gt_key_render(&all, &nm, 1, 1, b, sizeof b);
    EXPECT(b, "ZZ (unknown) / AS0 (unknown) / via (unknown)");
    gt_key_render(&all, &nm, 2, 0, b, sizeof b);
    EXPECT(b, "CN / AS4837 / via 9");
    gt_key_render(&all, &nm, 3, 1, b, sizeof b);
    EXPECT(b, "home");
    gt_key_render(&cc, NULL, 0, 0, b, sizeof b);
    EXPECT(b, "KP");
    gt_key_render(&cc, NULL, 1, 1, b, sizeof b);
    EXPECT(b, "ZZ (unknown)");
    gt_key_render(&asn, NULL, 2, 0, b, sizeof b);
    EXPECT(b, "AS4837");
    gt_key_label(&asn, NULL, 2, GT_DIM_ASN, b, sizeof b);
    EXPECT(b, "4837");
}

int main(void)
{
    test_time();
    test_keys();
    return check_result();
}
