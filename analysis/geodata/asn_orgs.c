/* ASN -> organisation name table: open addressing on the ASN, names
 * interned in one growing arena (first name seen for an ASN wins). */
#include "geotap/geodata.h"

#include <stdlib.h>
#include <string.h>

struct slot { uint32_t asn; uint32_t off; };   /* off = 0: empty (arena starts with a pad byte) */

struct gt_asn_orgs {
    struct slot *tab; size_t cap, n;
    char *arena; size_t alen, acap;
    int view;                   /* tab and arena are borrowed (a mapped cache file) */
};

struct gt_asn_orgs *gt_asn_orgs_new(void)
{
    struct gt_asn_orgs *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->cap = 1024;
    o->tab = calloc(o->cap, sizeof *o->tab);
    o->acap = 65536;
    o->arena = malloc(o->acap);
    if (!o->tab || !o->arena) {
        gt_asn_orgs_free(o);
        return NULL;
    }
    o->arena[0] = 0;
    o->alen = 1;
    return o;
}

void gt_asn_orgs_free(struct gt_asn_orgs *o)
{
    if (!o)
        return;
    if (!o->view) {
        free(o->tab);
        free(o->arena);
    }
    free(o);
}

static size_t hash32(uint32_t x)
{
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

const char *gt_asn_orgs_get(const struct gt_asn_orgs *o, uint32_t asn)
{
    if (!o)
        return NULL;
    /* bounded: a stored table is only trusted as far as its checksum */
    for (size_t i = hash32(asn) & (o->cap - 1), n = 0; n < o->cap; i = (i + 1) & (o->cap - 1), n++) {
        if (!o->tab[i].off)
            return NULL;
        if (o->tab[i].asn == asn)
            return o->tab[i].off < o->alen ? o->arena + o->tab[i].off : NULL;
    }
    return NULL;
}

static int rehash(struct gt_asn_orgs *o)
{
    size_t nc = o->cap * 2;
    struct slot *t = calloc(nc, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < o->cap; i++) {
        if (!o->tab[i].off)
            continue;
        size_t j = hash32(o->tab[i].asn) & (nc - 1);
        while (t[j].off)
            j = (j + 1) & (nc - 1);
        t[j] = o->tab[i];
    }
    free(o->tab);
    o->tab = t;
    o->cap = nc;
    return 0;
}

int gt_asn_orgs_add(struct gt_asn_orgs *o, uint32_t asn, const char *name, size_t len)
{
    size_t i = hash32(asn) & (o->cap - 1);
    for (; o->tab[i].off; i = (i + 1) & (o->cap - 1))
        if (o->tab[i].asn == asn)
            return 0;
    if (o->alen + len + 1 > o->acap) {
        size_t nc = o->acap * 2;
        while (nc < o->alen + len + 1)
            nc *= 2;
        if (nc > UINT32_MAX)
            return -1;
        char *a = realloc(o->arena, nc);
        if (!a)
            return -1;
        o->arena = a;
        o->acap = nc;
    }
    memcpy(o->arena + o->alen, name, len);
    o->arena[o->alen + len] = 0;
    o->tab[i] = (struct slot){ asn, (uint32_t)o->alen };
    o->alen += len + 1;
    if (++o->n * 2 > o->cap)
        return rehash(o);
    return 0;
}

size_t gt_asn_orgs_memory(const struct gt_asn_orgs *o)
{
    return o ? o->cap * sizeof *o->tab + o->acap : 0;
}

void gt_asn_orgs_arrays(const struct gt_asn_orgs *o, const void **slots, size_t *cap,
                        const char **arena, size_t *alen)
{
    *slots = o->tab;
    *cap = o->cap;
    *arena = o->arena;
    *alen = o->alen;
}

struct gt_asn_orgs *gt_asn_orgs_view(const void *slots, size_t cap, const char *arena, size_t alen)
{
    /* the probe loop needs a power-of-two table with an empty slot; the
     * lookup checks each offset, and the arena must end in a NUL */
    if (!cap || (cap & (cap - 1)) || !alen || arena[alen - 1] != 0)
        return NULL;
    struct gt_asn_orgs *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->tab = (struct slot *)(uintptr_t)slots;
    o->cap = cap;
    o->arena = (char *)(uintptr_t)arena;
    o->alen = o->acap = alen;
    o->view = 1;
    return o;
}
