/* Packet sources behind one interface: capture files, live libpcap and DPDK
 * ports deliver frames in bursts to a callback, report drops as deltas, say
 * how many queues they have and start one worker thread per queue (pthreads,
 * or DPDK lcores). Each queue is polled by exactly one thread.
 *
 * Drop rules, per source (gt_source_drops returns what is new since the
 * last call on that queue, never a cumulative figure):
 *   file   none (a file holds what was captured).
 *   live   queue q: pcap_stats ps_drop of handle q (its ring was full), plus,
 *          on queue 0 only, ps_ifdrop: the interface's drops, which every
 *          handle reports alike, so they are counted once.
 *   dpdk   queue 0 only: the port-wide imissed + ierrors + rx_nombuf (the
 *          NIC counters are per port; the other queues report 0).
 * A counter that goes backwards (a reset) is taken as a new start. */
#ifndef GEOTAP_SOURCE_H
#define GEOTAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/engine.h"

struct gt_live_opts;
struct gt_dpdk_opts;

/* Frames of one burst (link type dlt), valid only during the call. */
typedef void (*gt_burst_fn)(void *ctx, int dlt, const struct gt_frame *f, unsigned n);

enum {
    GT_SOURCE_ERR = -1,         /* gt_source_error(); polling again goes on where it can */
    GT_SOURCE_END = -2,         /* no more frames (end of the files, or gt_source_break) */
};

typedef struct gt_source gt_source;

/* Capture files read in order as one capture ("-" = standard input), each
 * opened now so a bad name fails early. NULL with one line in err. */
gt_source *gt_source_files(const char *const *paths, unsigned n, const char *bpf, char *err, size_t errlen);
/* A live interface through libpcap, one queue per fanout handle. */
gt_source *gt_source_live(const struct gt_live_opts *o, char *err, size_t errlen);
/* A DPDK port (only when built with DPDK; NULL with a reason otherwise). */
gt_source *gt_source_dpdk(const struct gt_dpdk_opts *o, char *err, size_t errlen);

/* Number of queues (= worker threads). */
unsigned gt_source_queues(const gt_source *s);
/* Link type of the first (for files: the current) frames; a DLT_* value. */
int gt_source_dlt(const gt_source *s);
/* The source's name for messages: the file, interface or "dpdk port N". */
const char *gt_source_name(const gt_source *s);
/* Frames are stamped by the capture (files) rather than by the wall clock. */
int gt_source_packet_clock(const gt_source *s);
/* Deliver what queue q has (waiting at most the source's timeout) to fn.
 * Returns frames delivered (0 when idle), GT_SOURCE_END or GT_SOURCE_ERR. */
int gt_source_poll(gt_source *s, unsigned q, gt_burst_fn fn, void *ctx);
/* Files, for a pipeline that counts frames after reading on: up to max
 * frames of the current file into f, link type in *dlt, whose data stay
 * valid until gt_source_close (zero copy from a mapped file; frames libpcap
 * reads into its reused buffer are copied into arena, which must hold at
 * least GT_SOURCE_ARENA bytes). Frames read, 0 at the end of a file (the
 * next call goes on with the next one), GT_SOURCE_END or GT_SOURCE_ERR. */
#define GT_SOURCE_ARENA (1u << 20)
int gt_source_read(gt_source *s, struct gt_frame *f, unsigned max, uint8_t *arena, size_t arena_len, int *dlt);
/* The error of the last GT_SOURCE_ERR on queue q. */
const char *gt_source_error(const gt_source *s, unsigned q);
/* Drops on queue q since the last call (see the rules above). */
uint64_t gt_source_drops(gt_source *s, unsigned q);
/* Cumulative drops seen so far on every queue, split by where they were
 * counted: [0] the ring or kernel, [1] the interface or NIC. */
void gt_source_drop_totals(const gt_source *s, uint64_t out[2]);
/* Files: the current file's index, bytes read and size (0 when unknown). */
void gt_source_position(const gt_source *s, unsigned *file, uint64_t *offset, uint64_t *size);
/* Files: the one file when the source is a single mapped classic pcap
 * file not read yet (for reading it in parts, pcap_file.h), else NULL.
 * Reads through it move this source on too. */
struct gt_pcap_file *gt_source_split_file(gt_source *s);
/* Make a running or the next poll of every queue return soon (any thread,
 * not a signal handler). */
void gt_source_break(gt_source *s);
/* Run loop(args[q]) for every queue q on its own thread (pinned to the
 * q-th allowed CPU when there are enough) or DPDK lcore, with the calling
 * thread's signal mask. Returns how many were started (queues 0 .. n-1). */
unsigned gt_source_launch(gt_source *s, int (*loop)(void *), void *const *args);
/* Wait for every started loop to return. */
void gt_source_wait(gt_source *s);
/* DPDK benchmarks: write fn's frame into every RX mbuf (see dpdk_port.h);
 * no-op for the other sources. */
void gt_source_prefill(gt_source *s, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx);
/* Close the source (after gt_source_wait). */
void gt_source_close(gt_source *s);

#endif
