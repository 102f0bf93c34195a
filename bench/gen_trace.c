/* gen_trace: writes a synthetic but realistic classic pcap for the benchmarks.
 * Addresses come from the networks of a real GeoIP country database, picked
 * with per-country traffic weights; flows (address pair, ports, protocol)
 * have Zipf popularity; frame sizes follow IMIX 7:4:1 (64/594/1518 bytes);
 * a share of flows is 802.1Q-tagged and a share is IPv6. Deterministic for a
 * given seed: own PRNG, no libc random. The pcap format is written directly
 * with large buffered writes (pcap_dump costs a call per packet). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "geotap/datadir.h"
#include "geotap/classifier.h"
#include "geotap/ranges.h"
#include "geotap/geodata.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---- */
static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0]; rng_s[3] ^= rng_s[1]; rng_s[1] ^= rng_s[2]; rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t; rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static inline double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

/* Uniform in [0, n), n > 0 (multiply-shift; the bias is negligible here). */
static inline uint64_t rng_below(uint64_t n) { return (uint64_t)(((unsigned __int128)rng_next() * n) >> 64); }

/* ---- country weights ---- */
/* Approximate shares (percent) of Internet traffic by country, from public
 * traffic reports; every other country in the database shares REST_SHARE
 * equally. KP gets a token share so the North Korea use case has data. */
static const struct { char cc[3]; double share; } country_share[] = {
    {"US", 24.0}, {"CN", 8.0}, {"DE", 5.0}, {"GB", 4.0}, {"JP", 4.0}, {"IN", 4.0},
    {"FR", 3.5}, {"NL", 3.0}, {"BR", 3.0}, {"RU", 3.0}, {"KR", 2.5}, {"CA", 2.5},
    {"IT", 2.0}, {"ES", 2.0}, {"SG", 1.5}, {"HK", 1.5}, {"AU", 1.5}, {"TW", 1.2},
    {"SE", 1.0}, {"PL", 1.0}, {"ID", 1.0}, {"MX", 1.0}, {"TR", 1.0}, {"VN", 1.0},
    {"IE", 1.0}, {"CH", 0.8}, {"UA", 0.8}, {"ZA", 0.5}, {"AR", 0.5}, {"IR", 0.5},
    {"KP", 0.01},
};
#define REST_SHARE 10.0

static double share_of(uint32_t ccv)
{
    for (size_t i = 0; i < sizeof country_share / sizeof country_share[0]; i++)
        if (GT_CC_PACK(country_share[i].cc[0], country_share[i].cc[1]) == ccv)
            return country_share[i].share;
    return -1.0;
}

/* The networks of one address family grouped by country, with cumulative
 * weights to pick a country, then a network (v4: by address count, so a pick
 * is uniform over the country's address space; v6: by network). */
struct family {
    size_t ncc;
    uint32_t *cc;          /* [ncc] packed country */
    double *cc_cum;        /* [ncc] cumulative country weight */
    size_t *first, *count; /* [ncc] slice of the sorted ranges */
    double *net_cum;       /* [nranges] cumulative weight within the country's slice */
};

static int cmp_r4(const void *a, const void *b)
{
    const struct gt_range4 *x = a, *y = b;
    if (x->val != y->val) return x->val < y->val ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_r6(const void *a, const void *b)
{
    const struct gt_range6 *x = a, *y = b;
    if (x->val != y->val) return x->val < y->val ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        fprintf(stderr, "gen_trace: out of memory\n");
        exit(1);
    }
    return p;
}

/* Build the per-country index over ranges already sorted by (val, lo). */
static void family_free(struct family *f)
{
    free(f->cc); free(f->cc_cum); free(f->first); free(f->count); free(f->net_cum);
    memset(f, 0, sizeof *f);
}

static void family_build(struct family *f, size_t n, uint32_t (*val)(size_t), double (*weight)(size_t))
{
    f->cc = xcalloc(n, sizeof *f->cc);
    f->cc_cum = xcalloc(n, sizeof *f->cc_cum);
    f->first = xcalloc(n, sizeof *f->first);
    f->count = xcalloc(n, sizeof *f->count);
    f->net_cum = xcalloc(n, sizeof *f->net_cum);
    f->ncc = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || val(i) != val(i - 1)) {
            f->cc[f->ncc] = val(i);
            f->first[f->ncc] = i;
            f->ncc++;
        }
        size_t c = f->ncc - 1;
        f->net_cum[i] = (i == f->first[c] ? 0.0 : f->net_cum[i - 1]) + weight(i);
        f->count[c]++;
    }
    size_t nrest = 0;
    double named = 0;
    for (size_t c = 0; c < f->ncc; c++) {
        double s = share_of(f->cc[c]);
        if (s < 0) nrest++;
        else named += s;
    }
    double cum = 0;
    for (size_t c = 0; c < f->ncc; c++) {
        double s = share_of(f->cc[c]);
        cum += s >= 0 ? s : REST_SHARE / (double)nrest;
        f->cc_cum[c] = cum;
    }
    (void)named;
}

/* Index of the first element of cum[0..n) greater than x (n-1 at most). */
static size_t pick_cum(const double *cum, size_t n, double x)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* The range index a weighted pick lands on. */
static size_t family_pick(const struct family *f)
{
    size_t c = pick_cum(f->cc_cum, f->ncc, rng_unit() * f->cc_cum[f->ncc - 1]);
    const double *nc = f->net_cum + f->first[c];
    return f->first[c] + pick_cum(nc, f->count[c], rng_unit() * nc[f->count[c] - 1]);
}

static struct gt_rangeset rs;

static uint32_t val4(size_t i) { return rs.v4[i].val; }
static double weight4(size_t i) { return (double)rs.v4[i].hi - (double)rs.v4[i].lo + 1.0; }
static uint32_t val6(size_t i) { return rs.v6[i].val; }
static double weight6(size_t i) { (void)i; return 1.0; }

/* IPv6 networks that MaxMind databases alias onto the IPv4 tree (IPv4-mapped
 * and -compatible ::/8, Teredo 2001::/32, 6to4 2002::/16): left out so an
 * IPv6 frame never carries what is really an IPv4 address. */
static int v6_is_alias(gt_u128 lo)
{
    uint64_t top = (uint64_t)(lo >> 64);
    return (top >> 56) == 0 || (top >> 32) == 0x20010000u || (top >> 48) == 0x2002u;
}

/* ---- flows ---- */
enum { P_TCP = 6, P_UDP = 17, P_ICMP = 1, P_ICMP6 = 58 };

struct flow {
    uint8_t family, proto, vlan_tagged;
    uint16_t vlan, sport, dport;
    uint32_t seq;
    union { uint32_t v4; uint8_t v6[16]; } src, dst;
};

static void rand_in4(const struct gt_range4 *r, uint32_t *out)
{
    *out = r->lo + (uint32_t)rng_below((uint64_t)r->hi - r->lo + 1);
}

static void rand_in6(const struct gt_range6 *r, uint8_t out[16])
{
    gt_u128 span = r->hi - r->lo; /* inclusive span - 1 */
    gt_u128 x = ((gt_u128)rng_next() << 64) | rng_next();
    if (span != ~(gt_u128)0)
        x %= span + 1;
    gt_u128_to_bytes(r->lo + x, out);
}

static const uint16_t tcp_ports[] = {443, 443, 443, 443, 80, 80, 22, 25, 993, 8080, 3389, 5222};
static const uint16_t udp_ports[] = {53, 53, 443, 443, 123, 500, 4500, 1194, 5060, 3478};

/* ---- frame building ---- */
static inline void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

/* One's-complement sum of n bytes (n even) added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes the headers of a frame of frame_len bytes into f (the payload is
 * zeros, so the L4 checksum over headers + pseudo-header is the real one).
 * Returns the header length. */
static size_t build_frame(uint8_t *f, struct flow *fl, uint32_t frame_len, uint32_t flow_idx, uint16_t ip_id)
{
    size_t off = 0;
    /* MACs: fixed router-side destination, a per-flow locally administered source. */
    static const uint8_t dmac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    memcpy(f, dmac, 6);
    f[6] = 0x02; f[7] = 0x42; put32(f + 8, flow_idx);
    off = 12;
    if (fl->vlan_tagged) {
        put16(f + off, 0x8100); put16(f + off + 2, fl->vlan);
        off += 4;
    }
    put16(f + off, fl->family == 4 ? 0x0800 : 0x86dd);
    off += 2;
    uint32_t ip_len = frame_len - (uint32_t)off;
    uint8_t *ip = f + off, *l4;
    size_t l4_hlen = fl->proto == P_TCP ? 20 : 8;
    uint32_t l4_len;
    uint32_t pseudo = 0;
    if (fl->family == 4) {
        memset(ip, 0, 20);
        ip[0] = 0x45; put16(ip + 2, ip_len); put16(ip + 4, ip_id); put16(ip + 6, 0x4000);
        ip[8] = 64; ip[9] = fl->proto;
        put32(ip + 12, fl->src.v4); put32(ip + 16, fl->dst.v4);
        put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
        l4 = ip + 20;
        l4_len = ip_len - 20;
        pseudo = csum_add(0, ip + 12, 8) + fl->proto + l4_len;
    } else {
        memset(ip, 0, 40);
        ip[0] = 0x60; put16(ip + 4, ip_len - 40); ip[6] = fl->proto; ip[7] = 64;
        memcpy(ip + 8, fl->src.v6, 16); memcpy(ip + 24, fl->dst.v6, 16);
        l4 = ip + 40;
        l4_len = ip_len - 40;
        pseudo = csum_add(0, ip + 8, 32) + (l4_len >> 16) + (l4_len & 0xffff) + fl->proto;
    }
    memset(l4, 0, l4_hlen);
    uint32_t sum;
    switch (fl->proto) {
    case P_TCP:
        put16(l4, fl->sport); put16(l4 + 2, fl->dport); put32(l4 + 4, fl->seq); put32(l4 + 8, 1);
        l4[12] = 5 << 4; l4[13] = 0x18; put16(l4 + 14, 65535);
        fl->seq += l4_len - 20;
        put16(l4 + 16, csum_fold(csum_add(pseudo, l4, 20)));
        break;
    case P_UDP:
        put16(l4, fl->sport); put16(l4 + 2, fl->dport); put16(l4 + 4, l4_len);
        sum = csum_fold(csum_add(pseudo, l4, 8));
        put16(l4 + 6, sum ? sum : 0xffff);
        break;
    default: /* ICMP echo request / ICMPv6 echo request */
        l4[0] = fl->family == 4 ? 8 : 128;
        put16(l4 + 4, fl->sport); put16(l4 + 6, (uint16_t)fl->seq++);
        put16(l4 + 2, csum_fold(csum_add(fl->family == 4 ? 0 : pseudo, l4, 8)));
        break;
    }
    return (size_t)(l4 - f) + l4_hlen;
}

/* ---- output ---- */
#define OUTBUF (8u << 20)
static uint8_t *obuf;
static size_t olen;
static FILE *ofp;
static const char *opath;

static void out_flush(void)
{
    if (olen && fwrite(obuf, 1, olen, ofp) != olen) {
        fprintf(stderr, "gen_trace: %s: write failed: %s\n", opath, strerror(errno));
        exit(1);
    }
    olen = 0;
}

static void usage(FILE *to)
{
    fprintf(to,
        "usage: gen_trace --packets N --out FILE.pcap [--seed N] [--country-db FILE.mmdb]\n"
        "                 [--v6-share 0.1] [--vlan-share 0.1] [--flows N] [--zipf 1.1]\n"
        "                 [--start EPOCH] [--rate PPS] [--snaplen N]\n"
        "Writes a classic pcap (Ethernet) of N IMIX frames whose addresses come from the\n"
        "country database's networks; the same seed gives the same file. --out - is stdout.\n");
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "gen_trace: %s: invalid value '%s' (expected %g..%g)\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    double seed = 1, packets = -1, v6_share = 0.1, vlan_share = 0.1, nflows = 100000, zipf_s = 1.1;
    double start = 1419206400; /* 2014-12-22 00:00 UTC: the day North Korea went dark */
    double rate = 100000, snaplen = 65535;
    const char *db = NULL;
    opath = NULL;
    static const struct option lopts[] = {
        {"seed", 1, 0, 's'}, {"packets", 1, 0, 'n'}, {"out", 1, 0, 'o'}, {"country-db", 1, 0, 'd'},
        {"v6-share", 1, 0, '6'}, {"vlan-share", 1, 0, 'v'}, {"flows", 1, 0, 'f'}, {"zipf", 1, 0, 'z'},
        {"start", 1, 0, 't'}, {"rate", 1, 0, 'r'}, {"snaplen", 1, 0, 'S'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, "s:n:o:d:h", lopts, NULL)) != -1) {
        switch (c) {
        case 's': bad |= parse_num("--seed", optarg, 0, 1e18, &seed); break;
        case 'n': bad |= parse_num("--packets", optarg, 0, 1e10, &packets); break;
        case 'o': opath = optarg; break;
        case 'd': db = optarg; break;
        case '6': bad |= parse_num("--v6-share", optarg, 0, 1, &v6_share); break;
        case 'v': bad |= parse_num("--vlan-share", optarg, 0, 1, &vlan_share); break;
        case 'f': bad |= parse_num("--flows", optarg, 1, 1e8, &nflows); break;
        case 'z': bad |= parse_num("--zipf", optarg, 0, 10, &zipf_s); break;
        case 't': bad |= parse_num("--start", optarg, 0, 4e9, &start); break;
        case 'r': bad |= parse_num("--rate", optarg, 1e-3, 1e10, &rate); break;
        case 'S': bad |= parse_num("--snaplen", optarg, 96, 262144, &snaplen); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (bad) return 2;
    if (optind < argc || packets < 0 || !opath) {
        if (optind < argc) fprintf(stderr, "gen_trace: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!db) db = gt_default_country_db();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[512];
    if (gt_source_mmdb_country(db, &rs, err, sizeof err) != 0) {
        fprintf(stderr, "gen_trace: %s\n", err);
        gt_rangeset_free(&rs);
        return 2;
    }
    /* Drop the IPv6 aliases of IPv4 space (see v6_is_alias). */
    size_t k = 0;
    for (size_t i = 0; i < rs.n6; i++)
        if (!v6_is_alias(rs.v6[i].lo))
            rs.v6[k++] = rs.v6[i];
    rs.n6 = k;
    if (rs.n4 == 0 || (rs.n6 == 0 && v6_share > 0)) {
        fprintf(stderr, "gen_trace: %s: no %s networks with a country\n", db, rs.n4 ? "IPv6" : "IPv4");
        gt_rangeset_free(&rs);
        return 2;
    }
    qsort(rs.v4, rs.n4, sizeof *rs.v4, cmp_r4);
    qsort(rs.v6, rs.n6, sizeof *rs.v6, cmp_r6);
    struct family f4, f6;
    memset(&f6, 0, sizeof f6);
    family_build(&f4, rs.n4, val4, weight4);
    if (rs.n6)
        family_build(&f6, rs.n6, val6, weight6);

    rng_seed((uint64_t)seed);
    size_t nf = (size_t)nflows;
    /* Zipf popularity: flow i (rank i+1) has weight 1/(i+1)^s. */
    double *zcum = xcalloc(nf, sizeof *zcum);
    double tot = 0;
    for (size_t i = 0; i < nf; i++) {
        tot += pow((double)(i + 1), -zipf_s);
        zcum[i] = tot;
    }
    /* The IPv6 and VLAN shares are shares of packets, but a few popular flows
     * carry much of the traffic: assign them by error diffusion over the
     * popularity (v6 in rank order, VLAN in reverse) so the shares hold. */
    uint8_t *is_v6 = xcalloc(nf, 1), *is_vlan = xcalloc(nf, 1);
    double mass = 0, got = 0;
    for (size_t i = 0; i < nf; i++) {
        double p = (zcum[i] - (i ? zcum[i - 1] : 0)) / tot;
        mass += p;
        if (got + p / 2 < v6_share * mass) { is_v6[i] = 1; got += p; }
    }
    mass = got = 0;
    for (size_t i = nf; i-- > 0;) {
        double p = (zcum[i] - (i ? zcum[i - 1] : 0)) / tot;
        mass += p;
        if (got + p / 2 < vlan_share * mass) { is_vlan[i] = 1; got += p; }
    }
    if (!rs.n6)
        memset(is_v6, 0, nf);
    size_t nnet4 = rs.n4, nnet6 = rs.n6, ncc4 = f4.ncc, ncc6 = f6.ncc;

    struct flow *flows = xcalloc(nf, sizeof *flows);
    for (size_t i = 0; i < nf; i++) {
        struct flow *fl = &flows[i];
        fl->family = is_v6[i] ? 6 : 4;
        double u = rng_unit();
        fl->proto = u < 0.75 ? P_TCP : u < 0.96 ? P_UDP : (fl->family == 4 ? P_ICMP : P_ICMP6);
        fl->sport = (uint16_t)(1024 + rng_below(64512));
        fl->dport = fl->proto == P_TCP ? tcp_ports[rng_below(sizeof tcp_ports / 2)]
                                       : udp_ports[rng_below(sizeof udp_ports / 2)];
        fl->seq = (uint32_t)rng_next();
        fl->vlan_tagged = is_vlan[i];
        fl->vlan = (uint16_t)(1 + rng_below(4094));
        if (fl->family == 4) {
            rand_in4(&rs.v4[family_pick(&f4)], &fl->src.v4);
            rand_in4(&rs.v4[family_pick(&f4)], &fl->dst.v4);
        } else {
            rand_in6(&rs.v6[family_pick(&f6)], fl->src.v6);
            rand_in6(&rs.v6[family_pick(&f6)], fl->dst.v6);
        }
        /* Half the flows are the answer direction: server port on the source side. */
        if (rng_next() & 1) {
            uint16_t t = fl->sport; fl->sport = fl->dport; fl->dport = t;
        }
    }

    free(is_v6);
    free(is_vlan);
    family_free(&f4);
    family_free(&f6);
    gt_rangeset_free(&rs);
    ofp = strcmp(opath, "-") == 0 ? stdout : fopen(opath, "wb");
    if (!ofp) {
        fprintf(stderr, "gen_trace: %s: %s\n", opath, strerror(errno));
        free(flows);
        free(zcum);
        return 1;
    }
    obuf = xcalloc(OUTBUF, 1);
    uint32_t hdr[6] = {0xa1b2c3d4u, 2 | (4u << 16), 0, 0, (uint32_t)snaplen, 1 /* DLT_EN10MB */};
    memcpy(obuf, hdr, sizeof hdr);
    olen = sizeof hdr;

    static uint8_t frame[1518]; /* the payload stays zero */
    static const uint32_t imix[12] = {64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518};
    uint64_t n = (uint64_t)packets, bytes = 0, n6 = 0, nvlan = 0;
    uint64_t start_ns = (uint64_t)start * 1000000000ull;
    for (uint64_t i = 0; i < n; i++) {
        size_t fi = pick_cum(zcum, nf, rng_unit() * tot);
        struct flow *fl = &flows[fi];
        uint32_t len = imix[rng_below(12)];
        uint32_t min = 14 + (fl->vlan_tagged ? 4 : 0) + (fl->family == 4 ? 20 : 40) + (fl->proto == P_TCP ? 20 : 8);
        if (len < min) len = min;
        size_t hl = build_frame(frame, fl, len, (uint32_t)fi, (uint16_t)i);
        uint32_t cap = len < (uint32_t)snaplen ? len : (uint32_t)snaplen;
        uint64_t ts = start_ns + (uint64_t)((double)i * 1e9 / rate);
        if (olen + 16 + cap > OUTBUF) out_flush();
        uint32_t rec[4] = {(uint32_t)(ts / 1000000000ull), (uint32_t)(ts % 1000000000ull / 1000), cap, len};
        memcpy(obuf + olen, rec, 16);
        memcpy(obuf + olen + 16, frame, cap);
        olen += 16 + cap;
        memset(frame, 0, hl); /* back to a zero payload for the next, maybe longer, frame */
        bytes += len;
        n6 += fl->family == 6;
        nvlan += fl->vlan_tagged;
    }
    out_flush();
    free(obuf);
    free(flows);
    free(zcum);
    if (ofp != stdout ? fclose(ofp) != 0 : fflush(ofp) != 0) {
        fprintf(stderr, "gen_trace: %s: write failed: %s\n", opath, strerror(errno));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "gen_trace: %llu packets, %llu bytes, %.1f%% IPv6, %.1f%% VLAN, %zu flows, "
            "%zu+%zu networks in %zu+%zu countries, %.2f s\n",
            (unsigned long long)n, (unsigned long long)bytes, n ? 100.0 * (double)n6 / (double)n : 0.0,
            n ? 100.0 * (double)nvlan / (double)n : 0.0, nf, nnet4, nnet6, ncc4, ncc6, secs);
    return 0;
}
