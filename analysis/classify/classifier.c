/* The compiled classifier: load every source into range sets, sweep their
 * boundaries per family into segments of one class each (classes interned
 * into dense ids), merge equal neighbours, and build one Poptrie per family.
 * The range sets are made disjoint in classifier_ranges.c; the batch
 * lookups and accessors are classifier_lookup.c. */
#include "geotap/clock.h"
#include "geotap/classifier.h"
#include "geotap/geodata.h"
#include "geotap/poptrie.h"
#include "classifier_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* Direct-table widths: 2^18 x 4 B = 1 MB for IPv4 (most /14s resolve there
 * or one level down), 2^16 for IPv6 (allocated space is sparse above /16). */
#define SBITS4 18
#define SBITS6 16

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
static uint32_t intern_slow(struct interner *in, const struct gt_class *c)
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

/* A small direct-mapped cache in front of the table: the sweep asks for
 * the same few thousand tuples over and over, and the full table misses cache. */
#define FRONT 4096
struct front { struct gt_class key[FRONT]; uint32_t id[FRONT]; };

static uint32_t intern(struct interner *in, struct front *f, const struct gt_class *c)
{
    size_t h = (class_hash(c) >> 20) & (FRONT - 1);
    if (f->id[h] != UINT32_MAX && class_eq(&f->key[h], c))
        return f->id[h];
    uint32_t id = intern_slow(in, c);
    f->key[h] = *c;
    f->id[h] = id;
    return id;
}

enum { DIM_CC, DIM_ASN, DIM_UP, DIM_HOME, NDIM };

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
static int sweep(struct dim d[NDIM], gt_u128 top, struct interner *in, struct front *f, struct segs *out)
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
        uint32_t id = intern(in, f, &c);
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

/* Start-up work runs on two threads where it splits cleanly: the ASN files
 * load while the country DB is walked, and the IPv6 trie builds while the
 * IPv4 one does. When a thread cannot be created the job runs inline. */
struct asn_job {
    const struct gt_classifier_opts *opts;
    struct gt_rangeset *rs;
    struct gt_asn_orgs *orgs;
    char err[512];
    int rc;
};

static void *asn_job_run(void *arg)
{
    struct asn_job *j = arg;
    for (size_t i = 0; i < j->opts->n_asn_dbs && !j->rc; i++)
        j->rc = gt_source_asn(j->opts->asn_dbs[i], j->rs, j->orgs, j->err, sizeof j->err);
    return NULL;
}

struct trie_job {
    struct gt_poptrie *pt;
    const struct segs *s;
    unsigned bits, sbits;
    int rc;
};

static void *trie_job_run(void *arg)
{
    struct trie_job *j = arg;
    j->rc = gt_poptrie_build(j->pt, j->bits, j->sbits, j->s->st, j->s->id, j->s->n);
    return NULL;
}

gt_classifier *gt_classifier_build(const struct gt_classifier_opts *opts, char *err, size_t errlen)
{
    double t0 = gt_mono_s();
    char ebuf[512] = "";
    struct gt_rangeset rs[NDIM];
    memset(rs, 0, sizeof rs);
    struct interner in = { 0 };
    struct segs s4 = { 0 }, s6 = { 0 };
    struct front *front = NULL;
    gt_classifier *c = calloc(1, sizeof *c);
    if (c && opts->asn_orgs)
        c->orgs = opts->asn_orgs;
    else if (opts->asn_orgs)
        gt_asn_orgs_free(opts->asn_orgs);
    if (!c || (!c->orgs && !(c->orgs = gt_asn_orgs_new())))
        goto oom;

    /* the cheap checks first: a typo fails before seconds of loading */
    for (size_t i = 0; i < opts->n_home_nets; i++) {
        uint32_t lo4, hi4;
        gt_u128 lo6, hi6;
        int f = gt_parse_cidr(opts->home_nets[i], &lo4, &hi4, &lo6, &hi6);
        if (!f) {
            snprintf(ebuf, sizeof ebuf, "home network '%s': not ADDRESS/LEN", opts->home_nets[i]);
            goto fail;
        }
        if (f == 4 ? gt_rangeset_add4(&rs[DIM_HOME], lo4, hi4, 1) : gt_rangeset_add6(&rs[DIM_HOME], lo6, hi6, 1))
            goto oom;
    }
    static const struct gt_classifier_opts nothing_to_read;
    struct asn_job aj = { .opts = opts, .rs = &rs[DIM_ASN], .orgs = c->orgs };
    if (opts->asn_ranges) {
        if (cls_copy_rangeset(&rs[DIM_ASN], opts->asn_ranges))
            goto oom;
        aj.opts = &nothing_to_read;   /* read by the caller already */
    }
    pthread_t ath;
    int athreaded = aj.opts->n_asn_dbs && pthread_create(&ath, NULL, asn_job_run, &aj) == 0;
    int crc = opts->country_db ? gt_source_mmdb_country(opts->country_db, &rs[DIM_CC], ebuf, sizeof ebuf) : 0;
    if (athreaded)
        pthread_join(ath, NULL);
    else
        asn_job_run(&aj);
    if (crc)
        goto fail;
    if (aj.rc) {
        snprintf(ebuf, sizeof ebuf, "%s", aj.err);
        goto fail;
    }
    if (opts->upstream_ranges && cls_copy_rangeset(&rs[DIM_UP], opts->upstream_ranges))
        goto oom;
    for (int k = 0; k < NDIM; k++)
        if (cls_canonicalize(&rs[k]))
            goto oom;

    /* class 0 is "unknown everywhere" */
    struct gt_class unknown = { "ZZ", 0, 0, 0 };
    if (intern_slow(&in, &unknown) != 0)
        goto oom;
    front = malloc(sizeof *front);
    if (!front)
        goto oom;
    memset(front->id, 0xff, sizeof front->id);
    struct dim d4[NDIM], d6[NDIM];
    for (int k = 0; k < NDIM; k++) {
        d4[k] = (struct dim){ rs[k].v4, NULL, rs[k].n4 };
        d6[k] = (struct dim){ NULL, rs[k].v6, rs[k].n6 };
    }
    if (sweep(d4, UINT32_MAX, &in, front, &s4) || sweep(d6, ~(gt_u128)0, &in, front, &s6))
        goto oom;
    free(front);
    front = NULL;
    for (int k = 0; k < NDIM; k++)
        gt_rangeset_free(&rs[k]);
    if (in.n >= GT_PT_LEAF) {
        set_err(ebuf, sizeof ebuf, "too many classes");
        goto fail;
    }
    struct trie_job tj = { &c->lk.v6, &s6, 128, SBITS6, 0 };
    pthread_t tth;
    int tthreaded = pthread_create(&tth, NULL, trie_job_run, &tj) == 0;
    int r4 = gt_poptrie_build(&c->lk.v4, 32, SBITS4, s4.st, s4.id, s4.n);
    if (tthreaded)
        pthread_join(tth, NULL);
    else
        trie_job_run(&tj);
    if (r4 || tj.rc)
        goto oom;
    free(s4.st); free(s4.id); free(s6.st); free(s6.id);
    s4 = s6 = (struct segs){ 0 };

    c->classes = c->owned[0] = in.cls;
    c->nclasses = in.n;
    in.cls = NULL;
    free(in.tab);
    in.tab = NULL;
    if (opts->n_upstream_names) {
        /* one arena of NUL-terminated names and their offsets: the layout
         * the cache file stores, so both read them alike */
        size_t n = opts->n_upstream_names, len = 1;
        for (size_t i = 1; i < n; i++)
            len += (opts->upstream_names[i] ? strlen(opts->upstream_names[i]) : 0) + 1;
        uint32_t *off = c->owned[1] = malloc(n * sizeof *off);
        char *arena = c->owned[2] = malloc(len);
        if (!off || !arena || len > UINT32_MAX)
            goto oom;
        arena[0] = 0;
        off[0] = 0;
        size_t at = 1;
        for (size_t i = 1; i < n; i++) {
            const char *nm = opts->upstream_names[i] ? opts->upstream_names[i] : "";
            size_t l = strlen(nm) + 1;
            memcpy(arena + at, nm, l);
            off[i] = (uint32_t)at;
            at += l;
        }
        c->up_off = off;
        c->up_arena = arena;
        c->n_upstream_names = n;
        c->up_alen = len;
    }
    c->build_seconds = gt_mono_s() - t0;
    return c;

oom:
    set_err(ebuf, sizeof ebuf, "out of memory while building the classifier");
fail:
    set_err(err, errlen, ebuf);
    for (int k = 0; k < NDIM; k++)
        gt_rangeset_free(&rs[k]);
    free(in.cls); free(in.tab);
    free(front);
    free(s4.st); free(s4.id); free(s6.st); free(s6.id);
    gt_classifier_free(c);
    return NULL;
}

void gt_classifier_free(gt_classifier *c)
{
    if (!c)
        return;
    gt_poptrie_free(&c->lk.v4);
    gt_poptrie_free(&c->lk.v6);
    for (int i = 0; i < 3; i++)
        free(c->owned[i]);
    gt_asn_orgs_free(c->orgs);
    if (c->file_map)
        munmap(c->file_map, c->file_bytes);
    free(c->cache_file);
    free(c);
}
