/* Options from the command line and the configuration file (options.h):
 * one table, two readers; flags win over the file. */
#include "cli/options.h"
#include "geotap/textline.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The file's values live in a chain of blocks freed with the parse. */
struct blk { struct blk *next; char s[]; };

static const char *keep(struct cli_parsed *p, const char *s, size_t n)
{
    struct blk *b = malloc(sizeof *b + n + 1);
    if (!b)
        return NULL;
    memcpy(b->s, s, n);
    b->s[n] = 0;
    b->next = (struct blk *)p->arena;
    p->arena = (char *)b;
    return b->s;
}

static void *field(struct cli_config *c, const struct cli_opt *o)
{
    return (char *)c + o->off;
}

/* Store v as o's value (line 0: a flag). NULL, or what was wanted. */
static const char *set_value(struct cli_config *c, const struct cli_opt *o, const char *v, int line)
{
    const char *why = o->check ? o->check(v) : NULL;
    if (why)
        return why;
    switch (o->kind) {
    case K_FLAG: {
        int *f = field(c, o);
        if (!line)
            *f = 1;
        else if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
            *f = 1;
        else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
            *f = 0;
        else
            return "want yes or no";
        return NULL;
    }
    case K_STR:
        *(const char **)field(c, o) = v;
        return NULL;
    case K_LIST: {
        struct cli_list *l = field(c, o);
        static char want[64];
        int max = o->hi > 0 && o->hi < GT_SETUP_MAX_LIST ? (int)o->hi : GT_SETUP_MAX_LIST;
        if (l->n >= max) {
            snprintf(want, sizeof want, "too many values (at most %d)", max);
            return want;
        }
        l->line[l->n] = line;
        l->v[l->n++] = v;
        return NULL;
    }
    case K_INT: {
        static char want[96];
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || *end || end == v || x < o->lo || x > o->hi) {
            snprintf(want, sizeof want, "want a whole number from %lld to %lld", o->lo, o->hi);
            return want;
        }
        *(long long *)field(c, o) = x;
        return NULL;
    }
    case K_REAL: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (*end || end == v || errno || !(x > 0) || !isfinite(x))
            return "want a positive number";
        *(double *)field(c, o) = x;
        return NULL;
    }
    }
    return "bad table entry";
}

int cli_parsed_init(struct cli_parsed *p, unsigned cmd, const char *prog)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->prog = prog;
    p->origin = calloc(cli_nopts, sizeof *p->origin);
    p->flag_origin = calloc(cli_nopts, sizeof *p->flag_origin);
    if (!p->origin || !p->flag_origin)
        return -1;
    for (size_t i = 0; i < cli_nopts; i++)
        if ((cli_opts[i].cmds & cmd) && cli_opts[i].def)
            set_value(&p->v, &cli_opts[i], cli_opts[i].def, 0);
    p->flagv = p->v;
    return 0;
}

void cli_parsed_free(struct cli_parsed *p)
{
    for (struct blk *b = (struct blk *)p->arena, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    p->arena = NULL;
    free(p->origin);
    free(p->flag_origin);
    p->origin = p->flag_origin = NULL;
}

/* The entry of key for cmd, or -1. */
static long find_key(unsigned cmd, const char *key, size_t n)
{
    for (size_t i = 0; i < cli_nopts; i++)
        if ((cli_opts[i].cmds & cmd) && strlen(cli_opts[i].name) == n && !memcmp(cli_opts[i].name, key, n))
            return (long)i;
    return -1;
}

static size_t edit_distance(const char *a, size_t n, const char *b)
{
    size_t m = strlen(b), row[64];
    if (n >= 63 || m >= 63)
        return 99;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* One line of the file: "key: value", "# comment" or blank. */
static int parse_line(struct cli_parsed *p, const char *name, int line, char *s, size_t len,
                      char *err, size_t errlen)
{
    char q[200], k[80];
    if (memchr(s, 0, len)) {
        snprintf(err, errlen, "%s:%d: a NUL byte in the line", name, line);
        return -1;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s || *s == '#' || *s == '\r')
        return 0;
    /* A comment starts at a '#' after white space (URLs keep theirs). */
    for (char *c = s + 1; *c; c++)
        if (*c == '#' && (c[-1] == ' ' || c[-1] == '\t')) {
            *c = 0;
            break;
        }
    size_t n = strcspn(s, ": \t");
    char *colon = s + n;
    while (*colon == ' ' || *colon == '\t')
        colon++;
    gt_text_escape(s, n, k, sizeof k);
    if (*colon != ':') {
        snprintf(err, errlen, "%s:%d: want 'key: value', got '%s'", name, line, k);
        return -1;
    }
    char *v = colon + 1, *e = v + strlen(v);
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v == '#')          /* "key:#..." too: a value never starts with '#' */
        e = v;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    long i = find_key(p->cmd, s, n);
    if (i < 0 || (cli_opts[i].flags & F_NOFILE)) {
        const char *best = NULL;
        size_t bd = n / 3 > 2 ? n / 3 : 2;
        for (size_t j = 0; j < cli_nopts; j++) {
            size_t d;
            if ((cli_opts[j].cmds & p->cmd) && !(cli_opts[j].flags & F_NOFILE) &&
                (d = edit_distance(s, n, cli_opts[j].name)) <= bd && (!best || d < bd)) {
                best = cli_opts[j].name;
                bd = d;
            }
        }
        if (i >= 0)
            snprintf(err, errlen, "%s:%d: '%s' is an option of the command line only", name, line, k);
        else if (best)
            snprintf(err, errlen, "%s:%d: unknown key '%s' (did you mean '%s'?)", name, line, k, best);
        else
            snprintf(err, errlen, "%s:%d: unknown key '%s'", name, line, k);
        return -1;
    }
    const struct cli_opt *o = &cli_opts[i];
    if (e == v) {
        snprintf(err, errlen, "%s:%d: %s: missing value", name, line, o->name);
        return -1;
    }
    struct cli_origin *og = &p->origin[i];
    if (og->set == 2 && o->kind != K_LIST) {
        snprintf(err, errlen, "%s:%d: %s: given again (first at line %d); it takes one value", name, line,
                 o->name, og->line);
        return -1;
    }
    const char *val = keep(p, v, (size_t)(e - v));
    if (!val) {
        snprintf(err, errlen, "%s:%d: out of memory", name, line);
        return -1;
    }
    /* A flag wins: the file's value is still checked, then dropped. */
    struct cli_config scratch = p->v;
    struct cli_config *dst = og->set == 1 ? &scratch : &p->v;
    if (og->set != 2 && o->kind == K_LIST)
        memset(field(dst, o), 0, sizeof(struct cli_list));
    const char *why = set_value(dst, o, val, line);
    if (why) {
        gt_text_escape(val, strlen(val), q, sizeof q);
        snprintf(err, errlen, "%s:%d: %s '%s': %s", name, line, o->name, q, why);
        return -1;
    }
    if (og->set != 1) {
        if (og->set != 2)
            og->line = line;
        og->set = 2;
    }
    return 0;
}

static int parse_stream(struct cli_parsed *p, const char *name, FILE *f, char *err, size_t errlen)
{
    static char buf[GT_LINE_MAX + 1];
    long n;
    int line = 0;
    while ((n = gt_text_line(f, buf, sizeof buf)) >= 0)
        if (parse_line(p, name, ++line, buf, (size_t)n, err, errlen) != 0)
            return -1;
    if (n == -2) {
        snprintf(err, errlen, "%s:%d: line too long (over %d bytes)", name, line + 1, GT_LINE_MAX);
        return -1;
    }
    if (n == -3) {
        snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_parse_text(struct cli_parsed *p, const char *name, const char *text, size_t len,
                   char *err, size_t errlen)
{
    FILE *f = len ? fmemopen((void *)text, len, "r") : NULL;
    if (!len)
        return 0;
    if (!f) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return -1;
    }
    int rc = parse_stream(p, name, f, err, errlen);
    fclose(f);
    return rc;
}

static int parse_file(struct cli_parsed *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    p->file = path;
    int rc = parse_stream(p, path, f, err, errlen);
    fclose(f);
    return rc;
}

int cli_reparse_file(const struct cli_parsed *base, struct cli_parsed *out, char *err, size_t errlen)
{
    if (cli_parsed_init(out, base->cmd, base->prog) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->v = out->flagv = base->flagv;
    memcpy(out->origin, base->flag_origin, cli_nopts * sizeof *out->origin);
    memcpy(out->flag_origin, base->flag_origin, cli_nopts * sizeof *out->origin);
    return base->v.config ? parse_file(out, base->v.config, err, errlen) : 0;
}

/* The getopt_long loop into p: 0, or 2 after a message. */
static int parse_argv(struct cli_parsed *p, int argc, char **argv, const char *shorts, const struct option *lo)
{
    unsigned cmd = p->cmd;
    const char *prog = p->prog;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        long i = -1;
        if (c >= 256)
            i = c - 256;
        for (size_t j = 0; i < 0 && c != '?' && c != ':' && j < cli_nopts; j++)
            if ((cli_opts[j].cmds & cmd) && cli_opts[j].shortopt == c)
                i = (long)j;
        if (i < 0) {
            const char *a = argv[optind - 1];
            if (c == ':')
                fprintf(stderr, "%s: %s: missing value\n", prog, a);
            else if (optopt > 0 && optopt < 256)
                fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
            else
                fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            fprintf(stderr, "Try '%s --help'.\n", prog);
            return 2;
        }
        const struct cli_opt *o = &cli_opts[i];
        if (o->kind == K_LIST && p->origin[i].set != 1)
            memset(field(&p->v, o), 0, sizeof(struct cli_list));
        const char *why = set_value(&p->v, o, o->kind == K_FLAG ? "" : optarg, 0);
        if (why) {
            fprintf(stderr, "%s: --%s '%s': %s\n", prog, o->name, optarg, why);
            return 2;
        }
        p->origin[i].set = 1;
    }
    return 0;
}

int cli_parse(struct cli_parsed *p, unsigned cmd, const char *prog, const char *usage_head,
              const char *usage_tail, int argc, char **argv, int *first)
{
    char err[1200];
    size_t nl = 0, ns = 0;
    struct option *lo = malloc((cli_nopts + 1) * sizeof *lo);
    char *shorts = malloc(2 * cli_nopts + 2);
    *first = argc;
    if (cli_parsed_init(p, cmd, prog) != 0 || !lo || !shorts) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(lo);
        free(shorts);
        return 2;
    }
    shorts[ns++] = ':';     /* missing arguments reported here, by name */
    for (size_t i = 0; i < cli_nopts; i++) {
        const struct cli_opt *o = &cli_opts[i];
        if (!(o->cmds & cmd))
            continue;
        lo[nl++] = (struct option){ o->name, o->kind == K_FLAG ? no_argument : required_argument, NULL,
                                    256 + (int)i };
        if (o->shortopt) {
            shorts[ns++] = o->shortopt;
            if (o->kind != K_FLAG)
                shorts[ns++] = ':';
        }
    }
    lo[nl] = (struct option){ 0, 0, 0, 0 };
    shorts[ns] = 0;
    int rc = parse_argv(p, argc, argv, shorts, lo);
    free(lo);
    free(shorts);
    if (rc)
        return rc;
    *first = optind;
    if (p->v.help) {
        cli_usage(stdout, cmd, usage_head, usage_tail);
        return 1;
    }
    if (p->v.print_example) {
        cli_print_example(stdout, cmd);
        return 1;
    }
    p->flagv = p->v;
    memcpy(p->flag_origin, p->origin, cli_nopts * sizeof *p->origin);
    if (p->v.config && parse_file(p, p->v.config, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    return 0;
}

int cli_given(const struct cli_parsed *p, const char *name)
{
    long i = find_key(p->cmd, name, strlen(name));
    return i >= 0 && p->origin[i].set;
}

static int list_eq(const struct cli_list *a, const struct cli_list *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]))
            return 0;
    return 1;
}

int cli_opt_same(const struct cli_parsed *x, const struct cli_parsed *y, const struct cli_opt *o)
{
    const void *a = (const char *)&x->v + o->off, *b = (const char *)&y->v + o->off;
    switch (o->kind) {
    case K_FLAG: return *(const int *)a == *(const int *)b;
    case K_INT: return *(const long long *)a == *(const long long *)b;
    case K_REAL: return *(const double *)a == *(const double *)b;
    case K_LIST: return list_eq(a, b);
    case K_STR: break;
    }
    const char *s = *(const char *const *)a, *t = *(const char *const *)b;
    return s == t || (s && t && !strcmp(s, t));
}

void cli_config_diff(const struct cli_parsed *cur, const struct cli_parsed *next,
                     void (*fn)(void *ctx, const struct cli_opt *o), void *ctx)
{
    for (size_t i = 0; i < cli_nopts; i++) {
        const struct cli_opt *o = &cli_opts[i];
        if ((o->cmds & cur->cmd) && !(o->flags & (F_RELOAD | F_NOFILE)) && !cli_opt_same(cur, next, o))
            fn(ctx, o);
    }
}

void cli_config_setup(const struct cli_config *c, struct gt_setup_opts *so)
{
    so->country_db = c->country_db;
    so->upstream_map = c->upstream_map;
    memcpy(so->asn_dbs, c->asn_db.v, sizeof so->asn_dbs);
    so->n_asn = c->asn_db.n;
    memcpy(so->home, c->home_net.v, sizeof so->home);
    so->n_home = c->home_net.n;
    memcpy(so->routes, c->routes.v, sizeof so->routes);
    so->n_routes = c->routes.n;
}
