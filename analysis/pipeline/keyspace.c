/* Stable key identities across classifier builds (keyspace.h). */
#include "geotap/keyspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct label {
    char cc[2];
    uint8_t home;
    uint32_t asn;
    const char *up;             /* upstream name, "" = none */
    uint32_t id;
};

static int cmp_label(const void *a, const void *b, void *unused)
{
    const struct label *x = a, *y = b;
    (void)unused;
    if (x->home != y->home) return x->home - y->home;
    int c = memcmp(x->cc, y->cc, 2);
    if (c) return c;
    if (x->asn != y->asn) return x->asn < y->asn ? -1 : 1;
    return strcmp(x->up, y->up);
}

static struct label label_of(const gt_classifier *c, const struct gt_keys *k, uint32_t i)
{
    const struct gt_key *key = &k->keys[i];
    const char *up = key->upstream ? gt_classifier_upstream_name(c, key->upstream) : "";
    struct label l = { { key->cc[0], key->cc[1] }, key->home, key->asn, up ? up : "", i };
    return l;
}

static const struct label *find(const struct label *tab, size_t n, const struct label *l)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {   /* bsearch has no context argument: by hand */
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_label(l, &tab[mid], NULL);
        if (c == 0)
            return &tab[mid];
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return NULL;
}

/* The upstream id the stable names (names0) give name; 0 = none. */
static uint32_t upstream_id(const gt_classifier *names0, uint32_t n_up, const char *name)
{
    for (uint32_t u = 1; u <= n_up; u++) {
        const char *n = gt_classifier_upstream_name(names0, u);
        if (n && !strcmp(n, name))
            return u;
    }
    return 0;
}

int gt_keyspace_remap(struct gt_keys *stable, uint32_t cap, const gt_classifier *names0, uint32_t n_up0,
                      const struct gt_setup *nw, uint32_t **class_key, uint32_t **l2_key, uint32_t *added,
                      char *err, size_t errlen)
{
    const struct gt_keys *nk = nw->fine ? &nw->count : &nw->keys;
    uint32_t ncls = gt_classifier_nclasses(nw->c), n0 = stable->nkeys, nnew = 0, badup = 0;
    struct label *tab = malloc(((size_t)n0 + 1) * sizeof *tab);
    uint32_t *map = malloc(((size_t)nk->nkeys + 1) * sizeof *map);
    struct gt_key *fresh = malloc(((size_t)nk->nkeys + 1) * sizeof *fresh);
    *class_key = malloc(((size_t)ncls + 1) * sizeof **class_key);
    *l2_key = NULL;
    *added = 0;
    if (!tab || !map || !fresh || !*class_key)
        goto oom;
    for (uint32_t i = 0; i < n0; i++)
        tab[i] = label_of(names0, stable, i);
    qsort_r(tab, n0, sizeof *tab, cmp_label, NULL);
    for (uint32_t i = 0; i < nk->nkeys; i++) {
        struct label l = label_of(nw->c, nk, i);
        const struct label *hit = find(tab, n0, &l);
        if (hit) {
            map[i] = hit->id;
            continue;
        }
        /* A new label (a build's labels are distinct): appended below. */
        fresh[nnew] = nk->keys[i];
        fresh[nnew].upstream = *l.up ? upstream_id(names0, n_up0, l.up) : 0;
        if (*l.up && !fresh[nnew].upstream)
            badup++;
        map[i] = n0 + nnew++;
    }
    if (badup) {
        snprintf(err, errlen, "the new data names %u upstream%s the running ones do not (restart to count them)",
                 badup, badup == 1 ? "" : "s");
        goto fail;
    }
    if ((uint64_t)n0 + nnew > cap) {
        snprintf(err, errlen, "the new data has %u new keys, room for %u more (restart to count them)",
                 nnew, cap - n0);
        goto fail;
    }
    for (uint32_t c = 0; c < ncls; c++)
        (*class_key)[c] = map[nk->class_key[c]];
    if (nw->l2_key) {
        uint32_t rows = 0;
        for (uint32_t u = 0; u <= nw->n_upstreams; u++)
            if (nw->l2_row[u] > rows)
                rows = nw->l2_row[u];
        size_t n = (size_t)rows * nw->l2_base;
        if (!(*l2_key = malloc((n + 1) * sizeof **l2_key)))
            goto oom;
        for (size_t i = 0; i < n; i++)
            (*l2_key)[i] = map[nw->l2_key[i]];
    }
    /* Appended past the ids in use: readers of the old ones never see a change. */
    memcpy(stable->keys + n0, fresh, (size_t)nnew * sizeof *fresh);
    stable->nkeys = n0 + nnew;
    *added = nnew;
    free(tab);
    free(map);
    free(fresh);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(tab);
    free(map);
    free(fresh);
    free(*class_key);
    free(*l2_key);
    *class_key = *l2_key = NULL;
    return -1;
}
