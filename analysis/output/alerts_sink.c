/* Alert delivery as a sensor sink (alerts.h): the detector's events go to
 * the delivery thread's queue; the counters into the sensor's statistics. */
#include "geotap/alerts.h"
#include "geotap/sensor.h"

#include <stdlib.h>
#include <string.h>

struct alerts_sink {
    struct gt_alerts_sink as;
    double flush_s;
    struct gt_alerts_stats final;   /* once the thread is stopped */
};

static const char *upstream_name(void *ctx, uint32_t u)
{
    return ctx ? gt_classifier_upstream_name(ctx, u) : NULL;
}

static void on_event(void *self, const struct gt_event *ev)
{
    struct alerts_sink *k = self;
    if (k->as.alerts)
        gt_alerts_event_fn(&k->as, ev);
}

void gt_alerts_sink_stats(void *self, struct gt_sensor_stats *st)
{
    struct alerts_sink *k = self;
    struct gt_alerts_stats a = k->final;
    if (k->as.alerts)
        gt_alerts_stats(k->as.alerts, &a);
    st->alerts_queued += a.queued;
    st->alerts_sent += a.sent;
    st->alerts_failed += a.failed;
    st->alerts_dropped += a.dropped;
}

static int on_finish(void *self, char *err, size_t errlen)
{
    struct alerts_sink *k = self;
    (void)err;
    (void)errlen;
    if (!k->as.alerts)
        return 0;
    /* Receivers down at exit: what is left is dropped, and counted, not an error. */
    gt_alerts_flush(k->as.alerts, k->flush_s);
    gt_alerts_free(k->as.alerts, &k->final);
    k->as.alerts = NULL;
    return 0;
}

static void on_free(void *self)
{
    struct alerts_sink *k = self;
    gt_alerts_free(k->as.alerts, NULL);
    free(k);
}

int gt_alerts_sink(struct gt_sink *out, const struct gt_alerts_opts *o, const struct gt_keys *keys,
                   const gt_classifier *cls, double flush_s, char *err, size_t errlen)
{
    struct alerts_sink *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(k->as.alerts = gt_alerts_new(o, err, errlen))) {
        free(k);
        return -1;
    }
    k->as.keys = keys;
    k->as.upstream_name = upstream_name;
    k->as.name_ctx = (void *)cls;
    k->flush_s = flush_s;
    memset(out, 0, sizeof *out);
    out->name = "alerts";
    out->self = k;
    out->event = on_event;
    out->finish = on_finish;
    out->free = on_free;
    out->after_detector = 1;
    return 0;
}
