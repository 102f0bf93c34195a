/* Reading a compiled-classifier cache entry: map it read-only, check its
 * format, section table and checksums (the body pass skipped when a .ok
 * marker shows this very file was verified before), its options and its
 * inputs, and point a classifier's arrays into the mapping. */
#include "geotap/classifier_cache.h"
#include "geotap/clock.h"
#include "geotap/poptrie.h"
#include "classifier_impl.h"
#include "cache_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading --------------------------------------------------------------- */

uint64_t gtc_header_sum(const unsigned char *m, const struct gtc_header *h)
{
    struct gtc_header z = *h;
    z.hdr_sum = 0;
    uint64_t s = gtc_hash(&z, sizeof z, 0x6874);
    return gtc_hash(m + sizeof z, (size_t)h->inputs_bytes, s);
}

/* A section's bounds and size against the header's counts. */
static int sec_ok(const struct gtc_header *h, int k, uint64_t want, uint64_t body)
{
    return h->len[k] == want && h->off[k] >= body && h->off[k] % 8 == 0 && h->off[k] <= h->file_bytes &&
           h->len[k] <= h->file_bytes - h->off[k];
}

/* The body checksum reads the whole file (~24 MB with the ASN data: a few
 * ms, more than the rest of a lookup). A process that verified it leaves
 * a marker beside it naming the file's inode, size and times; any write
 * to the file changes its ctime, so a later start that finds the marker
 * matching skips the body pass (the header, inputs and sizes are always
 * checked). */
struct verified { uint64_t magic, dev, ino, size; int64_t mtime_ns, ctime_ns; uint64_t hdr_sum; };

static void marker_path(char *buf, size_t len, const char *path)
{
    snprintf(buf, len, "%s.ok", path);
}

static void marker_of(struct verified *v, const struct stat *st, uint64_t hdr_sum)
{
    memset(v, 0, sizeof *v);
    v->magic = 0x6b6f2d636c737467ULL;
    v->dev = (uint64_t)st->st_dev;
    v->ino = (uint64_t)st->st_ino;
    v->size = (uint64_t)st->st_size;
    v->mtime_ns = gtc_ns_of(st->st_mtim);
    v->ctime_ns = gtc_ns_of(st->st_ctim);
    v->hdr_sum = hdr_sum;
}

static int marker_matches(const char *path, const struct stat *st, uint64_t hdr_sum)
{
    char mp[4200];
    struct verified want, got;
    marker_path(mp, sizeof mp, path);
    marker_of(&want, st, hdr_sum);
    int fd = open(mp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, &got, sizeof got);
    close(fd);
    return n == (ssize_t)sizeof got && !memcmp(&got, &want, sizeof got);
}

static void marker_write(const char *path, int fd, uint64_t hdr_sum)
{
    char mp[4200], e[8];
    struct stat st;
    struct verified v;
    if (fstat(fd, &st) != 0)
        return;
    marker_path(mp, sizeof mp, path);
    marker_of(&v, &st, hdr_sum);
    gtc_write_file(mp, &v, sizeof v, e, sizeof e);      /* best effort: only saves time */
}

/* Checks of a mapped file that need no input: format, sizes, checksums
 * (the body's unless skip_body). */
static const char *check_file(const unsigned char *m, size_t size, int skip_body)
{
    struct gtc_header h;
    if (size < sizeof h)
        return "truncated";
    memcpy(&h, m, sizeof h);
    if (memcmp(h.magic, GTC_MAGIC, 8))
        return "not a compiled classifier";
    if (h.version != GTC_VERSION || h.layout != GTC_LAYOUT)
        return "another cache format version";
    if (h.file_bytes != size)
        return "truncated";
    if (h.inputs_bytes > size - sizeof h || h.n_inputs > MAX_INPUTS)
        return "corrupt header";
    if (gtc_header_sum(m, &h) != h.hdr_sum)
        return "header checksum mismatch";
    uint64_t body = sizeof h + h.inputs_bytes;
    if (!skip_body && gtc_hash(m + body, size - body, 0x626f) != h.body_sum)
        return "checksum mismatch";
    if (h.sbits4 < 1 || h.sbits4 > 24 || h.sbits6 < 1 || h.sbits6 > 24 || h.orgs_cap > UINT32_MAX ||
        h.n_up > UINT32_MAX || h.nclasses == 0)
        return "corrupt header";
    size_t nd = sizeof(struct gt_pt_node);
    if (!sec_ok(&h, GTC_V4NODES, h.nnodes4 * nd, body) || !sec_ok(&h, GTC_V4DIRECT, (4ull << h.sbits4), body) ||
        !sec_ok(&h, GTC_V4LEAVES, h.nleaves4 * 4, body) || !sec_ok(&h, GTC_V6NODES, h.nnodes6 * nd, body) ||
        !sec_ok(&h, GTC_V6DIRECT, (4ull << h.sbits6), body) || !sec_ok(&h, GTC_V6LEAVES, h.nleaves6 * 4, body) ||
        !sec_ok(&h, GTC_CLASSES, (uint64_t)h.nclasses * sizeof(struct gt_class), body) ||
        !sec_ok(&h, GTC_ORGSLOTS, h.orgs_cap * 8, body) || !sec_ok(&h, GTC_ORGARENA, h.orgs_alen, body) ||
        !sec_ok(&h, GTC_UPOFF, h.n_up * 4, body) || !sec_ok(&h, GTC_UPARENA, h.up_alen, body))
        return "corrupt section table";
    if (h.n_up && (h.up_alen == 0 || m[h.off[GTC_UPARENA] + h.up_alen - 1] != 0))
        return "corrupt upstream names";
    return NULL;
}

/* Inputs recorded in the file against the resolved ones now. 0: valid;
 * 1: valid by content, times changed (refresh the records); -1: stale. */
static int check_inputs(const unsigned char *m, const struct inputs *in, struct gtc_input *now)
{
    struct gtc_header h;
    memcpy(&h, m, sizeof h);
    if (h.n_inputs != in->n)
        return -1;
    size_t at = sizeof h, end = sizeof h + h.inputs_bytes;
    int refresh = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct gtc_input r;
        struct stat st;
        if (at + sizeof r > end)
            return -1;
        memcpy(&r, m + at, sizeof r);
        const char *p = (const char *)m + at + sizeof r;
        size_t plen = strlen(in->path[i]);
        if (r.path_len != plen || at + gtc_rec_bytes(in->path[i]) > end || memcmp(p, in->path[i], plen + 1))
            return -1;
        at += gtc_rec_bytes(in->path[i]);
        if (stat(in->path[i], &st) != 0)
            return -1;
        now[i] = r;
        gtc_rec_stat(&now[i], &st);
        if (gtc_same_stat(&r, &now[i]))
            continue;
        /* copied or touched: the content decides */
        uint64_t hh, sz;
        if (r.size != (uint64_t)st.st_size || gtc_file_hash(in->path[i], &hh, &sz) || hh != r.content_hash ||
            sz != r.size)
            return -1;
        refresh = 1;
    }
    return refresh;
}

/* The classifier over a valid mapping. */
static gt_classifier *from_map(void *map, size_t size)
{
    const unsigned char *m = map;
    struct gtc_header h;
    memcpy(&h, m, sizeof h);
    gt_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    struct gt_poptrie *v4 = &c->lk.v4, *v6 = &c->lk.v6;
    v4->bits = 32;
    v4->sbits = h.sbits4;
    v4->nodes = (struct gt_pt_node *)(uintptr_t)(m + h.off[GTC_V4NODES]);
    v4->direct = (uint32_t *)(uintptr_t)(m + h.off[GTC_V4DIRECT]);
    v4->leaves = (uint32_t *)(uintptr_t)(m + h.off[GTC_V4LEAVES]);
    v4->nnodes = h.nnodes4;
    v4->nleaves = h.nleaves4;
    v6->bits = 128;
    v6->sbits = h.sbits6;
    v6->nodes = (struct gt_pt_node *)(uintptr_t)(m + h.off[GTC_V6NODES]);
    v6->direct = (uint32_t *)(uintptr_t)(m + h.off[GTC_V6DIRECT]);
    v6->leaves = (uint32_t *)(uintptr_t)(m + h.off[GTC_V6LEAVES]);
    v6->nnodes = h.nnodes6;
    v6->nleaves = h.nleaves6;
    c->classes = (const struct gt_class *)(const void *)(m + h.off[GTC_CLASSES]);
    c->nclasses = h.nclasses;
    c->orgs = gt_asn_orgs_view(m + h.off[GTC_ORGSLOTS], h.orgs_cap, (const char *)m + h.off[GTC_ORGARENA],
                               h.orgs_alen);
    if (!c->orgs) {
        free(c);
        return NULL;
    }
    c->up_off = (const uint32_t *)(const void *)(m + h.off[GTC_UPOFF]);
    c->up_arena = (const char *)m + h.off[GTC_UPARENA];
    c->n_upstream_names = h.n_up;
    c->up_alen = h.up_alen;
    c->file_map = map;
    c->file_bytes = size;
    c->cache_state = GT_CACHE_MAPPED;
    return c;
}

/* Map path and validate it for opts. refresh_buf: when only the input
 * times changed, a copy of the file with the new records (the caller
 * rewrites it). */
gt_classifier *gtc_map_checked(const char *path, const struct gt_classifier_opts *opts, const struct inputs *in,
                               char *err, size_t errlen)
{
    double t0 = gt_mono_s();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        gtc_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        gtc_set_err(err, errlen, "%s: %s", path, "truncated");
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    /* not populated: a lookup touches a few pages, a long run faults the
     * rest in from the page cache (shared with every other process) */
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        gtc_set_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct gtc_header h;
    int known = size >= sizeof h && (memcpy(&h, map, sizeof h), marker_matches(path, &st, h.hdr_sum));
    const char *why = check_file(map, size, known);
    if (!why && !known)
        marker_write(path, fd, h.hdr_sum);
    close(fd);
    if (!why) {
        memcpy(&h, map, sizeof h);
        if (h.opt_hash != gtc_opt_hash(opts, in))
            why = "built for other options";
    }
    struct gtc_input now[MAX_INPUTS];
    int ci = 0;
    if (!why && (ci = check_inputs(map, in, now)) < 0)
        why = "stale: an input file changed";
    if (why) {
        munmap(map, size);
        gtc_set_err(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    if (ci == 1) {
        /* Same contents, new times (copied to this host, or touched):
         * store the new times so the next start checks by stat only. */
        unsigned char *cp = malloc(size);
        if (cp) {
            memcpy(cp, map, size);
            size_t at = sizeof h;
            for (size_t i = 0; i < in->n; i++) {
                memcpy(cp + at, &now[i], sizeof now[i]);
                at += gtc_rec_bytes(in->path[i]);
            }
            struct gtc_header nh = h;
            nh.hdr_sum = gtc_header_sum(cp, &nh);
            memcpy(cp, &nh, sizeof nh);
            char e2[16];
            gtc_write_file(path, cp, size, e2, sizeof e2);   /* best effort: valid either way */
            free(cp);
        }
    }
    gt_classifier *c = from_map(map, size);
    if (!c) {
        munmap(map, size);
        gtc_set_err(err, errlen, "%s: %s", path, "corrupt ASN name table");
        return NULL;
    }
    c->build_seconds = gt_mono_s() - t0;
    c->cache_file = strdup(path);
    return c;
}

gt_classifier *gt_classifier_map(const char *path, const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    struct inputs in;
    if (gtc_inputs_resolve(opts, &in) != 0) {
        gtc_set_err(err, errlen, "%s: %s", path, "an input file is missing");
        return NULL;
    }
    gt_classifier *c = gtc_map_checked(path, opts, &in, err, errlen);
    gtc_inputs_free(&in);
    return c;
}
