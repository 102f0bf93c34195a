/* Shared option handling, classifier loading, bin fan-out and summary. */
#include "cli/cli_common.h"
#include "geotap/anomaly.h"
#include "geotap/events.h"

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
    case CLI_O_EVENTS:
        o->events = arg;
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

int cli_cls_build(const struct cli_cls_opts *o, unsigned dims, struct cli_cls *out, const char *prog)
{
    char err[1024] = "";
    const char *asn_default[2] = { gt_default_asn_v4(), gt_default_asn_v6() };
    struct gt_classifier_opts co;
    memset(&co, 0, sizeof co);
    memset(out, 0, sizeof *out);
    co.country_db = o->country_db ? o->country_db : gt_default_country_db();
    /* The ASN data is loaded only when counted by: it is most of the start-up time. */
    if (o->n_asn) {
        co.asn_dbs = o->asn_dbs;
        co.n_asn_dbs = (size_t)o->n_asn;
    } else if (dims & GT_DIM_ASN) {
        co.asn_dbs = asn_default;
        co.n_asn_dbs = 2;
    }
    co.home_nets = o->home;
    co.n_home_nets = (size_t)o->n_home;
    out->c = gt_classifier_build(&co, err, sizeof err);
    if (!out->c) {
        fprintf(stderr, "%s: %s\n", prog, err);
        if (!o->country_db && access(co.country_db, R_OK) != 0)
            fprintf(stderr, "%s: (the default databases are fetched by scripts/setup)\n", prog);
        return -1;
    }
    if (gt_keys_build(&out->keys, out->c, dims) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        gt_classifier_free(out->c);
        out->c = NULL;
        return -1;
    }
    return 0;
}

void cli_cls_free(struct cli_cls *c)
{
    gt_keys_free(&c->keys);
    gt_classifier_free(c->c);
    c->c = NULL;
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
}

int cli_sinks_init(struct cli_sinks *s, const struct cli_cls_opts *o, struct gt_output *out,
                   const struct cli_cls *cls, const char *prog, enum gt_format format, FILE *table_f)
{
    memset(s, 0, sizeof *s);
    s->output = out;
    s->cls = cls;
    s->table_f = table_f;
    s->table_events = format == GT_FMT_TABLE;
    if (!o->events && !s->table_events)
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
    /* Unknown space and home networks are not places that can go dark. */
    for (uint32_t k = 0; k < cls->keys.nkeys; k++) {
        const struct gt_key *key = &cls->keys.keys[k];
        if (key->home || ((cls->keys.dims & GT_DIM_COUNTRY) && key->cc[0] == 'Z' && key->cc[1] == 'Z') ||
            (cls->keys.dims == GT_DIM_ASN && key->asn == 0))
            gt_anomaly_ignore_key(s->anomaly, k);
    }
    return 0;
}

void cli_sinks_bin(void *sinks, const struct gt_bin *bin)
{
    struct cli_sinks *s = sinks;
    gt_output_bin(s->output, bin);
    if (s->anomaly)
        gt_anomaly_bin(s->anomaly, bin);
}

int cli_sinks_finish(struct cli_sinks *s)
{
    int rc = 0;
    if (s->anomaly)
        gt_anomaly_finish(s->anomaly);
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
    memset(s, 0, sizeof *s);
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
    fprintf(f, "\ngeotap: unknown %s: %.2f%% of addresses; time span %s\n",
            cls->keys.dims & GT_DIM_COUNTRY ? "country" : "AS", addrs ? 100.0 * (double)unknown / (double)addrs : 0.0, sp);
    fprintf(f, "geotap: %.3f s elapsed, %.0f frames/s%s%s\n", elapsed,
            elapsed > 0 ? (double)tot->packets / elapsed : 0.0, note ? "; " : "", note ? note : "");
}
