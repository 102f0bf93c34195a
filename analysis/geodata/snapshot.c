/* Private copies of input files (snapshot.h). */
#include "geotap/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int same(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Read path with read() into put(ctx, data, n); 0, or -1 with err (errno
 * kept from a failed put). */
static int read_all(const char *path, int (*put)(void *ctx, const char *p, size_t n), void *ctx,
                    size_t *size, char *err, size_t errlen)
{
    struct stat before, after;
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char buf[1 << 16];
    size_t total = 0;
    int rc = -1;
    if (fstat(in, &before) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (put(ctx, buf, (size_t)n) != 0) {
            int e = errno;
            snprintf(err, errlen, "%s: cannot copy: %s", path, strerror(e));
            errno = e;
            goto out;
        }
        total += (size_t)n;
    }
    if (fstat(in, &after) != 0 || !same(&before, &after) || total != (size_t)after.st_size) {
        snprintf(err, errlen, "%s: changed while being read (being written? replace it with mv)", path);
        errno = EAGAIN;
        goto out;
    }
    *size = total;
    rc = 0;
out:
    close(in);
    return rc;
}

static int put_fd(void *ctx, const char *p, size_t n)
{
    int fd = *(int *)ctx;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int gt_snapshot_fd(const char *path, size_t *size, char *err, size_t errlen)
{
    int fd = memfd_create("geotap-snapshot", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot copy: %s", path, strerror(errno));
        return -1;
    }
    if (read_all(path, put_fd, &fd, size, err, errlen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct mem { char *p; size_t n, cap; };

static int put_mem(void *ctx, const char *p, size_t n)
{
    struct mem *m = ctx;
    if (m->n + n > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1 << 20;
        while (cap < m->n + n)
            cap *= 2;
        char *q = realloc(m->p, cap);
        if (!q)
            return -1;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return 0;
}

void *gt_snapshot_read(const char *path, size_t *size, char *err, size_t errlen)
{
    struct mem m = { 0 };
    if (read_all(path, put_mem, &m, size, err, errlen) != 0) {
        free(m.p);
        return NULL;
    }
    return m.p ? m.p : malloc(1);
}
