/* The compiled-classifier cache's keys: an entry's name is the hash of the
 * options and the resolved input paths; each input is recorded by stat
 * fields and a content hash so a copied or touched file still matches.
 * Reading is classifier_cache_read.c, writing classifier_cache_write.c. */
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/snapshot.h"
#include "classifier_impl.h"
#include "cache_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gt_classifier_cache_dir(char *buf, size_t len)
{
    /* read every time: tests and embedders point it elsewhere at run time */
    const char *e = getenv("GEOTAP_CACHE_DIR");
    if (e && !strcmp(e, "off"))
        return NULL;
    if (e && *e)
        snprintf(buf, len, "%s", e);
    else
        snprintf(buf, len, "%s/compiled", gt_default_data_dir());
    return buf;
}

/* ---- identity of the options and inputs ---------------------------------- */

void gtc_inputs_free(struct inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->path[i]);
    in->n = 0;
}

int gtc_inputs_resolve(const struct gt_classifier_opts *o, struct inputs *in)
{
    in->n = 0;
    if (o->n_asn_dbs + 1 > MAX_INPUTS)
        return -1;
    for (size_t i = 0; i <= o->n_asn_dbs; i++) {
        const char *p = i == 0 ? o->country_db : o->asn_dbs[i - 1];
        if (!p)
            continue;
        if (!(in->path[in->n] = realpath(p, NULL))) {
            gtc_inputs_free(in);
            return -1;
        }
        in->n++;
    }
    return 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    size_t n = strlen(s);
    h = gtc_hash(&n, sizeof n, h);
    return gtc_hash(s, n, h);
}

/* Ranges hashed field by field (struct padding is indeterminate), in chunks. */
static uint64_t hash_ranges(uint64_t h, const struct gt_rangeset *rs)
{
    enum { CH = 1024 };
    uint32_t b4[CH * 3];
    uint64_t b6[CH * 5];
    h = gtc_hash(&rs->n4, sizeof rs->n4, h);
    for (size_t i = 0; i < rs->n4; i += CH) {
        size_t m = rs->n4 - i < CH ? rs->n4 - i : CH;
        for (size_t j = 0; j < m; j++) {
            b4[3 * j] = rs->v4[i + j].lo;
            b4[3 * j + 1] = rs->v4[i + j].hi;
            b4[3 * j + 2] = rs->v4[i + j].val;
        }
        h = gtc_hash(b4, m * 12, h);
    }
    h = gtc_hash(&rs->n6, sizeof rs->n6, h);
    for (size_t i = 0; i < rs->n6; i += CH) {
        size_t m = rs->n6 - i < CH ? rs->n6 - i : CH;
        for (size_t j = 0; j < m; j++) {
            const struct gt_range6 *r = &rs->v6[i + j];
            b6[5 * j] = (uint64_t)(r->lo >> 64);
            b6[5 * j + 1] = (uint64_t)r->lo;
            b6[5 * j + 2] = (uint64_t)(r->hi >> 64);
            b6[5 * j + 3] = (uint64_t)r->hi;
            b6[5 * j + 4] = r->val;
        }
        h = gtc_hash(b6, m * 40, h);
    }
    return h;
}

/* Everything besides the input files' contents that changes the result. */
uint64_t gtc_opt_hash(const struct gt_classifier_opts *o, const struct inputs *in)
{
    uint64_t h = gtc_hash(GTC_MAGIC, 8, GTC_VERSION ^ ((uint64_t)GTC_LAYOUT << 32));
    /* which path is the country DB matters, not only the list */
    h = gtc_hash(&(uint64_t){ o->country_db != NULL }, 8, h);
    h = gtc_hash(&in->n, sizeof in->n, h);
    for (size_t i = 0; i < in->n; i++)
        h = hash_str(h, in->path[i]);
    h = gtc_hash(&o->n_home_nets, sizeof o->n_home_nets, h);
    for (size_t i = 0; i < o->n_home_nets; i++)
        h = hash_str(h, o->home_nets[i]);
    h = gtc_hash(&(uint64_t){ o->upstream_ranges != NULL }, 8, h);
    if (o->upstream_ranges)
        h = hash_ranges(h, o->upstream_ranges);
    h = gtc_hash(&o->n_upstream_names, sizeof o->n_upstream_names, h);
    for (size_t i = 1; i < o->n_upstream_names; i++)
        h = hash_str(h, o->upstream_names[i] ? o->upstream_names[i] : "");
    return h;
}


void gtc_rec_stat(struct gtc_input *r, const struct stat *st)
{
    r->size = (uint64_t)st->st_size;
    r->ino = (uint64_t)st->st_ino;
    r->dev = (uint64_t)st->st_dev;
    r->mtime_ns = gtc_ns_of(st->st_mtim);
    r->ctime_ns = gtc_ns_of(st->st_ctim);
}

int gtc_same_stat(const struct gtc_input *a, const struct gtc_input *b)
{
    return a->size == b->size && a->ino == b->ino && a->dev == b->dev && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

/* Content hash of a file as it is now. 0 or -1. Hashed from a private copy:
 * a mapping of an input rewritten in place (cp over it) faults when it is
 * truncated (snapshot.h). */
int gtc_file_hash(const char *path, uint64_t *h, uint64_t *size)
{
    char e[600];
    size_t len;
    void *m = gt_snapshot_read(path, &len, e, sizeof e);
    if (!m)
        return -1;
    *size = (uint64_t)len;
    *h = len ? gtc_hash(m, len, 0) : gtc_hash("", 0, 0);
    free(m);
    return 0;
}

size_t gtc_rec_bytes(const char *path)
{
    return sizeof(struct gtc_input) + ((strlen(path) + 1 + 7) & ~(size_t)7);
}

int gt_classifier_cache_path(const struct gt_classifier_opts *opts, const char *dir, char *buf, size_t len,
                             char *err, size_t errlen)
{
    struct inputs in;
    char dbuf[4096];
    if (!dir && !(dir = gt_classifier_cache_dir(dbuf, sizeof dbuf))) {
        gtc_set_err(err, errlen, "the compiled-classifier cache is off (GEOTAP_CACHE_DIR=off)");
        return -1;
    }
    if (gtc_inputs_resolve(opts, &in) != 0) {
        gtc_set_err(err, errlen, "an input file is missing");
        return -1;
    }
    snprintf(buf, len, "%s/cls-%016llx.gtc", dir, (unsigned long long)gtc_opt_hash(opts, &in));
    gtc_inputs_free(&in);
    return 0;
}
