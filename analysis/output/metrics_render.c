/* The Prometheus exporter's rendering (metrics.h): on the HTTP thread, from
 * one consistent copy of the snapshot metrics.c publishes per bin, never
 * from the collector's records or the key table (which watch grows). */
#include "metrics_int.h"
#include "geotap/metric_names.h"
#include "geotap/report.h"
#include "geotap/sensor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct view {
    const struct gt_metrics *m;
    uint64_t hdr[HDR];
    uint64_t *k;                    /* [n][KW] */
    uint32_t n;
    struct gt_key *keys;            /* [n] from the snapshot */
    uint32_t *grp;                  /* seen keys ever summed into "other", by label without the ASN */
    uint32_t ngrp;
};

/* The HELP and TYPE of name, shown as shown. */
static int family_as(FILE *f, const char *name, const char *shown)
{
#define X(nm, type, labels, help) if (!strcmp(name, nm)) { \
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", shown, help, shown, type); return 0; }
    GT_METRICS(X)
#undef X
    return -1;
}

int gt_metrics_family(FILE *f, const char *name)
{
    return family_as(f, name, name);
}

/* name as served: with the prefix instead of "geotap_" when one is set. */
static const char *served(const struct gt_metrics *m, const char *name, char *buf, size_t n)
{
    if (!m->o.prefix || strncmp(name, "geotap_", 7))
        return name;
    snprintf(buf, n, "%s%s", m->o.prefix, name + 7);
    return buf;
}

/* The family's HELP and TYPE under its served name; returns that name. */
static const char *family(const struct gt_metrics *m, FILE *f, const char *name, char *buf, size_t n)
{
    const char *s = served(m, name, buf, n);
    family_as(f, name, s);
    return s;
}

/* The key's labels: its dimensions, the ASN as asn (own series) or "other". */
static void labels(FILE *f, const struct view *v, uint32_t k, int other, const char *first)
{
    const struct gt_key *key = &v->keys[k];
    unsigned dims = v->m->dims;
    const char *sep = first ? "," : "";
    if (first)
        fputs(first, f);
    if (dims & GT_DIM_COUNTRY) {
        if (key->home)
            fprintf(f, "%scountry=\"home\"", sep);
        else
            fprintf(f, "%scountry=\"%.2s\"", sep, key->cc);
        sep = ",";
    }
    if ((dims & GT_DIM_ASN) && (v->m->o.asn_top || key->home)) {
        if (key->home)
            fprintf(f, "%sasn=\"home\"", sep);
        else if (other)
            fprintf(f, "%sasn=\"other\"", sep);
        else
            fprintf(f, "%sasn=\"%" PRIu32 "\"", sep, key->asn);
        sep = ",";
    }
    if (dims & GT_DIM_UPSTREAM) {
        const char *up = key->home ? "home" : key->upstream ? gt_classifier_upstream_name(v->m->o.cls, key->upstream) : "";
        fprintf(f, "%supstream=\"", sep);
        gt_metrics_escape(f, up ? up : "");
        fputc('"', f);
    }
}

static int cmp_grp(const void *a, const void *b, void *ctx)
{
    const struct gt_key *ks = ctx;
    const struct gt_key *x = &ks[*(const uint32_t *)a], *y = &ks[*(const uint32_t *)b];
    if (x->home != y->home) return x->home - y->home;
    int c = memcmp(x->cc, y->cc, 2);
    if (c) return c;
    return (x->upstream > y->upstream) - (x->upstream < y->upstream);
}

static int same_grp(const struct view *v, uint32_t a, uint32_t b)
{
    return cmp_grp(&a, &b, v->keys) == 0;
}

/* "name{labels} " of key k's series (other: its asn="other" group's). */
static void series(FILE *f, const struct view *v, const char *name, uint32_t k, int other, const char *dir)
{
    fprintf(f, "%s{", name);
    labels(f, v, k, other, dir);
    fputs("} ", f);
}

/* A counter family per key: own series, then the "other" sums per group.
 * col: the record's field (own; other = col + O_PF - K_PF); dir: label or NULL. */
static void counter_rows(FILE *f, const struct view *v, const char *name, int col, const char *dir, int is_dbl)
{
    for (uint32_t k = 0; k < v->n; k++) {
        const uint64_t *r = v->k + (size_t)k * KW;
        if (!(r[K_FLAGS] & F_OWN))
            continue;
        series(f, v, name, k, 0, dir);
        if (is_dbl)
            fprintf(f, "%.3f\n", gt_seqlock_double(r[col]));
        else
            fprintf(f, "%" PRIu64 "\n", r[col]);
    }
    int ocol = col == K_IDLE ? O_IDLE : col + O_PF - K_PF;
    for (uint32_t i = 0; i < v->ngrp;) {
        uint32_t j = i;
        uint64_t sum = 0;
        double dsum = 0;
        for (; j < v->ngrp && same_grp(v, v->grp[i], v->grp[j]); j++) {
            const uint64_t *r = v->k + (size_t)v->grp[j] * KW;
            sum += r[ocol];
            dsum += gt_seqlock_double(r[ocol]);
        }
        series(f, v, name, v->grp[i], 1, dir);
        if (is_dbl)
            fprintf(f, "%.3f\n", dsum);
        else
            fprintf(f, "%" PRIu64 "\n", sum);
        i = j;
    }
}

static void gauge_rows(FILE *f, const struct view *v, const char *name, int what)
{
    for (uint32_t k = 0; k < v->n; k++) {
        const uint64_t *r = v->k + (size_t)k * KW;
        if (!(r[K_FLAGS] & F_OWN))
            continue;
        series(f, v, name, k, 0, NULL);
        if (what == K_RATE)
            fprintf(f, "%.6g\n", gt_seqlock_double(r[K_RATE]));
        else if (what == K_LAST)
            fprintf(f, "%.3f\n", r[K_LAST] / 1e9);
        else if (what == F_DOWN)
            fprintf(f, "%d\n", !(r[K_FLAGS] & F_DOWN));
        else
            fprintf(f, "%d\n", !(r[K_FLAGS] & F_UNMEAS));
    }
    if (what != K_LAST)
        return;
    for (uint32_t i = 0; i < v->ngrp;) {
        uint32_t j = i;
        uint64_t mx = 0;
        for (; j < v->ngrp && same_grp(v, v->grp[i], v->grp[j]); j++)
            if (v->k[(size_t)v->grp[j] * KW + K_LAST] > mx)
                mx = v->k[(size_t)v->grp[j] * KW + K_LAST];
        series(f, v, name, v->grp[i], 1, NULL);
        fprintf(f, "%.3f\n", mx / 1e9);
        i = j;
    }
}

/* One consistent copy of the snapshot. */
static int snapshot(struct gt_metrics *m, struct view *v)
{
    for (;;) {
        uint64_t seq = gt_seqlock_read(&m->pub, 0, v->hdr, HDR);
        uint32_t n = (uint32_t)v->hdr[H_NKEYS];
        uint64_t *k = realloc(v->k, ((size_t)n * KW + 1) * sizeof *k);
        if (!k)
            return -1;
        v->k = k;
        gt_seqlock_read(&m->pub, HDR, v->k, (size_t)n * KW);
        if (gt_seqlock_same(&m->pub, seq)) {
            v->n = n;
            return 0;
        }
    }
}

int gt_metrics_render(struct gt_metrics *m, FILE *f)
{
    struct view v = { .m = m };
    if (snapshot(m, &v) != 0)
        return -1;
    v.grp = malloc(((size_t)v.n + 1) * sizeof *v.grp);
    v.keys = malloc(((size_t)v.n + 1) * sizeof *v.keys);
    if (!v.grp || !v.keys) {
        free(v.k), free(v.grp), free(v.keys);
        return -1;
    }
    for (uint32_t k = 0; k < v.n; k++)
        memcpy(&v.keys[k], v.k + (size_t)k * KW + K_ID, sizeof *v.keys);
    for (uint32_t k = 0; k < v.n; k++)
        if (v.k[(size_t)k * KW + K_FLAGS] & F_OTHER)
            v.grp[v.ngrp++] = k;
    qsort_r(v.grp, v.ngrp, sizeof *v.grp, cmp_grp, v.keys);

    static const struct { const char *name; int col; const char *dir; int dbl; } counters[] = {
        { "geotap_packets_total", K_PF, "direction=\"from\"", 0 },
        { "geotap_packets_total", K_PT, "direction=\"to\"", 0 },
        { "geotap_bytes_total", K_BF, "direction=\"from\"", 0 },
        { "geotap_bytes_total", K_BT, "direction=\"to\"", 0 },
        { "geotap_flow_starts_total", K_ST, NULL, 0 },
        { "geotap_flow_idle_seconds_total", K_IDLE, NULL, 1 },
    };
    char nb[96];
    const char *N = NULL;
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
        if (i == 0 || strcmp(counters[i].name, counters[i - 1].name))
            N = family(m, f, counters[i].name, nb, sizeof nb);
        counter_rows(f, &v, N, counters[i].col, counters[i].dir, counters[i].dbl);
    }
    N = family(m, f, "geotap_bins_total", nb, sizeof nb);
    fprintf(f, "%s %" PRIu64 "\n", N, v.hdr[H_BINS]);
    if (v.hdr[H_BINS]) {    /* the same snapshot as the counters: the time they are as of */
        N = family(m, f, "geotap_last_bin_end_timestamp_seconds", nb, sizeof nb);
        fprintf(f, "%s %" PRId64 "\n", N, (int64_t)v.hdr[H_LAST_END]);
    }
    N = family(m, f, "geotap_keys", nb, sizeof nb);
    fprintf(f, "%s %" PRIu64 "\n", N, v.hdr[H_NKEYS]);
    const char *ifc = m->o.interface ? m->o.interface : "";
    static const char *const results[] = { "ip", "non_ip", "truncated", "malformed" };
    if (!m->o.no_capture) {
        gt_metrics_family(f, "geotap_frames_total");
        for (int i = 0; i < 4; i++) {
            fputs("geotap_frames_total{interface=\"", f);
            gt_metrics_escape(f, ifc);
            fprintf(f, "\",result=\"%s\"} %" PRIu64 "\n", results[i], v.hdr[H_IP + i]);
        }
        gt_metrics_family(f, "geotap_capture_drops_total");
        fputs("geotap_capture_drops_total{interface=\"", f);
        gt_metrics_escape(f, ifc);
        fprintf(f, "\"} %" PRIu64 "\n", v.hdr[H_DROPS]);
    }
    N = family(m, f, "geotap_last_packet_timestamp_seconds", nb, sizeof nb);
    gauge_rows(f, &v, N, K_LAST);
    if (m->o.anomaly) {
        N = family(m, f, "geotap_key_state", nb, sizeof nb);
        gauge_rows(f, &v, N, F_DOWN);
        N = family(m, f, "geotap_key_measurable", nb, sizeof nb);
        gauge_rows(f, &v, N, F_UNMEAS);
        N = family(m, f, "geotap_expected_rate", nb, sizeof nb);
        gauge_rows(f, &v, N, K_RATE);
        static const char *const types[] = { "", "drop_to_zero", "restored", "capture_gap", "not_measurable" };
        N = family(m, f, "geotap_events_total", nb, sizeof nb);
        for (int t = 1; t < 5; t++)
            fprintf(f, "%s{type=\"%s\"} %" PRIu64 "\n", N, types[t],
                    atomic_load_explicit(&m->events[t], memory_order_relaxed));
    }
    if (m->o.sensor) {
        struct gt_sensor_stats st;
        gt_sensor_stats(m->o.sensor, &st);
        gt_metrics_family(f, "geotap_reloads_total");
        fprintf(f, "geotap_reloads_total{result=\"success\"} %" PRIu64 "\n", st.reloads);
        fprintf(f, "geotap_reloads_total{result=\"failure\"} %" PRIu64 "\n", st.reloads_failed);
        gt_metrics_family(f, "geotap_state_saves_total");
        fprintf(f, "geotap_state_saves_total{result=\"success\"} %" PRIu64 "\n", st.state_saves);
        fprintf(f, "geotap_state_saves_total{result=\"failure\"} %" PRIu64 "\n", st.state_save_errors);
        static const char *const fam[] = { "geotap_alerts_sent_total", "geotap_alerts_failed_total",
                                           "geotap_alerts_dropped_total", "geotap_output_errors_total",
                                           "geotap_output_lost_total" };
        const uint64_t val[] = { st.alerts_sent, st.alerts_failed, st.alerts_dropped, st.output_errors,
                                 st.output_lost };
        for (int i = 0; i < 5; i++) {
            gt_metrics_family(f, fam[i]);
            fprintf(f, "%s %" PRIu64 "\n", fam[i], val[i]);
        }
    }
    if (m->extra)
        m->extra(m->extra_ctx, f);
    char info[INFO_WORDS * 8 + 1];
    memcpy(info, v.hdr + H_INFO, INFO_WORDS * 8);
    info[INFO_WORDS * 8] = 0;
    gt_metrics_family(f, "geotap_build_info");
    fprintf(f, "geotap_build_info{%s} 1\n", info);
    gt_metrics_family(f, "process_start_time_seconds");
    fprintf(f, "process_start_time_seconds %.2f\n", m->start_time);
    free(v.k);
    free(v.grp);
    free(v.keys);
    return ferror(f) ? -1 : 0;
}
