/* geotap watch: fleet-wide bins from a Prometheus-compatible store
 * (include/geotap/fleet_watch.h); the sensors' health and holds are in
 * watch_health.c. One code path for live and replay: every stretch of bins
 * is read with query_range, step = width. */
#include "geotap/fleet_watch.h"
#include "geotap/attribution.h"
#include "geotap/events.h"
#include "geotap/output.h"
#include "watch_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct gt_keys *gt_watch_keys(const gt_watch *w) { return &w->ks.keys; }
void gt_watch_set_events(gt_watch *w, FILE *f) { w->ev = f; }

/* The series' key: added when add, else -1 when not in the table. */
static long series_key(gt_watch *w, const struct gt_prom_series *s, int add)
{
    struct gt_key k;
    memset(&k, 0, sizeof k);
    unsigned li = 0;
    for (unsigned d = GT_DIM_COUNTRY; d <= GT_DIM_ASN; d <<= 1)
        if (w->o.dims & d)
            if (gt_key_parse_label(&k, d, s->label[li++]) != 0)
                return -1;
    return add ? gt_keyset_id(&w->ks, &k) : gt_keyset_find(&w->ks, &k);
}

static long find_sensor(gt_watch *w, const char *name)
{
    for (size_t i = 0; i < w->nsen; i++)
        if (!strcmp(w->s[i].name, name))
            return (long)i;
    return -1;
}

/* A per-key row from had to want entries, the new ones zero. 0 or -1. */
static int grow_row(double **row, uint32_t had, uint32_t want)
{
    double *r = realloc(*row, want * sizeof *r);
    if (!r)
        return -1;
    memset(r + had, 0, (want - had) * sizeof *r);
    *row = r;
    return 0;
}

/* Room for the keys and sensors known: per-chunk arrays afresh (a chunk
 * fills them after this), per-sensor and per-key history kept. 0 or -1. */
static int fit(gt_watch *w)
{
    uint32_t nk = w->ks.keys.nkeys ? w->ks.keys.nkeys : 1;
    size_t ns = w->nsen ? w->nsen : 1;
    if (nk <= w->kcap && ns <= w->scap)
        return 0;
    uint32_t kc = nk > w->kcap ? nk + nk / 2 + 16 : w->kcap;
    size_t sc = ns > w->scap ? ns + ns / 2 + 4 : w->scap;
    if (grow_row(&w->tot, w->kcap, kc) || grow_row(&w->tst, w->kcap, kc))
        return -1;
    for (size_t i = 0; i < w->nsen; i++)
        if (grow_row(&w->s[i].pk, w->s[i].pk ? w->kcap : 0, kc) || grow_row(&w->s[i].st, w->s[i].st ? w->kcap : 0, kc))
            return -1;
    w->kcap = kc;
    w->scap = sc;
    free(w->c); free(w->fn); free(w->ln); free(w->spk); free(w->sst); free(w->sdown); free(w->sfr); free(w->sdr);
    w->c = calloc((size_t)CHUNK * kc, sizeof *w->c);
    w->fn = calloc((size_t)CHUNK * kc, sizeof *w->fn);
    w->ln = calloc((size_t)CHUNK * kc, sizeof *w->ln);
    w->spk = calloc((size_t)CHUNK * sc * kc, sizeof *w->spk);
    w->sst = calloc((size_t)CHUNK * sc * kc, sizeof *w->sst);
    w->sdown = calloc((size_t)CHUNK * sc, 1);
    w->sfr = calloc((size_t)CHUNK * sc, sizeof *w->sfr);
    w->sdr = calloc((size_t)CHUNK * sc, sizeof *w->sdr);
    return w->c && w->fn && w->ln && w->spk && w->sst && w->sdown && w->sfr && w->sdr ? 0 : -1;
}

/* The series' key and sensor, added when new (keys and sensors that appear
 * while watching join from their first chunk). 0, or -1 to skip it. */
static int learn_series(gt_watch *w, const struct gt_prom_series *s)
{
    if (series_key(w, s, 1) < 0)
        return -1;
    if (find_sensor(w, s->label[w->nl]) >= 0)
        return 0;
    struct sensor *ns = realloc(w->s, (w->nsen + 1) * sizeof *ns);
    if (!ns)
        return -1;
    w->s = ns;
    memset(&w->s[w->nsen], 0, sizeof *w->s);
    snprintf(w->s[w->nsen].name, sizeof w->s->name, "%s", s->label[w->nl]);
    if (w->kcap && (!(w->s[w->nsen].pk = calloc(w->kcap, sizeof *w->s->pk)) ||
                    !(w->s[w->nsen].st = calloc(w->kcap, sizeof *w->s->st)))) {
        free(w->s[w->nsen].pk);
        return -1;
    }
    w->nsen++;
    return 0;
}

/* A key of the state file as watch would have made it from its labels
 * (by this --by: no upstream, the dimensions asked only): it joins. */
static int join_key(void *ctx, const struct gt_key *k)
{
    gt_watch *w = ctx;
    unsigned d = w->o.dims;
    int cc = k->cc[0] >= 'A' && k->cc[0] <= 'Z' && k->cc[1] >= 'A' && k->cc[1] <= 'Z';
    int mine = k->home ? !k->cc[0] && !k->asn && !k->upstream
                       : !k->upstream && ((d & GT_DIM_COUNTRY) ? cc : !k->cc[0]) && ((d & GT_DIM_ASN) || !k->asn);
    return mine && gt_keyset_id(&w->ks, k) < 0 ? -1 : 0;
}

int gt_watch_join_state(gt_watch *w, const char *path, char *err, size_t errlen)
{
    int rc = gt_anomaly_state_keys(path, w->o.width, NULL, join_key, w, err, errlen);
    if (rc > 0 && fit(w) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return rc;
}

gt_watch *gt_watch_new(const struct gt_watch_opts *o, int64_t from, int64_t to, int64_t lookback,
                       char *err, size_t errlen)
{
    gt_watch *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->o = *o;
    if (!w->o.sensor_label) w->o.sensor_label = "instance";
    if (!w->o.name) w->o.name = "watch";
    if (!(w->o.share > 0)) w->o.share = 0.5;
    if (!(w->o.max_hold_s > 0)) w->o.max_hold_s = 3600;
    if (!w->o.width) w->o.width = 60;
    if (w->o.lag >= w->o.width) w->o.lag = w->o.width - 1;
    gt_keyset_init(&w->ks, o->dims);
    snprintf(w->by, sizeof w->by, "%s%s%s", o->dims & GT_DIM_COUNTRY ? "country" : "",
             (o->dims & GT_DIM_COUNTRY) && (o->dims & GT_DIM_ASN) ? "," : "", o->dims & GT_DIM_ASN ? "asn" : "");
    if (o->dims & GT_DIM_COUNTRY) w->labels[w->nl++] = "country";
    if (o->dims & GT_DIM_ASN) w->labels[w->nl++] = "asn";
    w->labels[w->nl] = w->o.sensor_label;
    if (!o->dims || (o->dims & GT_DIM_UPSTREAM)) {
        /* an upstream's name is its sensor's own (routes table, upstream
         * map): fleet sums by it would add unrelated links together */
        snprintf(err, errlen, "--by: keys by country and/or asn only (upstream names are each sensor's own: "
                 "summed across sensors they would add unrelated links)");
        gt_watch_free(w);
        return NULL;
    }
    if (!(w->p = gt_prom_new(o->url, o->timeout_s, err, errlen))) {
        gt_watch_free(w);
        return NULL;
    }
    /* the keys and sensors of the first bin and the lookback before it
     * (more join while watching; when there are none yet, those of the
     * whole stretch asked), and the sensors' key tables for the budget */
    char q[512];
    const struct gt_prom_series *s;
    size_t n;
    int64_t range = lookback + w->o.width, at = from + w->o.width + w->o.lag;
    for (int pass = 0; pass < 2 && !w->ks.keys.nkeys; pass++) {
        if (pass) {
            range = to - from + lookback + w->o.width;
            at = to + w->o.lag;
        }
        snprintf(q, sizeof q, "count by (%s, %s) (last_over_time(geotap_packets_total[%" PRId64 "s]))", w->by,
                 w->o.sensor_label, range);
        if (gt_prom_range(w->p, q, at, at, w->o.width, w->labels, w->nl + 1, &s, &n, err, errlen) != 0) {
            gt_watch_free(w);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            if (learn_series(w, &s[i]) != 0 && series_key(w, &s[i], 0) >= 0) {
                snprintf(err, errlen, "out of memory");
                gt_watch_free(w);
                return NULL;
            }
    }
    if (!w->ks.keys.nkeys) {
        snprintf(err, errlen, "%s: no geotap_packets_total series by %s in the time asked", o->url, w->by);
        gt_watch_free(w);
        return NULL;
    }
    snprintf(q, sizeof q, "max(max_over_time(geotap_keys[%" PRId64 "s]))", range);
    if (gt_prom_range(w->p, q, at, at, w->o.width, NULL, 0, &s, &n, err, errlen) != 0) {
        gt_watch_free(w);
        return NULL;
    }
    if (n && s[0].n && s[0].v[0] >= 1 && s[0].v[0] < UINT32_MAX)
        w->budget = (uint32_t)s[0].v[0];
    if (fit(w) != 0) {
        snprintf(err, errlen, "out of memory");
        gt_watch_free(w);
        return NULL;
    }
    return w;
}

uint32_t gt_watch_budget_keys(const gt_watch *w)
{
    return w->budget > w->ks.keys.nkeys ? w->budget : w->ks.keys.nkeys;
}

void gt_watch_free(gt_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nsen; i++) {
        free(w->s[i].pk);
        free(w->s[i].st);
    }
    free(w->s);
    free(w->tot);
    free(w->tst);
    free(w->c); free(w->fn); free(w->ln); free(w->spk); free(w->sst); free(w->sdown); free(w->sfr); free(w->sdr);
    gt_prom_free(w->p);
    gt_keyset_free(&w->ks);
    free(w);
}

static uint64_t count_of(double v)
{
    return v > 0 && isfinite(v) ? (uint64_t)llround(v) : 0;
}

/* Which bin of the chunk a sample at time t (a bin end) belongs to, -1 if none. */
static long bin_of(const gt_watch *w, int64_t a, uint32_t nb, double t)
{
    double i = (t - (double)a - w->o.lag) / w->o.width - 1;
    long k = lround(i);
    return k >= 0 && k < (long)nb && fabs(i - (double)k) < 1e-6 ? k : -1;
}

/* The counter's growth over the bin, per series: the sensors' counters step
 * once per closed bin, so the difference of two instant values is exact,
 * where increase() would extrapolate (Prometheus). A counter reset (a
 * sensor restarted) counts from zero, and so does a series new in the bin
 * (none within the hold before it); a series back from a stretch unscraped
 * adds nothing in its first bin back: what it counted unseen cannot be put
 * in its bins, and all of it in one bin would read as a burst (its keys are
 * held through the stretch, see watch_health.c). */
static void delta(const gt_watch *w, char *buf, size_t n, const char *m)
{
    uint32_t W = w->o.width;
    uint64_t back = (uint64_t)w->o.max_hold_s + W;
    snprintf(buf, n, "((%s - %s offset %us) >= 0 or (%s < %s offset %us) or (%s unless last_over_time(%s[%" PRIu64 "s] offset %us)))",
             m, m, W, m, m, W, m, m, back, W);
}

/* Q_SENSOR first: it names the keys and sensors of the chunk. */
enum { Q_SENSOR, Q_SSTARTS, Q_PKTS, Q_BYTES, Q_STARTS, Q_IDLE, Q_LAST, Q_FIRST, Q_UP, Q_FRAMES, Q_DROPS, NQ };

static void promql(const gt_watch *w, int qi, char *q, size_t qn, const char **lab, unsigned *nl)
{
    char d[640];
    uint32_t W = w->o.width;
    const char *sl = w->o.sensor_label;
    for (unsigned i = 0; i < 4; i++)
        lab[i] = w->labels[i];
    *nl = w->nl;
    switch (qi) {
    case Q_PKTS: case Q_BYTES:
        delta(w, d, sizeof d, qi == Q_PKTS ? "geotap_packets_total" : "geotap_bytes_total");
        snprintf(q, qn, "sum by (%s, direction) (%s)", w->by, d);
        lab[(*nl)++] = "direction";
        break;
    case Q_STARTS: case Q_IDLE:
        delta(w, d, sizeof d, qi == Q_STARTS ? "geotap_flow_starts_total" : "geotap_flow_idle_seconds_total");
        snprintf(q, qn, "sum by (%s) (%s)", w->by, d);
        break;
    case Q_LAST: case Q_FIRST:
        /* of this bin: at or after its start */
        snprintf(q, qn, "%s by (%s) (%s >= (time() - %u))", qi == Q_LAST ? "max" : "min", w->by,
                 qi == Q_LAST ? "geotap_last_packet_timestamp_seconds" : "geotap_bin_first_packet_timestamp_seconds",
                 W + w->o.lag);
        break;
    case Q_SENSOR: case Q_SSTARTS:
        delta(w, d, sizeof d, qi == Q_SENSOR ? "geotap_packets_total" : "geotap_flow_starts_total");
        snprintf(q, qn, "sum by (%s, %s) (%s)", sl, w->by, d);
        lab[(*nl)++] = sl;
        break;
    case Q_UP:
        /* one second short of the bin: both stores then see the same samples */
        snprintf(q, qn, "min by (%s) (min_over_time(up[%us]))", sl, W > 1 ? W - 1 : 1);
        *nl = 0;
        lab[(*nl)++] = sl;
        break;
    default:
        delta(w, d, sizeof d, qi == Q_FRAMES ? "geotap_frames_total" : "geotap_capture_drops_total");
        snprintf(q, qn, "sum by (%s) (%s)", sl, d);
        *nl = 0;
        lab[(*nl)++] = sl;
        break;
    }
}

static void clear_chunk(gt_watch *w, uint32_t nb)
{
    size_t kb = (size_t)nb * w->kcap, sb = (size_t)nb * w->scap;
    memset(w->c, 0, kb * sizeof *w->c);
    memset(w->fn, 0, kb * sizeof *w->fn);
    memset(w->ln, 0, kb * sizeof *w->ln);
    memset(w->spk, 0, sb * w->kcap * sizeof *w->spk);
    memset(w->sst, 0, sb * w->kcap * sizeof *w->sst);
    memset(w->sdown, 1, sb);        /* down unless up says otherwise */
    memset(w->sfr, 0, sb * sizeof *w->sfr);
    memset(w->sdr, 0, sb * sizeof *w->sdr);
}

static int query_chunk(gt_watch *w, int64_t a, uint32_t nb, char *err, size_t errlen)
{
    uint32_t W = w->o.width, kc;
    size_t sc;
    for (int qi = 0; qi < NQ; qi++) {
        char q[1024];
        const char *lab[4];
        unsigned nl;
        promql(w, qi, q, sizeof q, lab, &nl);
        const struct gt_prom_series *s;
        size_t n;
        if (gt_prom_range(w->p, q, a + W + w->o.lag, a + (int64_t)nb * W + w->o.lag, W, lab, nl, &s, &n, err, errlen) != 0)
            return -1;
        if (qi == Q_SENSOR) {
            for (size_t i = 0; i < n; i++)
                (void)learn_series(w, &s[i]);   /* a bad label or no memory: the series is left out */
            if (fit(w) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            clear_chunk(w, nb);
        }
        kc = w->kcap;
        sc = w->scap;
        for (size_t i = 0; i < n; i++) {
            long k = -1, sen = -1;
            if (qi <= Q_FIRST && (k = series_key(w, &s[i], 0)) < 0)
                continue;
            if (qi <= Q_SSTARTS && (sen = find_sensor(w, s[i].label[w->nl])) < 0)
                continue;
            if (qi > Q_FIRST && (sen = find_sensor(w, s[i].label[0])) < 0)
                continue;
            int to = (qi == Q_PKTS || qi == Q_BYTES) && !strcmp(s[i].label[w->nl], "to");
            for (size_t j = 0; j < s[i].n; j++) {
                long b = bin_of(w, a, nb, s[i].t[j]);
                if (b < 0)
                    continue;
                double v = s[i].v[j];
                size_t bk = (size_t)b * kc + (size_t)k, bs = (size_t)b * sc + (size_t)sen;
                struct gt_counts *c = k >= 0 ? &w->c[bk] : NULL;
                switch (qi) {
                case Q_PKTS: *(to ? &c->pkts_to : &c->pkts_from) = count_of(v); break;
                case Q_BYTES: *(to ? &c->bytes_to : &c->bytes_from) = count_of(v); break;
                case Q_STARTS: c->starts = (uint32_t)count_of(v); break;
                case Q_IDLE: c->idle_ms = (uint32_t)count_of(v * 1000); break;
                case Q_LAST: w->ln[bk] = (int64_t)llround(v * 1e9); break;
                case Q_FIRST: w->fn[bk] = (int64_t)llround(v * 1e9); break;
                case Q_SENSOR: w->spk[bs * kc + (size_t)k] = v; break;
                case Q_SSTARTS: w->sst[bs * kc + (size_t)k] = v; break;
                case Q_UP: w->sdown[bs] = !(v >= 1); break;
                case Q_FRAMES: w->sfr[bs] += count_of(v); break;
                default: w->sdr[bs] += count_of(v); break;
                }
            }
        }
    }
    return 0;
}

void gt_watch_gap_event(const gt_watch *w, FILE *f, int64_t start_ns, int64_t end_ns, const char *why)
{
    char a[40], b[40];
    if (!f)
        return;
    gt_rfc3339_ns(a, sizeof a, start_ns);
    gt_rfc3339_ns(b, sizeof b, end_ns);
    fprintf(f, "{\"type\":\"watch_gap\",\"watcher\":");
    gt_json_string(f, w->o.name);
    fprintf(f, ",\"store\":");
    gt_json_string(f, w->o.url);
    fprintf(f, ",\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":%.3f,\"reason\":", a, b, (double)(end_ns - start_ns) / NS);
    gt_json_string(f, why);
    fputs("}\n", f);
    fflush(f);
}

int gt_watch_run(gt_watch *w, gt_chain *chain, int64_t from, int64_t to, char *err, size_t errlen)
{
    uint32_t W = w->o.width;
    gt_anomaly *det = gt_chain_anomaly(chain);
    for (int64_t a = from; a < to;) {
        uint32_t nb = (uint32_t)((to - a) / W < CHUNK ? (to - a) / W : CHUNK);
        if (!nb)
            break;
        uint32_t had = w->ks.keys.nkeys;
        if (query_chunk(w, a, nb, err, errlen) != 0)
            return -1;
        uint32_t nk = w->ks.keys.nkeys, kc = w->kcap;
        if (nk > had && det) {
            /* keys first seen in this chunk: no history, as analyze meets a new key */
            if (gt_anomaly_keys_grew(det) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            for (uint32_t k = had; k < nk; k++)
                if (gt_key_is_unknown(&w->ks.keys, k))
                    gt_anomaly_ignore_key(det, k);
        }
        for (uint32_t b = 0; b < nb; b++) {
            struct gt_bin bin = { .start = a + (int64_t)b * W, .width = W, .nkeys = nk,
                                  .counts = &w->c[(size_t)b * kc], .last_ns = &w->ln[(size_t)b * kc],
                                  .first_ns = &w->fn[(size_t)b * kc] };
            uint64_t total = 0, frames = 0;
            uint32_t up = 0;
            for (uint32_t k = 0; k < nk; k++) {
                struct gt_counts *c = &w->c[(size_t)b * kc + k];
                total += c->pkts_from + c->pkts_to;
                if (!(c->pkts_from | c->pkts_to))
                    w->ln[(size_t)b * kc + k] = w->fn[(size_t)b * kc + k] = 0;
                else if (!w->fn[(size_t)b * kc + k])
                    /* sensors without the first-packet gauge: the bin start
                     * counts only the silence already past the boundary */
                    w->fn[(size_t)b * kc + k] = bin.start * NS;
            }
            for (size_t i = 0; i < w->nsen; i++) {
                up += !w->sdown[(size_t)b * w->scap + i];
                frames += w->sfr[(size_t)b * w->scap + i];
            }
            bin.stats.drops = watch_sensor_health(w, det, b, bin.start);
            bin.stats.packets = frames > total ? frames : total;
            /* each flow is seen by one sensor: idle time adds up per sensor, as per worker */
            bin.stats.workers = up ? up : 1;
            gt_chain_bin(chain, &bin);
        }
        a += (int64_t)nb * W;
    }
    return 0;
}
