/* The exporter (metrics.h) on hand-made keys and bins, values computed by
 * hand: cumulative counters per key and direction, zeros kept for keys
 * seen, keys appended to the table (a reload) exported from then on, ASN
 * labels only with asn_top (the top ASN its own series, the rest summed
 * into asn="other" so the sum stays the total), frames by result. Then one
 * thread renders in a loop while another feeds bins (20,000 or more, until
 * 200 renders): every render is
 * one publication (its frames and its key's packets agree), checked also
 * under ThreadSanitizer (suite threads). */
#include "check.h"
#include "geotap/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The value of the sample whose line starts with series (name{labels}), or -1. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, series, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static char *render(struct gt_metrics *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(gt_metrics_render(m, f) == 0);
    fclose(f);
    return buf;
}

static struct gt_key key(const char *cc, uint32_t asn)
{
    struct gt_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.cc, cc, 2);
    k.asn = asn;
    return k;
}

static void feed(struct gt_sink *s, uint32_t nkeys, const struct gt_counts *c, uint64_t ip)
{
    static int64_t t = 1000;
    int64_t last[8] = { 0 };
    for (uint32_t k = 0; k < nkeys && k < 8; k++)
        last[k] = (c[k].pkts_from | c[k].pkts_to) ? t * 1000000000LL + 500000000 : 0;
    struct gt_bin b = { .start = t, .width = 1, .nkeys = nkeys, .counts = c, .last_ns = last };
    b.stats.ip = ip;
    b.stats.nonip = 1;
    b.stats.workers = 1;
    t++;
    s->bin(s->self, &b);
}

static void countries(void)
{
    struct gt_key ks[4] = { key("GB", 0), key("US", 0), key("ZZ", 0) };
    struct gt_keys keys = { .dims = GT_DIM_COUNTRY, .nkeys = 3, .keys = ks };
    struct gt_metrics_opts o = { .keys = &keys, .max_keys = 4, .interface = "eth1", .country_db = "/x.mmdb" };
    struct gt_metrics *m = gt_metrics_new(&o);
    CHECK(m != NULL);
    struct gt_sink s = gt_metrics_sink(m);
    struct gt_counts c1[3] = { { .pkts_from = 3, .bytes_from = 300, .pkts_to = 2, .bytes_to = 120, .starts = 1,
                                 .idle_ms = 2500 } };
    feed(&s, 3, c1, 5);
    struct gt_counts c2[3] = { [1] = { .pkts_from = 5, .bytes_from = 500 } };
    feed(&s, 3, c2, 5);
    /* A reload appended KP: the next bin has four keys. */
    ks[3] = key("KP", 0);
    keys.nkeys = 4;
    struct gt_counts c3[4] = { [0] = { .pkts_from = 1, .bytes_from = 60 }, [3] = { .pkts_to = 7, .bytes_to = 700 } };
    feed(&s, 4, c3, 8);
    char *t = render(m);
    CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\"}") == 4);
    CHECK(sample(t, "geotap_packets_total{direction=\"to\",country=\"GB\"}") == 2);
    CHECK(sample(t, "geotap_bytes_total{direction=\"from\",country=\"GB\"}") == 360);
    CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"US\"}") == 5);
    CHECK(sample(t, "geotap_packets_total{direction=\"to\",country=\"US\"}") == 0);   /* seen: zeros stay */
    CHECK(sample(t, "geotap_packets_total{direction=\"to\",country=\"KP\"}") == 7);   /* appended key */
    CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"ZZ\"}") == -1); /* never seen */
    CHECK(sample(t, "geotap_flow_starts_total{country=\"GB\"}") == 1);
    CHECK(sample(t, "geotap_flow_idle_seconds_total{country=\"GB\"}") == 2.5);
    CHECK(sample(t, "geotap_frames_total{interface=\"eth1\",result=\"ip\"}") == 18);
    CHECK(sample(t, "geotap_frames_total{interface=\"eth1\",result=\"non_ip\"}") == 3);
    CHECK(sample(t, "geotap_capture_drops_total{interface=\"eth1\"}") == 0);
    CHECK(sample(t, "geotap_last_packet_timestamp_seconds{country=\"GB\"}") == 1002.5);
    CHECK(strstr(t, "# TYPE geotap_packets_total counter\n") != NULL);
    CHECK(strstr(t, "geotap_build_info{version=\"") != NULL && strstr(t, "country_db=\"/x.mmdb\"") != NULL);
    CHECK(strstr(t, "geotap_key_state") == NULL);     /* no detector: no gauges */
    free(t);
    s.free(s.self);
}

static void asns(uint32_t top)
{
    struct gt_key ks[3] = { key("GB", 1), key("GB", 2), key("US", 3) };
    struct gt_keys keys = { .dims = GT_DIM_COUNTRY | GT_DIM_ASN, .nkeys = 3, .keys = ks };
    struct gt_metrics_opts o = { .keys = &keys, .asn_top = top };
    struct gt_metrics *m = gt_metrics_new(&o);
    struct gt_sink s = gt_metrics_sink(m);
    struct gt_counts c[3] = { { .pkts_from = 10 }, { .pkts_from = 1 }, { .pkts_from = 2 } };
    feed(&s, 3, c, 13);
    feed(&s, 3, c, 13);
    char *t = render(m);
    if (top) {
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\",asn=\"1\"}") == 20);
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\",asn=\"other\"}") == 2);
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"US\",asn=\"other\"}") == 4);
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\",asn=\"2\"}") == -1);
    } else {
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\"}") == 22);
        CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"US\"}") == 4);
        CHECK(strstr(t, "asn=") == NULL);
    }
    free(t);
    s.free(s.self);
}

/* Concurrency: the feeder adds 1 packet and 1 IP frame per bin. */
struct race {
    struct gt_metrics *m;
    atomic_int done;
    atomic_long renders;
    long torn;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->done)) {
        char *t = render(r->m);
        double ip = sample(t, "geotap_frames_total{interface=\"\",result=\"ip\"}");
        double gb = sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\"}");
        if (gb >= 0 && ip != gb)
            r->torn++;
        atomic_fetch_add(&r->renders, 1);
        free(t);
    }
    return NULL;
}

static void race(void)
{
    struct gt_key ks[1] = { key("GB", 0) };
    struct gt_keys keys = { .dims = GT_DIM_COUNTRY, .nkeys = 1, .keys = ks };
    struct gt_metrics_opts o = { .keys = &keys };
    struct race r = { .m = gt_metrics_new(&o) };
    atomic_init(&r.done, 0);
    atomic_init(&r.renders, 0);
    struct gt_sink s = gt_metrics_sink(r.m);
    pthread_t th;
    pthread_create(&th, NULL, reader, &r);
    struct gt_counts c[1] = { { .pkts_from = 1 } };
    long bins = 0;
    /* At least 20,000 bins and 200 renders while they are fed. */
    while (bins < 20000 || (atomic_load(&r.renders) < 200 && bins < 50000000))
        feed(&s, 1, c, 1), bins++;
    atomic_store(&r.done, 1);
    pthread_join(th, NULL);
    char *t = render(r.m);
    CHECK(sample(t, "geotap_packets_total{direction=\"from\",country=\"GB\"}") == (double)bins);
    free(t);
    CHECK_MSG(r.torn == 0, "%ld of %ld renders mixed two publications", r.torn, atomic_load(&r.renders));
    CHECK(atomic_load(&r.renders) >= 200);
    s.free(s.self);
}

int main(void)
{
    countries();
    asns(1);
    asns(0);
    race();
    return check_result();
}
