/* libcurl and libmicrohttpd, loaded on first use (dlopen by soname) instead
 * of linked. With their TLS, Kerberos and LDAP stacks they are 30 of the 45
 * shared libraries the binary loaded before main: about 7 of the 9 ms every
 * start-up paid, though only --listen, alerts and watch use HTTP.
 * Include this instead of <curl/curl.h> / <microhttpd.h>: after it, the
 * library's names call through the loaded tables, so call gt_curl_load or
 * gt_mhd_load (cheap once loaded) before the first use in each path. */
#ifndef GT_NETLIB_H
#define GT_NETLIB_H

#include <stddef.h>
#include <sys/socket.h>

#define CURL_DISABLE_TYPECHECK 1   /* the type-checking macros would hide our redirections */
#include <curl/curl.h>
#include <microhttpd.h>

struct gt_curl_api {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_easy_reset) easy_reset;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_easy_escape) easy_escape;
    __typeof__(&curl_free) free;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
    __typeof__(&curl_url) url;
    __typeof__(&curl_url_set) url_set;
    __typeof__(&curl_url_get) url_get;
    __typeof__(&curl_url_cleanup) url_cleanup;
};

struct gt_mhd_api {
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_get_daemon_info) get_daemon_info;
    __typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
    __typeof__(&MHD_add_response_header) add_response_header;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_destroy_response) destroy_response;
    __typeof__(&MHD_lookup_connection_value) lookup_connection_value;
};

extern struct gt_curl_api gt_curl;
extern struct gt_mhd_api gt_mhd;

/* Loads libcurl and runs its global set-up, once (thread-safe). 0, or -1
 * with "cannot load libcurl: ..." or "libcurl: ..." in err. */
int gt_curl_load(char *err, size_t errlen);
/* Loads libmicrohttpd once (thread-safe). 0, or -1 with the reason in err. */
int gt_mhd_load(char *err, size_t errlen);

#ifndef GT_NETLIB_IMPL
#undef curl_easy_setopt    /* curl.h's own pass-through macros */
#undef curl_easy_getinfo
#define curl_easy_init (*gt_curl.easy_init)
#define curl_easy_setopt (*gt_curl.easy_setopt)
#define curl_easy_perform (*gt_curl.easy_perform)
#define curl_easy_getinfo (*gt_curl.easy_getinfo)
#define curl_easy_reset (*gt_curl.easy_reset)
#define curl_easy_cleanup (*gt_curl.easy_cleanup)
#define curl_easy_strerror (*gt_curl.easy_strerror)
#define curl_easy_escape (*gt_curl.easy_escape)
#define curl_free (*gt_curl.free)
#define curl_slist_append (*gt_curl.slist_append)
#define curl_slist_free_all (*gt_curl.slist_free_all)
#define curl_url (*gt_curl.url)
#define curl_url_set (*gt_curl.url_set)
#define curl_url_get (*gt_curl.url_get)
#define curl_url_cleanup (*gt_curl.url_cleanup)
#define MHD_start_daemon (*gt_mhd.start_daemon)
#define MHD_stop_daemon (*gt_mhd.stop_daemon)
#define MHD_get_daemon_info (*gt_mhd.get_daemon_info)
#define MHD_create_response_from_buffer (*gt_mhd.create_response_from_buffer)
#define MHD_add_response_header (*gt_mhd.add_response_header)
#define MHD_queue_response (*gt_mhd.queue_response)
#define MHD_destroy_response (*gt_mhd.destroy_response)
#define MHD_lookup_connection_value (*gt_mhd.lookup_connection_value)
#endif

#endif
