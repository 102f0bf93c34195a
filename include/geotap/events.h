/* Anomaly events (anomaly.h) written as JSON lines (--events FILE) or as one
 * readable line each (table output). */
#ifndef GEOTAP_EVENTS_H
#define GEOTAP_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "geotap/anomaly.h"
#include "geotap/classifier.h"
#include "geotap/keyname.h"
#include "geotap/keys.h"
#include "geotap/sink.h"
#include "geotap/timefmt.h"


struct gt_events_out {
    FILE *f;
    const struct gt_keys *keys;
    int text;                       /* 0: JSON lines, 1: readable lines */
    gt_upstream_name_fn upstream_name;  /* may be NULL */
    void *name_ctx;
};

/* Write ev as one JSON object and a newline, e.g.
 * {"type":"drop_to_zero","key":{"country":"KP"},"last_seen":"...","detected":"...","expected_rate":2.5,...} */
void gt_event_write_json(FILE *f, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                         const struct gt_event *ev);
/* Write ev as one readable line, e.g.
 * "2014-12-22 16:19:00Z  DROP      KP  silent since 16:15:03Z  expected 2.50 flows/s  cause inside_country" */
void gt_event_write_text(FILE *f, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                         const struct gt_event *ev);
/* gt_event_fn writing to a struct gt_events_out (ctx); flushes each line. */
void gt_events_out_fn(void *ctx, const struct gt_event *ev);
/* The event writer as a sink on f: JSON lines (flushed each), or text:
 * held and listed at the end ("N events" and one line each). close_f: the
 * sink's free closes f. Upstream names from cls. 0, or -1 (out of memory). */
int gt_events_sink(struct gt_sink *out, FILE *f, int close_f, int text, const struct gt_keys *keys,
                   const gt_classifier *cls, const char *what);
/* "drop_to_zero", "restored", "capture_gap", "not_measurable". */
const char *gt_event_type_name(enum gt_event_type t);
/* "unknown", "inside_country", "upstream". */
const char *gt_cause_name(enum gt_cause c);

#endif
