/* Helper for test_parse_tshark.py: reads capture files with libpcap and
 * prints, per file, "#<TAB>dlt<TAB>path", then one line per packet:
 * "frame_no<TAB>src<TAB>dst" when gt_parse() finds an IP header,
 * "frame_no<TAB>-<TAB>KIND" otherwise; "!<TAB>read error<TAB>..." when the
 * file ends in an error (e.g. cut short).
 * Usage: test_parse_dump [-d] FILE...   (-d: GT_PARSE_DECAP) */
#include "geotap/parse.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static int dump_file(const char *path, unsigned flags)
{
    static const char *kinds[] = { "IP", "NONIP", "TRUNCATED", "MALFORMED" };
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, "test_parse_dump: %s: %s\n", path, err);
        return 2;
    }
    int dlt = pcap_datalink(pc);
    printf("#\t%d\t%s\n", dlt, path);
    if (!gt_parse_dlt_supported(dlt))
        fprintf(stderr, "test_parse_dump: %s: link type %d not supported\n", path, dlt);
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long no = 0;
    /* A file cut short mid-packet just ends here: tshark stops at the same point. */
    int r;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        struct gt_pkt p;
        no++;
        int k = gt_parse(dlt, data, h->caplen, flags, &p);
        if (k != GT_PKT_IP) {
            printf("%lu\t-\t%s\n", no, kinds[k]);
            continue;
        }
        char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
        if (p.family == 4) {
            uint32_t x = htonl(p.src.v4), y = htonl(p.dst.v4);
            inet_ntop(AF_INET, &x, s, sizeof s);
            inet_ntop(AF_INET, &y, d, sizeof d);
        } else {
            inet_ntop(AF_INET6, p.src.v6, s, sizeof s);
            inet_ntop(AF_INET6, p.dst.v6, d, sizeof d);
        }
        printf("%lu\t%s\t%s\n", no, s, d);
    }
    if (r == PCAP_ERROR)
        printf("!\tread error\t%s\n", pcap_geterr(pc));
    pcap_close(pc);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned flags = 0;
    int a = 1, rc = 0;
    if (a < argc && strcmp(argv[a], "-d") == 0) {
        flags = GT_PARSE_DECAP;
        a++;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: test_parse_dump [-d] FILE...\n");
        return 2;
    }
    for (; a < argc; a++)
        rc |= dump_file(argv[a], flags);
    return rc;
}
