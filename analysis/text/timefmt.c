/* The one time formatter of every output (include/geotap/timefmt.h). */
#include "geotap/timefmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

char *gt_time_format(char *buf, size_t n, int64_t s, uint32_t frac_ns, enum gt_time_style st)
{
    static const char *const fmt[] = {
        [GT_TIME_S] = "%Y-%m-%dT%H:%M:%S", [GT_TIME_US] = "%Y-%m-%dT%H:%M:%S",
        [GT_TIME_TEXT] = "%Y-%m-%d %H:%M:%S", [GT_TIME_HMS] = "%H:%M:%S", [GT_TIME_DATE] = "%Y-%m-%d",
    };
    time_t t = (time_t)s;
    struct tm tm;
    char d[GT_TIME_LEN];
    if (!n)
        return buf;
    if ((int64_t)t != s || !gmtime_r(&t, &tm) || !strftime(d, sizeof d, fmt[st], &tm)) {
        snprintf(buf, n, "%" PRId64, s);
        return buf;
    }
    if (st == GT_TIME_DATE)
        snprintf(buf, n, "%s", d);
    else if (st == GT_TIME_US)
        snprintf(buf, n, "%s.%06" PRIu32 "Z", d, frac_ns % 1000000000u / 1000);
    else
        snprintf(buf, n, "%sZ", d);
    return buf;
}

char *gt_time_format_ns(char *buf, size_t n, int64_t ns, enum gt_time_style st)
{
    int64_t s = ns / 1000000000LL, frac = ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
        s--;
    }
    return gt_time_format(buf, n, s, (uint32_t)frac, st);
}

void gt_rfc3339(int64_t t, char buf[32])
{
    gt_time_format(buf, 32, t, 0, GT_TIME_S);
}

void gt_rfc3339_ns(char *buf, size_t n, int64_t ns)
{
    gt_time_format_ns(buf, n, ns, GT_TIME_US);
}
