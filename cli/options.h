/* The option table: one entry per option serves getopt_long, the usage
 * text, the configuration file (its keys are the long names) and --check. */
#ifndef GEOTAP_CLI_OPTIONS_H
#define GEOTAP_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "geotap/setup.h"

/* Commands, as a mask of which ones take an option. */
enum { CMD_ANALYZE = 1, CMD_LIVE = 2, CMD_LOOKUP = 4, CMD_COMPILE = 8, CMD_MERGE = 16, CMD_WATCH = 32 };

/* What an entry's value is. */
enum cli_kind {
    K_FLAG,     /* int: 1 when given; file: yes/no */
    K_STR,      /* const char * */
    K_LIST,     /* struct cli_list: repeatable, in order; at most hi values if hi > 0 */
    K_INT,      /* long long in [lo, hi] */
    K_REAL,     /* double > 0 */
};

/* Entry flags. */
enum {
    F_RELOAD = 1,   /* takes effect on reload (the classification) */
    F_NOFILE = 2,   /* command line only (help, config, check) */
    F_DPDK = 4,     /* shown only in a DPDK build */
};

struct cli_list {
    const char *v[GT_SETUP_MAX_LIST];
    int line[GT_SETUP_MAX_LIST];        /* file line of each value (0 = flag) */
    int n;
};

/* Every option of every command, parsed. */
struct cli_config {
    /* capture (live) */
    const char *interface, *filter, *user, *dpdk;
    long long workers, snaplen, buffer, port, queues, count, duration, idle_stop;
    /* counting */
    const char *by;
    struct cli_list by_list;            /* compile: several --by */
    long long bin;
    const char *bytes;
    int decap;
    /* classification */
    const char *country_db, *upstream_map;
    struct cli_list asn_db, home_net, routes;
    /* output */
    const char *format, *output, *report, *listen;
    /* outage detection */
    const char *events, *state;
    double fa_budget;
    long long state_interval;           /* seconds between state saves (0 = the default) */
    /* service */
    long long metrics_asn;              /* ASN labels, top N (0 = off): wired by the exporter branch */
    const char *sensor;                 /* sensor name in alerts (NULL = host name) */
    struct cli_list alertmanager, webhook;  /* alert receivers */
    /* the fleet (watch) */
    const char *prometheus, *from, *to, *sensor_label, *name;
    long long lag, delay, lookback, max_hold;
    double share;
    /* general */
    const char *config;
    int check, print_example, quiet, help;
};

/* Where an option's value came from. */
struct cli_origin {
    int set;            /* 0 default, 1 flag, 2 file */
    int line;           /* file: line of the (first) value */
};

struct cli_opt {
    const char *name;       /* long option = configuration key */
    char shortopt;          /* 0 = none */
    const char *arg;        /* metavariable in the usage; NULL for flags */
    enum cli_kind kind;
    long long lo, hi;       /* K_INT range */
    /* Extra check of a value: NULL if good, else what is wanted ("want ..."). */
    const char *(*check)(const char *v);
    size_t off;             /* field in struct cli_config */
    unsigned cmds;          /* CMD_* taking it */
    unsigned flags;         /* F_* */
    const char *section;    /* usage heading */
    const char *def;        /* default as text (parsed at init), NULL = none */
    const char *help;       /* usage text, lines of at most 56 columns */
};

/* Parsed options of one command: the values and where each came from. */
struct cli_parsed {
    unsigned cmd;
    const char *prog;                       /* "geotap live" */
    struct cli_config v;
    struct cli_origin *origin;              /* [cli_nopts] */
    struct cli_config flagv;                /* the defaults and the flags only (for a reload) */
    struct cli_origin *flag_origin;
    const char *file;                       /* the config file, NULL = none */
    char *arena;                            /* the file's values */
};

extern const struct cli_opt cli_opts[];
extern const size_t cli_nopts;

/* Parse argv for cmd, then the --config file (flags win); NULL fields keep
 * their defaults. 0, 1 after --help was printed (usage given), or 2 after a
 * message on stderr. Non-option arguments are left at argv[*first..argc). */
int cli_parse(struct cli_parsed *p, unsigned cmd, const char *prog, const char *usage_head,
              const char *usage_tail, int argc, char **argv, int *first);
/* Read FILE into a copy of base's flag layer: the values of base's flags
 * stay, every other option takes the file's value or its default. 0, or -1
 * with "FILE:LINE: reason" in err. */
int cli_reparse_file(const struct cli_parsed *base, struct cli_parsed *out, char *err, size_t errlen);
/* Free what cli_parse or cli_reparse_file allocated. */
void cli_parsed_free(struct cli_parsed *p);
/* Print the usage of cmd: head, the table's sections, tail. */
void cli_usage(FILE *f, unsigned cmd, const char *head, const char *tail);
/* The effective configuration: every key of cmd with its value and origin. */
void cli_print_config(FILE *f, const struct cli_parsed *p);
/* An example configuration file: every key of cmd, explained, commented out. */
void cli_print_example(FILE *f, unsigned cmd);
/* The options of a reloaded configuration whose value differs from cur's
 * and that need a restart: calls fn for each. */
void cli_config_diff(const struct cli_parsed *cur, const struct cli_parsed *next,
                     void (*fn)(void *ctx, const struct cli_opt *o), void *ctx);
/* Whether o has the same value in x and y. */
int cli_opt_same(const struct cli_parsed *x, const struct cli_parsed *y, const struct cli_opt *o);
/* Whether the option name of p's command was given (flag or file). */
int cli_given(const struct cli_parsed *p, const char *name);
/* The classification options as the library takes them (only those fields). */
void cli_config_setup(const struct cli_config *c, struct gt_setup_opts *so);

/* Reload of the configuration file. run: the running options; every
 * re-read is kept (the sensor may hold its strings) until the free. */
struct cli_reread;
struct cli_reloader { const struct cli_parsed *run, *last; struct cli_reread *rr; };
/* gt_sensor_config.reconfigure with ctx a struct cli_reloader: re-reads
 * run's file, reports changed keys that need a restart (once each), and
 * fills the classification options. */
int cli_reconfigure(void *ctx, struct gt_setup_opts *out, char *err, size_t errlen);
void cli_reloader_free(struct cli_reloader *l);

/* Parse one configuration text (for the fuzzer and the tests): lines of
 * text into p's file layer for cmd. 0 or -1 with "NAME:LINE: reason". */
int cli_parse_text(struct cli_parsed *p, const char *name, const char *text, size_t len,
                   char *err, size_t errlen);
/* A time of watch's --from/--to: RFC 3339 UTC (2014-12-22T16:00:00Z) or
 * seconds since the epoch. 0, or -1. */
int cli_time(const char *s, int64_t *t);
/* An empty cli_parsed for cmd with the defaults (0, or -1 out of memory). */
int cli_parsed_init(struct cli_parsed *p, unsigned cmd, const char *prog);

#endif
