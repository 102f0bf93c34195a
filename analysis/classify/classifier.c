/* The compiled classifier: load every source into range sets, sweep their
 * boundaries per family into segments of one class each (classes interned
 * into dense ids), merge equal neighbours, and build one Poptrie per family. */
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

/* Disjoint and in address order already (tree walks, clean CSVs)? */
static int canonical4(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n4; i++)
        if (rs->v4[i].lo <= rs->v4[i - 1].hi)
            return 0;
    return 1;
}

static int canonical6(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n6; i++)
        if (rs->v6[i].lo <= rs->v6[i - 1].hi)
            return 0;
    return 1;
}

static int sorted4(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n4; i++)
        if (rs->v4[i].lo < rs->v4[i - 1].lo)
            return 0;
    return 1;
}

static int sorted6(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n6; i++)
        if (rs->v6[i].lo < rs->v6[i - 1].lo)
            return 0;
    return 1;
}

/* Ranges added in address order with a few overlaps (a CSV whose lines
 * overlap): a later range wins, as in gt_rangeset_normalize, and here the
 * later one also starts later, so one pass with a stack of open ranges
 * resolves it in O(n) instead of a sort. Returns 0, 1 when the family needs
 * the general normalisation (not in address order), -1 when out of memory. */
static int resolve_family(struct gt_rangeset *rs, int v6)
{
    size_t n = v6 ? rs->n6 : rs->n4;
    if (v6 ? canonical6(rs) : canonical4(rs))
        return 0;
    if (!(v6 ? sorted6(rs) : sorted4(rs)))
        return 1;
    const struct dim d = { v6 ? NULL : rs->v4, v6 ? rs->v6 : NULL, n };
    const gt_u128 top = v6 ? ~(gt_u128)0 : UINT32_MAX;
    /* each range is pushed once and emits at most two pieces */
    struct gt_range4 *o4 = v6 ? NULL : malloc((2 * n + 1) * sizeof *o4);
    struct gt_range6 *o6 = v6 ? malloc((2 * n + 1) * sizeof *o6) : NULL;
    size_t *st = malloc((n + 1) * sizeof *st);
    if ((!o4 && !o6) || !st) {
        free(o4); free(o6); free(st);
        return -1;
    }
    size_t no = 0, ns = 0;
    gt_u128 cur = 0;
#define EMIT(LO, HI, V) do { if (v6) o6[no++] = (struct gt_range6){ (LO), (HI), (V) }; \
    else o4[no++] = (struct gt_range4){ (uint32_t)(LO), (uint32_t)(HI), (V) }; } while (0)
    for (size_t j = 0; j <= n; j++) {
        int last = j == n;
        gt_u128 lo = last ? 0 : dim_lo(&d, j);
        while (ns) {
            size_t t = st[ns - 1];
            gt_u128 thi = dim_hi(&d, t);
            if (thi < cur) {                    /* hidden by later ranges */
                ns--;
                continue;
            }
            if (last || thi < lo) {             /* resumes after later ones, and ends */
                EMIT(cur, thi, dim_val(&d, t));
                ns--;
                if (thi == top) {               /* everything still open is covered */
                    ns = 0;
                    break;
                }
                cur = thi + 1;
                continue;
            }
            if (cur < lo)
                EMIT(cur, lo - 1, dim_val(&d, t));
            break;
        }
        if (!last) {
            st[ns++] = j;
            cur = lo;
        }
    }
#undef EMIT
    free(st);
    /* the arrays are the set's own (realloc-compatible): replace them */
    if (v6) {
        free(rs->v6);
        rs->v6 = o6;
        rs->n6 = no;
        rs->cap6 = 2 * n + 1;
    } else {
        free(rs->v4);
        rs->v4 = o4;
        rs->n4 = no;
        rs->cap4 = 2 * n + 1;
    }
    return 0;
}

/* Disjoint, sorted ranges for the class sweep. */
static int canonicalize(struct gt_rangeset *rs)
{
    int a = resolve_family(rs, 0), b = resolve_family(rs, 1);
    if (a < 0 || b < 0)
        return -1;
    if (a || b)
        return gt_rangeset_normalize(rs);
    return 0;
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
        if (copy_rangeset(&rs[DIM_ASN], opts->asn_ranges))
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
    if (opts->upstream_ranges && copy_rangeset(&rs[DIM_UP], opts->upstream_ranges))
        goto oom;
    for (int k = 0; k < NDIM; k++)
        if (canonicalize(&rs[k]))
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

/* Batches walk LANES lookups in lockstep, one trie level per round, and
 * prefetch each lane's next node (and finally its leaf) before touching
 * the others: the cache misses of independent lookups overlap instead of
 * queueing behind one another. */
#define LANES 16

void gt_classify4_batch(const gt_classifier *c, const uint32_t *addrs, uint32_t *ids, size_t n)
{
    const struct gt_poptrie *pt = &c->lk.v4;
    const unsigned sh = 32 - pt->sbits;
    size_t i = 0;
    for (size_t l = 0; l < LANES && l < n; l++)
        __builtin_prefetch(&pt->direct[addrs[l] >> sh]);
    /* the last group may be partial: a burst's few addresses are batched too */
    for (; i < n; i += LANES) {
        const unsigned m = n - i < LANES ? (unsigned)(n - i) : LANES;
        const struct gt_pt_node *nd[LANES];
        uint64_t k[LANES];
        uint32_t leaf[LANES];
        uint32_t pending = 0, resolve = 0;
        for (unsigned l = 0; l < m; l++) {
            if (i + LANES + l < n)
                __builtin_prefetch(&pt->direct[addrs[i + LANES + l] >> sh]);
            uint32_t e = pt->direct[addrs[i + l] >> sh];
            if (e & GT_PT_LEAF) {
                ids[i + l] = e & ~GT_PT_LEAF;
            } else {
                nd[l] = &pt->nodes[e];
                __builtin_prefetch(nd[l]);
                k[l] = (uint64_t)addrs[i + l] << (32 + pt->sbits);
                pending |= 1u << l;
            }
        }
        while (pending) {
            for (uint32_t m = pending; m; m &= m - 1) {
                unsigned l = (unsigned)__builtin_ctz(m);
                unsigned v = (unsigned)(k[l] >> 58);
                uint64_t upto = ((uint64_t)2 << v) - 1;
                const struct gt_pt_node *x = nd[l];
                if (x->vector & ((uint64_t)1 << v)) {
                    nd[l] = &pt->nodes[x->base1 + gt_popcnt64(x->vector & upto) - 1];
                    __builtin_prefetch(nd[l]);
                    k[l] <<= 6;
                } else {
                    leaf[l] = x->base0 + gt_popcnt64(x->leafvec & upto) - 1;
                    __builtin_prefetch(&pt->leaves[leaf[l]]);
                    pending &= ~(1u << l);
                    resolve |= 1u << l;
                }
            }
        }
        for (; resolve; resolve &= resolve - 1) {
            unsigned l = (unsigned)__builtin_ctz(resolve);
            ids[i + l] = pt->leaves[leaf[l]];
        }
    }
}

void gt_classify6_batch(const gt_classifier *c, const uint8_t (*addrs)[16], uint32_t *ids, size_t n)
{
    const struct gt_poptrie *pt = &c->lk.v6;
    const unsigned sh = pt->sbits <= 16 ? 16 - pt->sbits : 0;   /* direct index from the first two bytes */
    size_t i = 0;
    for (size_t l = 0; l < LANES && l < n; l++)
        __builtin_prefetch(&pt->direct[((unsigned)addrs[l][0] << 8 | addrs[l][1]) >> sh]);
    for (; i < n; i += LANES) {
        const unsigned m = n - i < LANES ? (unsigned)(n - i) : LANES;
        const struct gt_pt_node *nd[LANES];
        gt_u128 k[LANES];
        uint32_t leaf[LANES];
        uint32_t pending = 0, resolve = 0;
        for (unsigned l = 0; l < m; l++) {
            if (i + LANES + l < n)
                __builtin_prefetch(&pt->direct[((unsigned)addrs[i + LANES + l][0] << 8 | addrs[i + LANES + l][1]) >> sh]);
            uint64_t hi, lo;
            memcpy(&hi, addrs[i + l], 8);
            memcpy(&lo, addrs[i + l] + 8, 8);
            gt_u128 a = ((gt_u128)__builtin_bswap64(hi) << 64) | __builtin_bswap64(lo);
            uint32_t e = pt->direct[(uint32_t)(a >> (128 - pt->sbits))];
            if (e & GT_PT_LEAF) {
                ids[i + l] = e & ~GT_PT_LEAF;
            } else {
                nd[l] = &pt->nodes[e];
                __builtin_prefetch(nd[l]);
                k[l] = a << pt->sbits;
                pending |= 1u << l;
            }
        }
        while (pending) {
            for (uint32_t m = pending; m; m &= m - 1) {
                unsigned l = (unsigned)__builtin_ctz(m);
                unsigned v = (unsigned)(k[l] >> 122);
                uint64_t upto = ((uint64_t)2 << v) - 1;
                const struct gt_pt_node *x = nd[l];
                if (x->vector & ((uint64_t)1 << v)) {
                    nd[l] = &pt->nodes[x->base1 + gt_popcnt64(x->vector & upto) - 1];
                    __builtin_prefetch(nd[l]);
                    k[l] <<= 6;
                } else {
                    leaf[l] = x->base0 + gt_popcnt64(x->leafvec & upto) - 1;
                    __builtin_prefetch(&pt->leaves[leaf[l]]);
                    pending &= ~(1u << l);
                    resolve |= 1u << l;
                }
            }
        }
        for (; resolve; resolve &= resolve - 1) {
            unsigned l = (unsigned)__builtin_ctz(resolve);
            ids[i + l] = pt->leaves[leaf[l]];
        }
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
    if (upstream == 0 || upstream >= c->n_upstream_names || c->up_off[upstream] >= c->up_alen)
        return "";
    return c->up_arena + c->up_off[upstream];
}

size_t gt_classifier_memory(const gt_classifier *c)
{
    return gt_poptrie_memory(&c->lk.v4) + gt_poptrie_memory(&c->lk.v6) +
           (size_t)c->nclasses * sizeof *c->classes;
}

double gt_classifier_build_seconds(const gt_classifier *c)
{
    return c->build_seconds;
}
