/* Anomaly events as JSON lines and as readable lines. */
#include "geotap/events.h"
#include "geotap/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *gt_event_type_name(enum gt_event_type t)
{
    switch (t) {
    case GT_EV_DROP_TO_ZERO: return "drop_to_zero";
    case GT_EV_RESTORED: return "restored";
    case GT_EV_CAPTURE_GAP: return "capture_gap";
    case GT_EV_NOT_MEASURABLE: return "not_measurable";
    }
    return "unknown";
}

const char *gt_cause_name(enum gt_cause c)
{
    switch (c) {
    case GT_CAUSE_INSIDE: return "inside_country";
    case GT_CAUSE_UPSTREAM: return "upstream";
    default: return "unknown";
    }
}

static const char *gap_reason_name(enum gt_gap_reason r)
{
    switch (r) {
    case GT_GAP_DROPS: return "capture_drops";
    case GT_GAP_DEGRADED: return "degraded";
    default: return "silence";
    }
}

/* Upstream as a JSON value: quoted name, or the number. */
static void json_upstream(FILE *f, gt_upstream_name_fn un, void *unctx, uint32_t u)
{
    const char *name = un ? un(unctx, u) : NULL;
    if (name && *name) {
        gt_json_string(f, name);
    } else {
        fprintf(f, "%" PRIu32, u);
    }
}

static void json_key(FILE *f, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx, uint32_t id)
{
    if (!keys || !keys->keys || id >= keys->nkeys) {
        fprintf(f, "{\"id\":%" PRIu32 "}", id);
        return;
    }
    const struct gt_key *k = &keys->keys[id];
    unsigned dims = keys->dims ? keys->dims : GT_DIM_COUNTRY;
    const char *sep = "";
    static const unsigned dl[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };
    static const char *const dn[] = { "country", "asn", "upstream" };
    struct gt_key_names nm = { .upstream = un, .ctx = unctx };
    fputc('{', f);
    for (int j = 0; j < 3; j++) {
        if (!(dims & dl[j]))
            continue;
        char v[256];
        gt_key_value(keys, &nm, id, dl[j], v, sizeof v);
        fprintf(f, "%s\"%s\":", sep, dn[j]);
        sep = ",";
        /* an AS and an unnamed upstream (0: none) stay JSON numbers */
        const char *un_name = dl[j] == GT_DIM_UPSTREAM && un && k->upstream ? un(unctx, k->upstream) : NULL;
        if (!k->home && (dl[j] == GT_DIM_ASN || (dl[j] == GT_DIM_UPSTREAM && !(un_name && *un_name))))
            fprintf(f, "%" PRIu32, dl[j] == GT_DIM_ASN ? k->asn : k->upstream);
        else
            gt_json_string(f, v);
    }
    fputc('}', f);
}

static void json_time(FILE *f, const char *name, int64_t ns)
{
    char t[GT_TIME_LEN];
    if (!ns) {
        fprintf(f, ",\"%s\":null", name);
        return;
    }
    gt_time_format_ns(t, sizeof t, ns, GT_TIME_US);
    fprintf(f, ",\"%s\":\"%s\"", name, t);
}

void gt_event_write_json(FILE *f, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                         const struct gt_event *ev)
{
    fprintf(f, "{\"type\":\"%s\"", gt_event_type_name(ev->type));
    if (ev->type == GT_EV_CAPTURE_GAP) {
        json_time(f, "start", ev->last_seen_ns);
        json_time(f, "end", ev->first_seen_ns);
        json_time(f, "detected", ev->detected_ns);
        fprintf(f, ",\"duration_s\":%.3f,\"reason\":\"%s\",\"drops\":%" PRIu64 "}\n",
                ev->duration_s, gap_reason_name(ev->gap_reason), ev->drops);
        return;
    }
    fputs(",\"key\":", f);
    json_key(f, keys, un, unctx, ev->key);
    json_time(f, "last_seen", ev->last_seen_ns);
    if (ev->type == GT_EV_RESTORED)
        json_time(f, "first_seen", ev->first_seen_ns);
    json_time(f, "detected", ev->detected_ns);
    fprintf(f, ",\"expected_rate\":%.6g", ev->expected_rate);
    switch (ev->type) {
    case GT_EV_DROP_TO_ZERO:
        fprintf(f, ",\"silence_s\":%.3f,\"expected_count\":%.3f,\"threshold\":%.3f",
                ev->silence_s, ev->expected_count, ev->threshold);
        break;
    case GT_EV_RESTORED:
        fprintf(f, ",\"duration_s\":%.3f", ev->duration_s);
        break;
    case GT_EV_NOT_MEASURABLE:
        fprintf(f, ",\"threshold\":%.3f,\"time_to_decide_s\":%.0f", ev->threshold,
                ev->expected_rate > 0 ? ev->threshold / ev->expected_rate : -1.0);
        break;
    default:
        break;
    }
    if (ev->type == GT_EV_DROP_TO_ZERO || ev->type == GT_EV_RESTORED) {
        fprintf(f, ",\"cause\":\"%s\"", gt_cause_name(ev->cause));
        if (ev->upstream) {
            fputs(",\"upstream\":", f);
            json_upstream(f, un, unctx, ev->upstream);
            if (ev->upstream_ratio >= 0)
                fprintf(f, ",\"upstream_ratio\":%.3f", ev->upstream_ratio);
        }
    }
    fputs("}\n", f);
}

static void text_key(char *buf, size_t n, const struct gt_keys *keys, gt_upstream_name_fn un,
                     void *unctx, uint32_t id)
{
    if (!keys || !keys->keys || id >= keys->nkeys) {
        snprintf(buf, n, "#%" PRIu32, id);
        return;
    }
    struct gt_key_names nm = { .upstream = un, .ctx = unctx };
    gt_key_render(keys, &nm, id, 0, buf, n);
}

static void hms(char *buf, size_t n, int64_t ns)
{
    gt_time_format_ns(buf, n, ns, GT_TIME_HMS);
}

/* The attribution's evidence, then the end of the line. */
static void text_upstream(FILE *f, gt_upstream_name_fn un, void *unctx, const struct gt_event *ev)
{
    const char *n = ev->upstream && un ? un(unctx, ev->upstream) : NULL;
    if (n && *n && ev->upstream_ratio >= 0)
        fprintf(f, ": upstream %s carried %.0f%% of its usual traffic", n, 100.0 * ev->upstream_ratio);
    fputc('\n', f);
}

void gt_event_write_text(FILE *f, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                         const struct gt_event *ev)
{
    char when[GT_TIME_LEN], key[256], a[GT_TIME_LEN], b[GT_TIME_LEN];
    gt_time_format_ns(when, sizeof when, ev->detected_ns, GT_TIME_TEXT);
    if (ev->type == GT_EV_CAPTURE_GAP) {
        hms(a, sizeof a, ev->last_seen_ns);
        if (ev->first_seen_ns)
            hms(b, sizeof b, ev->first_seen_ns);
        else
            snprintf(b, sizeof b, "(open)");
        fprintf(f, "%s  CAPTURE GAP    %s .. %s (%.0f s, %s, %" PRIu64 " drops)\n", when, a, b,
                ev->duration_s, gap_reason_name(ev->gap_reason), ev->drops);
        return;
    }
    text_key(key, sizeof key, keys, un, unctx, ev->key);
    hms(a, sizeof a, ev->last_seen_ns);
    switch (ev->type) {
    case GT_EV_DROP_TO_ZERO:
        fprintf(f, "%s  DROP TO ZERO   %-6s silent since %s (%.0f s), expected %.3g flows/s, cause %s",
                when, key, a, ev->silence_s, ev->expected_rate, gt_cause_name(ev->cause));
        text_upstream(f, un, unctx, ev);
        break;
    case GT_EV_RESTORED:
        hms(b, sizeof b, ev->first_seen_ns);
        fprintf(f, "%s  RESTORED       %-6s back at %s after %.0f s dark (since %s), cause %s",
                when, key, b, ev->duration_s, a, gt_cause_name(ev->cause));
        text_upstream(f, un, unctx, ev);
        break;
    default:
        fprintf(f, "%s  NOT MEASURABLE %-6s %.3g flows/s: deciding would take %.0f s\n", when, key,
                ev->expected_rate, ev->expected_rate > 0 ? ev->threshold / ev->expected_rate : -1.0);
        break;
    }
}

void gt_events_out_fn(void *ctx, const struct gt_event *ev)
{
    struct gt_events_out *o = ctx;
    if (!o || !o->f)
        return;
    if (o->text)
        gt_event_write_text(o->f, o->keys, o->upstream_name, o->name_ctx, ev);
    else
        gt_event_write_json(o->f, o->keys, o->upstream_name, o->name_ctx, ev);
    fflush(o->f);
}

/* The event writer as a sink: JSON lines flushed each, or (text) held and
 * listed after the table at the end. */
struct ev_sink {
    FILE *f;
    int close, text;
    const struct gt_keys *keys;
    const gt_classifier *cls;
    char what[256];
    struct gt_event *held;
    size_t n, cap;
};

static const char *ev_upstream_name(void *ctx, uint32_t u)
{
    return gt_classifier_upstream_name(ctx, u);
}

static void ev_sink_event(void *self, const struct gt_event *ev)
{
    struct ev_sink *s = self;
    if (!s->text) {
        gt_event_write_json(s->f, s->keys, ev_upstream_name, (void *)s->cls, ev);
        fflush(s->f);
        return;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        struct gt_event *h = realloc(s->held, nc * sizeof *h);
        if (!h)
            return;
        s->held = h;
        s->cap = nc;
    }
    s->held[s->n++] = *ev;
}

static int ev_sink_finish(void *self, char *err, size_t errlen)
{
    struct ev_sink *s = self;
    if (s->text) {
        fprintf(s->f, "\n%zu event%s\n", s->n, s->n == 1 ? "" : "s");
        for (size_t i = 0; i < s->n; i++)
            gt_event_write_text(s->f, s->keys, ev_upstream_name, (void *)s->cls, &s->held[i]);
    }
    if (fflush(s->f) != 0 || ferror(s->f)) {
        snprintf(err, errlen, "%s: write failed: %s", s->what, strerror(errno));
        return -1;
    }
    return 0;
}

static void ev_sink_free(void *self)
{
    struct ev_sink *s = self;
    if (s->close)
        fclose(s->f);
    free(s->held);
    free(s);
}

int gt_events_sink(struct gt_sink *out, FILE *f, int close_f, int text, const struct gt_keys *keys,
                   const gt_classifier *cls, const char *what)
{
    struct ev_sink *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    *s = (struct ev_sink){ .f = f, .close = close_f, .text = text, .keys = keys, .cls = cls };
    snprintf(s->what, sizeof s->what, "%s", what);
    *out = (struct gt_sink){ text ? "events-text" : "events-json", s, NULL, ev_sink_event,
                             ev_sink_finish, ev_sink_free, 0 };
    return 0;
}
