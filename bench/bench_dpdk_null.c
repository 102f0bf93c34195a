/* The DPDK packet path as `geotap live --dpdk` runs it: a gt_sensor (the
 * one pipeline: DPDK source, one engine worker per lcore, the collector)
 * on a net_null port, whose mbufs we prefill with Ethernet/IPv4 frames of
 * random addresses, so every frame is parsed, classified (two lookups,
 * GeoLite2 country) and counted. Prints Mpps per lcore for 1..Q queues.
 * The mempool recycles few mbufs, so the frames hold a few hundred address
 * pairs: the lookups stay in cache (the in-memory engine rows of run_bench
 * measure a realistic spread).
 *
 * usage: bench_dpdk_null [--seconds S] [--queues-list 1,2] [--country-db FILE]
 * (EAL: no hugepages, no PCI, one net_null port per queue count; lcore q
 * on CPU q % ncpu) */
#include "geotap/clock.h"
#include "geotap/dpdk_port.h"
#include "geotap/keys.h"
#include "geotap/sensor.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* CPU seconds of the process, or of the calling thread: on a shared
 * machine the lcores' rate per CPU second moves less than per wall second. */
static double cpu_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void notice(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "bench_dpdk_null: %s\n", msg);
}

int main(int argc, char **argv)
{
    double seconds = 2;
    const char *qlist = "1,2", *db = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--queues-list") && i + 1 < argc)
            qlist = argv[++i];
        else if (!strcmp(argv[i], "--country-db") && i + 1 < argc)
            db = argv[++i];
        else {
            fprintf(stderr, "usage: bench_dpdk_null [--seconds S] [--queues-list 1,2] [--country-db FILE]\n");
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
    int status = 0;
    gt_sensor *ss[8] = { 0 };
    for (int i = 0; i < nq; i++) {
        /* One EAL for the process: the first port brings it up. */
        struct gt_dpdk_opts o = { i == 0 ? eal : NULL, (uint16_t)i, (uint16_t)qs[i] };
        struct gt_sensor_config c;
        memset(&c, 0, sizeof c);
        c.dpdk = &o;
        c.setup.country_db = db;
        c.setup.dims = GT_DIM_COUNTRY;
        c.bin_seconds = 1;
        c.duration_s = seconds;
        c.notice = notice;
        gt_sensor *s = ss[i] = gt_sensor_new(&c, err, sizeof err);
        if (!s) {
            fprintf(stderr, "bench_dpdk_null: %s\n", err);
            status = 2;
            break;
        }
        gt_sensor_prefill(s, fill, NULL);
        double t0 = gt_mono_s(), p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), m0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
        if (gt_sensor_run(s, err, sizeof err) != 0) {
            fprintf(stderr, "bench_dpdk_null: %s\n", err);
            status = 1;
            break;
        }
        double el = gt_mono_s() - t0;
        /* the threads gt_sensor_run started (the lcores, busy polling, and
         * the collector): the process's CPU time less this thread's */
        double other = (cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0) - (cpu_s(CLOCK_THREAD_CPUTIME_ID) - m0);
        struct gt_sensor_stats st;
        gt_sensor_stats(s, &st);
        uint64_t all = 0;
        printf("dpdk net_null through gt_sensor, %d lcore%s (ncpu %ld, prefilled frames):", qs[i],
               qs[i] > 1 ? "s" : "", ncpu);
        for (int q = 0; q < qs[i]; q++) {
            printf(" lcore %d %.2f Mpps", q + 1, (double)st.worker_frames[q] / el / 1e6);
            all += st.worker_frames[q];
        }
        printf("; total %.2f Mpps, %.2f Mpps per lcore (%llu frames, %llu IP counted);"
               " per lcore CPU second %.2f Mpps (%.2f CPU s)\n",
               (double)all / el / 1e6, (double)all / el / 1e6 / qs[i], (unsigned long long)all,
               (unsigned long long)st.totals.ip, other > 0 ? (double)all / other / 1e6 : 0.0, other);
        if (st.totals.packets != all || st.totals.ip != all) {
            fprintf(stderr, "bench_dpdk_null: the engine counted %llu frames, the lcores %llu\n",
                    (unsigned long long)st.totals.packets, (unsigned long long)all);
            status = 1;
        }
        fflush(stdout);
    }
    /* The first port brought the EAL up: close it last. */
    for (int i = nq - 1; i >= 0; i--)
        gt_sensor_free(ss[i]);
    remove_runtime_dir();
    return status;
}
