/* Shared option handling, classifier loading, bin fan-out and summary. */
#include "cli/cli_common.h"
#include "geotap/anomaly.h"
#include "geotap/classifier_cache.h"
#include "geotap/clock.h"
#include "geotap/events.h"
#include "geotap/engine.h"
#include "geotap/report.h"
#include "geotap/routes.h"
#include "geotap/sources.h"
#include "geotap/upstream_map.h"

#include <errno.h>
#include <math.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_cls_opts_init(struct cli_cls_opts *o)
{
    memset(o, 0, sizeof *o);
}

static int add_list(const char **list, int *n, const char *arg, const char *what)
{
    if (*n >= CLI_MAX_LIST) {
        fprintf(stderr, "geotap: at most %d %s options\n", CLI_MAX_LIST, what);
        return -1;
    }
    list[(*n)++] = arg;
    return 0;
}

int cli_parse_by_format(const char *prog, const char *by, const char *fmt, const char *outpath,
                        unsigned *dims, int *format)
{
    *dims = gt_dims_parse(by);
    if (!*dims) {
        fprintf(stderr, "%s: --by '%s': want country, asn, upstream or a comma list of them\n", prog, by);
        return -1;
    }
    if (!fmt) {
        *format = (!outpath && isatty(STDOUT_FILENO)) ? GT_FMT_TABLE : GT_FMT_CSV;
        return 0;
    }
    *format = gt_format_parse(fmt);
    if (*format < 0) {
        fprintf(stderr, "%s: --format '%s': want table, csv or jsonl\n", prog, fmt);
        return -1;
    }
    return 0;
}

int cli_cls_opt(struct cli_cls_opts *o, int c, const char *arg)
{
    switch (c) {
    case CLI_O_COUNTRY_DB:
        o->country_db = arg;
        return 0;
    case CLI_O_ASN_DB:
        return add_list(o->asn_dbs, &o->n_asn, arg, "--asn-db");
    case CLI_O_HOME_NET: {
        uint32_t a, b;
        gt_u128 x, y;
        if (!gt_parse_cidr(arg, &a, &b, &x, &y)) {
            fprintf(stderr, "geotap: --home-net '%s': not an IPv4 or IPv6 CIDR\n", arg);
            return -1;
        }
        return add_list(o->home, &o->n_home, arg, "--home-net");
    }
    case CLI_O_ROUTES:
        return add_list(o->routes, &o->n_routes, arg, "--routes");
    case CLI_O_UPSTREAM_MAP:
        o->upstream_map = arg;
        return 0;
    case CLI_O_EVENTS:
        o->events = arg;
        return 0;
    case CLI_O_STATE:
        o->state = arg;
        return 0;
    case CLI_O_FA_BUDGET: {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (*end || end == arg || errno || !(v > 0) || !isfinite(v)) {
            fprintf(stderr, "geotap: --fa-budget '%s': want a positive number of false alarms per day\n", arg);
            return -1;
        }
        o->fa_per_day = v;
        return 0;
    }
    default:
        return -1;
    }
}

/* Routes and maps: load them, name upstreams after their organisations, and
 * compile the upstream range set. -1 with a message on error. */
static int load_upstreams(const struct cli_cls_opts *o, const char *const *asn_files, int n_asn,
                          struct cli_cls *out, struct gt_rangeset *up_rs, const char *prog)
{
    char err[1024] = "";
    struct gt_rangeset asn_rs;
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    int rc = -1;
    memset(&asn_rs, 0, sizeof asn_rs);
    out->ups = gt_upstreams_new();
    if (!orgs || !out->ups) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    for (int i = 0; i < n_asn; i++)
        if (gt_source_asn(asn_files[i], &asn_rs, orgs, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            goto done;
        }
    if (gt_rangeset_normalize(&asn_rs) != 0)
        goto oom;
    if (o->n_routes) {
        out->routes = gt_routes_new();
        if (!out->routes)
            goto oom;
        for (int i = 0; i < o->n_routes; i++)
            if (gt_routes_load(out->routes, o->routes[i], err, sizeof err) != 0) {
                fprintf(stderr, "%s: %s\n", prog, err);
                goto done;
            }
    }
    if (o->upstream_map && !(out->map = gt_upstream_map_load(o->upstream_map, out->ups, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        goto done;
    }
    if (gt_upstream_compile(out->routes, out->map, &asn_rs, out->ups, up_rs) != 0)
        goto oom;
    if (gt_upstreams_apply_orgs(out->ups, gt_upstreams_org_from_asn_orgs, orgs) != 0)
        goto oom;
    out->n_upstreams = gt_upstreams_count(out->ups);
    rc = 0;
    goto done;
oom:
    fprintf(stderr, "%s: out of memory\n", prog);
done:
    gt_rangeset_free(&asn_rs);
    gt_asn_orgs_free(orgs);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per-frame rules: key variants for every upstream an L2 rule can give, in
 * the keys the engine counts (and in the written keys, which must hold
 * every projection of them). */
static int build_l2(struct cli_cls *out, struct gt_keys *counted, struct gt_keys *written)
{
    uint32_t n = out->n_upstreams, nr = 0, max = 4096 + 65536;
    uint32_t *got = malloc(max * sizeof *got), *ups = malloc(max * sizeof *ups);
    out->l2_row = calloc(n + 1, sizeof *out->l2_row);
    if (!got || !ups || !out->l2_row) {
        free(got);
        free(ups);
        return -1;
    }
    uint32_t ng = gt_upstream_map_l2_upstreams(out->map, got, max);
    qsort(got, ng, sizeof *got, cmp_u32);
    for (uint32_t i = 0; i < ng; i++)
        if (got[i] && got[i] < n && (nr == 0 || ups[nr - 1] != got[i]))
            ups[nr++] = got[i];
    free(got);
    out->l2_base = counted->nkeys;
    if (gt_keys_upstream_variants(counted, ups, nr, &out->l2_key) != 0) {
        free(ups);
        return -1;
    }
    if (written) {
        uint32_t *unused = NULL;
        int rc = gt_keys_upstream_variants(written, ups, nr, &unused);
        free(unused);
        if (rc != 0) {
            free(ups);
            return -1;
        }
    }
    for (uint32_t r = 0; r < nr; r++)
        out->l2_row[ups[r]] = r + 1;
    free(ups);
    return 0;
}

struct asn_up { uint32_t asn, up; };

static int cmp_asn_up(const void *a, const void *b)
{
    return cmp_u32(&((const struct asn_up *)a)->asn, &((const struct asn_up *)b)->asn);
}

int cli_cls_build(const struct cli_cls_opts *o, unsigned dims, int attribution,
                  struct cli_cls *out, const char *prog)
{
    char err[1024] = "";
    const char *asn_default[2] = { gt_default_asn_v4(), gt_default_asn_v6() };
    const char *const *asn_files = o->n_asn ? o->asn_dbs : asn_default;
    int n_asn = o->n_asn ? o->n_asn : 2;
    struct gt_classifier_opts co;
    struct gt_rangeset up_rs;
    memset(&co, 0, sizeof co);
    memset(&up_rs, 0, sizeof up_rs);
    memset(out, 0, sizeof *out);
    int upstream_data = o->n_routes > 0 || o->upstream_map;
    int fine = attribution && upstream_data;
    unsigned cdims = fine ? dims | GT_DIM_ASN | GT_DIM_UPSTREAM : dims;
    co.country_db = o->country_db ? o->country_db : gt_default_country_db();
    /* The ASN data is loaded only when needed: it is most of the start-up time. */
    if (o->n_asn || (cdims & GT_DIM_ASN)) {
        co.asn_dbs = asn_files;
        co.n_asn_dbs = (size_t)n_asn;
    }
    co.home_nets = o->home;
    co.n_home_nets = (size_t)o->n_home;
    if (upstream_data) {
        if (load_upstreams(o, asn_files, n_asn, out, &up_rs, prog) != 0) {
            gt_rangeset_free(&up_rs);
            cli_cls_free(out);
            return -1;
        }
        co.upstream_ranges = &up_rs;
        co.upstream_names = gt_upstreams_names(out->ups);
        co.n_upstream_names = out->n_upstreams;
    }
    out->c = gt_classifier_cached(&co, err, sizeof err);
    gt_rangeset_free(&up_rs);
    if (out->c && err[0])
        fprintf(stderr, "%s: warning: %s\n", prog, err);
    if (!out->c) {
        fprintf(stderr, "%s: %s\n", prog, err);
        if (!o->country_db && access(co.country_db, R_OK) != 0)
            fprintf(stderr, "%s: (the default databases are fetched by scripts/setup)\n", prog);
        cli_cls_free(out);
        return -1;
    }
    if (o->classes_only)
        return 0;
    if (gt_keys_build(&out->keys, out->c, dims) != 0 ||
        gt_keys_build(&out->count, out->c, cdims) != 0)
        goto oom;
    if (out->map && gt_upstream_map_has_l2(out->map) && (cdims & GT_DIM_UPSTREAM) &&
        build_l2(out, fine ? &out->count : &out->keys,
                 fine && (dims & GT_DIM_UPSTREAM) ? &out->keys : NULL) != 0)
        goto oom;
    if (fine) {
        out->fine = 1;
        out->proj = malloc(((size_t)out->count.nkeys + 1) * sizeof *out->proj);
        out->count_up2 = calloc((size_t)out->count.nkeys + 1, sizeof *out->count_up2);
        if (!out->proj || !out->count_up2 || gt_keys_project(&out->count, &out->keys, out->proj) != 0)
            goto oom;
        /* An upstream carries its own prefixes' traffic as well as its
         * customers': the upstream index of each key's own ASN, found by
         * binary search in the upstreams sorted by ASN. */
        struct asn_up *byasn = malloc(((size_t)out->n_upstreams + 1) * sizeof *byasn);
        size_t na = 0;
        if (!byasn)
            goto oom;
        for (uint32_t u = 1; u < out->n_upstreams; u++) {
            uint32_t asn = gt_upstreams_asn(out->ups, u);
            if (asn)
                byasn[na++] = (struct asn_up){ asn, u };
        }
        qsort(byasn, na, sizeof *byasn, cmp_asn_up);
        for (uint32_t k = 0; k < out->count.nkeys; k++) {
            struct asn_up key = { out->count.keys[k].asn, 0 };
            const struct asn_up *hit = key.asn ? bsearch(&key, byasn, na, sizeof *byasn, cmp_asn_up) : NULL;
            out->count_up2[k] = hit ? hit->up : 0;
        }
        free(byasn);
    }
    return 0;
oom:
    fprintf(stderr, "%s: out of memory\n", prog);
    cli_cls_free(out);
    return -1;
}

void cli_cls_engine_opts(const struct cli_cls *c, struct gt_engine_opts *eo, const char *iface)
{
    eo->cls = c->c;
    eo->keys = c->fine ? &c->count : &c->keys;
    if (c->l2_key) {
        eo->l2map = c->map;
        eo->iface = iface;
        eo->l2_row = c->l2_row;
        eo->l2_key = c->l2_key;
        eo->l2_base = c->l2_base;
    }
}

void cli_cls_free(struct cli_cls *c)
{
    gt_keys_free(&c->keys);
    gt_keys_free(&c->count);
    gt_classifier_free(c->c);
    gt_routes_free(c->routes);
    gt_upstream_map_free(c->map);
    gt_upstreams_free(c->ups);
    free(c->proj);
    free(c->count_up2);
    free(c->l2_row);
    free(c->l2_key);
    memset(c, 0, sizeof *c);
}

static const char *upstream_name(void *ctx, uint32_t u)
{
    const struct cli_cls *cls = ctx;
    return gt_classifier_upstream_name(cls->c, u);
}

static void on_event(void *ctx, const struct gt_event *ev)
{
    struct cli_sinks *s = ctx;
    if (s->events_f) {
        gt_event_write_json(s->events_f, &s->cls->keys, upstream_name, (void *)s->cls, ev);
        fflush(s->events_f);
    }
    if (s->table_events) {
        if (s->n_held == s->cap_held) {
            size_t nc = s->cap_held ? s->cap_held * 2 : 64;
            struct gt_event *h = realloc(s->held, nc * sizeof *h);
            if (!h)
                return;
            s->held = h;
            s->cap_held = nc;
        }
        s->held[s->n_held++] = *ev;
    }
    if (s->report)
        gt_report_event(s->report, ev);
}

int cli_sinks_init(struct cli_sinks *s, const struct cli_cls_opts *o, struct gt_output *out,
                   const struct cli_cls *cls, const char *prog, enum gt_format format, FILE *table_f)
{
    memset(s, 0, sizeof *s);
    s->output = out;
    s->cls = cls;
    s->table_f = table_f;
    s->table_events = format == GT_FMT_TABLE;
    s->state = o->state;
    s->prog = prog;
    s->state_saved = gt_mono_s();
    if (!o->events && !s->table_events && !o->report && !o->state)
        return 0;
    if (o->events) {
        if (!strcmp(o->events, "-")) {
            s->events_f = stdout;
        } else if (!(s->events_f = fopen(o->events, "w"))) {
            fprintf(stderr, "%s: %s: cannot write events: %s\n", prog, o->events, strerror(errno));
            return -1;
        }
        s->events_close = s->events_f != stdout;
    }
    struct gt_anomaly_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.fa_per_day = o->fa_per_day;
    ao.on_event = on_event;
    ao.ctx = s;
    s->anomaly = gt_anomaly_new(&ao, &cls->keys);
    if (!s->anomaly) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    if (cls->fine) {
        size_t nk = (size_t)cls->keys.nkeys + 1, nc = (size_t)cls->count.nkeys + 1;
        s->p_counts = calloc(nk, sizeof *s->p_counts);
        s->p_first = calloc(nk, sizeof *s->p_first);
        s->p_last = calloc(nk, sizeof *s->p_last);
        s->up_pkts = calloc((size_t)cls->n_upstreams + 1, sizeof *s->up_pkts);
        s->cum = calloc(nc, sizeof *s->cum);
        s->key_up = calloc(nk, sizeof *s->key_up);
        s->best = calloc(nk, sizeof *s->best);
        if (!s->p_counts || !s->p_first || !s->p_last || !s->up_pkts || !s->cum || !s->key_up || !s->best) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return -1;
        }
    }
    /* Unknown space and home networks are not places that can go dark. */
    for (uint32_t k = 0; k < cls->keys.nkeys; k++) {
        const struct gt_key *key = &cls->keys.keys[k];
        if (key->home || ((cls->keys.dims & GT_DIM_COUNTRY) && key->cc[0] == 'Z' && key->cc[1] == 'Z') ||
            (cls->keys.dims == GT_DIM_ASN && key->asn == 0))
            gt_anomaly_ignore_key(s->anomaly, k);
    }
    return 0;
}

/* Attribution: the engine counted finer keys (with asn and upstream).
 * Project the bin onto the written keys, total each upstream's traffic (its
 * customers' prefixes and its own), and give every written key the upstream
 * that carried most of its packets so far. */
static void project_bin(struct cli_sinks *s, const struct gt_bin *in, struct gt_bin *out)
{
    const struct cli_cls *c = s->cls;
    uint32_t nk = c->keys.nkeys;
    memset(s->p_counts, 0, nk * sizeof *s->p_counts);
    memset(s->p_first, 0, nk * sizeof *s->p_first);
    memset(s->p_last, 0, nk * sizeof *s->p_last);
    memset(s->up_pkts, 0, c->n_upstreams * sizeof *s->up_pkts);
    memset(s->best, 0, nk * sizeof *s->best);
    for (uint32_t i = 0; i < in->nkeys; i++) {
        const struct gt_counts *ci = &in->counts[i];
        uint32_t k = c->proj[i];
        uint64_t n = ci->pkts_from + ci->pkts_to;
        if (n) {
            gt_counts_add(&s->p_counts[k], ci);
            if (!s->p_first[k] || in->first_ns[i] < s->p_first[k])
                s->p_first[k] = in->first_ns[i];
            if (in->last_ns[i] > s->p_last[k])
                s->p_last[k] = in->last_ns[i];
            uint32_t u = c->count.keys[i].upstream, u2 = c->count_up2[i];
            s->up_pkts[u] += n;
            if (u2 && u2 != u)
                s->up_pkts[u2] += n;
            s->cum[i] += n;
        }
        uint32_t u = c->count.keys[i].upstream;
        if (u && s->cum[i] > s->best[k]) {
            s->best[k] = s->cum[i];
            if (s->key_up[k] != u) {
                s->key_up[k] = u;
                gt_anomaly_set_upstream(s->anomaly, k, u);
            }
        }
    }
    s->up_pkts[0] = 0;
    gt_anomaly_upstream_counts(s->anomaly, s->up_pkts, c->n_upstreams);
    *out = *in;
    out->nkeys = nk;
    out->counts = s->p_counts;
    out->first_ns = s->p_first;
    out->last_ns = s->p_last;
}

void cli_sinks_bin(void *sinks, const struct gt_bin *bin)
{
    struct cli_sinks *s = sinks;
    struct gt_bin pb;
    if (s->cls->fine) {
        project_bin(s, bin, &pb);
        bin = &pb;
    }
    gt_output_bin(s->output, bin);
    if (s->anomaly) {
        char err[512];
        if (s->state && !s->state_loaded && bin->width) {
            s->state_loaded = 1;
            if (gt_anomaly_load(s->anomaly, s->state, bin->width, err, sizeof err) < 0)
                fprintf(stderr, "%s: %s; starting with no learned state\n", s->prog, err);
        }
        gt_anomaly_bin(s->anomaly, bin);
        if (s->state && s->state_loaded && gt_mono_s() - s->state_saved >= 300) {
            s->state_saved = gt_mono_s();
            if (gt_anomaly_save(s->anomaly, s->state, err, sizeof err) < 0)
                fprintf(stderr, "%s: %s\n", s->prog, err);
        }
    }
    if (s->report)
        gt_report_bin(s->report, bin);
}

int cli_sinks_finish(struct cli_sinks *s)
{
    int rc = 0;
    if (s->anomaly)
        gt_anomaly_finish(s->anomaly);
    char err[512];
    if (s->anomaly && s->state && gt_anomaly_save(s->anomaly, s->state, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", s->prog, err);
        rc = -1;
    }
    if (gt_output_finish(s->output) != 0)
        rc = -1;
    if (s->table_events && s->table_f) {
        fprintf(s->table_f, "\n%zu event%s\n", s->n_held, s->n_held == 1 ? "" : "s");
        for (size_t i = 0; i < s->n_held; i++)
            gt_event_write_text(s->table_f, &s->cls->keys, upstream_name, (void *)s->cls, &s->held[i]);
        if (fflush(s->table_f) != 0)
            rc = -1;
    }
    if (s->events_f && fflush(s->events_f) != 0)
        rc = -1;
    return rc;
}

void cli_sinks_free(struct cli_sinks *s)
{
    gt_anomaly_free(s->anomaly);
    if (s->events_close)
        fclose(s->events_f);
    free(s->held);
    free(s->p_counts);
    free(s->p_first);
    free(s->p_last);
    free(s->up_pkts);
    free(s->cum);
    free(s->key_up);
    free(s->best);
    memset(s, 0, sizeof *s);
}

struct gt_report *cli_report_new(const struct cli_cls_opts *co, const struct cli_cls *cls,
                                 const struct gt_anomaly *an, const char *path,
                                 const char *const *files, int nfiles, char *err, size_t errlen)
{
    const char *dbs[2 * CLI_MAX_LIST + 4];
    int n = 0;
    dbs[n++] = co->country_db ? co->country_db : gt_default_country_db();
    if (!co->n_asn) {
        dbs[n++] = gt_default_asn_v4();
        dbs[n++] = gt_default_asn_v6();
    }
    for (int i = 0; i < co->n_asn; i++)
        dbs[n++] = co->asn_dbs[i];
    for (int i = 0; i < co->n_routes; i++)
        dbs[n++] = co->routes[i];
    if (co->upstream_map)
        dbs[n++] = co->upstream_map;
    struct gt_report_opts ro = {
        .path = path, .cls = cls->c, .anomaly = an,
        .files = files, .nfiles = nfiles, .dbs = dbs, .ndbs = n,
    };
    return gt_report_new(&ro, &cls->keys, err, errlen);
}

static void span(char *buf, size_t len, const struct gt_bin_stats *t)
{
    char a[32], b[32];
    if (!t->first_ns) {
        snprintf(buf, len, "none");
        return;
    }
    gt_rfc3339(t->first_ns / 1000000000, a);
    gt_rfc3339(t->last_ns / 1000000000, b);
    snprintf(buf, len, "%s .. %s (%.3f s)", a, b, (double)(t->last_ns - t->first_ns) / 1e9);
}

void cli_print_summary(FILE *f, const struct gt_bin_stats *tot, const struct cli_cls *cls,
                       const struct gt_counts *key_totals, double elapsed, const char *note)
{
    uint64_t unknown = 0, addrs = 0;
    char sp[128];
    for (uint32_t k = 0; k < cls->keys.nkeys; k++) {
        const struct gt_key *key = &cls->keys.keys[k];
        uint64_t n = key_totals[k].pkts_from + key_totals[k].pkts_to;
        addrs += n;
        if (!key->home && (cls->keys.dims & GT_DIM_COUNTRY ? key->cc[0] == 'Z' && key->cc[1] == 'Z'
                                                            : key->asn == 0))
            unknown += n;
    }
    span(sp, sizeof sp, tot);
    fprintf(f, "geotap: %" PRIu64 " frames (%" PRIu64 " bytes): %" PRIu64 " IP, %" PRIu64 " non-IP, %"
               PRIu64 " truncated, %" PRIu64 " malformed",
            tot->packets, tot->bytes, tot->ip, tot->nonip, tot->truncated, tot->malformed);
    if (tot->drops)
        fprintf(f, ", %" PRIu64 " dropped by the capture", tot->drops);
    if (tot->bad_time)
        fprintf(f, "\ngeotap: %" PRIu64 " frames with an unrepresentable timestamp, counted in the open bin",
                tot->bad_time);
    if (tot->clock_jumps)
        fprintf(f, "\ngeotap: %" PRIu64 " frames more than max(1 h, 4 bins) from the capture's recent time "
                   "(clock jumps), counted in the open bin and left out of the time span", tot->clock_jumps);
    if (tot->gap_skipped)
        fprintf(f, "\ngeotap: warning: %" PRIu64 " empty bins of long silences not written (zero rows bounded "
                   "by the output; the first empty bins of each gap are)", tot->gap_skipped);
    fprintf(f, "\ngeotap: unknown %s: %.2f%% of addresses; time span %s\n",
            cls->keys.dims & GT_DIM_COUNTRY ? "country" : "AS", addrs ? 100.0 * (double)unknown / (double)addrs : 0.0, sp);
    fprintf(f, "geotap: %.3f s elapsed, %.0f frames/s%s%s\n", elapsed,
            elapsed > 0 ? (double)tot->packets / elapsed : 0.0, note ? "; " : "", note ? note : "");
}
