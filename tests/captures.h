/* The capture files of a test directory: every *.pcap and *.pcapng in it,
 * as full paths in name order (readdir's order differs between machines). */
#ifndef GEOTAP_TESTS_CAPTURES_H
#define GEOTAP_TESTS_CAPTURES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int captures_by_name_(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int captures_is_capture_(const char *name)
{
    size_t l = strlen(name);
    return (l > 5 && !strcmp(name + l - 5, ".pcap")) || (l > 7 && !strcmp(name + l - 7, ".pcapng"));
}

/* The paths of dir's captures, sorted, NULL-terminated (free with
 * captures_free); *n gets their number. NULL when dir cannot be read. */
static inline char **captures_list(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d)
        return NULL;
    size_t cap = 64;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d))) {
        if (!captures_is_capture_(de->d_name))
            continue;
        if (*n + 1 >= cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        if ((v[*n] = malloc(len)))
            snprintf(v[(*n)++], len, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (!v)
        return NULL;
    qsort(v, *n, sizeof *v, captures_by_name_);
    v[*n] = NULL;
    return v;
}

/* Frees what captures_list returned. */
static inline void captures_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

#endif
