/* The sensor's read-only side: the published statistics snapshot and the
 * accessors sinks and commands use. Readers never block the collector: the
 * snapshot is a seqlock the collector alone writes (publish() in sensor.c). */
#include "sensor_int.h"

#include <string.h>

void gt_sensor_stats(const gt_sensor *s, struct gt_sensor_stats *out)
{
    uint64_t w[STAT_WORDS];
    gt_seqlock_read(&((gt_sensor *)s)->pub, 0, w, STAT_WORDS);
    memcpy(out, w, sizeof *out);
}

const struct gt_keys *gt_sensor_keys(const gt_sensor *s) { return &s->first->st.keys; }
uint32_t gt_sensor_key_capacity(const gt_sensor *s) { return s->key_cap; }
const gt_classifier *gt_sensor_classifier(const gt_sensor *s) { return s->first->st.c; }
const struct gt_setup *gt_sensor_setup(const gt_sensor *s) { return &s->first->st; }
const char *gt_sensor_source_name(const gt_sensor *s) { return gt_source_name(s->src); }
int gt_sensor_dlt(const gt_sensor *s) { return gt_source_dlt(s->src); }
unsigned gt_sensor_queues(const gt_sensor *s) { return s->nw; }

void gt_sensor_position(const gt_sensor *s, unsigned *file, uint64_t *offset, uint64_t *size)
{
    gt_source_position(s->src, file, offset, size);
}

void gt_sensor_prefill(gt_sensor *s, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx)
{
    gt_source_prefill(s->src, fn, ctx);
}

const gt_anomaly *gt_sensor_anomaly(const gt_sensor *s)
{
    return s->det;
}
