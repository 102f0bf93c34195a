#!/usr/bin/env python3
"""geotap watch as a service (issue 15): its own /metrics scraped by a real
Prometheus, its alerts delivered to a real Alertmanager (Debian
prometheus-alertmanager), live against a real VictoriaMetrics; all three
started here on free loopback ports and stopped at the end. About 80 s of
real time (suite realtime).

Data: Poisson traffic of GB, SE and US (20 packets/s each, 1 s bins) from
1900 s before the live part to 70 s into it, written as a capture and split
by flow into two sensors s0 and s1 (s1 carries all of US), each analysed by
geotap analyze; their metrics (tests/fleet_data.py render) are imported into
VictoriaMetrics ahead of time, so the live watcher reads each bin as the
wall clock reaches it. SE is silent from 14 s to 26 s into the live part; s1
is not scraped (up = 0, no samples) from 32 s to 36 s. A replay
(--from/--to, the same store) learns the detector's state first; then
geotap watch runs live with --state, --listen, --alertmanager.

Oracles:
  - Alertmanager's API (GET /api/v2/alerts): an active drop_to_zero alert
    with labels {alertname, country SE, sensor = the watcher's name, cause}
    and startsAt = SE's last packet before the silence (the capture's frames,
    written here); none for GB, nor for US while s1 is down; and the
    notifications Alertmanager itself sends to a webhook receiver here
    (send_resolved): SE firing, then resolved with endsAt = SE's first
    packet back;
  - Prometheus's scrapes of watch's /metrics (instant and range queries on
    job "watch"): the fleet's packets per country and direction equal the
    capture's frames in the bins counted (its bins_total and last bin end),
    s0 and s1 up with no gap before s1's outage, then s1 up = 0 with US
    held and one sensor gap; one drop_to_zero and one restored event, no
    capture_gap (the live watcher goes on from the replay's last bin, the
    --to given: its first bins row); state
    saves while running (and the state file's mtime); after
    VictoriaMetrics is stopped, query failures counted and the last good
    read before the stop; at exit, a watch_gap event from then on; a SIGHUP
    does not end it.
Missing servers skip (77), or fail under CI=true.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402
import test_fleet as F  # noqa: E402

NAME = "fleet-test"
HIST = 1900                 # s of history before the live part (the detector warms up over 30 min)
PREP = 25                   # s from now until the live part starts (data, import, state)
SE_OFF, SE_ON = 14, 26      # SE's silence, s into the live part
S1_DOWN, S1_UP = 32, 36     # s1 not scraped
END = 70                    # the data's end, s into the live part
RATE = 20


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def prom_query(prom, q, t=None):
    u = prom + "/api/v1/query?query=" + urllib.parse.quote(q) + ("&time=%.3f" % t if t else "")
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in get(u)["data"]["result"]}


def prom_range(prom, q, a, b):
    u = prom + "/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=1" % (urllib.parse.quote(q), a, b)
    return {tuple(sorted(r["metric"].items())): [float(v) for _, v in r["values"]] for r in get(u)["data"]["result"]}


def one(d):
    return list(d.values())[0] if len(d) == 1 else None


def main():
    am_bin = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    missing = [n for n, p in (("prometheus-alertmanager", am_bin), ("prometheus", shutil.which("prometheus")),
                              ("promtool", shutil.which("promtool")),
                              ("victoria-metrics", shutil.which("victoria-metrics")),
                              ("mmdblookup", shutil.which("mmdblookup"))) if not p]
    if missing:
        L.skip("missing %s (scripts/setup installs them)" % missing)
    tmp = tempfile.mkdtemp(prefix="gt-fleet-svc.")
    srv = F.Servers()
    procs = []
    try:
        run_test(tmp, srv, procs, am_bin)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    L.finish()


def data(tmp, l0):
    """The capture, the two sensors' csv and their metrics in the store's text format."""
    for cc in ("GB", "SE", "US"):
        if L.lookup_cc(L.TEST_DB, L.SRC[cc]) != cc:
            L.skip("test DB: %s is not %s" % (L.SRC[cc], cc))
    t0 = l0 - HIST
    spans = {"GB": [(0, HIST + END)], "US": [(0, HIST + END)],
             "SE": [(0, HIST + SE_OFF), (HIST + SE_ON, HIST + END)]}
    frames = L.scenario(t0, spans, RATE, 5)
    pcap = os.path.join(tmp, "all.pcap")
    L.write_pcap(pcap, frames)
    cc = os.path.join(tmp, "cc.txt")
    with open(cc, "w") as f:
        for c in ("GB", "SE", "US"):
            f.write("%s %s\n" % (L.SRC[c], c))
        f.write("192.0.2.10 ZZ\n")
    F.run(sys.executable, os.path.join(F.SRC, "tests", "fleet_data.py"), "split", pcap, cc,
          os.path.join(tmp, "s"), "2", "--only", "1:US")
    sens = []
    for i in range(2):
        p = os.path.join(tmp, "s%d" % i)
        F.run(L.GEOTAP, "analyze", "-q", "--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME,
              "-o", p + ".csv", p + ".pcap")
        sens.append("s%d=%s.csv" % (i, p))
    om, prom = os.path.join(tmp, "m.om"), os.path.join(tmp, "m.prom")
    print(F.run(sys.executable, os.path.join(F.SRC, "tests", "fleet_data.py"), "render", om, prom, *sens,
                "--down", "s1:%d:%d" % (l0 + S1_DOWN, l0 + S1_UP)).strip())
    return frames, prom


def alertmanager(tmp, am_bin, procs):
    """A real Alertmanager notifying a webhook here (firing and resolved)."""
    hook, got = L.webhook_receiver()
    port = L.free_port()
    cfg = os.path.join(tmp, "am.yml")
    with open(cfg, "w") as f:
        f.write("route:\n  receiver: hook\n  group_by: [alertname, country]\n  group_wait: 1s\n"
                "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: hook\n  webhook_configs:\n"
                "  - url: http://127.0.0.1:%d/am\n    send_resolved: true\n" % hook.server_address[1])
    procs.append(L.start_alertmanager(am_bin, cfg, os.path.join(tmp, "am-data"), port, os.path.join(tmp, "am.log")))
    return "http://127.0.0.1:%d" % port, got, hook


def prometheus(tmp, target, procs):
    """A real Prometheus scraping watch's /metrics every second (job watch)."""
    d = os.path.join(tmp, "prom")
    os.mkdir(d)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n"
                "  - job_name: watch\n    static_configs:\n      - targets: ['%s']\n" % target)
    port = L.free_port()
    p = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + d,
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=open(os.path.join(tmp, "prom.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    url = "http://127.0.0.1:%d" % port
    F.wait_http(url + "/-/ready", p, "prometheus")
    return url


def sleep_until(t):
    time.sleep(max(0.0, t - time.time()))


def run_test(tmp, srv, procs, am_bin):
    l0 = int(time.time()) + PREP
    frames, prom_text = data(tmp, l0)
    vm = srv.victoria(tmp, prom_text)
    state = os.path.join(tmp, "state")
    # the detector's state, learned by a replay of the history
    t = time.time()
    learned_to = int(time.time()) - 3
    F.run(L.GEOTAP, "watch", "--prometheus", vm, "--bin", "1", "--lag", "0", "--from", str(l0 - HIST),
          "--to", str(learned_to), "--state", state, "--name", NAME)
    check(os.path.getsize(state) > 0, "watch --from/--to learned a state (%.1f s)" % (time.time() - t))
    am, notified, hook = alertmanager(tmp, am_bin, procs)
    wport = L.free_port()
    prom = prometheus(tmp, "127.0.0.1:%d" % wport, procs)
    if not check(time.time() < l0 + 8, "set up %.1f s before the live part's SE silence" % (l0 + SE_OFF - time.time())):
        return
    ev, err = os.path.join(tmp, "watch.ev"), open(os.path.join(tmp, "watch.err"), "w")
    w = subprocess.Popen([L.GEOTAP, "watch", "--prometheus", vm, "--bin", "1", "--lag", "0", "--delay", "2",
                          "--lookback", "3600", "--state", state, "--state-interval", "5",
                          "--listen", "127.0.0.1:%d" % wport, "--alertmanager", am, "--name", NAME,
                          "--events", ev, "-o", os.path.join(tmp, "watch.csv")], stderr=err)
    procs.append(w)
    started = time.time()

    def alerts():
        return [a for a in get(am + "/api/v2/alerts") if a["status"]["state"] == "active"
                and a["labels"]["alertname"] == "drop_to_zero"]

    se_last = max(t for t, s, _ in frames if s == L.SRC["SE"] and t < l0 + SE_OFF)
    se_back = min(t for t, s, _ in frames if s == L.SRC["SE"] and t >= l0 + SE_ON)
    # SE's drop: active in Alertmanager while SE is silent
    got = None
    while time.time() < l0 + SE_ON and not got:
        got = [a for a in alerts() if a["labels"].get("country") == "SE"]
        time.sleep(0.3)
    check(bool(got), "Alertmanager has SE's drop_to_zero while SE is silent (%.1f s into the silence)"
          % (time.time() - l0 - SE_OFF))
    if got:
        a = got[0]
        want = {"alertname": "drop_to_zero", "country": "SE", "sensor": NAME, "cause": "unknown"}
        check(a["labels"] == want, "labels %r == %r" % (a["labels"], want))
        st = L.parse_time(a["startsAt"])
        check(abs(st - se_last) < 0.02, "startsAt %s = SE's last packet %.3f (%+.3f s)" % (a["startsAt"], se_last, st - se_last))
    # SE back: resolved (gone from the active alerts; Alertmanager notifies it)
    end = l0 + SE_ON + 15
    resolved = None
    while time.time() < end and not resolved:
        resolved = [x for n in notified for x in n["alerts"]
                    if x["labels"].get("country") == "SE" and x["status"] == "resolved"]
        time.sleep(0.3)
    check(bool(resolved), "Alertmanager notified SE's drop resolved (%.1f s after SE's return)" % (time.time() - se_back))
    if resolved:
        en = L.parse_time(resolved[0]["endsAt"])
        check(abs(en - se_back) < 0.02, "endsAt %s = SE's first packet back %.3f (%+.3f s)"
              % (resolved[0]["endsAt"], se_back, en - se_back))
        check(abs(L.parse_time(resolved[0]["startsAt"]) - se_last) < 0.02, "the resolved alert keeps its startsAt")
    firing = [x["labels"].get("country") for n in notified for x in n["alerts"]
              if x["status"] == "firing" and x["labels"]["alertname"] == "drop_to_zero"]
    check(firing and set(firing) == {"SE"}, "Alertmanager notified firing drops of SE only: %r" % firing)
    check(not [a for a in alerts() if a["labels"].get("country") == "SE"], "no active SE alert after its return")

    # watch's /metrics as Prometheus scraped it
    sleep_until(l0 + S1_UP + 10)
    q = lambda e, t=None: prom_query(prom, e, t)  # noqa: E731
    check(one(q('up{job="watch"}')) == 1, "Prometheus scrapes watch's /metrics")
    snap = {}
    for e in ('geotap_fleet_packets_total', 'geotap_fleet_bins_total', 'geotap_fleet_last_bin_end_timestamp_seconds'):
        snap.update({(e,) + k: v for k, v in q(e).items()})
    bins = [v for k, v in snap.items() if k[0] == 'geotap_fleet_bins_total']
    lbe = [v for k, v in snap.items() if k[0] == 'geotap_fleet_last_bin_end_timestamp_seconds']
    if check(len(bins) == 1 and len(lbe) == 1, "bins_total and last_bin_end scraped"):
        a, b = lbe[0] - bins[0], lbe[0]
        want = {}
        for t, s, _ in frames:
            if a <= t < b:
                c = [k for k, v in L.SRC.items() if v == s][0]
                want[c] = want.get(c, 0) + 1
        have = {}
        for k, v in snap.items():
            if k[0] == 'geotap_fleet_packets_total':
                lab = dict(k[1:])
                if v:
                    have[(lab["country"], lab["direction"])] = int(v)
        want = {(c, "from"): n for c, n in want.items()}
        want[("home", "to")] = sum(want.values())      # every frame goes to the home network
        check(have == want and b - a > 20, "fleet packets per country over the %d bins [%d, %d) = the capture's: %r vs %r"
              % (bins[0], a, b, have, want))
    st = {dict(k)["sensor"]: v for k, v in q('geotap_watch_sensor_up').items()}
    check(set(st) == {"s0", "s1"}, "sensors named from the store: %r" % sorted(st))
    r_up = prom_range(prom, 'geotap_watch_sensor_up{sensor="s1"}', l0 + S1_DOWN - 4, l0 + S1_UP + 9)
    r_held = prom_range(prom, 'geotap_watch_sensor_held_keys{sensor="s1"}', l0 + S1_DOWN - 4, l0 + S1_UP + 9)
    vals_up, vals_held = one(r_up) or [], one(r_held) or []
    check(vals_up and vals_up[0] == 1 and 0 in vals_up and vals_up[-1] == 1,
          "s1 up, then down (up = 0) while not scraped, then up: %r" % vals_up)
    check(vals_held and max(vals_held) >= 1 and vals_held[0] == 0 and vals_held[-1] == 0,
          "s1's keys held (US) while it was down: %r" % vals_held)
    gaps = {dict(k)["sensor"]: v for k, v in q('geotap_watch_sensor_gaps_total').items()}
    check(gaps == {"s0": 0, "s1": 1}, "one sensor gap, of s1: %r" % gaps)
    us = [a for a in alerts() if a["labels"].get("country") in ("US", "GB")]
    check(not us, "no drop_to_zero alert for GB or US (US held while s1 was down): %r" % us)
    evs = {dict(k)["type"]: v for k, v in q('geotap_fleet_events_total').items()}
    check(evs.get("drop_to_zero") == 1 and evs.get("restored") == 1,
          "events counted: one drop_to_zero and one restored (%r)" % evs)
    # the restart from the state: read on from the replay's last bin, no gap
    with open(os.path.join(tmp, "watch.csv")) as f:
        first = next(csv.DictReader(f))["time"]
    check(L.parse_time(first) == learned_to and evs.get("capture_gap", 0) == 0
          and not [x for n in notified for x in n["alerts"] if x["labels"]["alertname"] == "capture_gap"],
          "restarted from the state: the first bin is the replay's last end (%s, %+.0f s) and no capture_gap "
          "event or alert (%r)" % (first, L.parse_time(first) - learned_to, evs))
    check((one(q('geotap_alerts_sent_total')) or 0) >= 2, "alert posts counted as sent")
    saves = one(q('geotap_state_saves_total{result="success"}')) or 0
    check(saves >= 2 and os.path.getmtime(state) > started, "state saved while running: %d saves, file %.1f s old"
          % (saves, time.time() - os.path.getmtime(state)))
    # the exposition as promtool lints it
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % wport, timeout=5) as r:
        body = r.read()
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
    check(lint.returncode == 0 and b"geotap_fleet_packets_total{" in body,
          "promtool check metrics of watch's /metrics (%d bytes): %s" % (len(body), (lint.stdout + lint.stderr).decode()[-300:]))
    # a service manager's reload: the watcher says it reads its configuration at start only, and goes on
    w.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    check(w.poll() is None and "read at start only" in open(os.path.join(tmp, "watch.err")).read(),
          "SIGHUP: watch goes on and says why")
    # the store stops answering
    vmp = [p for p in srv.procs if p.poll() is None and "victoria" in " ".join(p.args)]
    tk = time.time()
    for p in vmp:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    time.sleep(4)
    fails = one(q('geotap_watch_query_failures_total')) or 0
    last_ok = one(q('geotap_watch_last_success_timestamp_seconds')) or 0
    check(fails >= 1, "query failures counted after the store stopped: %d" % fails)
    check(tk - 3 <= last_ok <= tk, "last good read %.1f s before the store stopped" % (tk - last_ok))
    w.send_signal(signal.SIGTERM)
    rc = w.wait(timeout=30)
    err.close()
    check(rc == 0, "watch exit %r (%s)" % (rc, open(os.path.join(tmp, "watch.err")).read()[-500:]))
    wg = [json.loads(x) for x in open(ev) if '"watch_gap"' in x]
    check(len(wg) == 1 and wg[0]["watcher"] == NAME and abs(L.parse_time(wg[0]["start"]) - tk) < 6,
          "one watch_gap from the store's stop: %r" % wg)
    hook.shutdown()


if __name__ == "__main__":
    main()
