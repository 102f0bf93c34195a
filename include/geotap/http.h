/* The sensor's read-only web endpoint (libmicrohttpd, its own thread):
 * GET / is the live page (the HTML report of what was counted so far,
 * polling for more), GET /api/bins?since=N the report's data once it has
 * more than N bins (else {"bins":N}), GET /metrics the Prometheus metrics
 * (metrics.h). Anything else: 404, or 405 for a method other than GET and
 * HEAD. */
#ifndef GEOTAP_HTTP_H
#define GEOTAP_HTTP_H

#include <stddef.h>
#include "geotap/report.h"

struct gt_http;
struct gt_metrics;

/* Listen on addr: "HOST:PORT", "[V6ADDR]:PORT" or "PORT" (host 127.0.0.1:
 * another address only when named); port 0 picks a free one. The report and
 * the metrics (either may be NULL: its paths are 404) must outlive the
 * server. NULL with err naming addr on failure. */
struct gt_http *gt_http_start(const char *addr, struct gt_report *r, struct gt_metrics *m, char *err,
                              size_t errlen);
/* The port bound. */
unsigned gt_http_port(const struct gt_http *h);
/* Stop serving (waits for requests in flight) and free. */
void gt_http_stop(struct gt_http *h);

#endif
