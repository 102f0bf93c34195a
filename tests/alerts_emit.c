/* Test hook for alert delivery: feeds hand-made detector events to gt_alerts
 * from commands on stdin, so a test can drive a real Alertmanager.
 *   alerts_emit [--alertmanager URL]... [--webhook URL]... [--sensor NAME]
 *               [--resend S] [--backoff-max S] [--queue N]
 * Commands (times in seconds since the epoch, fractions allowed):
 *   drop CC LAST_SEEN CAUSE       drop_to_zero of country CC (cause: unknown,
 *                                 inside_country, upstream), detected 30 s later
 *   restored CC LAST_SEEN FIRST_SEEN CAUSE
 *   gap START END
 *   flush SECONDS                 prints "flush 0" or "flush -1"
 *   stats                         prints "sent N failed N dropped N queued N"
 * Each command prints "ok" (or its answer) on stdout when done. */
#include "geotap/alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXKEYS 64

static struct gt_key keytab[MAXKEYS];
static struct gt_keys keys = { .dims = GT_DIM_COUNTRY, .keys = keytab };

static uint32_t key_of(const char *cc)
{
    for (uint32_t i = 0; i < keys.nkeys; i++)
        if (!strncmp(keytab[i].cc, cc, 2))
            return i;
    if (keys.nkeys == MAXKEYS)
        return 0;
    memcpy(keytab[keys.nkeys].cc, cc, 2);
    return keys.nkeys++;
}

/* "SECONDS[.FRACTION]" to ns, exactly (a double would round the microseconds). */
static int64_t ns(const char *s)
{
    char *end;
    int64_t v = strtoll(s, &end, 10) * 1000000000LL, scale = 100000000LL;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9' && scale; end++, scale /= 10)
            v += (*end - '0') * scale;
    return v;
}

static enum gt_cause cause_of(const char *s)
{
    if (!strcmp(s, "inside_country")) return GT_CAUSE_INSIDE;
    if (!strcmp(s, "upstream")) return GT_CAUSE_UPSTREAM;
    return GT_CAUSE_UNKNOWN;
}

int main(int argc, char **argv)
{
    const char *am[GT_ALERTS_MAX_RECEIVERS], *hook[GT_ALERTS_MAX_RECEIVERS];
    struct gt_alerts_opts o = { .alertmanagers = am, .webhooks = hook };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--alertmanager") && o.nalertmanagers < GT_ALERTS_MAX_RECEIVERS)
            am[o.nalertmanagers++] = argv[i + 1];
        else if (!strcmp(argv[i], "--webhook") && o.nwebhooks < GT_ALERTS_MAX_RECEIVERS)
            hook[o.nwebhooks++] = argv[i + 1];
        else if (!strcmp(argv[i], "--sensor"))
            o.sensor = argv[i + 1];
        else if (!strcmp(argv[i], "--resend"))
            o.resend_s = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--backoff-max"))
            o.backoff_max_s = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--queue"))
            o.queue_len = (uint32_t)atoi(argv[i + 1]);
        else {
            fprintf(stderr, "alerts_emit: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    o.backoff_min_s = 0.1;
    char err[256];
    gt_alerts *a = gt_alerts_new(&o, err, sizeof err);
    if (!a) {
        fprintf(stderr, "alerts_emit: %s\n", err);
        return 1;
    }
    char line[512], w[5][64];
    while (fgets(line, sizeof line, stdin)) {
        int n = sscanf(line, "%63s %63s %63s %63s %63s", w[0], w[1], w[2], w[3], w[4]);
        struct gt_event ev = { .upstream_ratio = -1, .expected_rate = 2.5, .threshold = 17.4 };
        if (n >= 4 && !strcmp(w[0], "drop")) {
            ev.type = GT_EV_DROP_TO_ZERO;
            ev.key = key_of(w[1]);
            ev.last_seen_ns = ns(w[2]);
            ev.detected_ns = ev.last_seen_ns + 30000000000LL;
            ev.silence_s = 30;
            ev.expected_count = 75;
            ev.cause = cause_of(w[3]);
        } else if (n >= 5 && !strcmp(w[0], "restored")) {
            ev.type = GT_EV_RESTORED;
            ev.key = key_of(w[1]);
            ev.last_seen_ns = ns(w[2]);
            ev.first_seen_ns = ns(w[3]);
            ev.detected_ns = ev.first_seen_ns;
            ev.duration_s = (double)(ev.first_seen_ns - ev.last_seen_ns) / 1e9;
            ev.cause = cause_of(w[4]);
        } else if (n >= 3 && !strcmp(w[0], "gap")) {
            ev.type = GT_EV_CAPTURE_GAP;
            ev.key = GT_NO_KEY;
            ev.last_seen_ns = ns(w[1]);
            ev.first_seen_ns = ns(w[2]);
            ev.detected_ns = ev.first_seen_ns;
            ev.duration_s = (double)(ev.first_seen_ns - ev.last_seen_ns) / 1e9;
            ev.gap_reason = GT_GAP_SILENCE;
        } else if (n >= 2 && !strcmp(w[0], "flush")) {
            printf("flush %d\n", gt_alerts_flush(a, atof(w[1])));
            fflush(stdout);
            continue;
        } else if (n >= 1 && !strcmp(w[0], "stats")) {
            struct gt_alerts_stats st;
            gt_alerts_stats(a, &st);
            printf("sent %llu failed %llu dropped %llu queued %llu\n", (unsigned long long)st.sent,
                   (unsigned long long)st.failed, (unsigned long long)st.dropped,
                   (unsigned long long)st.queued);
            fflush(stdout);
            continue;
        } else {
            fprintf(stderr, "alerts_emit: bad command: %s", line);
            printf("error\n");
            fflush(stdout);
            continue;
        }
        printf("%s\n", gt_alerts_event(a, &keys, NULL, NULL, &ev) ? "dropped" : "ok");
        fflush(stdout);
    }
    struct gt_alerts_stats st;
    gt_alerts_free(a, &st);
    printf("final sent %llu failed %llu dropped %llu\n", (unsigned long long)st.sent,
           (unsigned long long)st.failed, (unsigned long long)st.dropped);
    return 0;
}
