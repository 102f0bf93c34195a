/* The compiled-classifier cache (see classifier_cache.h, cache_format.h):
 * name an entry by the options, validate it against the inputs and its
 * checksums, map it read-only; else compile, write a temporary file and
 * rename it into place (concurrent builders each rename a complete file).
 * The pieces: classifier_cache_key.c (names, keys), classifier_cache_read.c
 * (map and verify), classifier_cache_write.c (serialise, tmp + rename);
 * this file holds the entry points that tie them together. */
#include "geotap/classifier_cache.h"
#include "classifier_impl.h"
#include "cache_impl.h"

#include <stdarg.h>
#include <stdio.h>

enum gt_cache_state gt_classifier_cache_state(const gt_classifier *c)
{
    return (enum gt_cache_state)c->cache_state;
}

const char *gt_classifier_cache_file(const gt_classifier *c)
{
    return c->cache_file;
}

void gtc_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

gt_classifier *gt_classifier_cached(const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    char dbuf[4096];
    const char *dir = gt_classifier_cache_dir(dbuf, sizeof dbuf);
    struct inputs in;
    if (err && errlen)
        err[0] = 0;
    /* no cache, or an input missing (the compile names it) */
    if (!dir || gtc_inputs_resolve(opts, &in) != 0)
        return gt_classifier_build(opts, err, errlen);
    char path[4200], why[512] = "";
    snprintf(path, sizeof path, "%s/cls-%016llx.gtc", dir, (unsigned long long)gtc_opt_hash(opts, &in));
    gt_classifier *c = gtc_map_checked(path, opts, &in, why, sizeof why);
    if (!c) {
        char warn[1024] = "";
        c = gtc_build_and_write(opts, &in, path, err, errlen, warn, sizeof warn);
        if (c && warn[0])
            gtc_set_err(err, errlen, "compiled-classifier cache: %s; compiled in memory", warn);
    }
    gtc_inputs_free(&in);
    return c;
}

int gt_classifier_compile_file(const struct gt_classifier_opts *opts, const char *path, char *err, size_t errlen)
{
    struct inputs in;
    char warn[1024] = "";
    if (gtc_inputs_resolve(opts, &in) != 0) {
        gt_classifier *c = gt_classifier_build(opts, err, errlen);   /* names the missing file */
        if (c) {
            gt_classifier_free(c);
            gtc_set_err(err, errlen, "an input file cannot be resolved");
        }
        return -1;
    }
    gt_classifier *c = gtc_build_and_write(opts, &in, path, err, errlen, warn, sizeof warn);
    gtc_inputs_free(&in);
    if (!c)
        return -1;
    int ok = c->cache_state == GT_CACHE_WRITTEN;
    gt_classifier_free(c);
    if (!ok)
        gtc_set_err(err, errlen, "%s", warn);
    return ok ? 0 : -1;
}
