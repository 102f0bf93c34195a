/* The live terminal view and the privilege drop of geotap live. */
#include "cli/view_tty.h"
#include "geotap/country_names.h"
#include "geotap/output.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct view {
    gt_sensor *s;
    FILE *out;
    int tty, quiet;
    char source[300];
    uint32_t *ids;
    uint32_t cap;
};

static uint64_t pkts(const struct gt_counts *c)
{
    return c->pkts_from + c->pkts_to;
}

/* By packets, as the final table ranks: the view previews the table. */
static int cmp_view(const void *a, const void *b, void *ctx)
{
    const struct gt_counts *c = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t tx = pkts(&c[x]), ty = pkts(&c[y]);
    if (tx != ty)
        return tx > ty ? -1 : 1;
    return (x > y) - (x < y);
}

static void draw(struct view *v, const struct gt_bin *bin)
{
    FILE *f = v->out;
    const struct gt_keys *keys = gt_sensor_keys(v->s);
    const gt_classifier *cls = gt_sensor_classifier(v->s);
    uint32_t m = 0;
    uint64_t all = 0;
    char t[GT_TIME_LEN], a[32], b[32], c[32], d[32];
    int rows = 40;
    if (bin->nkeys > v->cap) {
        uint32_t *n = realloc(v->ids, ((size_t)bin->nkeys + 1) * sizeof *n);
        if (!n)
            return;
        v->ids = n;
        v->cap = bin->nkeys;
    }
    for (uint32_t k = 0; k < bin->nkeys; k++)
        if (bin->counts[k].pkts_from | bin->counts[k].pkts_to) {
            v->ids[m++] = k;
            all += pkts(&bin->counts[k]);
        }
    qsort_r(v->ids, m, sizeof *v->ids, cmp_view, (void *)bin->counts);
    gt_time_format(t, sizeof t, bin->start, 0, GT_TIME_S);
    gt_human(bin->stats.packets, "", a, sizeof a);
    gt_human(bin->stats.bytes, "B", b, sizeof b);
    fprintf(f, "\033[H\033[2J");
    fprintf(f, "geotap live %s   bin %s (%u s)   %s frames  %s  %" PRIu64 " dropped\n\n",
            v->source, t, bin->width, a, b, bin->stats.drops);
    fprintf(f, "%-40s %10s %10s %10s %10s %6s\n", "key", "pkts from", "bytes from", "pkts to", "bytes to", "share");
    for (uint32_t i = 0; i < m && (int)i < rows; i++) {
        uint32_t k = v->ids[i];
        const struct gt_counts *x = &bin->counts[k];
        char name[256];
        struct gt_key_names nm = { .cls = cls };
        gt_key_render(keys, &nm, k, 1, name, sizeof name);
        gt_human(x->pkts_from, "", a, sizeof a);
        gt_human(x->bytes_from, "B", b, sizeof b);
        gt_human(x->pkts_to, "", c, sizeof c);
        gt_human(x->bytes_to, "B", d, sizeof d);
        fprintf(f, "%-40.40s %10s %10s %10s %10s %5.1f%%\n", name, a, b, c, d,
                all ? 100.0 * (double)pkts(x) / (double)all : 0.0);
    }
    if (m > (uint32_t)rows)
        fprintf(f, "... %u more\n", m - (uint32_t)rows);
    fflush(f);
}

static void view_bin(void *self, const struct gt_bin *bin)
{
    struct view *v = self;
    if (v->tty) {
        draw(v, bin);
        return;
    }
    fflush(v->out);
    /* A closed pipe or a full disk: end the run, counts kept. */
    if (ferror(v->out))
        gt_sensor_stop(v->s);
    if (bin->stats.drops && !v->quiet) {
        char t[GT_TIME_LEN];
        gt_time_format(t, sizeof t, bin->start, 0, GT_TIME_S);
        fprintf(stderr, "geotap live: bin %s: %" PRIu64 " frames, %" PRIu64 " dropped by the capture\n",
                t, bin->stats.packets, bin->stats.drops);
    }
}

static int view_finish(void *self, char *err, size_t errlen)
{
    struct view *v = self;
    (void)err;
    (void)errlen;
    if (v->tty)
        fputs("\033[H\033[2J", v->out);
    return 0;
}

static void view_free(void *self)
{
    struct view *v = self;
    free(v->ids);
    free(v);
}

int cli_view_sink(struct gt_sink *sink, gt_sensor *s, FILE *out, int tty, int quiet, const char *source)
{
    struct view *v = calloc(1, sizeof *v);
    if (!v)
        return -1;
    *v = (struct view){ .s = s, .out = out, .tty = tty, .quiet = quiet };
    snprintf(v->source, sizeof v->source, "%s", source);
    *sink = (struct gt_sink){ "view", v, view_bin, NULL, view_finish, view_free, 0 };
    return 0;
}

int cli_drop_privileges(const char *user, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user", user);
        return -1;
    }
    /* Order matters: groups and gid while still root, uid last. */
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot drop privileges: %s", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "-Z %s: privileges could be regained", user);
        return -1;
    }
    return 0;
}
