/* The compiled-classifier cache: a classifier compiled once is written to a
 * file in the data cache and later mapped read-only (zero copy; processes
 * share its pages). An entry is named by the options (input paths, home
 * networks, upstream ranges and names, the format version) and valid only
 * while every input file is unchanged (size, times and inode, else its
 * content hash) and its checksums hold; otherwise it is rebuilt. */
#ifndef GEOTAP_CLASSIFIER_CACHE_H
#define GEOTAP_CLASSIFIER_CACHE_H

#include <stddef.h>
#include "geotap/classifier.h"

enum gt_cache_state {
    GT_CACHE_OFF = 0,       /* compiled in memory, not cached (no cache, or it could not be written) */
    GT_CACHE_MAPPED,        /* mapped from a valid cache file */
    GT_CACHE_WRITTEN,       /* compiled in memory and written to the cache */
};

/* The cache directory into buf: $GEOTAP_CACHE_DIR, else <data dir>/compiled.
 * Returns buf, or NULL when GEOTAP_CACHE_DIR is "off". */
const char *gt_classifier_cache_dir(char *buf, size_t len);
/* gt_classifier_build through the cache: maps the entry for opts when it is
 * valid, else compiles and writes it (temporary file + rename). On success
 * err holds "" or one warning line (cache unusable: compiled in memory);
 * on failure NULL and the error, as gt_classifier_build. */
gt_classifier *gt_classifier_cached(const struct gt_classifier_opts *opts, char *err, size_t errlen);
/* Path of the cache entry for opts (in dir, or the cache directory when
 * dir is NULL) into buf. 0, or -1 with err. */
int gt_classifier_cache_path(const struct gt_classifier_opts *opts, const char *dir, char *buf, size_t len,
                             char *err, size_t errlen);
/* Compile opts and write the entry to path atomically. 0, or -1 with err. */
int gt_classifier_compile_file(const struct gt_classifier_opts *opts, const char *path, char *err, size_t errlen);
/* Map the compiled file at path when it is valid for opts; NULL with the
 * reason in err (missing, stale, truncated, corrupt). */
gt_classifier *gt_classifier_map(const char *path, const struct gt_classifier_opts *opts, char *err, size_t errlen);
/* How c was obtained. */
enum gt_cache_state gt_classifier_cache_state(const gt_classifier *c);
/* The cache file c was mapped from or written to; NULL when not cached. */
const char *gt_classifier_cache_file(const gt_classifier *c);

#endif
