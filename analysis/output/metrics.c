/* The Prometheus exporter (metrics.h): cumulative per-key counters kept on
 * the collector thread (the bin sink), published per bin through a seqlock;
 * metrics_render.c renders that snapshot on the HTTP thread. */
#include "metrics_int.h"
#include "geotap/report.h"
#include "geotap/sensor.h"
#include "geotap/seqlock.h"
#include "gt_config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
        r[own ? K_IDLE : O_IDLE] = gt_seqlock_word(gt_seqlock_double(r[own ? K_IDLE : O_IDLE]) + c->idle_ms / 1000.0 / workers);
        if (b->last_ns && b->last_ns[k] > (int64_t)r[K_LAST])
            r[K_LAST] = (uint64_t)b->last_ns[k];
        memcpy(r + K_ID, key, sizeof *key);
        uint64_t fl = (r[K_FLAGS] | F_SEEN | (own ? F_OWN : F_OTHER)) & ~(uint64_t)(F_DOWN | F_UNMEAS);
        if (m->o.anomaly) {
            r[K_RATE] = gt_seqlock_word(gt_anomaly_expected_rate(m->o.anomaly, k));
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
