/* Rotating output files (rotate.h). */
#include "geotap/rotate.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct gt_rotate {
    char *pattern;
    FILE *f;
    char path[PATH_MAX];
    atomic_int reopen;          /* lock-free int: safe from a signal handler */
};

/* pattern expanded at t into buf; 0, or -1 when empty or too long. */
static int expand(const char *pattern, int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return -1;
    size_t len = strftime(buf, n, pattern, &tm);
    return len == 0 || len >= n - 1 ? -1 : 0;
}

gt_rotate *gt_rotate_new(const char *pattern, char *err, size_t errlen)
{
    char probe[PATH_MAX];
    if (!pattern || expand(pattern, 0, probe, sizeof probe) != 0) {
        snprintf(err, errlen, "output name pattern '%s' expands to an empty or over-long name",
                 pattern ? pattern : "");
        return NULL;
    }
    gt_rotate *r = calloc(1, sizeof *r);
    if (!r || !(r->pattern = strdup(pattern))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&r->reopen, 0);
    return r;
}

void gt_rotate_request_reopen(gt_rotate *r)
{
    atomic_store(&r->reopen, 1);
}

const char *gt_rotate_path(const gt_rotate *r)
{
    return r->path;
}

/* mkdir -p of path's directory. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(d, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", d, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

FILE *gt_rotate_file(gt_rotate *r, int64_t t, enum gt_rotate_change *change, char *err, size_t errlen)
{
    char next[PATH_MAX];
    *change = GT_ROT_SAME;
    err[0] = 0;
    int reopen = atomic_exchange(&r->reopen, 0);
    if (expand(r->pattern, t, next, sizeof next) != 0) {
        snprintf(err, errlen, "output name pattern '%s': empty or over-long name at %lld", r->pattern,
                 (long long)t);
        return r->f;
    }
    if (r->f && !reopen && !strcmp(next, r->path))
        return r->f;
    if (make_dirs(next, err, errlen) != 0) {
        if (reopen)
            atomic_store(&r->reopen, 1);   /* try again at the next bin */
        return r->f;
    }
    FILE *f = fopen(next, "a");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", next, strerror(errno));
        if (reopen)
            atomic_store(&r->reopen, 1);
        return r->f;
    }
    if (r->f && fclose(r->f) != 0)
        snprintf(err, errlen, "%s: error closing: %s", r->path, strerror(errno));
    r->f = f;
    snprintf(r->path, sizeof r->path, "%s", next);
    fseek(f, 0, SEEK_END);
    *change = ftell(f) > 0 ? GT_ROT_APPEND : GT_ROT_NEW;
    return f;
}

int gt_rotate_free(gt_rotate *r, char *err, size_t errlen)
{
    int rc = 0;
    if (!r)
        return 0;
    if (r->f && fclose(r->f) != 0) {
        snprintf(err, errlen, "%s: error closing: %s", r->path, strerror(errno));
        rc = -1;
    }
    free(r->pattern);
    free(r);
    return rc;
}

/* gt_rotate_file for an adapter: failures counted, the last kept in err. */
static FILE *adapter_file(gt_rotate *rot, int64_t t, enum gt_rotate_change *ch, uint64_t *errors,
                          char *err, size_t errlen)
{
    char e[512];
    FILE *f = gt_rotate_file(rot, t, ch, e, sizeof e);
    if (e[0]) {
        (*errors)++;
        snprintf(err, errlen, "%s", e);
    }
    return f;
}

void gt_rotating_output_bin(void *ctx, const struct gt_bin *bin)
{
    struct gt_rotating_output *ro = ctx;
    enum gt_rotate_change ch;
    FILE *f = adapter_file(ro->rot, bin->start, &ch, &ro->errors, ro->err, sizeof ro->err);
    if (!f) {
        ro->lost_bins++;
        return;
    }
    if (ch != GT_ROT_SAME)
        gt_output_set_file(ro->out, f, ch == GT_ROT_NEW);
    gt_output_bin(ro->out, bin);
    /* The closed bin in the file now, not when stdio's buffer fills: an
     * operator tails it, and a crash loses no finished bin. */
    if (fflush(f) != 0) {
        ro->errors++;
        snprintf(ro->err, sizeof ro->err, "%.400s: write failed: %s", ro->rot->path, strerror(errno));
    }
}

int gt_rotating_output_finish(struct gt_rotating_output *ro)
{
    return ro->rot->f ? gt_output_finish(ro->out) : 0;
}

void gt_rotating_events_fn(void *ctx, const struct gt_event *ev)
{
    struct gt_rotating_events *re = ctx;
    enum gt_rotate_change ch;
    int64_t ns = ev->detected_ns - 1;
    int64_t t = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
    FILE *f = adapter_file(re->rot, t, &ch, &re->errors, re->err, sizeof re->err);
    if (!f) {
        re->lost_events++;
        return;
    }
    re->out->f = f;
    gt_events_out_fn(re->out, ev);
}
