/* Loading libcurl and libmicrohttpd on first use (netlib.h). Each table is
 * filled completely before its `loaded` flag is set under the lock, so a
 * caller that saw gt_*_load return 0 sees every pointer. */
#define GT_NETLIB_IMPL 1
#include "netlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct gt_curl_api gt_curl;
struct gt_mhd_api gt_mhd;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* dlopen the first of names that loads; NULL with the last reason in err. */
static void *open_any(const char *what, const char *const *names, char *err, size_t errlen)
{
    const char *why = "not found";
    for (; *names; names++) {
        void *h = dlopen(*names, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
        why = dlerror();
    }
    snprintf(err, errlen, "cannot load %s: %s", what, why ? why : "not found");
    return NULL;
}

/* Looks up every name into its slot; the first missing one is the error. */
static int resolve(void *h, const char *what, const char *const *names, void **slots, size_t n,
                   char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!(slots[i] = dlsym(h, names[i]))) {
            snprintf(err, errlen, "cannot load %s: it has no %s (too old?)", what, names[i]);
            return -1;
        }
    }
    return 0;
}

/* The tables are arrays of function pointers in declaration order; the
 * names below follow that order. */
static const char *const curl_names[] = {
    "curl_global_init", "curl_easy_init", "curl_easy_setopt", "curl_easy_perform",
    "curl_easy_getinfo", "curl_easy_reset", "curl_easy_cleanup", "curl_easy_strerror",
    "curl_easy_escape", "curl_free", "curl_slist_append", "curl_slist_free_all",
    "curl_url", "curl_url_set", "curl_url_get", "curl_url_cleanup",
};
static const char *const mhd_names[] = {
    "MHD_start_daemon", "MHD_stop_daemon", "MHD_get_daemon_info", "MHD_create_response_from_buffer",
    "MHD_add_response_header", "MHD_queue_response", "MHD_destroy_response",
    "MHD_lookup_connection_value",
};
_Static_assert(sizeof gt_curl == sizeof curl_names / sizeof *curl_names * sizeof(void (*)(void)),
               "curl_names matches struct gt_curl_api");
_Static_assert(sizeof gt_mhd == sizeof mhd_names / sizeof *mhd_names * sizeof(void (*)(void)),
               "mhd_names matches struct gt_mhd_api");

/* Loads the library into table once; then init(err, errlen), if given,
 * must return 0 for it to count as loaded. */
static int load(int *loaded, void *table, size_t size, const char *what, const char *const *sonames,
                const char *const *names, int (*init)(char *, size_t), char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&lock);
    if (!*loaded) {
        void *slots[32];
        size_t n = size / sizeof(void (*)(void));
        void *h = open_any(what, sonames, err, errlen);
        if (!h || resolve(h, what, names, slots, n, err, errlen) != 0) {
            rc = -1;
        } else {
            /* object to function pointers: POSIX guarantees dlsym's results convert */
            memcpy(table, slots, size);
            *loaded = !init || init(err, errlen) == 0;
            rc = *loaded ? 0 : -1;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* libcurl's global set-up, which its documentation wants once before any
 * handle and while no other thread uses it: here, under the lock. */
static int curl_init(char *err, size_t errlen)
{
    CURLcode rc = gt_curl.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", gt_curl.easy_strerror(rc));
        return -1;
    }
    return 0;
}

int gt_curl_load(char *err, size_t errlen)
{
    static int loaded;
    static const char *const so[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so", NULL};
    return load(&loaded, &gt_curl, sizeof gt_curl, "libcurl", so, curl_names, curl_init, err, errlen);
}

int gt_mhd_load(char *err, size_t errlen)
{
    static int loaded;
    static const char *const so[] = {"libmicrohttpd.so.12", "libmicrohttpd.so", NULL};
    return load(&loaded, &gt_mhd, sizeof gt_mhd, "libmicrohttpd", so, mhd_names, NULL, err, errlen);
}
