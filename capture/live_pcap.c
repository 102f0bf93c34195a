/* Live capture through libpcap: N handles on one interface in a
 * PACKET_FANOUT group, nanosecond timestamps, drops from pcap_stats. */
#include "geotap/live_pcap.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct handle {
    pcap_t *p;
    int draining;               /* gt_live_nonblock was called: never wait */
    gt_live_fn fn;
    void *ctx;
    char err[PCAP_ERRBUF_SIZE + 64];
};

struct gt_live {
    unsigned n;
    int dlt;
    int timeout_ms;
    struct handle *h;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    struct handle *h = (struct handle *)user;
    /* Nanosecond precision was asked for: tv_usec holds nanoseconds. */
    int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000000 + hdr->ts.tv_usec;
    h->fn(h->ctx, ts, data, hdr->caplen, hdr->len);
}

static void discard(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    (void)user;
    (void)hdr;
    (void)data;
}

void gt_live_close(gt_live *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++)
        if (l->h[i].p)
            pcap_close(l->h[i].p);
    free(l->h);
    free(l);
}

static int set_filter(pcap_t *p, const char *expr, const char *iface, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s: filter '%s': %s", iface, expr, pcap_geterr(p));
        return -1;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot set filter: %s", iface, pcap_geterr(p));
        return -1;
    }
    return 0;
}

gt_live *gt_live_open(const struct gt_live_opts *o, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    unsigned n = o->nhandles ? o->nhandles : 1;
    gt_live *l = calloc(1, sizeof *l);
    if (!l || !(l->h = calloc(n, sizeof *l->h))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->n = n;
    /* The fanout group id must be unique on the host: our pid's low bits. */
    unsigned group = (unsigned)getpid() & 0xffff;
    for (unsigned i = 0; i < n; i++) {
        pcap_t *p = pcap_create(o->iface, ebuf);
        if (!p) {
            snprintf(err, errlen, "%s: %s", o->iface, ebuf);
            goto fail;
        }
        l->h[i].p = p;
        pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : 262144);
        pcap_set_promisc(p, 1);
        pcap_set_timeout(p, o->timeout_ms > 0 ? o->timeout_ms : 100);
        if (o->buffer_mb > 0)
            pcap_set_buffer_size(p, o->buffer_mb * 1024 * 1024);
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
        int rc = pcap_activate(p);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s%s%s", o->iface, pcap_statustostr(rc),
                     rc == PCAP_ERROR ? ": " : "", rc == PCAP_ERROR ? pcap_geterr(p) : "");
            goto fail;
        }
        if (i == 0)
            l->dlt = pcap_datalink(p);
        /* Until every handle is in the group each socket sees every
         * packet: let nothing in yet. */
        if (n > 1) {
            if (set_filter(p, "less 1", o->iface, err, errlen) != 0)
                goto fail;
            int arg = (int)(group | ((unsigned)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
            if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
                snprintf(err, errlen, "%s: cannot join PACKET_FANOUT group %u: %s", o->iface, group,
                         strerror(errno));
                goto fail;
            }
        }
    }
    if (n > 1) {
        /* Discard what arrived between activation and the reject filter
         * (those frames may have reached several handles), then open. */
        for (unsigned i = 0; i < n; i++) {
            pcap_t *p = l->h[i].p;
            if (pcap_setnonblock(p, 1, ebuf) == 0) {
                while (pcap_dispatch(p, -1, discard, NULL) > 0)
                    ;
                pcap_setnonblock(p, 0, ebuf);
            }
        }
    }
    for (unsigned i = 0; i < n; i++)
        if (set_filter(l->h[i].p, o->bpf ? o->bpf : "", o->iface, err, errlen) != 0)
            goto fail;
    /* Reads never block in libpcap: gt_live_dispatch waits in poll() with
     * its own timeout. A blocking TPACKET_V3 read waits for the socket to be
     * woken, and some kernels (seen on 6.18) retire a part-filled block on
     * its timer without waking it: on a link gone silent the last frames
     * stayed in the ring and the worker's clock stopped until the next
     * frame. A non-blocking read finds a retired block by its status. */
    l->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 100;
    for (unsigned i = 0; i < n; i++)
        if (pcap_setnonblock(l->h[i].p, 1, ebuf) != 0) {
            snprintf(err, errlen, "%s: %s", o->iface, ebuf);
            goto fail;
        }
    return l;
fail:
    gt_live_close(l);
    return NULL;
}

int gt_live_dlt(const gt_live *l)
{
    return l->dlt;
}

unsigned gt_live_handles(const gt_live *l)
{
    return l->n;
}

int gt_live_dispatch(gt_live *l, unsigned i, gt_live_fn fn, void *ctx)
{
    struct handle *h = &l->h[i];
    h->fn = fn;
    h->ctx = ctx;
    int rc = pcap_dispatch(h->p, -1, on_frame, (u_char *)h);
    if (rc == 0 && !h->draining) {
        /* Nothing ready: wait for a wake-up or the timeout, then look again. */
        struct pollfd pfd = { pcap_get_selectable_fd(h->p), POLLIN, 0 };
        poll(&pfd, 1, l->timeout_ms);
        rc = pcap_dispatch(h->p, -1, on_frame, (u_char *)h);
    }
    if (rc == PCAP_ERROR_BREAK)
        return -2;
    if (rc < 0) {
        snprintf(h->err, sizeof h->err, "%s", pcap_geterr(h->p));
        return -1;
    }
    return rc;
}

const char *gt_live_error(gt_live *l, unsigned i)
{
    return l->h[i].err;
}

int gt_live_drops(gt_live *l, unsigned i, uint64_t *kernel, uint64_t *iface)
{
    struct pcap_stat st;
    if (pcap_stats(l->h[i].p, &st) != 0)
        return -1;
    *kernel = st.ps_drop;
    *iface = st.ps_ifdrop;
    return 0;
}

int gt_live_nonblock(gt_live *l, unsigned i)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    l->h[i].draining = 1;
    return pcap_setnonblock(l->h[i].p, 1, ebuf) == 0 ? 0 : -1;
}

void gt_live_breakloop(gt_live *l)
{
    for (unsigned i = 0; i < l->n; i++)
        pcap_breakloop(l->h[i].p);
}
