/* The HTML report, data half: the JSON object the page's script reads
 * (header, key table with "other", country totals, chart series, events). */
#include "analysis/output/report_priv.h"
#include "geotap/country_names.h"
#include "geotap/events.h"
#include "geotap/output.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void gt_report_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);   /* "</script>" and "<!--" cannot occur */
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const unsigned dims3[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };

void gt_report_key_label(const struct gt_report *r, uint32_t k, char *buf, size_t len)
{
    struct gt_key_names nm = { .cls = r->o.cls };
    gt_key_render(r->keys, &nm, k, 0, buf, len);
}

void gt_report_key_name(const struct gt_report *r, uint32_t k, char *buf, size_t len)
{
    const struct gt_key *key = &r->keys->keys[k];
    const char *n = NULL;
    buf[0] = 0;
    if (key->home)
        n = "home networks";
    else if (r->keys->dims & GT_DIM_COUNTRY)
        n = key->cc[0] == 'Z' && key->cc[1] == 'Z' ? "unknown" : gt_country_name(key->cc);
    else if ((r->keys->dims & GT_DIM_ASN) && r->o.cls)
        n = key->asn ? gt_classifier_asn_org(r->o.cls, key->asn) : "unknown";
    snprintf(buf, len, "%s", n ? n : "");
}

static uint64_t traffic(const struct gt_counts *c)
{
    return c->pkts_from + c->pkts_to;
}

static const struct gt_counts *sort_tot;
static int by_traffic(const void *a, const void *b)
{
    uint64_t x = traffic(&sort_tot[*(const uint32_t *)a]), y = traffic(&sort_tot[*(const uint32_t *)b]);
    if (x != y)
        return x > y ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int is_unknown(const struct gt_report *r, uint32_t k)
{
    const struct gt_key *key = &r->keys->keys[k];
    return !key->home && ((r->keys->dims & GT_DIM_COUNTRY) ? key->cc[0] == 'Z' && key->cc[1] == 'Z'
                                                            : key->asn == 0);
}

static void key_fields(FILE *f, const struct gt_report *r, uint32_t k)
{
    char buf[512];
    const struct gt_counts *c = &r->tot[k];
    gt_report_key_label(r, k, buf, sizeof buf);
    fprintf(f, "\"id\":%" PRIu32 ",\"label\":", k);
    gt_report_json_str(f, buf);
    gt_report_key_name(r, k, buf, sizeof buf);
    fputs(",\"name\":", f);
    gt_report_json_str(f, buf);
    if (r->keys->dims & GT_DIM_COUNTRY && !r->keys->keys[k].home)
        fprintf(f, ",\"cc\":\"%.2s\"", r->keys->keys[k].cc);
    fprintf(f, ",\"pf\":%" PRIu64 ",\"bf\":%" PRIu64 ",\"pt\":%" PRIu64 ",\"bt\":%" PRIu64,
            c->pkts_from, c->bytes_from, c->pkts_to, c->bytes_to);
}

static void write_meta(FILE *f, const struct gt_report *r, uint64_t all, uint64_t unknown)
{
    fputs("\"meta\":{\"files\":[", f);
    for (int i = 0; i < r->o.nfiles; i++) {
        if (i)
            fputc(',', f);
        gt_report_json_str(f, r->o.files[i]);
    }
    fputs("],\"dbs\":[", f);
    for (int i = 0; i < r->o.ndbs; i++) {
        char d[256];
        gt_db_describe(r->o.dbs[i], d, sizeof d);
        fprintf(f, "%s{\"path\":", i ? "," : "");
        gt_report_json_str(f, r->o.dbs[i]);
        fputs(",\"desc\":", f);
        gt_report_json_str(f, d);
        fputc('}', f);
    }
    const char *sep = "";
    fputs("],\"by\":\"", f);
    for (int d = 0; d < 3; d++)
        if (r->keys->dims & dims3[d]) {
            fprintf(f, "%s%s", sep, d == 0 ? "country" : d == 1 ? "asn" : "upstream");
            sep = ",";
        }
    const struct gt_bin_stats *s = &r->stats;
    fprintf(f, "\",\"bin\":%" PRIu32 ",\"first\":%.6f,\"last\":%.6f,\"frames\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"ip\":%" PRIu64 ",\"nonip\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"malformed\":%" PRIu64
               ",\"drops\":%" PRIu64 ",\"unknown\":%.6f,\"unknown_dim\":\"%s\",\"detector\":%s,\"live\":%s"
               ",\"series_refused\":%" PRIu64 ",\"series_max\":%d,\"nkeys_seen\":",
            r->width, (double)s->first_ns / 1e9, (double)s->last_ns / 1e9, s->packets, s->bytes, s->ip,
            s->nonip, s->truncated, s->malformed, s->drops, all ? (double)unknown / (double)all : 0.0,
            r->keys->dims & GT_DIM_COUNTRY ? "country" : "AS", r->o.anomaly ? "true" : "false",
            r->path ? "false" : "true", r->ser_refused, GT_REPORT_MAX_SERIES);
}

/* A float with few digits (the page draws it, nobody reads the 9th digit). */
static void put_rate(FILE *f, float v)
{
    if (!isfinite(v) || v <= 0)
        fputc('0', f);
    else
        fprintf(f, "%.4g", (double)v);
}

static void write_series(FILE *f, const struct gt_report *r, uint32_t k)
{
    static const char *const names[] = { "f0", "f1", "t0", "t1", "e0", "e1" };
    int64_t nb = r->last_bucket + 1;
    int fields = r->step == 1 ? 1 : 2;          /* min == max with one bin per bucket */
    for (int which = 0; which < 6; which++) {
        if (which % 2 >= fields || (which >= 4 && !r->o.anomaly))
            continue;
        fprintf(f, ",\"%s\":[", names[which]);
        for (int64_t j = 0; j < nb; j++) {
            const struct gt_rbucket *b = r->ser[k] ? &r->ser[k][j] : NULL;
            if (j)
                fputc(',', f);
            if (!b)
                fputc('0', f);
            else if (which < 4)
                fprintf(f, "%" PRIu32, which == 0 ? b->fmin : which == 1 ? b->fmax : which == 2 ? b->tmin : b->tmax);
            else
                put_rate(f, which == 4 ? b->emin : b->emax);
        }
        fputc(']', f);
    }
}

static void write_event(FILE *f, const struct gt_report *r, const struct gt_event *e)
{
    fprintf(f, "{\"type\":\"%s\",\"key\":", gt_event_type_name(e->type));
    if (e->key == GT_NO_KEY || e->key >= r->nkeys) {
        fputs("null,\"label\":\"(capture)\"", f);
    } else {
        char buf[512];
        gt_report_key_label(r, e->key, buf, sizeof buf);
        fprintf(f, "%" PRIu32 ",\"label\":", e->key);
        gt_report_json_str(f, buf);
        gt_report_key_name(r, e->key, buf, sizeof buf);
        fputs(",\"name\":", f);
        gt_report_json_str(f, buf);
    }
    fprintf(f, ",\"last_seen\":%.6f,\"first_seen\":%.6f,\"detected\":%.6f,\"duration\":%.3f"
               ",\"silence\":%.3f,\"expected_rate\":%.6g,\"cause\":\"%s\",\"ratio\":%.4f,\"drops\":%" PRIu64,
            (double)e->last_seen_ns / 1e9, (double)e->first_seen_ns / 1e9, (double)e->detected_ns / 1e9,
            e->duration_s, e->silence_s, e->expected_rate, gt_cause_name(e->cause), e->upstream_ratio, e->drops);
    const char *un = e->upstream && r->o.cls ? gt_classifier_upstream_name(r->o.cls, e->upstream) : NULL;
    if (un && *un) {
        fputs(",\"upstream\":", f);
        gt_report_json_str(f, un);
    }
    fputc('}', f);
}

int gt_report_write_data(struct gt_report *r, FILE *f)
{
    pthread_mutex_lock(&r->mu);
    int rc = gt_report_write_data_locked(r, f);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int gt_report_write_data_locked(const struct gt_report *r, FILE *f)
{
    uint32_t nk = r->nkeys, n = 0;
    uint32_t *order = malloc(((size_t)nk + 1) * sizeof *order);
    unsigned char *chart = calloc((size_t)nk + 1, 1);
    if (!order || !chart) {
        free(order);
        free(chart);
        return -1;
    }
    uint64_t all = 0, unknown = 0;
    for (uint32_t k = 0; k < nk; k++) {
        uint64_t t = traffic(&r->tot[k]);
        all += t;
        if (is_unknown(r, k))
            unknown += t;
        if (t)
            order[n++] = k;
    }
    sort_tot = r->tot;
    qsort(order, n, sizeof *order, by_traffic);

    fputc('{', f);
    write_meta(f, r, all, unknown);
    fprintf(f, "%" PRIu32 "},\"grid\":{\"t0\":%" PRId64 ",\"w\":%" PRIu32 ",\"step\":%" PRIu32
               ",\"n\":%" PRId64 ",\"bins\":%" PRIu64 "},\"keys\":[",
            n, r->t0, r->width, r->step, r->last_bucket + 1, r->nbins);
    struct gt_counts other = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        const struct gt_counts *c = &r->tot[order[i]];
        if (i >= r->o.top_rows) {
            other.pkts_from += c->pkts_from;
            other.bytes_from += c->bytes_from;
            other.pkts_to += c->pkts_to;
            other.bytes_to += c->bytes_to;
            continue;
        }
        fputs(i ? ",{" : "{", f);
        key_fields(f, r, order[i]);
        fputc('}', f);
    }
    if (n > r->o.top_rows)
        fprintf(f, ",{\"other\":%" PRIu32 ",\"pf\":%" PRIu64 ",\"bf\":%" PRIu64 ",\"pt\":%" PRIu64
                   ",\"bt\":%" PRIu64 "}",
                n - r->o.top_rows, other.pkts_from, other.bytes_from, other.pkts_to, other.bytes_to);
    fputs("],\"countries\":{", f);
    if (r->keys->dims & GT_DIM_COUNTRY) {
        /* Per country over every key of it (by country,asn has many). */
        uint64_t cf[26 * 26], ct[26 * 26];
        memset(cf, 0, sizeof cf);
        memset(ct, 0, sizeof ct);
        for (uint32_t i = 0; i < n; i++) {
            const struct gt_key *key = &r->keys->keys[order[i]];
            if (!key->home && key->cc[0] >= 'A' && key->cc[0] <= 'Z' && key->cc[1] >= 'A' && key->cc[1] <= 'Z') {
                cf[(key->cc[0] - 'A') * 26 + key->cc[1] - 'A'] += r->tot[order[i]].pkts_from;
                ct[(key->cc[0] - 'A') * 26 + key->cc[1] - 'A'] += r->tot[order[i]].pkts_to;
            }
        }
        const char *csep = "";
        for (int j = 0; j < 26 * 26; j++)
            if (cf[j] + ct[j]) {
                fprintf(f, "%s\"%c%c\":[%" PRIu64 ",%" PRIu64 "]", csep, 'A' + j / 26, 'A' + j % 26, cf[j], ct[j]);
                csep = ",";
            }
    }
    /* Events: every drop, restoration and gap; not_measurable ones (a quiet
     * key, often thousands with --by asn) up to a few hundred. */
    fputs("},\"events\":[", f);
    uint64_t nm = 0, left_out = 0;
    const char *esep = "";
    for (size_t i = 0; i < r->nev; i++) {
        const struct gt_event *e = &r->ev[i];
        if (e->type == GT_EV_NOT_MEASURABLE && ++nm > GT_REPORT_MAX_QUIET_EVENTS) {
            left_out++;
            continue;
        }
        fputs(esep, f);
        esep = ",";
        write_event(f, r, e);
        if (e->key < nk && (e->type == GT_EV_DROP_TO_ZERO || e->type == GT_EV_RESTORED))
            chart[e->key] = 3;      /* an outage: charted (the busiest GT_REPORT_MAX_EVENT_CHARTS) */
    }
    fprintf(f, "],\"events_left_out\":%" PRIu64, left_out);
    /* Charts: keys with an outage, then the top keys (home networks are not a place). */
    unsigned top = 0, with_ev = 0;
    for (uint32_t i = 0; i < n; i++)
        if (chart[order[i]] == 3)
            chart[order[i]] = with_ev++ < GT_REPORT_MAX_EVENT_CHARTS ? 1 : 0;
    for (uint32_t i = 0; i < n && top < r->o.top_charts; i++)
        if (!r->keys->keys[order[i]].home && !chart[order[i]]) {
            chart[order[i]] = 2;
            top++;
        }
    fputs(",\"charts\":[", f);
    /* Keys with an event first: they are what the reader came for. */
    const char *sep = "";
    for (uint32_t i = 0; i < 2 * n; i++) {
        uint32_t k = order[i % n];
        if (chart[k] != (i < n ? 1 : 2))
            continue;
        fprintf(f, "%s{", sep);
        key_fields(f, r, k);
        fprintf(f, ",\"event\":%s", chart[k] == 1 ? "true" : "false");
        write_series(f, r, k);
        fputc('}', f);
        sep = ",";
    }
    fputs("]}", f);
    free(order);
    free(chart);
    return 0;
}
