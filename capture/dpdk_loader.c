/* The gt_dpdk_* API in the geotap binary: loads the DPDK module on the
 * first gt_dpdk_open and calls through its table. The module is looked for
 * at $GEOTAP_DPDK_MODULE, beside the executable (installed), then in
 * ../capture/ from it (the build tree: cli/, bench/, tests/). */
#include "dpdk_api.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct gt_dpdk_api *api;

static int load(char *err, size_t errlen)
{
    if (api)
        return 0;
    char exe[PATH_MAX], cand[3][PATH_MAX + 64], last[512] = "";
    int n = 0;
    const char *env = getenv("GEOTAP_DPDK_MODULE");
    if (env && *env)
        snprintf(cand[n++], sizeof cand[0], "%s", env);
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l > 0) {
        exe[l] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        snprintf(cand[n++], sizeof cand[0], "%s/%s", exe, GT_DPDK_MODULE);
        snprintf(cand[n++], sizeof cand[0], "%s/../capture/%s", exe, GT_DPDK_MODULE);
    }
    for (int i = 0; i < n; i++) {
        if (access(cand[i], R_OK) != 0)
            continue;
        void *h = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(last, sizeof last, "%s", dlerror());
            continue;
        }
        const struct gt_dpdk_api *a = dlsym(h, GT_DPDK_API_SYMBOL);
        if (!a || a->version != GT_DPDK_API_VERSION || a->size != sizeof *a) {
            snprintf(last, sizeof last, "%.400s: not a matching geotap DPDK module", cand[i]);
            dlclose(h);
            continue;
        }
        api = a;
        return 0;
    }
    if (last[0])
        snprintf(err, errlen, "cannot load the DPDK module: %s", last);
    else
        snprintf(err, errlen, "cannot find the DPDK module %s beside %s (set GEOTAP_DPDK_MODULE)",
                 GT_DPDK_MODULE, l > 0 ? exe : "the executable");
    return -1;
}

gt_dpdk *gt_dpdk_open(const struct gt_dpdk_opts *o, char *err, size_t errlen)
{
    return load(err, errlen) ? NULL : api->open(o, err, errlen);
}

/* The rest take a port from gt_dpdk_open: the module is loaded. */
unsigned gt_dpdk_queues(const gt_dpdk *d) { return api->queues(d); }
int gt_dpdk_rx(gt_dpdk *d, uint16_t q, gt_dpdk_fn fn, void *ctx) { return api->rx(d, q, fn, ctx); }
int gt_dpdk_drops(gt_dpdk *d, uint64_t *imissed, uint64_t *ierrors, uint64_t *nombuf)
{
    return api->drops(d, imissed, ierrors, nombuf);
}
int gt_dpdk_launch(gt_dpdk *d, int (*fn)(void *), void *const *args) { return api->launch(d, fn, args); }
void gt_dpdk_wait(gt_dpdk *d) { api->wait(d); }
void gt_dpdk_prefill(gt_dpdk *d, void (*fn)(void *ctx, uint8_t *data, uint32_t room), void *ctx)
{
    api->prefill(d, fn, ctx);
}
void gt_dpdk_close(gt_dpdk *d) { api->close(d); }
