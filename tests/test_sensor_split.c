/* One capture file on several threads (gt_sensor_config.file_threads, the
 * reader and its classify helpers, analysis/pipeline/file_split.c) counts
 * what one thread counts: every bin's start, stats, per-key counters,
 * first/last times and flow starts, over all test captures read as one
 * capture (their times jump back and forth), with 2 and 4 threads, several
 * times over; and their Ethernet frames written into one classic pcap
 * file, read in 2, 3 and 4 parts (analysis/pipeline/file_chunks.c). Suite
 * 'threads': the hand-overs between the threads run under ThreadSanitizer. The one-thread path is the oracle
 * (checked against tshark elsewhere); the run must also count every frame
 * libpcap reads from the files (an independent count). */
#include "bin_log.h"
#include "captures.h"
#include "check.h"
#include "geotap/sensor.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(void)
{
    const char *sh = getenv("GEOTAP_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pcap", sh ? sh : "tests/data");
    size_t ncap;
    char **paths = captures_list(dir, &ncap);
    CHECK_MSG(paths != NULL, "%s: cannot open", dir);
    char **files = malloc((ncap + 1) * sizeof *files);
    unsigned n = 0;
    uint64_t want = 0;
    for (size_t c = 0; c < ncap; c++) {
        char eb[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(paths[c], eb);
        if (!p)
            continue;   /* what libpcap cannot open is not this test's */
        struct pcap_pkthdr *h;
        const u_char *b;
        while (pcap_next_ex(p, &h, &b) == 1)
            want++;
        pcap_close(p);
        files[n++] = paths[c];      /* in name order already */
    }
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

    /* One classic pcap file (read in parts, one worker each): the Ethernet
     * frames of every capture above written into one, with their own times
     * (jumps back and forth at every file's start: the parts before read
     * on) and with steady times (parts counted on their own and joined). */
    for (int steady = 0; steady < 2; steady++) {
        char one[] = "/tmp/geotap-sensor-split-XXXXXX";
        int fd = mkstemp(one);
        CHECK(fd >= 0);
        close(fd);
        pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_MICRO);
        pcap_dumper_t *du = dead ? pcap_dump_open(dead, one) : NULL;
        CHECK(du != NULL);
        uint64_t wrote = 0;
        for (unsigned i = 0; du && i < n; i++) {
            char eb[PCAP_ERRBUF_SIZE];
            pcap_t *p = pcap_open_offline(files[i], eb);
            if (!p)
                continue;
            struct pcap_pkthdr *h;
            const u_char *b;
            while (pcap_datalink(p) == DLT_EN10MB && pcap_next_ex(p, &h, &b) == 1) {
                struct pcap_pkthdr hh = *h;
                if (steady) {   /* 1 ms apart from 2023-11-14 on: bins of 10 s, silences none */
                    hh.ts.tv_sec = 1700000000 + (time_t)(wrote / 1000);
                    hh.ts.tv_usec = (suseconds_t)(wrote % 1000) * 1000;
                }
                pcap_dump((u_char *)du, &hh, b);
                wrote++;
            }
            pcap_close(p);
        }
        if (du)
            pcap_dump_close(du);
        if (dead)
            pcap_close(dead);
        const char *const onef[] = { one };
        struct log ref1 = { 0 };
        CHECK_EQ_U(run(onef, 1, 1, &ref1), wrote);
        for (int round = 0; round < 2; round++)
            for (unsigned t = 2; t <= 4; t++) {
                struct log l = { 0 };
                CHECK_EQ_U(run(onef, 1, t, &l), wrote);
                CHECK_MSG(log_same(&l, &ref1), "one file%s, %u parts: other bins or counts (%zu vs %zu records)",
                          steady ? " (steady times)" : "", t, l.n, ref1.n);
                free(l.r);
            }
        fprintf(stderr, "their Ethernet frames in one file%s (%llu frames, %zu records): 2, 3 and 4 parts as one\n",
                steady ? ", steady times" : "", (unsigned long long)wrote, ref1.n);
        free(ref1.r);
        unlink(one);
    }
    free(files);            /* its strings are paths' */
    captures_free(paths);
    return check_result();
}
