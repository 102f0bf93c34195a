/* geotap live: per-key traffic of a network interface (libpcap, N workers
 * in a PACKET_FANOUT group) or a DPDK port (one lcore per RX queue), in
 * wall-clock bins. Workers count; the main thread collects every 100 ms. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "geotap/http.h"
#include "geotap/clock.h"
#include "geotap/country_names.h"
#include "geotap/engine.h"
#include "geotap/live_pcap.h"
#include "geotap/output.h"
#include "geotap/parse.h"
#include "gt_config.h"
#if GT_HAVE_DPDK
#include "geotap/dpdk_port.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: geotap live -i IFACE [options]\n"
#if GT_HAVE_DPDK
"       geotap live --dpdk 'EAL ARGS' --port N [--queues Q] [options]\n"
#endif
"\n"
"Capture live traffic, classify each packet's source and destination address\n"
"by country and autonomous system, and count packets and bytes per key in\n"
"wall-clock bins, until interrupted (SIGINT/SIGTERM flush the last partial bin\n"
"and print the summary), --count, --duration or --idle-stop.\n"
"\n"
"Capture:\n"
"  -i, --interface IFACE libpcap capture from IFACE (TPACKET_V3 on Linux)\n"
"  -f, --filter EXPR     only frames matching the BPF expression EXPR\n"
"  --workers N           N capture threads in one PACKET_FANOUT group hashed by\n"
"                        flow (default 1)\n"
"  -s, --snaplen BYTES   bytes captured per frame (default 262144)\n"
"  -B, --buffer MB       kernel ring per worker in MB (default: libpcap's)\n"
"  -Z, --user USER       drop privileges to USER once the capture is open\n"
#if GT_HAVE_DPDK
"  --dpdk 'EAL ARGS'     capture from a DPDK port instead, e.g. '-l 0-2 -a 0000:03:00.0'\n"
"                        or '--no-huge --no-pci --vdev=net_pcap0,rx_pcap=FILE -l 0-1'\n"
"  --port N              DPDK port id (default 0)\n"
"  --queues Q            RX queues, one worker lcore each (default: every worker lcore)\n"
#endif
"  --count N             stop after N frames\n"
"  --duration SECONDS    stop after SECONDS\n"
"  --idle-stop SECONDS   stop when no frame came for SECONDS after the first one\n"
"                        (e.g. a DPDK net_pcap port at the end of its file)\n"
"\n"
"Counting:\n"
"  --by KEYS             country (default), asn, upstream, or a comma list of them\n"
"  --bin SECONDS         bin width, aligned to the epoch, wall-clock time (default\n"
"                        60); 0 = one bin for the whole run\n"
"  --bytes frame|l3      count the frame length (default) or the IP-layer length\n"
"  --decap               count the innermost IP header of tunnels\n"
"\n"
"Classification:\n"
"  --country-db FILE     MaxMind DB with country.iso_code (default: cached GeoLite2)\n"
"  --asn-db FILE         ASN source (.mmdb or CSV of ranges); repeatable\n"
"  --home-net CIDR       local network, counted as 'home'; repeatable\n"
CLI_UPSTREAM_USAGE
"\n"
"Output:\n"
"  --format FMT          table (default on a terminal: a per-key view refreshed each\n"
"                        bin, and the totals at the end), csv (default otherwise) or\n"
"                        jsonl, one row per bin and key, flushed each bin\n"
"  -o, --output FILE     write there instead of standard output\n"
"  --listen HOST:PORT    serve the live page (the HTML report, updated every bin)\n"
"                        at http://HOST:PORT/ and its data at /api/bins?since=N;\n"
"                        read-only; HOST defaults to 127.0.0.1 ('PORT' alone)\n"
CLI_EVENTS_USAGE
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            this text\n"
"\n"
"Drops reported by the kernel, the interface or the NIC are counted per bin and\n"
"in the summary. Exit status: 0 on success, 2 on a usage error or when the\n"
"capture cannot be opened, 1 when it fails while running.\n";

#define GRACE_NS 500000000LL      /* ticks lag the clock: frames in flight still reach their bin */
#define STATS_NS 250000000LL      /* how often a worker reads its drop counters */

struct shared {
    atomic_int stop;                  /* set by --count, an error or the main thread */
    uint64_t count;                   /* --count; 0 = none */
    _Alignas(64) _Atomic uint64_t taken;  /* frames taken under --count (only then touched) */
    gt_live *live;
#if GT_HAVE_DPDK
    gt_dpdk *dpdk;
#endif
};

/* One per worker thread, on its own cache lines. */
struct worker {
    _Alignas(64) struct gt_worker *w;
    struct shared *sh;
    unsigned idx;
    int dlt;
    uint64_t kdrops, idrops;          /* cumulative counters last seen */
    uint64_t frames;                  /* counted by this worker (private) */
    _Atomic int64_t last_rx;          /* wall clock of the last read with frames (per read, not per frame) */
    int failed;
    char err[512];
};

static volatile sig_atomic_t signalled_;

static void on_signal(int sig)
{
    (void)sig;
    signalled_ = 1;
}

/* The packet path: one frame into the worker's open bin. */
static void on_frame(void *ctx, int64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    struct worker *wk = ctx;
    if (__builtin_expect(wk->sh->count != 0, 0)) {
        /* Only with --count: one shared RMW per frame makes the limit exact. */
        uint64_t k = atomic_fetch_add_explicit(&wk->sh->taken, 1, memory_order_relaxed);
        if (k >= wk->sh->count) {
            atomic_store(&wk->sh->stop, 1);
            return;
        }
        if (k + 1 == wk->sh->count)
            atomic_store(&wk->sh->stop, 1);
    }
    gt_worker_packet(wk->w, wk->dlt, ts_ns, data, caplen, wirelen);
    wk->frames++;
}

/* Add the drops since the last reading to the worker's open bin. */
static void pcap_drops(struct worker *wk)
{
    uint64_t k, i;
    if (gt_live_drops(wk->sh->live, wk->idx, &k, &i) != 0)
        return;
    /* ps_ifdrop is interface-wide: every handle sees the same; count it once. */
    if (wk->idx != 0)
        i = wk->idrops;
    if (k >= wk->kdrops && i >= wk->idrops)
        gt_worker_add_drops(wk->w, (k - wk->kdrops) + (i - wk->idrops));
    wk->kdrops = k;
    wk->idrops = i;
}

static void *pcap_worker(void *arg)
{
    struct worker *wk = arg;
    struct shared *sh = wk->sh;
    int64_t next_stats = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        int rc = gt_live_dispatch(sh->live, wk->idx, on_frame, wk);
        if (rc == -1) {
            snprintf(wk->err, sizeof wk->err, "%s", gt_live_error(sh->live, wk->idx));
            wk->failed = 1;
            atomic_store(&sh->stop, 1);
            break;
        }
        /* Wall-clock bins: a silent link still closes its bins. */
        int64_t now = gt_realtime_ns();
        gt_worker_tick(wk->w, now - GRACE_NS);
        if (rc > 0)
            atomic_store_explicit(&wk->last_rx, now, memory_order_relaxed);
        if (now >= next_stats) {
            pcap_drops(wk);
            next_stats = now + STATS_NS;
        }
    }
    pcap_drops(wk);
    gt_worker_finish(wk->w);
    return NULL;
}

#if GT_HAVE_DPDK
static int dpdk_worker(void *arg)
{
    struct worker *wk = arg;
    struct shared *sh = wk->sh;
    int64_t next_stats = 0, now = 0;
    unsigned idle = 0;
    int got = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        int n = gt_dpdk_rx(sh->dpdk, (uint16_t)wk->idx, on_frame, wk);
        got |= n > 0;
        if (n > 0 && (++idle & 63) != 0)
            continue;   /* busy: read the clock once every 64 bursts */
        idle = 0;
        now = gt_realtime_ns();
        gt_worker_tick(wk->w, now - GRACE_NS);
        if (got) {
            atomic_store_explicit(&wk->last_rx, now, memory_order_relaxed);
            got = 0;
        }
        /* Port-wide counters: queue 0's worker reports them. */
        if (wk->idx == 0 && now >= next_stats) {
            uint64_t m, e, nb;
            if (gt_dpdk_drops(sh->dpdk, &m, &e, &nb) == 0) {
                uint64_t tot = m + e + nb;
                if (tot >= wk->kdrops)
                    gt_worker_add_drops(wk->w, tot - wk->kdrops);
                wk->kdrops = tot;
            }
            next_stats = now + STATS_NS;
        }
    }
    if (wk->idx == 0) {
        uint64_t m, e, nb;
        if (gt_dpdk_drops(sh->dpdk, &m, &e, &nb) == 0 && m + e + nb >= wk->kdrops)
            gt_worker_add_drops(wk->w, m + e + nb - wk->kdrops);
    }
    gt_worker_finish(wk->w);
    return 0;
}
#endif

/* What the collector hands each bin to: the sinks, then the view or a flush. */
struct view {
    struct cli_sinks *sinks;
    const struct cli_cls *cls;
    FILE *out;
    int tty;                  /* the refreshing per-key view */
    int quiet;
    const char *source;
    uint32_t *ids;
};

static const struct gt_counts *view_counts_;

static int cmp_view(const void *a, const void *b)
{
    const struct gt_counts *x = &view_counts_[*(const uint32_t *)a];
    const struct gt_counts *y = &view_counts_[*(const uint32_t *)b];
    uint64_t tx = x->bytes_from + x->bytes_to, ty = y->bytes_from + y->bytes_to;
    if (tx != ty)
        return tx > ty ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* The terminal view: clear the screen, the last bin's keys by traffic. */
static void draw(struct view *v, const struct gt_bin *bin)
{
    FILE *f = v->out;
    const struct gt_keys *keys = &v->cls->keys;
    uint32_t m = 0;
    uint64_t all = 0;
    char t[32], a[32], b[32], c[32], d[32];
    int rows = 40;
    for (uint32_t k = 0; k < bin->nkeys; k++)
        if (bin->counts[k].pkts_from | bin->counts[k].pkts_to) {
            v->ids[m++] = k;
            all += bin->counts[k].bytes_from + bin->counts[k].bytes_to;
        }
    view_counts_ = bin->counts;
    qsort(v->ids, m, sizeof *v->ids, cmp_view);
    gt_rfc3339(bin->start, t);
    gt_human(bin->stats.packets, "", a, sizeof a);
    gt_human(bin->stats.bytes, "B", b, sizeof b);
    fprintf(f, "\033[H\033[2J");
    fprintf(f, "geotap live %s   bin %s (%u s)   %s frames  %s  %" PRIu64 " dropped\n\n",
            v->source, t, bin->width, a, b, bin->stats.drops);
    fprintf(f, "%-40s %10s %10s %10s %10s %6s\n", "key", "pkts from", "bytes from", "pkts to", "bytes to", "share");
    for (uint32_t i = 0; i < m && (int)i < rows; i++) {
        uint32_t k = v->ids[i];
        const struct gt_counts *x = &bin->counts[k];
        char name[256] = "", part[200];
        static const unsigned dl[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };
        for (int j = 0; j < 3; j++) {
            if (!(keys->dims & dl[j]))
                continue;
            size_t l = strlen(name);
            gt_key_label(keys, v->cls->c, k, dl[j], part, sizeof part);
            if (keys->keys[k].home) {
                snprintf(name, sizeof name, "home");
                break;
            }
            if (dl[j] == GT_DIM_COUNTRY) {
                const char *cn = gt_country_name(part);
                snprintf(name + l, sizeof name - l, "%s%s %s", l ? " / " : "", part, cn ? cn : "");
            } else {
                snprintf(name + l, sizeof name - l, "%s%s%s", l ? " / " : "",
                         dl[j] == GT_DIM_ASN ? "AS" : "via ", part);
            }
        }
        gt_human(x->pkts_from, "", a, sizeof a);
        gt_human(x->bytes_from, "B", b, sizeof b);
        gt_human(x->pkts_to, "", c, sizeof c);
        gt_human(x->bytes_to, "B", d, sizeof d);
        fprintf(f, "%-40.40s %10s %10s %10s %10s %5.1f%%\n", name, a, b, c, d,
                all ? 100.0 * (double)(x->bytes_from + x->bytes_to) / (double)all : 0.0);
    }
    if (m > (uint32_t)rows)
        fprintf(f, "... %u more\n", m - (uint32_t)rows);
    fflush(f);
}

static void on_bin(void *ctx, const struct gt_bin *bin)
{
    struct view *v = ctx;
    cli_sinks_bin(v->sinks, bin);
    if (v->tty) {
        draw(v, bin);
        return;
    }
    fflush(v->out);
    if (bin->stats.drops && !v->quiet) {
        char t[32];
        gt_rfc3339(bin->start, t);
        fprintf(stderr, "geotap live: bin %s: %" PRIu64 " frames, %" PRIu64 " dropped by the capture\n",
                t, bin->stats.packets, bin->stats.drops);
    }
}

static int parse_num(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "geotap live: %s '%s': want a whole number from %lld to %lld\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_live(int argc, char **argv)
{
    struct cli_cls_opts co;
    const char *iface = NULL, *bpf = NULL, *outpath = NULL, *by = "country", *fmt = NULL, *user = NULL;
    const char *dpdk_args = NULL;
    long long bin = 60, workers = 1, snaplen = 0, buffer_mb = 0, count = 0, duration = 0, idle_stop = 0, port = 0, queues = 0;
    int bytes_l3 = 0, decap = 0, quiet = 0;
    cli_cls_opts_init(&co);

    enum { O_BY = 256, O_BIN, O_BYTES, O_DECAP, O_FORMAT, O_WORKERS, O_COUNT, O_DURATION, O_IDLE_STOP,
           O_DPDK, O_PORT, O_QUEUES, O_LISTEN };
    static const struct option lo[] = {
        { "interface", required_argument, 0, 'i' },
        { "filter", required_argument, 0, 'f' },
        { "workers", required_argument, 0, O_WORKERS },
        { "snaplen", required_argument, 0, 's' },
        { "buffer", required_argument, 0, 'B' },
        { "user", required_argument, 0, 'Z' },
        { "dpdk", required_argument, 0, O_DPDK },
        { "port", required_argument, 0, O_PORT },
        { "queues", required_argument, 0, O_QUEUES },
        { "count", required_argument, 0, O_COUNT },
        { "duration", required_argument, 0, O_DURATION },
        { "idle-stop", required_argument, 0, O_IDLE_STOP },
        { "by", required_argument, 0, O_BY },
        { "bin", required_argument, 0, O_BIN },
        { "bytes", required_argument, 0, O_BYTES },
        { "decap", no_argument, 0, O_DECAP },
        { "format", required_argument, 0, O_FORMAT },
        { "output", required_argument, 0, 'o' },
        { "listen", required_argument, 0, O_LISTEN },
        { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' },
        CLI_CLS_LONGOPTS,
        { 0, 0, 0, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:f:s:B:Z:o:qh", lo, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'i': iface = optarg; break;
        case 'f': bpf = optarg; break;
        case 'Z': user = optarg; break;
        case O_WORKERS: rc = parse_num("--workers", optarg, 1, 64, &workers); break;
        case 's': rc = parse_num("--snaplen", optarg, 64, 262144, &snaplen); break;
        case 'B': rc = parse_num("--buffer", optarg, 1, 65536, &buffer_mb); break;
        case O_COUNT: rc = parse_num("--count", optarg, 1, INT64_MAX, &count); break;
        case O_DURATION: rc = parse_num("--duration", optarg, 1, 100L * 365 * 86400, &duration); break;
        case O_IDLE_STOP: rc = parse_num("--idle-stop", optarg, 1, 100L * 365 * 86400, &idle_stop); break;
        case O_BIN: rc = parse_num("--bin", optarg, 0, 31 * 86400L, &bin); break;
        case O_DPDK: dpdk_args = optarg; break;
        case O_PORT: rc = parse_num("--port", optarg, 0, 65535, &port); break;
        case O_QUEUES: rc = parse_num("--queues", optarg, 1, 1024, &queues); break;
        case O_BY: by = optarg; break;
        case O_BYTES:
            if (!strcmp(optarg, "l3")) bytes_l3 = 1;
            else if (!strcmp(optarg, "frame")) bytes_l3 = 0;
            else {
                fprintf(stderr, "geotap live: --bytes '%s': want frame or l3\n", optarg);
                rc = -1;
            }
            break;
        case O_DECAP: decap = 1; break;
        case O_FORMAT: fmt = optarg; break;
        case 'o': outpath = optarg; break;
        case O_LISTEN: co.report = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            if (cli_cls_opt(&co, c, optarg) == 0)
                break;
            fprintf(stderr, "Try 'geotap live --help'.\n");
            return 2;
        }
        if (rc)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "geotap live: unexpected argument '%s'\nTry 'geotap live --help'.\n", argv[optind]);
        return 2;
    }
#if !GT_HAVE_DPDK
    if (dpdk_args) {
        fprintf(stderr, "geotap live: --dpdk: this geotap was built without DPDK (meson -Ddpdk=enabled)\n");
        return 2;
    }
#endif
    if (!iface == !dpdk_args) {
        fprintf(stderr, "geotap live: give either -i IFACE or --dpdk 'EAL ARGS'\nTry 'geotap live --help'.\n");
        return 2;
    }
    if (dpdk_args && (bpf || user || snaplen || buffer_mb || workers != 1)) {
        fprintf(stderr, "geotap live: -f, -s, -B, -Z and --workers are for -i; with --dpdk use --queues\n");
        return 2;
    }
    unsigned dims;
    int format;
    if (cli_parse_by_format("geotap live", by, fmt, outpath, &dims, &format) != 0)
        return 2;

    int status = 0;
    char err[1024];
    struct shared sh;
    memset(&sh, 0, sizeof sh);
    atomic_init(&sh.stop, 0);
    atomic_init(&sh.taken, 0);
    sh.count = (uint64_t)count;
    unsigned nworkers = (unsigned)workers;
    int dlt = GT_DLT_EN10MB;
    char source[300] = "";

    if (user && !getpwnam(user)) {
        fprintf(stderr, "geotap live: -Z %s: no such user\n", user);
        return 2;
    }
    /* The classifier first (seconds for a full database): the capture's
     * ring would fill meanwhile. Then the capture, then drop privileges. */
    struct cli_cls cls;
    /* Finer keys for the anomaly module's attribution only when it runs. */
    if (cli_cls_build(&co, dims, co.events != NULL || co.report, &cls, "geotap live") != 0)
        return 2;
    if (iface) {
        struct gt_live_opts lo2 = { iface, bpf, (int)snaplen, (int)buffer_mb, 100, nworkers };
        sh.live = gt_live_open(&lo2, err, sizeof err);
        if (!sh.live) {
            fprintf(stderr, "geotap live: %s\n", err);
            cli_cls_free(&cls);
            return 2;
        }
        dlt = gt_live_dlt(sh.live);
        snprintf(source, sizeof source, "%s", iface);
    }
#if GT_HAVE_DPDK
    else {
        struct gt_dpdk_opts dop = { dpdk_args, (uint16_t)port, (uint16_t)queues };
        sh.dpdk = gt_dpdk_open(&dop, err, sizeof err);
        if (!sh.dpdk) {
            fprintf(stderr, "geotap live: %s\n", err);
            cli_cls_free(&cls);
            return 2;
        }
        nworkers = gt_dpdk_queues(sh.dpdk);
        snprintf(source, sizeof source, "dpdk port %lld", port);
    }
#else
    (void)port;
    (void)queues;
#endif
    if (!gt_parse_dlt_supported(dlt) && !quiet)
        fprintf(stderr, "geotap live: %s: link type %d is not supported; its frames count as non-IP\n",
                source, dlt);

    FILE *out = stdout;
    struct gt_output *output = NULL;
    struct cli_sinks sinks;
    int sinks_ok = 0;
    gt_engine *eng = NULL;
    struct worker *wk = NULL;
    pthread_t *th = NULL;
    struct view view;
    memset(&view, 0, sizeof view);
    struct gt_http *http = NULL;

    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "geotap live: %s: cannot write: %m\n", outpath);
        status = 2;
        goto done;
    }
    if (user && gt_drop_privileges(user, err, sizeof err) != 0) {
        fprintf(stderr, "geotap live: %s\n", err);
        status = 2;
        goto done;
    }
    struct gt_output_opts oo = { (enum gt_format)format, out, &cls.keys, cls.c };
    output = gt_output_new(&oo);
    if (!output || cli_sinks_init(&sinks, &co, output, &cls, "geotap live", (enum gt_format)format, out) != 0) {
        status = 2;
        goto done;
    }
    sinks_ok = 1;
    if (co.report) {
        const char *src[1] = { source };
        if (!(sinks.report = cli_report_new(&co, &cls, sinks.anomaly, NULL, src, 1, err, sizeof err)) ||
            !(http = gt_http_start(co.report, sinks.report, err, sizeof err))) {
            fprintf(stderr, "geotap live: --listen: %s\n", err);
            status = 2;
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "geotap live: serving the live page on %s (port %u)\n", co.report, gt_http_port(http));
    }
    view = (struct view){ &sinks, &cls, out, format == GT_FMT_TABLE && isatty(fileno(out)), quiet, source,
                          malloc(((size_t)cls.keys.nkeys + 1) * sizeof(uint32_t)) };
    struct gt_engine_opts eo = {
        .parse_flags = decap ? GT_PARSE_DECAP : 0,
        .bytes_l3 = bytes_l3, .bin_seconds = (uint32_t)bin, .nworkers = nworkers,
        .on_bin = on_bin, .ctx = &view,
    };
    cli_cls_engine_opts(&cls, &eo, iface);
    eng = gt_engine_new(&eo);
    wk = aligned_alloc(64, ((sizeof *wk * nworkers) + 63) / 64 * 64);
    th = calloc(nworkers, sizeof *th);
    if (!eng || !wk || !th || !view.ids) {
        fprintf(stderr, "geotap live: out of memory\n");
        status = 2;
        goto done;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        memset(&wk[i], 0, sizeof wk[i]);
        atomic_init(&wk[i].last_rx, 0);
        wk[i].w = gt_engine_worker(eng, i);
        wk[i].sh = &sh;
        wk[i].idx = i;
        wk[i].dlt = dlt;
    }

    /* Signals go to the main thread only: workers start with them blocked. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);

    double t0 = gt_mono_s();
    unsigned started = 0;
    if (sh.live) {
        /* Pin worker i to the i-th CPU we may run on, when there is one
         * each: cheap, and keeps each worker's ring and counters warm. */
        cpu_set_t allowed;
        int cpus[CPU_SETSIZE], ncpu = 0;
        if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
            for (int c2 = 0; c2 < CPU_SETSIZE; c2++)
                if (CPU_ISSET(c2, &allowed))
                    cpus[ncpu++] = c2;
        for (; started < nworkers; started++) {
            if (pthread_create(&th[started], NULL, pcap_worker, &wk[started]) != 0)
                break;
            if (nworkers > 1 && ncpu >= (int)nworkers) {
                cpu_set_t cs;
                CPU_ZERO(&cs);
                CPU_SET(cpus[started], &cs);
                pthread_setaffinity_np(th[started], sizeof cs, &cs);
            }
        }
    }
#if GT_HAVE_DPDK
    else {
        void **args = malloc(nworkers * sizeof *args);
        for (unsigned i = 0; args && i < nworkers; i++)
            args[i] = &wk[i];
        if (args)
            started = (unsigned)gt_dpdk_launch(sh.dpdk, dpdk_worker, args);
        free(args);
    }
#endif
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < nworkers) {
        fprintf(stderr, "geotap live: cannot start %u workers\n", nworkers);
        status = 1;
        atomic_store(&sh.stop, 1);
        /* Workers never started still owe a finish, or the engine waits for them. */
        for (unsigned i = started; i < nworkers; i++)
            gt_worker_finish(wk[i].w);
    } else if (!quiet) {
        fprintf(stderr, "geotap live: listening on %s (link type %d, %u worker%s)\n", source, dlt,
                nworkers, nworkers > 1 ? "s" : "");
    }

    /* The collector: merge closed bins every 100 ms until told to stop. */
    while (!atomic_load(&sh.stop) && !signalled_) {
        struct timespec nap = { 0, 100000000 };
        nanosleep(&nap, NULL);   /* a signal cuts it short */
        gt_engine_collect(eng);
        if (duration && gt_mono_s() - t0 >= (double)duration)
            break;
        if (idle_stop) {
            int64_t last = 0;
            for (unsigned i = 0; i < started; i++) {
                int64_t t = atomic_load_explicit(&wk[i].last_rx, memory_order_relaxed);
                if (t > last)
                    last = t;
            }
            if (last && gt_realtime_ns() - last >= idle_stop * 1000000000LL)
                break;
        }
    }
    atomic_store(&sh.stop, 1);
    if (sh.live)
        gt_live_breakloop(sh.live);
    if (sh.live) {
        for (unsigned i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
#if GT_HAVE_DPDK
    else if (started) {
        gt_dpdk_wait(sh.dpdk);
    }
#endif
    /* Every worker published its last partial bin: emit everything. */
    gt_engine_finish(eng);
    double elapsed = gt_mono_s() - t0;
    for (unsigned i = 0; i < nworkers; i++)
        if (wk[i].failed) {
            fprintf(stderr, "geotap live: %s: %s\n", source, wk[i].err);
            status = 1;
        }
    if (view.tty)
        fputs("\033[H\033[2J", out);
    if (cli_sinks_finish(&sinks) != 0) {
        fprintf(stderr, "geotap live: %s: write failed: %m\n", outpath ? outpath : "standard output");
        status = 1;
    }
    if (!quiet) {
        struct gt_bin_stats tot = gt_engine_totals(eng);
        uint64_t kd = 0, id = 0;
        for (unsigned i = 0; i < nworkers; i++) {
            kd += wk[i].kdrops;
            id += wk[i].idrops;
        }
        cli_print_summary(stderr, &tot, &cls, gt_output_totals(output), elapsed,
                          signalled_ ? "interrupted" : NULL);
        fprintf(stderr, "geotap live: frames per worker:");
        for (unsigned i = 0; i < nworkers; i++)
            fprintf(stderr, " %" PRIu64, wk[i].frames);
        fputc('\n', stderr);
        if (sh.live)
            fprintf(stderr, "geotap live: drops: %" PRIu64 " by the kernel, %" PRIu64 " by the interface\n", kd, id);
        else
            fprintf(stderr, "geotap live: drops: %" PRIu64 " by the NIC (missed, errors, no mbuf)\n", kd);
    }
done:
    gt_http_stop(http);
    gt_engine_free(eng);
    free(wk);
    free(th);
    free(view.ids);
    if (sinks_ok) {
        gt_report_free(sinks.report);
        cli_sinks_free(&sinks);
    }
    gt_output_free(output);
    if (out && out != stdout && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "geotap live: %s: write failed: %m\n", outpath);
        status = 1;
    }
    if (cls.c)
        cli_cls_free(&cls);
    if (sh.live)
        gt_live_close(sh.live);
#if GT_HAVE_DPDK
    if (sh.dpdk)
        gt_dpdk_close(sh.dpdk);
#endif
    return status;
}
