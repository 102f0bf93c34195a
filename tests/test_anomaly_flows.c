/* Unit tests of the anomaly module on flow-clustered keys and on times far
 * from the epoch; expectations from the model's formula computed here
 * (Lthr = ln(K * 86400 / w / B), silence ~ Lthr / mu), not from its output. */
#include "anomaly_sim.h"

/* Flow-clustered keys: flow starts Poisson at mu, each flow 1 packet (40 %)
 * or 2..500 (Pareto 1.3), 0.2 s apart. Judged on packets, a key at 0.05
 * flows/s (0.2-0.3 packets/s) would be declared after ~70 s of silence,
 * which a normal gap between flows exceeds e^-3.5 = 3 % of the time; judged
 * on flow starts: no drop over 24 h, and after the stop one drop once the
 * silence reaches about Lthr / mu (17.4 / 0.05 = 348 s) and within one bin
 * more plus the estimation error. */
static void run_flow_bin(struct sim *s, gt_anomaly *a, int64_t start, double mu, int on, double *next_start)
{
    static double pkt_t[4][4096];
    static int npk[4];
    int64_t s0 = start * NS, e0 = (start + s->w) * NS;
    memset(s->c, 0, sizeof s->c);
    memset(s->first, 0, sizeof s->first);
    memset(s->last, 0, sizeof s->last);
    uint64_t total = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        /* new flows starting in this bin add their packets to the pending list */
        while (on && next_start[i] * NS < e0) {
            double t = next_start[i];
            int size = urand(s) < 0.4 ? 1 : (int)fmin(500, floor(2 * pow(urand(s), -1 / 1.3)));
            for (int j = 0; j < size && npk[i] < 4096; j++) {
                pkt_t[i][npk[i]++] = t;
                t += -0.2 * log(urand(s));
            }
            next_start[i] += -log(urand(s)) / mu;
        }
        /* emit the pending packets of this bin in time order */
        for (;;) {
            int best = -1;
            for (int j = 0; j < npk[i]; j++)
                if (pkt_t[i][j] * NS < e0 && (best < 0 || pkt_t[i][j] < pkt_t[i][best]))
                    best = j;
            if (best < 0)
                break;
            int64_t tn = (int64_t)(pkt_t[i][best] * NS);
            if (tn < s0)
                tn = s0;
            pkt_t[i][best] = pkt_t[i][--npk[i]];
            if (!on)
                continue;           /* an outage cuts the flows in progress */
            if (s->last[i])
                gt_counts_gap(&s->c[i], s->last[i], tn);
            else
                s->first[i] = tn;
            s->last[i] = tn;
            s->c[i].pkts_from++;
            total++;
        }
    }
    struct gt_bin b = { .start = start, .width = s->w, .nkeys = s->n, .counts = s->c,
                        .last_ns = s->last, .first_ns = s->first };
    b.stats.packets = b.stats.ip = total;
    gt_anomaly_bin(a, &b);
}

static void test_flows(void)
{
    struct gt_key kk[2];
    struct gt_keys keys = mkkeys(2, kk);
    struct gt_anomaly_opts o = { .fa_per_day = 0.01, .budget_keys = 250, .on_event = on_ev };
    double lthr = log(250.0 * (86400.0 / 60) / 0.01), mu = 0.05;
    nev = 0;
    gt_anomaly *a = gt_anomaly_new(&o, &keys);
    struct sim s = { .n = 2, .w = 60, .rng = 0x9e3779b97f4a7c15ULL };
    double next[2] = { (double)T0, (double)T0 };
    int64_t t = T0;
    for (; t < T0 + 86400; t += 60)
        run_flow_bin(&s, a, t, mu, 1, next);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, GT_NO_KEY), 0);
    double r = gt_anomaly_expected_rate(a, 0);
    CHECK_MSG(r > 0.7 * mu && r < 1.3 * mu, "flow-start rate %.4f for %.4f", r, mu);
    CHECK(gt_anomaly_expected_packet_rate(a, 0) > 3 * mu);
    /* key 0 starts no more flows (those in progress end); key 1 goes on */
    int64_t stop = t;
    next[0] = 1e18;
    for (int64_t end = t + 3600; t < end; t += 60)
        run_flow_bin(&s, a, t, mu, 1, next);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, 0), 1);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, 1), 0);
    const struct gt_event *d = find(GT_EV_DROP_TO_ZERO, 0);
    if (d) {
        double sil = d->silence_s;
        CHECK_MSG(sil >= 0.7 * lthr / mu && sil <= 1.5 * lthr / mu + 60, "silence %.0f s, Lthr/mu %.0f s", sil,
                  lthr / mu);
        CHECK(d->last_seen_ns < (stop + 600) * NS);
    }
    gt_anomaly_free(a);
}

/* Bins in 2128 (ns times above 2^62: the old midpoint (s + e) / 2 wrapped)
 * are judged like any others; bins whose ns times would wrap (after ~2220,
 * before ~1720) are counted as out of range and ignored. */
static void test_far_times(void)
{
    struct gt_key kk[2];
    struct gt_keys keys = mkkeys(2, kk);
    struct gt_anomaly_opts o = { .fa_per_day = 0.01, .budget_keys = 250, .on_event = on_ev };
    nev = 0;
    gt_anomaly *a = gt_anomaly_new(&o, &keys);
    CHECK(a != NULL);
    struct sim s = { .n = 2, .w = 60, .rng = 88172645463325252ULL };
    const int64_t t2128 = 5000000000LL;        /* 2128-06-11 */
    int64_t t = t2128;
    s.k[0].regular = s.k[1].regular = 1;
    set_rate(&s, 0, 1.0, t * NS);
    set_rate(&s, 1, 5.0, t * NS);
    run(&s, a, &t, 3600);
    set_rate(&s, 0, 0, t * NS);
    run(&s, a, &t, 120);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, 0), 1);
    CHECK_EQ_U(gt_anomaly_out_of_range(a), 0);
    struct gt_counts c[2] = { { 0 } };
    int64_t first[2] = { 0 }, last[2] = { 0 };
    c[1].pkts_from = 1;
    int64_t far[] = { INT64_MAX / NS, INT64_MAX / NS - 60, 9000000000LL, -9000000000LL, INT64_MIN / NS };
    for (unsigned i = 0; i < sizeof far / sizeof far[0]; i++) {
        struct gt_bin b = { .start = far[i], .width = 60, .nkeys = 2, .counts = c, .first_ns = first, .last_ns = last };
        gt_anomaly_bin(a, &b);
    }
    CHECK_EQ_U(gt_anomaly_out_of_range(a), 5);
    CHECK_EQ_U(nev, 1);
    gt_anomaly_free(a);

    /* 1800 then 2100, both in range but 300 years apart (their ns times
     * would wrap when subtracted, UBSan's finding): the detector starts
     * afresh at 2100, with no capture gap or drop for the centuries between,
     * and judges the new traffic once it has learned it again. */
    nev = 0;
    a = gt_anomaly_new(&o, &keys);
    CHECK(a != NULL);
    t = -5364662400LL;                          /* 1800-01-01 */
    set_rate(&s, 0, 1.0, t * NS);
    set_rate(&s, 1, 5.0, t * NS);
    run(&s, a, &t, 3600);
    set_rate(&s, 0, 0, t * NS);                 /* key 0 silent from here */
    t = 4102444800LL;                           /* 2100-01-01 */
    set_rate(&s, 1, 5.0, t * NS);
    run(&s, a, &t, 120);
    CHECK_EQ_U(nev, 0);
    set_rate(&s, 0, 1.0, t * NS);
    run(&s, a, &t, 3600);
    set_rate(&s, 0, 0, t * NS);
    run(&s, a, &t, 120);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, 0), 1);
    CHECK_EQ_U(count_type(GT_EV_CAPTURE_GAP, GT_NO_KEY), 0);
    CHECK_EQ_U(nev, 1);
    gt_anomaly_free(a);
}

/* Not measurable is judged on the rate of flow starts, with the silence a
 * drop needs (Ldec), not on packets or Lthr. Flows of 5 packets 0.2 s apart,
 * one every T s (evenly): the silences past the 5 s flow gap are T - 5.8 s,
 * so mu = 1 / (T - 5.8). K = 250, B = 0.01: Lthr = 17.39, Ldec = max(17.39,
 * 6.5 / 0.3) = 21.67. T = 400: mu = 0.002537/s, Ldec/mu = 8541 s > 7200: not
 * measurable (Lthr/mu = 6855 s and Lthr/packet rate = 1391 s would both have
 * passed). T = 300: mu = 0.003399/s, Ldec/mu = 6374 s: measurable. */
static void test_not_measurable(void)
{
    struct gt_key kk[3];
    struct gt_keys keys = mkkeys(3, kk);
    struct gt_anomaly_opts o = { .fa_per_day = 0.01, .budget_keys = 250, .on_event = on_ev };
    const double period[2] = { 400, 300 }, ldec = 6.5 / 0.3, lthr = log(250.0 * 1440 / 0.01);
    const double mu0 = 1 / (period[0] - 5.8), mu1 = 1 / (period[1] - 5.8);
    CHECK(lthr / mu0 < 7200 && ldec / mu0 > 7200 && ldec / mu1 < 7200 && lthr < ldec);
    nev = 0;
    gt_anomaly *a = gt_anomaly_new(&o, &keys);
    CHECK(a != NULL);
    int64_t t = T0, next[2] = { T0 * NS + NS, T0 * NS + 7 * NS };
    int pk[2] = { 0, 0 };
    for (; t < T0 + 12 * 3600; t += 60) {
        struct gt_counts c[3] = { { 0 } };
        int64_t first[3] = { 0 }, last[3] = { 0 }, e0 = (t + 60) * NS;
        for (int i = 0; i < 2; i++)
            while (next[i] < e0) {
                if (!first[i])
                    first[i] = next[i];
                else
                    gt_counts_gap(&c[i], last[i], next[i]);
                last[i] = next[i];
                c[i].pkts_from++;
                next[i] += ++pk[i] % 5 ? NS / 5 : (int64_t)((period[i] - 0.8) * NS);
            }
        c[2].pkts_to = 600;             /* a busy key keeps the capture alive */
        first[2] = t * NS + 1;
        last[2] = e0 - 1;
        struct gt_bin b = { .start = t, .width = 60, .nkeys = 3, .counts = c, .first_ns = first, .last_ns = last };
        b.stats.packets = c[0].pkts_from + c[1].pkts_from + 600;
        gt_anomaly_bin(a, &b);
    }
    CHECK(fabs(gt_anomaly_threshold(a, 60) - lthr) < 1e-9);
    uint32_t ids[4];
    CHECK_EQ_U(gt_anomaly_not_measurable(a, ids, 4), 1);
    CHECK_EQ_U(ids[0], 0);
    CHECK_EQ_U(count_type(GT_EV_NOT_MEASURABLE, 1), 0);
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, GT_NO_KEY), 0);
    const struct gt_event *e = NULL;
    for (int i = 0; i < nev; i++)
        if (evs[i].type == GT_EV_NOT_MEASURABLE && evs[i].key == 0)
            e = &evs[i];             /* the last one */
    CHECK(e != NULL);
    if (e) {
        CHECK_MSG(fabs(e->threshold - ldec) < 1e-9, "threshold %.3f", e->threshold);
        /* reported when the learned rate fell below Ldec / 7200 */
        CHECK_MSG(ldec / e->expected_rate > 7200, "time to decide %.0f s", ldec / e->expected_rate);
    }
    double r0 = gt_anomaly_expected_rate(a, 0), r1 = gt_anomaly_expected_rate(a, 1);
    CHECK_MSG(fabs(r0 - mu0) < 0.05 * mu0 && fabs(r1 - mu1) < 0.05 * mu1, "rates %.6f %.6f", r0, r1);
    gt_anomaly_free(a);
}

int main(void)
{
    test_far_times();
    test_flows();
    test_not_measurable();
    return check_result();
}
