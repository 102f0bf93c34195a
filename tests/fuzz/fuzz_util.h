/* Shared bits of the libFuzzer harnesses: inputs as files (memfd, so the
 * file readers run unchanged), a check that aborts (libFuzzer reports it
 * as a finding), and a seeded PRNG over the input bytes. */
#ifndef GEOTAP_FUZZ_UTIL_H
#define GEOTAP_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: invariant failed: %s\n", \
    __FILE__, __LINE__, #c); abort(); } } while (0)

/* The input as a file: fills path ("/proc/self/fd/N"); returns the fd to
 * close afterwards, or -1. */
static inline int fuzz_file(const uint8_t *d, size_t n, char *path, size_t plen)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, d + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, plen, "/proc/self/fd/%d", fd);
    return fd;
}

/* Bytes of the input read in order, then zeros. */
struct fuzz_in { const uint8_t *d; size_t n, i; };
static inline uint32_t fuzz_u8(struct fuzz_in *in)
{
    return in->i < in->n ? in->d[in->i++] : 0;
}
static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v = v << 8 | fuzz_u8(in);
    return v;
}

#endif
