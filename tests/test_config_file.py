#!/usr/bin/env python3
"""geotap live/analyze --config FILE and --check (issue 14).

  * a bad line N (unknown key, bad value, missing value, a line over 4096
    bytes, no colon, a single-valued key given twice, a command-line-only
    key, a bad yes/no, a bad CIDR) fails with exit 2 and one stderr line
    naming FILE:N; a database that does not open fails --check naming it;
  * flags win over the file; a repeatable key repeats; comments and blank
    lines are skipped; the effective configuration printed by --check equals
    hand-written expectations (value and origin per key), lists every key of
    the usage, and is itself a valid configuration file;
  * analyze --config gives the same counts as the same options as flags;
  * dist/geotap.conf.example is what --print-config-example prints, names
    every key and passes --check;
  * merge and watch take their options from the same table: each bad value
    one stderr line "geotap CMD: --OPT 'VALUE': want ..." and exit 2, an
    unknown option exit 2 naming it; watch --config FILE with a bad line
    names FILE:N; watch --check prints hand-written values and origins; the
    watch example (watch --print-config-example) passes --check.

Exit 0 pass, 1 fail.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli_errors import check, failures  # noqa: E402


def run(*args):
    p = subprocess.run([os.environ["GEOTAP_BIN"], *args], capture_output=True, text=True,
                       errors="replace", stdin=subprocess.DEVNULL, timeout=60, check=False)
    return p.returncode, p.stdout, p.stderr


def effective(text):
    """--check output -> {key: [(value, origin)]}; unset keys have value None."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(#?)([a-z][a-z0-9-]*):\s?(.*?)\s+# (.*)$", line)
        if m:
            out.setdefault(m.group(2), []).append((None if m.group(1) else m.group(3), m.group(4)))
    return out


def usage_keys(cmd):
    """The long options of cmd's usage that are configuration keys."""
    _, out, _ = run(cmd, "--help")
    keys = set(re.findall(r"^  (?:-\w, )?--([a-z][a-z0-9-]*)", out, re.M))
    return keys - {"config", "check", "print-config-example", "help"}


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def merge_watch(tmp):
    bad = [  # (command, args, the one line wanted)
        ("watch", ["--bin", "x"], "geotap watch: --bin 'x': want a whole number from 1 to 86400"),
        ("watch", ["--bin", "0"], "geotap watch: --bin '0': want a whole number from 1 to 86400"),
        ("watch", ["--share", "2"], "geotap watch: --share '2': want a number from 0.01 to 1"),
        ("watch", ["--from", "yesterday"], "geotap watch: --from 'yesterday': want RFC 3339 UTC "
         "(2014-12-22T16:00:00Z) or epoch seconds"),
        ("watch", ["--lag", "-1"], "geotap watch: --lag '-1': want a whole number from 0 to 86400"),
        ("watch", ["--delay", "soon"], "geotap watch: --delay 'soon': want a whole number from 0 to 86400"),
        ("watch", ["--max-hold", "0"], "geotap watch: --max-hold '0': want a whole number from 1 to 3153600000"),
        ("watch", ["--by", "upstream"], "geotap watch: --by 'upstream': want country, asn or country,asn"),
        ("watch", ["--format", "table"], "geotap watch: --format 'table': want csv or jsonl"),
        ("watch", ["--fa-budget", "-1"], "geotap watch: --fa-budget '-1': want a positive number"),
        ("watch", ["--state-interval", "0"], "geotap watch: --state-interval '0': want a whole number from 1 to 86400"),
        ("watch", ["--duration", "x"], "geotap watch: --duration 'x': want a whole number from 1 to 3153600000"),
        ("merge", ["--format", "table"], "geotap merge: --format 'table': want csv or jsonl"),
        ("merge", ["--fa-budget", "0"], "geotap merge: --fa-budget '0': want a positive number"),
    ]
    for cmd, args, want in bad:
        extra = ["--prometheus", "http://127.0.0.1:1"] if cmd == "watch" else ["x.csv"]
        rc, _, err = run(cmd, *args, *extra)
        check(rc == 2 and err == want + "\n", f"{cmd} {' '.join(args)}: exit 2, one line {want!r}: exit {rc}, {err!r}")
    for cmd in ("merge", "watch"):
        rc, _, err = run(cmd, "--no-such-option")
        check(rc == 2 and err.startswith(f"geotap {cmd}: unknown option '--no-such-option'\n"),
              f"{cmd}: an unknown option: exit 2 naming it ({err!r})")
        rc, out, _ = run(cmd, "--help")
        check(rc == 0 and out.startswith(f"usage: geotap {cmd}") and "--fa-budget N" in out, f"{cmd} --help from the table")
    rc, _, err = run("watch", "--bin", "10", "--from", "100", "--to", "50", "--prometheus", "http://127.0.0.1:1")
    check(rc == 2 and "--to must be after --from" in err, f"watch --to before --from: exit 2 ({err!r})")
    # the configuration file
    path = write(tmp, "watch-bad.conf", "prometheus: http://127.0.0.1:9090\n# c\nshare: 0\n")
    rc, _, err = run("watch", "--config", path, "--check")
    check(rc == 2 and err == f"geotap watch: {path}:3: share '0': want a number from 0.01 to 1\n",
          f"watch --config with a bad line 3: exit 2, one line naming it ({err!r})")
    path = write(tmp, "watch-bad2.conf", "prometheus: http://127.0.0.1:9090\ninterface: eth0\n")
    rc, _, err = run("watch", "--config", path, "--check")
    check(rc == 2 and f"{path}:2: unknown key 'interface'" in err, f"watch: a key of live only ({err!r})")
    path = write(tmp, "watch.conf", "prometheus: http://127.0.0.1:9090\nbin: 10\nalertmanager: http://a:9093\n"
                 "alertmanager: http://b:9093\nname: fleet-1\nlisten: 9109\n")
    rc, out, err = run("watch", "--config", path, "--check", "--bin", "20", "--state", "/var/lib/geotap/watch.state")
    eff = effective(out)
    want = {"prometheus": [("http://127.0.0.1:9090", f"{path}:1")], "bin": [("20", "flag")],
            "alertmanager": [("http://a:9093", f"{path}:3"), ("http://b:9093", f"{path}:4")],
            "name": [("fleet-1", f"{path}:5")], "listen": [("9109", f"{path}:6")],
            "state": [("/var/lib/geotap/watch.state", "flag")], "share": [("0.5", "default")],
            "delay": [("5", "default")], "lag": [(None, "default: not set")], "format": [("csv", "default")]}
    check(rc == 0, f"watch --check of a good file: exit 0 ({err!r})")
    for k, v in want.items():
        check(eff.get(k) == v, f"watch effective {k}: {eff.get(k)} == {v}")
    keys = usage_keys("watch")
    check(set(eff) == keys, f"watch --check prints every key of its usage ({len(keys)}): "
          f"missing {sorted(keys - set(eff))}, extra {sorted(set(eff) - keys)}")
    rc, ex, _ = run("watch", "--print-config-example")
    with open(os.path.join(os.environ["GEOTAP_SRC"], "dist", "geotap-watch.conf.example")) as f:
        check(ex == f.read(), "dist/geotap-watch.conf.example == geotap watch --print-config-example "
              "(regenerate it with that command)")
    ex_keys = set(re.findall(r"^#([a-z][a-z0-9-]*): ", ex, re.M))
    check(rc == 0 and ex_keys == keys, f"the watch example names every key: missing {sorted(keys - ex_keys)}")
    path = write(tmp, "watch-example.conf", ex)
    rc, _, err = run("watch", "--config", path, "--check", "--prometheus", "http://127.0.0.1:9090")
    check(rc == 0, f"the watch example passes --check ({err.strip()!r})")


def main():
    shared, src = os.environ["GEOTAP_SHARED"], os.environ["GEOTAP_SRC"]
    db = os.path.join(shared, "mmdb", "GeoLite2-Country-Test.mmdb")
    with tempfile.TemporaryDirectory(prefix="gt-config.") as tmp:
        bad = [  # (what, text, line named, words the reason must hold)
            ("unknown key", "interface: lo\nbin: 5\n\nwokers: 3\n", 4, "did you mean 'workers'"),
            ("bad number", "# c\ninterface: lo\nbin: x\n", 3, "want a whole number from 0 to 2678400"),
            ("missing value", "interface: lo\ncountry-db:   \n", 2, "missing value"),
            ("line too long", "interface: lo\n#\n\n\nfilter: " + "x" * 5000 + "\n", 5, "line too long"),
            ("no colon", "interface: lo\nbin 5\n", 2, "want 'key: value'"),
            ("given twice", "interface: lo\nbin: 1\ninterface: eth0\n", 3, "first at line 1"),
            ("command line only", "interface: lo\ncheck: yes\n", 2, "command line only"),
            ("bad yes/no", "interface: lo\ndecap: maybe\n", 2, "want yes or no"),
            ("bad CIDR", "interface: lo\nhome-net: 10.0.0.0/8\nhome-net: 10.0.0.0/99\n", 3, "CIDR"),
            ("bad by", "interface: lo\n  by: planet\n", 2, "want country, asn, upstream"),
            ("bad fa-budget", "interface: lo\nfa-budget: -1\n", 2, "want a positive number"),
        ]
        for what, text, n, reason in bad:
            path = write(tmp, re.sub(r"\W", "_", what) + ".conf", text)
            rc, out, err = run("live", "--config", path, "--check", "--country-db", db)
            lines = [l for l in err.splitlines() if l.strip()]
            check(rc == 2 and len(lines) == 1 and f"{path}:{n}: " in err and reason in err,
                  f"{what}: exit 2, one line naming {os.path.basename(path)}:{n} ({reason}): "
                  f"exit {rc}, {err.strip()!r}")
        rc, _, err = run("live", "--config", os.path.join(tmp, "absent.conf"), "--check")
        check(rc == 2 and "absent.conf" in err, f"a missing config file: exit 2 naming it ({err.strip()!r})")
        path = write(tmp, "nodb.conf", "interface: lo\ncountry-db: /nonexistent/Country.mmdb\n")
        rc, _, err = run("live", "--config", path, "--check")
        check(rc == 2 and "/nonexistent/Country.mmdb" in err, f"--check opens the database: exit {rc}, {err.strip()!r}")

        text = ("# a sensor\n"
                "\n"
                "   # indented comment\n"
                "interface: lo\n"
                "workers: 4\n"
                "bin: 10   # seconds\n"
                f"country-db: {db}\n"
                "home-net: 10.0.0.0/8\r\n"
                "home-net: fd00::/8\n"
                "decap: yes\n"
                "alertmanager: http://127.0.0.1:9093/#frag\n"
                "alertmanager: http://127.0.0.1:9094/\n"
                "webhook: http://127.0.0.1:1/file\n")
        path = write(tmp, "good.conf", text)
        rc, out, err = run("live", "--config", path, "--check", "--workers", "2", "--webhook",
                           "http://127.0.0.1:2/flag", "-q")
        eff = effective(out)
        check(rc == 0, f"--check of a good file: exit 0 ({err.strip()!r})")
        want = {
            "interface": [("lo", f"{path}:4")],
            "workers": [("2", "flag")],
            "bin": [("10", f"{path}:6")],
            "country-db": [(db, f"{path}:7")],
            "home-net": [("10.0.0.0/8", f"{path}:8"), ("fd00::/8", f"{path}:9")],
            "decap": [("yes", f"{path}:10")],
            "alertmanager": [("http://127.0.0.1:9093/#frag", f"{path}:11"), ("http://127.0.0.1:9094/", f"{path}:12")],
            "webhook": [("http://127.0.0.1:2/flag", "flag")],
            "quiet": [("yes", "flag")],
            "by": [("country", "default")],
            "bytes": [("frame", "default")],
            "fa-budget": [("0.01", "default")],
            "snaplen": [("262144", "default")],
            "filter": [(None, "default: not set")],
            "routes": [(None, "default: not set")],
            "asn-db": [(None, "default: not set")],
        }
        for k, v in want.items():
            check(eff.get(k) == v, f"effective {k}: {eff.get(k)} == {v}")
        keys = usage_keys("live")
        check(set(eff) == keys, f"--check prints every key of the usage ({len(keys)}): "
              f"missing {sorted(keys - set(eff))}, extra {sorted(set(eff) - keys)}")
        # The printed configuration reads back to the same values.
        back = write(tmp, "back.conf", out)
        rc, out2, err = run("live", "--config", back, "--check")
        eff2 = effective(out2)
        same = rc == 0 and all([x for x, _ in eff2[k]] == [x for x, _ in v] for k, v in eff.items())
        check(same, f"the effective configuration is a valid file with the same values ({err.strip()!r})")
        # A flag given for a repeatable key replaces the file's lines.
        rc, out, _ = run("live", "--config", path, "--check", "--home-net", "192.168.0.0/16")
        check(effective(out).get("home-net") == [("192.168.0.0/16", "flag")], "a flag replaces the file's list")

        # analyze: the file and the flags agree.
        pcap = os.path.join(shared, "pcap", "teams.pcap")
        opts = write(tmp, "analyze.conf", f"bin: 0\nformat: csv\ncountry-db: {db}\nby: country\nquiet: yes\n")
        r1 = run("analyze", "--config", opts, pcap)
        r2 = run("analyze", "--bin", "0", "--format", "csv", "--country-db", db, "-q", pcap)
        check(r1[0] == 0 and r1[1] == r2[1] and r1[1].count("\n") >= 2,
              f"analyze --config = the same flags ({r1[1].count(chr(10))} lines)")

        # The shipped example.
        rc, ex, _ = run("live", "--print-config-example")
        with open(os.path.join(src, "dist", "geotap.conf.example")) as f:
            shipped = f.read()
        check(rc == 0 and ex == shipped, "dist/geotap.conf.example == geotap live --print-config-example "
              "(regenerate it with that command)")
        ex_keys = set(re.findall(r"^#([a-z][a-z0-9-]*): ", shipped, re.M))
        check(keys <= ex_keys <= keys | {"dpdk", "port", "queues"},
              f"the example names every key: missing {sorted(keys - ex_keys)}, extra {sorted(ex_keys - keys)}")
        rc, out, err = run("live", "--config", os.path.join(src, "dist", "geotap.conf.example"), "--check",
                           "-i", "lo", "--country-db", db)
        check(rc == 0, f"the example passes --check ({err.strip()!r})")
        # Every key uncommented with a real value still passes.
        vals = {"interface": "lo", "country-db": db, "home-net": "10.0.0.0/8", "by": "country",
                "format": "csv", "bytes": "l3", "decap": "yes", "quiet": "no"}
        lines = [f"{k}: {v}" for k, v in vals.items()]
        path = write(tmp, "some.conf", "\n".join(lines) + "\n")
        rc, out, err = run("live", "--config", path, "--check")
        eff = effective(out)
        check(rc == 0 and all(eff[k] == [(v, f"{path}:{i + 1}")] for i, (k, v) in enumerate(vals.items())),
              f"every value of a file is taken, with its line ({err.strip()!r})")
        merge_watch(tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
