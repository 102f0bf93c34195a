/* Bin outputs: csv and jsonl rows, and the totals table. */
#include "geotap/output.h"
#include "geotap/country_names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gt_output {
    struct gt_output_opts o;
    uint32_t *order;             /* key ids in a stable display order */
    uint8_t *seen;               /* key had traffic in some bin so far */
    struct gt_counts *totals;
    uint32_t n;                  /* keys the arrays hold (the table grows on reloads) */
    int header_done;
    uint64_t bins;
    int64_t first_bin, last_bin;
};

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const struct gt_keys *keys = ctx;
    const struct gt_key *x = &keys->keys[*(const uint32_t *)a];
    const struct gt_key *y = &keys->keys[*(const uint32_t *)b];
    if (x->home != y->home) return x->home - y->home;   /* home last */
    int c = strncmp(x->cc, y->cc, 2);
    if (c) return c;
    if (x->asn != y->asn) return x->asn < y->asn ? -1 : 1;
    if (x->upstream != y->upstream) return x->upstream < y->upstream ? -1 : 1;
    return 0;
}

int gt_format_parse(const char *s)
{
    if (!strcmp(s, "table")) return GT_FMT_TABLE;
    if (!strcmp(s, "csv")) return GT_FMT_CSV;
    if (!strcmp(s, "jsonl")) return GT_FMT_JSONL;
    return -1;
}

struct gt_output *gt_output_new(const struct gt_output_opts *o)
{
    struct gt_output *out = calloc(1, sizeof *out);
    uint32_t n = o->keys->nkeys;
    if (!out)
        return NULL;
    out->o = *o;
    out->order = malloc(((size_t)n + 1) * sizeof *out->order);
    out->seen = calloc((size_t)n + 1, 1);
    out->totals = calloc((size_t)n + 1, sizeof *out->totals);
    if (!out->order || !out->seen || !out->totals) {
        gt_output_free(out);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        out->order[i] = i;
    qsort_r(out->order, n, sizeof *out->order, cmp_key, (void *)o->keys);
    out->n = n;
    return out;
}

/* Keys appended by a reload: room for them, and the display order again. */
static int grow(struct gt_output *o, uint32_t n)
{
    uint32_t *order = realloc(o->order, ((size_t)n + 1) * sizeof *order);
    if (order)
        o->order = order;
    uint8_t *seen = realloc(o->seen, (size_t)n + 1);
    if (seen)
        o->seen = seen;
    struct gt_counts *t = realloc(o->totals, ((size_t)n + 1) * sizeof *t);
    if (t)
        o->totals = t;
    if (!order || !seen || !t)
        return -1;
    memset(o->seen + o->n, 0, n - o->n);
    memset(o->totals + o->n, 0, (n - o->n) * sizeof *o->totals);
    for (uint32_t i = 0; i < n; i++)
        o->order[i] = i;
    qsort_r(o->order, n, sizeof *o->order, cmp_key, (void *)o->o.keys);
    o->n = n;
    return 0;
}

void gt_output_free(struct gt_output *o)
{
    if (!o)
        return;
    free(o->order);
    free(o->seen);
    free(o->totals);
    free(o);
}

const struct gt_counts *gt_output_totals(const struct gt_output *o)
{
    return o->totals;
}

static const unsigned dim_list[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };
static const char *const dim_names[] = { "country", "asn", "upstream" };

/* A CSV field, quoted when it holds a comma, quote or newline (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void gt_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void write_csv_header(struct gt_output *o)
{
    FILE *f = o->o.out;
    fputs("time", f);
    for (int d = 0; d < 3; d++)
        if (o->o.keys->dims & dim_list[d])
            fprintf(f, ",%s", dim_names[d]);
    fputs(",packets_from,bytes_from,packets_to,bytes_to," GT_OUTPUT_MERGE_COLUMNS "\n", f);
}

static void write_row(struct gt_output *o, const char *ts, const struct gt_bin *b, uint32_t k)
{
    const struct gt_counts *c = &b->counts[k];
    int64_t fn = b->first_ns ? b->first_ns[k] : 0, ln = b->last_ns ? b->last_ns[k] : 0;
    FILE *f = o->o.out;
    char label[256];
    int csv = o->o.format == GT_FMT_CSV;
    if (csv)
        fputs(ts, f);
    else
        fprintf(f, "{\"time\":\"%s\"", ts);
    for (int d = 0; d < 3; d++) {
        if (!(o->o.keys->dims & dim_list[d]))
            continue;
        gt_key_label(o->o.keys, o->o.cls, k, dim_list[d], label, sizeof label);
        if (csv) {
            fputc(',', f);
            csv_field(f, label);
        } else {
            fprintf(f, ",\"%s\":", dim_names[d]);
            if (dim_list[d] == GT_DIM_ASN && !o->o.keys->keys[k].home)
                fputs(label, f);
            else
                gt_json_string(f, label);
        }
    }
    /* after the counts, what a merge needs to rebuild the detector's input
     * (merge.h): the key's flow starts, idle time and first/last packet,
     * then the bin's own figures, the same on every row of the bin */
    uint32_t workers = b->stats.workers ? b->stats.workers : 1;
    if (csv)
        fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",%" PRIu32
                ",%" PRId64 ",%" PRId64 ",%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",%" PRIu32 "\n",
                c->pkts_from, c->bytes_from, c->pkts_to, c->bytes_to, c->starts, c->idle_ms, fn, ln,
                b->width, b->stats.packets, b->stats.drops, workers, b->nkeys);
    else
        fprintf(f, ",\"packets_from\":%" PRIu64 ",\"bytes_from\":%" PRIu64
                ",\"packets_to\":%" PRIu64 ",\"bytes_to\":%" PRIu64 ",\"flow_starts\":%" PRIu32
                ",\"idle_ms\":%" PRIu32 ",\"first_ns\":%" PRId64 ",\"last_ns\":%" PRId64
                ",\"bin_seconds\":%" PRIu32 ",\"bin_frames\":%" PRIu64 ",\"bin_drops\":%" PRIu64
                ",\"bin_workers\":%" PRIu32 ",\"bin_keys\":%" PRIu32 "}\n",
                c->pkts_from, c->bytes_from, c->pkts_to, c->bytes_to, c->starts, c->idle_ms, fn, ln,
                b->width, b->stats.packets, b->stats.drops, workers, b->nkeys);
}

void gt_output_bin(void *output, const struct gt_bin *bin)
{
    struct gt_output *o = output;
    if (o->o.keys->nkeys > o->n)
        grow(o, o->o.keys->nkeys);
    uint32_t n = o->n < bin->nkeys ? o->n : bin->nkeys;
    char ts[32];
    if (!o->bins++)
        o->first_bin = bin->start;
    o->last_bin = bin->start;
    for (uint32_t k = 0; k < n && !bin->empty; k++) {
        const struct gt_counts *c = &bin->counts[k];
        if (c->pkts_from | c->pkts_to) {
            o->seen[k] = 1;
            o->totals[k].pkts_from += c->pkts_from;
            o->totals[k].bytes_from += c->bytes_from;
            o->totals[k].pkts_to += c->pkts_to;
            o->totals[k].bytes_to += c->bytes_to;
        }
    }
    if (o->o.format == GT_FMT_TABLE)
        return;
    if (o->o.format == GT_FMT_CSV && !o->header_done) {
        write_csv_header(o);
        o->header_done = 1;
    }
    gt_time_format(ts, sizeof ts, bin->start, 0, GT_TIME_S);
    for (uint32_t i = 0; i < o->n; i++) {
        uint32_t k = o->order[i];
        if (k < n && o->seen[k])
            write_row(o, ts, bin, k);
    }
}

void gt_human(uint64_t v, const char *unit, char *buf, size_t len)
{
    static const char *const pre[] = { "", "k", "M", "G", "T", "P", "E" };
    double d = (double)v;
    int i = 0;
    while (d >= 1000 && i < 6) {
        d /= 1000;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%" PRIu64 "%s%s", v, *unit ? " " : "", unit);
    else
        snprintf(buf, len, "%.*f %s%s", d < 10 ? 2 : d < 100 ? 1 : 0, d, pre[i], unit);
}

static int cmp_traffic(const void *a, const void *b, void *ctx)
{
    const struct gt_counts *totals = ctx;
    const struct gt_counts *x = &totals[*(const uint32_t *)a];
    const struct gt_counts *y = &totals[*(const uint32_t *)b];
    uint64_t tx = x->pkts_from + x->pkts_to, ty = y->pkts_from + y->pkts_to;
    if (tx != ty) return tx > ty ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

static void write_table(struct gt_output *o)
{
    FILE *f = o->o.out;
    const struct gt_keys *keys = o->o.keys;
    uint32_t n = o->n, m = 0;
    uint64_t all = 0;
    uint32_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
    if (!ids)
        return;
    for (uint32_t k = 0; k < n; k++)
        if (o->seen[k]) {
            ids[m++] = k;
            all += o->totals[k].pkts_from + o->totals[k].pkts_to;
        }
    qsort_r(ids, m, sizeof *ids, cmp_traffic, o->totals);
    fprintf(f, "%-44s %10s %10s %10s %10s %6s\n", "key", "pkts from", "bytes from", "pkts to", "bytes to", "share");
    for (uint32_t i = 0; i < m; i++) {
        uint32_t k = ids[i];
        const struct gt_counts *c = &o->totals[k];
        char name[256], a[32], b[32], cc[32], d[32];
        struct gt_key_names nm = { .cls = o->o.cls };
        gt_key_render(keys, &nm, k, 1, name, sizeof name);
        gt_human(c->pkts_from, "", a, sizeof a);
        gt_human(c->bytes_from, "B", b, sizeof b);
        gt_human(c->pkts_to, "", cc, sizeof cc);
        gt_human(c->bytes_to, "B", d, sizeof d);
        double share = all ? 100.0 * (double)(c->pkts_from + c->pkts_to) / (double)all : 0;
        fprintf(f, "%-44.44s %10s %10s %10s %10s %5.1f%%\n", name, a, b, cc, d, share);
    }
    free(ids);
}

int gt_output_finish(struct gt_output *o)
{
    /* Totals for every key of the table, for the summary after the run. */
    if (o->o.keys->nkeys > o->n && grow(o, o->o.keys->nkeys) != 0)
        return -1;
    if (o->o.format == GT_FMT_TABLE)
        write_table(o);
    else if (o->o.format == GT_FMT_CSV && !o->header_done) {
        write_csv_header(o);
        o->header_done = 1;
    }
    if (fflush(o->o.out) != 0 || ferror(o->o.out))
        return -1;
    return 0;
}

/* The output as a sink. */
struct out_sink {
    struct gt_output *o;
    char what[256];
};

static void out_sink_bin(void *self, const struct gt_bin *b)
{
    gt_output_bin(((struct out_sink *)self)->o, b);
}

static int out_sink_finish(void *self, char *err, size_t errlen)
{
    struct out_sink *s = self;
    if (gt_output_finish(s->o) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", s->what, strerror(errno));
        return -1;
    }
    return 0;
}

static void out_sink_free(void *self)
{
    free(self);
}

int gt_output_sink(struct gt_sink *out, struct gt_output *o, const char *what)
{
    struct out_sink *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->o = o;
    snprintf(s->what, sizeof s->what, "%s", what);
    *out = (struct gt_sink){ "output", s, out_sink_bin, NULL, out_sink_finish, out_sink_free, 0 };
    return 0;
}

void gt_output_set_file(struct gt_output *o, FILE *f, int header)
{
    o->o.out = f;
    o->header_done = !header;
}
