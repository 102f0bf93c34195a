/* Unit tests for gt_parse(): hand-built frames of every supported link type
 * and encapsulation, with hand-computed expectations, each also parsed at
 * every truncated length k (copied into a malloc'ed buffer of exactly k bytes
 * so that ASan flags any read at or past caplen). */
#include "geotap/parse.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* ---- frame pieces (hex; spaces ignored) ---- */
#define MAC_D "ffffffffffff"
#define MAC_S "020000000001"          /* expected src_mac of Ethernet frames */
#define ETH(et) MAC_D MAC_S et
#define A4 "c0000201"                 /* 192.0.2.1 */
#define B4 "c6336402"                 /* 198.51.100.2 */
#define C4 "0a000001"                 /* 10.0.0.1: tunnelled */
#define D4 "0a000002"
#define A6 "20010db8000000000000000000000001"
#define B6 "20010db8000000000000000000000002"
#define C6 "fd000000000000000000000000000001"
#define D6 "fd000000000000000000000000000002"
/* IPv4: total length (2 bytes hex), protocol (1 byte hex), addresses. */
#define V4(tl, proto, s, d) " 4500" tl "1234 0000 40" proto "0000 " s " " d " "
/* IPv6: payload length, next header, addresses. */
#define V6(pl, nh, s, d) " 60000000" pl nh "40 " s " " d " "
#define UDP(sp, dp, len) " " sp dp len "0000 "
#define PAY8 " 0102030405060708 "

struct tcase {
    const char *name;
    int dlt;
    const char *hex;
    int kind;           /* expected kind of the whole frame (without decap) */
    uint32_t need;      /* below this caplen: TRUNCATED; from it on: the full result */
    int fam;            /* when kind == IP */
    const char *src, *dst;
    uint32_t l3;
    int has_vlan;
    unsigned vlan;
    const char *mac;    /* NULL: has_mac must be 0 */
    /* Decap cases: with GT_PARSE_DECAP the frame yields this inner header once
     * caplen >= need_in, the outer one between need and need_in. */
    uint32_t need_in;
    int ifam;
    const char *isrc, *idst;
    uint32_t il3;
};

static const struct tcase cases[] = {
    /* ---- Ethernet and what rides on ethertypes ---- */
    { "eth ipv4", GT_DLT_EN10MB, ETH("0800") V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "eth ipv6", GT_DLT_EN10MB, ETH("86dd") V6("0008", "11", A6, B6) PAY8,
      GT_PKT_IP, 54, 6, A6, B6, 48, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "802.3 llc/snap ipv4", GT_DLT_EN10MB, ETH("0024") "aaaa03 000000 0800" V4("001c", "06", A4, B4) PAY8,
      GT_PKT_IP, 42, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "802.3 llc stp", GT_DLT_EN10MB, ETH("0026") "424203 0000 00 00" PAY8,
      GT_PKT_NONIP, 17, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "802.3 snap cisco oui", GT_DLT_EN10MB, ETH("0026") "aaaa03 00000c 2000" PAY8,
      GT_PKT_NONIP, 22, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "arp", GT_DLT_EN10MB, ETH("0806") "0001 0800 0604 0001" PAY8,
      GT_PKT_NONIP, 14, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "802.1q ipv4", GT_DLT_EN10MB, ETH("8100") "2064 0800" V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 38, 4, A4, B4, 28, 1, 100, "020000000001", 0, 0, 0, 0, 0 },
    { "802.1ad+802.1q ipv6", GT_DLT_EN10MB, ETH("88a8") "00c8 8100 0064 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 62, 6, A6, B6, 40, 1, 200, "020000000001", 0, 0, 0, 0, 0 },
    { "0x9100+802.1q ipv4", GT_DLT_EN10MB, ETH("9100") "eabc 8100 0005 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 42, 4, A4, B4, 20, 1, 0xabc, "020000000001", 0, 0, 0, 0, 0 },
    { "802.1q llc/snap ipv4", GT_DLT_EN10MB, ETH("8100") "0007 0024" "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 46, 4, A4, B4, 20, 1, 7, "020000000001", 0, 0, 0, 0, 0 },
    { "pppoe ipv4", GT_DLT_EN10MB, ETH("8864") "1100 0001 001e 0021" V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 42, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "pppoe ipv6", GT_DLT_EN10MB, ETH("8864") "1100 0001 002a 0057" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 62, 6, A6, B6, 40, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "pppoe lcp", GT_DLT_EN10MB, ETH("8864") "1100 0001 000a c021" PAY8,
      GT_PKT_NONIP, 22, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "2 vlans pppoe ipv4", GT_DLT_EN10MB, ETH("8100") "0010 8100 0020 8864" "1100 0001 001e 0021" V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 50, 4, A4, B4, 28, 1, 16, "020000000001", 0, 0, 0, 0, 0 },
    { "mpls 2 labels ipv4", GT_DLT_EN10MB, ETH("8847") "00010040 000021ff" V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 42, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "mpls multicast ipv6", GT_DLT_EN10MB, ETH("8848") "000641ff" V6("0008", "11", A6, B6) PAY8,
      GT_PKT_IP, 58, 6, A6, B6, 48, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "mpls pw control word", GT_DLT_EN10MB, ETH("8847") "000641ff" "00000000" ETH("0800") V4("0014", "11", A4, B4),
      GT_PKT_NONIP, 19, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "0x0800 carrying ipv6 (Wireshark: IPv6)", GT_DLT_EN10MB, ETH("0800") V6("0000", "3b", A6, B6),
      GT_PKT_IP, 54, 6, A6, B6, 40, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "tso total length 0", GT_DLT_EN10MB, ETH("0800") " 4500 0000 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ipv4 options", GT_DLT_EN10MB, ETH("0800") " 4600 001c 1234 0000 4011 0000 " A4 " " B4 " 01010100 " " 0000",
      GT_PKT_IP, 38, 4, A4, B4, 28, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    /* ---- malformed ---- */
    { "ihl 4", GT_DLT_EN10MB, ETH("0800") " 4400 001c 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_MALFORMED, 34, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ihl 0", GT_DLT_EN10MB, ETH("0800") " 4000 001c 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_MALFORMED, 34, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "total length < header", GT_DLT_EN10MB, ETH("0800") " 4500 0013 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_MALFORMED, 34, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ihl 15 total 40", GT_DLT_EN10MB, ETH("0800") " 4f00 0028 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_MALFORMED, 34, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    /* the version nibble is judged on its own byte */
    { "version 5", GT_DLT_EN10MB, ETH("0800") " 5500 001c 1234 0000 4011 0000 " A4 " " B4 PAY8,
      GT_PKT_MALFORMED, 15, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "0x86dd carrying ipv4", GT_DLT_EN10MB, ETH("86dd") V4("0028", "11", A4, B4) PAY8 PAY8 " 0000 0000",
      GT_PKT_MALFORMED, 54, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ipv6 version 7", GT_DLT_EN10MB, ETH("86dd") " 70000000 0000 3b40 " A6 B6,
      GT_PKT_MALFORMED, 54, 0, 0, 0, 0, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    /* ---- Linux cooked ---- */
    { "sll ipv4", GT_DLT_LINUX_SLL, "0000 0001 0006 0a1b2c3d4e5f 0000 0800" V4("001c", "06", A4, B4) PAY8,
      GT_PKT_IP, 36, 4, A4, B4, 28, 0, 0, "0a1b2c3d4e5f", 0, 0, 0, 0, 0 },
    { "sll vlan ipv6", GT_DLT_LINUX_SLL, "0004 0001 0006 0a1b2c3d4e5f 0000 8100 0123 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 60, 6, A6, B6, 40, 1, 0x123, "0a1b2c3d4e5f", 0, 0, 0, 0, 0 },
    { "sll netlink", GT_DLT_LINUX_SLL, "0004 0338 0000 0000000000000000 0800" V4("001c", "06", A4, B4) PAY8,
      GT_PKT_NONIP, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "sll tun ipv4 (no mac)", GT_DLT_LINUX_SLL, "0000 fffe 0000 0000000000000000 0800" V4("001c", "06", A4, B4) PAY8,
      GT_PKT_IP, 36, 4, A4, B4, 28, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "sll2 ipv6", GT_DLT_LINUX_SLL2, "86dd 0000 00000002 0001 00 06 0a1b2c3d4e5f0000" V6("0008", "11", A6, B6) PAY8,
      GT_PKT_IP, 60, 6, A6, B6, 48, 0, 0, "0a1b2c3d4e5f", 0, 0, 0, 0, 0 },
    { "sll2 ipv4", GT_DLT_LINUX_SLL2, "0800 0000 00000002 0001 04 06 0a1b2c3d4e5f0000" V4("0014", "11", A4, B4),
      GT_PKT_IP, 40, 4, A4, B4, 20, 0, 0, "0a1b2c3d4e5f", 0, 0, 0, 0, 0 },
    /* ---- raw IP ---- */
    { "raw 12 ipv4", GT_DLT_RAW, V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 20, 4, A4, B4, 28, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "raw 14 ipv6", GT_DLT_RAW_BSD, V6("0008", "11", A6, B6) PAY8,
      GT_PKT_IP, 40, 6, A6, B6, 48, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "linktype raw 101 ipv4", GT_DLT_LINKTYPE_RAW, V4("0014", "11", A4, B4),
      GT_PKT_IP, 20, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "linktype raw 101 ipv6", GT_DLT_LINKTYPE_RAW, V6("0000", "3b", A6, B6),
      GT_PKT_IP, 40, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "dlt ipv4", GT_DLT_IPV4, V4("0014", "11", A4, B4),
      GT_PKT_IP, 20, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "dlt ipv6", GT_DLT_IPV6, V6("0000", "3b", A6, B6),
      GT_PKT_IP, 40, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "dlt ipv6 carrying ipv4", GT_DLT_IPV6, V4("0028", "11", A4, B4) PAY8 PAY8 "00000000",
      GT_PKT_MALFORMED, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "raw version 0", GT_DLT_RAW, "00000000" PAY8,
      GT_PKT_MALFORMED, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* ---- BSD null / loop ---- */
    { "null le ipv4", GT_DLT_NULL, "02000000" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null be ipv4", GT_DLT_NULL, "00000002" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null af 10 ipv6", GT_DLT_NULL, "0a000000" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null af 24 ipv6", GT_DLT_NULL, "18000000" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null af 28 ipv6", GT_DLT_NULL, "1c000000" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null af 30 be ipv6", GT_DLT_NULL, "0000001e" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null af 7", GT_DLT_NULL, "07000000" V4("0014", "11", A4, B4),
      GT_PKT_NONIP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "null garbage af (fuzz file)", GT_DLT_NULL, "002f006c 65cb0000 0095067f",
      GT_PKT_NONIP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "loop ipv4", GT_DLT_LOOP, "00000002" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "loop ipv6", GT_DLT_LOOP, "00000018" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "loop le word is not AF_INET", GT_DLT_LOOP, "02000000" V4("0014", "11", A4, B4),
      GT_PKT_NONIP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* ---- PPP family ---- */
    { "ppp ff03 0021 ipv4", GT_DLT_PPP, "ff03 0021" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp acfc+pfc 21 ipv4", GT_DLT_PPP, "21" V4("0014", "11", A4, B4),
      GT_PKT_IP, 21, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp ff03 pfc 57 ipv6", GT_DLT_PPP, "ff03 57" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 43, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp 0057 ipv6", GT_DLT_PPP, "0057" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 42, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp lcp", GT_DLT_PPP, "ff03 c021 0101 0004",
      GT_PKT_NONIP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp mpls ipv4", GT_DLT_PPP, "ff03 0281 000641ff" V4("0014", "11", A4, B4),
      GT_PKT_IP, 28, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp_serial ipv4", GT_DLT_PPP_SERIAL, "ff03 0021" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp_serial cisco hdlc ipv6", GT_DLT_PPP_SERIAL, "0f00 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppp_ether ipv4", GT_DLT_PPP_ETHER, "1100 1234 001e 0021" V4("001c", "11", A4, B4) PAY8,
      GT_PKT_IP, 28, 4, A4, B4, 28, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "c_hdlc ipv4", GT_DLT_C_HDLC, "0f00 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 24, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "c_hdlc ipv6", GT_DLT_C_HDLC, "8f00 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 44, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "c_hdlc slarp", GT_DLT_C_HDLC, "8f00 8035 00000000",
      GT_PKT_NONIP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* ---- PPI ---- */
    { "ppi eth ipv4", GT_DLT_PPI, "00 00 0800 01000000" ETH("0800") V4("0014", "11", A4, B4),
      GT_PKT_IP, 42, 4, A4, B4, 20, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ppi with field, eth ipv6", GT_DLT_PPI, "00 00 1400 01000000 0200 0800 0000000000000000" ETH("86dd") V6("0000", "3b", A6, B6),
      GT_PKT_IP, 74, 6, A6, B6, 40, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ppi raw ipv4", GT_DLT_PPI, "00 00 0800 65000000" V4("0014", "11", A4, B4),
      GT_PKT_IP, 28, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "ppi length 4", GT_DLT_PPI, "00 00 0400 01000000" ETH("0800") V4("0014", "11", A4, B4),
      GT_PKT_MALFORMED, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* ---- 802.11 and radiotap ---- */
    { "802.11 data ipv4", GT_DLT_IEEE802_11, "0801 0000 " MAC_D " 020000000002 " MAC_D " 0000"
      "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 52, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 qos data ipv6", GT_DLT_IEEE802_11, "8802 0000 " MAC_D " 020000000002 " MAC_D " 0000 0000"
      "aaaa03 000000 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 74, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 4-addr qos+htc data ipv4", GT_DLT_IEEE802_11, "8883 0000 " MAC_D " 020000000002 " MAC_D " 0000 "
      MAC_D " 0000 00000000" "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 64, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 qos a-msdu ipv4", GT_DLT_IEEE802_11, "8801 0000 " MAC_D " 020000000002 " MAC_D " 0000 8000"
      MAC_D " 020000000002 001c" "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 68, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 protected", GT_DLT_IEEE802_11, "0841 0000 " MAC_D " 020000000002 " MAC_D " 0000" PAY8 PAY8,
      GT_PKT_NONIP, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 beacon", GT_DLT_IEEE802_11, "8000 0000 " MAC_D " 020000000002 " MAC_D " 0000" PAY8 PAY8,
      GT_PKT_NONIP, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 null data", GT_DLT_IEEE802_11, "4801 0000 " MAC_D " 020000000002 " MAC_D " 0000",
      GT_PKT_NONIP, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "802.11 data, non-ip llc", GT_DLT_IEEE802_11, "0801 0000 " MAC_D " 020000000002 " MAC_D " 0000"
      "aaaa03 000000 888e 0102",
      GT_PKT_NONIP, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "radiotap 802.11 ipv4", GT_DLT_IEEE802_11_RADIO, "00 00 0800 00000000"
      "0801 0000 " MAC_D " 020000000002 " MAC_D " 0000" "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 60, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* flags 0x20: the 26-byte QoS header is padded to 28 */
    { "radiotap datapad qos ipv4", GT_DLT_IEEE802_11_RADIO, "00 00 0a00 02000000 20 00"
      "8801 0000 " MAC_D " 020000000002 " MAC_D " 0000 0000 0000" "aaaa03 000000 0800" V4("0014", "11", A4, B4),
      GT_PKT_IP, 66, 4, A4, B4, 20, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* TSFT + flags (no pad) + an extended present word */
    { "radiotap tsft+flags+ext ipv6", GT_DLT_IEEE802_11_RADIO, "00 00 2000 03000080 00000000 00000000 0000000000000000 10 00 0000 00000000"
      "0801 0000 " MAC_D " 020000000002 " MAC_D " 0000" "aaaa03 000000 86dd" V6("0000", "3b", A6, B6),
      GT_PKT_IP, 104, 6, A6, B6, 40, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "radiotap version 1", GT_DLT_IEEE802_11_RADIO, "01 00 0800 00000000" PAY8,
      GT_PKT_MALFORMED, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* ---- tunnels: outer without decap, inner with it ---- */
    { "ip-in-ip", GT_DLT_EN10MB, ETH("0800") V4("0030", "04", A4, B4) V4("001c", "11", C4, D4) PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 48, 0, 0, "020000000001", 54, 4, C4, D4, 28 },
    { "6in4", GT_DLT_EN10MB, ETH("0800") V4("0044", "29", A4, B4) V6("0008", "11", C6, D6) PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 68, 0, 0, "020000000001", 74, 6, C6, D6, 48 },
    { "6in6", GT_DLT_EN10MB, ETH("86dd") V6("0030", "29", A6, B6) V6("0008", "11", C6, D6) PAY8,
      GT_PKT_IP, 54, 6, A6, B6, 88, 0, 0, "020000000001", 94, 6, C6, D6, 48 },
    { "4in6 after hop-by-hop and dest opts", GT_DLT_EN10MB, ETH("86dd") V6("0024", "00", A6, B6)
      "3c00 010400000000" "0400 010400000000" V4("0014", "11", C4, D4),
      GT_PKT_IP, 54, 6, A6, B6, 76, 0, 0, "020000000001", 90, 4, C4, D4, 20 },
    { "4in6 after first fragment", GT_DLT_EN10MB, ETH("86dd") V6("001c", "2c", A6, B6)
      "0400 0001 12345678" V4("0014", "11", C4, D4),
      GT_PKT_IP, 54, 6, A6, B6, 68, 0, 0, "020000000001", 82, 4, C4, D4, 20 },
    { "gre ipv4", GT_DLT_EN10MB, ETH("0800") V4("002c", "2f", A4, B4) "0000 0800" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 44, 0, 0, "020000000001", 58, 4, C4, D4, 20 },
    { "gre c+k+s ipv6", GT_DLT_EN10MB, ETH("0800") V4("004c", "2f", A4, B4) "b000 86dd 00000000 00000007 00000001"
      V6("0000", "3b", C6, D6),
      GT_PKT_IP, 34, 4, A4, B4, 76, 0, 0, "020000000001", 90, 6, C6, D6, 40 },
    { "gre transparent ethernet with vlans", GT_DLT_EN10MB, ETH("8100") "0007 0800" V4("0042", "2f", A4, B4)
      "2000 6558 0000002a" "00aabbccddee 00aabbccddef 8100 0009 0800" V4("0014", "11", C4, D4),
      GT_PKT_IP, 38, 4, A4, B4, 66, 1, 7, "020000000001", 84, 4, C4, D4, 20 },
    { "gtp-u ipv4", GT_DLT_EN10MB, ETH("0800") V4("0038", "11", A4, B4) UDP("0868", "0868", "0024")
      "30ff 0014 00000001" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 56, 0, 0, "020000000001", 70, 4, C4, D4, 20 },
    { "gtp-u seq + pdu session ext ipv6", GT_DLT_EN10MB, ETH("0800") V4("0054", "11", A4, B4) UDP("d431", "0868", "0040")
      "36ff 0030 00000001 1234 00 85 01 10 01 00" V6("0000", "3b", C6, D6),
      GT_PKT_IP, 34, 4, A4, B4, 84, 0, 0, "020000000001", 98, 6, C6, D6, 40 },
    { "vxlan", GT_DLT_EN10MB, ETH("0800") V4("0046", "11", A4, B4) UDP("c000", "12b5", "0032")
      "08000000 00006400" ETH("0800") V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 70, 0, 0, "020000000001", 84, 4, C4, D4, 20 },
    /* CAPWAP data: HLEN 2, WBID 1, T=1: 802.11 with swapped frame control */
    { "capwap 802.11", GT_DLT_EN10MB, ETH("0800") V4("0058", "11", A4, B4) UDP("c000", "147f", "0044")
      "00100300 00000000" "0108 0000 " MAC_D " 020000000002 " MAC_D " 0000" "aaaa03 000000 0800" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 88, 0, 0, "020000000001", 102, 4, C4, D4, 20 },
    { "capwap 802.3", GT_DLT_EN10MB, ETH("0800") V4("0046", "11", A4, B4) UDP("147f", "c000", "0032")
      "00100000 00000000" ETH("0800") V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 70, 0, 0, "020000000001", 84, 4, C4, D4, 20 },
};

/* Tunnels that decap must NOT enter (the outer header is the answer). */
static const struct tcase nodecap[] = {
    { "ipv4 non-first fragment, proto 4", GT_DLT_EN10MB, ETH("0800") " 4500 0030 1234 0010 4004 0000 " A4 " " B4
      V4("001c", "11", C4, D4) PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 48, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ipv6 non-first fragment", GT_DLT_EN10MB, ETH("86dd") V6("001c", "2c", A6, B6)
      "0400 0100 12345678" V4("0014", "11", C4, D4),
      GT_PKT_IP, 54, 6, A6, B6, 68, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "gtp echo request", GT_DLT_EN10MB, ETH("0800") V4("0038", "11", A4, B4) UDP("0868", "0868", "0024")
      "3201 0018 00000000 1234 0000" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 56, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "gre version 1 (pptp)", GT_DLT_EN10MB, ETH("0800") V4("0030", "2f", A4, B4) "3001 880b 00000000" "ff03 0021" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 48, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "ip-in-ip with bad inner ihl", GT_DLT_EN10MB, ETH("0800") V4("0030", "04", A4, B4) " 4300 001c 1234 0000 4011 0000 " C4 " " D4 PAY8,
      GT_PKT_IP, 34, 4, A4, B4, 48, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "capwap fragment", GT_DLT_EN10MB, ETH("0800") V4("0046", "11", A4, B4) UDP("147f", "c000", "0032")
      "00100080 00000000" ETH("0800") V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 70, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
    { "udp to another port", GT_DLT_EN10MB, ETH("0800") V4("0038", "11", A4, B4) UDP("0035", "0035", "0024")
      "30ff 0014 00000001" V4("0014", "11", C4, D4),
      GT_PKT_IP, 34, 4, A4, B4, 56, 0, 0, "020000000001", 0, 0, 0, 0, 0 },
};

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int half = -1;
    for (; *h; h++) {
        int v;
        if (*h >= '0' && *h <= '9') v = *h - '0';
        else if (*h >= 'a' && *h <= 'f') v = *h - 'a' + 10;
        else if (*h >= 'A' && *h <= 'F') v = *h - 'A' + 10;
        else continue;
        if (half < 0) {
            half = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(half << 4 | v);
            n++;
            half = -1;
        }
    }
    if (half >= 0 || n > cap) {
        fprintf(stderr, "bad test hex: %s\n", h);
        abort();
    }
    return n;
}

/* Does *p hold address family fam with hex addresses s, d? */
static int addrs_are(const struct gt_pkt *p, int fam, const char *s, const char *d)
{
    uint8_t a[16], b[16];
    size_t la = unhex(s, a, sizeof a), lb = unhex(d, b, sizeof b);
    if (p->family != fam)
        return 0;
    if (fam == 4) {
        if (la != 4 || lb != 4)
            abort();
        uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        uint32_t y = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        return p->src.v4 == x && p->dst.v4 == y;
    }
    return la == 16 && lb == 16 && !memcmp(p->src.v6, a, 16) && !memcmp(p->dst.v6, b, 16);
}

static const char *kind_name(int k)
{
    static const char *names[] = { "IP", "NONIP", "TRUNCATED", "MALFORMED" };
    return k >= 0 && k < 4 ? names[k] : "?";
}

/* Parse the first k bytes of frame from an exactly-k-byte heap buffer. */
static int parse_prefix(int dlt, const uint8_t *frame, uint32_t k, unsigned flags, struct gt_pkt *p)
{
    uint8_t *buf = malloc(k ? k : 1);
    if (!buf)
        abort();
    memcpy(buf, frame, k);
    /* poison the output so stale values can't pass */
    memset(p, 0xa5, sizeof *p);
    int r = gt_parse(dlt, k ? buf : NULL, k, flags, p);
    free(buf);
    return r;
}

static void run_case(const struct tcase *t, unsigned flags)
{
    uint8_t frame[512];
    uint32_t len = (uint32_t)unhex(t->hex, frame, sizeof frame);
    int decap = (flags & GT_PARSE_DECAP) && t->need_in;
    const char *mode = (flags & GT_PARSE_DECAP) ? "decap" : (flags & GT_PARSE_NO_L2) ? "outer, no L2" : "outer";
    uint8_t mac[6];
    if (t->mac)
        unhex(t->mac, mac, 6);
    CHECK_MSG(len >= t->need && (!decap || len >= t->need_in), "%s: frame shorter than its need", t->name);

    for (uint32_t k = 0; k <= len; k++) {
        struct gt_pkt p;
        int r = parse_prefix(t->dlt, frame, k, flags, &p);
        CHECK_MSG(r == p.kind, "%s/%s k=%u: return %d != kind %d", t->name, mode, k, r, p.kind);
        if (k < t->need) {
            CHECK_MSG(r == GT_PKT_TRUNCATED, "%s/%s k=%u: %s, want TRUNCATED", t->name, mode, k, kind_name(r));
            continue;
        }
        CHECK_MSG(r == t->kind, "%s/%s k=%u: %s, want %s", t->name, mode, k, kind_name(r), kind_name(t->kind));
        if (r != t->kind)
            continue;
        if (t->kind == GT_PKT_IP) {
            int inner = decap && k >= t->need_in;
            int ok = inner ? addrs_are(&p, t->ifam, t->isrc, t->idst) : addrs_are(&p, t->fam, t->src, t->dst);
            CHECK_MSG(ok, "%s/%s k=%u: wrong %s addresses (family %u)", t->name, mode, k,
                      inner ? "inner" : "outer", p.family);
            if (k == len)
                CHECK_MSG(p.l3_len == (inner ? t->il3 : t->l3), "%s/%s: l3_len %u, want %u", t->name, mode,
                          p.l3_len, inner ? t->il3 : t->l3);
        }
        if (flags & GT_PARSE_NO_L2)
            continue;   /* the L2 fields may be left unset (poisoned here) */
        CHECK_MSG(p.has_vlan == t->has_vlan && (!t->has_vlan || p.vlan == t->vlan),
                  "%s/%s k=%u: vlan %u/%u, want %d/%u", t->name, mode, k, p.has_vlan, p.vlan, t->has_vlan, t->vlan);
        CHECK_MSG(p.has_mac == (t->mac != NULL) && (!t->mac || !memcmp(p.src_mac, mac, 6)),
                  "%s/%s k=%u: mac", t->name, mode, k);
    }
}

/* IP-in-IP nested 10 deep: decap stops after 8 levels (the 9th header). */
static void test_depth_bound(void)
{
    uint8_t f[14 + 10 * 20];
    unhex(ETH("0800"), f, 14);
    for (int i = 0; i < 10; i++) {
        uint8_t *h = f + 14 + 20 * i;
        unhex(V4("0014", "04", "0a000000", "0b000000"), h, 20);
        h[2] = (uint8_t)((20 * (10 - i)) >> 8);
        h[3] = (uint8_t)(20 * (10 - i));
        h[15] = (uint8_t)(i + 1);       /* src 10.0.0.(i+1) */
    }
    struct gt_pkt p;
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, sizeof f, GT_PARSE_DECAP, &p), GT_PKT_IP);
    CHECK_EQ_U(p.src.v4, 0x0a000009u);
    CHECK_EQ_U(p.l3_len, 40);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, sizeof f, 0, &p), GT_PKT_IP);
    CHECK_EQ_U(p.src.v4, 0x0a000001u);
}

/* PPI nested in PPI must not recurse. */
static void test_ppi_nesting(void)
{
    uint8_t f[64];
    for (int i = 0; i < 8; i++)
        unhex("00 00 0800 c0000000", f + 8 * i, 8);
    struct gt_pkt p;
    CHECK_EQ_U(gt_parse(GT_DLT_PPI, f, sizeof f, 0, &p), GT_PKT_MALFORMED);
}

/* Random byte mutations of every test frame, parsed as every link type with
 * and without decap from exactly-sized heap buffers: ASan/UBSan must stay
 * quiet and results must be self-consistent. */
static void test_mutations(void)
{
    static const int dlts[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228, 229, 276 };
    uint64_t rng = 0x9e3779b97f4a7c15u;
    long bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t frame[512];
        uint32_t len = (uint32_t)unhex(cases[i].hex, frame, sizeof frame);
        for (int m = 0; m < 60; m++) {
            uint8_t mut[512];
            memcpy(mut, frame, len);
            for (int j = 0; j < 3; j++) {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
                mut[rng % len] = (uint8_t)(rng >> 32);
            }
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            int dlt = (m & 1) ? cases[i].dlt : dlts[rng % (sizeof dlts / sizeof dlts[0])];
            uint32_t k = (m & 2) ? len : (uint32_t)((rng >> 20) % (len + 1));
            struct gt_pkt p;
            int r = parse_prefix(dlt, mut, k, (m & 4) ? GT_PARSE_DECAP : 0, &p);
            if (r < 0 || r > GT_PKT_MALFORMED || r != p.kind ||
                (r == GT_PKT_IP && p.family != 4 && p.family != 6) || (r != GT_PKT_IP && p.family != 0))
                bad++;
        }
    }
    CHECK_EQ_U(bad, 0);
}

/* Maximal frames made of one repeated header: must end cleanly (iterative
 * loops, no deep recursion, no read past the end). */
static void test_long_chains(void)
{
    enum { N = 65535 };
    uint8_t *f = malloc(N);
    struct gt_pkt p;
    if (!f)
        abort();
    uint32_t i;
    /* stacked VLAN tags to the end */
    unhex(ETH("8100"), f, 14);
    for (i = 14; i + 4 <= N; i += 4)
        unhex("0001 8100", f + i, 4);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, N, 0, &p), GT_PKT_TRUNCATED);
    CHECK(p.has_vlan && p.vlan == 1);
    /* alternating LLC/SNAP -> VLAN -> 802.3 length -> LLC/SNAP ... */
    unhex(ETH("0030"), f, 14);
    for (i = 14; i + 12 <= N; i += 12)
        unhex("aaaa03 000000 8100 0002 0030", f + i, 12);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, i, 0, &p), GT_PKT_TRUNCATED);
    /* MPLS labels without bottom-of-stack */
    unhex(ETH("8847"), f, 14);
    for (i = 14; i + 4 <= N; i += 4)
        unhex("00010040", f + i, 4);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, N, GT_PARSE_DECAP, &p), GT_PKT_TRUNCATED);
    /* IPv6 with destination options headers to the end: the outer header */
    unhex(ETH("86dd") V6("ffb9", "3c", A6, B6), f, 54);
    for (i = 54; i + 8 <= N; i += 8)
        unhex("3c00 000000000000", f + i, 8);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, N, GT_PARSE_DECAP, &p), GT_PKT_IP);
    CHECK(addrs_are(&p, 6, A6, B6));
    /* GTP-U with extension headers to the end */
    unhex(ETH("0800") V4("ffff", "11", A4, B4) UDP("0868", "0868", "ffeb") "34ff ffdb 00000001 0000 00 85", f, 54);
    for (i = 54; i + 4 <= N; i += 4)
        unhex("01 0000 85", f + i, 4);
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, f, N, GT_PARSE_DECAP, &p), GT_PKT_IP);
    CHECK(addrs_are(&p, 4, A4, B4));
    free(f);
}

static void test_misc(void)
{
    struct gt_pkt p;
    CHECK_EQ_U(gt_parse(GT_DLT_EN10MB, NULL, 0, 0, &p), GT_PKT_TRUNCATED);
    CHECK_EQ_U(gt_parse(GT_DLT_RAW, NULL, 0, GT_PARSE_DECAP, &p), GT_PKT_TRUNCATED);
    uint8_t junk[4] = { 1, 2, 3, 4 };
    CHECK_EQ_U(gt_parse(147, junk, 4, 0, &p), GT_PKT_NONIP);   /* DLT_USER0: unknown */
    static const int ok[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228, 229, 276 };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(gt_parse_dlt_supported(ok[i]), "dlt %d", ok[i]);
    CHECK(!gt_parse_dlt_supported(147));
    CHECK(!gt_parse_dlt_supported(-1));
    CHECK(!gt_parse_dlt_supported(6));
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], 0);
        run_case(&cases[i], GT_PARSE_DECAP);
        run_case(&cases[i], GT_PARSE_NO_L2);   /* the engine's flags when no L2 rule is loaded */
    }
    for (size_t i = 0; i < sizeof nodecap / sizeof nodecap[0]; i++) {
        run_case(&nodecap[i], 0);
        run_case(&nodecap[i], GT_PARSE_DECAP);
    }
    test_depth_bound();
    test_ppi_nesting();
    test_misc();
    test_long_chains();
    test_mutations();
    return check_result();
}
