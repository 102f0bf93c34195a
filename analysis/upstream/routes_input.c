/* --routes FILE input: sniff the content (bgpdump -m text, plain or gzip, vs.
 * binary MRT, plain/gzip/bzip2), read text lines through zlib (which reads
 * plain files transparently), or run `bgpdump -m -- FILE` without a shell
 * and read its output through a pipe. */
#include "geotap/routes.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

extern char **environ;

enum kind { K_TEXT, K_MRT, K_BAD };

static int is_text_record(const unsigned char *b, size_t n)
{
    static const char *const words[] = { "TABLE_DUMP", "BGP4MP" };
    for (size_t i = 0; i < 2; i++) {
        size_t l = strlen(words[i]);
        size_t m = n < l ? n : l;
        if (n > 0 && memcmp(b, words[i], m) == 0)
            return 1;
    }
    return 0;
}

/* MRT common header: timestamp(4) type(2) subtype(2) length(4). */
static int is_mrt(const unsigned char *b, size_t n)
{
    if (n < 12)
        return 0;
    unsigned type = (unsigned)b[4] << 8 | b[5];
    static const unsigned types[] = { 11, 12, 13, 16, 17, 32, 33, 48, 49 };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (type == types[i])
            return 1;
    return 0;
}

static enum kind sniff(const char *path, int *empty, char *err, size_t errlen)
{
    unsigned char b[64];
    *empty = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return K_BAD;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);   /* reads as empty on Linux: would load nothing, silently */
        snprintf(err, errlen, "%s: is a directory", path);
        return K_BAD;
    }
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
        return K_MRT;           /* bzip2: only bgpdump reads it */
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        gzFile g = gzopen(path, "rb");
        if (!g) {
            snprintf(err, errlen, "%s: cannot open gzip stream", path);
            return K_BAD;
        }
        int m = gzread(g, b, sizeof b);
        gzclose(g);
        if (m < 0) {
            snprintf(err, errlen, "%s: corrupt gzip stream", path);
            return K_BAD;
        }
        n = (size_t)m;
    }
    if (n == 0) {
        *empty = 1;
        return K_TEXT;
    }
    if (is_text_record(b, n))
        return K_TEXT;
    if (is_mrt(b, n))
        return K_MRT;
    snprintf(err, errlen, "%s: neither bgpdump -m output nor an MRT dump", path);
    return K_BAD;
}

/* Read lines from g and apply them; 0 or -1 with FILE:LINE in err. */
static int read_lines(gt_routes *r, gzFile g, const char *path, char *err, size_t errlen)
{
    size_t cap = 4096, len = 0;
    char *line = malloc(cap);
    char buf[1 << 16];
    unsigned long lineno = 0;
    char why[160];
    int rc = 0;
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        int m = gzread(g, buf, sizeof buf);
        if (m < 0) {
            int zerr;
            snprintf(err, errlen, "%s: read error: %s", path, gzerror(g, &zerr));
            rc = -1;
            break;
        }
        if (m == 0) {
            /* zlib reports a gzip stream cut short only here (Z_BUF_ERROR):
             * the cut last line must not be applied. */
            int zerr = Z_OK;
            gzerror(g, &zerr);
            if (zerr != Z_OK && zerr != Z_STREAM_END) {
                snprintf(err, errlen, "%s: %s", path,
                         zerr == Z_BUF_ERROR ? "gzip stream cut short (truncated file)" : gzerror(g, &zerr));
                rc = -1;
                break;
            }
            if (len) {   /* last line without newline */
                line[len] = 0;
                lineno++;
                if (gt_routes_apply_line(r, line, why, sizeof why)) {
                    snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
                    rc = -1;
                }
            }
            break;
        }
        for (int i = 0; i < m; i++) {
            char c = buf[i];
            if (c != '\n') {
                if (len + 1 >= cap) {
                    char *nl = cap > (1u << 24) ? NULL : realloc(line, cap * 2);
                    if (!nl) {
                        snprintf(err, errlen, "%s:%lu: line too long", path, lineno + 1);
                        free(line);
                        return -1;
                    }
                    line = nl;
                    cap *= 2;
                }
                line[len++] = c;
                continue;
            }
            line[len] = 0;
            len = 0;
            lineno++;
            if (gt_routes_apply_line(r, line, why, sizeof why)) {
                snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
                free(line);
                return -1;
            }
        }
    }
    free(line);
    return rc;
}

static int load_mrt(gt_routes *r, const char *path, char *err, size_t errlen)
{
    const char *bin = getenv("GEOTAP_BGPDUMP");
    if (!bin || !*bin)
        bin = "bgpdump";
    int fd[2];
    if (pipe(fd)) {
        snprintf(err, errlen, "%s: pipe: %s", path, strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    /* bgpdump chats on stderr ("logging to syslog"); its exit status and
     * output are what we judge it by */
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = { (char *)bin, (char *)"-m", (char *)"--", (char *)path, NULL };
    pid_t pid;
    int se = posix_spawnp(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (se) {
        close(fd[0]);
        snprintf(err, errlen, "%s: binary MRT dump needs %s: %s", path, bin, strerror(se));
        return -1;
    }
    gzFile g = gzdopen(fd[0], "rb");
    int rc;
    if (!g) {
        close(fd[0]);
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    } else {
        rc = read_lines(r, g, path, err, errlen);
        gzclose(g);     /* closes fd[0]; a still-writing bgpdump gets EPIPE */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        if (WIFEXITED(status))
            snprintf(err, errlen, "%s: %s -m failed (exit %d)", path, bin, WEXITSTATUS(status));
        else
            snprintf(err, errlen, "%s: %s -m killed by signal %d", path, bin, WTERMSIG(status));
        rc = -1;
    }
    return rc;
}

int gt_routes_load(gt_routes *r, const char *path, char *err, size_t errlen)
{
    int empty;
    enum kind k = sniff(path, &empty, err, errlen);
    if (k == K_BAD)
        return -1;
    if (empty)
        return 0;
    if (k == K_MRT)
        return load_mrt(r, path, err, errlen);
    gzFile g = gzopen(path, "rb");
    if (!g) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    gzbuffer(g, 1 << 17);
    int rc = read_lines(r, g, path, err, errlen);
    gzclose(g);
    return rc;
}
