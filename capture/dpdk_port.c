/* DPDK packet source: EAL set-up from a string, one port, RSS over one RX
 * queue per worker lcore, burst receive. Compiled only with DPDK. */
#include "geotap/dpdk_port.h"
#include "geotap/clock.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 64                     /* frames per rx call: the per-burst costs (clock read, poll, tick) over more frames */
#define RX_DESC 1024
#define MAX_EAL_ARGS 64

struct gt_dpdk {
    uint16_t port;
    uint16_t queues;
    struct rte_mempool *pool;
    unsigned lcore[RTE_MAX_LCORE];   /* worker lcore of queue q */
    int started, eal;
};

static char *eal_argv_buf_;          /* the EAL keeps pointers into argv */

static int eal_init(const char *args, char *err, size_t errlen)
{
    static char *argv[MAX_EAL_ARGS + 2];
    int argc = 0;
    free(eal_argv_buf_);
    eal_argv_buf_ = strdup(args ? args : "");
    if (!eal_argv_buf_) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    argv[argc++] = (char *)"geotap";
    for (char *save = NULL, *t = strtok_r(eal_argv_buf_, " \t\n", &save); t;
         t = strtok_r(NULL, " \t\n", &save)) {
        if (argc > MAX_EAL_ARGS) {
            snprintf(err, errlen, "DPDK EAL: more than %d arguments", MAX_EAL_ARGS);
            return -1;
        }
        argv[argc++] = t;
    }
    argv[argc] = NULL;
    if (rte_eal_init(argc, argv) < 0) {
        snprintf(err, errlen, "DPDK EAL '%s': initialisation failed: %s", args, rte_strerror(rte_errno));
        return -1;
    }
    return 0;
}

gt_dpdk *gt_dpdk_open(const struct gt_dpdk_opts *o, char *err, size_t errlen)
{
    gt_dpdk *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (o->eal_args) {
        if (eal_init(o->eal_args, err, errlen) != 0) {
            free(d);
            return NULL;
        }
        d->eal = 1;
    }
    d->port = o->port;
    if (!rte_eth_dev_is_valid_port(o->port)) {
        snprintf(err, errlen, "DPDK port %u does not exist (%u available)", o->port,
                 (unsigned)rte_eth_dev_count_avail());
        goto fail;
    }
    unsigned nworkers = 0, lc;
    RTE_LCORE_FOREACH_WORKER(lc) {
        d->lcore[nworkers++] = lc;
    }
    d->queues = o->queues ? o->queues : (uint16_t)nworkers;
    if (d->queues == 0 || d->queues > nworkers) {
        snprintf(err, errlen, "%u RX queues need as many DPDK worker lcores, the EAL has %u",
                 (unsigned)d->queues, nworkers);
        goto fail;
    }
    struct rte_eth_dev_info info;
    int rc = rte_eth_dev_info_get(o->port, &info);
    if (rc != 0) {
        snprintf(err, errlen, "port %u: cannot get device info: %s", o->port, rte_strerror(-rc));
        goto fail;
    }
    if (d->queues > info.max_rx_queues) {
        snprintf(err, errlen, "DPDK port %u (%s) has at most %u RX queues, %u requested",
                 o->port, info.driver_name, (unsigned)info.max_rx_queues, (unsigned)d->queues);
        goto fail;
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof conf);
    if (d->queues > 1) {
        /* RSS on the IP header spreads the load; counts are per address,
         * so any spread gives the same totals. */
        /* A device without RSS (e.g. net_pcap with one file per queue)
         * fills its queues its own way. */
        uint64_t hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
        if (hf) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = hf;
        }
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;   /* jumbo frames in chains, not dropped */
    rc = rte_eth_dev_configure(o->port, d->queues, 0, &conf);
    if (rc != 0) {
        snprintf(err, errlen, "port %u (%s): configure: %s", o->port, info.driver_name, rte_strerror(-rc));
        goto fail;
    }
    uint16_t nrx = RX_DESC, ntx = 0;
    rte_eth_dev_adjust_nb_rx_tx_desc(o->port, &nrx, &ntx);
    int socket = rte_eth_dev_socket_id(o->port);
    if (socket < 0)
        socket = (int)rte_socket_id();
    char name[RTE_MEMPOOL_NAMESIZE];
    snprintf(name, sizeof name, "gt_rx%u", o->port);
    d->pool = rte_pktmbuf_pool_create(name, (unsigned)(nrx * d->queues + 2048 * d->queues + 1023),
                                      256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!d->pool) {
        snprintf(err, errlen, "port %u: cannot allocate the mbuf pool: %s", o->port, rte_strerror(rte_errno));
        goto fail;
    }
    for (uint16_t q = 0; q < d->queues; q++) {
        rc = rte_eth_rx_queue_setup(o->port, q, nrx, (unsigned)socket, NULL, d->pool);
        if (rc != 0) {
            snprintf(err, errlen, "port %u: RX queue %u: %s", o->port, q, rte_strerror(-rc));
            goto fail;
        }
    }
    rc = rte_eth_dev_start(o->port);
    if (rc != 0) {
        snprintf(err, errlen, "port %u: start: %s", o->port, rte_strerror(-rc));
        goto fail;
    }
    d->started = 1;
    rte_eth_promiscuous_enable(o->port);   /* a tap port: everything on the wire */
    rte_eth_stats_reset(o->port);
    return d;
fail:
    gt_dpdk_close(d);
    return NULL;
}

unsigned gt_dpdk_queues(const gt_dpdk *d)
{
    return d->queues;
}

/* Return a burst to the pool. The common burst is single-segment direct
 * mbufs of our pool that nothing else references: put back as they are,
 * the state rte_pktmbuf_free_bulk would leave them in, without its
 * per-mbuf read of the second cache line (next) and its per-pool
 * batching. In perf profiles of bench_dpdk_null rte_pktmbuf_free_bulk
 * took 12.5 % of the lcore, rx and free together 18.8 %; now 13.9 %. The
 * checks read the first line only, which the rx loop has just read.
 * Anything else (a chain from scatter rx, a clone) takes the general path. */
static inline void rx_free(gt_dpdk *d, struct rte_mbuf **m, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++)
        if (m[i]->pool != d->pool || m[i]->nb_segs != 1 || rte_mbuf_refcnt_read(m[i]) != 1 ||
            !RTE_MBUF_DIRECT(m[i])) {
            rte_pktmbuf_free_bulk(m, n);
            return;
        }
    rte_mempool_put_bulk(d->pool, (void **)m, n);
}

int gt_dpdk_rx(gt_dpdk *d, uint16_t q, gt_dpdk_fn fn, void *ctx)
{
    struct rte_mbuf *m[BURST];
    struct gt_frame f[BURST];
    uint16_t n = rte_eth_rx_burst(d->port, q, m, BURST);
    if (!n)
        return 0;
    /* No hardware timestamps: one wall-clock reading per burst. */
    int64_t now = gt_realtime_ns();
    for (uint16_t i = 0; i < n; i++) {
        rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
        f[i] = (struct gt_frame){ now, rte_pktmbuf_mtod(m[i], const uint8_t *),
                                  rte_pktmbuf_data_len(m[i]), rte_pktmbuf_pkt_len(m[i]) };
    }
    fn(ctx, f, n);
    rx_free(d, m, n);
    return n;
}

int gt_dpdk_drops(gt_dpdk *d, uint64_t *imissed, uint64_t *ierrors, uint64_t *nombuf)
{
    struct rte_eth_stats st;
    if (rte_eth_stats_get(d->port, &st) != 0)
        return -1;
    *imissed = st.imissed;
    *ierrors = st.ierrors;
    *nombuf = st.rx_nombuf;
    return 0;
}

int gt_dpdk_launch(gt_dpdk *d, int (*fn)(void *), void *const *args)
{
    uint16_t q;
    for (q = 0; q < d->queues; q++)
        if (rte_eal_remote_launch(fn, args[q], d->lcore[q]) != 0)
            break;
    return q;
}

void gt_dpdk_wait(gt_dpdk *d)
{
    (void)d;
    rte_eal_mp_wait_lcore();
}

struct prefill {
    void (*fn)(void *, uint8_t *, uint32_t);
    void *ctx;
};

static void prefill_one(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
    struct prefill *p = arg;
    struct rte_mbuf *m = obj;
    (void)mp;
    (void)idx;
    /* Where rte_pktmbuf_reset() puts the data of a freshly allocated mbuf. */
    p->fn(p->ctx, (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM, m->buf_len - RTE_PKTMBUF_HEADROOM);
}

void gt_dpdk_prefill(gt_dpdk *d, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx)
{
    struct prefill p = { fn, ctx };
    rte_mempool_obj_iter(d->pool, prefill_one, &p);
}

void gt_dpdk_close(gt_dpdk *d)
{
    if (!d)
        return;
    if (d->started) {
        rte_eth_dev_stop(d->port);
        rte_eth_dev_close(d->port);
    }
    if (d->pool)
        rte_mempool_free(d->pool);
    if (d->eal)
        rte_eal_cleanup();
    free(d);
}
