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

static struct label label_of(const struct gt_setup *s, const struct gt_keys *k, uint32_t i)
{
    const struct gt_key *key = &k->keys[i];
    const char *up = key->upstream ? gt_classifier_upstream_name(s->c, key->upstream) : "";
    struct label l = { { key->cc[0], key->cc[1] }, key->home, key->asn, up ? up : "", i };
    return l;
}

int gt_keyspace_remap(const struct gt_setup *old, const struct gt_setup *nw, uint32_t **class_key,
                      uint32_t **l2_key, char *err, size_t errlen)
{
    const struct gt_keys *ok = old->fine ? &old->count : &old->keys;
    const struct gt_keys *nk = nw->fine ? &nw->count : &nw->keys;
    uint32_t ncls = gt_classifier_nclasses(nw->c), missing = 0;
    struct label *tab = malloc(((size_t)ok->nkeys + 1) * sizeof *tab);
    uint32_t *map = malloc(((size_t)nk->nkeys + 1) * sizeof *map);
    *class_key = malloc(((size_t)ncls + 1) * sizeof **class_key);
    *l2_key = NULL;
    if (!tab || !map || !*class_key)
        goto oom;
    for (uint32_t i = 0; i < ok->nkeys; i++)
        tab[i] = label_of(old, ok, i);
    qsort_r(tab, ok->nkeys, sizeof *tab, cmp_label, NULL);
    for (uint32_t i = 0; i < nk->nkeys; i++) {
        struct label l = label_of(nw, nk, i);
        const struct label *hit = NULL;
        size_t lo = 0, hi = ok->nkeys;
        while (lo < hi) {   /* bsearch has no context argument: by hand */
            size_t mid = lo + (hi - lo) / 2;
            int c = cmp_label(&l, &tab[mid], NULL);
            if (c == 0) { hit = &tab[mid]; break; }
            if (c < 0) hi = mid; else lo = mid + 1;
        }
        if (!hit)
            missing++;
        map[i] = hit ? hit->id : 0;
    }
    if (missing) {
        snprintf(err, errlen, "the new data has %u key%s the running ones do not (restart to count them)",
                 missing, missing == 1 ? "" : "s");
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
    free(tab);
    free(map);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(tab);
    free(map);
    free(*class_key);
    free(*l2_key);
    *class_key = *l2_key = NULL;
    return -1;
}
