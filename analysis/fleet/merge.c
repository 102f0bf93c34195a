/* geotap merge: per-bin csv/jsonl outputs summed into one series
 * (include/geotap/fleet.h). Bins are kept sparse (only keys with packets),
 * so memory follows the rows with traffic, not bins x keys. */
#include "geotap/fleet.h"
#include "geotap/output.h"
#include "geotap/textline.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_CAP 8192

struct cell {
    uint32_t key;
    struct gt_counts c;
    int64_t fn, ln;
};

struct mbin {
    int64_t start;
    struct cell *cells;
    uint32_t n, cap;
    int64_t tfirst, tlast;      /* first and last packet of any key (0 = none) */
    uint64_t frames, drops;
    uint32_t workers;
};

/* the values of one row after its labels, in GT_OUTPUT_MERGE_COLUMNS order */
enum { V_PF, V_BF, V_PT, V_BT, V_STARTS, V_IDLE, V_FN, V_LN, V_WIDTH, V_FRAMES, V_DROPS,
       V_WORKERS, V_KEYS, NVAL };
static const char *const val_names[NVAL] = {
    "packets_from", "bytes_from", "packets_to", "bytes_to", "flow_starts", "idle_ms", "first_ns",
    "last_ns", "bin_seconds", "bin_frames", "bin_drops", "bin_workers", "bin_keys",
};

struct gt_merge {
    struct gt_keyset ks;
    int have_dims;
    uint32_t width;
    int have_width;
    uint32_t budget;
    char first[256];            /* the file that set dims and width, for messages */
    struct mbin *bins;
    size_t nb, cb;
    uint32_t *bh;               /* bin start -> index + 1 */
    size_t bhcap;
    struct mbin cur;            /* the current file's bin being read */
    int have_cur;
    int64_t last_start;         /* the current file's previous bin */
    int have_last;
    int32_t *scratch;           /* key -> cell index of the bin joined into, -1 */
    uint32_t scratch_cap;
};

gt_merge *gt_merge_new(void)
{
    gt_merge *m = calloc(1, sizeof *m);
    if (m)
        gt_keyset_init(&m->ks, 0);
    return m;
}

void gt_merge_free(gt_merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nb; i++)
        free(m->bins[i].cells);
    free(m->bins);
    free(m->bh);
    free(m->cur.cells);
    free(m->scratch);
    gt_keyset_free(&m->ks);
    free(m);
}

const struct gt_keys *gt_merge_keys(const gt_merge *m) { return &m->ks.keys; }
uint32_t gt_merge_budget_keys(const gt_merge *m) { return m->budget; }
uint32_t gt_merge_width(const gt_merge *m) { return m->width; }

static uint32_t start_hash(int64_t s)
{
    uint64_t x = (uint64_t)s * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

static int bh_grow(gt_merge *m)
{
    size_t cap = m->bhcap ? 2 * m->bhcap : 1024;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        size_t j = start_hash(m->bins[i].start) & (cap - 1);
        while (h[j])
            j = (j + 1) & (cap - 1);
        h[j] = (uint32_t)i + 1;
    }
    free(m->bh);
    m->bh = h;
    m->bhcap = cap;
    return 0;
}

/* The merged bin starting at s, made when new; NULL when out of memory. */
static struct mbin *bin_at(gt_merge *m, int64_t s)
{
    if (m->bhcap) {
        size_t j = start_hash(s) & (m->bhcap - 1);
        while (m->bh[j]) {
            if (m->bins[m->bh[j] - 1].start == s)
                return &m->bins[m->bh[j] - 1];
            j = (j + 1) & (m->bhcap - 1);
        }
    }
    if (m->nb == m->cb) {
        size_t nc = m->cb ? 2 * m->cb : 256;
        struct mbin *n = realloc(m->bins, nc * sizeof *n);
        if (!n)
            return NULL;
        m->bins = n;
        m->cb = nc;
    }
    if (2 * (m->nb + 1) > m->bhcap && bh_grow(m) != 0)
        return NULL;
    struct mbin *b = &m->bins[m->nb++];
    memset(b, 0, sizeof *b);
    b->start = s;
    size_t j = start_hash(s) & (m->bhcap - 1);
    while (m->bh[j])
        j = (j + 1) & (m->bhcap - 1);
    m->bh[j] = (uint32_t)m->nb;
    return b;
}

static struct cell *add_cell(struct mbin *b)
{
    if (b->n == b->cap) {
        uint32_t nc = b->cap ? 2 * b->cap : 16;
        struct cell *n = realloc(b->cells, nc * sizeof *n);
        if (!n)
            return NULL;
        b->cells = n;
        b->cap = nc;
    }
    struct cell *c = &b->cells[b->n++];
    memset(c, 0, sizeof *c);
    return c;
}

static void span_add(struct mbin *b, int64_t fn, int64_t ln)
{
    if (fn && (!b->tfirst || fn < b->tfirst))
        b->tfirst = fn;
    if (ln > b->tlast)
        b->tlast = ln;
}

/* Join the current file's bin F into the merged bin G: one stream when
 * they do not overlap in time (the silence across the cut counted as the
 * engine counts it, bins.h), parallel streams otherwise. */
static int join(gt_merge *m, struct mbin *g, struct mbin *f)
{
    int ghas = g->tlast != 0, fhas = f->tlast != 0;
    int after = ghas && fhas && f->tfirst >= g->tlast;
    int before = ghas && fhas && !after && f->tlast <= g->tfirst;
    int parallel = ghas && fhas && !after && !before;
    uint32_t nk = m->ks.keys.nkeys;
    if (nk > m->scratch_cap) {
        int32_t *s = realloc(m->scratch, nk * sizeof *s);
        if (!s)
            return -1;
        for (uint32_t i = m->scratch_cap; i < nk; i++)
            s[i] = -1;
        m->scratch = s;
        m->scratch_cap = nk;
    }
    for (uint32_t i = 0; i < g->n; i++)
        m->scratch[g->cells[i].key] = (int32_t)i;
    int rc = 0;
    for (uint32_t i = 0; i < f->n && rc == 0; i++) {
        const struct cell *fc = &f->cells[i];
        struct cell *gc;
        if (m->scratch[fc->key] >= 0) {
            gc = &g->cells[m->scratch[fc->key]];
        } else if ((gc = add_cell(g))) {
            gc->key = fc->key;
            m->scratch[fc->key] = (int32_t)(g->n - 1);
        } else {
            rc = -1;
            break;
        }
        if (after)
            gt_counts_gap(&gc->c, gc->ln, fc->fn);
        else if (before && gc->fn)
            gt_counts_gap(&gc->c, fc->ln, gc->fn);
        gt_counts_add(&gc->c, &fc->c);
        if (fc->fn && (!gc->fn || fc->fn < gc->fn))
            gc->fn = fc->fn;
        if (fc->ln > gc->ln)
            gc->ln = fc->ln;
    }
    for (uint32_t i = 0; i < g->n; i++)
        m->scratch[g->cells[i].key] = -1;
    g->workers = parallel ? g->workers + f->workers : g->workers > f->workers ? g->workers : f->workers;
    g->frames += f->frames;
    g->drops += f->drops;
    span_add(g, f->tfirst, f->tlast);
    return rc;
}

static int flush_cur(gt_merge *m)
{
    if (!m->have_cur)
        return 0;
    m->have_cur = 0;
    struct mbin *g = bin_at(m, m->cur.start);
    int rc = g ? join(m, g, &m->cur) : -1;
    m->cur.n = 0;
    return rc;
}

static int fail(char *err, size_t errlen, const char *path, unsigned long line, const char *fmt, const char *arg)
{
    char msg[600], a[440];
    gt_text_escape(arg, strlen(arg), a, sizeof a);
    snprintf(msg, sizeof msg, fmt, a);
    snprintf(err, errlen, "%s:%lu: %s", path, line, msg);
    return -1;
}

/* "2014-12-22T16:15:00Z" -> seconds since the epoch. */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!e || *e)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    *v = strtoull(s, &end, 10);
    return *end || errno ? -1 : 0;
}

static unsigned dim_of(const char *name)
{
    if (!strcmp(name, "country")) return GT_DIM_COUNTRY;
    if (!strcmp(name, "asn")) return GT_DIM_ASN;
    if (!strcmp(name, "upstream")) return GT_DIM_UPSTREAM;
    return 0;
}

static const char *dims_text(unsigned d, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s%s", d & GT_DIM_COUNTRY ? "country" : "",
             (d & GT_DIM_COUNTRY) && (d & (GT_DIM_ASN | GT_DIM_UPSTREAM)) ? "," : "",
             d & GT_DIM_ASN ? "asn" : "", (d & GT_DIM_ASN) && (d & GT_DIM_UPSTREAM) ? "," : "",
             d & GT_DIM_UPSTREAM ? "upstream" : "");
    return buf;
}

/* The file's key columns against the files before. */
static int check_dims(gt_merge *m, unsigned dims, const char *path, char *err, size_t errlen)
{
    char a[64], b[64], msg[400];
    if (!dims)
        return fail(err, errlen, path, 1, "%s", "no key column (country, asn)");
    if (dims & GT_DIM_UPSTREAM)
        return fail(err, errlen, path, 1, "%s", "keys by upstream cannot be merged (the outputs name upstreams from the routes table or upstream map, which merge does not read): merge by country or asn");
    if (!m->have_dims) {
        m->ks.keys.dims = dims;
        m->have_dims = 1;
        snprintf(m->first, sizeof m->first, "%s", path);
        return 0;
    }
    if (dims == m->ks.keys.dims)
        return 0;
    snprintf(msg, sizeof msg, "keys by %s, but %.200s has keys by %s", dims_text(dims, a, sizeof a), m->first,
             dims_text(m->ks.keys.dims, b, sizeof b));
    return fail(err, errlen, path, 1, "%s", msg);
}

/* One row: its bin start, labels (one per dimension, in country, asn order)
 * and values. */
static int add_row(gt_merge *m, const char *path, unsigned long line, int64_t start,
                   const char *const *labels, const uint64_t *v, char *err, size_t errlen)
{
    struct gt_key k;
    memset(&k, 0, sizeof k);
    unsigned li = 0;
    for (unsigned d = GT_DIM_COUNTRY; d <= GT_DIM_ASN; d <<= 1)
        if (m->ks.keys.dims & d) {
            if (gt_key_parse_label(&k, d, labels[li]) != 0)
                return fail(err, errlen, path, line, d == GT_DIM_COUNTRY ? "bad country '%s'" : "bad AS number '%s'",
                            labels[li]);
            li++;
        }
    if (v[V_WIDTH] > 31 * 86400ull)
        return fail(err, errlen, path, line, "%s", "bin_seconds out of range");
    if (!m->have_width) {
        m->width = (uint32_t)v[V_WIDTH];
        m->have_width = 1;
    } else if (v[V_WIDTH] != m->width) {
        char msg[400];
        snprintf(msg, sizeof msg, "bins of %" PRIu64 " s, but %.200s has bins of %" PRIu32 " s", v[V_WIDTH], m->first, m->width);
        return fail(err, errlen, path, line, "%s", msg);
    }
    if (!m->have_cur || m->cur.start != start) {
        if (m->have_cur && start < m->cur.start)
            return fail(err, errlen, path, line, "%s", "bin times go backwards (not in time order)");
        if (flush_cur(m) != 0)
            return fail(err, errlen, path, line, "%s", "out of memory");
        m->have_cur = 1;
        m->cur.start = start;
        m->cur.tfirst = m->cur.tlast = 0;
        m->cur.frames = v[V_FRAMES];
        m->cur.drops = v[V_DROPS];
        m->cur.workers = v[V_WORKERS] ? (uint32_t)v[V_WORKERS] : 1;
        if (v[V_KEYS] > m->budget && v[V_KEYS] <= UINT32_MAX)
            m->budget = (uint32_t)v[V_KEYS];
    }
    long id = gt_keyset_id(&m->ks, &k);
    if (id < 0)
        return fail(err, errlen, path, line, "%s", "out of memory");
    if (!(v[V_PF] | v[V_PT]))
        return 0;                   /* a silent key: nothing to add */
    if ((int64_t)v[V_FN] <= 0 || (int64_t)v[V_LN] < (int64_t)v[V_FN] || v[V_STARTS] > UINT32_MAX ||
        v[V_IDLE] > UINT32_MAX)
        return fail(err, errlen, path, line, "%s", "first_ns/last_ns/flow_starts/idle_ms out of range");
    struct cell *c = add_cell(&m->cur);
    if (!c)
        return fail(err, errlen, path, line, "%s", "out of memory");
    c->key = (uint32_t)id;
    c->c = (struct gt_counts){ v[V_PF], v[V_BF], v[V_PT], v[V_BT], (uint32_t)v[V_STARTS], (uint32_t)v[V_IDLE] };
    c->fn = (int64_t)v[V_FN];
    c->ln = (int64_t)v[V_LN];
    span_add(&m->cur, c->fn, c->ln);
    return 0;
}

static int split_csv(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            return n;
        *c = 0;
        s = c + 1;
    }
}

static int read_csv(gt_merge *m, FILE *fp, const char *path, char *buf, char *err, size_t errlen)
{
    char *f[32];
    int n = split_csv(buf, f, 32);
    unsigned dims = 0;
    int nd = 0;
    if (n < 2 || strcmp(f[0], "time"))
        return fail(err, errlen, path, 1, "%s", "not a geotap csv output (no 'time' header)");
    while (1 + nd < n && dim_of(f[1 + nd]))
        dims |= dim_of(f[1 + nd++]);
    if (check_dims(m, dims, path, err, errlen) != 0)
        return -1;
    int nv = n - 1 - nd;
    for (int i = 0; i < NVAL; i++)
        if (i >= nv || strcmp(f[1 + nd + i], val_names[i]))
            return fail(err, errlen, path, 1, "column '%s' missing or out of place (an output of an older geotap cannot be merged)",
                        val_names[i]);
    if (nv != NVAL)
        return fail(err, errlen, path, 1, "unknown column '%s'", f[1 + nd + NVAL]);
    unsigned long line = 1;
    long len;
    while ((len = gt_text_line(fp, buf, LINE_CAP)) >= 0) {
        line++;
        if (len == 0)
            continue;
        if (strchr(buf, '"'))
            return fail(err, errlen, path, line, "%s", "quoted field (not a geotap output by country or asn)");
        if (split_csv(buf, f, 32) != n)
            return fail(err, errlen, path, line, "%s", "wrong number of fields");
        int64_t start;
        uint64_t v[NVAL];
        if (parse_time(f[0], &start) != 0)
            return fail(err, errlen, path, line, "bad time '%s'", f[0]);
        for (int i = 0; i < NVAL; i++)
            if (parse_u64(f[1 + nd + i], &v[i]) != 0)
                return fail(err, errlen, path, line, "bad number '%s'", f[1 + nd + i]);
        if (add_row(m, path, line, start, (const char *const *)f + 1, v, err, errlen) != 0)
            return -1;
    }
    if (len == -2)
        return fail(err, errlen, path, line + 1, "%s", "line too long");
    if (len == -3)
        return fail(err, errlen, path, line + 1, "read error: %s", strerror(errno));
    return 0;
}

static int read_jsonl(gt_merge *m, FILE *fp, const char *path, char *buf, char *err, size_t errlen)
{
    unsigned long line = 0;
    long len;
    do {
        line++;
        if (!buf[0])
            continue;
        json_error_t je;
        json_t *o = json_loads(buf, 0, &je);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            return fail(err, errlen, path, line, "not a JSON object: %s", o ? "" : je.text);
        }
        unsigned dims = 0;
        for (unsigned d = GT_DIM_COUNTRY; d <= GT_DIM_UPSTREAM; d <<= 1)
            if (json_object_get(o, d == GT_DIM_COUNTRY ? "country" : d == GT_DIM_ASN ? "asn" : "upstream"))
                dims |= d;
        if ((line == 1 || !m->have_dims) && check_dims(m, dims, path, err, errlen) != 0) {
            json_decref(o);
            return -1;
        }
        int rc = -1;
        char lab[2][32];
        const char *labels[2] = { lab[0], lab[1] };
        uint64_t v[NVAL];
        int64_t start;
        const char *t = json_string_value(json_object_get(o, "time"));
        unsigned li = 0;
        if (dims != m->ks.keys.dims) {
            rc = fail(err, errlen, path, line, "%s", "key fields differ from the file's first row");
            goto next;
        }
        if (!t || parse_time(t, &start) != 0) {
            rc = fail(err, errlen, path, line, "%s", "no or bad \"time\"");
            goto next;
        }
        for (unsigned d = GT_DIM_COUNTRY; d <= GT_DIM_ASN; d <<= 1) {
            if (!(dims & d))
                continue;
            json_t *x = json_object_get(o, d == GT_DIM_COUNTRY ? "country" : "asn");
            if (json_is_string(x))
                snprintf(lab[li], sizeof lab[li], "%s", json_string_value(x));
            else if (json_is_integer(x) && json_integer_value(x) >= 0)
                snprintf(lab[li], sizeof lab[li], "%" JSON_INTEGER_FORMAT, json_integer_value(x));
            else
                snprintf(lab[li], sizeof lab[li], "?");
            li++;
        }
        for (int i = 0; i < NVAL; i++) {
            json_t *x = json_object_get(o, val_names[i]);
            if (!json_is_integer(x) || json_integer_value(x) < 0) {
                rc = fail(err, errlen, path, line, "field \"%s\" missing or not a count (an output of an older geotap cannot be merged)",
                          val_names[i]);
                goto next;
            }
            v[i] = (uint64_t)json_integer_value(x);
        }
        rc = add_row(m, path, line, start, labels, v, err, errlen);
    next:
        json_decref(o);
        if (rc != 0)
            return -1;
    } while ((len = gt_text_line(fp, buf, LINE_CAP)) >= 0);
    if (len == -2)
        return fail(err, errlen, path, line + 1, "%s", "line too long");
    if (len == -3)
        return fail(err, errlen, path, line + 1, "read error: %s", strerror(errno));
    return 0;
}

int gt_merge_add_file(gt_merge *m, const char *path, char *err, size_t errlen)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(LINE_CAP);
    int rc = -1;
    long len;
    m->have_cur = 0;
    if (!buf)
        snprintf(err, errlen, "%s: out of memory", path);
    else if ((len = gt_text_line(fp, buf, LINE_CAP)) == -1)
        rc = 0;                             /* empty: nothing to add */
    else if (len < 0)
        fail(err, errlen, path, 1, "%s", len == -2 ? "line too long" : "read error");
    else if (buf[0] == '{')
        rc = read_jsonl(m, fp, path, buf, err, errlen);
    else
        rc = read_csv(m, fp, path, buf, err, errlen);
    if (rc == 0 && flush_cur(m) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    free(buf);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int cmp_start(const void *a, const void *b)
{
    int64_t x = ((const struct mbin *)a)->start, y = ((const struct mbin *)b)->start;
    return (x > y) - (x < y);
}

int gt_merge_emit(gt_merge *m, gt_bin_fn fn, void *ctx)
{
    uint32_t nk = m->ks.keys.nkeys;
    if (!m->nb)
        return 0;
    qsort(m->bins, m->nb, sizeof *m->bins, cmp_start);
    free(m->bh);                /* the order changed: lookups are over */
    m->bh = NULL;
    m->bhcap = 0;
    struct gt_counts *c = calloc(nk ? nk : 1, sizeof *c);
    int64_t *f = calloc(nk ? nk : 1, sizeof *f), *l = calloc(nk ? nk : 1, sizeof *l);
    if (!c || !f || !l) {
        free(c); free(f); free(l);
        return -1;
    }
    size_t i = 0;
    int64_t t = m->bins[0].start;
    while (i < m->nb) {
        struct gt_bin b = { .start = t, .width = m->width, .nkeys = nk, .counts = c, .last_ns = l, .first_ns = f };
        memset(c, 0, nk * sizeof *c);
        memset(f, 0, nk * sizeof *f);
        memset(l, 0, nk * sizeof *l);
        b.stats.workers = 1;
        if (m->width == 0 || m->bins[i].start == t) {
            const struct mbin *mb = &m->bins[i++];
            b.start = mb->start;
            for (uint32_t j = 0; j < mb->n; j++) {
                const struct cell *x = &mb->cells[j];
                c[x->key] = x->c;
                f[x->key] = x->fn;
                l[x->key] = x->ln;
            }
            b.stats.packets = mb->frames;
            b.stats.drops = mb->drops;
            b.stats.first_ns = mb->tfirst;
            b.stats.last_ns = mb->tlast;
            b.stats.workers = mb->workers;
        }
        fn(ctx, &b);
        t = b.start + m->width;
    }
    free(c); free(f); free(l);
    return 0;
}
