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

int gt_keys_build(struct gt_keys *k, const gt_classifier *c, unsigned dims)
{
    uint32_t nc = gt_classifier_nclasses(c);
    size_t hcap = 16;
    while (hcap < (size_t)nc * 2)
        hcap <<= 1;
    uint32_t *tab = malloc(hcap * sizeof *tab);   /* key id + 1; 0 = empty */
    memset(k, 0, sizeof *k);
    k->dims = dims;
    k->keys = malloc(((size_t)nc + 1) * sizeof *k->keys);
    k->class_key = malloc(((size_t)nc + 1) * sizeof *k->class_key);
    if (!tab || !k->keys || !k->class_key) {
        free(tab);
        gt_keys_free(k);
        return -1;
    }
    memset(tab, 0, hcap * sizeof *tab);
    for (uint32_t id = 0; id < nc; id++) {
        const struct gt_class *cl = gt_classifier_class(c, id);
        struct gt_key key;
        memset(&key, 0, sizeof key);
        if (cl->flags & GT_CLASS_HOME) {
            key.home = 1;
        } else {
            if (dims & GT_DIM_COUNTRY) memcpy(key.cc, cl->cc, 2);
            if (dims & GT_DIM_ASN) key.asn = cl->asn;
            if (dims & GT_DIM_UPSTREAM) key.upstream = cl->upstream;
        }
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

void gt_keys_free(struct gt_keys *k)
{
    free(k->keys);
    free(k->class_key);
    memset(k, 0, sizeof *k);
}
