/* A Prometheus HTTP API client: query_range through libcurl, answers parsed
 * by jansson (include/geotap/fleet_watch.h). */
#include "geotap/fleet_watch.h"

#include "../output/netlib.h"
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct gt_prom {
    CURL *curl;
    char *base;
    double timeout_s;
    char *body;
    size_t blen, bcap;
    json_t *root;
    struct gt_prom_series *series;
    double *tv;                 /* all samples' times then values, per series */
    size_t ns;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ctx)
{
    gt_prom *q = ctx;
    size_t len = sz * n;
    if (q->blen + len + 1 > q->bcap) {
        size_t cap = (q->blen + len + 1) * 2;
        char *b = realloc(q->body, cap);
        if (!b)
            return 0;
        q->body = b;
        q->bcap = cap;
    }
    memcpy(q->body + q->blen, p, len);
    q->blen += len;
    q->body[q->blen] = 0;
    return len;
}

gt_prom *gt_prom_new(const char *base, double timeout_s, char *err, size_t errlen)
{
    if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
        snprintf(err, errlen, "'%s': want an http:// or https:// URL", base);
        return NULL;
    }
    if (gt_curl_load(err, errlen) != 0)    /* loads and initialises it, once */
        return NULL;
    gt_prom *p = calloc(1, sizeof *p);
    if (!p || !(p->base = strdup(base)) || !(p->curl = curl_easy_init())) {
        gt_prom_free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t l = strlen(p->base);
    while (l && p->base[l - 1] == '/')
        p->base[--l] = 0;
    if (l >= 7 && !strcmp(p->base + l - 7, "/api/v1"))
        p->base[l - 7] = 0;
    p->timeout_s = timeout_s > 0 ? timeout_s : 10;
    return p;
}

void gt_prom_free(gt_prom *p)
{
    if (!p)
        return;
    if (p->curl)
        curl_easy_cleanup(p->curl);
    json_decref(p->root);
    free(p->series);
    free(p->tv);
    free(p->body);
    free(p->base);
    free(p);
}

static double num(json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        double d = strtod(s, &end);
        return *end ? 0 : d;
    }
    return json_number_value(v);
}

int gt_prom_range(gt_prom *p, const char *promql, int64_t start, int64_t end, uint32_t step,
                  const char *const *labels, unsigned nl, const struct gt_prom_series **out, size_t *n,
                  char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char *q = curl_easy_escape(p->curl, promql, 0);
    size_t ul = strlen(p->base) + (q ? strlen(q) : 0) + 128;
    char *url = malloc(ul);
    if (!q || !url) {
        curl_free(q);
        free(url);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* nocache=1: VictoriaMetrics would otherwise align start to a multiple
     * of step (the bins are read a lag after their end); others ignore it */
    snprintf(url, ul, "%s/api/v1/query_range?query=%s&start=%" PRId64 "&end=%" PRId64 "&step=%" PRIu32 "&nocache=1",
             p->base, q, start, end, step ? step : 1);
    curl_free(q);
    p->blen = 0;
    curl_easy_reset(p->curl);
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, (long)(p->timeout_s * 1000));
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(p->curl);
    free(url);
    long code = 0;
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", p->base, curl_easy_strerror(rc));
        return -1;
    }
    json_decref(p->root);
    json_error_t je;
    p->root = p->blen ? json_loadb(p->body, p->blen, 0, &je) : NULL;
    json_t *data = json_object_get(p->root, "data");
    const char *status = json_string_value(json_object_get(p->root, "status"));
    if (!status || strcmp(status, "success") || !data) {
        const char *e = json_string_value(json_object_get(p->root, "error"));
        snprintf(err, errlen, "%s: HTTP %ld: %s", p->base, code, e ? e : p->root ? "not a success" : "not JSON");
        return -1;
    }
    json_t *res = json_object_get(data, "result");
    if (!json_is_array(res)) {
        snprintf(err, errlen, "%s: answer without a result list", p->base);
        return -1;
    }
    size_t ns = json_array_size(res), total = 0;
    for (size_t i = 0; i < ns; i++)
        total += json_array_size(json_object_get(json_array_get(res, i), "values"));
    free(p->series);
    free(p->tv);
    p->series = calloc(ns ? ns : 1, sizeof *p->series);
    p->tv = malloc((2 * total + 1) * sizeof *p->tv);
    if (!p->series || !p->tv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double *tv = p->tv;
    for (size_t i = 0; i < ns; i++) {
        json_t *s = json_array_get(res, i), *m = json_object_get(s, "metric"), *vals = json_object_get(s, "values");
        struct gt_prom_series *o = &p->series[i];
        for (unsigned l = 0; l < nl && l < 4; l++) {
            const char *v = json_string_value(json_object_get(m, labels[l]));
            o->label[l] = v ? v : "";
        }
        size_t k = json_array_size(vals);
        o->n = k;
        o->t = tv;
        o->v = tv + k;
        for (size_t j = 0; j < k; j++) {
            json_t *pt = json_array_get(vals, j);
            tv[j] = num(json_array_get(pt, 0));
            tv[k + j] = num(json_array_get(pt, 1));
        }
        tv += 2 * k;
    }
    *out = p->series;
    *n = ns;
    return 0;
}
