#!/usr/bin/env python3
"""Alert delivery against a real Alertmanager (Debian prometheus-alertmanager)
and a webhook receiver (http.server), both on loopback.

tests/alerts_emit (argv[1]) feeds gt_alerts hand-made events. Oracles:
Alertmanager's own API (GET /api/v2/alerts) and the notifications it sends to
its webhook receiver (firing, then resolved), and the JSON our webhook gets,
checked against the times we gave, formatted here.
  - a drop for KP shows as an active alert with the right labels, startsAt =
    last packet, the readable line as summary; restored resolves it (gone from
    the API, Alertmanager notifies "resolved" with endsAt = first packet back);
  - firing alerts are re-sent: endsAt moves forward;
  - Alertmanager stopped, a drop for DE, Alertmanager restarted: DE arrives;
  - a webhook that is down when the event happens gets it once it is up;
  - capture_gap arrives as its own alert.
Skips (77) without the binary, except under CI=true where it fails."""
import datetime
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_service import free_port, parse_time, start_alertmanager  # noqa: E402

EMIT = sys.argv[1]
SENSOR = "test-sensor"


def rfc3339(t):
    """Seconds since the epoch -> RFC 3339 with microseconds, as geotap writes."""
    us = round(t * 1e6)
    d = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


class Receiver:
    """Collects JSON bodies POSTed to it, by path."""

    def __init__(self, port=0):
        got = self.got = []
        cond = self.cond = threading.Condition()

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                with cond:
                    got.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
                    cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def wait(self, pred, timeout, what):
        end = time.time() + timeout
        with self.cond:
            while True:
                for g in self.got:
                    if pred(g):
                        return g
                left = end - time.time()
                if left <= 0:
                    fail("timed out waiting for %s; got %r" % (what, self.got))
                self.cond.wait(left)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


failures = 0


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    cleanup()
    sys.exit(1)


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg, file=sys.stderr)


procs = []
servers = []
tmp = tempfile.mkdtemp(prefix="geotap-am-")


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for s in servers:
        s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


am_bin = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
if not am_bin:
    msg = "prometheus-alertmanager not installed (Debian package prometheus-alertmanager; scripts/setup installs it)"
    if os.environ.get("CI") == "true":
        print("FAIL:", msg, file=sys.stderr)
        sys.exit(1)
    print("SKIP:", msg)
    sys.exit(77)

am_rx = Receiver()          # Alertmanager's notifications
servers.append(am_rx)
am_port = free_port()
am_url = "http://127.0.0.1:%d" % am_port
cfg = os.path.join(tmp, "alertmanager.yml")
with open(cfg, "w") as f:
    f.write("""route:
  receiver: hook
  group_by: ['alertname', 'country']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:%d/am
    send_resolved: true
""" % am_rx.port)


def start_am():
    try:
        p = start_alertmanager(am_bin, cfg, os.path.join(tmp, "data"), am_port, os.path.join(tmp, "am.log"))
    except RuntimeError as e:
        fail(str(e))
    procs.append(p)
    return p


def stop_am(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=20)


def am_alerts():
    with urllib.request.urlopen(am_url + "/api/v2/alerts", timeout=5) as r:
        return json.load(r)


def wait_am(pred, timeout, what):
    end = time.time() + timeout
    while True:
        try:
            al = [a for a in am_alerts() if pred(a)]
            if al:
                return al[0]
        except Exception:
            pass
        if time.time() > end:
            try:
                fail("timed out waiting for %s in /api/v2/alerts: %r" % (what, am_alerts()))
            except Exception as e:
                fail("timed out waiting for %s (%s)" % (what, e))
        time.sleep(0.2)


am = start_am()
hook_port = free_port()     # our webhook: down at first
emit = subprocess.Popen([EMIT, "--alertmanager", am_url, "--webhook", "http://127.0.0.1:%d/hook" % hook_port,
                         "--sensor", SENSOR, "--resend", "2", "--backoff-max", "1"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
procs.append(emit)


def cmd(line):
    emit.stdin.write(line + "\n")
    emit.stdin.flush()
    return emit.stdout.readline().strip()


def labels_are(a, want):
    return a["labels"] == want


now = time.time()
kp_last = round(now - 40.25, 3)
check(cmd("drop KP %.3f inside_country" % kp_last) == "ok", "drop KP queued")
want_kp = {"alertname": "drop_to_zero", "sensor": SENSOR, "country": "KP", "cause": "inside_country"}
a = wait_am(lambda a: a["labels"].get("country") == "KP", 15, "KP firing")
check(labels_are(a, want_kp), "KP labels %r" % a["labels"])
check(abs(parse_time(a["startsAt"]) - kp_last) < 1e-3, "KP startsAt %s vs %s" % (a["startsAt"], rfc3339(kp_last)))
check(a["status"]["state"] == "active", "KP state %r" % a["status"])
summary = a["annotations"].get("summary", "")
check("DROP TO ZERO" in summary and "KP" in summary and "cause inside_country" in summary,
      "KP summary %r" % summary)
n = am_rx.wait(lambda g: g[0] == "/am" and g[2]["status"] == "firing"
               and any(x["labels"].get("country") == "KP" for x in g[2]["alerts"]), 15, "KP firing notification")
check(n[2]["alerts"][0]["labels"] == want_kp, "notified labels %r" % n[2]["alerts"][0]["labels"])

# re-sent while firing: endsAt (now + 4 * resend) moves forward
ends1 = parse_time(a["endsAt"])
time.sleep(3.5)
a2 = wait_am(lambda a: a["labels"].get("country") == "KP", 5, "KP still firing")
check(parse_time(a2["endsAt"]) > ends1 + 1, "KP endsAt did not advance: %s then %s" % (a["endsAt"], a2["endsAt"]))

# restored resolves it, even with another cause found at the restoration
kp_back = round(time.time() - 1.5, 3)
check(cmd("restored KP %.3f %.3f upstream" % (kp_last, kp_back)) == "ok", "restored KP queued")
n = am_rx.wait(lambda g: g[0] == "/am" and g[2]["status"] == "resolved"
               and any(x["labels"].get("country") == "KP" for x in g[2]["alerts"]), 20, "KP resolved notification")
r = [x for x in n[2]["alerts"] if x["labels"].get("country") == "KP"][0]
check(r["labels"] == want_kp, "resolved labels %r" % r["labels"])
check(abs(parse_time(r["endsAt"]) - kp_back) < 1e-3, "resolved endsAt %s vs %s" % (r["endsAt"], rfc3339(kp_back)))
check("RESTORED" in r["annotations"].get("restored", ""), "restored annotation %r" % r["annotations"])
check(not [a for a in am_alerts() if a["labels"].get("country") == "KP"], "KP still listed as active")

# our webhook comes up late: the two events are delivered in order
hook = Receiver(hook_port)
servers.append(hook)
hook.wait(lambda g: g[0] == "/hook" and g[2]["type"] == "restored", 15, "webhook restored")
bodies = [g[2] for g in hook.got if g[0] == "/hook"]
check([b["type"] for b in bodies[:2]] == ["drop_to_zero", "restored"], "webhook order %r" % bodies)
check(all(g[1] == "application/json" for g in hook.got), "webhook Content-Type")
d = bodies[0]
check(d["key"] == {"country": "KP"} and d["last_seen"] == rfc3339(kp_last)
      and d["detected"] == rfc3339(kp_last + 30) and d["cause"] == "inside_country",
      "webhook drop JSON %r (want last_seen %s)" % (d, rfc3339(kp_last)))
rj = bodies[1]
check(rj["first_seen"] == rfc3339(kp_back) and rj["cause"] == "upstream"
      and abs(rj["duration_s"] - round(kp_back - kp_last, 3)) < 1e-3, "webhook restored JSON %r" % rj)

# Alertmanager down: the DE drop waits, retried, and arrives after the restart
stop_am(am)
de_last = round(time.time() - 20, 3)
check(cmd("drop DE %.3f unknown" % de_last) == "ok", "drop DE queued")
check(cmd("flush 1") == "flush -1", "flush with Alertmanager down should time out")
st = cmd("stats").split()
check(int(st[3]) > 0, "failed counter after a down receiver: %r" % st)
time.sleep(1.5)
am = start_am()
a = wait_am(lambda a: a["labels"].get("country") == "DE", 20, "DE after the restart")
check(labels_are(a, {"alertname": "drop_to_zero", "sensor": SENSOR, "country": "DE", "cause": "unknown"}),
      "DE labels %r" % a["labels"])
check(abs(parse_time(a["startsAt"]) - de_last) < 1e-3, "DE startsAt")

# a capture gap: its own alert, from the gap's start
g0, g1 = round(time.time() - 120, 3), round(time.time() - 60, 3)
check(cmd("gap %.3f %.3f" % (g0, g1)) == "ok", "gap queued")
a = wait_am(lambda a: a["labels"].get("alertname") == "capture_gap", 15, "capture_gap")
check(a["labels"] == {"alertname": "capture_gap", "sensor": SENSOR}, "gap labels %r" % a["labels"])
check(abs(parse_time(a["startsAt"]) - g0) < 1e-3, "gap startsAt")
check("CAPTURE GAP" in a["annotations"].get("summary", ""), "gap summary")

check(cmd("flush 10") == "flush 0", "flush with every receiver up")
st = cmd("stats").split()
check(int(st[1]) > 0 and int(st[5]) == 0, "stats %r: sent > 0, dropped 0" % st)
emit.stdin.close()
final = emit.stdout.read().split()
emit.wait(timeout=30)
check(emit.returncode == 0, "alerts_emit exit %r" % emit.returncode)
check(final[:2] == ["final", "sent"] and final[6] == "0", "final %r: nothing dropped" % final)
stop_am(am)
cleanup()
print("%s" % ("FAILED: %d" % failures if failures else "all checks passed"))
sys.exit(1 if failures else 0)
