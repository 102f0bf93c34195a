/* Packet parser: from a captured frame of a given link type to the outer
 * (or, with GT_PARSE_DECAP, innermost tunnelled) IP header's addresses.
 * Never reads past caplen. */
#ifndef GEOTAP_PARSE_H
#define GEOTAP_PARSE_H

#include <stdint.h>
#include <string.h>

/* Link types, as libpcap's pcap_datalink() returns them (DLT_* values). */
enum {
    GT_DLT_NULL = 0,          /* BSD loopback, host-order AF_ word */
    GT_DLT_EN10MB = 1,        /* Ethernet II */
    GT_DLT_PPP = 9,
    GT_DLT_RAW = 12,          /* raw IP (Linux value of DLT_RAW; LINKTYPE_RAW 101 maps here) */
    GT_DLT_RAW_BSD = 14,      /* raw IP (DLT_RAW on some BSDs) */
    GT_DLT_PPP_SERIAL = 50,
    GT_DLT_PPP_ETHER = 51,
    GT_DLT_LINKTYPE_RAW = 101,
    GT_DLT_C_HDLC = 104,
    GT_DLT_IEEE802_11 = 105,
    GT_DLT_LOOP = 108,        /* OpenBSD loopback, network-order AF_ word */
    GT_DLT_LINUX_SLL = 113,
    GT_DLT_IEEE802_11_RADIO = 127,
    GT_DLT_PPI = 192,
    GT_DLT_IPV4 = 228,
    GT_DLT_IPV6 = 229,
    GT_DLT_LINUX_SLL2 = 276,
};

/* What a frame turned out to be. */
enum gt_pkt_kind {
    GT_PKT_IP = 0,        /* an IPv4 or IPv6 header was found; addresses valid */
    GT_PKT_NONIP,         /* a well-formed frame that carries no IP */
    GT_PKT_TRUNCATED,     /* caplen ends inside a header we needed */
    GT_PKT_MALFORMED,     /* a header is inconsistent (bad IP version, IHL < 5, ...) */
};

struct gt_pkt {
    uint8_t kind;        /* enum gt_pkt_kind */
    uint8_t family;      /* 4 or 6 when kind == GT_PKT_IP */
    uint8_t has_vlan;    /* an 802.1Q/802.1ad tag was seen */
    uint8_t has_mac;     /* src_mac is valid (Ethernet-framed) */
    uint16_t vlan;       /* outermost VLAN ID (12 bits) when has_vlan */
    uint8_t src_mac[6];  /* source MAC of the outermost Ethernet header */
    uint32_t l3_len;     /* IP length from the header: IPv4 total length, IPv6 40 + payload length
                          * (IPv4 total length 0, i.e. TSO: the captured bytes from the IP header on) */
    union {
        uint32_t v4;     /* host byte order */
        uint8_t v6[16];  /* network byte order */
    } src, dst;
};

/* Flags for gt_parse(). */
#define GT_PARSE_DECAP 0x1u  /* descend into GRE, IP-in-IP, GTP-U, VXLAN and CAPWAP data tunnels */
#define GT_PARSE_NO_L2 0x2u  /* gt_parse_inline: the caller reads no has_vlan, vlan, has_mac or src_mac */

/* Parse one frame of link type dlt (a GT_DLT_* value); fills *out, never
 * reads frame[caplen] or beyond. Returns out->kind. */
int gt_parse(int dlt, const uint8_t *frame, uint32_t caplen, unsigned flags, struct gt_pkt *out);

/* gt_parse without its common-case fast path (gt_parse_inline's fallback). */
int gt_parse_general(int dlt, const uint8_t *frame, uint32_t caplen, unsigned flags, struct gt_pkt *out);

static inline uint32_t gt_parse_rd16_(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

/* gt_parse, same result, with the common cases inline (no call): Ethernet,
 * untagged or with one 802.1Q tag (a trunk tap tags every frame), with
 * option-less IPv4, or with IPv6 when not decapsulating. For the packet
 * path's burst loop; gt_parse is this out of line. */
static inline int gt_parse_inline(int dlt, const uint8_t *frame, uint32_t caplen, unsigned flags,
                                  struct gt_pkt *out)
{
    if (dlt != GT_DLT_EN10MB || caplen < 34)
        return gt_parse_general(dlt, frame, caplen, flags, out);
    uint32_t o = 14, et = gt_parse_rd16_(frame + 12), tag = 0;
    if (et == 0x8100) {
        tag = gt_parse_rd16_(frame + 14);
        et = gt_parse_rd16_(frame + 16);
        o = 18;
    }
    const uint8_t *ip = frame + o;
    if (et == 0x0800 && caplen >= o + 20 && ip[0] == 0x45 && gt_parse_rd16_(ip + 2) >= 20 &&
        (!(flags & GT_PARSE_DECAP) || ip[9] == 6)) {
        uint32_t s, d;
        memcpy(&s, ip + 12, 4);
        memcpy(&d, ip + 16, 4);
        out->l3_len = gt_parse_rd16_(ip + 2);
        out->src.v4 = __builtin_bswap32(s);
        out->dst.v4 = __builtin_bswap32(d);
        out->family = 4;
    } else if (et == 0x86dd && caplen >= o + 40 && (ip[0] >> 4) == 6 && !(flags & GT_PARSE_DECAP)) {
        out->l3_len = 40 + gt_parse_rd16_(ip + 4);
        memcpy(out->src.v6, ip + 8, 16);
        memcpy(out->dst.v6, ip + 24, 16);
        out->family = 6;
    } else {
        return gt_parse_general(dlt, frame, caplen, flags, out);
    }
    out->kind = GT_PKT_IP;
    if (flags & GT_PARSE_NO_L2)
        return GT_PKT_IP;    /* four stores and a load fewer per frame */
    out->has_vlan = o == 18;
    out->has_mac = 1;
    out->vlan = (uint16_t)(tag & 0x0fff);
    memcpy(out->src_mac, frame + 6, 6);
    return GT_PKT_IP;
}

/* 1 when gt_parse() knows link type dlt, 0 otherwise. */
int gt_parse_dlt_supported(int dlt);

#endif
