/* geotap compile: build the compiled-classifier cache entries that
 * analyze, live and lookup with the same options map at start, e.g. once
 * on a build host before shipping the cache to sensors. */
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "geotap/classifier_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
"usage: geotap compile [options]\n"
"\n"
"Compiles the classifier of these options into the compiled-classifier cache\n"
"($GEOTAP_CACHE_DIR, else DATA_DIR/compiled) and prints each entry's path and\n"
"whether it was written or already valid. Commands given the same options then\n"
"map it at start instead of compiling. The entry is valid while its input files\n"
"are unchanged (a copy with the same contents counts as unchanged).\n"
"\n"
"  --by DIMS             the --by of the commands to serve (country, asn, upstream\n"
"                        or a comma list); repeatable. Default: the entries of\n"
"                        'lookup' (country,asn) and of analyze/live --by country\n"
"  -o FILE               also copy the (last) entry to FILE\n"
"  --country-db FILE     MaxMind country database (default: the setup's GeoLite2)\n"
"  --asn-db FILE         ASN source, .mmdb or CSV; repeatable (default: the setup's CSVs)\n"
"  --home-net CIDR       local networks, counted as 'home'; repeatable\n"
CLI_UPSTREAM_USAGE;

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

int cmd_compile(int argc, char **argv)
{
    struct cli_cls_opts co;
    const char *outpath = NULL, *by[16];
    int nby = 0;
    enum { O_BY = 1 };
    static const struct option longopts[] = {
        CLI_CLS_LONGOPTS,
        { "by", required_argument, 0, O_BY },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int opt;
    cli_cls_opts_init(&co);
    co.so.classes_only = 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        }
        if (opt == 'o') {
            outpath = optarg;
            continue;
        }
        if (opt == O_BY) {
            if (nby == 16) {
                fprintf(stderr, "geotap compile: at most 16 --by options\n");
                return 2;
            }
            by[nby++] = optarg;
            continue;
        }
        if (opt == CLI_O_EVENTS || opt == CLI_O_FA_BUDGET || cli_cls_opt(&co, opt, optarg) != 0) {
            if (opt == CLI_O_EVENTS || opt == CLI_O_FA_BUDGET)
                fprintf(stderr, "geotap compile: %s is an option of analyze and live\n", argv[optind - 1]);
            fprintf(stderr, "Try 'geotap compile --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "geotap compile: unexpected argument '%s'\nTry 'geotap compile --help'.\n", argv[optind]);
        return 2;
    }
    if (!nby) {
        by[nby++] = "country";
        by[nby++] = "country,asn";
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
        if (!dims) {
            fprintf(stderr, "geotap compile: --by '%s': want country, asn, upstream or a comma list of them\n", by[i]);
            return 2;
        }
        co.so.dims = dims;
        if (gt_setup_build(&co.so, &cls, err, sizeof err) != 0) {
            cli_setup_error("geotap compile", &co, err);
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
