/* What the option table prints (options.h): the usage, the effective
 * configuration of --check and the example configuration file. */
#include "cli/options.h"
#include "gt_config.h"

#include <stdlib.h>
#include <string.h>

/* The usage hides what this build cannot do; the example file (all) not. */
static int shown(const struct cli_opt *o, unsigned cmd, int all)
{
    return (o->cmds & cmd) && (all || GT_HAVE_DPDK || !(o->flags & F_DPDK));
}

/* Calls fn for the entries of cmd, section by section in table order. */
static void each_by_section(unsigned cmd, void (*fn)(FILE *f, const struct cli_opt *o, int first), FILE *f,
                            int file_only)
{
    for (size_t i = 0; i < cli_nopts; i++) {
        const struct cli_opt *o = &cli_opts[i];
        int seen = !shown(o, cmd, file_only) || (file_only && (o->flags & F_NOFILE));
        for (size_t j = 0; j < i && !seen; j++)
            seen = shown(&cli_opts[j], cmd, file_only) && !(file_only && (cli_opts[j].flags & F_NOFILE)) &&
                   cli_opts[j].section == o->section;
        if (seen)
            continue;
        int first = 1;
        for (size_t j = i; j < cli_nopts; j++) {
            const struct cli_opt *e = &cli_opts[j];
            if (e->section != o->section || !shown(e, cmd, file_only) || (file_only && (e->flags & F_NOFILE)))
                continue;
            fn(f, e, first);
            first = 0;
        }
    }
}

static void usage_entry(FILE *f, const struct cli_opt *o, int first)
{
    char left[80];
    if (first)
        fprintf(f, "\n%s:\n", o->section);
    int n0 = o->shortopt ? snprintf(left, sizeof left, "  -%c, ", o->shortopt) : snprintf(left, sizeof left, "  ");
    snprintf(left + n0, sizeof left - (size_t)n0, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    const char *h = o->help;
    size_t n = strcspn(h, "\n");
    if (strlen(left) <= 23)
        fprintf(f, "%-23s %.*s\n", left, (int)n, h);
    else
        fprintf(f, "%s\n%24s%.*s\n", left, "", (int)n, h);
    while (h[n]) {
        h += n + 1;
        n = strcspn(h, "\n");
        fprintf(f, "%24s%.*s\n", "", (int)n, h);
    }
}

void cli_usage(FILE *f, unsigned cmd, const char *head, const char *tail)
{
    fputs(head, f);
    each_by_section(cmd, usage_entry, f, 0);
    fputs(tail, f);
}

/* One "key: value   # origin" line. */
/* The shortest %g form that reads back to the same double: 0.01 stays
 * "0.01", while 0.0123456789 or 7.7e72+0.5 keep every digit they need. */
static void print_real(char *buf, size_t len, double x)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

static void config_line(FILE *f, const char *key, const char *val, const char *origin)
{
    char kv[4200];
    snprintf(kv, sizeof kv, "%s%s:%s%s", val ? "" : "#", key, val ? " " : "", val ? val : "");
    fprintf(f, "%-40s # %s\n", kv, origin);
}

void cli_print_config(FILE *f, const struct cli_parsed *p)
{
    fprintf(f, "# %s: the effective configuration (origin: default, flag or FILE:LINE)\n", p->prog);
    for (size_t i = 0; i < cli_nopts; i++) {
        const struct cli_opt *o = &cli_opts[i];
        if (!shown(o, p->cmd, 0) || (o->flags & F_NOFILE))
            continue;
        const struct cli_origin *og = &p->origin[i];
        const void *fp = (const char *)&p->v + o->off;
        char val[64], org[4200];
        if (og->set == 2)
            snprintf(org, sizeof org, "%s:%d", p->file, og->line);
        else
            snprintf(org, sizeof org, "%s", og->set ? "flag" : "default");
        switch (o->kind) {
        case K_FLAG:
            config_line(f, o->name, *(const int *)fp ? "yes" : "no", org);
            break;
        case K_INT:
            snprintf(val, sizeof val, "%lld", *(const long long *)fp);
            config_line(f, o->name, og->set || o->def ? val : NULL, og->set || o->def ? org : "default: not set");
            break;
        case K_REAL:
            print_real(val, sizeof val, *(const double *)fp);
            config_line(f, o->name, og->set || o->def ? val : NULL, og->set || o->def ? org : "default: not set");
            break;
        case K_STR: {
            const char *s = *(const char *const *)fp;
            config_line(f, o->name, s, s ? org : "default: not set");
            break;
        }
        case K_LIST: {
            const struct cli_list *l = fp;
            if (!l->n)
                config_line(f, o->name, NULL, "default: not set");
            for (int k = 0; k < l->n; k++) {
                if (og->set == 2)
                    snprintf(org, sizeof org, "%s:%d", p->file, l->line[k]);
                config_line(f, o->name, l->v[k], org);
            }
            break;
        }
        }
    }
}

static void example_entry(FILE *f, const struct cli_opt *o, int first)
{
    if (first)
        fprintf(f, "\n# ==== %s ====\n", o->section);
    fputs("\n", f);
    for (const char *h = o->help; *h;) {
        size_t n = strcspn(h, "\n");
        fprintf(f, "# %.*s\n", (int)n, h);
        h += n + (h[n] ? 1 : 0);
    }
    if (o->kind == K_LIST)
        fprintf(f, "# (repeatable: one line per value)\n");
    if (o->flags & F_RELOAD)
        fprintf(f, "# (taken on reload, SIGHUP)\n");
    const char *v = o->def ? o->def : o->kind == K_FLAG ? "no" : o->arg;
    size_t n = strlen(v);
    if (n > 1 && v[0] == '\'')     /* 'EAL ARGS': the file takes the words as they are */
        fprintf(f, "#%s: %.*s\n", o->name, (int)n - 2, v + 1);
    else
        fprintf(f, "#%s: %s\n", o->name, v);
}

void cli_print_example(FILE *f, unsigned cmd)
{
    const char *name = cmd == CMD_LIVE ? "live" : cmd == CMD_WATCH ? "watch" : "analyze";
    if (cmd == CMD_WATCH) {
        fprintf(f, "# geotap-watch.conf: an example configuration of geotap watch (geotap.conf(5)).\n"
                   "# Use: geotap watch --config FILE; flags on the command line win over the file.\n"
                   "# One 'key: value' per line; the keys are the long option names; '#' at the\n"
                   "# start of a line or after white space starts a comment; a repeatable key may\n"
                   "# be given on several lines. Every key is shown commented out, with its default\n"
                   "# when it has one. The file is read at start (a change needs a restart).\n");
        each_by_section(cmd, example_entry, f, 1);
        return;
    }
    fprintf(f, "# geotap.conf: an example configuration of geotap %s (geotap.conf(5)).\n"
               "# Use: geotap %s --config FILE; flags on the command line win over the file.\n"
               "# One 'key: value' per line; the keys are the long option names; '#' at the\n"
               "# start of a line or after white space starts a comment; a repeatable key may\n"
               "# be given on several lines. Every key is shown commented out, with its default\n"
               "# when it has one. SIGHUP re-reads the file: the classification keys take\n"
               "# effect, a change of any other key is reported as needing a restart.\n",
            name, name);
    each_by_section(cmd, example_entry, f, 1);
}
