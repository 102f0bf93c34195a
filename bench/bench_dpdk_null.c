/* The DPDK packet path at full speed: net_null ports deliver mbufs as fast
 * as a core can take them; we prefill the pool with Ethernet/IPv4 frames of
 * random addresses so every frame is parsed, classified (two lookups) and
 * counted by the engine. Prints Mpps per lcore for 1..Q queues.
 *
 * The mempool cache recycles few mbufs, so the prefilled frames alone hold
 * a few hundred address pairs (lookups stay in cache); --addrs N (default
 * 1M) instead patches each frame's addresses, in a copy, from N random
 * ones, so lookups see a realistic spread (--addrs 0: the frames as is).
 *
 * usage: bench_dpdk_null [--seconds S] [--queues-list 1,2] [--addrs N] [--country-db FILE]
 * (EAL: no hugepages, no PCI, one net_null port; lcore q on CPU q % ncpu) */
#include "geotap/datadir.h"
#include "geotap/clock.h"
#include "geotap/classifier.h"
#include "geotap/dpdk_port.h"
#include "geotap/engine.h"
#include "geotap/keys.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct lc {
    _Alignas(64) gt_dpdk *d;
    struct gt_worker *w;
    uint16_t q;
    atomic_int *stop;
    uint64_t frames;
    const uint32_t *addrs;   /* NULL: the frames as delivered */
    uint32_t naddrs, next;
};

static void on_burst(void *ctx, const struct gt_frame *fr, unsigned n)
{
    struct lc *l = ctx;
    if (l->addrs) {
        uint8_t buf[32][64];
        struct gt_frame cp[32];
        for (unsigned i = 0; i < n && i < 32; i++) {
            uint32_t cl = fr[i].caplen < 64 ? fr[i].caplen : 64;
            memcpy(buf[i], fr[i].data, cl);
            uint32_t s = l->addrs[l->next], d = l->addrs[l->next + 1 < l->naddrs ? l->next + 1 : 0];
            l->next = l->next + 2 < l->naddrs ? l->next + 2 : 0;
            memcpy(buf[i] + 26, &s, 4);   /* byte order does not matter: random either way */
            memcpy(buf[i] + 30, &d, 4);
            cp[i] = (struct gt_frame){ fr[i].ts_ns, buf[i], cl, fr[i].wirelen };
        }
        gt_worker_burst(l->w, 1, cp, n < 32 ? n : 32);
    } else {
        gt_worker_burst(l->w, 1, fr, n);
    }
    l->frames += n;
}

static int lcore_main(void *arg)
{
    struct lc *l = arg;
    unsigned n = 0;
    while (!atomic_load_explicit(l->stop, memory_order_relaxed)) {
        gt_dpdk_rx(l->d, l->q, on_burst, l);
        if ((++n & 1023) == 0)
            gt_worker_tick(l->w, gt_realtime_ns() - 500000000LL);
    }
    gt_worker_finish(l->w);
    return 0;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* An Ethernet/IPv4/UDP frame between two random public-ish addresses. */
static void fill(void *ctx, uint8_t *f, uint32_t room)
{
    (void)ctx;
    if (room < 64)
        return;
    memset(f, 0, 64);
    memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[3] = 50;
    ip[8] = 64;
    ip[9] = 17;
    for (int k = 0; k < 2; k++) {
        uint32_t a = rnd32();
        if ((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 24) >= 224)
            a ^= 0x40000000u;
        for (int b = 0; b < 4; b++)
            ip[12 + 4 * k + b] = (uint8_t)(a >> (24 - 8 * b));
    }
}

/* The EAL leaves its runtime directory behind: remove ours (flat). */
static void remove_runtime_dir(void)
{
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "/var/run/dpdk/gtbench%d", (int)getpid());
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

static void on_bin(void *ctx, const struct gt_bin *b)
{
    (void)ctx;
    (void)b;
}

int main(int argc, char **argv)
{
    double seconds = 2;
    const char *qlist = "1,2", *db = NULL;
    long naddrs = 1 << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--queues-list") && i + 1 < argc)
            qlist = argv[++i];
        else if (!strcmp(argv[i], "--addrs") && i + 1 < argc)
            naddrs = atol(argv[++i]);
        else if (!strcmp(argv[i], "--country-db") && i + 1 < argc)
            db = argv[++i];
        else {
            fprintf(stderr, "usage: bench_dpdk_null [--seconds S] [--queues-list 1,2] [--addrs N] [--country-db FILE]\n");
            return 2;
        }
    }
    /* The EAL comes up once per process and a port's queue count is fixed
     * at start: one net_null port per queue count. */
    int qs[8], nq = 0, maxq = 0;
    for (const char *p = qlist; *p && nq < 8;) {
        qs[nq] = atoi(p);
        if (qs[nq] < 1 || qs[nq] > 8) {
            fprintf(stderr, "bench_dpdk_null: --queues-list: 1 to 8 each\n");
            return 2;
        }
        if (qs[nq] > maxq)
            maxq = qs[nq];
        nq++;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char eal[1024], lcores[256] = "0@0";
    for (int q = 1; q <= maxq; q++) {
        size_t l = strlen(lcores);
        snprintf(lcores + l, sizeof lcores - l, ",%d@%ld", q, (q - 1) % (ncpu > 0 ? ncpu : 1));
    }
    snprintf(eal, sizeof eal, "--no-huge --no-pci -m 512 --file-prefix=gtbench%d --no-telemetry "
             "--log-level=error --lcores=%s", (int)getpid(), lcores);
    size_t el = strlen(eal);
    for (int i = 0; i < nq; i++) {
        snprintf(eal + el, sizeof eal - el, " --vdev=net_null%d,size=64", i);
        el = strlen(eal);
    }

    char err[1024];
    struct gt_classifier_opts co = { .country_db = db ? db : gt_default_country_db() };
    gt_classifier *cls = gt_classifier_build(&co, err, sizeof err);
    if (!cls) {
        fprintf(stderr, "bench_dpdk_null: %s\n", err);
        return 2;
    }
    struct gt_keys keys;
    if (gt_keys_build(&keys, cls, GT_DIM_COUNTRY) != 0)
        return 2;

    uint32_t *addrs = NULL;
    if (naddrs > 0) {
        addrs = malloc((size_t)naddrs * sizeof *addrs);
        if (!addrs)
            return 2;
        for (long i = 0; i < naddrs; i++)
            addrs[i] = rnd32() * 2654435761u;
    }
    int status = 0;
    gt_dpdk *ds[8] = { 0 }, *d;
    for (int i = 0; i < nq; i++) {
        /* One EAL for the process: the first port brings it up. */
        struct gt_dpdk_opts o = { i == 0 ? eal : NULL, (uint16_t)i, (uint16_t)qs[i] };
        d = ds[i] = gt_dpdk_open(&o, err, sizeof err);
        if (!d) {
            fprintf(stderr, "bench_dpdk_null: %s\n", err);
            status = 2;
            break;
        }
        gt_dpdk_prefill(d, fill, NULL);
        struct gt_engine_opts eo = { .cls = cls, .keys = &keys, .bin_seconds = 1,
                                     .nworkers = (unsigned)qs[i], .on_bin = on_bin };
        gt_engine *e = gt_engine_new(&eo);
        struct lc *l = aligned_alloc(64, sizeof *l * 8);
        void *args[8];
        atomic_int stop = 0;
        for (int q = 0; q < qs[i]; q++) {
            memset(&l[q], 0, sizeof l[q]);
            l[q] = (struct lc){ .d = d, .w = gt_engine_worker(e, (unsigned)q), .q = (uint16_t)q, .stop = &stop,
                                .addrs = addrs, .naddrs = (uint32_t)naddrs, .next = (uint32_t)(q * 7919 % (naddrs ? naddrs : 1)) };
            args[q] = &l[q];
        }
        double t0 = gt_mono_s();
        if (gt_dpdk_launch(d, lcore_main, args) != qs[i]) {
            fprintf(stderr, "bench_dpdk_null: cannot launch %d lcores\n", qs[i]);
            atomic_store(&stop, 1);
            gt_dpdk_wait(d);
            return 1;
        }
        while (gt_mono_s() - t0 < seconds) {
            struct timespec nap = { 0, 100000000 };
            nanosleep(&nap, NULL);
            gt_engine_collect(e);
        }
        atomic_store(&stop, 1);
        gt_dpdk_wait(d);
        double el2 = gt_mono_s() - t0;
        gt_engine_finish(e);
        struct gt_bin_stats t = gt_engine_totals(e);
        uint64_t all = 0;
        printf("dpdk net_null, %d lcore%s (ncpu %ld, %s):", qs[i], qs[i] > 1 ? "s" : "", ncpu,
               addrs ? "random addresses" : "prefilled frames");
        for (int q = 0; q < qs[i]; q++) {
            printf(" lcore %d %.2f Mpps", q + 1, (double)l[q].frames / el2 / 1e6);
            all += l[q].frames;
        }
        printf("; total %.2f Mpps, %.2f Mpps per lcore (%llu frames, %llu IP counted)\n",
               (double)all / el2 / 1e6, (double)all / el2 / 1e6 / qs[i], (unsigned long long)all,
               (unsigned long long)t.ip);
        if (t.packets != all || t.ip != all) {
            fprintf(stderr, "bench_dpdk_null: engine counted %llu frames, lcores %llu\n",
                    (unsigned long long)t.packets, (unsigned long long)all);
            status = 1;
        }
        fflush(stdout);
        gt_engine_free(e);
        free(l);
    }
    /* The first port brought the EAL up: close it last. */
    for (int i = nq - 1; i >= 0; i--)
        gt_dpdk_close(ds[i]);
    remove_runtime_dir();
    free(addrs);
    gt_keys_free(&keys);
    gt_classifier_free(cls);
    return status;
}
