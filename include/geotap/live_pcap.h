/* Live capture from a network interface through libpcap (TPACKET_V3 on
 * Linux), optionally as N handles on the same interface joined in one
 * PACKET_FANOUT group hashed by flow, one per worker thread. */
#ifndef GEOTAP_LIVE_PCAP_H
#define GEOTAP_LIVE_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct gt_live_opts {
    const char *iface;
    const char *bpf;            /* NULL = everything */
    int snaplen;                /* 0 = 262144 */
    int buffer_mb;              /* kernel ring per handle; 0 = libpcap's default (2 MB) */
    int timeout_ms;             /* how long a read waits with no packet; 0 = 100 */
    unsigned nhandles;          /* >= 1; > 1 joins them in one fanout group */
};

typedef struct gt_live gt_live;

/* One captured frame: nanosecond time, captured and original length. */
typedef void (*gt_live_fn)(void *ctx, int64_t ts_ns, const uint8_t *data,
                           uint32_t caplen, uint32_t wirelen);

/* Open and activate every handle (needs CAP_NET_RAW), join them in one
 * PACKET_FANOUT_HASH group with defragmentation, and only then let
 * packets in (no frame seen by two handles). NULL with one line in err. */
gt_live *gt_live_open(const struct gt_live_opts *o, char *err, size_t errlen);
/* The interface's link type (a DLT_* value). */
int gt_live_dlt(const gt_live *l);
/* Number of handles. */
unsigned gt_live_handles(const gt_live *l);
/* Read what handle i has (waiting at most timeout_ms), calling fn per
 * frame; from the handle's own thread. Frames read, 0 on timeout, -1 on
 * error (gt_live_error), -2 when broken by gt_live_breakloop. */
int gt_live_dispatch(gt_live *l, unsigned i, gt_live_fn fn, void *ctx);
/* The last error of handle i. */
const char *gt_live_error(gt_live *l, unsigned i);
/* Cumulative drops of handle i since it was opened: by the kernel (ring
 * full) and by the interface. 0, or -1 when unavailable. */
int gt_live_drops(gt_live *l, unsigned i, uint64_t *kernel, uint64_t *iface);
/* Make a running or the next gt_live_dispatch of every handle return -2
 * (from any thread; not from a signal handler). */
void gt_live_breakloop(gt_live *l);
/* Make handle i's reads return at once when nothing is ready (to drain
 * the ring before closing). 0, or -1. */
int gt_live_nonblock(gt_live *l, unsigned i);
/* Close every handle. */
void gt_live_close(gt_live *l);

#endif
