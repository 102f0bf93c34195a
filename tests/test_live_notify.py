#!/usr/bin/python3
"""geotap live under a service manager's protocol (sd_notify, Type=notify):
the datagrams are read from our own NOTIFY_SOCKET, as systemd would.
  - READY=1 comes once the capture is open, the --listen port bound and
    privileges dropped (-Z nobody): at that moment the process's Uid in
    /proc/PID/status is nobody's and the port accepts a connection;
  - a STATUS= line before it and while running, naming the interface and the
    frames counted so far (no more than this test replayed);
  - SIGHUP: RELOADING=1, a STATUS "reloaded", READY=1; a SIGHUP with the
    country DB replaced by a broken file: RELOADING=1, STATUS "reload failed:
    <file>: ...", READY=1, and the sensor goes on;
  - SIGTERM: STOPPING=1, exit 0.
Root only; skips (77) without root, netns, tcpreplay, libsystemd or nobody."""
import os
import pwd
import shutil
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_service as L  # noqa: E402
from live_service import check  # noqa: E402


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)   # the sender's pid
        self.sock.bind(path)
        os.chmod(path, 0o777)       # nobody sends to it after -Z
        self.got = []
        self.cond = threading.Condition()
        self.hook = None
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except OSError:
                return
            m = data.decode()
            pid = None
            for level, kind, d in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", d[:12])[0]
            extra = self.hook(m, pid) if self.hook else None
            with self.cond:
                self.got.append((m, extra))
                self.cond.notify_all()

    def wait(self, pred, start, timeout, what):
        end = time.time() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.got)):
                    if pred(self.got[i][0]):
                        return i, self.got[i]
                if time.time() > end:
                    check(False, "%s (got %r)" % (what, [m for m, _ in self.got[start:]]))
                    return len(self.got), (None, None)
                self.cond.wait(0.2)


def main():
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        L.skip("no user nobody")
    n = L.Netns("gtno")
    try:
        os.chmod(n.tmp, 0o755)
        db = n.path("country.mmdb")
        shutil.copy(L.TEST_DB, db)
        os.chmod(db, 0o644)
        nt = Notify(n.path("notify"))
        port = L.free_port()

        def at_ready(m, pid):
            # taken in the receiving thread at the moment READY=1 arrives
            if m != "READY=1" or not pid:
                return None
            uid = None
            for line in open("/proc/%d/status" % pid):
                if line.startswith("Uid:"):
                    uid = [int(x) for x in line.split()[1:]]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                bound = True
            except OSError:
                bound = False
            return uid, bound
        nt.hook = at_ready
        live = n.live(["--bin", "1", "--country-db", db, "--home-net", L.HOME, "--format", "csv", "-o", "/dev/null",
                       "--listen", "127.0.0.1:%d" % port, "-Z", "nobody"],
                      env={"NOTIFY_SOCKET": n.path("notify"), "GEOTAP_CACHE_DIR": "off"})
        i, (m, info) = nt.wait(lambda m: m == "READY=1", 0, 10, "READY=1")
        if not check(info is not None, "READY=1 while the process could be inspected"):
            return
        check(info[0] == [nobody] * 4, "at READY=1 the process runs as nobody: Uid %r" % (info[0],))
        check(info[1], "at READY=1 the --listen port accepts connections")
        check(any(g.startswith("STATUS=capturing") and n.a in g for g, _ in nt.got[:i]),
              "a STATUS line naming %s before READY" % n.a)

        frames = L.scenario(0, {"GB": [(0, 6)]}, 30, 5)
        L.write_pcap(n.path("gb.pcap"), frames)
        n.replay(n.path("gb.pcap"))
        def counted(m):
            f = m.split(": ", 1)[1].split()[0] if m.startswith("STATUS=" + n.a) else "0"
            return 0 < int(f) <= len(frames)
        j, _ = nt.wait(counted, i, 8, "a STATUS while running with frames counted (of %d sent)" % len(frames))

        live.send_signal(signal.SIGHUP)
        k, _ = nt.wait(lambda m: m == "RELOADING=1", j, 10, "RELOADING=1 after SIGHUP")
        k2, (m2, _) = nt.wait(lambda m: m.startswith("STATUS=reloaded"), k, 10, "STATUS=reloaded")
        check(m2 is not None and "reloads 1 ok 0 failed" in m2, "the status counts the reload: %r" % m2)
        k3, _ = nt.wait(lambda m: m == "READY=1", k2, 10, "READY=1 after the reload")

        tmp = db + ".new"
        with open(tmp, "wb") as f:
            f.write(b"not a MaxMind DB\n" * 100)
        os.chmod(tmp, 0o644)
        os.rename(tmp, db)
        live.send_signal(signal.SIGHUP)
        k4, _ = nt.wait(lambda m: m == "RELOADING=1", k3, 10, "RELOADING=1 after the broken DB")
        k5, (m5, _) = nt.wait(lambda m: m.startswith("STATUS=reload failed"), k4, 10, "STATUS=reload failed")
        check(m5 is not None and db in m5 and "reloads 1 ok 1 failed" in m5,
              "the failure names the file and is counted: %r" % m5)
        nt.wait(lambda m: m == "READY=1", k5, 10, "READY=1 after the failed reload")
        check(live.poll() is None, "the sensor goes on after the failed reload")

        live.send_signal(signal.SIGTERM)
        nt.wait(lambda m: m == "STOPPING=1", k5, 10, "STOPPING=1 at SIGTERM")
        rc = n.stop(live)
        check(rc == 0, "exit 0 (got %r)" % rc)
        err = n.log("live")
        check("reloads: 1 ok, 1 failed" in err, "summary counts the reloads")
        check(L.summary_frames(err) == len(frames), "live counted the %d frames" % len(frames))
    finally:
        n.close()
    L.finish()


main()
