/* bench_engine: engine packets per second over packets already in memory
 * (parse + classify + count, no file reading). Loads the whole capture,
 * builds the classifier (country + ASN, as analyze does) and runs the engine
 * with N workers, each on its own thread with its share of the packets
 * (round-robin, as a fanout would spread them, each share copied into
 * memory of its own), while the main thread
 * collects bins concurrently. Several passes, a fresh engine each; the best
 * pass is reported as one key=value line on stdout. --burst N hands the
 * engine bursts of N frames (gt_worker_burst) instead of one frame at a
 * time; worker threads are pinned one per CPU when there are enough; --compare-burst N alternates single passes of both, 1 worker, and
 * prints the median ratio; --compare-workers N the same for 1 and 2
 * workers in bursts. */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "geotap/datadir.h"
#include "geotap/clock.h"
#include "geotap/cpus.h"
#include "geotap/classifier.h"
#include "geotap/classifier_cache.h"
#include "geotap/engine.h"
#include "geotap/routes.h"
#include "geotap/upstream_map.h"
#include "geotap/keys.h"
#include "trace_mem.h"

struct sink {
    uint64_t bins, pkts_from;
};

static void on_bin(void *ctx, const struct gt_bin *b)
{
    struct sink *s = ctx;
    s->bins++;
    for (uint32_t k = 0; k < b->nkeys; k++)
        s->pkts_from += b->counts[k].pkts_from;
}

static unsigned burst_;     /* frames per gt_worker_burst call; 0: gt_worker_packet per frame */

/* Feed n frames to w, per frame or in bursts. */
static void feed(struct gt_worker *w, int dlt, const struct gt_frame *f, size_t n)
{
    if (burst_) {
        for (size_t i = 0; i < n; i += burst_)
            gt_worker_burst(w, dlt, f + i, (unsigned)(n - i < burst_ ? n - i : burst_));
        return;
    }
    for (size_t i = 0; i < n; i++)
        gt_worker_packet(w, dlt, f[i].ts_ns, f[i].data, f[i].caplen, f[i].wirelen);
}

struct job {
    struct gt_worker *w;
    int dlt;
    const struct gt_frame *frames;      /* this worker's packets */
    size_t n;
    atomic_int *go;
    atomic_int done;            /* set by the worker when it finished */
    double cpu;                 /* the worker thread's CPU seconds */
    double end;                 /* gt_mono_s() when it finished */
};

/* CPU time of the calling thread: on a shared machine the rate per CPU
 * second moves less than the wall-clock rate when others take the cores. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker_main(void *arg)
{
    struct job *j = arg;
    while (!atomic_load_explicit(j->go, memory_order_acquire))
        ; /* spin: the start must not include thread wake-up latency */
    double c0 = thread_cpu_s();
    feed(j->w, j->dlt, j->frames, j->n);
    gt_worker_finish(j->w);
    j->cpu = thread_cpu_s() - c0;
    j->end = gt_mono_s();
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

static double last_pps_;   /* rate of the last run_workers() call */
static double last_cpu_pps_;   /* and per CPU second of a worker */
static int quiet_;         /* run_workers() prints nothing */

/* Run passes over the trace with `workers` workers; prints one line. 0 or 1. */
static int run_workers(const gt_classifier *cls, const struct gt_keys *keys, const struct trace_mem *tm,
                       unsigned workers, unsigned passes, unsigned bin)
{
    const struct trace_mem t = *tm;
    /* Each worker's packets, round-robin, as contiguous frame arrays, and
     * their bytes copied into memory of the worker's own, as a fanout
     * hands each worker its own ring: workers reading every other frame of
     * one buffer would each pull in the other's lines too (in 5 quiet
     * alternating runs two workers gave 1.37-1.60x one that way, median
     * 1.53x, and 1.73-1.84x with copies, median 1.79x). */
    struct gt_frame *lists = malloc(t.n * sizeof *lists);
    struct job *jobs = calloc(workers, sizeof *jobs);
    pthread_t *th = calloc(workers, sizeof *th);
    uint8_t **arenas = calloc(workers, sizeof *arenas);
    if (!lists || !jobs || !th || !arenas) {
        fprintf(stderr, "bench_engine: out of memory\n");
        free(lists);
        free(jobs);
        free(th);
        free(arenas);
        return 1;
    }
    size_t pos = 0;
    for (unsigned w = 0; w < workers; w++) {
        jobs[w].frames = lists + pos;
        size_t need = 0;
        for (size_t i = w; i < t.n && workers > 1; i += workers)
            need += (t.pkts[i].caplen + 15u) & ~15u;
        /* one worker: the trace's own arena is already its packets in order */
        uint8_t *a = arenas[w] = workers > 1 ? malloc(need ? need : 1) : NULL;
        if (workers > 1 && !a) {
            fprintf(stderr, "bench_engine: out of memory copying the trace\n");
            exit(1);
        }
        for (size_t i = w; i < t.n; i += workers) {
            const uint8_t *d = t.pkts[i].data;
            if (a) {
                memcpy(a, d, t.pkts[i].caplen);
                d = a;
                a += (t.pkts[i].caplen + 15u) & ~15u;
            }
            lists[pos++] = (struct gt_frame){ t.pkts[i].ts_ns, d, t.pkts[i].caplen, t.pkts[i].wirelen };
        }
        jobs[w].n = (size_t)(lists + pos - jobs[w].frames);
    }

    /* The CPUs this process may run on, for pinning the workers. */
    int cpus[CPU_SETSIZE], ncpu = gt_allowed_cpus(cpus);
    double best = 0, best_cpu = 0;
    struct gt_bin_stats tot = {0};
    struct sink sink = {0};
    for (unsigned p = 0; p < passes; p++) {
        memset(&sink, 0, sizeof sink);
        struct gt_engine_opts eo = {
            .cls = cls, .keys = keys, .bin_seconds = bin, .nworkers = workers,
            .on_bin = on_bin, .ctx = &sink,
        };
        gt_engine *e = gt_engine_new(&eo);
        if (!e) {
            fprintf(stderr, "bench_engine: out of memory creating the engine\n");
            exit(1);
        }
        atomic_int go = 0;
        double t0 = 0, t1 = 0;
        if (workers == 1) {
            /* One worker runs on the main thread, collecting at the end, as analyze does. */
            struct gt_worker *w = gt_engine_worker(e, 0);
            double c0 = thread_cpu_s();
            t0 = gt_mono_s();
            feed(w, t.dlt, lists, t.n);
            gt_worker_finish(w);
            jobs[0].cpu = thread_cpu_s() - c0;
            gt_engine_finish(e);
            t1 = gt_mono_s();
        } else {
            for (unsigned w = 0; w < workers; w++) {
                jobs[w].w = gt_engine_worker(e, w);
                jobs[w].dlt = t.dlt;
                jobs[w].go = &go;
                /* Pinned as gt_source_launch pins live workers: unpinned,
                 * the second thread often started on the first one's CPU
                 * and waited up to 4.5 ms for the balancer
                 * (--compare-workers 9 medians 1.67x and 1.66x unpinned,
                 * 1.88x and 1.85x pinned). */
                pthread_attr_t at;
                pthread_attr_init(&at);
                if (ncpu >= (int)workers) {
                    cpu_set_t cs;
                    CPU_ZERO(&cs);
                    CPU_SET(cpus[w], &cs);
                    pthread_attr_setaffinity_np(&at, sizeof cs, &cs);
                }
                int rc = pthread_create(&th[w], &at, worker_main, &jobs[w]);
                pthread_attr_destroy(&at);
                if (rc != 0) {
                    fprintf(stderr, "bench_engine: cannot start a thread\n");
                    exit(1);
                }
            }
            t0 = gt_mono_s();
            atomic_store_explicit(&go, 1, memory_order_release);
            /* Collect concurrently, as the live collector does: it sleeps
             * first and wakes every 100 ms (sensor_int.h COLLECT_NS). A 1 ms
             * poll took a core from a worker 60 times a pass on 2 cores
             * (pinned, --compare-workers 9 medians 1.69x and 1.49x against
             * 1.86x and 1.82x). The pass ends at the last worker's end. */
            unsigned done = 0;
            while (done < workers) {
                struct timespec nap = {0, 100000000L};
                nanosleep(&nap, NULL);
                gt_engine_collect(e);
                done = 0;
                for (unsigned w = 0; w < workers; w++)
                    done += atomic_load_explicit(&jobs[w].done, memory_order_acquire) != 0;
            }
            /* The end: the last worker's, not when the 1 ms poll saw it
             * (up to 1 ms of a 30 ms pass), then the final collection. */
            double last = 0;
            for (unsigned w = 0; w < workers; w++) {
                pthread_join(th[w], NULL);
                atomic_store(&jobs[w].done, 0);
                if (jobs[w].end > last)
                    last = jobs[w].end;
            }
            double f0 = gt_mono_s();
            gt_engine_finish(e);
            t1 = last + (gt_mono_s() - f0);
        }
        tot = gt_engine_totals(e);
        gt_engine_free(e);
        if (p == 0 || t1 - t0 < best)
            best = t1 - t0;
        double cpu = 0;             /* the busiest worker's CPU seconds */
        for (unsigned w = 0; w < workers; w++)
            if (jobs[w].cpu > cpu)
                cpu = jobs[w].cpu;
        if (p == 0 || cpu < best_cpu)
            best_cpu = cpu;
    }
    last_pps_ = (double)t.n / best;
    last_cpu_pps_ = (double)t.n / workers / best_cpu;
    if (!quiet_)
    printf("workers=%u burst=%u packets=%zu passes=%u seconds=%.6f pps=%.0f cpu_pps_per_worker=%.0f counted=%llu ip=%llu bins=%llu pkts_from=%llu\n",
           workers, burst_, t.n, passes, best, (double)t.n / best, (double)t.n / workers / best_cpu,
           (unsigned long long)tot.packets,
           (unsigned long long)tot.ip, (unsigned long long)sink.bins, (unsigned long long)sink.pkts_from);
    free(lists);
    for (unsigned w = 0; w < workers; w++)
        free(arenas[w]);
    free(arenas);
    free(jobs);
    free(th);
    return 0;
}

/* Sort a handful of ratios (insertion sort), for their median. */
static void sort_d(double *r, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && r[j] < r[j - 1]; j--) {
            double x = r[j]; r[j] = r[j - 1]; r[j - 1] = x;
        }
}

/* One side of a pair of single passes: frames per burst (0: per frame), workers. */
struct side {
    unsigned burst, workers;
};

/* The medians and extremes of n pairs' rate ratios (b over a), and each side's best. */
struct pairs {
    double med, min, max, cpu_med;
    double best[2], cpu_best[2];
};

/* n alternating pairs of single passes of sides a and b: slow drifts of a
 * shared machine hit both sides of a pair alike. 0, or 1 (a run failed). */
static int run_pairs(const gt_classifier *cls, const struct gt_keys *keys, const struct trace_mem *t, unsigned bin,
                     unsigned n, struct side a, struct side b, struct pairs *out)
{
    double *r = calloc(n, sizeof *r), *rc = calloc(n, sizeof *rc);
    int bad = !r || !rc;
    memset(out, 0, sizeof *out);
    quiet_ = 1;
    for (unsigned i = 0; i < n && !bad; i++) {
        burst_ = a.burst;
        bad = run_workers(cls, keys, t, a.workers, 1, bin);
        double pa = last_pps_, ca = last_cpu_pps_;
        burst_ = b.burst;
        bad |= run_workers(cls, keys, t, b.workers, 1, bin);
        r[i] = last_pps_ / pa;
        rc[i] = last_cpu_pps_ / ca;
        if (pa > out->best[0]) out->best[0] = pa;
        if (ca > out->cpu_best[0]) out->cpu_best[0] = ca;
        if (last_pps_ > out->best[1]) out->best[1] = last_pps_;
        if (last_cpu_pps_ > out->cpu_best[1]) out->cpu_best[1] = last_cpu_pps_;
    }
    quiet_ = 0;
    if (!bad) {
        sort_d(r, n);
        sort_d(rc, n);
        out->med = r[n / 2];
        out->min = r[0];
        out->max = r[n - 1];
        out->cpu_med = rc[n / 2];
    }
    free(r);
    free(rc);
    return bad ? 1 : 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: bench_engine FILE.pcap [--workers N[,N...]] [--passes N] [--bin SECONDS]\n"
                "                    [--country-db F] [--asn-db F]... [--no-asn] [--routes F]...\n"
                "                    [--paired N]   (with --routes: N alternating pairs of single passes\n"
                "                                    without and with the routes, 1 worker; prints the\n"
                "                                    median of the pairs' rate ratios)\n"
                "                    [--burst N]    (gt_worker_burst with N frames per call)\n"
                "                    [--compare-burst N] (N alternating pairs of single passes, 1 worker,\n"
                "                                    per frame and in bursts of --burst (default 32))\n"
                "                    [--compare-workers N] (N alternating pairs of single passes, 1 and\n"
                "                                    2 workers, in bursts of --burst (default 64))\n"
                "                    [--cache]      (the classifier through the compiled-classifier cache)\n");
}

int main(int argc, char **argv)
{
    unsigned worker_list[16] = {1}, nworkers = 1, passes = 3, bin = 60;
    const char *country = NULL;
    const char *asn[8];
    size_t nasn = 0;
    int no_asn = 0;
    const char *routes[8];
    size_t nroutes = 0;
    unsigned paired = 0, cmp_burst = 0, cmp_workers = 0, burst = 0;
    int use_cache = 0;
    static const struct option lopts[] = {
        {"routes", 1, 0, 'r'}, {"paired", 1, 0, 'P'},
        {"burst", 1, 0, 'B'}, {"compare-burst", 1, 0, 'C'},
        {"compare-workers", 1, 0, 'W'}, {"cache", 0, 0, 'K'},
        {"workers", 1, 0, 'w'}, {"passes", 1, 0, 'p'}, {"bin", 1, 0, 'b'}, {"country-db", 1, 0, 'c'},
        {"asn-db", 1, 0, 'a'}, {"no-asn", 0, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'w': /* a comma list: one run per count, one classifier build */
            nworkers = 0;
            for (char *q = optarg; *q && nworkers < 16; q += *q == ',') {
                char *end;
                unsigned long v = strtoul(q, &end, 10);
                if (end == q || v < 1 || v > 64) {
                    fprintf(stderr, "bench_engine: --workers: invalid list '%s'\n", optarg);
                    return 2;
                }
                worker_list[nworkers++] = (unsigned)v;
                q = end;
            }
            break;
        case 'p': passes = (unsigned)atoi(optarg); break;
        case 'b': bin = (unsigned)atoi(optarg); break;
        case 'c': country = optarg; break;
        case 'a': if (nasn < 8) asn[nasn++] = optarg; break;
        case 'n': no_asn = 1; break;
        case 'r': if (nroutes < 8) routes[nroutes++] = optarg; break;
        case 'P': paired = (unsigned)atoi(optarg); break;
        case 'B': burst = (unsigned)atoi(optarg); break;
        case 'C': cmp_burst = (unsigned)atoi(optarg); break;
        case 'W': cmp_workers = (unsigned)atoi(optarg); break;
        case 'K': use_cache = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || nworkers == 0 || passes < 1) {
        usage(stderr);
        return 2;
    }
    if (!no_asn && nasn == 0) {
        asn[nasn++] = gt_default_asn_v4();
        asn[nasn++] = gt_default_asn_v6();
    }
    struct gt_classifier_opts co = {
        .country_db = country ? country : gt_default_country_db(),
        .asn_dbs = no_asn ? NULL : asn,
        .n_asn_dbs = no_asn ? 0 : nasn,
    };
    char err[512];
    /* --paired: the same classifier without routes, to alternate with. */
    gt_classifier *plain = NULL;
    if (paired && nroutes) {
        plain = gt_classifier_build(&co, err, sizeof err);
        if (!plain) {
            fprintf(stderr, "bench_engine: %s\n", err);
            return 2;
        }
    }
    /* With routes: the upstream dimension compiled into the classes, as
     * geotap analyze --routes does (the per-packet path stays one lookup). */
    gt_routes *rt = NULL;
    gt_upstreams *ups = NULL;
    struct gt_rangeset up_rs;
    memset(&up_rs, 0, sizeof up_rs);
    if (nroutes) {
        rt = gt_routes_new();
        ups = gt_upstreams_new();
        for (size_t i = 0; i < nroutes; i++)
            if (!rt || !ups || gt_routes_load(rt, routes[i], err, sizeof err) != 0) {
                fprintf(stderr, "bench_engine: %s\n", err);
                return 2;
            }
        if (gt_upstream_compile(rt, NULL, NULL, ups, &up_rs) != 0) {
            fprintf(stderr, "bench_engine: out of memory compiling routes\n");
            return 2;
        }
        co.upstream_ranges = &up_rs;
        co.upstream_names = gt_upstreams_names(ups);
        co.n_upstream_names = gt_upstreams_count(ups);
    }
    gt_classifier *cls = use_cache ? gt_classifier_cached(&co, err, sizeof err) : gt_classifier_build(&co, err, sizeof err);
    if (cls && use_cache && err[0])
        fprintf(stderr, "bench_engine: warning: %s\n", err);
    gt_rangeset_free(&up_rs);
    gt_routes_free(rt);
    gt_upstreams_free(ups);
    if (!cls) {
        fprintf(stderr, "bench_engine: %s\n", err);
        return 2;
    }
    printf("classes=%u\n", gt_classifier_nclasses(cls));
    struct gt_keys keys;
    if (gt_keys_build(&keys, cls, GT_DIM_COUNTRY) != 0) {
        fprintf(stderr, "bench_engine: out of memory building keys\n");
        return 1;
    }
    struct trace_mem t;
    if (trace_mem_load(&t, argv[optind], 0, "bench_engine") != 0 || t.n == 0) {
        if (t.pkts)
            fprintf(stderr, "bench_engine: %s: no packets\n", argv[optind]);
        trace_mem_free(&t);
        gt_keys_free(&keys);
        gt_classifier_free(cls);
        return 2;
    }

    int rc = 0;
    if (plain) {
        /* Back-to-back single passes, alternating: slow drifts of a shared
         * machine hit both sides of a pair alike; the median pair decides. */
        struct gt_keys pkeys;
        double *r = calloc(paired, sizeof *r), bw = 0, bp = 0;
        if (!r || gt_keys_build(&pkeys, plain, GT_DIM_COUNTRY) != 0) {
            fprintf(stderr, "bench_engine: out of memory\n");
            return 1;
        }
        quiet_ = 1;
        for (unsigned i = 0; i < paired && rc == 0; i++) {
            rc = run_workers(plain, &pkeys, &t, 1, 1, bin);
            double a = last_pps_;
            rc |= run_workers(cls, &keys, &t, 1, 1, bin);
            r[i] = last_pps_ / a;
            if (a > bp) bp = a;
            if (last_pps_ > bw) bw = last_pps_;
        }
        sort_d(r, paired);
        printf("paired pairs=%u ratio_median=%.4f ratio_min=%.4f ratio_max=%.4f best_without=%.0f best_with=%.0f\n",
               paired, r[paired / 2], r[0], r[paired - 1], bp, bw);
        free(r);
        gt_keys_free(&pkeys);
        gt_classifier_free(plain);
    }
    if (cmp_burst && !plain) {
        /* Per frame and in bursts, alternating single passes (1 worker). */
        unsigned b = burst ? burst : 32;
        struct pairs pr;
        rc = run_pairs(cls, &keys, &t, bin, cmp_burst, (struct side){0, 1}, (struct side){b, 1}, &pr);
        if (rc == 0)
            printf("burst_pairs pairs=%u burst=%u ratio_median=%.4f ratio_min=%.4f ratio_max=%.4f best_frame=%.0f"
                   " best_burst=%.0f cpu_ratio_median=%.4f cpu_best_frame=%.0f cpu_best_burst=%.0f\n",
                   cmp_burst, b, pr.med, pr.min, pr.max, pr.best[0], pr.best[1], pr.cpu_med, pr.cpu_best[0],
                   pr.cpu_best[1]);
        nworkers = 0;
    }
    if (cmp_workers && !plain && !cmp_burst) {
        /* 1 and 2 workers in bursts, alternating single passes: one run of
         * each on a noisy machine is luck; the median pair decides. */
        unsigned b = burst ? burst : 64;
        struct pairs pr;
        rc = run_pairs(cls, &keys, &t, bin, cmp_workers, (struct side){b, 1}, (struct side){b, 2}, &pr);
        if (rc == 0)
            printf("worker_pairs pairs=%u burst=%u ratio_median=%.4f ratio_min=%.4f ratio_max=%.4f best_1=%.0f"
                   " best_2=%.0f cpu_best_1=%.0f cpu_best_2=%.0f\n",
                   cmp_workers, b, pr.med, pr.min, pr.max, pr.best[0], pr.best[1], pr.cpu_best[0], pr.cpu_best[1]);
        nworkers = 0;
    }
    burst_ = burst;
    for (unsigned i = 0; i < nworkers && rc == 0 && !plain; i++)
        rc = run_workers(cls, &keys, &t, worker_list[i], passes, bin);
    trace_mem_free(&t);
    gt_keys_free(&keys);
    gt_classifier_free(cls);
    return rc;
}
