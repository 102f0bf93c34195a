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
/* Close the file. */
void gt_pcap_file_close(gt_pcap_file *f);

#endif
