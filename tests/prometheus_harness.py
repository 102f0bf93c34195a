"""What the real-Prometheus tests of geotap live share: a veth pair into a
private network namespace, a generated capture, a Prometheus server on a
loopback port with a generated configuration, and the oracles (tshark per
address, mmdblookup per database). Everything is torn down at exit."""
import atexit
import ipaddress
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from checks import check, failures, finish, free_port, skip  # noqa: F401  (re-exported)

GEOTAP = os.environ.get("GEOTAP_BIN", "")
SHARED = os.environ.get("GEOTAP_SHARED", "")
_cleanups = []


def need(*tools):
    if os.geteuid() != 0:
        skip("not root")
    for t in tools:
        if not shutil.which(t):
            skip("no " + t)


@atexit.register
def _cleanup():
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception:   # best effort at exit
            pass


def tmpdir():
    d = tempfile.mkdtemp(prefix="gtprom")
    _cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def sh(*cmd, ns=None, timeout=60, check_rc=True):
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    r = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(full), r.stderr.strip()))
    return r


def veth(prefix):
    """A (host side, here) <-> B (in namespace NS): no ARP, no IPv6, so
    nothing but the replay crosses the link. Returns (NS, A, B)."""
    tag = "%s%d" % (prefix, os.getpid() % 100000)
    ns, a, b = tag + "n", tag + "a", tag + "b"
    if sh("ip", "netns", "add", ns, check_rc=False).returncode != 0:
        skip("cannot create a network namespace")
    _cleanups.append(lambda: sh("ip", "netns", "del", ns, check_rc=False))
    if sh("ip", "link", "add", a, "type", "veth", "peer", "name", b, check_rc=False).returncode != 0:
        skip("cannot create a veth pair")
    _cleanups.append(lambda: sh("ip", "link", "del", a, check_rc=False))
    sh("ip", "link", "set", b, "netns", ns)
    sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % a, check_rc=False)
    sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % b, ns=ns, check_rc=False)
    sh("ip", "link", "set", a, "arp", "off", "up")
    sh("ip", "link", "set", b, "arp", "off", "up", ns=ns)
    sh("ip", "link", "set", "lo", "up", ns=ns)
    return ns, a, b


def rx_packets(iface):
    with open("/sys/class/net/%s/statistics/rx_packets" % iface) as f:
        return int(f.read())


def write_pcap(path, addrs, n, seed):
    """n Ethernet frames, UDP between random pairs of addrs (IPv4 and IPv6),
    60..600 bytes on the wire."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        t = 1700000000.0
        for i in range(n):
            src, dst = rnd.choice(addrs), rnd.choice(addrs)
            s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
            if s.version != d.version:
                d = ipaddress.ip_address(rnd.choice([x for x in addrs if ipaddress.ip_address(x).version == s.version]))
            pay = bytes(rnd.randrange(0, 500))
            udp = struct.pack(">HHHH", 1024 + i % 5000, 53, 8 + len(pay), 0) + pay
            if s.version == 4:
                ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                                 s.packed, d.packed)
                csum = sum(struct.unpack(">10H", ip))
                csum = (csum & 0xffff) + (csum >> 16)
                csum = (csum & 0xffff) + (csum >> 16)
                ip = ip[:10] + struct.pack(">H", ~csum & 0xffff) + ip[12:]
                eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
            else:
                ip = struct.pack(">IHBB16s16s", 0x60000000, len(udp), 17, 64, s.packed, d.packed)
                eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x86\xdd"
            frame = eth + ip + udp
            if len(frame) < 60:
                frame += bytes(60 - len(frame))
            t += 0.0005
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)


def tshark_addr_counts(pcap):
    """Frames per source and per destination address, as tshark reads them."""
    r = sh("tshark", "-n", "-r", pcap, "-T", "fields", "-e", "ip.src", "-e", "ipv6.src",
           "-e", "ip.dst", "-e", "ipv6.dst", timeout=120)
    src, dst = {}, {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        s, d = f[0] or f[1], f[2] or f[3]
        src[s] = src.get(s, 0) + 1
        dst[d] = dst.get(d, 0) + 1
    return src, dst


def mmdb_country(db, addr):
    """country.iso_code of addr in db by libmaxminddb's mmdblookup; ZZ when none."""
    r = sh("mmdblookup", "-f", db, "-i", addr, "country", "iso_code", check_rc=False)
    for tok in r.stdout.split():
        if tok.startswith('"') and tok.endswith('"'):
            return tok.strip('"')
    return "ZZ"


def capinfos_count(pcap):
    r = sh("capinfos", "-M", "-c", "-T", pcap)
    return int(r.stdout.splitlines()[1].split("\t")[1])


class Geotap:
    """geotap live on iface with --listen on a loopback port."""

    def __init__(self, d, args, ns=None):
        self.err_path = os.path.join(d, "live.err")
        self.port = free_port() if "--listen" not in args else None
        cmd = (["ip", "netns", "exec", ns] if ns else []) + [GEOTAP, "live"] + args
        if self.port:
            cmd += ["--listen", "127.0.0.1:%d" % self.port]
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        _cleanups.append(self.kill)
        t = time.monotonic()
        while "listening on" not in self.stderr():
            if self.p.poll() is not None or time.monotonic() - t > 60:
                raise RuntimeError("geotap live did not start: " + self.stderr())
            time.sleep(0.1)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=10) as r:
            return r.read().decode()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.p.send_signal(sig)
        return self.p.wait(timeout=timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class Prometheus:
    """A real Prometheus on a loopback port scraping targets every second."""

    def __init__(self, d, targets):
        self.port = free_port()
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                    "scrape_configs:\n  - job_name: geotap\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join("'%s'" % t for t in targets))
        self.log = open(os.path.join(d, "prometheus.log"), "w")
        self.p = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                   "--storage.tsdb.path=" + os.path.join(d, "tsdb"),
                                   "--web.listen-address=127.0.0.1:%d" % self.port],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        _cleanups.append(self.stop)
        t = time.monotonic()
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.p.poll() is not None or time.monotonic() - t > 30:
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.2)

    def query(self, expr):
        """The instant vector of expr now: {frozenset(labels): value}."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError("query %s: %s" % (expr, body))
        out = {}
        for s in body["data"]["result"]:
            m = {k: v for k, v in s["metric"].items() if k not in ("job", "instance")}
            out[frozenset(m.items())] = float(s["value"][1])
        return out

    def scalar(self, expr):
        v = self.query(expr)
        return sum(v.values()) if v else None

    def wait_for(self, expr, want, timeout):
        """Poll expr (a sum) until it equals want or the time is up; its last value."""
        t, v = time.monotonic(), None
        while time.monotonic() - t < timeout:
            v = self.scalar(expr)
            if v == want:
                break
            time.sleep(0.5)
        return v

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def by_label(vec, label):
    """{label value: value} of an instant vector with that label."""
    return {dict(k).get(label, ""): v for k, v in vec.items()}
