/* bench_scrape: what Prometheus scraping /metrics costs the counting.
 * The engine runs over a trace in memory (W workers on their threads, the
 * main thread collecting every millisecond as the live collector does, the
 * exporter registered on its bins, 1 s bins so it publishes a snapshot every
 * bin) for a fixed time per pass, the trace replayed with shifted times.
 * The HTTP server (libmicrohttpd, as in geotap live) serves /metrics on a
 * loopback port throughout; in every other pass a scraper thread GETs it
 * RATE times a second. Passes alternate without and with the scraper;
 * prints the median of the pairs' rate ratios (with / without), and the CPU
 * time one render of /metrics takes (what a scrape costs the HTTP thread). */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "geotap/classifier.h"
#include "geotap/clock.h"
#include "geotap/datadir.h"
#include "geotap/engine.h"
#include "geotap/http.h"
#include "geotap/keys.h"
#include "geotap/metrics.h"
#include "trace_mem.h"

static struct gt_sink sink_;

static void on_bin(void *ctx, const struct gt_bin *b)
{
    (void)ctx;
    sink_.bin(sink_.self, b);
}

struct job {
    struct gt_worker *w;
    int dlt;
    struct gt_frame *f;
    size_t n;
    int64_t span;               /* the trace's time span: each replay is shifted by it */
    double until;               /* monotonic end of the pass */
    uint64_t fed;
    atomic_int done;
};

static void *worker_main(void *arg)
{
    struct job *j = arg;
    while (gt_mono_s() < j->until) {
        for (size_t i = 0; i < j->n; i += 32)
            gt_worker_burst(j->w, j->dlt, j->f + i, (unsigned)(j->n - i < 32 ? j->n - i : 32));
        j->fed += j->n;
        for (size_t i = 0; i < j->n; i++)
            j->f[i].ts_ns += j->span;
    }
    gt_worker_finish(j->w);
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

struct scraper {
    unsigned port, rate;
    atomic_int on, quit;
    atomic_ulong scrapes, bytes;
};

/* One GET /metrics; bytes read, or 0. */
static size_t get_metrics(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t got = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
            char buf[65536];
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0)
                got += (size_t)r;
        }
    }
    if (fd >= 0)
        close(fd);
    return got;
}

static void *scraper_main(void *arg)
{
    struct scraper *s = arg;
    double next = gt_mono_s();
    while (!atomic_load(&s->quit)) {
        if (atomic_load(&s->on)) {
            atomic_fetch_add(&s->bytes, get_metrics(s->port));
            atomic_fetch_add(&s->scrapes, 1);
        }
        next += 1.0 / s->rate;
        double wait = next - gt_mono_s();
        if (wait < 0)
            next = gt_mono_s(), wait = 0;
        struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* One pass of secs seconds with nw workers: frames per second. */
static double pass(const gt_classifier *cls, const struct gt_keys *keys, const struct trace_mem *t, unsigned nw,
                   double secs)
{
    struct gt_engine_opts eo = { .cls = cls, .keys = keys, .bin_seconds = 1, .nworkers = nw, .on_bin = on_bin };
    gt_engine *e = gt_engine_new(&eo);
    struct job *jobs = calloc(nw, sizeof *jobs);
    pthread_t *th = calloc(nw, sizeof *th);
    if (!e || !jobs || !th) {
        fprintf(stderr, "bench_scrape: out of memory\n");
        exit(1);
    }
    int64_t span = t->pkts[t->n - 1].ts_ns - t->pkts[0].ts_ns + 1000000000;
    double t0 = gt_mono_s();
    for (unsigned w = 0; w < nw; w++) {
        size_t n = 0;
        jobs[w].f = malloc((t->n / nw + 1) * sizeof *jobs[w].f);
        for (size_t i = w; i < t->n; i += nw)
            jobs[w].f[n++] = (struct gt_frame){ t->pkts[i].ts_ns, t->pkts[i].data, t->pkts[i].caplen,
                                                t->pkts[i].wirelen };
        jobs[w] = (struct job){ gt_engine_worker(e, w), t->dlt, jobs[w].f, n, span, t0 + secs, 0, 0 };
        pthread_create(&th[w], NULL, worker_main, &jobs[w]);
    }
    unsigned done = 0;
    while (done < nw) {
        gt_engine_collect(e);
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
        done = 0;
        for (unsigned w = 0; w < nw; w++)
            done += atomic_load_explicit(&jobs[w].done, memory_order_acquire) != 0;
    }
    uint64_t fed = 0;
    for (unsigned w = 0; w < nw; w++) {
        pthread_join(th[w], NULL);
        fed += jobs[w].fed;
        free(jobs[w].f);
    }
    double el = gt_mono_s() - t0;
    gt_engine_finish(e);
    gt_engine_free(e);
    free(jobs);
    free(th);
    return (double)fed / el;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned pairs = 7, workers = 2, rate = 10;
    double secs = 2;
    const char *country = NULL;
    static const struct option lo[] = {
        { "pairs", 1, 0, 'p' }, { "workers", 1, 0, 'w' }, { "rate", 1, 0, 'r' }, { "seconds", 1, 0, 's' },
        { "country-db", 1, 0, 'c' }, { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p': pairs = (unsigned)atoi(optarg); break;
        case 'w': workers = (unsigned)atoi(optarg); break;
        case 'r': rate = (unsigned)atoi(optarg); break;
        case 's': secs = atof(optarg); break;
        case 'c': country = optarg; break;
        default:
            fprintf(stderr, "usage: bench_scrape FILE.pcap [--pairs N] [--workers N] [--rate HZ] [--seconds S]"
                            " [--country-db F]\n");
            return 2;
        }
    }
    if (optind + 1 != argc || pairs < 1 || workers < 1 || rate < 1 || secs <= 0) {
        fprintf(stderr, "bench_scrape: want one FILE.pcap and positive --pairs, --workers, --rate, --seconds\n");
        return 2;
    }
    char err[512];
    struct gt_classifier_opts co = { .country_db = country ? country : gt_default_country_db() };
    gt_classifier *cls = gt_classifier_build(&co, err, sizeof err);
    if (!cls) {
        fprintf(stderr, "bench_scrape: %s\n", err);
        return 2;
    }
    struct gt_keys keys;
    struct trace_mem t;
    if (gt_keys_build(&keys, cls, GT_DIM_COUNTRY) != 0 || trace_mem_load(&t, argv[optind], 0, "bench_scrape") != 0 ||
        t.n == 0) {
        fprintf(stderr, "bench_scrape: cannot load the keys or %s\n", argv[optind]);
        return 2;
    }
    struct gt_metrics_opts mo = { .keys = &keys, .cls = cls, .interface = "bench", .country_db = co.country_db };
    struct gt_metrics *m = gt_metrics_new(&mo);
    struct gt_http *h = m ? gt_http_start("127.0.0.1:0", NULL, m, err, sizeof err) : NULL;
    if (!h) {
        fprintf(stderr, "bench_scrape: %s\n", m ? err : "out of memory");
        return 2;
    }
    sink_ = gt_metrics_sink(m);
    struct scraper sc = { .port = gt_http_port(h), .rate = rate };
    atomic_init(&sc.on, 0);
    atomic_init(&sc.quit, 0);
    atomic_init(&sc.scrapes, 0);
    atomic_init(&sc.bytes, 0);
    pthread_t sth;
    pthread_create(&sth, NULL, scraper_main, &sc);
    double *r = calloc(pairs, sizeof *r), best0 = 0, best1 = 0;
    for (unsigned i = 0; i < pairs; i++) {
        atomic_store(&sc.on, 0);
        double a = pass(cls, &keys, &t, workers, secs);
        atomic_store(&sc.on, 1);
        double b = pass(cls, &keys, &t, workers, secs);
        r[i] = b / a;
        if (a > best0) best0 = a;
        if (b > best1) best1 = b;
    }
    atomic_store(&sc.quit, 1);
    pthread_join(sth, NULL);
    qsort(r, pairs, sizeof *r, cmp_d);
    /* What one scrape costs the HTTP thread: renders timed on this thread's CPU clock. */
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (int i = 0; i < 200; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            gt_metrics_render(m, f);
            fclose(f);
        }
        free(buf);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double render_ms = ((double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6) / 200;
    unsigned long n = atomic_load(&sc.scrapes);
    printf("scrape_pairs pairs=%u workers=%u rate=%u seconds=%.1f ratio_median=%.4f ratio_min=%.4f ratio_max=%.4f"
           " best_without=%.0f best_with=%.0f scrapes=%lu bytes_per_scrape=%lu render_cpu_ms=%.3f\n",
           pairs, workers, rate, secs, r[pairs / 2], r[0], r[pairs - 1], best0, best1, n,
           n ? atomic_load(&sc.bytes) / n : 0, render_ms);
    gt_http_stop(h);
    sink_.free(sink_.self);
    free(r);
    trace_mem_free(&t);
    gt_keys_free(&keys);
    gt_classifier_free(cls);
    return 0;
}
