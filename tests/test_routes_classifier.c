/* Integration: BGP routes (updates.et-header.2015.gz through bgpdump) and an
 * upstream map compiled into the real classifier with the setup's GeoLite2
 * country database and ASN CSV. North Korea's 175.45.176.0/22 must come out
 * as KP, AS131279, upstream "AS4837 CHINA UNICOM China169 Backbone" (the
 * organisation from the CSV), and map rules must override as documented. */
#include "geotap/datadir.h"
#include "geotap/classifier.h"
#include "geotap/routes.h"
#include "geotap/geodata.h"
#include "geotap/upstream_map.h"
#include "check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return ntohl(a.s_addr);
}

int main(void)
{
    const char *shared = getenv("GEOTAP_SHARED");
    const char *asn_csv = gt_default_asn_v4(), *country = gt_default_country_db();
    if (!shared || access(asn_csv, R_OK) || access(country, R_OK)) {
        fprintf(stderr, "SKIP: needs GEOTAP_SHARED and the setup's GeoIP data\n");
        return 77;
    }
    char err[512], path[512];
    snprintf(path, sizeof path, "%s/bgp/updates.et-header.2015.gz", shared);

    gt_routes *r = gt_routes_new();
    CHECK_MSG(gt_routes_load(r, path, err, sizeof err) == 0, "%s", err);
    struct gt_asn_orgs *orgs = gt_asn_orgs_new();
    struct gt_rangeset asn = { 0 };
    CHECK_MSG(gt_source_asn(asn_csv, &asn, orgs, err, sizeof err) == 0, "%s", err);

    char mapfile[] = "/tmp/gt_rc_map_XXXXXX";
    int fd = mkstemp(mapfile);
    const char *map = "prefix 175.45.178.0/24 Test override\n"
                      "asn 15169 Google via PNI\n";
    CHECK(fd >= 0 && write(fd, map, strlen(map)) == (ssize_t)strlen(map));
    close(fd);
    gt_upstreams *names = gt_upstreams_new();
    gt_upstream_map *m = gt_upstream_map_load(mapfile, names, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    unlink(mapfile);

    struct gt_rangeset up = { 0 };
    CHECK(gt_upstream_compile(r, m, &asn, names, &up) == 0);
    CHECK(gt_upstreams_apply_orgs(names, gt_upstreams_org_from_asn_orgs, orgs) == 0);

    const char *asn_dbs[] = { asn_csv };
    struct gt_classifier_opts o = {
        .country_db = country,
        .asn_dbs = asn_dbs, .n_asn_dbs = 1,
        .upstream_ranges = &up,
        .upstream_names = gt_upstreams_names(names),
        .n_upstream_names = gt_upstreams_count(names),
    };
    gt_classifier *c = gt_classifier_build(&o, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (c) {
        const struct gt_class *k = gt_classifier_class(c, gt_classify4(c, ip4("175.45.177.10")));
        CHECK_MSG(strcmp(k->cc, "KP") == 0, "cc %s", k->cc);
        CHECK_EQ_U(k->asn, 131279);
        const char *n = gt_classifier_upstream_name(c, k->upstream);
        CHECK_MSG(strcmp(n, "AS4837 CHINA UNICOM China169 Backbone") == 0, "upstream '%s'", n);
        k = gt_classifier_class(c, gt_classify4(c, ip4("175.45.178.1")));
        n = gt_classifier_upstream_name(c, k->upstream);
        CHECK_MSG(strcmp(n, "Test override") == 0, "upstream '%s'", n);
        k = gt_classifier_class(c, gt_classify4(c, ip4("8.8.8.8")));
        n = gt_classifier_upstream_name(c, k->upstream);
        CHECK_MSG(k->asn == 15169 && strcmp(n, "Google via PNI") == 0, "asn %u upstream '%s'", k->asn, n);
        /* an address with a route and no rule: the BGP upstream, same as the route table says */
        struct gt_route_info ri;
        CHECK(gt_routes_lookup4(r, ip4("1.24.0.1"), &ri) == 1 && ri.upstream != 0);
        k = gt_classifier_class(c, gt_classify4(c, ip4("1.24.0.1")));
        CHECK_EQ_U(gt_upstreams_asn(names, k->upstream), ri.upstream);
        fprintf(stderr, "classifier with routes: %zu bytes, %u classes, %u upstream names, %.3f s build\n",
                gt_classifier_memory(c), gt_classifier_nclasses(c), gt_upstreams_count(names),
                gt_classifier_build_seconds(c));
        gt_classifier_free(c);
    }
    gt_rangeset_free(&up);
    gt_rangeset_free(&asn);
    gt_upstream_map_free(m);
    gt_upstreams_free(names);
    gt_asn_orgs_free(orgs);
    gt_routes_free(r);
    return check_result();
}
