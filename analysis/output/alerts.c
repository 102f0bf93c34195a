/* Alert delivery (alerts.h): a bounded queue filled by the caller, and one
 * thread that owns the alert table, the webhook outbox and the HTTP handles.
 * The caller holds the mutex only to put a rendered event in the queue; the
 * thread holds it only to take them out, never across a request. */
#include "geotap/alerts.h"
#include "geotap/clock.h"
#include "geotap/output.h"

#include "netlib.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AM = 0, HOOK = 1 };

struct item {                   /* an event, rendered by the caller */
    enum gt_event_type type;
    char *id, *labels, *text, *json;
    int64_t starts_ns, ends_ns;
    enum gt_cause cause;
};

struct alert {
    char *id, *labels, *summary, *restored;
    int64_t starts_ns, ends_ns; /* ends 0: firing, re-sent with now + 4 * resend */
    uint32_t pending;           /* Alertmanagers that have not had this state yet */
};

struct receiver {
    int kind;
    char *url;
    CURL *h;
    double next_try, backoff, last_sent;
};

struct gt_alerts {
    struct gt_alerts_opts o;
    char sensor[256];
    struct receiver rx[2 * GT_ALERTS_MAX_RECEIVERS];
    uint32_t nam, nhook;
    struct curl_slist *hdr;     /* Content-Type: application/json */

    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    struct item *q;             /* ring [queue_len] */
    uint32_t qhead, qlen;
    int stop, inflight, kick;      /* kick: a flush wants a round now */
    uint32_t outstanding;       /* alerts/messages not yet delivered everywhere */
    pthread_t thread;

    /* thread-owned */
    struct alert *al;
    uint32_t nal;
    struct { char *body; uint32_t pending; } *msg;
    uint32_t nmsg;

    _Atomic uint64_t sent, failed, dropped, queued;
    atomic_int stopping;        /* read by the thread between and inside requests */
};

static void count(_Atomic uint64_t *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }

static void item_free(struct item *it)
{
    free(it->id);
    free(it->labels);
    free(it->text);
    free(it->json);
    memset(it, 0, sizeof *it);
}

static void alert_free(struct alert *al)
{
    free(al->id);
    free(al->labels);
    free(al->summary);
    free(al->restored);
}

static void *run(void *arg);

gt_alerts *gt_alerts_new(const struct gt_alerts_opts *o, char *err, size_t errlen)
{
    if (o->nalertmanagers + o->nwebhooks == 0) {
        snprintf(err, errlen, "no Alertmanager or webhook URL given");
        return NULL;
    }
    if (o->nalertmanagers > GT_ALERTS_MAX_RECEIVERS || o->nwebhooks > GT_ALERTS_MAX_RECEIVERS) {
        snprintf(err, errlen, "at most %d Alertmanagers and %d webhooks", GT_ALERTS_MAX_RECEIVERS,
                 GT_ALERTS_MAX_RECEIVERS);
        return NULL;
    }
    if (gt_curl_load(err, errlen) != 0)    /* loads and initialises it, once */
        return NULL;
    gt_alerts *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->o = *o;
    if (!a->o.queue_len) a->o.queue_len = 1024;
    if (!a->o.max_alerts) a->o.max_alerts = 4096;
    if (a->o.resend_s <= 0) a->o.resend_s = 60;
    if (a->o.gap_hold_s <= 0) a->o.gap_hold_s = 3600;
    if (a->o.backoff_min_s <= 0) a->o.backoff_min_s = 0.5;
    if (a->o.backoff_max_s < a->o.backoff_min_s) a->o.backoff_max_s = a->o.backoff_min_s > 60 ? a->o.backoff_min_s : 60;
    if (a->o.timeout_s <= 0) a->o.timeout_s = 5;
    if (o->sensor && *o->sensor)
        snprintf(a->sensor, sizeof a->sensor, "%s", o->sensor);
    else if (gethostname(a->sensor, sizeof a->sensor - 1) != 0)
        snprintf(a->sensor, sizeof a->sensor, "geotap");
    a->o.sensor = a->sensor;
    a->o.alertmanagers = a->o.webhooks = NULL;   /* copied below */

    uint32_t n = 0;
    for (uint32_t i = 0; i < o->nalertmanagers + o->nwebhooks; i++) {
        int kind = i < o->nalertmanagers ? AM : HOOK;
        const char *url = kind == AM ? o->alertmanagers[i] : o->webhooks[i - o->nalertmanagers];
        a->rx[n].kind = kind;
        if (!(a->rx[n].url = gt_alert_post_url(url, kind == AM, err, errlen)))
            goto fail;
        if (!(a->rx[n].h = curl_easy_init())) {
            snprintf(err, errlen, "libcurl: cannot create a handle");
            goto fail;
        }
        n++;
    }
    a->nam = o->nalertmanagers;
    a->nhook = o->nwebhooks;
    a->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    a->q = calloc(a->o.queue_len, sizeof *a->q);
    a->al = calloc(a->o.max_alerts, sizeof *a->al);
    a->msg = calloc(a->o.queue_len, sizeof *a->msg);
    if (!a->hdr || !a->q || !a->al || !a->msg) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->wake, &ca);
    pthread_cond_init(&a->idle, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&a->thread, NULL, run, a);
    if (rc) {
        snprintf(err, errlen, "cannot start the alert thread: %s", strerror(rc));
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->wake);
        pthread_cond_destroy(&a->idle);
        goto fail;
    }
    return a;
fail:
    for (uint32_t i = 0; i < 2 * GT_ALERTS_MAX_RECEIVERS; i++) {
        free(a->rx[i].url);
        if (a->rx[i].h)
            curl_easy_cleanup(a->rx[i].h);
    }
    curl_slist_free_all(a->hdr);
    free(a->q);
    free(a->al);
    free(a->msg);
    free(a);
    return NULL;
}

int gt_alerts_event(gt_alerts *a, const struct gt_keys *keys, gt_upstream_name_fn un, void *unctx,
                    const struct gt_event *ev)
{
    struct item it = { .type = ev->type, .cause = ev->cause };
    int for_am = a->nam && ev->type != GT_EV_NOT_MEASURABLE;
    if (!for_am && !a->nhook)
        return 0;
    if (for_am) {
        it.id = gt_alert_labels(keys, un, unctx, ev, a->sensor, 0);
        it.labels = gt_alert_labels(keys, un, unctx, ev, a->sensor, 1);
        it.text = gt_alert_text(keys, un, unctx, ev);
        it.starts_ns = ev->last_seen_ns;
        if (ev->type == GT_EV_RESTORED)   /* a resolved alert needs an end time */
            it.ends_ns = ev->first_seen_ns ? ev->first_seen_ns : ev->detected_ns ? ev->detected_ns : gt_realtime_ns();
        else if (ev->type == GT_EV_CAPTURE_GAP)
            it.ends_ns = gt_realtime_ns() + (int64_t)(a->o.gap_hold_s * 1e9);
    }
    if (a->nhook)
        it.json = gt_alert_event_json(keys, un, unctx, ev);
    if ((for_am && (!it.id || !it.labels || !it.text)) || (a->nhook && !it.json)) {
        item_free(&it);
        count(&a->dropped, 1);
        return -1;
    }
    pthread_mutex_lock(&a->mu);
    int ok = a->qlen < a->o.queue_len;
    if (ok) {
        a->q[(a->qhead + a->qlen) % a->o.queue_len] = it;
        a->qlen++;
        pthread_cond_signal(&a->wake);
    }
    pthread_mutex_unlock(&a->mu);
    if (!ok) {
        item_free(&it);
        count(&a->dropped, 1);
        return -1;
    }
    count(&a->queued, 1);
    return 0;
}

void gt_alerts_event_fn(void *ctx, const struct gt_event *ev)
{
    struct gt_alerts_sink *s = ctx;
    gt_alerts_event(s->alerts, s->keys, s->upstream_name, s->name_ctx, ev);
}

/* --- the delivery thread --- */

static struct alert *find_alert(gt_alerts *a, const char *id)
{
    for (uint32_t i = 0; i < a->nal; i++)
        if (!strcmp(a->al[i].id, id))
            return &a->al[i];
    return NULL;
}

static uint32_t am_bits(const gt_alerts *a) { return a->nam >= 32 ? UINT32_MAX : (1u << a->nam) - 1; }

/* Merge one event into the alert table and the webhook outbox; takes the
 * item's strings. */
static void merge(gt_alerts *a, struct item *it)
{
    if (it->json) {
        if (a->nmsg < a->o.queue_len) {
            a->msg[a->nmsg].body = it->json;
            a->msg[a->nmsg].pending = (1u << a->nhook) - 1;
            a->nmsg++;
            it->json = NULL;
        } else {
            count(&a->dropped, 1);
        }
    }
    if (!it->id)
        return;
    struct alert *al = find_alert(a, it->id);
    if (it->type == GT_EV_RESTORED) {
        if (al) {   /* resolve the drop's alert under its own labels */
            free(al->restored);
            al->restored = it->text;
            it->text = NULL;
            al->ends_ns = it->ends_ns;
            al->pending = am_bits(a);
            return;
        }
        /* no drop seen (e.g. started during the outage): a resolved alert of its own */
    }
    if (!al) {
        if (a->nal == a->o.max_alerts) {
            count(&a->dropped, 1);
            return;
        }
        al = &a->al[a->nal++];
        memset(al, 0, sizeof *al);
        al->id = it->id;
        it->id = NULL;
    }
    free(al->labels);
    free(al->summary);
    free(al->restored);
    al->labels = it->labels;
    al->summary = it->text;
    al->restored = NULL;
    it->labels = it->text = NULL;
    al->starts_ns = it->starts_ns;
    al->ends_ns = it->ends_ns;
    al->pending = am_bits(a);
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

/* libcurl's progress callback: a non-zero return aborts the request, so
 * gt_alerts_free does not wait out a receiver that does not answer. */
static int abort_if_stopping(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return atomic_load_explicit(&((gt_alerts *)u)->stopping, memory_order_relaxed);
}

/* POST body; 0 when accepted (2xx), 1 when rejected for good (4xx but 408,
 * 429: retrying the same body cannot help), -1 to retry. */
static int post(gt_alerts *a, struct receiver *r, const char *body)
{
    CURL *h = r->h;
    long code = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, a->hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(a->o.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(a->o.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_if_stopping);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && code >= 200 && code < 300) {
        count(&a->sent, 1);
        r->backoff = 0;
        r->next_try = 0;
        return 0;
    }
    count(&a->failed, 1);
    if (rc == CURLE_OK && code >= 400 && code < 500 && code != 408 && code != 429)
        return 1;
    r->backoff = r->backoff ? r->backoff * 2 : a->o.backoff_min_s;
    if (r->backoff > a->o.backoff_max_s)
        r->backoff = a->o.backoff_max_s;
    r->next_try = gt_mono_s() + r->backoff;
    return -1;
}

static void json_time(FILE *f, const char *name, int64_t ns)
{
    char t[GT_TIME_LEN];
    gt_time_format_ns(t, sizeof t, ns, GT_TIME_US);
    fprintf(f, ",\"%s\":\"%s\"", name, t);
}

/* The alerts for Alertmanager number i: all firing ones, and the others it
 * has not had yet. NULL when there are none (or out of memory). */
static char *am_payload(gt_alerts *a, uint32_t i)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int64_t now = gt_realtime_ns(), firing_end = now + (int64_t)(4 * a->o.resend_s * 1e9);
    int n = 0;
    fputc('[', f);
    for (uint32_t k = 0; k < a->nal; k++) {
        struct alert *al = &a->al[k];
        if (al->ends_ns && !(al->pending & (1u << i)))
            continue;
        int64_t end = al->ends_ns ? al->ends_ns : firing_end;
        int64_t start = al->starts_ns && al->starts_ns < end ? al->starts_ns : end - 1000000;
        fprintf(f, "%s{\"labels\":%s,\"annotations\":{\"summary\":", n++ ? "," : "", al->labels);
        gt_json_string(f, al->summary);
        if (al->restored) {
            fputs(",\"restored\":", f);
            gt_json_string(f, al->restored);
        }
        fputc('}', f);
        json_time(f, "startsAt", start);
        json_time(f, "endsAt", end);
        fputc('}', f);
    }
    fputc(']', f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !n) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* One round over the receivers that are due; returns the next time one is. */
static double deliver(gt_alerts *a)
{
    double now = gt_mono_s(), next = now + a->o.resend_s;
    for (uint32_t i = 0; i < a->nam && !atomic_load(&a->stopping); i++) {
        struct receiver *r = &a->rx[i];
        int pending = 0, firing = 0;
        for (uint32_t k = 0; k < a->nal; k++) {
            pending |= (a->al[k].pending >> i) & 1;
            firing |= !a->al[k].ends_ns;
        }
        double due = pending ? now : firing ? r->last_sent + a->o.resend_s : -1;
        if (due < 0)
            continue;
        if (due < r->next_try)
            due = r->next_try;
        if (due > now) {
            next = due < next ? due : next;
            continue;
        }
        char *body = am_payload(a, i);
        if (!body)
            continue;
        int rc = post(a, r, body);
        free(body);
        if (rc >= 0) {
            r->last_sent = gt_mono_s();
            for (uint32_t k = 0; k < a->nal; k++) {
                if (rc == 1 && (a->al[k].pending >> i & 1))
                    count(&a->dropped, 1);
                a->al[k].pending &= ~(1u << i);
            }
            if (firing && r->last_sent + a->o.resend_s < next)
                next = r->last_sent + a->o.resend_s;
        } else if (r->next_try < next) {
            next = r->next_try;
        }
    }
    /* resolved and one-shot alerts every Alertmanager has had are done */
    uint32_t w = 0;
    for (uint32_t k = 0; k < a->nal; k++) {
        if (a->al[k].ends_ns && !a->al[k].pending)
            alert_free(&a->al[k]);
        else
            a->al[w++] = a->al[k];
    }
    a->nal = w;

    for (uint32_t j = 0; j < a->nhook && !atomic_load(&a->stopping); j++) {
        struct receiver *r = &a->rx[a->nam + j];
        for (uint32_t m = 0; m < a->nmsg && !atomic_load(&a->stopping); m++) {
            if (!(a->msg[m].pending >> j & 1))
                continue;
            if (r->next_try > gt_mono_s()) {
                next = r->next_try < next ? r->next_try : next;
                break;
            }
            int rc = post(a, r, a->msg[m].body);
            if (rc < 0) {
                next = r->next_try < next ? r->next_try : next;
                break;
            }
            if (rc == 1)
                count(&a->dropped, 1);
            a->msg[m].pending &= ~(1u << j);
        }
    }
    w = 0;
    for (uint32_t m = 0; m < a->nmsg; m++) {
        if (a->msg[m].pending)
            a->msg[w++] = a->msg[m];
        else
            free(a->msg[m].body);
    }
    a->nmsg = w;
    return next;
}

static uint32_t outstanding(const gt_alerts *a)
{
    uint32_t n = a->nmsg;
    for (uint32_t k = 0; k < a->nal; k++)
        n += a->al[k].pending != 0;
    return n;
}

static void *run(void *arg)
{
    gt_alerts *a = arg;
    double next = 0;
    struct item *batch = calloc(a->o.queue_len, sizeof *batch);
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->stop && !a->qlen && !a->kick && gt_mono_s() < next) {
            double t = next;
            struct timespec ts = { (time_t)t, (long)((t - (double)(time_t)t) * 1e9) };
            int rc = pthread_cond_timedwait(&a->wake, &a->mu, &ts);
            if (rc && rc != ETIMEDOUT && rc != EINTR)
                break;
        }
        if (a->stop)
            break;
        uint32_t n = 0;
        if (batch) {
            for (; a->qlen; a->qlen--, a->qhead = (a->qhead + 1) % a->o.queue_len)
                batch[n++] = a->q[a->qhead];
        }
        a->inflight = 1;
        a->kick = 0;
        pthread_mutex_unlock(&a->mu);

        for (uint32_t i = 0; i < n; i++) {
            merge(a, &batch[i]);
            item_free(&batch[i]);
        }
        next = deliver(a);

        pthread_mutex_lock(&a->mu);
        a->inflight = 0;
        a->outstanding = outstanding(a);
        pthread_cond_broadcast(&a->idle);
    }
    pthread_mutex_unlock(&a->mu);
    free(batch);
    return NULL;
}

int gt_alerts_flush(gt_alerts *a, double timeout_s)
{
    double end = gt_mono_s() + timeout_s;
    struct timespec ts = { (time_t)end, (long)((end - (double)(time_t)end) * 1e9) };
    int done, rc = 0;
    pthread_mutex_lock(&a->mu);
    /* a fresh round, so that outstanding counts what was queued before the call */
    a->outstanding = UINT32_MAX;
    a->kick = 1;
    pthread_cond_signal(&a->wake);
    while (!(done = !a->qlen && !a->inflight && !a->outstanding) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&a->idle, &a->mu, &ts);
    pthread_mutex_unlock(&a->mu);
    return done ? 0 : -1;
}

void gt_alerts_stats(gt_alerts *a, struct gt_alerts_stats *st)
{
    st->sent = atomic_load_explicit(&a->sent, memory_order_relaxed);
    st->failed = atomic_load_explicit(&a->failed, memory_order_relaxed);
    st->dropped = atomic_load_explicit(&a->dropped, memory_order_relaxed);
    st->queued = atomic_load_explicit(&a->queued, memory_order_relaxed);
}

void gt_alerts_free(gt_alerts *a, struct gt_alerts_stats *final)
{
    if (!a)
        return;
    atomic_store(&a->stopping, 1);
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    count(&a->dropped, a->qlen + outstanding(a));
    for (; a->qlen; a->qlen--, a->qhead = (a->qhead + 1) % a->o.queue_len)
        item_free(&a->q[a->qhead]);
    for (uint32_t k = 0; k < a->nal; k++)
        alert_free(&a->al[k]);
    for (uint32_t m = 0; m < a->nmsg; m++)
        free(a->msg[m].body);
    for (uint32_t i = 0; i < a->nam + a->nhook; i++) {
        free(a->rx[i].url);
        curl_easy_cleanup(a->rx[i].h);
    }
    if (final)
        gt_alerts_stats(a, final);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->wake);
    pthread_cond_destroy(&a->idle);
    curl_slist_free_all(a->hdr);
    free(a->q);
    free(a->al);
    free(a->msg);
    free(a);
}
