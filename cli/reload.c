/* The configuration file re-read on reload (options.h): the sensor's
 * reconfigure callback. Flags keep winning; a changed key that needs a
 * restart is reported once. */
#include "cli/options.h"

#include <stdlib.h>

struct cli_reread { struct cli_parsed p; struct cli_reread *older; };

static void needs_restart(void *ctx, const struct cli_opt *o)
{
    struct cli_reloader *l = ctx;
    if (!cli_opt_same(l->run, &l->rr->p, o))   /* once: when it first differs from the last read */
        fprintf(stderr, "%s: %s: '%s' changed: needs a restart\n", l->run->prog, l->run->file, o->name);
}

int cli_reconfigure(void *ctx, struct gt_setup_opts *out, char *err, size_t errlen)
{
    struct cli_reloader *l = ctx;
    struct cli_reread *r = calloc(1, sizeof *r);
    if (!r || cli_reparse_file(l->run, &r->p, err, errlen) != 0) {
        if (r)
            cli_parsed_free(&r->p);
        free(r);
        return -1;
    }
    r->older = l->rr;
    l->rr = r;
    cli_config_diff(l->last, &r->p, needs_restart, l);
    l->last = &r->p;
    cli_config_setup(&r->p.v, out);
    return 0;
}

void cli_reloader_free(struct cli_reloader *l)
{
    while (l->rr) {
        struct cli_reread *o = l->rr->older;
        cli_parsed_free(&l->rr->p);
        free(l->rr);
        l->rr = o;
    }
}
