/* The anomaly module's learned state in a file, so that baselines survive a
 * restart. Binary, one build's layout (the format version and the record
 * sizes are in the header), keys by label (country, ASN, upstream id, home)
 * so that the ids may change between runs, and a checksum at the end so a
 * truncated or altered file is refused, never half-loaded. */
#include "anomaly_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_MAGIC "GTANOMST"
#define STATE_VERSION 1u
#define STATE_END "END!"
#define LABEL_MAX 64

/* The capture-wide part of the detector. */
struct cap_state {
    int64_t cap_last, gap_start, last_end, gap_end;
    uint64_t gap_drops, out_of_range;
    int32_t in_gap, gap_reason;
    uint32_t hpos, pad;
};

struct header {
    char magic[8];
    uint32_t version, kst_size, hbin_size, hist_bins;
    uint32_t width, nkeys, nup, pad;
};

struct writer {
    FILE *f;
    uint64_t h;                 /* FNV-1a of everything written */
};

static void hash(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 0x100000001b3ULL;
    }
}

static void put(struct writer *w, const void *p, size_t n)
{
    hash(&w->h, p, n);
    fwrite(p, 1, n, w->f);
}

static void key_label(const struct gt_key *k, char *buf, size_t n)
{
    snprintf(buf, n, "%.2s/%u/%u/%u", k->cc, k->asn, k->upstream, k->home);
}

static int fail(char *err, size_t errlen, const char *path, const char *why)
{
    snprintf(err, errlen, "%s: %s", path, why);
    return -1;
}

int gt_anomaly_save(const gt_anomaly *a, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return fail(err, errlen, path, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        return -1;
    }
    struct writer w = { fdopen(fd, "wb"), 0xcbf29ce484222325ULL };
    if (!w.f) {
        close(fd);
        unlink(tmp);
        return fail(err, errlen, tmp, "out of memory");
    }
    struct header hd = { .version = STATE_VERSION, .kst_size = sizeof(struct kst),
                         .hbin_size = sizeof(struct hbin), .hist_bins = HIST_BINS,
                         .width = a->width, .nkeys = a->nkeys, .nup = a->nup };
    memcpy(hd.magic, STATE_MAGIC, 8);
    put(&w, &hd, sizeof hd);
    struct cap_state cs = { a->cap_last, a->gap_start, a->last_end, a->gap_end, a->gap_drops,
                            a->out_of_range, a->in_gap, (int32_t)a->gap_reason, a->hpos, 0 };
    put(&w, &cs, sizeof cs);
    if (a->nup)
        put(&w, a->up_rate, a->nup * sizeof *a->up_rate);
    for (uint32_t i = 0; i < a->nkeys; i++) {
        char label[LABEL_MAX] = { 0 };
        if (a->keys->keys)
            key_label(&a->keys->keys[i], label, sizeof label);
        else
            snprintf(label, sizeof label, "#%u", i);
        put(&w, label, sizeof label);
        put(&w, &a->k[i], sizeof a->k[i]);
        put(&w, a->hist + (size_t)i * HIST_BINS, HIST_BINS * sizeof *a->hist);
    }
    uint64_t h = w.h;
    fwrite(&h, 1, sizeof h, w.f);
    fwrite(STATE_END, 1, 4, w.f);
    int bad = fflush(w.f) != 0 || ferror(w.f) || fsync(fd) != 0;
    int e = errno;
    if (fclose(w.f) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            e = errno;
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write: %s", bad ? tmp : path, strerror(e));
        return -1;
    }
    return 0;
}

/* Read n bytes into p (NULL: skip), hashing them; 0 at the end of the file. */
static int get(FILE *f, uint64_t *h, void *p, size_t n)
{
    unsigned char buf[4096];
    while (n) {
        size_t m = n < sizeof buf ? n : sizeof buf;
        if (fread(p ? p : buf, 1, m, f) != m)
            return 0;
        hash(h, p ? p : buf, m);
        if (p)
            p = (unsigned char *)p + m;
        n -= m;
    }
    return 1;
}

static void reset(gt_anomaly *a)
{
    for (uint32_t i = 0; i < a->nkeys; i++) {
        uint32_t up = a->k[i].upstream;
        uint8_t ign = a->k[i].ignored;
        memset(&a->k[i], 0, sizeof a->k[i]);
        a->k[i].upstream = up;
        a->k[i].ignored = ign;
    }
    memset(a->hist, 0, (size_t)(a->nkeys ? a->nkeys : 1) * HIST_BINS * sizeof *a->hist);
    a->act_ok = 0;
    for (uint32_t u = 0; u < a->nup; u++)
        a->up_rate[u] = 0;
    a->cap_last = a->gap_start = a->last_end = a->gap_end = 0;
    a->gap_drops = a->out_of_range = 0;
    a->in_gap = 0;
    a->hpos = 0;
}

/* Two passes over the file: the first checks everything (header, sizes,
 * checksum, trailer), the second applies it, so a bad file changes nothing. */
static int load_pass(gt_anomaly *a, FILE *f, const char *path, uint32_t width, int apply,
                     char *err, size_t errlen)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    struct header hd;
    if (!get(f, &h, &hd, sizeof hd) || memcmp(hd.magic, STATE_MAGIC, 8) != 0)
        return fail(err, errlen, path, "not a geotap anomaly state file");
    if (hd.version != STATE_VERSION || hd.kst_size != sizeof(struct kst) ||
        hd.hbin_size != sizeof(struct hbin) || hd.hist_bins != HIST_BINS) {
        snprintf(err, errlen, "%s: state format %u of another geotap build (this one reads %u)", path,
                 hd.version, STATE_VERSION);
        return -1;
    }
    if (hd.width && width && hd.width != width) {
        snprintf(err, errlen, "%s: state learned with bins of %u s, not %u s", path, hd.width, width);
        return -1;
    }
    if (hd.nkeys > (1u << 24) || hd.nup > (1u << 24))
        return fail(err, errlen, path, "corrupt (impossible sizes)");
    struct cap_state cs;
    if (!get(f, &h, &cs, sizeof cs))
        return fail(err, errlen, path, "truncated");
    if (cs.hpos >= HIST_BINS || cs.in_gap < 0 || cs.in_gap > 1)
        return fail(err, errlen, path, "corrupt (capture state)");
    if (apply) {
        a->cap_last = cs.cap_last;
        a->gap_start = cs.gap_start;
        a->last_end = cs.last_end;
        a->gap_end = cs.gap_end;
        a->gap_drops = cs.gap_drops;
        a->out_of_range = cs.out_of_range;
        a->in_gap = cs.in_gap;
        a->gap_reason = (enum gt_gap_reason)cs.gap_reason;
        a->hpos = cs.hpos;
        if (hd.width)
            gt_anom_set_width(a, hd.width);
        if (a->last_end) {          /* the saved times are near the last bin's end */
            a->have_origin = 1;
            a->origin_ns = a->last_end;
        }
    }
    for (uint32_t u = 0; u < hd.nup; u++) {
        double r;
        if (!get(f, &h, &r, sizeof r))
            return fail(err, errlen, path, "truncated");
        if (apply && u < a->nup)
            a->up_rate[u] = r;
    }
    for (uint32_t i = 0; i < hd.nkeys; i++) {
        char label[LABEL_MAX], mine[LABEL_MAX];
        struct kst k;
        if (!get(f, &h, label, sizeof label) || !get(f, &h, &k, sizeof k))
            return fail(err, errlen, path, "truncated");
        label[LABEL_MAX - 1] = 0;
        uint32_t id = UINT32_MAX;
        if (apply) {
            /* the same id first (same keys as when saved), else a search */
            for (uint32_t t = 0; t < a->nkeys && id == UINT32_MAX; t++) {
                uint32_t j = (i + t) % a->nkeys;
                if (a->keys->keys)
                    key_label(&a->keys->keys[j], mine, sizeof mine);
                else
                    snprintf(mine, sizeof mine, "#%u", j);
                if (!strcmp(mine, label))
                    id = j;
            }
        }
        struct hbin *dst = id != UINT32_MAX ? a->hist + (size_t)id * HIST_BINS : NULL;
        if (!get(f, &h, dst, HIST_BINS * sizeof *a->hist))
            return fail(err, errlen, path, "truncated");
        if (id != UINT32_MAX) {
            k.upstream = a->k[id].upstream;     /* set by the caller for this run */
            k.ignored = a->k[id].ignored;
            a->k[id] = k;
        }
    }
    uint64_t want;
    char end[4];
    if (fread(&want, 1, sizeof want, f) != sizeof want || fread(end, 1, 4, f) != 4)
        return fail(err, errlen, path, "truncated");
    if (want != h || memcmp(end, STATE_END, 4) != 0 || fgetc(f) != EOF)
        return fail(err, errlen, path, "corrupt (checksum)");
    return 0;
}

/* The state file to read, or NULL with *rc: 0 none (a first run), -1 with err. */
static FILE *open_state(const char *path, int *rc, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = errno == ENOENT ? 0 : -1;
        if (*rc)
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    }
    return f;
}

int gt_anomaly_load(gt_anomaly *a, const char *path, uint32_t width, char *err, size_t errlen)
{
    int rc;
    FILE *f = open_state(path, &rc, err, errlen);
    if (!f)
        return rc;
    rc = load_pass(a, f, path, width, 0, err, errlen);
    if (rc == 0) {
        rewind(f);
        reset(a);
        rc = load_pass(a, f, path, width, 1, err, errlen);
        if (rc < 0)
            reset(a);           /* the file changed under us: start fresh */
    }
    fclose(f);
    return rc < 0 ? -1 : 1;
}

/* A label of key_label back into its key; -1 for "#id" (no key table). */
static int parse_label(const char *label, struct gt_key *k)
{
    const char *sl = strchr(label, '/');
    memset(k, 0, sizeof *k);
    if (!sl || sl - label > 2)
        return -1;
    memcpy(k->cc, label, (size_t)(sl - label));
    unsigned asn, up, home;
    if (sscanf(sl + 1, "%u/%u/%u", &asn, &up, &home) != 3 || home > 1)
        return -1;
    k->asn = asn;
    k->upstream = up;
    k->home = (uint8_t)home;
    return 0;
}

int gt_anomaly_state_keys(const char *path, uint32_t width, int64_t *last_end_ns,
                          int (*fn)(void *ctx, const struct gt_key *k), void *ctx, char *err, size_t errlen)
{
    int rc;
    FILE *f = open_state(path, &rc, err, errlen);
    if (!f)
        return rc;
    /* the whole file checked first (a detector is not needed for that), so
     * a bad one names no keys */
    rc = load_pass(NULL, f, path, width, 0, err, errlen);
    uint64_t h = 0;
    struct header hd = { .version = 0 };
    struct cap_state cs = { .cap_last = 0 };
    rewind(f);
    if (rc == 0 && (!get(f, &h, &hd, sizeof hd) || !get(f, &h, &cs, sizeof cs) ||
                    !get(f, &h, NULL, (size_t)hd.nup * sizeof(double))))
        rc = fail(err, errlen, path, "truncated");
    if (rc == 0 && last_end_ns)
        *last_end_ns = cs.last_end;
    for (uint32_t i = 0; rc == 0 && fn && i < hd.nkeys; i++) {
        char label[LABEL_MAX];
        struct gt_key k;
        if (!get(f, &h, label, sizeof label) || !get(f, &h, NULL, sizeof(struct kst) + HIST_BINS * sizeof(struct hbin)))
            rc = fail(err, errlen, path, "truncated");
        label[LABEL_MAX - 1] = 0;
        if (rc == 0 && parse_label(label, &k) == 0 && fn(ctx, &k) != 0)
            rc = fail(err, errlen, path, "out of memory");
    }
    fclose(f);
    return rc < 0 ? -1 : 1;
}
