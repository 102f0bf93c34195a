/* The DPDK module's one exported symbol: its function table (dpdk_api.h). */
#include "dpdk_api.h"

__attribute__((visibility("default"))) const struct gt_dpdk_api gt_dpdk_api_v1 = {
    GT_DPDK_API_VERSION, sizeof(struct gt_dpdk_api),
    gt_dpdk_open, gt_dpdk_queues, gt_dpdk_rx, gt_dpdk_drops,
    gt_dpdk_launch, gt_dpdk_wait, gt_dpdk_prefill, gt_dpdk_close,
};
