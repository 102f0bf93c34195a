/* Key tables learned from labels (include/geotap/fleet.h). */
#include "geotap/fleet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gt_keyset_init(struct gt_keyset *ks, unsigned dims)
{
    memset(ks, 0, sizeof *ks);
    ks->keys.dims = dims;
}

void gt_keyset_free(struct gt_keyset *ks)
{
    free(ks->keys.keys);
    free(ks->hash);
    memset(ks, 0, sizeof *ks);
}

static uint32_t key_hash(const struct gt_key *k)
{
    uint32_t h = 2166136261u;
    const unsigned char b[] = { (unsigned char)k->cc[0], (unsigned char)k->cc[1], k->home,
                                (unsigned char)k->asn, (unsigned char)(k->asn >> 8),
                                (unsigned char)(k->asn >> 16), (unsigned char)(k->asn >> 24) };
    for (size_t i = 0; i < sizeof b; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static int key_eq(const struct gt_key *a, const struct gt_key *b)
{
    return a->cc[0] == b->cc[0] && a->cc[1] == b->cc[1] && a->home == b->home && a->asn == b->asn &&
           a->upstream == b->upstream;
}

static int rehash(struct gt_keyset *ks, uint32_t hcap)
{
    uint32_t *h = calloc(hcap, sizeof *h);
    if (!h)
        return -1;
    for (uint32_t i = 0; i < ks->keys.nkeys; i++) {
        uint32_t j = key_hash(&ks->keys.keys[i]) & (hcap - 1);
        while (h[j])
            j = (j + 1) & (hcap - 1);
        h[j] = i + 1;
    }
    free(ks->hash);
    ks->hash = h;
    ks->hcap = hcap;
    return 0;
}

long gt_keyset_find(const struct gt_keyset *ks, const struct gt_key *k)
{
    if (ks->hcap) {
        uint32_t j = key_hash(k) & (ks->hcap - 1);
        while (ks->hash[j]) {
            if (key_eq(&ks->keys.keys[ks->hash[j] - 1], k))
                return ks->hash[j] - 1;
            j = (j + 1) & (ks->hcap - 1);
        }
    }
    return -1;
}

long gt_keyset_id(struct gt_keyset *ks, const struct gt_key *k)
{
    long id = gt_keyset_find(ks, k);
    if (id >= 0)
        return id;
    if (ks->keys.nkeys == ks->cap) {
        uint32_t nc = ks->cap ? 2 * ks->cap : 64;
        struct gt_key *n = realloc(ks->keys.keys, nc * sizeof *n);
        if (!n)
            return -1;
        ks->keys.keys = n;
        ks->cap = nc;
    }
    ks->keys.keys[ks->keys.nkeys++] = *k;
    /* keep the table at most half full: a rehash places the new key too */
    if (2 * ks->keys.nkeys > ks->hcap) {
        if (rehash(ks, ks->hcap ? 2 * ks->hcap : 128) != 0) {
            ks->keys.nkeys--;
            return -1;
        }
    } else {
        uint32_t j = key_hash(k) & (ks->hcap - 1);
        while (ks->hash[j])
            j = (j + 1) & (ks->hcap - 1);
        ks->hash[j] = ks->keys.nkeys;
    }
    return ks->keys.nkeys - 1;
}

int gt_key_parse_label(struct gt_key *k, unsigned dim, const char *label)
{
    if (!strcmp(label, "home")) {
        memset(k, 0, sizeof *k);
        k->home = 1;
        return 0;
    }
    if (k->home)
        return 0;      /* home is home in every column */
    if (dim == GT_DIM_COUNTRY) {
        if (strlen(label) != 2 || label[0] < 'A' || label[0] > 'Z' || label[1] < 'A' || label[1] > 'Z')
            return -1;
        k->cc[0] = label[0];
        k->cc[1] = label[1];
        k->cc[2] = 0;
        return 0;
    }
    if (dim == GT_DIM_ASN) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(label, &end, 10);
        if (end == label || *end || errno || v > UINT32_MAX || label[0] == '-')
            return -1;
        k->asn = (uint32_t)v;
        return 0;
    }
    return -1;
}
