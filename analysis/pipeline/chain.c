/* Detector and sinks fed in the sensor's order (include/geotap/chain.h). */
#include "geotap/chain.h"
#include "geotap/attribution.h"

#include <stdio.h>
#include <stdlib.h>

struct gt_chain {
    gt_anomaly *det;
    struct gt_sink *sinks;
    unsigned n;
};

void gt_chain_event(gt_chain *c, const struct gt_event *ev)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->sinks[i].event)
            c->sinks[i].event(c->sinks[i].self, ev);
}

static void on_event(void *ctx, const struct gt_event *ev)
{
    gt_chain_event(ctx, ev);
}

gt_chain *gt_chain_new(const struct gt_keys *keys, int detect, const struct gt_anomaly_opts *ao)
{
    gt_chain *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (detect) {
        struct gt_anomaly_opts o = ao ? *ao : (struct gt_anomaly_opts){ 0 };
        o.on_event = on_event;
        o.ctx = c;
        if (!(c->det = gt_anomaly_new(&o, keys))) {
            free(c);
            return NULL;
        }
        gt_detect_ignore_unknown(c->det, keys);
    }
    return c;
}

int gt_chain_add_sink(gt_chain *c, struct gt_sink sink)
{
    struct gt_sink *n = realloc(c->sinks, (c->n + 1) * sizeof *n);
    if (!n)
        return -1;
    c->sinks = n;
    c->sinks[c->n++] = sink;
    return 0;
}

void gt_chain_bin(void *chain, const struct gt_bin *b)
{
    gt_chain *c = chain;
    for (unsigned i = 0; i < c->n; i++)
        if (c->sinks[i].bin && !c->sinks[i].after_detector)
            c->sinks[i].bin(c->sinks[i].self, b);
    if (c->det)
        gt_anomaly_bin(c->det, b);
    for (unsigned i = 0; i < c->n; i++)
        if (c->sinks[i].bin && c->sinks[i].after_detector)
            c->sinks[i].bin(c->sinks[i].self, b);
}

gt_anomaly *gt_chain_anomaly(gt_chain *c)
{
    return c->det;
}

int gt_chain_finish(gt_chain *c, char *err, size_t errlen)
{
    int rc = 0;
    if (c->det)
        gt_anomaly_finish(c->det);
    for (unsigned i = 0; i < c->n; i++) {
        char e[512] = "";
        if (c->sinks[i].finish && c->sinks[i].finish(c->sinks[i].self, e, sizeof e) != 0 && rc == 0) {
            snprintf(err, errlen, "%s", e);
            rc = -1;
        }
    }
    return rc;
}

void gt_chain_free(gt_chain *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->n; i++)
        if (c->sinks[i].free)
            c->sinks[i].free(c->sinks[i].self);
    free(c->sinks);
    gt_anomaly_free(c->det);
    free(c);
}
