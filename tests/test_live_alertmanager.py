#!/usr/bin/python3
"""geotap live --alertmanager against a real Alertmanager (Debian
prometheus-alertmanager) on a loopback port with a generated config.

The detector needs 30 minutes of history before it decides, so a state is
learned first: `geotap analyze --state` of a synthetic capture of GB, SE and US
(Poisson, 30 packets/s each) ending now. geotap live (1 s bins, that state)
captures a veth pair fed by tcpreplay from a network namespace with a capture
in which SE goes silent from 5 s to 20 s while GB and US go on. Oracles: the
capture's own content (which country is silent) with the arrival times of its
frames on the interface (an AF_PACKET socket of the test: SE's last frame
before the silence) and Alertmanager's API (GET /api/v2/alerts):
  - a drop_to_zero alert for SE with labels alertname, country, sensor, cause
    and startsAt at SE's last packet (within the replay's jitter); none for GB, US;
  - Alertmanager is stopped before the drop and restarted 3.5 s into SE's
    silence, after the drop: the alert still arrives (retried), while SE is
    still silent;
  - SE's return resolves it (gone from the active alerts);
  - a webhook receiver (http.server here) gets SE's drop_to_zero and restored
    event JSON, in that order, and nothing for GB or US;
  - the sensor's summary counts the failed posts and drops nothing.
Skips (77) without root/netns/tcpreplay, or without Alertmanager except
under CI=true (then it fails). About 30 s."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402

SENSOR = "tap-test-1"
SILENT_FROM, SILENT_TO, END = 5.0, 20.0, 24.0


def main():
    am_bin = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not am_bin:
        L.skip("prometheus-alertmanager not installed (scripts/setup installs it)")
    n = L.Netns("gtam")
    am = None
    try:
        for cc in ("GB", "SE", "US"):
            if L.lookup_cc(L.TEST_DB, L.SRC[cc]) != cc:
                L.skip("test DB: %s is not %s" % (L.SRC[cc], cc))
        port = L.free_port()
        url = "http://127.0.0.1:%d" % port
        cfg = n.path("am.yml")
        with open(cfg, "w") as f:
            f.write("route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n- name: none\n")

        def start_am():
            p = L.start_alertmanager(am_bin, cfg, n.path("am-data"), port, n.path("am.log"))
            n.procs.append(p)
            return p

        def alerts():
            with urllib.request.urlopen(url + "/api/v2/alerts", timeout=5) as r:
                return [a for a in json.load(r) if a["status"]["state"] == "active"]

        # the learned state: 1900 s of all three countries, ending now
        now = time.time()
        train = L.scenario(now - 1900, {cc: [(0, 1900)] for cc in ("GB", "SE", "US")}, 30, 1)
        L.write_pcap(n.path("train.pcap"), train)
        state = n.path("state")
        r = subprocess.run([L.GEOTAP, "analyze", "-q", "--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME,
                            "--state", state, "-o", "/dev/null", n.path("train.pcap")], capture_output=True, text=True)
        check(r.returncode == 0 and os.path.getsize(state) > 0, "analyze --state learned a state (%s)" % r.stderr.strip())

        frames = L.scenario(0, {"GB": [(0, END)], "US": [(0, END)], "SE": [(0, SILENT_FROM), (SILENT_TO, END)]}, 30, 2)
        L.write_pcap(n.path("replay.pcap"), frames)

        hook, hooked = L.webhook_receiver()

        am = start_am()
        live = n.live(["--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME, "--state", state,
                       "--alertmanager", url, "--webhook", "http://127.0.0.1:%d/geotap" % hook.server_address[1],
                       "--sensor", SENSOR, "--format", "csv", "-o", "/dev/null"])
        sniff = L.Sniffer(n.a)
        replay = n.replay_bg(n.path("replay.pcap"))
        t0 = sniff.first()          # the replay's first frame
        if not check(t0 is not None, "the replay's frames arrive"):
            return
        time.sleep(max(0, t0 + SILENT_FROM - 3 - time.time()))
        check(not [a for a in alerts() if a["labels"]["alertname"] == "drop_to_zero"],
              "no drop_to_zero alert before the silence")
        am.send_signal(signal.SIGTERM)
        am.wait(timeout=20)
        # down through the drop (declared 1-2 s into SE's silence), up again 3.5 s into it
        end = time.time() + 30
        while time.time() < end and not (sniff.seen and time.time() - sniff.last_from(L.SRC["SE"]) > 3.5):
            time.sleep(0.05)
        am = start_am()
        got = None
        se_last = sniff.last_from(L.SRC["SE"]) - t0
        while not sniff.last_from(L.SRC["SE"]) - t0 > se_last and not got:
            got = [a for a in alerts() if a["labels"].get("country") == "SE"]
            time.sleep(0.2)
        check(bool(got), "the SE alert arrived after Alertmanager's restart, while SE is silent (%.1f s into the replay)"
              % (time.time() - t0))
        if got:
            a = got[0]
            want = {"alertname": "drop_to_zero", "country": "SE", "sensor": SENSOR, "cause": "unknown"}
            check(a["labels"] == want, "labels %r == %r" % (a["labels"], want))
            starts = L.parse_time(a["startsAt"])
            check(abs(starts - (t0 + se_last)) < 0.25,
                  "startsAt %s is SE's last frame before the silence, %.2f s into the replay (got %.2f s)"
                  % (a["startsAt"], se_last, starts - t0))
            check("SE" in a["annotations"].get("summary", ""), "summary %r" % a["annotations"])
        others = [a for a in alerts()
                  if a["labels"]["alertname"] == "drop_to_zero" and a["labels"].get("country") != "SE"]
        check(not others, "no alert for GB or US: %r" % others)
        # SE comes back: resolved
        resolved = False
        end = None
        while not resolved and (end is None or time.time() < end):
            resolved = not [a for a in alerts() if a["labels"].get("country") == "SE"]
            if end is None and replay.poll() is not None:
                end = time.time() + 10
            time.sleep(0.3)
        back = [x for x, src in list(sniff.seen) if src == L.SRC["SE"] and x > t0 + se_last + 1]
        check(resolved and back, "SE's return (%.1f s) resolved the alert (%.1f s)"
              % ((back[0] - t0) if back else -1, time.time() - t0))
        replay.wait(timeout=60)
        sniff.stop()
        rc = n.stop(live)
        err = n.log("live")
        print(err)
        check(rc == 0, "geotap live exit %r" % rc)
        line = [x for x in err.splitlines() if x.startswith("geotap live: alerts:")]
        f = line[0].split() if line else []
        check(len(f) > 10 and int(f[3]) >= 2 and int(f[8]) > 0 and int(f[11]) == 0,
              "summary %r: >= 2 events queued, posts failed while Alertmanager was down, none dropped" % line)
        check(L.summary_frames(err) == len(frames), "live counted the %d frames sent" % len(frames))
        hook.shutdown()
        got = [(e["type"], e.get("key")) for e in hooked if e["type"] in ("drop_to_zero", "restored")]
        check(got == [("drop_to_zero", {"country": "SE"}), ("restored", {"country": "SE"})],
              "webhook: SE's drop then restored, nothing else: %r" % got)
    finally:
        if am and am.poll() is None:
            am.send_signal(signal.SIGTERM)
            am.wait(timeout=20)
        n.close()
    L.finish()


main()
