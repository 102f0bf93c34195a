/* The one time formatter of every output (csv, jsonl, events, alerts, the
 * table's summary, the live view, the report's header): RFC 3339 in UTC. */
#ifndef GEOTAP_TIMEFMT_H
#define GEOTAP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

enum gt_time_style {
    GT_TIME_S,      /* "2014-12-22T16:15:00Z": bin starts (csv, jsonl), summaries */
    GT_TIME_US,     /* "2014-12-22T16:15:03.123456Z": event JSON, alerts, labels */
    GT_TIME_TEXT,   /* "2014-12-22 16:15:03Z": readable event lines */
    GT_TIME_HMS,    /* "16:15:03Z": a time inside a readable line */
    GT_TIME_DATE,   /* "2014-12-22": a database's build day */
};

#define GT_TIME_LEN 40  /* enough for every style and the fallback */

/* Format s seconds plus frac_ns (0..999999999, rounded down to the style's
 * digits) since the epoch into buf[n]; a time gmtime cannot represent is
 * written as its number of seconds. Returns buf. */
char *gt_time_format(char *buf, size_t n, int64_t s, uint32_t frac_ns, enum gt_time_style st);
/* The same for ns since the epoch (the second rounded down, also before 1970). */
char *gt_time_format_ns(char *buf, size_t n, int64_t ns, enum gt_time_style st);

/* Shorthands of the two above for callers on other branches: GT_TIME_S of
 * t seconds, GT_TIME_US of ns. */
void gt_rfc3339(int64_t t, char buf[32]);
void gt_rfc3339_ns(char *buf, size_t n, int64_t ns);

#endif
