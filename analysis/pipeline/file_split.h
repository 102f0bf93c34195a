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

/* One classic pcap file in parts (file_chunks.c): part i of nparts, a
 * byte range of the mapped file, is counted by worker i of e, an ordered
 * engine (engine.h opts.ordered) of nparts workers, on a thread of its own;
 * this thread collects, so the bins reach e's consumer here, as those of
 * one worker counting the whole file would (the same counts and messages).
 * Every worker is finished and the last bin flushed on return (without
 * threads this thread reads alone). -1 when src is not one mapped classic
 * pcap file unread (nothing done), or out of memory (said through error). */
struct chunk_ops {
    int (*stop)(void *ctx);                      /* polled here: nonzero to stop */
    void (*error)(void *ctx, const char *msg);   /* as split_ops */
    void (*frames)(void *ctx, uint64_t n);       /* frames counted so far (progress) */
};
int chunks_run(gt_source *src, gt_engine *e, unsigned nparts, const struct chunk_ops *ops, void *ctx);

#endif
