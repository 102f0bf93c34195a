/* The CPUs this process may run on, in order: worker i is pinned to the
 * i-th of them (capture/source.c gt_source_launch, bench/bench_engine). */
#ifndef GEOTAP_CPUS_H
#define GEOTAP_CPUS_H

#include <sched.h>

/* Fill cpus (CPU_SETSIZE entries) with the allowed CPU numbers; returns
 * how many (0 when the affinity cannot be read). */
static inline int gt_allowed_cpus(int *cpus)
{
    cpu_set_t allowed;
    int n = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[n++] = c;
    return n;
}

#endif
