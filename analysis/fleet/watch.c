/* geotap watch: fleet-wide bins from a Prometheus-compatible store, with
 * per-sensor health (include/geotap/fleet_watch.h). One code path for live
 * and replay: every stretch of bins is read with query_range, step = width. */
#include "geotap/fleet_watch.h"
#include "geotap/attribution.h"
#include "geotap/events.h"
#include "geotap/output.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 240               /* bins per query */
#define NS 1000000000LL
#define SHARE_ALPHA 0.1         /* EWMA of a sensor's share of a key, per bin */

struct sensor {
    char name[128];
    double *share;              /* [nkeys] its usual share of the key's packets */
    int held;                   /* bins still held (down, and the bin after) */
    uint32_t down_bins;         /* of the current outage */
    int released;               /* down past max_hold_s: holds nothing until back */
    int64_t gap_start;          /* ns; 0 = not in a gap */
    int64_t gap_end;
    int up;                     /* up in the last bin read (for /metrics) */
    uint64_t gaps;              /* sensor_gap events so far */
};

struct gt_watch {
    struct gt_watch_opts o;
    gt_prom *p;
    struct gt_keyset ks;
    char by[64];
    const char *labels[4];      /* the key's label names, then the sensor's */
    unsigned nl;
    struct sensor *s;
    size_t nsen;
    FILE *ev;
    /* one chunk of bins: [CHUNK][nkeys] */
    struct gt_counts *c;
    int64_t *fn, *ln;
    double *spk;                /* [CHUNK][nsen][nkeys] per-sensor packets */
    uint8_t *sdown;             /* [CHUNK][nsen] */
    uint64_t *frames, *drops;   /* [CHUNK] */
};

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
        snprintf(err, errlen, "keys by country and/or asn only");
        gt_watch_free(w);
        return NULL;
    }
    if (!(w->p = gt_prom_new(o->url, o->timeout_s, err, errlen))) {
        gt_watch_free(w);
        return NULL;
    }
    /* the keys and sensors of the stretch, in one query each */
    char q[512];
    const struct gt_prom_series *s;
    size_t n;
    int64_t range = to - from + lookback + w->o.width;
    snprintf(q, sizeof q, "count by (%s, %s) (last_over_time(geotap_packets_total[%" PRId64 "s]))", w->by,
             w->o.sensor_label, range);
    if (gt_prom_range(w->p, q, to + w->o.lag, to + w->o.lag, w->o.width, w->labels, w->nl + 1, &s, &n, err, errlen) != 0) {
        gt_watch_free(w);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (series_key(w, &s[i], 1) < 0) {
            snprintf(err, errlen, "%s: out of memory or a bad key label", o->url);
            gt_watch_free(w);
            return NULL;
        }
        if (find_sensor(w, s[i].label[w->nl]) < 0) {
            struct sensor *ns = realloc(w->s, (w->nsen + 1) * sizeof *ns);
            if (!ns) {
                gt_watch_free(w);
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            w->s = ns;
            memset(&w->s[w->nsen], 0, sizeof *w->s);
            snprintf(w->s[w->nsen++].name, sizeof w->s->name, "%s", s[i].label[w->nl]);
        }
    }
    if (!w->ks.keys.nkeys) {
        snprintf(err, errlen, "%s: no geotap_packets_total series by %s in the time asked", o->url, w->by);
        gt_watch_free(w);
        return NULL;
    }
    uint32_t nk = w->ks.keys.nkeys;
    size_t ns = w->nsen ? w->nsen : 1;
    w->c = calloc((size_t)CHUNK * nk, sizeof *w->c);
    w->fn = calloc((size_t)CHUNK * nk, sizeof *w->fn);
    w->ln = calloc((size_t)CHUNK * nk, sizeof *w->ln);
    w->spk = calloc((size_t)CHUNK * ns * nk, sizeof *w->spk);
    w->sdown = calloc((size_t)CHUNK * ns, 1);
    w->frames = calloc(CHUNK, sizeof *w->frames);
    w->drops = calloc(CHUNK, sizeof *w->drops);
    int ok = w->c && w->fn && w->ln && w->spk && w->sdown && w->frames && w->drops;
    for (size_t i = 0; ok && i < w->nsen; i++)
        ok = (w->s[i].share = calloc(nk, sizeof *w->s[i].share)) != NULL;
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        gt_watch_free(w);
        return NULL;
    }
    return w;
}

void gt_watch_free(gt_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nsen; i++)
        free(w->s[i].share);
    free(w->s);
    free(w->c); free(w->fn); free(w->ln); free(w->spk); free(w->sdown); free(w->frames); free(w->drops);
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
 * where increase() would extrapolate (Prometheus); a series new or reset in
 * the bin counts from zero. */
static void delta(char *buf, size_t n, const char *m, uint32_t W)
{
    snprintf(buf, n, "((%s - %s offset %us) >= 0 or (%s + 0))", m, m, W, m);
}

enum { Q_PKTS, Q_BYTES, Q_STARTS, Q_IDLE, Q_LAST, Q_FIRST, Q_SENSOR, Q_UP, Q_FRAMES, Q_DROPS, NQ };

static int query_chunk(gt_watch *w, int64_t a, uint32_t nb, char *err, size_t errlen)
{
    uint32_t W = w->o.width, nk = w->ks.keys.nkeys;
    size_t nsen = w->nsen;
    memset(w->c, 0, (size_t)nb * nk * sizeof *w->c);
    memset(w->fn, 0, (size_t)nb * nk * sizeof *w->fn);
    memset(w->ln, 0, (size_t)nb * nk * sizeof *w->ln);
    memset(w->spk, 0, (size_t)nb * (nsen ? nsen : 1) * nk * sizeof *w->spk);
    memset(w->sdown, 1, (size_t)nb * (nsen ? nsen : 1));    /* down unless up says otherwise */
    memset(w->frames, 0, nb * sizeof *w->frames);
    memset(w->drops, 0, nb * sizeof *w->drops);
    const char *sl = w->o.sensor_label;
    for (int qi = 0; qi < NQ; qi++) {
        char q[1024], d[400];
        const char *lab[4] = { w->labels[0], w->labels[1], w->labels[2], w->labels[3] };
        unsigned nl = w->nl;
        switch (qi) {
        case Q_PKTS: case Q_BYTES:
            delta(d, sizeof d, qi == Q_PKTS ? "geotap_packets_total" : "geotap_bytes_total", W);
            snprintf(q, sizeof q, "sum by (%s, direction) (%s)", w->by, d);
            lab[nl++] = "direction";
            break;
        case Q_STARTS: case Q_IDLE:
            delta(d, sizeof d, qi == Q_STARTS ? "geotap_flow_starts_total" : "geotap_flow_idle_seconds_total", W);
            snprintf(q, sizeof q, "sum by (%s) (%s)", w->by, d);
            break;
        case Q_LAST: case Q_FIRST:
            /* of this bin: at or after its start */
            snprintf(q, sizeof q, "%s by (%s) (%s >= (time() - %u))", qi == Q_LAST ? "max" : "min", w->by,
                     qi == Q_LAST ? "geotap_last_packet_timestamp_seconds" : "geotap_bin_first_packet_timestamp_seconds",
                     W + w->o.lag);
            break;
        case Q_SENSOR:
            delta(d, sizeof d, "geotap_packets_total", W);
            snprintf(q, sizeof q, "sum by (%s, %s) (%s)", sl, w->by, d);
            lab[nl++] = sl;
            break;
        case Q_UP:
            /* one second short of the bin: both stores then see the same samples */
            snprintf(q, sizeof q, "min by (%s) (min_over_time(up[%us]))", sl, W > 1 ? W - 1 : 1);
            nl = 0;
            lab[nl++] = sl;
            break;
        default:
            delta(d, sizeof d, qi == Q_FRAMES ? "geotap_frames_total" : "geotap_capture_drops_total", W);
            snprintf(q, sizeof q, "sum by (%s) (%s)", sl, d);
            nl = 0;
            lab[nl++] = sl;
            break;
        }
        const struct gt_prom_series *s;
        size_t n;
        if (gt_prom_range(w->p, q, a + W + w->o.lag, a + (int64_t)nb * W + w->o.lag, W, lab, nl, &s, &n, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            long k = -1, sen = -1;
            if (qi <= Q_SENSOR && (k = series_key(w, &s[i], 0)) < 0)
                continue;
            if (qi == Q_SENSOR && (sen = find_sensor(w, s[i].label[w->nl])) < 0)
                continue;
            if (qi > Q_SENSOR && (sen = find_sensor(w, s[i].label[0])) < 0)
                continue;
            int to = qi <= Q_BYTES && !strcmp(s[i].label[w->nl], "to");
            for (size_t j = 0; j < s[i].n; j++) {
                long b = bin_of(w, a, nb, s[i].t[j]);
                if (b < 0)
                    continue;
                double v = s[i].v[j];
                struct gt_counts *c = k >= 0 ? &w->c[(size_t)b * nk + (size_t)k] : NULL;
                switch (qi) {
                case Q_PKTS: *(to ? &c->pkts_to : &c->pkts_from) = count_of(v); break;
                case Q_BYTES: *(to ? &c->bytes_to : &c->bytes_from) = count_of(v); break;
                case Q_STARTS: c->starts = (uint32_t)count_of(v); break;
                case Q_IDLE: c->idle_ms = (uint32_t)count_of(v * 1000); break;
                case Q_LAST: w->ln[(size_t)b * nk + (size_t)k] = (int64_t)llround(v * 1e9); break;
                case Q_FIRST: w->fn[(size_t)b * nk + (size_t)k] = (int64_t)llround(v * 1e9); break;
                case Q_SENSOR: w->spk[((size_t)b * nsen + (size_t)sen) * nk + (size_t)k] = v; break;
                case Q_UP: w->sdown[(size_t)b * nsen + (size_t)sen] = !(v >= 1); break;
                case Q_FRAMES: w->frames[b] += count_of(v); break;
                default: w->drops[b] += count_of(v); break;
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

/* One sensor_gap line when a sensor's held stretch ends (or at the end). */
static void sensor_gap_event(gt_watch *w, struct sensor *s)
{
    char a[40], b[40], lab[64];
    if (w->ev) {
        gt_rfc3339_ns(a, sizeof a, s->gap_start);
        gt_rfc3339_ns(b, sizeof b, s->gap_end);
        fprintf(w->ev, "{\"type\":\"sensor_gap\",\"sensor\":");
        gt_json_string(w->ev, s->name);
        fprintf(w->ev, ",\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":%.3f,\"held\":[", a, b,
                (double)(s->gap_end - s->gap_start) / NS);
        int first = 1;
        for (uint32_t k = 0; k < w->ks.keys.nkeys; k++)
            if (s->share[k] >= w->o.share && !gt_key_is_unknown(&w->ks.keys, k)) {
                gt_key_label(&w->ks.keys, NULL, k, w->o.dims & GT_DIM_COUNTRY ? GT_DIM_COUNTRY : GT_DIM_ASN,
                             lab, sizeof lab);
                if (!first)
                    fputc(',', w->ev);
                gt_json_string(w->ev, lab);
                first = 0;
            }
        fputs("]}\n", w->ev);
        fflush(w->ev);
    }
    s->gap_start = 0;
    s->gaps++;
}

void gt_watch_finish(gt_watch *w)
{
    for (size_t i = 0; i < w->nsen; i++)
        if (w->s[i].gap_start)
            sensor_gap_event(w, &w->s[i]);
}

/* Sensor health of bin b: update the shares of sensors up, hold the keys of
 * sensors down. Returns the packets to report as drops (0 = no hold). */
static uint64_t health(gt_watch *w, uint32_t b, int64_t start, uint64_t total)
{
    uint32_t nk = w->ks.keys.nkeys;
    int hold = 0;
    for (size_t i = 0; i < w->nsen; i++) {
        struct sensor *s = &w->s[i];
        int down = w->sdown[(size_t)b * w->nsen + i];
        s->up = !down;
        if (down) {
            s->held = 2;        /* this bin and the one after it is back */
            if (!s->gap_start && !s->released)
                s->gap_start = start * NS;
            s->gap_end = (start + w->o.width) * NS;
            /* gone for good (or long): report it, and stop holding its keys */
            if (!s->released && ++s->down_bins * (double)w->o.width > w->o.max_hold_s) {
                sensor_gap_event(w, s);
                memset(s->share, 0, nk * sizeof *s->share);
                s->released = 1;
            }
        } else {
            s->down_bins = 0;
            s->released = 0;
            if (s->held && --s->held == 0 && s->gap_start)
                sensor_gap_event(w, s);
        }
        if (s->held)
            for (uint32_t k = 0; k < nk && !hold; k++)
                hold = s->share[k] >= w->o.share && !gt_key_is_unknown(&w->ks.keys, k);
    }
    /* shares are learned from bins not held (a sensor down that carried
     * little fades out of them) */
    if (!hold) {
        for (uint32_t k = 0; k < nk; k++) {
            const struct gt_counts *c = &w->c[(size_t)b * nk + k];
            double tot = (double)(c->pkts_from + c->pkts_to);
            if (tot <= 0)
                continue;
            for (size_t i = 0; i < w->nsen; i++) {
                double v = w->spk[((size_t)b * w->nsen + i) * nk + k] / tot;
                double *sh = &w->s[i].share[k];
                *sh = *sh > 0 ? *sh + SHARE_ALPHA * (v - *sh) : v;
            }
        }
    }
    return hold ? total + 1 : 0;
}

int gt_watch_run(gt_watch *w, gt_chain *chain, int64_t from, int64_t to, char *err, size_t errlen)
{
    uint32_t W = w->o.width, nk = w->ks.keys.nkeys;
    for (int64_t a = from; a < to;) {
        uint32_t nb = (uint32_t)((to - a) / W < CHUNK ? (to - a) / W : CHUNK);
        if (!nb)
            break;
        if (query_chunk(w, a, nb, err, errlen) != 0)
            return -1;
        for (uint32_t b = 0; b < nb; b++) {
            struct gt_bin bin = { .start = a + (int64_t)b * W, .width = W, .nkeys = nk,
                                  .counts = &w->c[(size_t)b * nk], .last_ns = &w->ln[(size_t)b * nk],
                                  .first_ns = &w->fn[(size_t)b * nk] };
            uint64_t total = 0;
            uint32_t up = 0;
            for (uint32_t k = 0; k < nk; k++) {
                struct gt_counts *c = &w->c[(size_t)b * nk + k];
                total += c->pkts_from + c->pkts_to;
                if (!(c->pkts_from | c->pkts_to))
                    w->ln[(size_t)b * nk + k] = w->fn[(size_t)b * nk + k] = 0;
                else if (!w->fn[(size_t)b * nk + k])
                    /* sensors without the first-packet gauge: the bin start
                     * counts only the silence already past the boundary */
                    w->fn[(size_t)b * nk + k] = bin.start * NS;
            }
            for (size_t i = 0; i < w->nsen; i++)
                up += !w->sdown[(size_t)b * w->nsen + i];
            uint64_t hold = health(w, b, bin.start, total);
            bin.stats.packets = w->frames[b] > total ? w->frames[b] : total;
            bin.stats.drops = w->drops[b] > hold ? w->drops[b] : hold;
            /* each flow is seen by one sensor: idle time adds up per sensor, as per worker */
            bin.stats.workers = up ? up : 1;
            gt_chain_bin(chain, &bin);
        }
        a += (int64_t)nb * W;
    }
    return 0;
}

size_t gt_watch_nsensors(const gt_watch *w) { return w->nsen; }

void gt_watch_sensor_info(const gt_watch *w, size_t i, struct gt_watch_sensor_info *out)
{
    const struct sensor *s = &w->s[i];
    memset(out, 0, sizeof *out);
    out->name = s->name;
    out->up = s->up;
    out->gaps = s->gaps;
    for (uint32_t k = 0; s->held && k < w->ks.keys.nkeys; k++)
        out->held_keys += s->share[k] >= w->o.share && !gt_key_is_unknown(&w->ks.keys, k);
}
