/* --upstream-map rules: parsing, per-frame L2 resolution, and the assembly
 * of the upstream rangeset in precedence order (see upstream_map.h). */
#include "geotap/upstream_map.h"
#include "geotap/textline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prule { gt_u128 lo, hi; uint32_t idx; uint32_t line; uint8_t len, family; };
struct arule { uint32_t asn, idx, line; };
struct mrule { uint64_t mac; uint32_t idx, line; };     /* mac + 1 so 0 = empty slot */
struct irule { char *iface; uint32_t idx, line; };

/* Index of the prefix, asn and interface rules by key, so that duplicate
 * checks (and interface lookups) cost O(1), not a scan of earlier rules. */
struct kslot { uint64_t hv; uint32_t ri; };   /* ri = rule index + 1, 0 = empty */
struct khash { struct kslot *s; size_t n, nslot; };

struct gt_upstream_map {
    struct prule *pr; size_t npr, cappr;
    struct arule *ar; size_t nar, capar;
    struct mrule *mh; size_t nmac, nslot;   /* open-addressing hash, nslot power of two */
    struct irule *ir; size_t nir, capir;
    struct khash hp, ha, hi;                /* prefix, asn, interface rules by key */
    uint32_t vlan[4096];                    /* VLAN ID -> upstream index */
    uint32_t vlan_line[4096];
    size_t nvlan;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static uint32_t hash_mac(uint64_t k)
{
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32);
}

static struct mrule *mac_slot(const gt_upstream_map *m, uint64_t key)
{
    size_t k = hash_mac(key) & (m->nslot - 1);
    while (m->mh[k].mac && m->mh[k].mac != key)
        k = (k + 1) & (m->nslot - 1);
    return &m->mh[k];
}

static int mac_grow(gt_upstream_map *m)
{
    size_t ns = m->nslot ? m->nslot * 2 : 16;
    struct mrule *old = m->mh;
    size_t on = m->nslot;
    m->mh = calloc(ns, sizeof *m->mh);
    if (!m->mh) {
        m->mh = old;
        return -1;
    }
    m->nslot = ns;
    for (size_t i = 0; i < on; i++)
        if (old[i].mac)
            *mac_slot(m, old[i].mac) = old[i];
    free(old);
    return 0;
}

static uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    return k ^ (k >> 33);
}

static uint64_t hash_prefix(gt_u128 lo, unsigned len, int family)
{
    return mix64((uint64_t)lo ^ mix64((uint64_t)(lo >> 64) ^ ((uint64_t)len << 8 | (uint64_t)family)));
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return mix64(h);
}

/* The slot of hash hv whose rule satisfies eq (or the empty slot to fill). */
typedef int (*keq_fn)(const gt_upstream_map *m, uint32_t ri, const void *key);
static struct kslot *kh_find(const gt_upstream_map *m, const struct khash *h, uint64_t hv,
                             keq_fn eq, const void *key)
{
    size_t k = (size_t)hv & (h->nslot - 1);
    while (h->s[k].ri && !(h->s[k].hv == hv && eq(m, h->s[k].ri - 1, key)))
        k = (k + 1) & (h->nslot - 1);
    return &h->s[k];
}

/* Room for one more entry (load factor <= 1/2). 0 or -1 (OOM). */
static int kh_reserve(struct khash *h)
{
    if ((h->n + 1) * 2 <= h->nslot)
        return 0;
    size_t ns = h->nslot ? h->nslot * 2 : 64;
    struct kslot *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < h->nslot; i++) {
        if (!h->s[i].ri)
            continue;
        size_t k = (size_t)h->s[i].hv & (ns - 1);
        while (s[k].ri)
            k = (k + 1) & (ns - 1);
        s[k] = h->s[i];
    }
    free(h->s);
    h->s = s;
    h->nslot = ns;
    return 0;
}

static int eq_prefix(const gt_upstream_map *m, uint32_t ri, const void *key)
{
    const struct prule *a = &m->pr[ri], *b = key;
    return a->family == b->family && a->lo == b->lo && a->len == b->len;
}

static int eq_asn(const gt_upstream_map *m, uint32_t ri, const void *key)
{
    return m->ar[ri].asn == *(const uint32_t *)key;
}

static int eq_iface(const gt_upstream_map *m, uint32_t ri, const void *key)
{
    return strcmp(m->ir[ri].iface, key) == 0;
}

void gt_upstream_map_free(gt_upstream_map *m)
{
    if (!m)
        return;
    free(m->hp.s);
    free(m->ha.s);
    free(m->hi.s);
    for (size_t i = 0; i < m->nir; i++)
        free(m->ir[i].iface);
    free(m->pr);
    free(m->ar);
    free(m->mh);
    free(m->ir);
    free(m);
}

static int parse_mac(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
            return -1;
        char h[3] = { s[0], s[1], 0 };
        v = v << 8 | (uint64_t)strtoul(h, NULL, 16);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return -1;
            s++;
        }
    }
    if (*s)
        return -1;
    *out = v;
    return 0;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One rule line, already stripped of comments and surrounding blanks.
 * 0, or -1 with the reason in why. */
static int parse_rule(gt_upstream_map *m, gt_upstreams *names, char *s, uint32_t line,
                      char *why, size_t wl)
{
    char *kw = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = 0;
    while (isspace((unsigned char)*s))
        s++;
    char *arg = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = 0;
    while (isspace((unsigned char)*s))
        s++;
    char *name = s;
    /* what the messages quote, escaped and cut to 60 bytes */
    char qkw[80], qarg[80];
    gt_text_escape(kw, strlen(kw), qkw, 64);
    gt_text_escape(arg, strlen(arg), qarg, 64);
    int kind = !strcmp(kw, "prefix") ? 1 : !strcmp(kw, "asn") ? 2 : !strcmp(kw, "vlan") ? 3 :
               !strcmp(kw, "mac") ? 4 : !strcmp(kw, "interface") ? 5 : 0;
    if (!kind) {
        snprintf(why, wl, "unknown rule '%s' (expected prefix, asn, vlan, mac or interface)", qkw);
        return -1;
    }
    if (!*arg) {
        snprintf(why, wl, "%s: missing argument", qkw);
        return -1;
    }
    if (!*name) {
        snprintf(why, wl, "%s %s: missing NAME", qkw, qarg);
        return -1;
    }
    uint32_t idx;
    switch (kind) {
    case 1: {
        uint32_t lo4, hi4, a4, b4;
        gt_u128 lo6, hi6, a6, b6;
        int f = gt_parse_cidr(arg, &lo4, &hi4, &lo6, &hi6);
        char addr[64];
        size_t al = strcspn(arg, "/");
        if (!f || al >= sizeof addr) {
            snprintf(why, wl, "bad prefix '%s'", qarg);
            return -1;
        }
        memcpy(addr, arg, al);
        addr[al] = 0;
        gt_parse_cidr(addr, &a4, &b4, &a6, &b6);
        if ((f == 4 && a4 != lo4) || (f == 6 && a6 != lo6)) {
            snprintf(why, wl, "prefix '%s' has host bits set", qarg);
            return -1;
        }
        gt_u128 lo = f == 4 ? lo4 : lo6, hi = f == 4 ? hi4 : hi6;
        unsigned len = f == 4 ? 32 : 128;
        for (gt_u128 span = hi - lo; span; span >>= 1)
            len--;
        struct prule key = { lo, hi, 0, line, (uint8_t)len, (uint8_t)f };
        uint64_t hv = hash_prefix(lo, len, f);
        if (kh_reserve(&m->hp))
            goto oom;
        struct kslot *ks = kh_find(m, &m->hp, hv, eq_prefix, &key);
        if (ks->ri) {
            snprintf(why, wl, "duplicate prefix %s (first at line %u)", qarg, m->pr[ks->ri - 1].line);
            return -1;
        }
        if (!(idx = gt_upstreams_intern_name(names, name)) ||
            grow((void **)&m->pr, &m->cappr, m->npr + 1, sizeof *m->pr))
            goto oom;
        key.idx = idx;
        m->pr[m->npr++] = key;
        *ks = (struct kslot){ hv, (uint32_t)m->npr };
        m->hp.n++;
        return 0;
    }
    case 2: {
        unsigned long long v;
        const char *a = arg;
        if ((a[0] == 'A' || a[0] == 'a') && (a[1] == 'S' || a[1] == 's'))
            a += 2;
        if (parse_uint(a, 0xFFFFFFFFull, &v) || v == 0) {
            snprintf(why, wl, "bad ASN '%s'", qarg);
            return -1;
        }
        uint32_t asn = (uint32_t)v;
        uint64_t hv = mix64(asn);
        if (kh_reserve(&m->ha))
            goto oom;
        struct kslot *ks = kh_find(m, &m->ha, hv, eq_asn, &asn);
        if (ks->ri) {
            snprintf(why, wl, "duplicate asn %llu (first at line %u)", v, m->ar[ks->ri - 1].line);
            return -1;
        }
        if (!(idx = gt_upstreams_intern_name(names, name)) ||
            grow((void **)&m->ar, &m->capar, m->nar + 1, sizeof *m->ar))
            goto oom;
        m->ar[m->nar++] = (struct arule){ asn, idx, line };
        *ks = (struct kslot){ hv, (uint32_t)m->nar };
        m->ha.n++;
        return 0;
    }
    case 3: {
        unsigned long long v;
        if (parse_uint(arg, 4094, &v) || v == 0) {
            snprintf(why, wl, "bad VLAN ID '%s' (1..4094)", qarg);
            return -1;
        }
        if (m->vlan[v]) {
            snprintf(why, wl, "duplicate vlan %llu (first at line %u)", v, m->vlan_line[v]);
            return -1;
        }
        if (!(idx = gt_upstreams_intern_name(names, name)))
            goto oom;
        m->vlan[v] = idx;
        m->vlan_line[v] = line;
        m->nvlan++;
        return 0;
    }
    case 4: {
        uint64_t mac;
        if (parse_mac(arg, &mac)) {
            snprintf(why, wl, "bad MAC '%s' (XX:XX:XX:XX:XX:XX)", qarg);
            return -1;
        }
        if (m->nslot && mac_slot(m, mac + 1)->mac) {
            snprintf(why, wl, "duplicate mac %s (first at line %u)", qarg, mac_slot(m, mac + 1)->line);
            return -1;
        }
        if (!(idx = gt_upstreams_intern_name(names, name)))
            goto oom;
        if ((m->nmac + 1) * 2 > m->nslot && mac_grow(m))
            goto oom;
        *mac_slot(m, mac + 1) = (struct mrule){ mac + 1, idx, line };
        m->nmac++;
        return 0;
    }
    default: {
        uint64_t hv = hash_str(arg);
        if (kh_reserve(&m->hi))
            goto oom;
        struct kslot *ks = kh_find(m, &m->hi, hv, eq_iface, arg);
        if (ks->ri) {
            snprintf(why, wl, "duplicate interface %s (first at line %u)", qarg, m->ir[ks->ri - 1].line);
            return -1;
        }
        char *copy = strdup(arg);
        if (!copy)
            goto oom;
        if (!(idx = gt_upstreams_intern_name(names, name)) ||
            grow((void **)&m->ir, &m->capir, m->nir + 1, sizeof *m->ir)) {
            free(copy);
            goto oom;
        }
        m->ir[m->nir++] = (struct irule){ copy, idx, line };
        *ks = (struct kslot){ hv, (uint32_t)m->nir };
        m->hi.n++;
        return 0;
    }
    }
oom:
    snprintf(why, wl, "out of memory");
    return -1;
}

gt_upstream_map *gt_upstream_map_load(const char *path, gt_upstreams *names, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    gt_upstream_map *m = calloc(1, sizeof *m);
    if (!m) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    char *line = malloc(GT_LINE_MAX + 1);
    long n;
    uint32_t lineno = 0;
    char why[200];
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while ((n = gt_text_line(f, line, GT_LINE_MAX + 1)) >= 0 || n == -2) {
        lineno++;
        if (n == -2) {
            snprintf(err, errlen, "%s:%u: line too long (over %d bytes)", path, lineno, GT_LINE_MAX);
            goto fail;
        }
        if (memchr(line, 0, (size_t)n)) {
            snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
            goto fail;
        }
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '#' || !*s)
            continue;
        for (char *h = s; (h = strchr(h, '#')); h++)      /* " #" starts a comment */
            if (isspace((unsigned char)h[-1])) {
                *h = 0;
                break;
            }
        size_t l = strlen(s);
        while (l && isspace((unsigned char)s[l - 1]))
            s[--l] = 0;
        if (parse_rule(m, names, s, lineno, why, sizeof why)) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            goto fail;
        }
    }
    if (n == -3) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    free(line);
    fclose(f);
    return m;
fail:
    free(line);
    fclose(f);
    gt_upstream_map_free(m);
    return NULL;
}

void gt_upstream_map_counts(const gt_upstream_map *m, struct gt_upstream_map_counts *c)
{
    *c = (struct gt_upstream_map_counts){ m->npr, m->nar, m->nvlan, m->nmac, m->nir };
}

int gt_upstream_map_has_l2(const gt_upstream_map *m)
{
    return m && (m->nmac || m->nvlan || m->nir);
}

uint32_t gt_upstream_map_iface(const gt_upstream_map *m, const char *iface)
{
    if (!iface || !m->nir)
        return 0;
    const struct kslot *ks = kh_find(m, &m->hi, hash_str(iface), eq_iface, iface);
    return ks->ri ? m->ir[ks->ri - 1].idx : 0;
}

uint32_t gt_upstream_map_l2(const gt_upstream_map *m, const struct gt_pkt *p, const char *iface)
{
    if (m->nmac && p->has_mac) {
        const uint8_t *a = p->src_mac;
        uint64_t key = ((uint64_t)a[0] << 40 | (uint64_t)a[1] << 32 | (uint64_t)a[2] << 24 |
                        (uint64_t)a[3] << 16 | (uint64_t)a[4] << 8 | a[5]) + 1;
        const struct mrule *r = mac_slot(m, key);
        if (r->mac)
            return r->idx;
    }
    if (p->has_vlan) {
        uint32_t v = m->vlan[p->vlan & 0xFFF];
        if (v)
            return v;
    }
    return m->nir ? gt_upstream_map_iface(m, iface) : 0;
}

static int cmp_prule(const void *a, const void *b)
{
    const struct prule *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

int gt_upstream_map_export_prefixes(const gt_upstream_map *m, struct gt_rangeset *out)
{
    if (!m->npr)
        return 0;
    struct prule *s = malloc(m->npr * sizeof *s);
    if (!s)
        return -1;
    memcpy(s, m->pr, m->npr * sizeof *s);
    qsort(s, m->npr, sizeof *s, cmp_prule);   /* less specific first: later wins */
    int rc = 0;
    for (size_t i = 0; i < m->npr && !rc; i++)
        rc = s[i].family == 4 ? gt_rangeset_add4(out, (uint32_t)s[i].lo, (uint32_t)s[i].hi, s[i].idx)
                              : gt_rangeset_add6(out, s[i].lo, s[i].hi, s[i].idx);
    free(s);
    return rc;
}

static int cmp_arule(const void *a, const void *b)
{
    const struct arule *x = a, *y = b;
    return (x->asn > y->asn) - (x->asn < y->asn);
}

int gt_upstream_map_export_asn(const gt_upstream_map *m, const struct gt_rangeset *asn_ranges,
                               struct gt_rangeset *out)
{
    if (!m->nar || !asn_ranges)
        return 0;
    /* a normalised copy, so overlapping ASN ranges resolve as the classifier
     * resolves them (later wins) before we pick the ranges of rule ASNs */
    struct gt_rangeset c = { 0 };
    struct arule *rules = malloc(m->nar * sizeof *rules);
    int rc = -1;
    if (!rules)
        return -1;
    memcpy(rules, m->ar, m->nar * sizeof *rules);
    qsort(rules, m->nar, sizeof *rules, cmp_arule);
    for (size_t i = 0; i < asn_ranges->n4; i++)
        if (gt_rangeset_add4(&c, asn_ranges->v4[i].lo, asn_ranges->v4[i].hi, asn_ranges->v4[i].val))
            goto out;
    for (size_t i = 0; i < asn_ranges->n6; i++)
        if (gt_rangeset_add6(&c, asn_ranges->v6[i].lo, asn_ranges->v6[i].hi, asn_ranges->v6[i].val))
            goto out;
    if (gt_rangeset_normalize(&c))
        goto out;
    for (size_t i = 0; i < c.n4; i++) {
        struct arule key = { c.v4[i].val, 0, 0 };
        const struct arule *r = bsearch(&key, rules, m->nar, sizeof *rules, cmp_arule);
        if (r && gt_rangeset_add4(out, c.v4[i].lo, c.v4[i].hi, r->idx))
            goto out;
    }
    for (size_t i = 0; i < c.n6; i++) {
        struct arule key = { c.v6[i].val, 0, 0 };
        const struct arule *r = bsearch(&key, rules, m->nar, sizeof *rules, cmp_arule);
        if (r && gt_rangeset_add6(out, c.v6[i].lo, c.v6[i].hi, r->idx))
            goto out;
    }
    rc = 0;
out:
    gt_rangeset_free(&c);
    free(rules);
    return rc;
}

int gt_upstream_compile(const gt_routes *routes, const gt_upstream_map *map,
                        const struct gt_rangeset *asn_ranges, gt_upstreams *names,
                        struct gt_rangeset *out)
{
    /* insertion order is precedence: gt_rangeset_normalize lets later win */
    if (routes && gt_routes_export(routes, names, out))
        return -1;
    if (map && asn_ranges && gt_upstream_map_export_asn(map, asn_ranges, out))
        return -1;
    if (map && gt_upstream_map_export_prefixes(map, out))
        return -1;
    return gt_rangeset_normalize(out);
}

uint32_t gt_upstream_map_l2_upstreams(const gt_upstream_map *m, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;
    for (size_t i = 0; i < m->nslot; i++)
        if (m->mh[i].mac && n < max)
            out[n++] = m->mh[i].idx;
    for (size_t v = 0; v < 4096; v++)
        if (m->vlan[v] && n < max)
            out[n++] = m->vlan[v];
    for (size_t i = 0; i < m->nir; i++)
        if (n < max)
            out[n++] = m->ir[i].idx;
    return n;
}
