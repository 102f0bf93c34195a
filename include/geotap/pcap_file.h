/* Capture files (pcap, pcapng, or standard input) read through libpcap,
 * with nanosecond timestamps and an optional BPF filter. */
#ifndef GEOTAP_PCAP_FILE_H
#define GEOTAP_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gt_pcap_file gt_pcap_file;
struct gt_frame;   /* engine.h */

/* Open path ("-" = standard input) and apply the BPF filter bpf (NULL = none).
 * NULL on failure with one line naming the file in err. */
gt_pcap_file *gt_pcap_file_open(const char *path, const char *bpf, char *err, size_t errlen);
/* The file's link type (a DLT_* value). */
int gt_pcap_file_dlt(const gt_pcap_file *f);
/* Next frame: 1 with the frame (*ts_ns = GT_TS_BAD, bins.h, when its time
 * is out of range: a fraction >= 1 s or beyond int64 ns; never wrapped), 0 at the end of the file, -1 when the file is
 * corrupt or truncated (gt_pcap_file_error() says where). The data pointer
 * stays valid until the next call. */
int gt_pcap_file_next(gt_pcap_file *f, int64_t *ts_ns, const uint8_t **data,
                      uint32_t *caplen, uint32_t *wirelen);
/* Up to max next frames into out: their number (0 at the end of the file),
 * or -1 as gt_pcap_file_next. Classic pcap files give whole bursts from the
 * map; pcapng, pipes and the records after an irregular one one frame per
 * call (libpcap reuses its buffer). The data stay valid until the next call,
 * and until gt_pcap_file_close when gt_pcap_file_mapped says so after it. */
int gt_pcap_file_burst(gt_pcap_file *f, struct gt_frame *out, unsigned max);
/* 1 while the file is read from its map (frames valid until close). */
int gt_pcap_file_mapped(const gt_pcap_file *f);
/* The error of the last -1, naming the file, the byte offset where the
 * damaged record starts and the frame count. */
const char *gt_pcap_file_error(const gt_pcap_file *f);
/* Bytes consumed so far and the file size (0 when unknown, e.g. a pipe). */
uint64_t gt_pcap_file_offset(const gt_pcap_file *f);
uint64_t gt_pcap_file_size(const gt_pcap_file *f);
/* Frames returned so far. */
uint64_t gt_pcap_file_frames(const gt_pcap_file *f);
/* Parts. A mapped classic pcap file read on several threads: each reads
 * the records that start in its byte range through a view (same map,
 * filter and link type, no libpcap reader of its own). */
/* 1 when f is mapped and nothing has been read from it yet. */
int gt_pcap_file_splittable(const gt_pcap_file *f);
/* The first offset in [from, to) where a chain of plausible records starts
 * (16, or fewer that end the file exactly): a record boundary unless the
 * data mimic one, which the caller must verify. min(to, size) when none. */
uint64_t gt_pcap_file_resync(const gt_pcap_file *f, uint64_t from, uint64_t to);
/* A reader of f's map at record offset off (valid while f is open; closed
 * with gt_pcap_file_close). NULL when out of memory. */
gt_pcap_file *gt_pcap_file_view(const gt_pcap_file *f, uint64_t off);
/* Up to max frames of the records that start before end: their number, 0
 * when none is left, -2 at a record the map path cannot read (the view
 * stays at it; libpcap must decide from there). */
int gt_pcap_file_view_burst(gt_pcap_file *v, struct gt_frame *out, unsigned max, uint64_t end);
/* Records consumed so far (before the filter). */
uint64_t gt_pcap_file_records(const gt_pcap_file *f);
/* Go on at record offset off as if records records (frames of them past
 * the filter) had been read: where views left off. */
void gt_pcap_file_resume(gt_pcap_file *f, uint64_t off, uint64_t records, uint64_t frames);
/* Close the file. */
void gt_pcap_file_close(gt_pcap_file *f);

#endif
