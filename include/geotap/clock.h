/* The two clocks geotap reads: monotonic seconds for elapsed times and
 * rates, and real time in nanoseconds for wall-clock bins. */
#ifndef GEOTAP_CLOCK_H
#define GEOTAP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in seconds (for elapsed times). */
static inline double gt_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Real (wall-clock) time in nanoseconds since the epoch. */
static inline int64_t gt_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
