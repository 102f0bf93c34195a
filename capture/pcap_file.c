/* Capture files through libpcap's readers (pcap and pcapng). */
#include "geotap/pcap_file.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct gt_pcap_file {
    pcap_t *p;
    char *path;
    uint64_t frames;
    uint64_t size;
    char err[PCAP_ERRBUF_SIZE + 512];
};

gt_pcap_file *gt_pcap_file_open(const char *path, const char *bpf, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    gt_pcap_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f->path = strdup(path);
    f->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!f->p) {
        /* libpcap's messages sometimes name the file already; keep one line. */
        size_t pl = strlen(path);
        const char *msg = eb;
        if (!strncmp(eb, path, pl) && eb[pl] == ':')   /* libpcap already named the file */
            msg = eb + pl + 1 + (eb[pl + 1] == ' ');
        snprintf(err, errlen, "%s: cannot read capture: %s", path, msg);
        gt_pcap_file_close(f);
        return NULL;
    }
    if (bpf && *bpf) {
        struct bpf_program prog;
        if (pcap_compile(f->p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "filter '%s': %s", bpf, pcap_geterr(f->p));
            gt_pcap_file_close(f);
            return NULL;
        }
        int rc = pcap_setfilter(f->p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "filter '%s': %s", bpf, pcap_geterr(f->p));
            gt_pcap_file_close(f);
            return NULL;
        }
    }
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        f->size = (uint64_t)st.st_size;
    return f;
}

int gt_pcap_file_dlt(const gt_pcap_file *f)
{
    return pcap_datalink(f->p);
}

uint64_t gt_pcap_file_offset(const gt_pcap_file *f)
{
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

int gt_pcap_file_next(gt_pcap_file *f, int64_t *ts_ns, const uint8_t **data,
                      uint32_t *caplen, uint32_t *wirelen)
{
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(f->p, &h, &d);
    if (rc == 1) {
        f->frames++;
        /* nanosecond precision was asked for at open: tv_usec holds ns */
        *ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
        *data = d;
        *caplen = h->caplen;
        *wirelen = h->len;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc == 0)   /* only live captures time out */
        return 0;
    snprintf(f->err, sizeof f->err, "%s: corrupt or truncated capture at byte offset %llu, after %llu frames: %s",
             f->path, (unsigned long long)gt_pcap_file_offset(f), (unsigned long long)f->frames,
             pcap_geterr(f->p));
    return -1;
}

const char *gt_pcap_file_error(const gt_pcap_file *f)
{
    return f->err;
}

void gt_pcap_file_close(gt_pcap_file *f)
{
    if (!f)
        return;
    if (f->p)
        pcap_close(f->p);
    free(f->path);
    free(f);
}
