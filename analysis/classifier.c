/* The compiled classifier: load every source into range sets, sweep their
 * boundaries per family into segments of one class each (classes interned
 * into dense ids), merge equal neighbours, and build one Poptrie per family. */
#include "geotap/classifier.h"
#include "geotap/sources.h"
#include "poptrie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Direct-table widths: 2^18 x 4 B = 1 MB for IPv4 (most /14s resolve there
 * or one level down), 2^16 for IPv6 (allocated space is sparse above /16). */
#define SBITS4 18
#define SBITS6 16

struct gt_classifier {
    struct gt_poptrie v4, v6;
    struct gt_class *classes;
    uint32_t nclasses;
    struct gt_asn_orgs *orgs;
    char **upstream_names;
    size_t n_upstream_names;
    double build_seconds;
};

/* Class interning: open addressing over the tuple. */
struct interner {
    struct gt_class *cls; uint32_t n, cap;
    uint32_t *tab; size_t tcap;                 /* id + 1, 0 = empty */
};

static size_t class_hash(const struct gt_class *c)
{
    uint64_t x = ((uint64_t)(uint8_t)c->cc[0] << 56) ^ ((uint64_t)(uint8_t)c->cc[1] << 48) ^
                 ((uint64_t)c->flags << 40) ^ ((uint64_t)c->asn * 0x9e3779b97f4a7c15ULL) ^
                 ((uint64_t)c->upstream * 0xc2b2ae3d27d4eb4fULL);
    x ^= x >> 31; x *= 0xbf58476d1ce4e5b9ULL; x ^= x >> 29;
    return (size_t)x;
}

static int class_eq(const struct gt_class *a, const struct gt_class *b)
{
    return a->cc[0] == b->cc[0] && a->cc[1] == b->cc[1] && a->flags == b->flags &&
           a->asn == b->asn && a->upstream == b->upstream;
}

/* Id of the class, adding it when new; UINT32_MAX when out of memory. */
static uint32_t intern(struct interner *in, const struct gt_class *c)
{
    if ((size_t)(in->n + 1) * 2 > in->tcap) {
        size_t nc = in->tcap ? in->tcap * 2 : 4096;
        uint32_t *t = calloc(nc, sizeof *t);
        if (!t)
            return UINT32_MAX;
        for (uint32_t i = 0; i < in->n; i++) {
            size_t j = class_hash(&in->cls[i]) & (nc - 1);
            while (t[j])
                j = (j + 1) & (nc - 1);
            t[j] = i + 1;
        }
        free(in->tab);
        in->tab = t;
        in->tcap = nc;
    }
    size_t j = class_hash(c) & (in->tcap - 1);
    for (; in->tab[j]; j = (j + 1) & (in->tcap - 1))
        if (class_eq(&in->cls[in->tab[j] - 1], c))
            return in->tab[j] - 1;
    if (in->n == in->cap) {
        uint32_t nc = in->cap ? in->cap * 2 : 1024;
        struct gt_class *p = realloc(in->cls, (size_t)nc * sizeof *p);
        if (!p)
            return UINT32_MAX;
        in->cls = p;
        in->cap = nc;
    }
    in->cls[in->n] = *c;
    in->tab[j] = in->n + 1;
    return in->n++;
}

enum { DIM_CC, DIM_ASN, DIM_UP, DIM_HOME, NDIM };

/* One normalised dimension of one family, widened to 128 bits. */
struct dim { const struct gt_range4 *r4; const struct gt_range6 *r6; size_t n; };

static gt_u128 dim_lo(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].lo : d->r6[i].lo; }
static gt_u128 dim_hi(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].hi : d->r6[i].hi; }
static uint32_t dim_val(const struct dim *d, size_t i) { return d->r4 ? d->r4[i].val : d->r6[i].val; }

struct segs { gt_u128 *st; uint32_t *id; size_t n, cap; };

static int seg_push(struct segs *s, gt_u128 at, uint32_t id)
{
    if (s->n && s->id[s->n - 1] == id)
        return 0;                           /* adjacent, same class: merged */
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 65536;
        gt_u128 *a = realloc(s->st, nc * sizeof *a);
        if (!a)
            return -1;
        s->st = a;
        uint32_t *b = realloc(s->id, nc * sizeof *b);
        if (!b)
            return -1;
        s->id = b;
        s->cap = nc;
    }
    s->st[s->n] = at;
    s->id[s->n++] = id;
    return 0;
}

/* Sweep the boundaries of all dimensions over [0, top]. */
static int sweep(struct dim d[NDIM], gt_u128 top, struct interner *in, struct segs *out)
{
    size_t cur[NDIM] = { 0 };
    gt_u128 p = 0;
    for (;;) {
        uint32_t v[NDIM];
        gt_u128 next = 0;
        int have_next = 0;
        for (int k = 0; k < NDIM; k++) {
            while (cur[k] < d[k].n && dim_hi(&d[k], cur[k]) < p)
                cur[k]++;
            v[k] = 0;
            if (cur[k] >= d[k].n)
                continue;
            gt_u128 b;
            if (dim_lo(&d[k], cur[k]) <= p) {
                v[k] = dim_val(&d[k], cur[k]);
                gt_u128 hi = dim_hi(&d[k], cur[k]);
                if (hi == top)
                    continue;
                b = hi + 1;
            } else {
                b = dim_lo(&d[k], cur[k]);
            }
            if (!have_next || b < next) {
                next = b;
                have_next = 1;
            }
        }
        struct gt_class c = { "ZZ", 0, 0, 0 };
        if (v[DIM_HOME]) {
            c.flags = GT_CLASS_HOME;
        } else {
            if (v[DIM_CC]) {
                c.cc[0] = GT_CC_A(v[DIM_CC]);
                c.cc[1] = GT_CC_B(v[DIM_CC]);
            }
            c.asn = v[DIM_ASN];
            c.upstream = v[DIM_UP];
        }
        uint32_t id = intern(in, &c);
        if (id == UINT32_MAX || seg_push(out, p, id))
            return -1;
        if (!have_next)
            return 0;
        p = next;
    }
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Copy of a caller's range set (opts is const; normalising sorts in place). */
static int copy_rangeset(struct gt_rangeset *dst, const struct gt_rangeset *src)
{
    for (size_t i = 0; i < src->n4; i++)
        if (gt_rangeset_add4(dst, src->v4[i].lo, src->v4[i].hi, src->v4[i].val))
            return -1;
    for (size_t i = 0; i < src->n6; i++)
        if (gt_rangeset_add6(dst, src->v6[i].lo, src->v6[i].hi, src->v6[i].val))
            return -1;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

gt_classifier *gt_classifier_build(const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    double t0 = now();
    char ebuf[512] = "";
    struct gt_rangeset rs[NDIM];
    memset(rs, 0, sizeof rs);
    struct interner in = { 0 };
    struct segs s4 = { 0 }, s6 = { 0 };
    gt_classifier *c = calloc(1, sizeof *c);
    if (!c || !(c->orgs = gt_asn_orgs_new()))
        goto oom;

    if (opts->country_db && gt_source_mmdb_country(opts->country_db, &rs[DIM_CC], ebuf, sizeof ebuf))
        goto fail;
    for (size_t i = 0; i < opts->n_asn_dbs; i++)
        if (gt_source_asn(opts->asn_dbs[i], &rs[DIM_ASN], c->orgs, ebuf, sizeof ebuf))
            goto fail;
    if (opts->upstream_ranges && copy_rangeset(&rs[DIM_UP], opts->upstream_ranges))
        goto oom;
    for (size_t i = 0; i < opts->n_home_nets; i++) {
        uint32_t lo4, hi4;
        gt_u128 lo6, hi6;
        int f = gt_parse_cidr(opts->home_nets[i], &lo4, &hi4, &lo6, &hi6);
        if (!f) {
            snprintf(ebuf, sizeof ebuf, "invalid --home-net '%s' (expected ADDRESS/LEN)", opts->home_nets[i]);
            goto fail;
        }
        if (f == 4 ? gt_rangeset_add4(&rs[DIM_HOME], lo4, hi4, 1) : gt_rangeset_add6(&rs[DIM_HOME], lo6, hi6, 1))
            goto oom;
    }
    for (int k = 0; k < NDIM; k++)
        if (gt_rangeset_normalize(&rs[k]))
            goto oom;

    /* class 0 is "unknown everywhere" */
    struct gt_class unknown = { "ZZ", 0, 0, 0 };
    if (intern(&in, &unknown) != 0)
        goto oom;
    struct dim d4[NDIM], d6[NDIM];
    for (int k = 0; k < NDIM; k++) {
        d4[k] = (struct dim){ rs[k].v4, NULL, rs[k].n4 };
        d6[k] = (struct dim){ NULL, rs[k].v6, rs[k].n6 };
    }
    if (sweep(d4, UINT32_MAX, &in, &s4) || sweep(d6, ~(gt_u128)0, &in, &s6))
        goto oom;
    for (int k = 0; k < NDIM; k++)
        gt_rangeset_free(&rs[k]);
    if (in.n >= GT_PT_LEAF) {
        set_err(ebuf, sizeof ebuf, "too many classes");
        goto fail;
    }
    if (gt_poptrie_build(&c->v4, 32, SBITS4, s4.st, s4.id, s4.n) ||
        gt_poptrie_build(&c->v6, 128, SBITS6, s6.st, s6.id, s6.n))
        goto oom;
    free(s4.st); free(s4.id); free(s6.st); free(s6.id);
    s4 = s6 = (struct segs){ 0 };

    c->classes = in.cls;
    c->nclasses = in.n;
    in.cls = NULL;
    free(in.tab);
    in.tab = NULL;
    if (opts->n_upstream_names) {
        c->upstream_names = calloc(opts->n_upstream_names, sizeof *c->upstream_names);
        if (!c->upstream_names)
            goto oom;
        c->n_upstream_names = opts->n_upstream_names;
        for (size_t i = 0; i < opts->n_upstream_names; i++)
            if (!(c->upstream_names[i] = strdup(i && opts->upstream_names[i] ? opts->upstream_names[i] : "")))
                goto oom;
    }
    c->build_seconds = now() - t0;
    return c;

oom:
    set_err(ebuf, sizeof ebuf, "out of memory while building the classifier");
fail:
    set_err(err, errlen, ebuf);
    for (int k = 0; k < NDIM; k++)
        gt_rangeset_free(&rs[k]);
    free(in.cls); free(in.tab);
    free(s4.st); free(s4.id); free(s6.st); free(s6.id);
    gt_classifier_free(c);
    return NULL;
}

void gt_classifier_free(gt_classifier *c)
{
    if (!c)
        return;
    gt_poptrie_free(&c->v4);
    gt_poptrie_free(&c->v6);
    free(c->classes);
    gt_asn_orgs_free(c->orgs);
    if (c->upstream_names)
        for (size_t i = 0; i < c->n_upstream_names; i++)
            free(c->upstream_names[i]);
    free(c->upstream_names);
    free(c);
}

uint32_t gt_classify4(const gt_classifier *c, uint32_t addr)
{
    return gt_poptrie_lookup4(&c->v4, addr);
}

uint32_t gt_classify6(const gt_classifier *c, const uint8_t addr[16])
{
    uint64_t hi, lo;
    memcpy(&hi, addr, 8);
    memcpy(&lo, addr + 8, 8);
    gt_u128 a = ((gt_u128)__builtin_bswap64(hi) << 64) | __builtin_bswap64(lo);
    return gt_poptrie_lookup6(&c->v6, a);
}

void gt_classify4_batch(const gt_classifier *c, const uint32_t *addrs, uint32_t *ids, size_t n)
{
    const struct gt_poptrie *pt = &c->v4;
    enum { AHEAD = 8 };
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(&pt->direct[addrs[i + AHEAD] >> (32 - pt->sbits)]);
        ids[i] = gt_poptrie_lookup4(pt, addrs[i]);
    }
}

uint32_t gt_classifier_nclasses(const gt_classifier *c)
{
    return c->nclasses;
}

const struct gt_class *gt_classifier_class(const gt_classifier *c, uint32_t id)
{
    return &c->classes[id < c->nclasses ? id : 0];
}

const char *gt_classifier_asn_org(const gt_classifier *c, uint32_t asn)
{
    return gt_asn_orgs_get(c->orgs, asn);
}

const char *gt_classifier_upstream_name(const gt_classifier *c, uint32_t upstream)
{
    if (upstream == 0 || upstream >= c->n_upstream_names)
        return "";
    return c->upstream_names[upstream];
}

size_t gt_classifier_memory(const gt_classifier *c)
{
    return gt_poptrie_memory(&c->v4) + gt_poptrie_memory(&c->v6) +
           (size_t)c->nclasses * sizeof *c->classes;
}

double gt_classifier_build_seconds(const gt_classifier *c)
{
    return c->build_seconds;
}
