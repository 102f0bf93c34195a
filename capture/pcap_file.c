/* Capture files. Classic pcap files are read zero-copy from a memory map
 * (the common case, and the fast one); pcapng, pipes and anything the fast
 * path finds irregular go through libpcap's own reader, so what is accepted
 * and what is reported corrupt is always libpcap's decision. */
#include "geotap/pcap_file.h"
#include "geotap/bins.h"
#include "geotap/engine.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CAPLEN 262144u   /* libpcap's maximum snapshot for ordinary link types */

struct gt_pcap_file {
    pcap_t *p;                   /* always open: link type, BPF, and the fallback reader */
    char *path;
    uint64_t frames;             /* frames returned (after the filter) */
    uint64_t records;            /* records consumed by the zero-copy path */
    uint64_t size;
    struct bpf_program prog;
    int have_prog;
    /* zero-copy state */
    const uint8_t *map;          /* NULL when libpcap reads */
    const uint8_t *kept;         /* the map after libpcap took over: frames read from it stay valid until close */
    uint64_t off;
    int swapped, nsec;
    int classic;                 /* pcap (not pcapng): 32-bit unsigned seconds and fraction */
    uint32_t snaplen;
    int view;                    /* a gt_pcap_file_view: borrows map, filter and handle; owns nothing */
    char err[PCAP_ERRBUF_SIZE + 512];
};

/* ns since the epoch of seconds + fraction (frac_max = 1e9 for ns, 1e6 for
 * us), or GT_TS_BAD when the fraction is out of range or the time does not
 * fit int64 ns (after 2262): never a wrapped time. */
static int64_t to_ns(int64_t sec, int64_t frac, int64_t frac_max)
{
    if (frac < 0 || frac >= frac_max || sec < 0 || sec > (INT64_MAX - 999999999) / 1000000000)
        return GT_TS_BAD;
    return sec * 1000000000 + frac * (1000000000 / frac_max);
}

static uint32_t rd32(const uint8_t *b, int swapped)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* Map a classic pcap file (magic a1b2c3d4 or a1b23c4d, version 2.4, either
 * byte order); leaves f->map NULL for anything else. */
static void try_map(gt_pcap_file *f)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
        close(fd);
        return;
    }
    uint8_t h[24];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h) {
        close(fd);
        return;
    }
    uint32_t magic;
    memcpy(&magic, h, 4);
    int swapped = -1, nsec = 0;
    if (magic == 0xa1b2c3d4) swapped = 0;
    else if (magic == 0xd4c3b2a1) swapped = 1;
    else if (magic == 0xa1b23c4d) { swapped = 0; nsec = 1; }
    else if (magic == 0x4d3cb2a1) { swapped = 1; nsec = 1; }
    uint16_t major = (uint16_t)(h[4] | h[5] << 8), minor = (uint16_t)(h[6] | h[7] << 8);
    if (swapped == 1) {
        major = __builtin_bswap16(major);
        minor = __builtin_bswap16(minor);
    }
    if (swapped < 0 || major != 2 || minor != 4) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    f->map = m;
    f->off = 24;
    f->swapped = swapped;
    f->nsec = nsec;
    int snap = pcap_snapshot(f->p);
    f->snaplen = snap > 0 && (uint32_t)snap < MAX_CAPLEN ? (uint32_t)snap : MAX_CAPLEN;
}

static void unmap(gt_pcap_file *f)
{
    if (f->map || f->kept) {
        munmap((void *)(f->map ? f->map : f->kept), (size_t)f->size);
        f->map = f->kept = NULL;
    }
}

/* glibc's ftell asks the kernel (lseek) until the stream's offset is
 * known, which a seek makes it: seek to where the stream is, once, so the
 * offset of every record (for errors) costs no system call. */
static void offset_known(gt_pcap_file *f)
{
    FILE *fp = pcap_file(f->p);
    long at = fp ? ftell(fp) : -1;
    if (at >= 0)
        fseek(fp, at, SEEK_SET);
}

gt_pcap_file *gt_pcap_file_open(const char *path, const char *bpf, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    gt_pcap_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (f->p)
        f->classic = pcap_major_version(f->p) == 2;
    if (!f->p) {
        size_t pl = strlen(path);
        const char *msg = eb;
        if (!strncmp(eb, path, pl) && eb[pl] == ':')   /* libpcap already named the file */
            msg = eb + pl + 1 + (eb[pl + 1] == ' ');
        snprintf(err, errlen, "%s: cannot read capture: %s", path, msg);
        gt_pcap_file_close(f);
        return NULL;
    }
    if (bpf && *bpf) {
        if (pcap_compile(f->p, &f->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "filter '%s': %s", bpf, pcap_geterr(f->p));
            gt_pcap_file_close(f);
            return NULL;
        }
        f->have_prog = 1;
    }
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        f->size = (uint64_t)st.st_size;
        if (!getenv("GEOTAP_NO_MMAP"))   /* to compare both readers */
            try_map(f);
    }
    /* The zero-copy path filters itself; libpcap's reader gets the filter
     * only when it reads (see fall_back). */
    if (f->have_prog && !f->map && pcap_setfilter(f->p, &f->prog) != 0) {
        snprintf(err, errlen, "filter '%s': %s", bpf, pcap_geterr(f->p));
        gt_pcap_file_close(f);
        return NULL;
    }
    if (!f->map && f->size)   /* a regular file libpcap reads (not a pipe: no seeking there) */
        offset_known(f);
    return f;
}

int gt_pcap_file_dlt(const gt_pcap_file *f)
{
    return pcap_datalink(f->p);
}

uint64_t gt_pcap_file_offset(const gt_pcap_file *f)
{
    if (f->map)
        return f->off;
    FILE *fp = pcap_file(f->p);
    long off = fp ? ftell(fp) : -1;
    return off > 0 ? (uint64_t)off : 0;
}

uint64_t gt_pcap_file_size(const gt_pcap_file *f)
{
    return f->size;
}

uint64_t gt_pcap_file_frames(const gt_pcap_file *f)
{
    return f->frames;
}

/* Something irregular at f->off: let libpcap read from this record on (its
 * handle still stands after the file header; skip the records we returned). */
static int fall_back(gt_pcap_file *f)
{
    struct pcap_pkthdr *h;
    const u_char *d;
    f->kept = f->map;   /* unmapped at close: frames handed out from it may still be in use */
    f->map = NULL;
    for (uint64_t i = 0; i < f->records; i++)
        if (pcap_next_ex(f->p, &h, &d) != 1)
            return -1;   /* cannot happen: these records were whole */
    if (f->have_prog && pcap_setfilter(f->p, &f->prog) != 0)
        return -1;
    offset_known(f);
    return 0;
}

static int next_libpcap(gt_pcap_file *f, int64_t *ts_ns, const uint8_t **data,
                        uint32_t *caplen, uint32_t *wirelen)
{
    struct pcap_pkthdr *h;
    const u_char *d;
    /* where this record starts, for the error (ftell: no syscall, offset_known) */
    uint64_t at = gt_pcap_file_offset(f);
    int rc = pcap_next_ex(f->p, &h, &d);
    if (rc == 1) {
        f->frames++;
        /* nanosecond precision was asked for at open: tv_usec holds ns.
         * libpcap sign-extends a classic file's 32-bit fields, which are
         * unsigned (as the mmap path and Wireshark read them); a negative
         * fraction was >= 2^31, out of range either way. */
        int64_t sec = (int64_t)h->ts.tv_sec, frac = (int64_t)h->ts.tv_usec;
        if (f->classic && sec < 0 && sec >= INT32_MIN)
            sec += (int64_t)1 << 32;
        *ts_ns = to_ns(sec, frac, 1000000000);
        *data = d;
        *caplen = h->caplen;
        *wirelen = h->len;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK || rc == 0)   /* end of file; 0 only for live timeouts */
        return 0;
    snprintf(f->err, sizeof f->err, "%s: corrupt or truncated capture: the record at byte offset %llu, after %llu frames: %s",
             f->path, (unsigned long long)at, (unsigned long long)f->frames, pcap_geterr(f->p));
    return -1;
}

/* The next record of the mapped file that starts before end: 1 with the
 * frame, 0 at the end, -2 at anything irregular (libpcap's reader takes
 * over from there). */
static inline int map_next(gt_pcap_file *f, int64_t *ts_ns, const uint8_t **data,
                           uint32_t *caplen, uint32_t *wirelen, uint64_t end)
{
    for (;;) {
        if (f->off >= end)
            return 0;
        if (f->size - f->off < 16)
            return -2;
        const uint8_t *r = f->map + f->off;
        uint32_t cl = rd32(r + 8, f->swapped);
        if (cl > f->snaplen || cl > f->size - f->off - 16)
            return -2;
        uint32_t sec = rd32(r, f->swapped), frac = rd32(r + 4, f->swapped);
        f->off += 16 + (uint64_t)cl;
        f->records++;
        if (f->have_prog) {
            struct pcap_pkthdr h;
            h.caplen = cl;
            h.len = rd32(r + 12, f->swapped);
            if (!pcap_offline_filter(&f->prog, &h, r + 16))
                continue;
        }
        f->frames++;
        *ts_ns = to_ns(sec, frac, f->nsec ? 1000000000 : 1000000);
        *data = r + 16;
        *caplen = cl;
        *wirelen = rd32(r + 12, f->swapped);
        return 1;
    }
}

int gt_pcap_file_next(gt_pcap_file *f, int64_t *ts_ns, const uint8_t **data,
                      uint32_t *caplen, uint32_t *wirelen)
{
    if (f->map) {
        int rc = map_next(f, ts_ns, data, caplen, wirelen, f->size);
        if (rc >= 0)
            return rc;
        if (fall_back(f) != 0) {
            snprintf(f->err, sizeof f->err, "%s: cannot re-read the capture after %llu records: %s",
                     f->path, (unsigned long long)f->records, pcap_geterr(f->p));
            return -1;
        }
    }
    return next_libpcap(f, ts_ns, data, caplen, wirelen);
}

/* Up to max frames of the mapped records that start before end; *irregular
 * set when it stopped at a record the map path cannot read (f stays at
 * it), cleared at end or max. The map lives until the file is closed or
 * libpcap takes over, so every frame points into it (zero copy). */
static unsigned map_burst(gt_pcap_file *f, struct gt_frame *out, unsigned max, uint64_t end, int *irregular)
{
    unsigned n = 0;
    *irregular = 0;
    while (n < max) {
        struct gt_frame *o = &out[n];
        int rc = map_next(f, &o->ts_ns, &o->data, &o->caplen, &o->wirelen, end);
        if (rc != 1) {
            *irregular = rc != 0;
            break;
        }
        n++;
    }
    return n;
}

int gt_pcap_file_burst(gt_pcap_file *f, struct gt_frame *out, unsigned max)
{
    unsigned n = 0;
    if (f->map) {
        int irregular;
        n = map_burst(f, out, max, f->size, &irregular);
        if (!irregular)
            return (int)n;
    }
    if (n || max == 0)
        return (int)n;   /* the fall-back (which unmaps) waits for the next call */
    /* libpcap's reader reuses its buffer: one frame per call. */
    struct gt_frame *o = &out[0];
    return gt_pcap_file_next(f, &o->ts_ns, &o->data, &o->caplen, &o->wirelen);
}

int gt_pcap_file_mapped(const gt_pcap_file *f)
{
    return f->map != NULL;
}

const char *gt_pcap_file_error(const gt_pcap_file *f)
{
    return f->err;
}

void gt_pcap_file_close(gt_pcap_file *f)
{
    if (!f)
        return;
    if (f->view) {
        free(f);
        return;
    }
    unmap(f);
    if (f->have_prog)
        pcap_freecode(&f->prog);
    if (f->p)
        pcap_close(f->p);
    free(f->path);
    free(f);
}

/* -- parts of one mapped file (pcap_file.h "Parts") -- */

#define SYNC_CHAIN 16         /* consecutive plausible records that make a record boundary */
#define SYNC_SPAN 86400u      /* ... whose seconds lie within a day of the first's */

int gt_pcap_file_splittable(const gt_pcap_file *f)
{
    return f->map && !f->view && f->off == 24 && f->records == 0;
}

/* A record at off that a capture could hold: whole, caplen within the
 * snapshot and the original length, a fraction below one second. Its
 * seconds in *sec; 0 when it is not. */
static int plausible(const gt_pcap_file *f, uint64_t off, uint32_t *sec)
{
    if (f->size - off < 16)
        return 0;
    const uint8_t *r = f->map + off;
    uint32_t cl = rd32(r + 8, f->swapped), wl = rd32(r + 12, f->swapped), frac = rd32(r + 4, f->swapped);
    *sec = rd32(r, f->swapped);
    return cl <= f->snaplen && cl <= wl && wl <= MAX_CAPLEN && cl <= f->size - off - 16 &&
           frac < (f->nsec ? 1000000000u : 1000000u);
}

uint64_t gt_pcap_file_resync(const gt_pcap_file *f, uint64_t from, uint64_t to)
{
    if (to > f->size)
        to = f->size;
    for (uint64_t p = from < 24 ? 24 : from; p < to; p++) {
        uint64_t q = p;
        uint32_t s0 = 0, s;
        unsigned k = 0;
        for (; k < SYNC_CHAIN && q < f->size && plausible(f, q, &s); k++) {
            if (k == 0)
                s0 = s;
            else if ((s > s0 ? s - s0 : s0 - s) > SYNC_SPAN)
                break;
            q += 16 + (uint64_t)rd32(f->map + q + 8, f->swapped);
        }
        if (k == SYNC_CHAIN || (k > 0 && q == f->size))   /* a chain, or one that ends the file exactly */
            return p;
    }
    return to;
}

gt_pcap_file *gt_pcap_file_view(const gt_pcap_file *f, uint64_t off)
{
    gt_pcap_file *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    memcpy(v, f, offsetof(struct gt_pcap_file, err));
    v->err[0] = 0;
    v->view = 1;
    v->off = off < 24 ? 24 : off > f->size ? f->size : off;
    v->frames = v->records = 0;
    return v;
}

int gt_pcap_file_view_burst(gt_pcap_file *v, struct gt_frame *out, unsigned max, uint64_t end)
{
    int irregular;
    unsigned n = map_burst(v, out, max, end, &irregular);
    return irregular && !n ? -2 : (int)n;   /* irregular: the view stays at its record */
}

uint64_t gt_pcap_file_records(const gt_pcap_file *f)
{
    return f->records;
}

void gt_pcap_file_resume(gt_pcap_file *f, uint64_t off, uint64_t records, uint64_t frames)
{
    f->off = off;
    f->records = records;
    f->frames = frames;
}
