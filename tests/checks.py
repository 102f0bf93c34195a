"""The Python tests' shared verdict helpers: check() records a failed
assertion and goes on (so one run reports every broken thing), finish() turns
them into the exit status, skip() exits 77 (meson's skip) — or 1 under
CI=true, where a missing tool is a failure; not being root still skips —
and free_port() a loopback TCP port for a server the test starts."""
import os
import socket
import sys

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def skip(why):
    if os.environ.get("CI") == "true" and not why.startswith("not root"):
        print("FAIL (CI=true): " + why)
        sys.exit(1)
    print("SKIP: " + why)
    sys.exit(77)


def finish():
    print("FAILED: %d" % len(failures) if failures else "all checks passed")
    sys.exit(1 if failures else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
