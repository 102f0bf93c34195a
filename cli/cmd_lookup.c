/* geotap lookup: classify addresses given on the command line or standard
 * input with the compiled classifier, one tab-separated line each. */
#include "cli/commands.h"
#include "cli/cli_common.h"
#include "geotap/textline.h"
#include "geotap/routes.h"
#include "geotap/classifier.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_head[] =
"Usage: geotap lookup [OPTIONS] [ADDRESS...]\n"
"\n"
"Print the country, autonomous system and AS organisation of each IPv4 or\n"
"IPv6 ADDRESS, as geotap classifies traffic. Without ADDRESS arguments the\n"
"addresses are read from standard input, one per line (blank lines are\n"
"skipped).\n"
"\n"
"Output is tab-separated with a header line:\n"
"  address  country  asn  as_org  [upstream  origin  bgp_upstreams]\n"
"country is the ISO 3166 alpha-2 code of the MaxMind country.iso_code field,\n"
"ZZ when the address is not in the database, or 'home' inside a --home-net;\n"
"asn is 0 when unknown and as_org is then empty. With --routes or\n"
"--upstream-map, 'upstream' is the upstream geotap counts the address under\n"
"(after the map's precedence); with --routes, 'origin' is the origin AS of the\n"
"longest matching prefix and 'bgp_upstreams' its upstreams with their share\n"
"of paths across peers, e.g. AS4837:1.000 (AS0 = paths with no upstream).\n";
static const char usage_tail[] =
"\n"
"Exit status: 0 on success; 1 when some ADDRESS was invalid (reported on\n"
"standard error, the others are still printed); 2 on a usage error or a\n"
"missing, unreadable or corrupt database.\n"
"\n"
"Examples:\n"
"  geotap lookup 8.8.8.8 2001:4860:4860::8888\n"
"  geotap lookup --country-db GeoLite2-Country.mmdb --asn-db GeoLite2-ASN.mmdb 1.1.1.1\n"
"  cut -f1 addresses.txt | geotap lookup\n"
"  geotap lookup --routes updates.et-header.2015.gz 175.45.176.1\n";

/* Print the line of one address; 0 (after a line on stderr) when s is not one. */
static int lookup_one(const struct gt_setup *cls, const char *s)
{
    const gt_classifier *c = cls->c;
    struct in_addr a4;
    struct in6_addr a6;
    struct gt_route_info ri;
    int have_route = 0;
    uint32_t id;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        id = gt_classify4(c, ntohl(a4.s_addr));
        if (cls->routes)
            have_route = gt_routes_lookup4(cls->routes, ntohl(a4.s_addr), &ri);
    } else if (inet_pton(AF_INET6, s, &a6) == 1) {
        id = gt_classify6(c, a6.s6_addr);
        if (cls->routes)
            have_route = gt_routes_lookup6(cls->routes, a6.s6_addr, &ri);
    } else {
        char q[80];
        gt_text_escape(s, strlen(s), q, sizeof q);
        fprintf(stderr, "geotap lookup: invalid address '%s'\n", q);
        return 0;
    }
    const struct gt_class *k = gt_classifier_class(c, id);
    const char *org = k->asn ? gt_classifier_asn_org(c, k->asn) : NULL;
    printf("%s\t%s\t%u\t%s", s, (k->flags & GT_CLASS_HOME) ? "home" : k->cc, k->asn, org ? org : "");
    if (cls->n_upstreams)
        printf("\t%s", gt_classifier_upstream_name(c, k->upstream));
    if (cls->routes) {
        if (have_route) {
            printf("\t%u\t", ri.origin);
            for (uint32_t i = 0; i < ri.nup; i++)
                printf("%sAS%u:%.3f", i ? "," : "", ri.up[i].asn, ri.up[i].share);
        } else {
            fputs("\t0\t", stdout);
        }
    }
    putchar('\n');
    return 1;
}

int cmd_lookup(int argc, char **argv)
{
    struct cli_parsed p;
    struct gt_setup cls;
    char err[1024];
    int first, rc = cli_parse(&p, CMD_LOOKUP, "geotap lookup", usage_head, usage_tail, argc, argv, &first);
    struct gt_setup_opts so = { .dims = GT_DIM_COUNTRY | GT_DIM_ASN, .classes_only = 1 };
    cli_config_setup(&p.v, &so);
    if (rc == 0 && gt_setup_build(&so, &cls, err, sizeof err) != 0) {
        cli_setup_error("geotap lookup", &p.v, err);
        rc = 2;
    }
    cli_parsed_free(&p);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (cls.warning[0])
        fprintf(stderr, "geotap lookup: warning: %s\n", cls.warning);
    int status = 0;
    fputs("address\tcountry\tasn\tas_org", stdout);
    if (cls.n_upstreams)
        fputs("\tupstream", stdout);
    if (cls.routes)
        fputs("\torigin\tbgp_upstreams", stdout);
    putchar('\n');
    if (first < argc) {
        for (int i = first; i < argc; i++)
            if (!lookup_one(&cls, argv[i]))
                status = 1;
    } else {
        static char line[GT_LINE_MAX + 1];
        long n;
        unsigned long lineno = 0;
        while ((n = gt_text_line(stdin, line, sizeof line)) >= 0) {
            char *s = line, *e = line + n;
            lineno++;
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            if (s == e)
                continue;
            *e = 0;
            if (!lookup_one(&cls, s))
                status = 1;
        }
        /* a line longer than any address: stop rather than read it all */
        if (n == -2) {
            fprintf(stderr, "geotap lookup: standard input:%lu: line too long (over %d bytes)\n",
                    lineno + 1, GT_LINE_MAX);
            status = 2;
        } else if (n == -3) {
            fprintf(stderr, "geotap lookup: standard input: read error: %m\n");
            status = 2;
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "geotap lookup: write error\n");
        status = 2;
    }
    gt_setup_free(&cls);
    return status;
}
