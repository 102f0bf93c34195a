/* The Prometheus exporter (metrics.h): cumulative per-key counters kept on
 * the collector thread, published per bin through a seqlock, rendered on
 * the HTTP thread in the text exposition format. */
#include "geotap/metrics.h"
#include "geotap/metric_names.h"
#include "geotap/report.h"
#include "geotap/sensor.h"
#include "geotap/seqlock.h"
#include "gt_config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One key's record, in the private accumulator and the snapshot alike:
 * counts while the key had its own series (own) or was summed into
 * asn="other" (oth), so every series only grows and the sum is the total. */
/* K_ID: the key itself: the renderer never reads the (growing) key table. */
enum { K_PF, K_BF, K_PT, K_BT, K_ST, O_PF, O_BF, O_PT, O_BT, O_ST, K_IDLE, O_IDLE, K_LAST, K_RATE, K_FLAGS, K_ID,
       K_ID_END = K_ID + 1, KW };
_Static_assert(sizeof(struct gt_key) <= 8 * (K_ID_END - K_ID + 1), "a key fits its words");
enum { F_SEEN = 1, F_OWN = 2, F_OTHER = 4, F_DOWN = 8, F_UNMEAS = 16 };
/* The snapshot's header words; the build-info labels follow as text. */
enum { H_NKEYS, H_BINS, H_IP, H_NONIP, H_TRUNC, H_MAL, H_DROPS, H_LAST_END, H_INFO, INFO_WORDS = 96, HDR = H_INFO + INFO_WORDS };

struct gt_metrics {
    struct gt_metrics_opts o;
    uint32_t cap;                   /* keys the snapshot holds at most */
    unsigned dims;                  /* the key table's (fixed) */
    uint32_t n;                     /* keys seen in bins so far */
    uint64_t *acc;                  /* [cap][KW], collector only */
    uint64_t hdr[HDR];              /* collector only */
    uint32_t *members;              /* ASNs with their own series, sorted; [asn_top] */
    uint32_t *unmeas;               /* [cap] scratch: the detector's not_measurable keys */
    uint32_t nmembers;
    uint64_t reloads_seen;
    _Atomic uint64_t events[5];     /* by gt_event_type; collector writes, renderer reads */
    double start_time;
    void (*extra)(void *ctx, FILE *f);
    void *extra_ctx;
    struct gt_seqlock pub;
    _Atomic uint64_t *words;        /* [HDR + cap * KW] */
};

static double dbl(uint64_t w) { double d; memcpy(&d, &w, sizeof d); return d; }
static uint64_t wrd(double d) { uint64_t w; memcpy(&w, &d, sizeof w); return w; }

/* Start of this process (/proc: boot time + start ticks), else now. */
static double process_start(void)
{
    double now = (double)time(NULL);
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0, btime = 0;
    /* after ") ": field 3 (state) ... field 22 (starttime) */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
        return now;
    if (!(f = fopen("/proc/stat", "r")))
        return now;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return btime && hz > 0 ? (double)btime + (double)ticks / (double)hz : now;
}

void gt_metrics_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* geotap_build_info's labels, into the header (recomputed at reloads: the
 * databases' build dates may have changed). */
static void set_info(struct gt_metrics *m)
{
    char *b = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&b, &len);
    if (!f)
        return;
    fprintf(f, "version=\"%s\"", GT_VERSION);
    if (m->o.country_db) {
        fputs(",country_db=\"", f);
        gt_metrics_escape(f, m->o.country_db);
        fprintf(f, "\",country_db_build_epoch=\"%" PRId64 "\"", gt_db_build_epoch(m->o.country_db));
    }
    if (m->o.n_asn > 0) {
        fputs(",asn_db=\"", f);
        for (int i = 0; i < m->o.n_asn; i++) {
            fputs(i ? "," : "", f);
            gt_metrics_escape(f, m->o.asn_dbs[i]);
        }
        fprintf(f, "\",asn_db_build_epoch=\"%" PRId64 "\"", gt_db_build_epoch(m->o.asn_dbs[0]));
    }
    fclose(f);
    memset(m->hdr + H_INFO, 0, INFO_WORDS * 8);
    if (b && len < INFO_WORDS * 8)
        memcpy(m->hdr + H_INFO, b, len);
    free(b);
}

struct gt_metrics *gt_metrics_new(const struct gt_metrics_opts *o)
{
    struct gt_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->o = *o;
    m->dims = o->keys->dims;
    m->cap = o->max_keys > o->keys->nkeys ? o->max_keys : o->keys->nkeys;
    size_t nw = HDR + (size_t)m->cap * KW;
    m->acc = calloc((size_t)m->cap * KW + 1, sizeof *m->acc);
    m->words = malloc(nw * sizeof *m->words);
    m->members = calloc((size_t)o->asn_top + 1, sizeof *m->members);
    m->unmeas = calloc((size_t)m->cap + 1, sizeof *m->unmeas);
    if (!m->acc || !m->words || !m->members || !m->unmeas) {
        gt_metrics_free(m);
        return NULL;
    }
    gt_seqlock_init(&m->pub, m->words, nw);
    for (int i = 0; i < 5; i++)
        atomic_init(&m->events[i], 0);
    m->start_time = process_start();
    set_info(m);
    gt_seqlock_begin(&m->pub);
    gt_seqlock_store(&m->pub, 0, m->hdr, HDR);
    gt_seqlock_end(&m->pub);
    return m;
}

void gt_metrics_free(struct gt_metrics *m)
{
    if (!m)
        return;
    free(m->acc);
    free(m->words);
    free(m->members);
    free(m->unmeas);
    free(m);
}

void gt_metrics_extra(struct gt_metrics *m, void (*fn)(void *ctx, FILE *f), void *ctx)
{
    m->extra = fn;
    m->extra_ctx = ctx;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int is_member(const struct gt_metrics *m, uint32_t asn)
{
    return m->nmembers && bsearch(&asn, m->members, m->nmembers, sizeof asn, cmp_u32) != NULL;
}

struct asn_tot { uint32_t asn; uint64_t pkts; };

static int cmp_tot(const void *a, const void *b)
{
    const struct asn_tot *x = a, *y = b;
    if (x->pkts != y->pkts)
        return x->pkts > y->pkts ? -1 : 1;
    return (x->asn > y->asn) - (x->asn < y->asn);
}

static int cmp_asn(const void *a, const void *b)
{
    const struct asn_tot *x = a, *y = b;
    return (x->asn > y->asn) - (x->asn < y->asn);
}

/* Fill the ASN set up to asn_top with the ASNs of most packets so far (this
 * bin included). Members stay: their series never stop counting. */
static void choose_members(struct gt_metrics *m, const struct gt_bin *b, uint32_t n)
{
    struct asn_tot *t = malloc(((size_t)n + 1) * sizeof *t);
    uint32_t nt = 0;
    if (!t)
        return;
    for (uint32_t k = 0; k < n; k++) {
        const struct gt_key *key = &m->o.keys->keys[k];
        const uint64_t *r = m->acc + (size_t)k * KW;
        const struct gt_counts *c = &b->counts[k];
        uint64_t p = r[K_PF] + r[K_PT] + r[O_PF] + r[O_PT] + c->pkts_from + c->pkts_to;
        if (!key->home && p)
            t[nt++] = (struct asn_tot){ key->asn, p };
    }
    qsort(t, nt, sizeof *t, cmp_asn);
    uint32_t u = 0;
    for (uint32_t i = 0; i < nt; i++) {
        if (u && t[u - 1].asn == t[i].asn)
            t[u - 1].pkts += t[i].pkts;
        else
            t[u++] = t[i];
    }
    qsort(t, u, sizeof *t, cmp_tot);
    for (uint32_t i = 0; i < u && m->nmembers < m->o.asn_top; i++)
        if (!is_member(m, t[i].asn)) {
            m->members[m->nmembers++] = t[i].asn;
            qsort(m->members, m->nmembers, sizeof *m->members, cmp_u32);
        }
    free(t);
}

static void publish(struct gt_metrics *m)
{
    m->hdr[H_NKEYS] = m->n;
    gt_seqlock_begin(&m->pub);
    gt_seqlock_store(&m->pub, 0, m->hdr, HDR);
    gt_seqlock_store(&m->pub, HDR, m->acc, (size_t)m->n * KW);
    gt_seqlock_end(&m->pub);
}

static void on_bin(void *self, const struct gt_bin *b)
{
    struct gt_metrics *m = self;
    uint32_t n = b->nkeys < m->cap ? b->nkeys : m->cap;
    if (n > m->o.keys->nkeys)
        n = m->o.keys->nkeys;
    if (n > m->n)
        m->n = n;
    int asn_dim = (m->o.keys->dims & GT_DIM_ASN) != 0;
    if (asn_dim && m->nmembers < m->o.asn_top)
        choose_members(m, b, n);
    double workers = b->stats.workers ? b->stats.workers : 1;
    for (uint32_t k = 0; k < n; k++) {
        const struct gt_counts *c = &b->counts[k];
        uint64_t *r = m->acc + (size_t)k * KW;
        if (!(r[K_FLAGS] & F_SEEN) && !(c->pkts_from | c->pkts_to))
            continue;
        const struct gt_key *key = &m->o.keys->keys[k];
        int own = !asn_dim || key->home || is_member(m, key->asn);
        uint64_t *d = r + (own ? K_PF : O_PF);
        d[0] += c->pkts_from;
        d[1] += c->bytes_from;
        d[2] += c->pkts_to;
        d[3] += c->bytes_to;
        d[4] += c->starts;
        r[own ? K_IDLE : O_IDLE] = wrd(dbl(r[own ? K_IDLE : O_IDLE]) + c->idle_ms / 1000.0 / workers);
        if (b->last_ns && b->last_ns[k] > (int64_t)r[K_LAST])
            r[K_LAST] = (uint64_t)b->last_ns[k];
        memcpy(r + K_ID, key, sizeof *key);
        uint64_t fl = (r[K_FLAGS] | F_SEEN | (own ? F_OWN : F_OTHER)) & ~(uint64_t)(F_DOWN | F_UNMEAS);
        if (m->o.anomaly) {
            r[K_RATE] = wrd(gt_anomaly_expected_rate(m->o.anomaly, k));
            if (gt_anomaly_key_down(m->o.anomaly, k))
                fl |= F_DOWN;
        }
        r[K_FLAGS] = fl;
    }
    if (m->o.anomaly) {
        uint32_t nm = gt_anomaly_not_measurable(m->o.anomaly, m->unmeas, m->cap);
        for (uint32_t i = 0; i < nm && i < m->cap; i++)
            if (m->unmeas[i] < n)
                m->acc[(size_t)m->unmeas[i] * KW + K_FLAGS] |= F_UNMEAS;
    }
    const struct gt_bin_stats *s = &b->stats;
    m->hdr[H_BINS]++;
    m->hdr[H_LAST_END] = (uint64_t)(b->start + b->width);
    m->hdr[H_IP] += s->ip;
    m->hdr[H_NONIP] += s->nonip;
    m->hdr[H_TRUNC] += s->truncated;
    m->hdr[H_MAL] += s->malformed;
    m->hdr[H_DROPS] += s->drops;
    if (m->o.sensor) {
        struct gt_sensor_stats st;
        gt_sensor_stats(m->o.sensor, &st);
        if (st.reloads != m->reloads_seen) {
            m->reloads_seen = st.reloads;
            set_info(m);
        }
    }
    publish(m);
}

static void on_event(void *self, const struct gt_event *ev)
{
    struct gt_metrics *m = self;
    unsigned t = (unsigned)ev->type;
    if (t < 5)   /* one writer: a plain increment, published by the store */
        atomic_store_explicit(&m->events[t], atomic_load_explicit(&m->events[t], memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

static void sink_free(void *self)
{
    gt_metrics_free(self);
}

struct gt_sink gt_metrics_sink(struct gt_metrics *m)
{
    struct gt_sink s = { "metrics", m, on_bin, on_event, NULL, sink_free, 1 };
    return s;
}

/* ---- rendering (HTTP thread) ---- */

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
            fprintf(f, "%.3f\n", dbl(r[col]));
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
            dsum += dbl(r[ocol]);
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
            fprintf(f, "%.6g\n", dbl(r[K_RATE]));
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
