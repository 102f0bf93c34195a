/* Sinks: what consumes closed bins and detector events (csv/jsonl/table
 * outputs, event writers, the live terminal view, later exporters and
 * reports) registers with the sensor as one of these. Callbacks run on the
 * sensor's collector thread, bins in time order, each bin's events after
 * the bin. Key ids of a bin are labelled by gt_sensor_keys() (keys.h) and
 * rendered by gt_key_render() (output.h). */
#ifndef GEOTAP_SINK_H
#define GEOTAP_SINK_H

#include <stddef.h>
#include "geotap/anomaly.h"
#include "geotap/bins.h"

struct gt_sink {
    const char *name;
    void *self;
    void (*bin)(void *self, const struct gt_bin *b);           /* NULL = not interested */
    void (*event)(void *self, const struct gt_event *ev);      /* NULL = not interested */
    int (*finish)(void *self, char *err, size_t errlen);        /* end of run: flush; -1 with a reason */
    void (*free)(void *self);                                   /* may be NULL */
    int after_detector;         /* bins handed over after the detector saw them (its expected rates) */
};

#endif
