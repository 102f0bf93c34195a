#!/usr/bin/python3
"""geotap live --state end to end, on a veth pair fed by tcpreplay.

The detector decides nothing before 30 minutes of history, so its first
baseline is learned by `geotap analyze --state` of a synthetic capture (GB,
SE, US, Poisson at 30 packets/s, ending now). Then:
  A. live --state S --state-interval 1 while 3 s of all three are replayed:
     S is rewritten while it runs (a new inode each time: tmp + rename, no
     S.tmp left behind) and once more at SIGTERM (its mtime after the signal);
  B. live --state S (A's file) with a replay in which SE stops after 2 s:
     drop_to_zero for SE within 3 s of its last packet (oracle: the capture's
     own content, SE's last frame);
  C. the same replay with no state: no drop (the detector is still warming
     up), so it was the restored state that decided.
Root only; skips (77) without root, netns or tcpreplay."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402


def events(path):
    try:
        return [json.loads(x) for x in open(path)]
    except OSError:
        return []


def main():
    n = L.Netns("gtst")
    try:
        now = time.time()
        L.write_pcap(n.path("train.pcap"), L.scenario(now - 1900, {cc: [(0, 1900)] for cc in ("GB", "SE", "US")}, 30, 1))
        S = n.path("state")
        r = subprocess.run([L.GEOTAP, "analyze", "-q", "--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME,
                            "--state", S, "-o", "/dev/null", n.path("train.pcap")], capture_output=True, text=True)
        check(r.returncode == 0 and os.path.getsize(S) > 0, "analyze --state: a first baseline")
        base = ["--bin", "1", "--country-db", L.TEST_DB, "--home-net", L.HOME, "--format", "csv", "-o", "/dev/null"]

        # A: saved every second while running, and at SIGTERM
        L.write_pcap(n.path("all.pcap"), L.scenario(0, {cc: [(0, 3)] for cc in ("GB", "SE", "US")}, 30, 2))
        ino0 = os.stat(S).st_ino
        a = n.live(base + ["--state", S, "--state-interval", "1"], name="a")
        n.replay(n.path("all.pcap"))
        st = os.stat(S)
        check(st.st_ino != ino0, "A rewrote the state while running (new inode: written aside and renamed)")
        ino1 = st.st_ino
        t_term = time.time()
        check(n.stop(a) == 0, "A: exit 0 at SIGTERM")
        st = os.stat(S)
        check(st.st_ino != ino1 and st.st_mtime >= t_term - 0.05, "A saved the state at SIGTERM")
        check(not os.path.exists(S + ".tmp"), "no %s left" % os.path.basename(S + ".tmp"))

        frames = L.scenario(0, {"GB": [(0, 6)], "US": [(0, 6)], "SE": [(0, 2)]}, 30, 3)
        L.write_pcap(n.path("drop.pcap"), frames)
        se_last = max(t for t, s, _ in frames if s == L.SRC["SE"]) - frames[0][0]

        def run(name, state_args):
            p = n.live(base + state_args + ["--events", n.path(name + ".ev")], name=name)
            t0 = time.time()
            n.replay(n.path("drop.pcap"))
            time.sleep(0.5)
            rc = n.stop(p)
            return rc, t0, events(n.path(name + ".ev"))

        # B: with A's state, at once
        rc, t0, ev = run("b", ["--state", S])
        drops = [e for e in ev if e["type"] == "drop_to_zero"]
        check(rc == 0, "B: exit 0")
        check([e["key"] for e in drops] == [{"country": "SE"}], "B: one drop, for SE: %r" % drops)
        if drops:
            import datetime
            det = datetime.datetime.fromisoformat(drops[0]["detected"].replace("Z", "+00:00")).timestamp()
            check(det - (t0 + se_last) < 3.0, "B: decided %.1f s after SE's last packet (< 3 s)" % (det - t0 - se_last))
        # C: the same without state: nothing decided yet
        rc, t0, ev = run("c", [])
        check(rc == 0 and not [e for e in ev if e["type"] == "drop_to_zero"],
              "C (no state): no drop yet (warm-up): %r" % ev)
    finally:
        n.close()
    L.finish()


main()
