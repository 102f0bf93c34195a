/* bench_upstream_map: load time of large --upstream-map files, one kind of
 * rule per file (prefix, asn, interface, mac), against the time of merely
 * reading the same file line by line. Usage: bench_upstream_map [N] [DIR]
 * (default 1000000 rules, files in /tmp). One row per kind on stdout:
 *   kind rules read_s load_s ratio
 * Loading must be linear: ratio stays a small constant as N grows. */
#include "geotap/clock.h"
#include "geotap/textline.h"
#include "geotap/upstream_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_map(const char *path, const char *kind, long n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    for (long i = 0; i < n; i++) {
        uint32_t a = (uint32_t)i * 2654435761u;   /* distinct: odd multiplier */
        if (!strcmp(kind, "prefix"))
            fprintf(f, "prefix %u.%u.%u.%u/32 U%ld\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, i % 64);
        else if (!strcmp(kind, "asn"))
            fprintf(f, "asn %ld U%ld\n", i + 1, i % 64);
        else if (!strcmp(kind, "interface"))
            fprintf(f, "interface if%ld U%ld\n", i, i % 64);
        else
            fprintf(f, "mac 02:00:%02x:%02x:%02x:%02x U%ld\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, i % 64);
    }
    fclose(f);
}

static double read_only(const char *path)
{
    static char line[GT_LINE_MAX + 1];
    double t = gt_mono_s();
    FILE *f = fopen(path, "r");
    unsigned long sum = 0;
    while (gt_text_line(f, line, sizeof line) >= 0)
        sum += (unsigned char)line[0];
    fclose(f);
    if (sum == 1)
        puts("");   /* keep the loop */
    return gt_mono_s() - t;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    static const char *const kinds[] = { "prefix", "asn", "interface", "mac" };
    printf("kind rules read_s load_s ratio\n");
    for (int k = 0; k < 4; k++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/bench_umap_%d_%s.txt", dir, (int)getpid(), kinds[k]);
        write_map(path, kinds[k], n);
        double r = read_only(path);
        gt_upstreams *names = gt_upstreams_new();
        double t = gt_mono_s();
        gt_upstream_map *m = gt_upstream_map_load(path, names, err, sizeof err);
        double l = gt_mono_s() - t;
        if (!m) {
            fprintf(stderr, "bench_upstream_map: %s\n", err);
            return 1;
        }
        printf("%s %ld %.3f %.3f %.1f\n", kinds[k], n, r, l, r > 0 ? l / r : 0.0);
        gt_upstream_map_free(m);
        gt_upstreams_free(names);
        unlink(path);
    }
    return 0;
}
