"""Shared by the live service tests (tests/test_live_*.py): a veth pair into a
private network namespace, synthetic captures written here (Ethernet/IPv4/UDP
from chosen sources to a home network), geotap live started in the namespace,
and the oracles' helpers. Root only: skip() (77) without root, netns, veth or
tcpreplay; under CI=true a missing tool fails instead."""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from checks import check, failures, finish, free_port, skip  # noqa: F401  (re-exported)

GEOTAP = os.environ["GEOTAP_BIN"]
SHARED = os.environ["GEOTAP_SHARED"]
TEST_DB = os.path.join(SHARED, "mmdb", "GeoLite2-Country-Test.mmdb")
TEST_ASN = os.path.join(SHARED, "mmdb", "GeoLite2-ASN-Test.mmdb")
HOME = "192.0.2.0/24"
# Sources in the test DB (checked against mmdblookup by lookup_cc)
SRC = {"GB": "81.2.69.142", "SE": "89.160.20.112", "US": "216.160.83.56", "BT": "67.43.156.1"}


def lookup_cc(db, ip):
    """The oracle: mmdblookup's country.iso_code of ip."""
    r = subprocess.run(["mmdblookup", "-f", db, "-i", ip, "country", "iso_code"],
                       capture_output=True, text=True)
    for tok in r.stdout.split('"'):
        if len(tok) == 2 and tok.isupper():
            return tok
    return None


def parse_time(s):
    """Alertmanager's RFC 3339 (nanoseconds, Z or offset) -> seconds."""
    import datetime
    s = s.replace("Z", "+00:00")
    main, _, rest = s.partition(".")
    frac = ""
    if rest:
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, tz = rest[:i], rest[i:]
    else:
        main, tz = s[:19], s[19:]
    d = datetime.datetime.fromisoformat(main + tz)
    return d.timestamp() + (float("0." + frac) if frac else 0.0)


def webhook_receiver():
    """An HTTP server on a free loopback port keeping the JSON body of every
    POST, in order: (server, bodies); server.shutdown() stops it."""
    import http.server
    import json
    import threading
    got = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, got


def start_alertmanager(am_bin, cfg, storage, port, log):
    """A real Alertmanager on 127.0.0.1:port (no cluster), ready; its output
    appended to log. RuntimeError with the log's tail when it does not start."""
    import urllib.request
    p = subprocess.Popen([am_bin, "--config.file=" + cfg, "--storage.path=" + storage,
                          "--web.listen-address=127.0.0.1:%d" % port, "--cluster.listen-address=",
                          "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=open(log, "a"))
    end = time.time() + 30
    while time.time() < end and p.poll() is None:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1).read()
            return p
        except Exception:
            time.sleep(0.1)
    if p.poll() is None:
        p.kill()
        p.wait()
    raise RuntimeError("alertmanager did not start: " + open(log).read()[-2000:])


def write_pcap(path, frames):
    """frames: (t seconds, src ip, dst ip) in time order -> Ethernet/IPv4/UDP, 60 bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (t, src, dst) in enumerate(frames):
            udp = struct.pack("!HHHH", 40000 + i % 1000, 53, 8 + 18, 0) + b"\0" * 18
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
            s = sum(struct.unpack("!10H", ip))
            s = (s & 0xffff) + (s >> 16)
            s = (s & 0xffff) + (s >> 16)
            ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
            eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
            pkt = eth + ip + udp
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(pkt), len(pkt)) + pkt)


def poisson(rng, t0, t1, rate, src, dst="192.0.2.10"):
    out, t = [], t0 + rng.expovariate(rate)
    while t < t1:
        out.append((t, src, dst))
        t += rng.expovariate(rate)
    return out


def scenario(t0, spans, rate, seed):
    """spans: {cc: [(start, end), ...]} seconds from t0, each at rate packets/s (Poisson)."""
    rng = random.Random(seed)
    frames = []
    for cc, ss in sorted(spans.items()):
        for a, b in ss:
            frames += poisson(rng, t0 + a, t0 + b, rate, SRC[cc])
    frames.sort()
    return frames


class Sniffer:
    """Arrival times of the IPv4 frames on iface (an AF_PACKET socket of our
    own): the oracle for when the replay actually sent what."""

    def __init__(self, iface):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.2)
        self.seen = []          # (time, source address)
        self.stopped = False
        import threading
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stopped:
            try:
                f = self.sock.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(f) >= 34:
                self.seen.append((time.time(), socket.inet_ntoa(f[26:30])))

    def first(self, timeout=30):
        end = time.time() + timeout
        while not self.seen and time.time() < end:
            time.sleep(0.02)
        return self.seen[0][0] if self.seen else None

    def last_from(self, src, before=None):
        t = [x for x, s in list(self.seen) if s == src and (before is None or x < before)]
        return t[-1] if t else None

    def stop(self):
        self.stopped = True
        self.th.join()
        self.sock.close()


class Netns:
    """veth pair A (here) <-> B (in namespace NS): geotap captures A here, so
    the servers it talks to are on this loopback; tcpreplay sends from B."""

    def __init__(self, prefix):
        if os.geteuid() != 0:
            skip("not root")
        for tool in ("ip", "tcpreplay", "mmdblookup"):
            if not shutil.which(tool):
                skip("no " + tool)
        pid = os.getpid()
        self.ns, self.a, self.b = "%sn%d" % (prefix, pid), "%sa%d" % (prefix, pid), "%sb%d" % (prefix, pid)
        self.tmp = tempfile.mkdtemp(prefix="geotap-%s-" % prefix)
        self.procs = []
        if self.sh("ip", "netns", "add", self.ns, check_rc=False).returncode != 0:
            skip("cannot create a network namespace")
        if self.sh("ip", "link", "add", self.a, "type", "veth", "peer", "name", self.b,
                   check_rc=False).returncode != 0:
            self.close()
            skip("cannot create a veth pair")
        self.sh("ip", "link", "set", self.b, "netns", self.ns)
        self.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.a, check_rc=False)
        self.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.b, ns=self.ns, check_rc=False)
        self.sh("ip", "link", "set", self.a, "arp", "off", "up")
        self.sh("ip", "link", "set", self.b, "arp", "off", "up", ns=self.ns)
        self.sh("ip", "link", "set", "lo", "up", ns=self.ns)

    def sh(self, *cmd, ns=None, check_rc=True):
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        r = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if check_rc and r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(full), r.stderr.strip()))
        return r

    def path(self, name):
        return os.path.join(self.tmp, name)

    def live(self, args, name="live", env=None):
        """geotap live -i A ARGS, its standard error in NAME.err."""
        err = open(self.path(name + ".err"), "w")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen([GEOTAP, "live", "-i", self.a] + args,
                             stdout=subprocess.DEVNULL, stderr=err, env=e)
        self.procs.append(p)
        self.wait_log(name, "listening on", p)
        return p

    def spawn(self, cmd, name, ns=False, **kw):
        log = open(self.path(name + ".log"), "a")
        p = subprocess.Popen((["ip", "netns", "exec", self.ns] if ns else []) + cmd,
                             stdout=log, stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def log(self, name):
        try:
            return open(self.path(name + ".err")).read()
        except OSError:
            return ""

    def wait_log(self, name, text, p, timeout=60):
        end = time.time() + timeout
        while text not in self.log(name):
            if p.poll() is not None or time.time() > end:
                print(self.log(name))
                raise RuntimeError("geotap live (%s) did not show '%s'" % (name, text))
            time.sleep(0.05)

    def replay(self, pcap, extra=()):
        """tcpreplay from the namespace's end at the capture's own pace."""
        r = subprocess.run(["ip", "netns", "exec", self.ns, "tcpreplay", "-q", "-i", self.b] + list(extra) + [pcap],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("tcpreplay: " + r.stderr)

    def replay_bg(self, pcap, extra=()):
        return self.spawn(["tcpreplay", "-q", "-i", self.b] + list(extra) + [pcap], "replay", ns=True)

    def stop(self, p, sig=signal.SIGTERM, timeout=30):
        if p.poll() is None:
            p.send_signal(sig)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "link", "del", self.a], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def summary_frames(text):
    for line in text.splitlines():
        if line.startswith("geotap: ") and " frames (" in line:
            return int(line.split()[1])
    return None
