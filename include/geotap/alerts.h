/* Alert delivery: detector events (anomaly.h) posted to Alertmanager's API v2
 * (POST /api/v2/alerts) and, as the event JSON of events.h, to webhooks.
 *
 * The caller (the collector thread) only renders the event and puts it in a
 * bounded queue: gt_alerts_event() never waits for the network. One delivery
 * thread owns the HTTP side (libcurl):
 *  - Alertmanager: drop_to_zero opens a firing alert (labels alertname, sensor,
 *    the key's dimensions country/asn/upstream, cause; annotation "summary"
 *    with the readable line of gt_event_write_text). While firing it is re-sent
 *    every resend_s with endsAt = now + 4 * resend_s, as Prometheus does, so an
 *    alert of a sensor that died expires by itself. restored resolves the
 *    drop's alert (same labels, endsAt = first packet back); the cause found at
 *    the restoration goes into the "restored" annotation, since a changed label
 *    would be another alert. capture_gap is reported when the gap is over, so it
 *    fires from the gap's start for gap_hold_s after the report and is not
 *    re-sent. Every receiver gets the whole set of alerts in one POST.
 *  - Webhook: every event (not_measurable too) as one JSON object, in order.
 * A receiver that fails (connection refused, timeout, non-2xx) is retried with
 * exponential back-off (backoff_min_s doubling up to backoff_max_s); the others
 * carry on. Memory is bounded: queue_len events queued, max_alerts alerts held,
 * queue_len webhook messages waiting; what does not fit is dropped and counted. */
#ifndef GEOTAP_ALERTS_H
#define GEOTAP_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include "geotap/anomaly.h"
#include "geotap/events.h"
#include "geotap/keys.h"

#define GT_ALERTS_MAX_RECEIVERS 16

/* Options; a zero field takes the default in brackets. */
struct gt_alerts_opts {
    const char *const *alertmanagers;  /* base URLs ("http://127.0.0.1:9093") or full .../api/v2/alerts */
    uint32_t nalertmanagers;
    const char *const *webhooks;       /* URLs receiving each event's JSON */
    uint32_t nwebhooks;
    const char *sensor;                /* label "sensor" [host name] */
    uint32_t queue_len;                /* events waiting for the thread [1024] */
    uint32_t max_alerts;               /* alerts held (firing or not yet delivered) [4096] */
    double resend_s;                   /* firing alerts re-sent this often [60] */
    double gap_hold_s;                 /* a capture_gap alert stays firing this long [3600] */
    double backoff_min_s;              /* first retry after a failure [0.5] */
    double backoff_max_s;              /* retries at most this far apart [60] */
    double timeout_s;                  /* one HTTP request, connection included [5] */
};

/* Counters, each monotonic (for geotap_alerts_*_total). */
struct gt_alerts_stats {
    uint64_t sent;       /* POSTs a receiver accepted (2xx) */
    uint64_t failed;     /* POSTs that failed (to be retried) */
    uint64_t dropped;    /* events or deliveries given up: queue or table full, undelivered at free */
    uint64_t queued;     /* events accepted by gt_alerts_event */
};

typedef struct gt_alerts gt_alerts;

/* Check the URLs and start the delivery thread. NULL with a reason in err
 * (a URL that is not http(s), no receiver at all, out of memory). */
gt_alerts *gt_alerts_new(const struct gt_alerts_opts *o, char *err, size_t errlen);
/* Queue ev for delivery; keys and un (may be NULL) name the key now, so they
 * need only be valid during the call. Never blocks on the network; returns 0,
 * or -1 when the event was dropped (queue full, out of memory; counted). A
 * gt_event_fn can wrap it. */
int gt_alerts_event(gt_alerts *a, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                    const struct gt_event *ev);
/* Wait up to timeout_s until every queued event is delivered to every
 * receiver (firing alerts sent at least once). 0 when done, -1 on timeout. */
int gt_alerts_flush(gt_alerts *a, double timeout_s);
/* Read the counters (any thread). */
void gt_alerts_stats(gt_alerts *a, struct gt_alerts_stats *st);
/* Stop the thread and free; what is still undelivered is counted as dropped
 * in *final when final is not NULL. Call gt_alerts_flush first to drain. */
void gt_alerts_free(gt_alerts *a, struct gt_alerts_stats *final);

/* A gt_event_fn (a sink's event callback): ctx is a struct gt_alerts_sink,
 * whose keys the caller keeps current (a reload may replace them). */
struct gt_alerts_sink {
    gt_alerts *alerts;
    const struct gt_keys *keys;
    gt_upstream_name_fn upstream_name;  /* may be NULL */
    void *name_ctx;
};
void gt_alerts_event_fn(void *ctx, const struct gt_event *ev);

/* Alert delivery as a sensor sink (sink.h), fed the detector's events: keys
 * label them and must stay current (gt_sensor_keys), cls names upstreams (may
 * be NULL). At the end of the run it waits up to flush_s for the deliveries,
 * then stops (what is left is counted as dropped). 0, or -1 with err as
 * gt_alerts_new. */
int gt_alerts_sink(struct gt_sink *out, const struct gt_alerts_opts *o, const struct gt_keys *keys,
                   const gt_classifier *cls, double flush_s, char *err, size_t errlen);
/* The sink's counters added to the sensor's alerts_* (a gt_sensor_stats_fn
 * for gt_sensor_add_stats, self = the sink's self). */
struct gt_sensor_stats;
void gt_alerts_sink_stats(void *self, struct gt_sensor_stats *st);

/* The URL to POST to: url itself for a webhook, url's /api/v2/alerts for an
 * Alertmanager (unless url names it). malloc'ed; NULL with err when url is not
 * http(s) with a host. */
char *gt_alert_post_url(const char *url, int alertmanager, char *err, size_t errlen);
/* Rendering (alerts_render.c), exposed for the tests. Each returns a malloc'ed
 * string, or NULL when out of memory. */
/* The Alertmanager labels object of ev, e.g. {"alertname":"drop_to_zero",
 * "sensor":"tap1","country":"KP","cause":"inside_country"}; with_cause 0 leaves
 * cause out (the alert's identity). */
char *gt_alert_labels(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                      const struct gt_event *ev, const char *sensor, int with_cause);
/* ev's readable line (gt_event_write_text) without its newline. */
char *gt_alert_text(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                    const struct gt_event *ev);
/* ev as gt_event_write_json writes it, without the newline. */
char *gt_alert_event_json(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                          const struct gt_event *ev);

#endif
