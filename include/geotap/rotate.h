/* Output files named by a strftime pattern ("/var/lib/geotap/%Y/%m/%d/traffic-%H.csv"),
 * expanded in UTC at each bin's start time: the file is closed and the next
 * one opened at the first bin whose name differs, so a bin is never split
 * across files. Files are opened for appending (a restart continues the hour's
 * file); missing directories are created. A reopen request (SIGUSR1 from
 * logrotate, or a reload) closes and reopens the current name at the next bin:
 * a file that logrotate renamed away is recreated. A pattern without '%'
 * names one file, reopened only on request. */
#ifndef GEOTAP_ROTATE_H
#define GEOTAP_ROTATE_H

#include <stdint.h>
#include <stdio.h>
#include "geotap/bins.h"
#include "geotap/events.h"
#include "geotap/output.h"

typedef struct gt_rotate gt_rotate;

/* What gt_rotate_file did. */
enum gt_rotate_change {
    GT_ROT_SAME = 0,     /* the file of the previous bin */
    GT_ROT_APPEND,       /* switched to a file that already has content */
    GT_ROT_NEW,          /* switched to an empty file: write a header first */
};

/* A rotator for pattern (copied). NULL with the reason in err: an empty or
 * over-long expansion, out of memory. Opens nothing yet. */
gt_rotate *gt_rotate_new(const char *pattern, char *err, size_t errlen);
/* The file to write the bin starting at t (seconds since the epoch) to;
 * *change says whether it changed. When the next file cannot be opened (or
 * the previous one failed to close cleanly) err says why, and the previous
 * file, if any, stays in use so no bin is lost; NULL only when there is no file
 * at all. err is "" on success. */
FILE *gt_rotate_file(gt_rotate *r, int64_t t, enum gt_rotate_change *change, char *err, size_t errlen);
/* Ask for a reopen at the next bin. Async-signal-safe (a signal handler may call it). */
void gt_rotate_request_reopen(gt_rotate *r);
/* The path of the file in use ("" before the first bin). */
const char *gt_rotate_path(const gt_rotate *r);
/* Close the file in use and free. 0, or -1 with err when the close failed
 * (the last writes did not reach the disk). */
int gt_rotate_free(gt_rotate *r, char *err, size_t errlen);

/* A gt_bin_fn writing bins through a gt_output (csv or jsonl) into rotating
 * files, each bin flushed: set out and rot, pass it as ctx. Failures are
 * counted in errors and the last one kept in err. */
struct gt_rotating_output {
    struct gt_output *out;
    gt_rotate *rot;
    uint64_t errors;
    uint64_t lost_bins;   /* bins with no file to go to */
    char err[512];
};
void gt_rotating_output_bin(void *ctx, const struct gt_bin *bin);
/* End of run: gt_output_finish into the file in use (nothing when no bin
 * came). 0, or -1 when writing failed. */
int gt_rotating_output_finish(struct gt_rotating_output *ro);

/* A gt_event_fn writing events through a gt_events_out (JSON or text lines)
 * into rotating files, named by the time of the bin that decided each event
 * (detected_ns is that bin's end: an event decided by the 22:59 bin goes to
 * the 22 file). Set out and rot, pass it as ctx. */
struct gt_rotating_events {
    struct gt_events_out *out;
    gt_rotate *rot;
    uint64_t errors;
    uint64_t lost_events; /* events with no file to go to */
    char err[512];
};
void gt_rotating_events_fn(void *ctx, const struct gt_event *ev);

#endif
