/* The pure part of alert delivery: receiver URLs checked, and events rendered
 * for receivers (Alertmanager labels, the readable line, the event JSON), each
 * into a malloc'ed string. The text and JSON come from the event writers of
 * events_json.c, so they say the same as the --events file. */
#include "geotap/alerts.h"
#include "geotap/output.h"

#include "netlib.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Close the memstream and return its text without the trailing newline;
 * NULL when writing failed. */
static char *take(FILE *f, char **buf)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(*buf);
        return NULL;
    }
    size_t n = strlen(*buf);
    if (n && (*buf)[n - 1] == '\n')
        (*buf)[n - 1] = 0;
    return *buf;
}

typedef void (*event_writer)(FILE *, const struct gt_keys *, gt_upstream_name_fn, void *,
                             const struct gt_event *);

/* One event through a writer of events.h, into a string. */
static char *render(event_writer w, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                    const struct gt_event *ev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    w(f, keys, un, unctx, ev);
    return take(f, &buf);
}

char *gt_alert_text(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                    const struct gt_event *ev)
{
    return render(gt_event_write_text, keys, un, unctx, ev);
}

char *gt_alert_event_json(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                          const struct gt_event *ev)
{
    return render(gt_event_write_json, keys, un, unctx, ev);
}

static void label(FILE *f, const char **sep, const char *name, const char *value)
{
    fprintf(f, "%s\"%s\":", *sep, name);
    gt_json_string(f, value);
    *sep = ",";
}

/* Label values are strings: the key's dimensions as the csv columns show
 * them (keyname.h: "KP", "13335", the upstream's name or number, "" for
 * none, "home"). */
static void key_labels(FILE *f, const char **sep, const struct gt_keys *keys, gt_upstream_name_fn un,
                       void *unctx, uint32_t id)
{
    char v[32];
    if (!keys || !keys->keys || id >= keys->nkeys) {
        snprintf(v, sizeof v, "%" PRIu32, id);
        label(f, sep, "key", v);
        return;
    }
    static const unsigned dl[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };
    static const char *const dn[] = { "country", "asn", "upstream" };
    struct gt_key_names nm = { .upstream = un, .ctx = unctx };
    unsigned dims = keys->dims ? keys->dims : GT_DIM_COUNTRY;
    for (int j = 0; j < 3; j++)
        if (dims & dl[j]) {
            char val[256];
            gt_key_value(keys, &nm, id, dl[j], val, sizeof val);
            label(f, sep, dn[j], val);
        }
}

char *gt_alert_labels(const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                      const struct gt_event *ev, const char *sensor, int with_cause)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const char *sep = "";
    /* restored resolves the drop's alert: both carry the drop's name. */
    enum gt_event_type t = ev->type == GT_EV_RESTORED ? GT_EV_DROP_TO_ZERO : ev->type;
    fputc('{', f);
    label(f, &sep, "alertname", gt_event_type_name(t));
    label(f, &sep, "sensor", sensor ? sensor : "");
    if (ev->type != GT_EV_CAPTURE_GAP)
        key_labels(f, &sep, keys, un, unctx, ev->key);
    if (with_cause && ev->type != GT_EV_CAPTURE_GAP)
        label(f, &sep, "cause", gt_cause_name(ev->cause));
    fputc('}', f);
    return take(f, &buf);
}

char *gt_alert_post_url(const char *url, int alertmanager, char *err, size_t errlen)
{
    const char *what = alertmanager ? "Alertmanager URL" : "webhook URL";
    if (gt_curl_load(err, errlen) != 0)
        return NULL;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *out = NULL;
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        snprintf(err, errlen, "%s '%s': not a URL with a host", what, url);
    } else if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
        snprintf(err, errlen, "%s '%s': scheme %s, expected http or https", what, url, scheme);
    } else {
        size_t n = strlen(url);
        while (n && url[n - 1] == '/')
            n--;
        const char *tail = "/api/v2/alerts";
        int has = n >= strlen(tail) && !strncmp(url + n - strlen(tail), tail, strlen(tail));
        if (!alertmanager || has) {
            out = strdup(url);
        } else if ((out = malloc(n + strlen(tail) + 1))) {
            memcpy(out, url, n);
            strcpy(out + n, tail);
        }
        if (!out)
            snprintf(err, errlen, "out of memory");
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return out;
}
