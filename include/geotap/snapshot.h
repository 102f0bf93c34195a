/* A private copy of an input file that another process may be rewriting in
 * place (a database replaced by cp while the sensor reloads): the file is
 * read with read(), never mapped, so its truncation cannot fault the reader
 * (SIGBUS), and the copy is refused when the file changed while being read. */
#ifndef GEOTAP_SNAPSHOT_H
#define GEOTAP_SNAPSHOT_H

#include <stddef.h>

/* The file's content in an anonymous memory file: its descriptor (the caller
 * closes it; "/proc/self/fd/N" names it), *size its length. -1 with "PATH:
 * reason" in err (unreadable, changed while read), errno EFBIG when the
 * copy exceeds the process's file size limit. */
int gt_snapshot_fd(const char *path, size_t *size, char *err, size_t errlen);
/* The same in a malloc'ed buffer (no file: not bound by RLIMIT_FSIZE). NULL
 * with err. */
void *gt_snapshot_read(const char *path, size_t *size, char *err, size_t errlen);

#endif
