/* Alert delivery without a server: the rendering against hand-written
 * strings, URL checks, and that receivers which are down (connection refused,
 * or a listener that never answers) neither block the caller nor grow memory:
 * no enqueue of a burst waits for the network, and every event is either queued or counted as
 * dropped; and two producer threads against a receiver that answers: all
 * delivered, nothing dropped. Runs under TSan too (suite threads). */
#include "check.h"
#include "geotap/alerts.h"
#include "geotap/clock.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T0 1796155200LL   /* 2026-12-01T20:00:00Z (date -u -d ... +%s) */

static const char *upname(void *ctx, uint32_t u)
{
    (void)ctx;
    return u == 7 ? "Level3" : NULL;
}

/* A loopback TCP socket bound to a free port; listening when listen_it.
 * Returns the fd and the port in *port. */
static int loopback_socket(int listen_it, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || (listen_it && listen(fd, 1) != 0)) {
        perror("loopback socket");
        exit(1);
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* 100 country keys "AA".."DV". */
static struct gt_keys hundred_keys(void)
{
    static struct gt_key kt[100];
    for (int i = 0; i < 100; i++) {
        kt[i].cc[0] = (char)('A' + i / 26);
        kt[i].cc[1] = (char)('A' + i % 26);
    }
    return (struct gt_keys){ .dims = GT_DIM_COUNTRY, .nkeys = 100, .keys = kt };
}

static void test_render(void)
{
    struct gt_key kt[2] = { { .cc = "KP", .asn = 131279, .upstream = 7 }, { .home = 1 } };
    struct gt_keys k = { .dims = GT_DIM_COUNTRY | GT_DIM_ASN | GT_DIM_UPSTREAM, .nkeys = 2, .keys = kt };
    struct gt_event ev = {
        .type = GT_EV_DROP_TO_ZERO, .key = 0, .last_seen_ns = T0 * 1000000000LL,
        .detected_ns = (T0 + 30) * 1000000000LL, .silence_s = 30, .expected_rate = 2.5,
        .cause = GT_CAUSE_INSIDE, .upstream_ratio = -1,
    };
    char *s = gt_alert_labels(&k, upname, NULL, &ev, "tap\"1", 1);
    CHECK_MSG(s && !strcmp(s, "{\"alertname\":\"drop_to_zero\",\"sensor\":\"tap\\\"1\",\"country\":\"KP\","
                              "\"asn\":\"131279\",\"upstream\":\"Level3\",\"cause\":\"inside_country\"}"), "%s", s);
    free(s);
    /* restored carries the drop's alertname; without cause: the identity */
    ev.type = GT_EV_RESTORED;
    ev.key = 1;
    s = gt_alert_labels(&k, upname, NULL, &ev, "t", 0);
    CHECK_MSG(s && !strcmp(s, "{\"alertname\":\"drop_to_zero\",\"sensor\":\"t\",\"country\":\"home\","
                              "\"asn\":\"home\",\"upstream\":\"home\"}"), "%s", s);
    free(s);
    ev.type = GT_EV_CAPTURE_GAP;
    ev.key = GT_NO_KEY;
    s = gt_alert_labels(&k, upname, NULL, &ev, "t", 1);
    CHECK_MSG(s && !strcmp(s, "{\"alertname\":\"capture_gap\",\"sensor\":\"t\"}"), "%s", s);
    free(s);

    struct gt_keys kc = { .dims = GT_DIM_COUNTRY, .nkeys = 1, .keys = kt };
    ev.type = GT_EV_DROP_TO_ZERO;
    ev.key = 0;
    s = gt_alert_text(&kc, NULL, NULL, &ev);
    CHECK_MSG(s && !strcmp(s, "2026-12-01 20:00:30Z  DROP TO ZERO   KP     silent since 20:00:00Z (30 s), "
                              "expected 2.5 flows/s, cause inside_country"), "%s", s);
    free(s);
    s = gt_alert_event_json(&kc, NULL, NULL, &ev);
    CHECK_MSG(s && !strncmp(s, "{\"type\":\"drop_to_zero\",\"key\":{\"country\":\"KP\"},"
                               "\"last_seen\":\"2026-12-01T20:00:00.000000Z\",", 76) && !strchr(s, '\n'), "%s", s);
    free(s);
}

static void test_urls(void)
{
    char err[256];
    char *u = gt_alert_post_url("http://127.0.0.1:9093/", 1, err, sizeof err);
    CHECK_MSG(u && !strcmp(u, "http://127.0.0.1:9093/api/v2/alerts"), "%s", u ? u : err);
    free(u);
    u = gt_alert_post_url("https://am.example:9093/api/v2/alerts", 1, err, sizeof err);
    CHECK_MSG(u && !strcmp(u, "https://am.example:9093/api/v2/alerts"), "%s", u ? u : err);
    free(u);
    u = gt_alert_post_url("http://[::1]:8080/hook/", 0, err, sizeof err);
    CHECK_MSG(u && !strcmp(u, "http://[::1]:8080/hook/"), "%s", u ? u : err);
    free(u);
    const char *bad[] = { "ftp://127.0.0.1:9093" };
    struct gt_alerts_opts o = { .alertmanagers = bad, .nalertmanagers = 1 };
    CHECK(!gt_alerts_new(&o, err, sizeof err));
    CHECK_MSG(strstr(err, "ftp://127.0.0.1:9093") && strstr(err, "scheme ftp"), "%s", err);
    const char *nohost[] = { "not a url" };
    o.alertmanagers = NULL;
    o.nalertmanagers = 0;
    o.webhooks = nohost;
    o.nwebhooks = 1;
    CHECK(!gt_alerts_new(&o, err, sizeof err));
    CHECK_MSG(strstr(err, "webhook URL 'not a url'"), "%s", err);
    struct gt_alerts_opts none = { 0 };
    CHECK(!gt_alerts_new(&none, err, sizeof err));
    CHECK_MSG(strstr(err, "no Alertmanager or webhook"), "%s", err);
}

/* Receivers down: a burst of N events costs the caller microseconds each. */
static void test_down_receivers(void)
{
    int refused_port, silent_port;
    close(loopback_socket(0, &refused_port));          /* nothing listens there now */
    int silent = loopback_socket(1, &silent_port);     /* accepts into the backlog, never answers */
    char u1[64], u2[64], u3[64];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d", refused_port);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d/", silent_port);
    snprintf(u3, sizeof u3, "http://127.0.0.1:%d/hook", silent_port);
    const char *am[] = { u1, u2 }, *hook[] = { u3 };
    struct gt_alerts_opts o = {
        .alertmanagers = am, .nalertmanagers = 2, .webhooks = hook, .nwebhooks = 1,
        .sensor = "test", .queue_len = 256, .max_alerts = 64, .timeout_s = 2,
        .backoff_min_s = 0.05, .backoff_max_s = 0.2,
    };
    char err[256];
    gt_alerts *a = gt_alerts_new(&o, err, sizeof err);
    CHECK_MSG(a, "%s", err);
    if (!a)
        return;
    struct gt_keys k = hundred_keys();
    enum { N = 5000 };
    double worst = 0, t0 = gt_mono_s();
    uint64_t ok = 0;
    for (int i = 0; i < N; i++) {
        struct gt_event ev = {
            .type = i % 2 ? GT_EV_RESTORED : GT_EV_DROP_TO_ZERO, .key = (uint32_t)(i / 2 % 100),
            .last_seen_ns = (T0 + i) * 1000000000LL, .first_seen_ns = (T0 + i + 5) * 1000000000LL,
            .detected_ns = (T0 + i + 5) * 1000000000LL, .upstream_ratio = -1,
        };
        double s = gt_mono_s();
        ok += gt_alerts_event(a, &k, NULL, NULL, &ev) == 0;
        double d = gt_mono_s() - s;
        worst = d > worst ? d : worst;
    }
    double total = gt_mono_s() - t0;
    fprintf(stderr, "burst of %d events with receivers down: %.1f ms, %.2f us/event, worst %.2f ms\n", N,
            total * 1e3, total / N * 1e6, worst * 1e3);
    /* A blocked caller would wait for timeout_s (2 s) at least once. */
    CHECK_MSG(worst < 0.5, "worst enqueue %.3f s", worst);
    struct gt_alerts_stats st;
    gt_alerts_stats(a, &st);
    CHECK_EQ_U(st.queued, ok);
    CHECK(ok < N);                         /* bounded: the queue (256) is full while a request waits */
    CHECK(st.dropped >= N - ok);           /* what the queue refused is counted */
    CHECK_EQ_U(st.sent, 0);
    CHECK(gt_alerts_flush(a, 0.3) == -1);  /* nothing can be delivered */
    double f0 = gt_mono_s();
    gt_alerts_free(a, &st);
    double freed = gt_mono_s() - f0;
    /* free aborts the request in flight (libcurl checks about once a second)
     * instead of waiting out the 2 s timeout of each silent receiver */
    fprintf(stderr, "free with a silent receiver: %.3f s\n", freed);
    CHECK_MSG(freed < 1.9, "free took %.3f s", freed);
    CHECK(st.failed > 0);
    CHECK_EQ_U(st.sent, 0);
    close(silent);
}

/* A minimal HTTP responder for the threaded test: answers every request
 * 200 and counts the bodies that are JSON arrays of alerts. */
struct stub {
    int fd;
    int requests, arrays;
};

static void *stub_run(void *arg)
{
    struct stub *st = arg;
    for (;;) {
        int c = accept(st->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[1 << 16];
        size_t n = 0;
        long want = -1;
        char *body = NULL;
        while (n < sizeof buf - 1) {
            ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            buf[n] = 0;
            if (!body && (body = strstr(buf, "\r\n\r\n"))) {
                body += 4;
                char *cl = strcasestr(buf, "Content-Length:");
                want = cl ? strtol(cl + 15, NULL, 10) : 0;
            }
            if (body && (long)(buf + n - body) >= want)
                break;
        }
        if (!body) {   /* the test's shutdown poke */
            close(c);
            return NULL;
        }
        st->requests++;
        st->arrays += body[0] == '[' && strstr(body, "\"alertname\":\"drop_to_zero\"") != NULL;
        const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (write(c, ok, strlen(ok)) < 0)
            perror("stub write");
        close(c);
    }
}

struct producer {
    struct gt_alerts_sink *sink;
    int first;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < 200; i++) {
        struct gt_event ev = {
            .type = i % 2 ? GT_EV_RESTORED : GT_EV_DROP_TO_ZERO, .key = (uint32_t)(p->first + i / 2 % 50),
            .last_seen_ns = (T0 + i) * 1000000000LL, .first_seen_ns = (T0 + i + 5) * 1000000000LL,
            .detected_ns = (T0 + i + 5) * 1000000000LL, .upstream_ratio = -1,
        };
        gt_alerts_event_fn(p->sink, &ev);
    }
    return NULL;
}

/* Two producers and the delivery thread against a receiver that answers:
 * everything delivered, nothing dropped (also under TSan). */
static void test_delivery_threads(void)
{
    struct stub st = { 0 };
    int port;
    st.fd = loopback_socket(1, &port);
    listen(st.fd, 64);
    pthread_t srv, p1, p2;
    pthread_create(&srv, NULL, stub_run, &st);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d", port);
    const char *am[] = { u };
    struct gt_alerts_opts o = { .alertmanagers = am, .nalertmanagers = 1, .sensor = "t", .queue_len = 1024 };
    char err[256];
    gt_alerts *a = gt_alerts_new(&o, err, sizeof err);
    CHECK_MSG(a, "%s", err);
    struct gt_keys k = hundred_keys();
    struct gt_alerts_sink sink = { .alerts = a, .keys = &k };
    struct producer pa = { &sink, 0 }, pb = { &sink, 50 };
    if (a) {
        pthread_create(&p1, NULL, produce, &pa);
        pthread_create(&p2, NULL, produce, &pb);
        pthread_join(p1, NULL);
        pthread_join(p2, NULL);
        CHECK(gt_alerts_flush(a, 20) == 0);
        struct gt_alerts_stats s;
        gt_alerts_free(a, &s);
        CHECK_EQ_U(s.queued, 400);
        CHECK_EQ_U(s.dropped, 0);
        CHECK_EQ_U(s.failed, 0);
        CHECK(s.sent >= 1);
    }
    /* stop the stub: a connection without a request */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)port) };
    if (connect(c, (struct sockaddr *)&sa, sizeof sa) == 0)
        shutdown(c, SHUT_WR);
    pthread_join(srv, NULL);
    close(c);
    close(st.fd);
    CHECK(st.requests >= 1 && st.arrays == st.requests);
}

int main(void)
{
    test_render();
    test_urls();
    test_down_receivers();
    test_delivery_threads();
    return check_result();
}
