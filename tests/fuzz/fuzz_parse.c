/* libFuzzer: the packet parser on every supported link type, with and
 * without decapsulation. Byte 0 picks the link type and the flags; the rest
 * is the frame (libFuzzer's buffer is exactly sized: ASan sees any read
 * past caplen). */
#include "fuzz_util.h"
#include "geotap/parse.h"

static const int dlts[] = {
    GT_DLT_NULL, GT_DLT_EN10MB, GT_DLT_PPP, GT_DLT_RAW, GT_DLT_RAW_BSD, GT_DLT_PPP_SERIAL,
    GT_DLT_PPP_ETHER, GT_DLT_LINKTYPE_RAW, GT_DLT_C_HDLC, GT_DLT_IEEE802_11, GT_DLT_LOOP,
    GT_DLT_LINUX_SLL, GT_DLT_IEEE802_11_RADIO, GT_DLT_PPI, GT_DLT_IPV4, GT_DLT_IPV6, GT_DLT_LINUX_SLL2,
};
#define NDLT (sizeof dlts / sizeof *dlts)

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    int dlt = dlts[d[0] % NDLT];
    FUZZ_CHECK(gt_parse_dlt_supported(dlt));
    for (unsigned flags = 0; flags <= GT_PARSE_DECAP; flags += GT_PARSE_DECAP) {
        struct gt_pkt p;
        int k = gt_parse(dlt, d + 1, (uint32_t)(n - 1), flags, &p);
        FUZZ_CHECK(k == p.kind && k >= GT_PKT_IP && k <= GT_PKT_MALFORMED);
        if (k == GT_PKT_IP)
            FUZZ_CHECK(p.family == 4 || p.family == 6);
        if (p.has_vlan)
            FUZZ_CHECK(p.vlan < 4096);
    }
    return 0;
}
