/* Rotating outputs (rotate.h): csv bins written through gt_output into files
 * named by "%Y/%m/%d/traffic-%H.csv" across a year boundary, a reopen after
 * logrotate renamed the file, a reopen without a rename, failures that keep
 * the previous file, and events named by their deciding bin. Every file is
 * compared with hand-written contents (names and epoch times from
 * `date -u -d 2026-12-31T22:00:00Z +%s`). */
#include "check.h"
#include "geotap/rotate.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T22 1798754400LL   /* 2026-12-31T22:00:00Z */

static char dir[64];

static char *slurp(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    size_t n = fread(b, 1, 4095, f);
    b[n] = 0;
    fclose(f);
    return b;
}

#define CHECK_FILE(rel, want) do { const char *got_ = slurp(rel); \
    CHECK_MSG(got_ && !strcmp(got_, want), "%s:\n%s\nwant:\n%s", rel, got_ ? got_ : "(missing)", want); } while (0)

#define HDR "time,country,packets_from,bytes_from,packets_to,bytes_to," GT_OUTPUT_MERGE_COLUMNS "\n"
/* the merge columns of a bin of test_rotation: no flow starts, width 900, one worker, one key */
#define MC ",0,0,0,0,900,0,0,1,1\n"

static struct gt_key kt[1] = { { .cc = "DE" } };
static struct gt_keys keys = { .dims = GT_DIM_COUNTRY, .nkeys = 1, .keys = kt };

static void bin(struct gt_rotating_output *ro, int64_t start, uint64_t n)
{
    struct gt_counts c = { .pkts_from = n, .bytes_from = 100 * n, .pkts_to = 2 * n, .bytes_to = 200 * n };
    int64_t zero = 0;
    struct gt_bin b = { .start = start, .width = 900, .nkeys = 1, .counts = &c, .last_ns = &zero, .first_ns = &zero };
    gt_rotating_output_bin(ro, &b);
}

static void test_rotation(void)
{
    char pat[128], err[256], a[200], b[256];
    snprintf(pat, sizeof pat, "%s/%%Y/%%m/%%d/traffic-%%H.csv", dir);
    struct gt_output_opts oo = { .format = GT_FMT_CSV, .keys = &keys };
    struct gt_rotating_output ro = { .out = gt_output_new(&oo), .rot = gt_rotate_new(pat, err, sizeof err) };
    CHECK_MSG(ro.out && ro.rot, "%s", err);
    if (!ro.out || !ro.rot)
        return;
    CHECK(!strcmp(gt_rotate_path(ro.rot), ""));
    bin(&ro, T22, 1);                  /* 22:00 */
    bin(&ro, T22 + 2700, 2);           /* 22:45 */
    bin(&ro, T22 + 5400, 3);           /* 23:30 */
    bin(&ro, T22 + 6300, 4);           /* 23:45 */
    bin(&ro, T22 + 7200, 5);           /* 2027-01-01 00:00 */
    bin(&ro, T22 + 8100, 6);           /* 00:15 */
    bin(&ro, T22 + 10800, 7);          /* 01:00 */
    /* logrotate: rename, then SIGUSR1 */
    snprintf(a, sizeof a, "%s/2027/01/01/traffic-01.csv", dir);
    snprintf(b, sizeof b, "%s.1", a);
    CHECK(!strcmp(gt_rotate_path(ro.rot), a));
    fflush(NULL);
    CHECK(rename(a, b) == 0);
    gt_rotate_request_reopen(ro.rot);
    bin(&ro, T22 + 11700, 8);          /* 01:15, into a new traffic-01.csv */
    gt_rotate_request_reopen(ro.rot);  /* no rename: appends, no second header */
    bin(&ro, T22 + 12600, 9);          /* 01:30 */
    bin(&ro, T22 + 14400, 10);         /* 02:00 */
    CHECK(gt_rotating_output_finish(&ro) == 0);
    CHECK_EQ_U(ro.errors, 0);
    CHECK_EQ_U(ro.lost_bins, 0);
    CHECK(gt_rotate_free(ro.rot, err, sizeof err) == 0);
    gt_output_free(ro.out);

    CHECK_FILE("2026/12/31/traffic-22.csv", HDR "2026-12-31T22:00:00Z,DE,1,100,2,200" MC
                                            "2026-12-31T22:45:00Z,DE,2,200,4,400" MC);
    CHECK_FILE("2026/12/31/traffic-23.csv", HDR "2026-12-31T23:30:00Z,DE,3,300,6,600" MC
                                            "2026-12-31T23:45:00Z,DE,4,400,8,800" MC);
    CHECK_FILE("2027/01/01/traffic-00.csv", HDR "2027-01-01T00:00:00Z,DE,5,500,10,1000" MC
                                            "2027-01-01T00:15:00Z,DE,6,600,12,1200" MC);
    CHECK_FILE("2027/01/01/traffic-01.csv.1", HDR "2027-01-01T01:00:00Z,DE,7,700,14,1400" MC);
    CHECK_FILE("2027/01/01/traffic-01.csv", HDR "2027-01-01T01:15:00Z,DE,8,800,16,1600" MC
                                            "2027-01-01T01:30:00Z,DE,9,900,18,1800" MC);
    CHECK_FILE("2027/01/01/traffic-02.csv", HDR "2027-01-01T02:00:00Z,DE,10,1000,20,2000" MC);

    /* a restart in the same hour appends to the hour's file, without a header */
    ro.out = gt_output_new(&oo);
    ro.rot = gt_rotate_new(pat, err, sizeof err);
    bin(&ro, T22 + 15300, 11);         /* 02:15 */
    CHECK(gt_rotating_output_finish(&ro) == 0);
    CHECK(gt_rotate_free(ro.rot, err, sizeof err) == 0);
    gt_output_free(ro.out);
    CHECK_FILE("2027/01/01/traffic-02.csv", HDR "2027-01-01T02:00:00Z,DE,10,1000,20,2000" MC
                                            "2027-01-01T02:15:00Z,DE,11,1100,22,2200" MC);
}

static void test_errors(void)
{
    char pat[128], path[128], err[256];
    CHECK(!gt_rotate_new("", err, sizeof err));
    CHECK_MSG(strstr(err, "expands to an empty"), "%s", err);

    /* the next hour's directory cannot be made: that bin stays in the 22 file */
    snprintf(pat, sizeof pat, "%s/e/%%H/x.csv", dir);
    struct gt_output_opts oo = { .format = GT_FMT_CSV, .keys = &keys };
    struct gt_rotating_output ro = { .out = gt_output_new(&oo), .rot = gt_rotate_new(pat, err, sizeof err) };
    bin(&ro, T22, 1);
    snprintf(path, sizeof path, "%s/e/23", dir);
    FILE *f = fopen(path, "w");        /* a file where the directory should go */
    CHECK(f && fclose(f) == 0);
    bin(&ro, T22 + 3600, 2);
    CHECK_EQ_U(ro.errors, 1);
    CHECK_MSG(strstr(ro.err, "e/23/x.csv: cannot open: Not a directory"), "%s", ro.err);
    CHECK_EQ_U(ro.lost_bins, 0);
    CHECK(gt_rotating_output_finish(&ro) == 0);
    CHECK(gt_rotate_free(ro.rot, err, sizeof err) == 0);
    gt_output_free(ro.out);
    CHECK_FILE("e/22/x.csv", HDR "2026-12-31T22:00:00Z,DE,1,100,2,200" MC
                             "2026-12-31T23:00:00Z,DE,2,200,4,400" MC);

    /* no file at all: the bin is counted as lost, not written anywhere */
    snprintf(pat, sizeof pat, "%s/e/23/%%H.csv", dir);
    ro = (struct gt_rotating_output){ .out = gt_output_new(&oo), .rot = gt_rotate_new(pat, err, sizeof err) };
    bin(&ro, T22, 1);
    CHECK_EQ_U(ro.lost_bins, 1);
    CHECK_MSG(strstr(ro.err, "e/23/22.csv: cannot open"), "%s", ro.err);
    CHECK(gt_rotating_output_finish(&ro) == 0);
    CHECK(gt_rotate_free(ro.rot, err, sizeof err) == 0);
    gt_output_free(ro.out);
}

/* Events go with the bin that decided them: detected at 23:00:00 (the end
 * of the 22:59 bin) is the 22 file's, at 23:01:00 the 23 file's. */
static void test_events(void)
{
    char pat[128], err[256];
    snprintf(pat, sizeof pat, "%s/ev/events-%%H.jsonl", dir);
    struct gt_events_out eo = { .keys = &keys };
    struct gt_rotating_events re = { .out = &eo, .rot = gt_rotate_new(pat, err, sizeof err) };
    struct gt_event ev = { .type = GT_EV_CAPTURE_GAP, .key = GT_NO_KEY, .last_seen_ns = (T22 + 3000) * 1000000000LL,
                           .first_seen_ns = (T22 + 3500) * 1000000000LL, .detected_ns = (T22 + 3600) * 1000000000LL,
                           .duration_s = 500, .gap_reason = GT_GAP_SILENCE };
    gt_rotating_events_fn(&re, &ev);
    ev.detected_ns += 60 * 1000000000LL;
    gt_rotating_events_fn(&re, &ev);
    CHECK_EQ_U(re.errors, 0);
    CHECK(gt_rotate_free(re.rot, err, sizeof err) == 0);
    CHECK_FILE("ev/events-22.jsonl",
               "{\"type\":\"capture_gap\",\"start\":\"2026-12-31T22:50:00.000000Z\",\"end\":\"2026-12-31T22:58:20.000000Z\","
               "\"detected\":\"2026-12-31T23:00:00.000000Z\",\"duration_s\":500.000,\"reason\":\"silence\",\"drops\":0}\n");
    CHECK_FILE("ev/events-23.jsonl",
               "{\"type\":\"capture_gap\",\"start\":\"2026-12-31T22:50:00.000000Z\",\"end\":\"2026-12-31T22:58:20.000000Z\","
               "\"detected\":\"2026-12-31T23:01:00.000000Z\",\"duration_s\":500.000,\"reason\":\"silence\",\"drops\":0}\n");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/geotap-rotate-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_rotation();
    test_errors();
    test_events();
    int rc = check_result();
    if (!rc) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
