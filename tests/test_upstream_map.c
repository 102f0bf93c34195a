/* Unit tests of --upstream-map: every rule type, the precedence between
 * them (L2 mac > vlan > interface over address rules; prefix > asn > BGP),
 * on gt_pkt frames built here, and file:line errors for malformed lines. */
#include "geotap/upstream_map.h"
#include "check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/gt_umap_XXXXXX";
static char err[512];

static const char *write_map(const char *name, const char *text)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return ntohl(a.s_addr);
}

static uint32_t rs_value4(const struct gt_rangeset *rs, uint32_t a)
{
    for (size_t i = 0; i < rs->n4; i++)
        if (rs->v4[i].lo <= a && a <= rs->v4[i].hi)
            return rs->v4[i].val;
    return 0;
}

static uint32_t rs_value6(const struct gt_rangeset *rs, const char *s)
{
    uint8_t b[16];
    inet_pton(AF_INET6, s, b);
    gt_u128 a = gt_u128_from_bytes(b);
    for (size_t i = 0; i < rs->n6; i++)
        if (rs->v6[i].lo <= a && a <= rs->v6[i].hi)
            return rs->v6[i].val;
    return 0;
}

static const char *name_at4(const gt_upstreams *n, const struct gt_rangeset *rs, const char *a)
{
    return gt_upstreams_name(n, rs_value4(rs, ip4(a)));
}

#define CHECK_NAME(got, want) CHECK_MSG(strcmp((got), (want)) == 0, "got '%s', want '%s'", (got), (want))

static const char *MAP =
    "# border tap at the Pyongyang exchange\n"
    "\n"
    "prefix 10.1.128.0/17   Direct peering   \n"
    "prefix 10.1.130.0/24 Special  # trailing comment\n"
    "prefix 10.2.3.0/24 Prefix in ASN space\n"
    "prefix 2001:db8:1::/48 V6 peering\n"
    "prefix 192.0.2.0/24 AS200\n"
    "   asn 65001 Transit X\n"
    "asn AS65003 Transit#3\n"
    "vlan 100 Vlan hundred\n"
    "vlan 4094 Vlan top\n"
    "mac 00:1b:21:aa:bb:cc Router A\n"
    "mac 00-1B-21-AA-BB-CD AS4837\n"
    "interface eth1 Uplink one\n";

static void test_rules(void)
{
    gt_upstreams *names = gt_upstreams_new();
    gt_routes *r = gt_routes_new();
    /* BGP: 10/8 via AS100, 10.1/16 via AS200, 10.2.5/24 via AS300, 2001:db8::/32 via AS400 */
    const char *lines[] = {
        "BGP4MP|1|A|192.0.2.1|1|10.0.0.0/8|1 100 9|IGP|x|0|0||NAG||",
        "BGP4MP|1|A|192.0.2.1|1|10.1.0.0/16|1 200 9|IGP|x|0|0||NAG||",
        "BGP4MP|1|A|192.0.2.1|1|10.2.5.0/24|1 300 9|IGP|x|0|0||NAG||",
        "BGP4MP|1|A|192.0.2.1|1|2001:db8::/32|1 400 9|IGP|x|0|0||NAG||",
    };
    for (size_t i = 0; i < 4; i++)
        CHECK(gt_routes_apply_line(r, lines[i], err, sizeof err) == 0);
    /* the ASN sources' ranges: 10.2/16 is AS65001, 10.3/16 AS65002 (no rule),
     * 10.4/16 AS65003 except 10.4.1/24 (a later, overlapping range) AS65002 */
    struct gt_rangeset asn = { 0 };
    gt_rangeset_add4(&asn, ip4("10.2.0.0"), ip4("10.2.255.255"), 65001);
    gt_rangeset_add4(&asn, ip4("10.3.0.0"), ip4("10.3.255.255"), 65002);
    gt_rangeset_add4(&asn, ip4("10.4.0.0"), ip4("10.4.255.255"), 65003);
    gt_rangeset_add4(&asn, ip4("10.4.1.0"), ip4("10.4.1.255"), 65002);

    const char *path = write_map("map.txt", MAP);
    gt_upstream_map *m = gt_upstream_map_load(path, names, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    if (!m)
        return;
    struct gt_upstream_map_counts c;
    gt_upstream_map_counts(m, &c);
    CHECK(c.prefix == 5 && c.asn == 2 && c.vlan == 2 && c.mac == 2 && c.iface == 1);
    CHECK(gt_upstream_map_has_l2(m));

    struct gt_rangeset up = { 0 };
    CHECK(gt_upstream_compile(r, m, &asn, names, &up) == 0);
    CHECK_NAME(name_at4(names, &up, "10.0.0.1"), "AS100");              /* BGP */
    CHECK_NAME(name_at4(names, &up, "10.1.0.1"), "AS200");              /* BGP, more specific */
    CHECK_NAME(name_at4(names, &up, "10.1.200.1"), "Direct peering");   /* prefix > BGP */
    CHECK_NAME(name_at4(names, &up, "10.1.130.5"), "Special");          /* longest prefix rule */
    CHECK_NAME(name_at4(names, &up, "10.2.0.1"), "Transit X");          /* asn > BGP */
    CHECK_NAME(name_at4(names, &up, "10.2.5.1"), "Transit X");          /* asn > more specific BGP */
    CHECK_NAME(name_at4(names, &up, "10.2.3.4"), "Prefix in ASN space"); /* prefix > asn */
    CHECK_NAME(name_at4(names, &up, "10.3.0.1"), "AS100");              /* ASN without rule */
    CHECK_NAME(name_at4(names, &up, "10.4.0.1"), "Transit#3");          /* '#' inside a name */
    CHECK_NAME(name_at4(names, &up, "10.4.1.1"), "AS100");              /* overlap resolved: AS65002 */
    CHECK_NAME(name_at4(names, &up, "11.0.0.1"), "");
    CHECK_NAME(gt_upstreams_name(names, rs_value6(&up, "2001:db8:1::1")), "V6 peering");
    CHECK_NAME(gt_upstreams_name(names, rs_value6(&up, "2001:db8:2::1")), "AS400");
    /* a map NAME "AS200" is the BGP upstream AS200: one index */
    CHECK_EQ_U(rs_value4(&up, ip4("192.0.2.1")), rs_value4(&up, ip4("10.1.0.1")));
    CHECK_EQ_U(gt_upstreams_intern_name(names, "Router A"), gt_upstreams_intern_name(names, "Router A"));

    /* without the ASN ranges, asn rules cannot apply: BGP shows through */
    struct gt_rangeset up2 = { 0 };
    CHECK(gt_upstream_compile(r, m, NULL, names, &up2) == 0);
    CHECK_NAME(name_at4(names, &up2, "10.2.0.1"), "AS100");
    CHECK_NAME(name_at4(names, &up2, "10.2.3.4"), "Prefix in ASN space");
    gt_rangeset_free(&up2);
    /* map alone */
    CHECK(gt_upstream_compile(NULL, m, &asn, names, &up2) == 0);
    CHECK_NAME(name_at4(names, &up2, "10.0.0.1"), "");
    CHECK_NAME(name_at4(names, &up2, "10.2.0.1"), "Transit X");
    gt_rangeset_free(&up2);

    /* L2 rules on frames */
    uint32_t ra = gt_upstreams_intern_name(names, "Router A");
    uint32_t as4837 = gt_upstreams_intern_asn(names, 4837);
    uint32_t v100 = gt_upstreams_intern_name(names, "Vlan hundred");
    uint32_t vtop = gt_upstreams_intern_name(names, "Vlan top");
    uint32_t eth1 = gt_upstreams_intern_name(names, "Uplink one");
    struct gt_pkt p;
    memset(&p, 0, sizeof p);
    p.kind = GT_PKT_IP;
    p.family = 4;
    p.src.v4 = ip4("10.1.200.1");
    const uint8_t mac_a[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };
    const uint8_t mac_b[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcd };
    const uint8_t mac_x[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xce };

    CHECK_EQ_U(gt_upstream_map_l2(m, &p, NULL), 0);            /* nothing L2 known */
    memcpy(p.src_mac, mac_a, 6);
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, NULL), 0);            /* has_mac 0: MAC not trusted */
    p.has_mac = 1;
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, NULL), ra);
    p.has_vlan = 1;
    p.vlan = 100;
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth1"), ra);         /* mac > vlan > interface */
    memcpy(p.src_mac, mac_b, 6);
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth1"), as4837);     /* "AS4837" name = the AS */
    memcpy(p.src_mac, mac_x, 6);
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth1"), v100);       /* unknown MAC: vlan */
    p.vlan = 4094;
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth1"), vtop);
    p.vlan = 101;
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth1"), eth1);       /* unknown VLAN: interface */
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, "eth2"), 0);
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, NULL), 0);
    p.has_vlan = 0;
    p.vlan = 100;
    CHECK_EQ_U(gt_upstream_map_l2(m, &p, NULL), 0);            /* has_vlan 0: tag not used */
    CHECK_EQ_U(gt_upstream_map_iface(m, "eth1"), eth1);
    CHECK_EQ_U(gt_upstream_map_iface(m, "eth10"), 0);

    gt_rangeset_free(&up);
    gt_rangeset_free(&asn);
    gt_upstream_map_free(m);
    gt_routes_free(r);

    /* a map of address rules only has no L2 work */
    path = write_map("noL2.txt", "prefix 10.0.0.0/8 X\n");
    m = gt_upstream_map_load(path, names, err, sizeof err);
    CHECK(m && !gt_upstream_map_has_l2(m));
    gt_upstream_map_free(m);
    gt_upstreams_free(names);
}

static void bad_case(const char *text, int line, const char *what)
{
    gt_upstreams *names = gt_upstreams_new();
    const char *path = write_map("bad.txt", text);
    char want[300];
    snprintf(want, sizeof want, "%s:%d: ", path, line);
    err[0] = 0;
    gt_upstream_map *m = gt_upstream_map_load(path, names, err, sizeof err);
    CHECK_MSG(m == NULL && strncmp(err, want, strlen(want)) == 0 && strstr(err, what),
              "map '%s': err '%s', want '%s...%s'", text, err, want, what);
    gt_upstream_map_free(m);
    gt_upstreams_free(names);
}

static void test_malformed(void)
{
    bad_case("frobnicate 1 X\n", 1, "unknown rule");
    bad_case("# c\n\nprefix 10.0.0.0/8\n", 3, "missing NAME");
    bad_case("prefix\n", 1, "missing argument");
    bad_case("prefix 10.0.0.0/33 X\n", 1, "bad prefix");
    bad_case("prefix 10.0.0.1/8 X\n", 1, "host bits");
    bad_case("prefix 2001:db8::1/32 X\n", 1, "host bits");
    bad_case("prefix nonsense X\n", 1, "bad prefix");
    bad_case("asn 0 X\n", 1, "bad ASN");
    bad_case("asn 4294967296 X\n", 1, "bad ASN");
    bad_case("asn -5 X\n", 1, "bad ASN");
    bad_case("vlan 0 X\n", 1, "bad VLAN");
    bad_case("vlan 4095 X\n", 1, "bad VLAN");
    bad_case("vlan 12a X\n", 1, "bad VLAN");
    bad_case("mac 00:11:22:33:44 X\n", 1, "bad MAC");
    bad_case("mac 00:11:22:33:44:5g X\n", 1, "bad MAC");
    bad_case("mac 00:11:22:33:44:55:66 X\n", 1, "bad MAC");
    bad_case("interface eth0\n", 1, "missing NAME");
    bad_case("vlan 7 A\nvlan 7 B\n", 2, "duplicate vlan 7 (first at line 1)");
    bad_case("mac 00:11:22:33:44:55 A\nmac 00-11-22-33-44-55 B\n", 2, "duplicate mac");
    bad_case("prefix 10.0.0.0/8 A\nprefix 10.0.0.0/8 B\n", 2, "duplicate prefix");
    bad_case("asn 5 A\nasn AS5 B\n", 2, "duplicate asn");
    bad_case("interface eth0 A\ninterface eth0 B\n", 2, "duplicate interface");
    gt_upstreams *names = gt_upstreams_new();
    char p[256];
    snprintf(p, sizeof p, "%s/none", dir);
    CHECK(gt_upstream_map_load(p, names, err, sizeof err) == NULL && strstr(err, p));
    gt_upstreams_free(names);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_rules();
    test_malformed();
    char p[256];
    const char *files[] = { "map.txt", "noL2.txt", "bad.txt" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_result();
}
