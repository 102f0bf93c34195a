/* DPDK packet source (built only when GT_HAVE_DPDK): one ethdev port,
 * one RX queue per worker lcore, RSS on the IP header across queues,
 * bursts handed to a callback. */
#ifndef GEOTAP_DPDK_PORT_H
#define GEOTAP_DPDK_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/engine.h"

struct gt_dpdk_opts {
    const char *eal_args;       /* split on white space; NULL: the EAL is already up (another port) */
    uint16_t port;
    uint16_t queues;            /* 0 = one per worker lcore */
};

typedef struct gt_dpdk gt_dpdk;

/* One received burst; ts_ns of every frame is the wall-clock time of the
 * burst, data the first segment's bytes, wirelen the whole frame. */
typedef void (*gt_dpdk_fn)(void *ctx, const struct gt_frame *f, unsigned n);

/* rte_eal_init with the EAL arguments, then configure and start the port
 * with opts->queues RX queues. NULL with one line in err. */
gt_dpdk *gt_dpdk_open(const struct gt_dpdk_opts *o, char *err, size_t errlen);
/* Number of RX queues (= worker lcores used). */
unsigned gt_dpdk_queues(const gt_dpdk *d);
/* Receive one burst from queue q and hand it to fn (the mbufs are freed
 * after fn returns). Returns frames received. */
int gt_dpdk_rx(gt_dpdk *d, uint16_t q, gt_dpdk_fn fn, void *ctx);
/* Port-wide counters: missed by the NIC (imissed), errors (ierrors) and
 * mbuf allocation failures (rx_nombuf). 0 or -1. */
int gt_dpdk_drops(gt_dpdk *d, uint64_t *imissed, uint64_t *ierrors, uint64_t *nombuf);
/* Run fn(args[q]) for queue q on its own worker lcore, in queue order.
 * Returns how many were launched (queues 0 .. n-1). */
int gt_dpdk_launch(gt_dpdk *d, int (*fn)(void *), void *const *args);
/* Wait for every launched lcore function to return. */
void gt_dpdk_wait(gt_dpdk *d);
/* Write fn's frame (at most room bytes) into the data area of every mbuf
 * of the RX pool: a PMD that does not write packet data (net_null) then
 * delivers these frames, for benchmarks of the whole packet path. */
void gt_dpdk_prefill(gt_dpdk *d, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx);
/* Stop and close the port; release the EAL when this port brought it up. */
void gt_dpdk_close(gt_dpdk *d);

#endif
