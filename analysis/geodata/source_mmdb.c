/* MaxMind DB sources: walk the search tree with libmaxminddb's
 * MMDB_read_node and read each data record once with MMDB_get_value,
 * emitting one range per network that carries the wanted field. */
#include "geotap/geodata.h"
#include "geotap/snapshot.h"

#include <errno.h>
#include <maxminddb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { WANT_COUNTRY, WANT_ASN };

struct walker {
    const char *path;
    MMDB_s db;
    int want;
    struct gt_rangeset *rs;
    struct gt_asn_orgs *orgs;
    /* record value -> resolved value; many networks share one record */
    uint64_t *ckey; uint32_t *cval; size_t ccap, cn;
    /* the IPv4 subtree (::/96) of an IPv6 tree, so its aliases are not re-walked */
    int have_v4root; uint64_t v4root;
    size_t v4_first, v4_last;           /* this source's IPv4 ranges in rs->v4 */
    size_t first4, first6;              /* where this source's ranges start */
    uint64_t visits, max_visits;
    char *err; size_t errlen;
    int failed;
};

static void fail(struct walker *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = 1;
    int k = snprintf(w->err, w->errlen, "%s: ", w->path);
    if (k < 0 || (size_t)k >= w->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + k, w->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

static size_t hash64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    return (size_t)x;
}

static int cache_put(struct walker *w, uint64_t key, uint32_t val)
{
    if ((w->cn + 1) * 2 > w->ccap) {
        size_t nc = w->ccap ? w->ccap * 2 : 4096;
        uint64_t *k = calloc(nc, sizeof *k);
        uint32_t *v = calloc(nc, sizeof *v);
        if (!k || !v) {
            free(k); free(v);
            return -1;
        }
        for (size_t i = 0; i < w->ccap; i++) {
            if (!w->ckey[i])
                continue;
            size_t j = hash64(w->ckey[i]) & (nc - 1);
            while (k[j])
                j = (j + 1) & (nc - 1);
            k[j] = w->ckey[i];
            v[j] = w->cval[i];
        }
        free(w->ckey); free(w->cval);
        w->ckey = k; w->cval = v; w->ccap = nc;
    }
    size_t j = hash64(key + 1) & (w->ccap - 1);
    while (w->ckey[j])
        j = (j + 1) & (w->ccap - 1);
    w->ckey[j] = key + 1;      /* stored +1: 0 marks an empty slot */
    w->cval[j] = val;
    w->cn++;
    return 0;
}

static int cache_get(const struct walker *w, uint64_t key, uint32_t *val)
{
    if (!w->ccap)
        return 0;
    for (size_t j = hash64(key + 1) & (w->ccap - 1); w->ckey[j]; j = (j + 1) & (w->ccap - 1))
        if (w->ckey[j] == key + 1) {
            *val = w->cval[j];
            return 1;
        }
    return 0;
}

/* A lookup path that is absent from a record is not an error. */
static int path_absent(int st)
{
    return st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || st == MMDB_INVALID_LOOKUP_PATH_ERROR;
}

static uint32_t read_value(struct walker *w, MMDB_entry_s *entry)
{
    MMDB_entry_data_s ed;
    int st;
    if (w->want == WANT_COUNTRY) {
        st = MMDB_get_value(entry, &ed, "country", "iso_code", NULL);
        if (st != MMDB_SUCCESS) {
            if (!path_absent(st))
                fail(w, "corrupt MaxMind DB: %s", MMDB_strerror(st));
            return 0;
        }
        if (!ed.has_data || ed.type != MMDB_DATA_TYPE_UTF8_STRING || ed.data_size != 2)
            return 0;
        return GT_CC_PACK(ed.utf8_string[0], ed.utf8_string[1]);
    }
    st = MMDB_get_value(entry, &ed, "autonomous_system_number", NULL);
    if (st != MMDB_SUCCESS) {
        if (!path_absent(st))
            fail(w, "corrupt MaxMind DB: %s", MMDB_strerror(st));
        return 0;
    }
    if (!ed.has_data)
        return 0;
    uint64_t asn;
    switch (ed.type) {
    case MMDB_DATA_TYPE_UINT16: asn = ed.uint16; break;
    case MMDB_DATA_TYPE_UINT32: asn = ed.uint32; break;
    case MMDB_DATA_TYPE_INT32: asn = ed.int32 > 0 ? (uint64_t)ed.int32 : 0; break;
    case MMDB_DATA_TYPE_UINT64: asn = ed.uint64; break;
    default: return 0;
    }
    if (asn == 0 || asn > UINT32_MAX)
        return 0;
    if (w->orgs) {
        st = MMDB_get_value(entry, &ed, "autonomous_system_organization", NULL);
        if (st == MMDB_SUCCESS && ed.has_data && ed.type == MMDB_DATA_TYPE_UTF8_STRING) {
            if (gt_asn_orgs_add(w->orgs, (uint32_t)asn, ed.utf8_string, ed.data_size))
                fail(w, "out of memory");
        } else if (st != MMDB_SUCCESS && !path_absent(st)) {
            fail(w, "corrupt MaxMind DB: %s", MMDB_strerror(st));
        }
    }
    return (uint32_t)asn;
}

static uint32_t resolve(struct walker *w, uint64_t rec, MMDB_entry_s *entry)
{
    uint32_t v;
    if (cache_get(w, rec, &v))
        return v;
    v = read_value(w, entry);
    if (cache_put(w, rec, v))
        fail(w, "out of memory");
    return v;
}

static gt_u128 ones(unsigned n)
{
    return n >= 128 ? ~(gt_u128)0 : (((gt_u128)1 << n) - 1);
}

/* The walk emits networks in address order: extend the previous range when
 * this one continues it with the same value. */
static void add_range(struct walker *w, int bits, gt_u128 lo, gt_u128 hi, uint32_t v)
{
    if (bits == 32 && w->rs->n4 > w->first4) {
        struct gt_range4 *p = &w->rs->v4[w->rs->n4 - 1];
        if (p->val == v && (gt_u128)p->hi + 1 == lo) {
            p->hi = (uint32_t)hi;
            return;
        }
    } else if (bits == 128 && w->rs->n6 > w->first6) {
        struct gt_range6 *p = &w->rs->v6[w->rs->n6 - 1];
        if (p->val == v && p->hi + 1 == lo) {
            p->hi = hi;
            return;
        }
    }
    int r = bits == 32 ? gt_rangeset_add4(w->rs, (uint32_t)lo, (uint32_t)hi, v)
                       : gt_rangeset_add6(w->rs, lo, hi, v);
    if (r)
        fail(w, "out of memory");
}

static void walk(struct walker *w, uint64_t node, int depth, gt_u128 prefix, int bits);

/* The record for the network prefix/depth. */
static void record(struct walker *w, uint64_t rec, uint8_t type, MMDB_entry_s *entry,
                   int depth, gt_u128 prefix, int bits)
{
    switch (type) {
    case MMDB_RECORD_TYPE_SEARCH_NODE:
        if (bits == 128 && w->have_v4root && rec == w->v4root && depth <= 96) {
            /* ::/96 or an alias of it (::ffff:0:0/96, 2002::/16): the IPv4
             * subtree, already walked; map its ranges into this prefix. */
            unsigned sh = (unsigned)(128 - depth - 32);
            for (size_t i = w->v4_first; i < w->v4_last && !w->failed; i++) {
                struct gt_range4 r = w->rs->v4[i];
                add_range(w, 128, prefix | ((gt_u128)r.lo << sh),
                          prefix | ((gt_u128)r.hi << sh) | ones(sh), r.val);
            }
            return;
        }
        if (depth >= bits) {
            fail(w, "corrupt MaxMind DB: search tree deeper than %d bits", bits);
            return;
        }
        walk(w, rec, depth, prefix, bits);
        return;
    case MMDB_RECORD_TYPE_EMPTY:
        return;
    case MMDB_RECORD_TYPE_DATA: {
        uint32_t v = resolve(w, rec, entry);
        if (v)
            add_range(w, bits, prefix, prefix | ones((unsigned)(bits - depth)), v);
        return;
    }
    default:
        fail(w, "corrupt MaxMind DB: invalid record in search tree");
        return;
    }
}

static void walk(struct walker *w, uint64_t node, int depth, gt_u128 prefix, int bits)
{
    MMDB_search_node_s n;
    if (w->failed)
        return;
    if (++w->visits > w->max_visits) {
        fail(w, "corrupt MaxMind DB: search tree has cycles");
        return;
    }
    int st = MMDB_read_node(&w->db, (uint32_t)node, &n);
    if (st != MMDB_SUCCESS) {
        fail(w, "corrupt MaxMind DB: %s", MMDB_strerror(st));
        return;
    }
    gt_u128 bit = (gt_u128)1 << (bits - depth - 1);
    record(w, n.left_record, n.left_record_type, &n.left_record_entry, depth + 1, prefix, bits);
    record(w, n.right_record, n.right_record_type, &n.right_record_entry, depth + 1, prefix | bit, bits);
}

/* IPv4 space of an IPv6 tree: follow 96 left branches, as libmaxminddb does
 * for an AF_INET lookup. */
static void walk_v4_of_v6(struct walker *w)
{
    uint64_t node = 0;
    for (int d = 0; d < 96; d++) {
        MMDB_search_node_s n;
        int st = MMDB_read_node(&w->db, (uint32_t)node, &n);
        if (st != MMDB_SUCCESS) {
            fail(w, "corrupt MaxMind DB: %s", MMDB_strerror(st));
            return;
        }
        if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
            /* the whole IPv4 space falls into one network shorter than /96 */
            record(w, n.left_record, n.left_record_type, &n.left_record_entry, 0, 0, 32);
            return;
        }
        node = n.left_record;
    }
    w->have_v4root = 1;
    w->v4root = node;
    walk(w, node, 0, 0, 32);
}

static int load(const char *path, int want, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                char *err, size_t errlen)
{
    struct walker w = { .path = path, .want = want, .rs = rs, .orgs = orgs,
                        .err = err, .errlen = errlen };
    /* Opened from a private copy: the file may be rewritten in place meanwhile
     * (cp over it), and a mapping of a truncated file faults (snapshot.h). */
    size_t size;
    char e[600], copy[64];
    int fd = gt_snapshot_fd(path, &size, e, sizeof e);
    if (fd < 0 && errno != EFBIG) {
        snprintf(err, errlen, "%s", e);
        return -1;
    }
    /* under a file size limit smaller than the DB: the file itself */
    snprintf(copy, sizeof copy, "/proc/self/fd/%d", fd);
    int st = MMDB_open(fd >= 0 ? copy : path, MMDB_MODE_MMAP, &w.db);
    if (fd >= 0)
        close(fd);      /* the mapping stays */
    if (st != MMDB_SUCCESS) {
        if (st == MMDB_IO_ERROR)
            snprintf(err, errlen, "%s: cannot read MaxMind DB: %s", path, MMDB_strerror(st));
        else
            snprintf(err, errlen, "%s: not a valid MaxMind DB: %s", path, MMDB_strerror(st));
        return -1;
    }
    w.first4 = rs->n4;
    w.first6 = rs->n6;
    w.max_visits = 4 * (uint64_t)w.db.metadata.node_count + 256;
    if (w.db.metadata.ip_version == 6) {
        w.v4_first = rs->n4;
        walk_v4_of_v6(&w);
        w.v4_last = rs->n4;
        if (!w.failed)
            walk(&w, 0, 0, 0, 128);
    } else if (w.db.metadata.ip_version == 4) {
        walk(&w, 0, 0, 0, 32);
    } else {
        fail(&w, "not a valid MaxMind DB: ip_version %u", (unsigned)w.db.metadata.ip_version);
    }
    if (!w.failed && rs->n4 == w.first4 && rs->n6 == w.first6)
        fail(&w, "no %s in any record (not a %s database?)",
             want == WANT_COUNTRY ? "country.iso_code" : "autonomous_system_number",
             want == WANT_COUNTRY ? "country" : "ASN");
    MMDB_close(&w.db);
    free(w.ckey);
    free(w.cval);
    return w.failed ? -1 : 0;
}

int gt_source_mmdb_country(const char *path, struct gt_rangeset *rs, char *err, size_t errlen)
{
    return load(path, WANT_COUNTRY, rs, NULL, err, errlen);
}

int gt_source_mmdb_asn(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                       char *err, size_t errlen)
{
    return load(path, WANT_ASN, rs, orgs, err, errlen);
}
