/* Writing a compiled-classifier cache entry: serialise the classifier and
 * its input records into one buffer, write it to a temporary file beside
 * the entry and rename it into place (concurrent builders each rename a
 * complete file; a full disk or unwritable directory is a warning, the
 * classifier compiled in memory is used anyway). */
#include "geotap/classifier_cache.h"
#include "geotap/poptrie.h"
#include "classifier_impl.h"
#include "cache_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writing ----------------------------------------------------------------- */

/* Write buf to path through a temporary file in the same directory and a
 * rename: readers see the old file or the complete new one, never a part. */
int gtc_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 1;
    snprintf(tmp, sizeof tmp, "%.*s/.%s.%ld.tmp", dl, slash ? path : ".", slash ? slash + 1 : path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        gtc_set_err(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
        return -1;
    }
    const char *p = buf;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            gtc_set_err(err, errlen, "%s: cannot write (%s)", path, w < 0 ? strerror(errno) : "short write");
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        gtc_set_err(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int mkdirs(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Serialise c with the input records into one buffer. NULL when out of memory. */
static unsigned char *serialise(const gt_classifier *c, uint64_t oh, const struct inputs *in,
                                const struct gtc_input *rec, size_t *outlen)
{
    struct gtc_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GTC_MAGIC, 8);
    h.version = GTC_VERSION;
    h.layout = GTC_LAYOUT;
    h.opt_hash = oh;
    h.n_inputs = (uint32_t)in->n;
    for (size_t i = 0; i < in->n; i++)
        h.inputs_bytes += gtc_rec_bytes(in->path[i]);
    h.nclasses = c->nclasses;
    h.sbits4 = c->lk.v4.sbits;
    h.sbits6 = c->lk.v6.sbits;
    h.nnodes4 = c->lk.v4.nnodes;
    h.nleaves4 = c->lk.v4.nleaves;
    h.nnodes6 = c->lk.v6.nnodes;
    h.nleaves6 = c->lk.v6.nleaves;
    const void *slots;
    const char *arena;
    size_t cap, alen;
    gt_asn_orgs_arrays(c->orgs, &slots, &cap, &arena, &alen);
    h.orgs_cap = cap;
    h.orgs_alen = alen;
    h.n_up = c->n_upstream_names;
    h.up_alen = c->up_alen;
    const void *src[GTC_NSEC] = { c->lk.v4.nodes, c->lk.v4.direct, c->lk.v4.leaves, c->lk.v6.nodes,
                                  c->lk.v6.direct, c->lk.v6.leaves, c->classes, slots, arena,
                                  c->up_off, c->up_arena };
    size_t nd = sizeof(struct gt_pt_node);
    uint64_t len[GTC_NSEC] = { h.nnodes4 * nd, 4ull << h.sbits4, h.nleaves4 * 4, h.nnodes6 * nd,
                               4ull << h.sbits6, h.nleaves6 * 4, (uint64_t)h.nclasses * sizeof(struct gt_class),
                               cap * 8, alen, h.n_up * 4, h.up_alen };
    uint64_t at = sizeof h + h.inputs_bytes;
    for (int k = 0; k < GTC_NSEC; k++) {
        at = (at + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
        h.off[k] = at;
        h.len[k] = len[k];
        at += len[k];
    }
    h.file_bytes = at;
    unsigned char *b = calloc(1, (size_t)at);
    if (!b)
        return NULL;
    size_t p = sizeof h;
    for (size_t i = 0; i < in->n; i++) {
        struct gtc_input r = rec[i];
        r.path_len = (uint32_t)strlen(in->path[i]);
        memcpy(b + p, &r, sizeof r);
        memcpy(b + p + sizeof r, in->path[i], r.path_len + 1);
        p += gtc_rec_bytes(in->path[i]);
    }
    for (int k = 0; k < GTC_NSEC; k++)
        if (len[k])
            memcpy(b + h.off[k], src[k], (size_t)len[k]);
    uint64_t body = sizeof h + h.inputs_bytes;
    h.body_sum = gtc_hash(b + body, (size_t)(at - body), 0x626f);
    memcpy(b, &h, sizeof h);
    h.hdr_sum = gtc_header_sum(b, &h);
    memcpy(b, &h, sizeof h);
    *outlen = (size_t)at;
    return b;
}

/* Compile opts and write the entry to path. Returns the classifier (state
 * WRITTEN, or OFF with the reason in warn when it could not be written),
 * or NULL with err when the compile failed. */
gt_classifier *gtc_build_and_write(const struct gt_classifier_opts *opts, const struct inputs *in,
                                   const char *path, char *err, size_t errlen, char *warn, size_t wlen)
{
    struct gtc_input before[MAX_INPUTS], after;
    struct stat st;
    memset(before, 0, sizeof before);
    for (size_t i = 0; i < in->n; i++) {
        if (stat(in->path[i], &st) != 0)
            return gt_classifier_build(opts, err, errlen);
        gtc_rec_stat(&before[i], &st);
    }
    gt_classifier *c = gt_classifier_build(opts, err, errlen);
    if (!c)
        return NULL;
    /* the content hash of what was read: the file as it was before and
     * after the compile (an input changing meanwhile is not recorded) */
    memset(&after, 0, sizeof after);
    for (size_t i = 0; i < in->n; i++) {
        uint64_t sz;
        if (gtc_file_hash(in->path[i], &before[i].content_hash, &sz) != 0 || stat(in->path[i], &st) != 0 ||
            (gtc_rec_stat(&after, &st), !gtc_same_stat(&before[i], &after)) || sz != before[i].size) {
            gtc_set_err(warn, wlen, "%s: %s", in->path[i], "changed while compiling; not cached");
            return c;
        }
    }
    size_t len;
    unsigned char *buf = serialise(c, gtc_opt_hash(opts, in), in, before, &len);
    if (!buf) {
        gtc_set_err(warn, wlen, "%s: %s", path, "out of memory writing the cache");
        return c;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    if (slash && mkdirs(dir) != 0)
        gtc_set_err(warn, wlen, "%s: cannot write (%s)", dir, strerror(errno));
    else if (gtc_write_file(path, buf, len, warn, wlen) == 0) {
        c->cache_state = GT_CACHE_WRITTEN;
        c->cache_file = strdup(path);
    }
    free(buf);
    return c;
}
