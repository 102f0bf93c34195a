/* gt_anomaly_hold_key (a fleet sensor down holds the keys it carries): a
 * held key's silence does not grow, nothing is learned from it, no drop is
 * decided; the keys not held are judged as without the hold, and no
 * capture_gap is reported. Expected times are computed here from the
 * model's threshold (Ldec = 6.5 / 0.3 = 21.7 at these rates), not taken
 * from the module. */
#include "anomaly_sim.h"

int main(void)
{
    struct gt_key kk[3];
    struct gt_keys keys = mkkeys(3, kk);
    struct gt_anomaly_opts o = { .fa_per_day = 0.01, .budget_keys = 250, .on_event = on_ev };
    gt_anomaly *a = gt_anomaly_new(&o, &keys);
    CHECK(a != NULL);
    /* AA held, AB not: both 1 packet/s, evenly spaced; AC keeps the capture alive */
    struct sim s = { .n = 3, .w = 60, .rng = 88172645463325252ULL };
    for (uint32_t i = 0; i < 3; i++) {
        s.k[i].regular = 1;
        set_rate(&s, i, i == 2 ? 5.0 : 1.0, T0 * NS);
    }
    int64_t t = T0;
    run(&s, a, &t, 3600);
    CHECK_EQ_U(nev, 0);

    /* five held bins while AA runs at a third of its rate (the part the
     * other sensors see): nothing of them is learned */
    double mu = gt_anomaly_expected_rate(a, 0), fast = gt_anomaly_expected_packet_rate(a, 0);
    set_rate(&s, 0, 1.0 / 3, t * NS);
    for (int i = 0; i < 5; i++) {
        gt_anomaly_hold_key(a, 0);
        run(&s, a, &t, 60);
    }
    CHECK_MSG(gt_anomaly_expected_rate(a, 0) == mu && gt_anomaly_expected_packet_rate(a, 0) == fast,
              "held bins were learned: rate %g -> %g, packets %g -> %g", mu, gt_anomaly_expected_rate(a, 0),
              fast, gt_anomaly_expected_packet_rate(a, 0));
    set_rate(&s, 0, 1.0, t * NS);
    run(&s, a, &t, 600);
    CHECK_EQ_U(nev, 0);

    /* AA and AB fall silent at ts; AA held for 20 bins */
    int64_t ts = t;
    set_rate(&s, 0, 0, ts * NS);
    set_rate(&s, 1, 0, ts * NS);
    for (int i = 0; i < 20; i++) {
        gt_anomaly_hold_key(a, 0);
        run(&s, a, &t, 60);
    }
    /* AB: its last packet within 1 s of ts, so its silence passes 21.7 s in
     * the first bin: declared at ts + 60, as without any hold */
    const struct gt_event *b = find(GT_EV_DROP_TO_ZERO, 1);
    CHECK(b != NULL);
    if (b)
        CHECK_MSG(b->detected_ns == (ts + 60) * NS, "AB declared at %+.0f s", (double)(b->detected_ns / NS - ts));
    CHECK_EQ_U(count_type(GT_EV_DROP_TO_ZERO, 0), 0);
    /* after the hold: AA's silence counts again from where it stood (about
     * 1 s), so the first bin (60 s more) passes 21.7: declared at its end,
     * with its real last packet */
    run(&s, a, &t, 60);
    const struct gt_event *d = find(GT_EV_DROP_TO_ZERO, 0);
    CHECK(d != NULL);
    if (d) {
        CHECK_MSG(d->detected_ns == (ts + 21 * 60) * NS, "AA declared at %+.0f s", (double)(d->detected_ns / NS - ts));
        CHECK(d->last_seen_ns > (ts - 2) * NS && d->last_seen_ns < ts * NS);
        CHECK_MSG(d->expected_count > 60 && d->expected_count < 62.5, "L %.2f: only the silence outside the hold",
                  d->expected_count);
    }
    CHECK_EQ_U(count_type(GT_EV_CAPTURE_GAP, GT_NO_KEY), 0);
    gt_anomaly_free(a);
    return check_result();
}
