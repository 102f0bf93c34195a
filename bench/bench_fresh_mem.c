/* bench_fresh_mem: what first touching memory costs on this machine, per
 * 2 MiB huge page (gt_huge_map, as the engine's address caches): memory
 * taken again at once after a free, and memory taken after a pause. On a
 * guest whose balloon reports free pages to the host, the pause lets the
 * host discard them, and the next touch faults them in on both sides.
 * usage: bench_fresh_mem [MIB] [ROUNDS] [PAUSE_S]; prints one line each. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "geotap/hugemap.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Map len bytes, touch a byte per 4 KiB, unmap; us per 2 MiB, or -1. */
static double touch_us(size_t len)
{
    uint8_t *p = gt_huge_map(len, len);
    if (!p)
        return -1;
    double t = now_s();
    for (size_t o = 0; o < len; o += 4096)
        p[o] = 1;
    double d = now_s() - t;
    gt_huge_unmap(p, len);
    return d / (double)(len / GT_HUGE_SZ) * 1e6;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 64, rounds = argc > 2 ? atol(argv[2]) : 3;
    long pause = argc > 3 ? atol(argv[3]) : 3;
    if (mib < 2 || rounds < 1 || pause < 0) {
        fprintf(stderr, "usage: bench_fresh_mem [MIB >= 2] [ROUNDS >= 1] [PAUSE_S >= 0]\n");
        return 2;
    }
    size_t len = gt_huge_len((size_t)mib << 20);
    for (long r = 0; r < rounds; r++) {
        double fresh = touch_us(len), again = touch_us(len);
        if (fresh < 0 || again < 0) {
            fprintf(stderr, "bench_fresh_mem: cannot map %ld MiB\n", mib);
            return 1;
        }
        printf("round=%ld mib=%zu after_pause_us_per_2mib=%.0f again_at_once_us_per_2mib=%.0f\n", r,
               len >> 20, fresh, again);
        fflush(stdout);
        if (r + 1 < rounds)
            sleep((unsigned)pause);
    }
    return 0;
}
