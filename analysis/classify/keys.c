/* Aggregation keys: project every class onto the counted dimensions and
 * intern the projections, so the packet path maps class -> key by index. */
#include "geotap/keys.h"

#include <stdlib.h>
#include <string.h>

unsigned gt_dims_parse(const char *s)
{
    unsigned dims = 0;
    const char *p = s;
    if (!s || !*s)
        return 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned d = 0;
        if (n == 7 && !strncmp(p, "country", 7)) d = GT_DIM_COUNTRY;
        else if (n == 3 && !strncmp(p, "asn", 3)) d = GT_DIM_ASN;
        else if (n == 8 && !strncmp(p, "upstream", 8)) d = GT_DIM_UPSTREAM;
        if (!d || (dims & d))
            return 0;
        dims |= d;
        p += n;
        if (*p == ',' && *++p == 0)
            return 0;
    }
    return dims;
}

/* Open-addressing hash of projected keys, used only while building. */
static uint64_t key_hash(const struct gt_key *k)
{
    uint64_t h = ((uint64_t)(uint8_t)k->cc[0] << 56) ^ ((uint64_t)(uint8_t)k->cc[1] << 48) ^
                 ((uint64_t)k->home << 40) ^ ((uint64_t)k->asn << 8) ^ ((uint64_t)k->upstream * 0x9E3779B97F4A7C15ull);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int key_eq(const struct gt_key *a, const struct gt_key *b)
{
    return a->cc[0] == b->cc[0] && a->cc[1] == b->cc[1] && a->home == b->home &&
           a->asn == b->asn && a->upstream == b->upstream;
}

/* The key of class cl under dims. */
static struct gt_key project(const struct gt_class *cl, unsigned dims)
{
    struct gt_key key;
    memset(&key, 0, sizeof key);
    if (cl->flags & GT_CLASS_HOME) {
        key.home = 1;
    } else {
        if (dims & GT_DIM_COUNTRY) memcpy(key.cc, cl->cc, 2);
        if (dims & GT_DIM_ASN) key.asn = cl->asn;
        if (dims & GT_DIM_UPSTREAM) key.upstream = cl->upstream;
    }
    return key;
}

/* 1 when the keys were built without hashing: classes are distinct tuples,
 * so with every dimension they carry counted each class is its own key
 * (home classes all project to one key; there is one: interned); by
 * country alone a table of 2-letter codes numbers the keys. */
static int build_fast(struct gt_keys *k, const gt_classifier *c, uint32_t nc, unsigned dims)
{
    int injective = (dims & GT_DIM_COUNTRY) && (dims & GT_DIM_ASN);
    for (uint32_t id = 0; injective && !(dims & GT_DIM_UPSTREAM) && id < nc; id++)
        if (gt_classifier_class(c, id)->upstream)
            injective = 0;
    if (injective) {
        uint32_t homes = 0;
        for (uint32_t id = 0; id < nc; id++) {
            const struct gt_class *cl = gt_classifier_class(c, id);
            homes += (cl->flags & GT_CLASS_HOME) != 0;
            k->keys[id] = project(cl, dims);
            k->class_key[id] = id;
        }
        k->nkeys = nc;
        if (homes <= 1)
            return 1;
        k->nkeys = 0;                   /* not the interner's classes: the general way */
        return 0;
    }
    if (dims != GT_DIM_COUNTRY)
        return 0;
    uint32_t *cc = calloc(65536 + 1, sizeof *cc);    /* key id + 1 by packed code; [65536] home */
    if (!cc)
        return 0;
    for (uint32_t id = 0; id < nc; id++) {
        const struct gt_class *cl = gt_classifier_class(c, id);
        size_t slot = cl->flags & GT_CLASS_HOME ? 65536 : ((size_t)(uint8_t)cl->cc[0] << 8 | (uint8_t)cl->cc[1]);
        if (!cc[slot]) {
            k->keys[k->nkeys] = project(cl, dims);
            cc[slot] = ++k->nkeys;
        }
        k->class_key[id] = cc[slot] - 1;
    }
    free(cc);
    return 1;
}

int gt_keys_build(struct gt_keys *k, const gt_classifier *c, unsigned dims)
{
    uint32_t nc = gt_classifier_nclasses(c);
    memset(k, 0, sizeof *k);
    k->dims = dims;
    k->keys = malloc(((size_t)nc + 1) * sizeof *k->keys);
    k->class_key = malloc(((size_t)nc + 1) * sizeof *k->class_key);
    if (!k->keys || !k->class_key) {
        gt_keys_free(k);
        return -1;
    }
    /* Start-up cost (one pass over ~150k classes): when the counted
     * dimensions are all a class has, or the country only, keys need no
     * hash table. Both give the ids the general loop below would. */
    if (build_fast(k, c, nc, dims))
        return 0;
    size_t hcap = 16;
    while (hcap < (size_t)nc * 2)
        hcap <<= 1;
    uint32_t *tab = calloc(hcap, sizeof *tab);   /* key id + 1; 0 = empty */
    if (!tab) {
        gt_keys_free(k);
        return -1;
    }
    for (uint32_t id = 0; id < nc; id++) {
        struct gt_key key = project(gt_classifier_class(c, id), dims);
        size_t h = key_hash(&key) & (hcap - 1);
        while (tab[h] && !key_eq(&k->keys[tab[h] - 1], &key))
            h = (h + 1) & (hcap - 1);
        if (!tab[h]) {
            k->keys[k->nkeys] = key;
            tab[h] = ++k->nkeys;
        }
        k->class_key[id] = tab[h] - 1;
    }
    free(tab);
    return 0;
}

int gt_keys_reserve(struct gt_keys *k, uint32_t cap)
{
    if (cap <= k->nkeys)
        return 0;
    struct gt_key *n = realloc(k->keys, ((size_t)cap + 1) * sizeof *n);
    if (!n)
        return -1;
    memset(n + k->nkeys, 0, ((size_t)cap + 1 - k->nkeys) * sizeof *n);
    k->keys = n;
    return 0;
}

void gt_keys_free(struct gt_keys *k)
{
    free(k->keys);
    free(k->class_key);
    memset(k, 0, sizeof *k);
}

/* Index of keys for lookups by value (build time only). */
struct key_index { uint32_t *tab; size_t cap; };

static int index_build(struct key_index *ix, const struct gt_keys *k, size_t extra)
{
    ix->cap = 16;
    while (ix->cap < ((size_t)k->nkeys + extra) * 2)
        ix->cap <<= 1;
    ix->tab = calloc(ix->cap, sizeof *ix->tab);
    if (!ix->tab)
        return -1;
    for (uint32_t i = 0; i < k->nkeys; i++) {
        size_t h = key_hash(&k->keys[i]) & (ix->cap - 1);
        while (ix->tab[h])
            h = (h + 1) & (ix->cap - 1);
        ix->tab[h] = i + 1;
    }
    return 0;
}

/* Key id of value v in k, or UINT32_MAX. */
static uint32_t index_find(const struct key_index *ix, const struct gt_keys *k, const struct gt_key *v, size_t *slot)
{
    size_t h = key_hash(v) & (ix->cap - 1);
    while (ix->tab[h] && !key_eq(&k->keys[ix->tab[h] - 1], v))
        h = (h + 1) & (ix->cap - 1);
    if (slot)
        *slot = h;
    return ix->tab[h] ? ix->tab[h] - 1 : UINT32_MAX;
}

int gt_keys_project(const struct gt_keys *fine, const struct gt_keys *coarse, uint32_t *proj)
{
    struct key_index ix;
    if (index_build(&ix, coarse, 0))
        return -1;
    for (uint32_t i = 0; i < fine->nkeys; i++) {
        struct gt_key v = fine->keys[i];
        if (!v.home) {
            if (!(coarse->dims & GT_DIM_COUNTRY)) memset(v.cc, 0, sizeof v.cc);
            if (!(coarse->dims & GT_DIM_ASN)) v.asn = 0;
            if (!(coarse->dims & GT_DIM_UPSTREAM)) v.upstream = 0;
        }
        proj[i] = index_find(&ix, coarse, &v, NULL);
        if (proj[i] == UINT32_MAX) {
            free(ix.tab);
            return -1;
        }
    }
    free(ix.tab);
    return 0;
}

int gt_keys_upstream_variants(struct gt_keys *k, const uint32_t *ups, uint32_t nups, uint32_t **table)
{
    uint32_t n0 = k->nkeys;
    size_t total = (size_t)n0 * nups;
    struct key_index ix;
    uint32_t *t = malloc((total + 1) * sizeof *t);
    struct gt_key *nk = realloc(k->keys, ((size_t)n0 + total + 1) * sizeof *nk);
    if (!t || !nk) {
        free(t);
        return -1;
    }
    k->keys = nk;
    if (index_build(&ix, k, total)) {
        free(t);
        return -1;
    }
    for (uint32_t r = 0; r < nups; r++)
        for (uint32_t i = 0; i < n0; i++) {
            struct gt_key v = k->keys[i];
            size_t slot;
            if (!v.home)
                v.upstream = ups[r];
            uint32_t id = index_find(&ix, k, &v, &slot);
            if (id == UINT32_MAX) {
                id = k->nkeys++;
                k->keys[id] = v;
                ix.tab[slot] = id + 1;
            }
            t[(size_t)r * n0 + i] = id;
        }
    free(ix.tab);
    *table = t;
    return 0;
}
