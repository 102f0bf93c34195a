#!/usr/bin/env python3
"""Shipped deployment files, checked by the tools that consume them.
  test_dist.py prometheus METRIC_DUMP  promtool check rules dist/alerts.yml,
      promtool test rules dist/alerts_test.yml, promtool check metrics on a
      sample of every metric of metric_names.h (naming conventions), and every
      geotap_* name alerts.yml uses is one of them.
  test_dist.py systemd UNIT GEOTAP_BIN [WATCH_UNIT]  systemd-analyze verify
      of the built geotap.service (and geotap-watch.service; ExecStart pointed
      at the built binary): no complaint; a broken copy must draw complaints,
      so the check can fail.
Skips (77) when the tool is missing or cannot run here, saying why; under
CI=true a missing tool fails."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("GEOTAP_SRC", os.path.join(os.path.dirname(__file__), ".."))
DIST = os.path.join(SRC, "dist")
failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg, file=sys.stderr)


def need(tool, package):
    path = shutil.which(tool)
    if path:
        return path
    msg = "%s not installed (Debian package %s; scripts/setup installs it)" % (tool, package)
    if os.environ.get("CI") == "true":
        print("FAIL:", msg, file=sys.stderr)
        sys.exit(1)
    print("SKIP:", msg)
    sys.exit(77)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def prometheus(dump):
    promtool = need("promtool", "prometheus")
    r = run([promtool, "check", "rules", os.path.join(DIST, "alerts.yml")])
    check(r.returncode == 0 and "SUCCESS" in r.stdout, "check rules:\n" + r.stdout + r.stderr)
    r = run([promtool, "test", "rules", "alerts_test.yml"], cwd=DIST)
    check(r.returncode == 0 and "SUCCESS" in r.stdout, "test rules:\n" + r.stdout + r.stderr)
    sample = run([dump]).stdout
    names = set(re.findall(r"^# TYPE (\S+) ", sample, re.M))
    check(len(names) >= 15, "metric table has %d names" % len(names))
    r = run([promtool, "check", "metrics"], input=sample)
    check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
          "check metrics (naming conventions):\n" + r.stdout + r.stderr)
    for m in re.finditer(r"^# TYPE (\S+) (\S+)", sample, re.M):
        check((m.group(2) == "counter") == m.group(1).endswith("_total"),
              "%s: counters and only counters end in _total" % m.group(1))
    used = set(re.findall(r"\b(geotap_[a-z_]+)", open(os.path.join(DIST, "alerts.yml")).read()))
    check(used and used <= names, "alerts.yml uses metrics not in metric_names.h: %s" % sorted(used - names))
    # a rule on a misspelt metric must be caught by this check
    check("geotap_key_states" not in names, "control name present")


def systemd(unit, geotap_bin, watch_unit=None):
    sa = need("systemd-analyze", "systemd")
    tmp = tempfile.mkdtemp(prefix="geotap-unit-")
    try:
        text = open(unit).read()
        for d in ("Type=notify", "User=geotap", "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN",
                  "ProtectSystem=strict", "StateDirectory=geotap", "ExecReload=/bin/kill -HUP $MAINPID"):
            check(re.search("^" + re.escape(d) + "$", text, re.M), "geotap.service lacks " + d)
        # verify wants ExecStart's binary to exist: the built one
        text = re.sub(r"^ExecStart=\S+", "ExecStart=" + geotap_bin, text, flags=re.M)
        good = os.path.join(tmp, "geotap.service")
        open(good, "w").write(text)
        bad = os.path.join(tmp, "geotap-bad.service")
        open(bad, "w").write(text.replace("ProtectSystem=strict", "ProtectSystem=stricter"))
        rb = run([sa, "verify", bad])
        if "stricter" not in rb.stdout + rb.stderr:
            print("SKIP: systemd-analyze verify does not report a bad unit in this container:",
                  (rb.stdout + rb.stderr).strip()[:300])
            sys.exit(77)
        r = run([sa, "verify", good])
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not out, "systemd-analyze verify geotap.service:\n" + out)
        if watch_unit:
            text = open(watch_unit).read()
            check(re.search(r"^ExecStart=\S+ watch --config \S+$", text, re.M), "geotap-watch.service runs watch --config")
            text = re.sub(r"^ExecStart=\S+", "ExecStart=" + geotap_bin, text, flags=re.M)
            w = os.path.join(tmp, "geotap-watch.service")
            open(w, "w").write(text)
            r = run([sa, "verify", w])
            out = (r.stdout + r.stderr).strip()
            check(r.returncode == 0 and not out, "systemd-analyze verify geotap-watch.service:\n" + out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if sys.argv[1] == "prometheus":
    prometheus(sys.argv[2])
else:
    systemd(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
print("FAILED: %d" % failures if failures else "all checks passed")
sys.exit(1 if failures else 0)
