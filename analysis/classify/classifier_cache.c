/* The compiled-classifier cache (see classifier_cache.h, cache_format.h):
 * name an entry by the options, validate it against the inputs and its
 * checksums, map it read-only; else compile, write a temporary file and
 * rename it into place (concurrent builders each rename a complete file). */
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/clock.h"
#include "geotap/poptrie.h"
#include "geotap/snapshot.h"
#include "classifier_impl.h"
#include "cache_format.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUTS 66
#define ALIGN 64

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

enum gt_cache_state gt_classifier_cache_state(const gt_classifier *c)
{
    return (enum gt_cache_state)c->cache_state;
}

const char *gt_classifier_cache_file(const gt_classifier *c)
{
    return c->cache_file;
}

/* ---- identity of the options and inputs ---------------------------------- */

/* The input files of opts, resolved to absolute paths (the same file from
 * another working directory is the same entry). -1 when one cannot be
 * resolved: the compile then reports it. */
struct inputs { char *path[MAX_INPUTS]; size_t n; };

static void inputs_free(struct inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->path[i]);
    in->n = 0;
}

static int inputs_resolve(const struct gt_classifier_opts *o, struct inputs *in)
{
    in->n = 0;
    if (o->n_asn_dbs + 1 > MAX_INPUTS)
        return -1;
    for (size_t i = 0; i <= o->n_asn_dbs; i++) {
        const char *p = i == 0 ? o->country_db : o->asn_dbs[i - 1];
        if (!p)
            continue;
        if (!(in->path[in->n] = realpath(p, NULL))) {
            inputs_free(in);
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
static uint64_t opt_hash(const struct gt_classifier_opts *o, const struct inputs *in)
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

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void rec_stat(struct gtc_input *r, const struct stat *st)
{
    r->size = (uint64_t)st->st_size;
    r->ino = (uint64_t)st->st_ino;
    r->dev = (uint64_t)st->st_dev;
    r->mtime_ns = ns_of(st->st_mtim);
    r->ctime_ns = ns_of(st->st_ctim);
}

static int same_stat(const struct gtc_input *a, const struct gtc_input *b)
{
    return a->size == b->size && a->ino == b->ino && a->dev == b->dev && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

/* Content hash of a file as it is now. 0 or -1. Hashed from a private copy:
 * a mapping of an input rewritten in place (cp over it) faults when it is
 * truncated (snapshot.h). */
static int file_hash(const char *path, uint64_t *h, uint64_t *size)
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

static size_t rec_bytes(const char *path)
{
    return sizeof(struct gtc_input) + ((strlen(path) + 1 + 7) & ~(size_t)7);
}

/* ---- reading --------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint64_t header_sum(const unsigned char *m, const struct gtc_header *h)
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
    v->mtime_ns = ns_of(st->st_mtim);
    v->ctime_ns = ns_of(st->st_ctim);
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

static int write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen);

static void marker_write(const char *path, int fd, uint64_t hdr_sum)
{
    char mp[4200], e[8];
    struct stat st;
    struct verified v;
    if (fstat(fd, &st) != 0)
        return;
    marker_path(mp, sizeof mp, path);
    marker_of(&v, &st, hdr_sum);
    write_file(mp, &v, sizeof v, e, sizeof e);      /* best effort: only saves time */
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
    if (header_sum(m, &h) != h.hdr_sum)
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
        if (r.path_len != plen || at + rec_bytes(in->path[i]) > end || memcmp(p, in->path[i], plen + 1))
            return -1;
        at += rec_bytes(in->path[i]);
        if (stat(in->path[i], &st) != 0)
            return -1;
        now[i] = r;
        rec_stat(&now[i], &st);
        if (same_stat(&r, &now[i]))
            continue;
        /* copied or touched: the content decides */
        uint64_t hh, sz;
        if (r.size != (uint64_t)st.st_size || file_hash(in->path[i], &hh, &sz) || hh != r.content_hash ||
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
static gt_classifier *map_checked(const char *path, const struct gt_classifier_opts *opts, const struct inputs *in,
                                  char *err, size_t errlen)
{
    double t0 = gt_mono_s();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        set_err(err, errlen, "%s: %s", path, "truncated");
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    /* not populated: a lookup touches a few pages, a long run faults the
     * rest in from the page cache (shared with every other process) */
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
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
        if (h.opt_hash != opt_hash(opts, in))
            why = "built for other options";
    }
    struct gtc_input now[MAX_INPUTS];
    int ci = 0;
    if (!why && (ci = check_inputs(map, in, now)) < 0)
        why = "stale: an input file changed";
    if (why) {
        munmap(map, size);
        set_err(err, errlen, "%s: %s", path, why);
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
                at += rec_bytes(in->path[i]);
            }
            struct gtc_header nh = h;
            nh.hdr_sum = header_sum(cp, &nh);
            memcpy(cp, &nh, sizeof nh);
            char e2[16];
            write_file(path, cp, size, e2, sizeof e2);   /* best effort: valid either way */
            free(cp);
        }
    }
    gt_classifier *c = from_map(map, size);
    if (!c) {
        munmap(map, size);
        set_err(err, errlen, "%s: %s", path, "corrupt ASN name table");
        return NULL;
    }
    c->build_seconds = gt_mono_s() - t0;
    c->cache_file = strdup(path);
    return c;
}

gt_classifier *gt_classifier_map(const char *path, const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    struct inputs in;
    if (inputs_resolve(opts, &in) != 0) {
        set_err(err, errlen, "%s: %s", path, "an input file is missing");
        return NULL;
    }
    gt_classifier *c = map_checked(path, opts, &in, err, errlen);
    inputs_free(&in);
    return c;
}

/* ---- writing ----------------------------------------------------------------- */

/* Write buf to path through a temporary file in the same directory and a
 * rename: readers see the old file or the complete new one, never a part. */
static int write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 1;
    snprintf(tmp, sizeof tmp, "%.*s/.%s.%ld.tmp", dl, slash ? path : ".", slash ? slash + 1 : path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
        return -1;
    }
    const char *p = buf;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            set_err(err, errlen, "%s: cannot write (%s)", path, w < 0 ? strerror(errno) : "short write");
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        set_err(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
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
        h.inputs_bytes += rec_bytes(in->path[i]);
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
        p += rec_bytes(in->path[i]);
    }
    for (int k = 0; k < GTC_NSEC; k++)
        if (len[k])
            memcpy(b + h.off[k], src[k], (size_t)len[k]);
    uint64_t body = sizeof h + h.inputs_bytes;
    h.body_sum = gtc_hash(b + body, (size_t)(at - body), 0x626f);
    memcpy(b, &h, sizeof h);
    h.hdr_sum = header_sum(b, &h);
    memcpy(b, &h, sizeof h);
    *outlen = (size_t)at;
    return b;
}

/* Compile opts and write the entry to path. Returns the classifier (state
 * WRITTEN, or OFF with the reason in warn when it could not be written),
 * or NULL with err when the compile failed. */
static gt_classifier *build_and_write(const struct gt_classifier_opts *opts, const struct inputs *in,
                                      const char *path, char *err, size_t errlen, char *warn, size_t wlen)
{
    struct gtc_input before[MAX_INPUTS], after;
    struct stat st;
    memset(before, 0, sizeof before);
    for (size_t i = 0; i < in->n; i++) {
        if (stat(in->path[i], &st) != 0)
            return gt_classifier_build(opts, err, errlen);
        rec_stat(&before[i], &st);
    }
    gt_classifier *c = gt_classifier_build(opts, err, errlen);
    if (!c)
        return NULL;
    /* the content hash of what was read: the file as it was before and
     * after the compile (an input changing meanwhile is not recorded) */
    memset(&after, 0, sizeof after);
    for (size_t i = 0; i < in->n; i++) {
        uint64_t sz;
        if (file_hash(in->path[i], &before[i].content_hash, &sz) != 0 || stat(in->path[i], &st) != 0 ||
            (rec_stat(&after, &st), !same_stat(&before[i], &after)) || sz != before[i].size) {
            set_err(warn, wlen, "%s: %s", in->path[i], "changed while compiling; not cached");
            return c;
        }
    }
    size_t len;
    unsigned char *buf = serialise(c, opt_hash(opts, in), in, before, &len);
    if (!buf) {
        set_err(warn, wlen, "%s: %s", path, "out of memory writing the cache");
        return c;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    if (slash && mkdirs(dir) != 0)
        set_err(warn, wlen, "%s: cannot write (%s)", dir, strerror(errno));
    else if (write_file(path, buf, len, warn, wlen) == 0) {
        c->cache_state = GT_CACHE_WRITTEN;
        c->cache_file = strdup(path);
    }
    free(buf);
    return c;
}

int gt_classifier_cache_path(const struct gt_classifier_opts *opts, const char *dir, char *buf, size_t len,
                             char *err, size_t errlen)
{
    struct inputs in;
    char dbuf[4096];
    if (!dir && !(dir = gt_classifier_cache_dir(dbuf, sizeof dbuf))) {
        set_err(err, errlen, "the compiled-classifier cache is off (GEOTAP_CACHE_DIR=off)");
        return -1;
    }
    if (inputs_resolve(opts, &in) != 0) {
        set_err(err, errlen, "an input file is missing");
        return -1;
    }
    snprintf(buf, len, "%s/cls-%016llx.gtc", dir, (unsigned long long)opt_hash(opts, &in));
    inputs_free(&in);
    return 0;
}

gt_classifier *gt_classifier_cached(const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    char dbuf[4096];
    const char *dir = gt_classifier_cache_dir(dbuf, sizeof dbuf);
    struct inputs in;
    if (err && errlen)
        err[0] = 0;
    /* no cache, or an input missing (the compile names it) */
    if (!dir || inputs_resolve(opts, &in) != 0)
        return gt_classifier_build(opts, err, errlen);
    char path[4200], why[512] = "";
    snprintf(path, sizeof path, "%s/cls-%016llx.gtc", dir, (unsigned long long)opt_hash(opts, &in));
    gt_classifier *c = map_checked(path, opts, &in, why, sizeof why);
    if (!c) {
        char warn[1024] = "";
        c = build_and_write(opts, &in, path, err, errlen, warn, sizeof warn);
        if (c && warn[0])
            set_err(err, errlen, "compiled-classifier cache: %s; compiled in memory", warn);
    }
    inputs_free(&in);
    return c;
}

int gt_classifier_compile_file(const struct gt_classifier_opts *opts, const char *path, char *err, size_t errlen)
{
    struct inputs in;
    char warn[1024] = "";
    if (inputs_resolve(opts, &in) != 0) {
        gt_classifier *c = gt_classifier_build(opts, err, errlen);   /* names the missing file */
        if (c) {
            gt_classifier_free(c);
            set_err(err, errlen, "an input file cannot be resolved");
        }
        return -1;
    }
    gt_classifier *c = build_and_write(opts, &in, path, err, errlen, warn, sizeof warn);
    inputs_free(&in);
    if (!c)
        return -1;
    int ok = c->cache_state == GT_CACHE_WRITTEN;
    gt_classifier_free(c);
    if (!ok)
        set_err(err, errlen, "%s", warn);
    return ok ? 0 : -1;
}
