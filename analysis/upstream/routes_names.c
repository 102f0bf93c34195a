/* The upstream name table shared by BGP routes and the upstream map: index 0
 * is "unknown"; AS entries are interned by ASN, map names by their text. */
#include "geotap/routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
    uint32_t asn;      /* 0 for a named entry */
    char *name;        /* owned */
};

struct gt_upstreams {
    struct ent *e;
    const char **names;   /* mirror of e[].name for the classifier */
    uint32_t n, cap;
    uint32_t *slot;       /* open addressing: 0 empty, else entry index */
    uint32_t nslot;       /* power of two */
};

static uint32_t hash_asn(uint32_t asn)
{
    uint64_t h = (uint64_t)asn * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) | 1u;   /* never 0 so it differs from name hashes */
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h & ~1u;
}

static int same(const struct ent *e, uint32_t asn, const char *name)
{
    if (asn)
        return e->asn == asn;
    return e->asn == 0 && strcmp(e->name, name) == 0;
}

static int rehash(gt_upstreams *t, uint32_t nslot)
{
    uint32_t *s = calloc(nslot, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 1; i < t->n; i++) {
        uint32_t h = t->e[i].asn ? hash_asn(t->e[i].asn) : hash_name(t->e[i].name);
        uint32_t k = h & (nslot - 1);
        while (s[k])
            k = (k + 1) & (nslot - 1);
        s[k] = i;
    }
    free(t->slot);
    t->slot = s;
    t->nslot = nslot;
    return 0;
}

gt_upstreams *gt_upstreams_new(void)
{
    gt_upstreams *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 16;
    t->e = calloc(t->cap, sizeof *t->e);
    t->names = calloc(t->cap, sizeof *t->names);
    if (t->e) {
        t->e[0].name = strdup("");
        t->n = 1;
    }
    if (!t->e || !t->names || !t->e[0].name || rehash(t, 64)) {
        gt_upstreams_free(t);
        return NULL;
    }
    t->names[0] = t->e[0].name;
    return t;
}

void gt_upstreams_free(gt_upstreams *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; t->e && i < t->n; i++)
        free(t->e[i].name);
    free(t->e);
    free(t->names);
    free(t->slot);
    free(t);
}

static uint32_t intern(gt_upstreams *t, uint32_t asn, const char *name)
{
    uint32_t h = asn ? hash_asn(asn) : hash_name(name);
    uint32_t k = h & (t->nslot - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslot - 1))
        if (same(&t->e[t->slot[k]], asn, name))
            return t->slot[k];
    if (t->n == t->cap) {
        uint32_t nc = t->cap * 2;
        struct ent *e = realloc(t->e, nc * sizeof *e);
        if (!e)
            return 0;
        t->e = e;
        const char **nm = realloc(t->names, nc * sizeof *nm);
        if (!nm)
            return 0;
        t->names = nm;
        t->cap = nc;
    }
    char buf[16];
    if (asn) {
        snprintf(buf, sizeof buf, "AS%u", asn);
        name = buf;
    }
    char *copy = strdup(name);
    if (!copy)
        return 0;
    uint32_t i = t->n++;
    t->e[i] = (struct ent){ asn, copy };
    t->names[i] = copy;
    t->slot[k] = i;
    if (t->n * 2 > t->nslot && rehash(t, t->nslot * 2))
        return 0;
    return i;
}

uint32_t gt_upstreams_intern_asn(gt_upstreams *t, uint32_t asn)
{
    return asn ? intern(t, asn, NULL) : 0;
}

uint32_t gt_upstreams_intern_name(gt_upstreams *t, const char *name)
{
    if (!name || !*name)
        return 0;
    if ((name[0] == 'A' || name[0] == 'a') && (name[1] == 'S' || name[1] == 's') &&
        isdigit((unsigned char)name[2])) {
        char *end;
        unsigned long long v = strtoull(name + 2, &end, 10);
        if (!*end && v > 0 && v <= 0xFFFFFFFFull)
            return intern(t, (uint32_t)v, NULL);
    }
    return intern(t, 0, name);
}

uint32_t gt_upstreams_count(const gt_upstreams *t)
{
    return t->n;
}

const char *gt_upstreams_name(const gt_upstreams *t, uint32_t i)
{
    return i < t->n ? t->e[i].name : "";
}

uint32_t gt_upstreams_asn(const gt_upstreams *t, uint32_t i)
{
    return i < t->n ? t->e[i].asn : 0;
}

const char *const *gt_upstreams_names(const gt_upstreams *t)
{
    return t->names;
}

int gt_upstreams_apply_orgs(gt_upstreams *t, gt_org_fn org, const void *ctx)
{
    for (uint32_t i = 1; i < t->n; i++) {
        if (!t->e[i].asn)
            continue;
        const char *o = org(ctx, t->e[i].asn);
        if (!o || !*o)
            continue;
        size_t len = strlen(o) + 16;
        char *s = malloc(len);
        if (!s)
            return -1;
        snprintf(s, len, "AS%u %s", t->e[i].asn, o);
        free(t->e[i].name);
        t->e[i].name = s;
        t->names[i] = s;
    }
    return 0;
}
