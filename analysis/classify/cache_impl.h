/* The compiled-classifier cache's insides, shared by its pieces: naming and
 * keying an entry (classifier_cache_key.c), reading and verifying one
 * (classifier_cache_read.c), writing one (classifier_cache_write.c) and the
 * entry points (classifier_cache.c). Not a public header. */
#ifndef GEOTAP_CACHE_IMPL_H
#define GEOTAP_CACHE_IMPL_H

#include "geotap/classifier.h"
#include "cache_format.h"

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_INPUTS 66
#define ALIGN 64

/* The input files of opts, resolved to absolute paths (the same file from
 * another working directory is the same entry). -1 when one cannot be
 * resolved: the compile then reports it. */
struct inputs { char *path[MAX_INPUTS]; size_t n; };

void gtc_inputs_free(struct inputs *in);
int gtc_inputs_resolve(const struct gt_classifier_opts *o, struct inputs *in);
/* Everything besides the input files' contents that changes the result. */
uint64_t gtc_opt_hash(const struct gt_classifier_opts *o, const struct inputs *in);

static inline int64_t gtc_ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void gtc_rec_stat(struct gtc_input *r, const struct stat *st);
int gtc_same_stat(const struct gtc_input *a, const struct gtc_input *b);
/* Content hash and size of a file as it is now. 0 or -1. */
int gtc_file_hash(const char *path, uint64_t *h, uint64_t *size);
/* Bytes of an input record with its path, padded. */
size_t gtc_rec_bytes(const char *path);

void gtc_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Checksum of the header (hdr_sum taken as zero) and the inputs section. */
uint64_t gtc_header_sum(const unsigned char *m, const struct gtc_header *h);
/* Map path and validate it for opts; NULL with err when absent, corrupt or stale. */
gt_classifier *gtc_map_checked(const char *path, const struct gt_classifier_opts *opts, const struct inputs *in,
                               char *err, size_t errlen);
/* Write buf to path through a temporary file and a rename. 0 or -1 with err. */
int gtc_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen);
/* Compile opts and write the entry to path (see classifier_cache_write.c). */
gt_classifier *gtc_build_and_write(const struct gt_classifier_opts *opts, const struct inputs *in,
                                   const char *path, char *err, size_t errlen, char *warn, size_t wlen);

#endif
