/* The sensor's read-only web endpoint on libmicrohttpd: the live page and
 * its JSON. Loopback unless told otherwise. */
#include "geotap/http.h"
#include "geotap/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlib.h"

struct gt_http {
    struct MHD_Daemon *d;
    struct gt_report *r;
    struct gt_metrics *m;
    unsigned port;
};

/* Parse addr into sa; 0, or -1. */
static int parse_addr(const char *addr, struct sockaddr_storage *sa, int *v6)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    const char *ps = colon ? colon + 1 : addr;
    if (!colon) {
        snprintf(host, sizeof host, "127.0.0.1");
    } else if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close + 1 != colon || close - addr - 1 >= (long)sizeof host)
            return -1;
        snprintf(host, sizeof host, "%.*s", (int)(close - addr - 1), addr + 1);
    } else {
        if (colon - addr >= (long)sizeof host)
            return -1;
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
        if (!host[0])
            snprintf(host, sizeof host, "127.0.0.1");
        if (!strcmp(host, "localhost"))
            snprintf(host, sizeof host, "127.0.0.1");
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(ps, &end, 10);
    if (!*ps || *end || errno || port > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return 0;
    }
    return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
    struct MHD_Response *rs = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!rs) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(rs, "Content-Type", type);
    MHD_add_response_header(rs, "Cache-Control", "no-store");
    /* The page may talk to this sensor only (its inline scripts and styles aside). */
    MHD_add_response_header(rs, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "img-src data:; connect-src 'self'");
    MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, status, rs);
    MHD_destroy_response(rs);
    return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char *b = strdup(msg);
    return b ? reply(c, status, "text/plain; charset=utf-8", b, strlen(b)) : MHD_NO;
}

/* The bodies served, each written to a memory stream. */
struct body { struct gt_http *h; int kind; const char *since; };
enum { B_PAGE, B_BINS, B_METRICS };

static int write_body(const struct body *b, FILE *f)
{
    if (b->kind == B_METRICS)
        return gt_metrics_render(b->h->m, f);
    if (b->kind == B_PAGE)
        return gt_report_write_page(b->h->r, f);
    uint64_t since = b->since ? strtoull(b->since, NULL, 10) : 0, have = gt_report_bins(b->h->r);
    if (b->since && have <= since)
        return fprintf(f, "{\"bins\":%" PRIu64 "}", have) < 0 ? -1 : 0;
    return gt_report_write_data(b->h->r, f);
}

static enum MHD_Result rendered(struct MHD_Connection *c, const char *type, const struct body *b)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return MHD_NO;
    int rc = write_body(b, f);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    return reply(c, MHD_HTTP_OK, type, buf, len);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    struct gt_http *h = cls;
    (void)version;
    (void)upload;
    (void)state;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET or HEAD\n");
    if (*upload_size)
        return text(c, MHD_HTTP_BAD_REQUEST, "no body expected\n");
    struct body b = { h, B_PAGE, NULL };
    if (!strcmp(url, "/metrics") && h->m) {
        b.kind = B_METRICS;
        return rendered(c, "text/plain; version=0.0.4; charset=utf-8", &b);
    }
    if (!strcmp(url, "/") && h->r)
        return rendered(c, "text/html; charset=utf-8", &b);
    if (!strcmp(url, "/api/bins") && h->r) {
        b.kind = B_BINS;
        b.since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
        return rendered(c, "application/json", &b);
    }
    return text(c, MHD_HTTP_NOT_FOUND, "not found: / is the live page, /api/bins?since=N its data, /metrics "
                                       "the Prometheus metrics\n");
}

struct gt_http *gt_http_start(const char *addr, struct gt_report *r, struct gt_metrics *m, char *err,
                              size_t errlen)
{
    struct sockaddr_storage sa;
    int v6 = 0;
    if (parse_addr(addr, &sa, &v6) != 0) {
        snprintf(err, errlen, "'%s': want HOST:PORT, [IPV6]:PORT or PORT", addr);
        return NULL;
    }
    if (gt_mhd_load(err, errlen) != 0)
        return NULL;
    struct gt_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->r = r;
    h->m = m;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "%s: cannot listen (address in use or not local?)", addr);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    return h;
}

unsigned gt_http_port(const struct gt_http *h)
{
    return h->port;
}

void gt_http_stop(struct gt_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
