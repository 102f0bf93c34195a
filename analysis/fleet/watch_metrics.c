/* geotap watch's own health for /metrics (watch_metrics.h): the loop
 * publishes words through a seqlock, the HTTP thread copies and renders. */
#include "geotap/watch_metrics.h"
#include "geotap/metrics.h"
#include "geotap/seqlock.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Header words, then per sensor: its name (NAMEW words), up, held keys, gaps. */
enum { H_NSEN, H_QFAIL, H_WGAPS, H_SAVES, H_SAVE_ERR, H_AL_SENT, H_AL_FAILED, H_AL_DROPPED, H_LAST_OK, HDR };
enum { NAMEW = 16, S_UP = NAMEW, S_HELD, S_GAPS, SW };

struct gt_watch_metrics {
    size_t cap;
    uint64_t *buf;              /* [HDR + cap * SW], the loop's scratch */
    struct gt_seqlock pub;
    _Atomic uint64_t *words;
};

struct gt_watch_metrics *gt_watch_metrics_new(size_t max_sensors)
{
    struct gt_watch_metrics *m = calloc(1, sizeof *m);
    size_t nw = HDR + max_sensors * SW;
    if (!m)
        return NULL;
    m->cap = max_sensors;
    m->buf = calloc(nw, sizeof *m->buf);
    m->words = malloc(nw * sizeof *m->words);
    if (!m->buf || !m->words) {
        gt_watch_metrics_free(m);
        return NULL;
    }
    gt_seqlock_init(&m->pub, m->words, nw);
    return m;
}

void gt_watch_metrics_free(struct gt_watch_metrics *m)
{
    if (!m)
        return;
    free(m->buf);
    free(m->words);
    free(m);
}

void gt_watch_metrics_publish(struct gt_watch_metrics *m, const gt_watch *w, const struct gt_watch_health *h)
{
    uint64_t *b = m->buf;
    size_t n = w ? gt_watch_nsensors(w) : 0;
    if (n > m->cap)
        n = m->cap;
    b[H_NSEN] = n;
    b[H_QFAIL] = h->query_failures;
    b[H_WGAPS] = h->watch_gaps;
    b[H_SAVES] = h->state_saves;
    b[H_SAVE_ERR] = h->state_save_errors;
    b[H_AL_SENT] = h->alerts_sent;
    b[H_AL_FAILED] = h->alerts_failed;
    b[H_AL_DROPPED] = h->alerts_dropped;
    b[H_LAST_OK] = gt_seqlock_word(h->last_success_s);
    for (size_t i = 0; i < n; i++) {
        struct gt_watch_sensor_info si;
        uint64_t *r = b + HDR + i * SW;
        gt_watch_sensor_info(w, i, &si);
        memset(r, 0, NAMEW * sizeof *r);
        strncpy((char *)r, si.name, NAMEW * 8 - 1);
        r[S_UP] = (uint64_t)si.up;
        r[S_HELD] = si.held_keys;
        r[S_GAPS] = si.gaps;
    }
    gt_seqlock_begin(&m->pub);
    gt_seqlock_store(&m->pub, 0, b, HDR + n * SW);
    gt_seqlock_end(&m->pub);
}

static void per_sensor(FILE *f, const uint64_t *v, size_t n, const char *name, int col)
{
    gt_metrics_family(f, name);
    for (size_t i = 0; i < n; i++) {
        const uint64_t *r = v + HDR + i * SW;
        char nm[NAMEW * 8 + 1];
        memcpy(nm, r, NAMEW * 8);
        nm[NAMEW * 8] = 0;
        fprintf(f, "%s{sensor=\"", name);
        gt_metrics_escape(f, nm);
        fprintf(f, "\"} %" PRIu64 "\n", r[col]);
    }
}

void gt_watch_metrics_render(void *ctx, FILE *f)
{
    struct gt_watch_metrics *m = ctx;
    size_t nw = HDR + m->cap * SW;
    uint64_t *v = malloc(nw * sizeof *v);
    if (!v)
        return;
    for (;;) {
        uint64_t seq = gt_seqlock_read(&m->pub, 0, v, HDR);
        size_t n = v[H_NSEN] < m->cap ? (size_t)v[H_NSEN] : m->cap;
        gt_seqlock_read(&m->pub, HDR, v + HDR, n * SW);
        if (gt_seqlock_same(&m->pub, seq))
            break;
    }
    size_t n = (size_t)v[H_NSEN];
    per_sensor(f, v, n, "geotap_watch_sensor_up", S_UP);
    per_sensor(f, v, n, "geotap_watch_sensor_held_keys", S_HELD);
    per_sensor(f, v, n, "geotap_watch_sensor_gaps_total", S_GAPS);
    static const struct { const char *name; int col; } plain[] = {
        { "geotap_watch_query_failures_total", H_QFAIL }, { "geotap_watch_gaps_total", H_WGAPS },
        { "geotap_alerts_sent_total", H_AL_SENT }, { "geotap_alerts_failed_total", H_AL_FAILED },
        { "geotap_alerts_dropped_total", H_AL_DROPPED },
    };
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        gt_metrics_family(f, plain[i].name);
        fprintf(f, "%s %" PRIu64 "\n", plain[i].name, v[plain[i].col]);
    }
    gt_metrics_family(f, "geotap_state_saves_total");
    fprintf(f, "geotap_state_saves_total{result=\"success\"} %" PRIu64 "\n", v[H_SAVES]);
    fprintf(f, "geotap_state_saves_total{result=\"failure\"} %" PRIu64 "\n", v[H_SAVE_ERR]);
    gt_metrics_family(f, "geotap_watch_last_success_timestamp_seconds");
    fprintf(f, "geotap_watch_last_success_timestamp_seconds %.3f\n", gt_seqlock_double(v[H_LAST_OK]));
    free(v);
}
