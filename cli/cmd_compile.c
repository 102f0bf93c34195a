/* geotap compile: build the compiled-classifier cache entries that
 * analyze, live and lookup with the same options map at start, e.g. once
 * on a build host before shipping the cache to sensors. */
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "geotap/classifier_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char head[] =
"usage: geotap compile [options]\n"
"\n"
"Compiles the classifier of these options into the compiled-classifier cache\n"
"($GEOTAP_CACHE_DIR, else DATA_DIR/compiled) and prints each entry's path and\n"
"whether it was written or already valid. Commands given the same options then\n"
"map it at start instead of compiling. The entry is valid while its input files\n"
"are unchanged (a copy with the same contents counts as unchanged).\n";

static int copy_file(const char *from, const char *to)
{
    char tmp[4200], buf[65536];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", to, (long)getpid());
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    ssize_t n = 0;
    if (in >= 0)
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    int ok = in >= 0 && out >= 0 && n == 0;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        ok = 0;
    if (ok && rename(tmp, to) == 0)
        return 0;
    fprintf(stderr, "geotap compile: %s: %s\n", to, strerror(errno));
    unlink(tmp);
    return -1;
}

static int compile(const struct cli_config *c);

int cmd_compile(int argc, char **argv)
{
    struct cli_parsed p;
    int first, rc = cli_parse(&p, CMD_COMPILE, "geotap compile", head, "", argc, argv, &first);
    if (rc == 1)            /* --help printed */
        rc = 0;
    else if (rc == 0 && first < argc) {
        fprintf(stderr, "geotap compile: unexpected argument '%s'\nTry 'geotap compile --help'.\n", argv[first]);
        rc = 2;
    } else if (rc == 0) {
        rc = compile(&p.v);
    }
    cli_parsed_free(&p);
    return rc;
}

static int compile(const struct cli_config *c)
{
    const char *outpath = c->output, *const *by = c->by_list.v;
    static const char *const by_default[] = { "country", "country,asn" };
    int nby = c->by_list.n;
    struct gt_setup_opts so = { .classes_only = 1 };
    cli_config_setup(c, &so);
    if (!nby) {
        by = by_default;
        nby = 2;
    }
    char dbuf[4096];
    if (!gt_classifier_cache_dir(dbuf, sizeof dbuf)) {
        fprintf(stderr, "geotap compile: the compiled-classifier cache is off (GEOTAP_CACHE_DIR=off)\n");
        return 2;
    }
    const char *last = NULL;
    char lastbuf[4200];
    for (int i = 0; i < nby; i++) {
        unsigned dims = gt_dims_parse(by[i]);
        struct gt_setup cls;
        char err[1024];
        so.dims = dims;
        if (gt_setup_build(&so, &cls, err, sizeof err) != 0) {
            cli_setup_error("geotap compile", c, err);
            return 2;
        }
        if (cls.warning[0])
            fprintf(stderr, "geotap compile: warning: %s\n", cls.warning);
        enum gt_cache_state st = gt_classifier_cache_state(cls.c);
        const char *f = gt_classifier_cache_file(cls.c);
        if (st == GT_CACHE_OFF || !f) {
            gt_setup_free(&cls);
            return 1;                   /* the warning said why */
        }
        printf("%s\t%s\t--by %s\n", f, st == GT_CACHE_WRITTEN ? "written" : "up to date", by[i]);
        snprintf(lastbuf, sizeof lastbuf, "%s", f);
        last = lastbuf;
        gt_setup_free(&cls);
    }
    if (outpath && last && copy_file(last, outpath) != 0)
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}
