/* Classification assembly (setup.h): sources, routes and maps, the
 * classifier, key tables, per-frame upstream variants and attribution keys. */
#include "geotap/setup.h"
#include "geotap/classifier_cache.h"
#include "geotap/datadir.h"
#include "geotap/geodata.h"
#include "geotap/routes.h"
#include "geotap/upstream_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Routes and maps: load them, name upstreams after their organisations, and
 * compile the upstream range set. -1 with a message on error. */
static int load_upstreams(const struct gt_setup_opts *o, const char *const *asn_files, int n_asn,
                          struct gt_setup *out, struct gt_rangeset *up_rs, struct gt_rangeset *asn_rs_out,
                          struct gt_asn_orgs **orgs_out, char *err, size_t errlen)
{
    struct gt_rangeset asn_rs;
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    int rc = -1;
    memset(&asn_rs, 0, sizeof asn_rs);
    out->ups = gt_upstreams_new();
    if (!orgs || !out->ups) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < n_asn; i++)
        if (gt_source_asn(asn_files[i], &asn_rs, orgs, err, errlen) != 0)
            goto done;
    if (gt_rangeset_normalize(&asn_rs) != 0)
        goto oom;
    if (o->n_routes) {
        out->routes = gt_routes_new();
        if (!out->routes)
            goto oom;
        for (int i = 0; i < o->n_routes; i++)
            if (gt_routes_load(out->routes, o->routes[i], err, errlen) != 0)
                goto done;
    }
    if (o->upstream_map && !(out->map = gt_upstream_map_load(o->upstream_map, out->ups, err, errlen)))
        goto done;
    if (gt_upstream_compile(out->routes, out->map, &asn_rs, out->ups, up_rs) != 0)
        goto oom;
    if (gt_upstreams_apply_orgs(out->ups, gt_upstreams_org_from_asn_orgs, orgs) != 0)
        goto oom;
    out->n_upstreams = gt_upstreams_count(out->ups);
    /* The classifier takes the ASN data as read: the sources are read once. */
    *asn_rs_out = asn_rs;
    memset(&asn_rs, 0, sizeof asn_rs);
    *orgs_out = orgs;
    orgs = NULL;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    gt_rangeset_free(&asn_rs);
    gt_asn_orgs_free(orgs);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per-frame rules: key variants for every upstream an L2 rule can give, in
 * the keys the engine counts (and in the written keys, which must hold
 * every projection of them). */
static int build_l2(struct gt_setup *out, struct gt_keys *counted, struct gt_keys *written)
{
    uint32_t n = out->n_upstreams, nr = 0, max = 4096 + 65536;
    uint32_t *got = malloc(max * sizeof *got), *ups = malloc(max * sizeof *ups);
    out->l2_row = calloc(n + 1, sizeof *out->l2_row);
    if (!got || !ups || !out->l2_row) {
        free(got);
        free(ups);
        return -1;
    }
    uint32_t ng = gt_upstream_map_l2_upstreams(out->map, got, max);
    qsort(got, ng, sizeof *got, cmp_u32);
    for (uint32_t i = 0; i < ng; i++)
        if (got[i] && got[i] < n && (nr == 0 || ups[nr - 1] != got[i]))
            ups[nr++] = got[i];
    free(got);
    out->l2_base = counted->nkeys;
    if (gt_keys_upstream_variants(counted, ups, nr, &out->l2_key) != 0) {
        free(ups);
        return -1;
    }
    if (written) {
        uint32_t *unused = NULL;
        int rc = gt_keys_upstream_variants(written, ups, nr, &unused);
        free(unused);
        if (rc != 0) {
            free(ups);
            return -1;
        }
    }
    for (uint32_t r = 0; r < nr; r++)
        out->l2_row[ups[r]] = r + 1;
    free(ups);
    return 0;
}

struct asn_up { uint32_t asn, up; };

static int cmp_asn_up(const void *a, const void *b)
{
    return cmp_u32(&((const struct asn_up *)a)->asn, &((const struct asn_up *)b)->asn);
}

int gt_setup_build(const struct gt_setup_opts *o, struct gt_setup *out, char *err, size_t errlen)
{
    unsigned dims = o->dims;
    int attribution = o->attribution;
    struct gt_rangeset asn_rs;
    struct gt_asn_orgs *orgs = NULL;
    memset(&asn_rs, 0, sizeof asn_rs);
    const char *asn_default[2] = { gt_default_asn_v4(), gt_default_asn_v6() };
    const char *const *asn_files = o->n_asn ? o->asn_dbs : asn_default;
    int n_asn = o->n_asn ? o->n_asn : 2;
    struct gt_classifier_opts co;
    struct gt_rangeset up_rs;
    memset(&co, 0, sizeof co);
    memset(&up_rs, 0, sizeof up_rs);
    memset(out, 0, sizeof *out);
    int upstream_data = o->n_routes > 0 || o->upstream_map;
    int fine = attribution && upstream_data;
    unsigned cdims = fine ? dims | GT_DIM_ASN | GT_DIM_UPSTREAM : dims;
    co.country_db = o->country_db ? o->country_db : gt_default_country_db();
    /* The ASN data is loaded only when needed: it is most of the start-up time. */
    if (o->n_asn || (cdims & GT_DIM_ASN)) {
        co.asn_dbs = asn_files;
        co.n_asn_dbs = (size_t)n_asn;
    }
    co.home_nets = o->home;
    co.n_home_nets = (size_t)o->n_home;
    if (upstream_data) {
        if (load_upstreams(o, asn_files, n_asn, out, &up_rs, &asn_rs, &orgs, err, errlen) != 0) {
            gt_rangeset_free(&up_rs);
            gt_setup_free(out);
            return -1;
        }
        if (co.n_asn_dbs) {
            co.asn_ranges = &asn_rs;
            co.asn_orgs = orgs;
            orgs = NULL;
        }
        co.upstream_ranges = &up_rs;
        co.upstream_names = gt_upstreams_names(out->ups);
        co.n_upstream_names = out->n_upstreams;
    }
    out->c = gt_classifier_cached(&co, err, errlen);
    /* A mapped cache entry has its own organisations: ours were not taken. */
    if (out->c && gt_classifier_cache_state(out->c) == GT_CACHE_MAPPED)
        gt_asn_orgs_free((struct gt_asn_orgs *)co.asn_orgs);
    gt_rangeset_free(&up_rs);
    gt_rangeset_free(&asn_rs);
    gt_asn_orgs_free(orgs);
    if (!out->c) {
        gt_setup_free(out);
        return -1;
    }
    /* err holds "" or the cache's warning: kept for the caller, who may print it */
    snprintf(out->warning, sizeof out->warning, "%s", err ? err : "");
    if (err && errlen)
        err[0] = 0;
    if (o->classes_only)
        return 0;
    if (gt_keys_build(&out->keys, out->c, dims) != 0 ||
        gt_keys_build(&out->count, out->c, cdims) != 0)
        goto oom;
    if (out->map && gt_upstream_map_has_l2(out->map) && (cdims & GT_DIM_UPSTREAM) &&
        build_l2(out, fine ? &out->count : &out->keys,
                 fine && (dims & GT_DIM_UPSTREAM) ? &out->keys : NULL) != 0)
        goto oom;
    if (fine) {
        out->fine = 1;
        out->proj = malloc(((size_t)out->count.nkeys + 1) * sizeof *out->proj);
        out->count_up2 = calloc((size_t)out->count.nkeys + 1, sizeof *out->count_up2);
        if (!out->proj || !out->count_up2 || gt_keys_project(&out->count, &out->keys, out->proj) != 0)
            goto oom;
        /* An upstream carries its own prefixes' traffic as well as its
         * customers': the upstream index of each key's own ASN, found by
         * binary search in the upstreams sorted by ASN. */
        struct asn_up *byasn = malloc(((size_t)out->n_upstreams + 1) * sizeof *byasn);
        size_t na = 0;
        if (!byasn)
            goto oom;
        for (uint32_t u = 1; u < out->n_upstreams; u++) {
            uint32_t asn = gt_upstreams_asn(out->ups, u);
            if (asn)
                byasn[na++] = (struct asn_up){ asn, u };
        }
        qsort(byasn, na, sizeof *byasn, cmp_asn_up);
        for (uint32_t k = 0; k < out->count.nkeys; k++) {
            struct asn_up key = { out->count.keys[k].asn, 0 };
            const struct asn_up *hit = key.asn ? bsearch(&key, byasn, na, sizeof *byasn, cmp_asn_up) : NULL;
            out->count_up2[k] = hit ? hit->up : 0;
        }
        free(byasn);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    gt_setup_free(out);
    return -1;
}

void gt_setup_lookup(const struct gt_setup *c, struct gt_lookup *lk)
{
    const struct gt_keys *k = c->fine ? &c->count : &c->keys;
    memset(lk, 0, sizeof *lk);
    lk->cls = c->c;
    lk->class_key = k->class_key;
    lk->keys = k->keys;
    lk->nkeys = k->nkeys;
    if (c->l2_key) {
        lk->l2map = c->map;
        lk->l2_row = c->l2_row;
        lk->l2_key = c->l2_key;
        lk->l2_base = c->l2_base;
    }
}

void gt_setup_free(struct gt_setup *c)
{
    gt_keys_free(&c->keys);
    gt_keys_free(&c->count);
    gt_classifier_free(c->c);
    gt_routes_free(c->routes);
    gt_upstream_map_free(c->map);
    gt_upstreams_free(c->ups);
    free(c->proj);
    free(c->count_up2);
    free(c->l2_row);
    free(c->l2_key);
    memset(c, 0, sizeof *c);
}

