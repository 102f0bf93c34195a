/* One line about a database file for the report's header: what it is and
 * when it was built. */
#include "geotap/report.h"

#include <maxminddb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void gt_db_describe(const char *path, char *buf, size_t len)
{
    char day[16] = "";
    MMDB_s db;
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".mmdb") && MMDB_open(path, MMDB_MODE_MMAP, &db) == MMDB_SUCCESS) {
        time_t t = (time_t)db.metadata.build_epoch;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
        snprintf(buf, len, "%s, built %s", db.metadata.database_type ? db.metadata.database_type : "MaxMind DB", day);
        MMDB_close(&db);
        return;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(buf, len, "unreadable");
        return;
    }
    /* npm stamps every packed file 1985-10-26: name the package folder instead. */
    if (st.st_mtime < 631152000) {
        const char *end = strrchr(path, '/'), *start = end;
        while (start && start > path && start[-1] != '/')
            start--;
        if (end && end > start) {
            snprintf(buf, len, "%lld bytes, from %.*s", (long long)st.st_size, (int)(end - start), start);
            return;
        }
    }
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(buf, len, "%lld bytes, modified %s", (long long)st.st_size, day);
}

int64_t gt_db_build_epoch(const char *path)
{
    MMDB_s db;
    if (MMDB_open(path, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS)
        return -1;
    int64_t t = (int64_t)db.metadata.build_epoch;
    MMDB_close(&db);
    return t;
}
