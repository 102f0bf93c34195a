/* The HTML report, collecting half: totals, per-key series on a shared
 * bucket grid, events; and the libraries it inlines, read at creation. */
#include "analysis/output/report_priv.h"
#include "geotap/datadir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The npm packages scripts/setup caches, as inlined into the page (order
 * matters: each UMD bundle finds the ones before it on window.d3). */
static const char *const lib_js_files[] = {
    "internmap-2.0.3/dist/internmap.min.js",
    "d3-array-3.2.4/dist/d3-array.min.js",
    "d3-geo-3.1.1/dist/d3-geo.min.js",
    "topojson-client-3.1.0/dist/topojson-client.min.js",
    "uplot-1.6.32/dist/uPlot.iife.min.js",
};
static const char lib_css_file[] = "uplot-1.6.32/dist/uPlot.min.css";
static const char atlas_file[] = "world-atlas-2.0.2/countries-110m.json";
static const char codes_file[] = "i18n-iso-countries-7.14.0/codes.json";

/* Append the file dir/name to *buf (NUL-terminated). A "</script" inside
 * would end the inline element early; none of the pinned files has one, and
 * a different one is refused rather than silently broken. */
static int slurp(const char *dir, const char *name, char **buf, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read (%s); scripts/setup fetches it", path, strerror(errno));
        return -1;
    }
    size_t have = *buf ? strlen(*buf) : 0, cap = have + 65536;
    char *b = realloc(*buf, cap);
    if (!b)
        goto oom;
    *buf = b;
    size_t n;
    while ((n = fread(b + have, 1, cap - have - 1, f)) > 0) {
        have += n;
        if (cap - have < 4096) {
            cap *= 2;
            if (!(b = realloc(*buf, cap)))
                goto oom;
            *buf = b;
        }
    }
    b[have] = 0;
    int bad = ferror(f) || strlen(b) != have;
    fclose(f);
    if (bad || strstr(b, "</script") || strstr(b, "</SCRIPT")) {
        snprintf(err, errlen, "%s: unreadable, or not fit to inline into a page", path);
        return -1;
    }
    /* Separate concatenated scripts (a bundle may end without a newline). */
    if (have + 2 > cap && !(b = realloc(*buf, have + 2)))
        return snprintf(err, errlen, "out of memory"), -1;
    *buf = b;
    b[have] = '\n';
    b[have + 1] = 0;
    return 0;
oom:
    fclose(f);
    snprintf(err, errlen, "out of memory");
    return -1;
}

struct gt_report *gt_report_new(const struct gt_report_opts *o, const struct gt_keys *keys,
                                char *err, size_t errlen)
{
    struct gt_report *r = calloc(1, sizeof *r);
    if (!r || (o->path && !(r->path = strdup(o->path)))) {
        snprintf(err, errlen, "out of memory");
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->o = *o;
    r->o.path = r->path;
    if (!r->o.top_charts)
        r->o.top_charts = 12;
    if (!r->o.top_rows)
        r->o.top_rows = 500;
    if ((o->ndbs > 0 && !(r->dbs = calloc((size_t)o->ndbs, sizeof *r->dbs))) ||
        (o->nfiles > 0 && !(r->files = calloc((size_t)o->nfiles, sizeof *r->files)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (r->dbs)
        memcpy(r->dbs, o->dbs, (size_t)o->ndbs * sizeof *r->dbs);
    if (r->files)
        memcpy(r->files, o->files, (size_t)o->nfiles * sizeof *r->files);
    r->o.dbs = r->dbs;
    r->o.files = r->files;
    r->keys = keys;
    r->nkeys = keys->nkeys;
    r->step = 1;
    r->last_bucket = -1;
    r->tot = calloc((size_t)keys->nkeys + 1, sizeof *r->tot);
    r->ser = calloc((size_t)keys->nkeys + 1, sizeof *r->ser);
    if (!r->tot || !r->ser) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *dir = o->lib_dir ? o->lib_dir : gt_default_data_dir();
    for (size_t i = 0; i < sizeof lib_js_files / sizeof *lib_js_files; i++)
        if (slurp(dir, lib_js_files[i], &r->lib_js, err, errlen) != 0)
            goto fail;
    if (slurp(dir, lib_css_file, &r->lib_css, err, errlen) != 0 ||
        slurp(dir, atlas_file, &r->atlas, err, errlen) != 0 ||
        slurp(dir, codes_file, &r->codes, err, errlen) != 0)
        goto fail;
    return r;
fail:
    gt_report_free(r);
    return NULL;
}

static void merge(struct gt_rbucket *a, const struct gt_rbucket *b)
{
    if (b->fmin < a->fmin) a->fmin = b->fmin;
    if (b->fmax > a->fmax) a->fmax = b->fmax;
    if (b->tmin < a->tmin) a->tmin = b->tmin;
    if (b->tmax > a->tmax) a->tmax = b->tmax;
    if (b->emin < a->emin) a->emin = b->emin;
    if (b->emax > a->emax) a->emax = b->emax;
}

/* The grid is full: every bucket pair becomes one, twice as wide. */
static void coarsen(struct gt_report *r)
{
    for (uint32_t k = 0; k < r->nkeys; k++) {
        struct gt_rbucket *s = r->ser[k];
        if (!s)
            continue;
        for (int64_t j = 0; j <= r->last_bucket / 2; j++) {
            struct gt_rbucket m = s[2 * j];
            if (2 * j + 1 <= r->last_bucket)
                merge(&m, &s[2 * j + 1]);
            s[j] = m;
        }
        memset(s + r->last_bucket / 2 + 1, 0,
               (size_t)(GT_REPORT_BUCKETS - (r->last_bucket / 2 + 1)) * sizeof *s);
    }
    r->last_bucket /= 2;
    r->step *= 2;
}

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void add_bin(struct gt_report *r, const struct gt_bin *b)
{
    if (!r->nbins) {
        r->t0 = b->start;
        r->width = b->width;
    }
    r->nbins++;
    const struct gt_bin_stats *s = &b->stats;
    r->stats.packets += s->packets;
    r->stats.bytes += s->bytes;
    r->stats.ip += s->ip;
    r->stats.nonip += s->nonip;
    r->stats.truncated += s->truncated;
    r->stats.malformed += s->malformed;
    r->stats.drops += s->drops;
    if (s->first_ns && (!r->stats.first_ns || s->first_ns < r->stats.first_ns))
        r->stats.first_ns = s->first_ns;
    if (s->last_ns > r->stats.last_ns)
        r->stats.last_ns = s->last_ns;

    int64_t idx = r->width && b->start > r->t0 ? (b->start - r->t0) / r->width : 0;
    while (idx / r->step >= GT_REPORT_BUCKETS)
        coarsen(r);
    int64_t bi = idx / r->step;
    int fresh = bi > r->last_bucket;
    if (fresh)
        r->last_bucket = bi;
    uint32_t nk = b->nkeys < r->nkeys ? b->nkeys : r->nkeys;
    for (uint32_t k = 0; k < nk; k++) {
        const struct gt_counts *c = &b->counts[k];
        struct gt_counts *t = &r->tot[k];
        t->pkts_from += c->pkts_from;
        t->bytes_from += c->bytes_from;
        t->pkts_to += c->pkts_to;
        t->bytes_to += c->bytes_to;
        if (!r->ser[k]) {
            if (!c->pkts_from && !c->pkts_to)
                continue;           /* still all zeros: nothing to keep */
            if (r->nser >= GT_REPORT_MAX_SERIES) {
                r->ser_refused += t->pkts_from + t->pkts_to == c->pkts_from + c->pkts_to;
                continue;
            }
            if (!(r->ser[k] = calloc(GT_REPORT_BUCKETS, sizeof **r->ser))) {
                r->oom = 1;
                continue;
            }
            r->nser++;
        }
        struct gt_rbucket v = {
            clamp32(c->pkts_from), clamp32(c->pkts_from), clamp32(c->pkts_to), clamp32(c->pkts_to), 0, 0
        };
        if (r->o.anomaly)
            v.emin = v.emax = (float)gt_anomaly_expected_rate(r->o.anomaly, k);
        struct gt_rbucket *dst = &r->ser[k][bi];
        if (fresh)
            *dst = v;
        else
            merge(dst, &v);     /* a key new in this bucket had zeros before: its calloc'ed zeros stay the min */
    }
}

/* Keys a reload appended (keyspace.h): room for their totals and series. */
static void grow(struct gt_report *r)
{
    uint32_t n = r->keys->nkeys;
    if (n <= r->nkeys)
        return;
    struct gt_counts *t = realloc(r->tot, ((size_t)n + 1) * sizeof *t);
    if (t)
        r->tot = t;
    struct gt_rbucket **sr = realloc(r->ser, ((size_t)n + 1) * sizeof *sr);
    if (sr)
        r->ser = sr;
    if (!t || !sr) {
        r->oom = 1;
        return;
    }
    memset(r->tot + r->nkeys, 0, (n - r->nkeys) * sizeof *r->tot);
    memset(r->ser + r->nkeys, 0, (n - r->nkeys) * sizeof *r->ser);
    r->nkeys = n;
}

void gt_report_bin(struct gt_report *r, const struct gt_bin *b)
{
    pthread_mutex_lock(&r->mu);
    grow(r);
    add_bin(r, b);
    pthread_mutex_unlock(&r->mu);
}

uint64_t gt_report_bins(struct gt_report *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->nbins;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void gt_report_event(struct gt_report *r, const struct gt_event *ev)
{
    pthread_mutex_lock(&r->mu);
    if (r->nev == r->cap_ev) {
        size_t nc = r->cap_ev ? r->cap_ev * 2 : 64;
        struct gt_event *e = realloc(r->ev, nc * sizeof *e);
        if (!e) {
            r->oom = 1;
            pthread_mutex_unlock(&r->mu);
            return;
        }
        r->ev = e;
        r->cap_ev = nc;
    }
    r->ev[r->nev++] = *ev;
    pthread_mutex_unlock(&r->mu);
}

void gt_report_free(struct gt_report *r)
{
    if (!r)
        return;
    if (r->ser && r->keys)
        for (uint32_t k = 0; k < r->nkeys; k++)
            free(r->ser[k]);
    free(r->ser);
    free(r->tot);
    free(r->ev);
    free(r->lib_css);
    free(r->lib_js);
    free(r->atlas);
    free(r->codes);
    free(r->path);
    free(r->dbs);
    free(r->files);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
