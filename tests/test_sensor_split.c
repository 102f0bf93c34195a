/* One capture file on several threads (gt_sensor_config.file_threads, the
 * reader and its classify helpers, analysis/pipeline/file_split.c) counts
 * what one thread counts: every bin's start, stats, per-key counters,
 * first/last times and flow starts, over all test captures read as one
 * capture (their times jump back and forth), with 2 and 4 threads, several
 * times over. Suite 'threads': the hand-over between the reader and the
 * helpers runs under ThreadSanitizer. The one-thread path is the oracle
 * (checked against tshark elsewhere); the run must also count every frame
 * libpcap reads from the files (an independent count). */
#include "bin_log.h"
#include "check.h"
#include "geotap/sensor.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sink_bin(void *self, const struct gt_bin *b)
{
    on_bin(self, b);
}

static int sink_finish(void *self, char *err, size_t errlen)
{
    (void)self;
    (void)err;
    (void)errlen;
    return 0;
}

static uint64_t run(const char *const *files, unsigned n, unsigned threads, struct log *out)
{
    struct gt_sensor_config c;
    memset(&c, 0, sizeof c);
    c.files = files;
    c.nfiles = n;
    c.setup.dims = GT_DIM_COUNTRY;
    c.setup.home[0] = "10.0.0.0/8";
    c.setup.n_home = 1;
    c.bin_seconds = 10;
    c.file_threads = threads;
    char err[1024];
    gt_sensor *s = gt_sensor_new(&c, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return 0;
    struct gt_sink k = { .name = "log", .self = out, .bin = sink_bin, .finish = sink_finish };
    CHECK(gt_sensor_add_sink(s, k) == 0);
    gt_sensor_run(s, err, sizeof err);   /* damaged test captures make it -1 with err "" */
    struct gt_sensor_stats st;
    gt_sensor_stats(s, &st);
    gt_sensor_free(s);
    return st.totals.packets;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *sh = getenv("GEOTAP_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pcap", sh ? sh : "tests/data");
    char *files[512];
    unsigned n = 0;
    uint64_t want = 0;
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "%s: cannot open", dir);
    struct dirent *de;
    while (d && (de = readdir(d)) && n < 512) {
        size_t l = strlen(de->d_name);
        if (!(l > 5 && !strcmp(de->d_name + l - 5, ".pcap")) && !(l > 7 && !strcmp(de->d_name + l - 7, ".pcapng")))
            continue;
        char path[8192], eb[PCAP_ERRBUF_SIZE];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        pcap_t *p = pcap_open_offline(path, eb);
        if (!p)
            continue;   /* what libpcap cannot open is not this test's */
        struct pcap_pkthdr *h;
        const u_char *b;
        while (pcap_next_ex(p, &h, &b) == 1)
            want++;
        pcap_close(p);
        files[n++] = strdup(path);
    }
    if (d)
        closedir(d);
    qsort(files, n, sizeof *files, by_name);
    CHECK_MSG(n >= 100, "only %u captures", n);

    struct log ref = { 0 };
    uint64_t got = run((const char *const *)files, n, 1, &ref);
    CHECK_EQ_U(got, want);
    for (int round = 0; round < 3; round++)
        for (unsigned t = 2; t <= 4; t += 2) {
            struct log l = { 0 };
            CHECK_EQ_U(run((const char *const *)files, n, t, &l), want);
            CHECK_MSG(log_same(&l, &ref), "%u threads: other bins or counts (%zu vs %zu records)", t, l.n, ref.n);
            free(l.r);
        }
    fprintf(stderr, "%u captures as one (%llu frames, %zu records): 2 and 4 threads as one, 3 rounds\n", n,
            (unsigned long long)want, ref.n);
    free(ref.r);
    for (unsigned i = 0; i < n; i++)
        free(files[i]);
    return check_result();
}
