/* bench_pcap_read: the cost of reading alone. A bare libpcap loop
 * (pcap_open_offline + pcap_next_ex) over a capture file that touches the
 * first byte of every packet, as any analyzer must at least do. Prints one
 * line of key=value figures on stdout. */
#include "geotap/clock.h"
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    int passes = 1;
    if (argc == 4 && strcmp(argv[2], "--passes") == 0)
        passes = atoi(argv[3]);
    if ((argc != 2 && argc != 4) || passes < 1) {
        fprintf(stderr, "usage: bench_pcap_read FILE.pcap [--passes N]\n");
        return 2;
    }
    double best = 0;
    unsigned long long packets = 0, bytes = 0;
    unsigned sum = 0;
    for (int p = 0; p < passes; p++) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline(argv[1], err);
        if (!pc) {
            fprintf(stderr, "bench_pcap_read: %s\n", err);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        int rc;
        packets = bytes = 0;
        double t0 = gt_mono_s();
        while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
            packets++;
            bytes += h->len;
            if (h->caplen)
                sum += d[0];
        }
        double t = gt_mono_s() - t0;
        if (rc == PCAP_ERROR) {
            fprintf(stderr, "bench_pcap_read: %s: %s\n", argv[1], pcap_geterr(pc));
            pcap_close(pc);
            return 2;
        }
        pcap_close(pc);
        if (p == 0 || t < best)
            best = t;
    }
    /* The byte sum keeps the compiler from dropping the reads. */
    printf("packets=%llu bytes=%llu seconds=%.6f pps=%.0f passes=%d sum=%u\n",
           packets, bytes, best, best > 0 ? (double)packets / best : 0.0, passes, sum);
    return 0;
}
