/* One capture file on several cores (private to the pipeline): this thread
 * reads bursts and counts them in frame order on the one engine worker;
 * helper threads classify (parse + lookups, the bulk of the work) the
 * bursts handed to them, and this thread classifies what they cannot take
 * in time. The counts are those of one worker. */
#ifndef GT_FILE_SPLIT_H
#define GT_FILE_SPLIT_H

#include "geotap/engine.h"
#include "geotap/source.h"

struct split_ops {
    /* Count classified frames (in order); the caller's count limit etc. */
    void (*count)(void *ctx, const struct gt_frame *f, const struct gt_classified *c, unsigned n);
    /* Before each read: nonzero to stop reading. */
    int (*stop)(void *ctx);
    /* A file was damaged (the message names it); reading goes on. */
    void (*error)(void *ctx, const char *msg);
};

/* Read src to its end with `helpers` classify threads. 0, or -1 when they
 * cannot be started (nothing was read: the caller reads single-threaded). */
int split_run(gt_source *src, gt_engine *e, unsigned helpers, const struct split_ops *ops, void *ctx);

#endif
