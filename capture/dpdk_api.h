/* The table of functions the DPDK module (geotap-dpdk.so: dpdk_port.c,
 * linked with DPDK) exports, and through which dpdk_loader.c calls it: the
 * geotap binary itself loads none of DPDK's libraries unless --dpdk asks
 * for a port. Not a public header. */
#ifndef GEOTAP_DPDK_API_H
#define GEOTAP_DPDK_API_H

#include "geotap/dpdk_port.h"

#define GT_DPDK_API_VERSION 1u
#define GT_DPDK_API_SYMBOL "gt_dpdk_api_v1"
#define GT_DPDK_MODULE "geotap-dpdk.so"

struct gt_dpdk_api {
    unsigned version, size;             /* GT_DPDK_API_VERSION, sizeof(struct gt_dpdk_api) */
    gt_dpdk *(*open)(const struct gt_dpdk_opts *o, char *err, size_t errlen);
    unsigned (*queues)(const gt_dpdk *d);
    int (*rx)(gt_dpdk *d, uint16_t q, gt_dpdk_fn fn, void *ctx);
    int (*drops)(gt_dpdk *d, uint64_t *imissed, uint64_t *ierrors, uint64_t *nombuf);
    int (*launch)(gt_dpdk *d, int (*fn)(void *), void *const *args);
    void (*wait)(gt_dpdk *d);
    void (*prefill)(gt_dpdk *d, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx);
    void (*close)(gt_dpdk *d);
};

#endif
