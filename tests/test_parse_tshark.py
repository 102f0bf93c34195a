#!/usr/bin/env python3
"""gt_parse() against tshark on every real capture in $GEOTAP_SHARED/pcap:
for each packet, the outer IP header geotap finds (addresses, or none) must be
the first ip/ipv6 layer for which tshark shows both addresses (tshark adds the
geoip fields exactly then).  With --decap, gt_parse(GT_PARSE_DECAP) must find
the last such layer (the innermost tunnelled header; ICMP is not dissected, so
quoted headers in ICMP errors don't count).  To keep it fast, the files are concatenated with
mergecap into one pcapng (tshark's start-up dominates otherwise); files that
end in a read error are run through tshark on their own.  Hand-made frames
(hand_made(): Cisco FabricPath, IPv4 source routes and malformed headers) are checked the same way.
Usage: test_parse_tshark.py [--decap] DUMP_PROGRAM"""
import os
import struct
import subprocess
import sys
import tempfile


DECAP = False


def tshark_outer(path):
    """Per frame: (src, dst) of the outer (innermost with DECAP) IP header
    tshark shows, or None."""
    # Layers above IP can't change the outer header: skip them for speed.
    # Tunnels ride on UDP (GTP-U, VXLAN, CAPWAP), so keep it with DECAP.
    skip = ["tcp", "icmp", "icmpv6"] + ([] if DECAP else ["udp"])
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-T", "fields",
         "-E", "occurrence=" + ("l" if DECAP else "f")]
        + [a for p in skip for a in ("--disable-protocol", p)] + [
         "-e", "frame.protocols",
         "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst"],
        capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 5:
            continue
        want = None
        for layer in f[0].split(":"):
            if layer == "ip" and f[1] and f[2]:
                want = (f[1], f[2])
                if not DECAP:
                    break
            if layer == "ipv6" and f[3] and f[4]:
                want = (f[3], f[4])
                if not DECAP:
                    break
        res.append(want)
    return res


def geotap_outer(dump, paths):
    """Per file: (list of (src, dst) or None per packet, ended_in_error)."""
    out = subprocess.run([dump] + (["-d"] if DECAP else []) + paths, capture_output=True, text=True).stdout
    files = {}
    cur = None
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "#":
            cur = files.setdefault(f[2], [[], False])
        elif f[0] == "!":
            cur[1] = True
        else:
            cur[0].append(None if f[1] == "-" else (f[1], f[2]))
    return files


def compare(name, t, g):
    bad = 0
    if len(t) != len(g):
        print(f"{name}: tshark read {len(t)} packets, libpcap {len(g)}")
        bad = 1
    diffs = [i for i in range(min(len(t), len(g))) if t[i] != g[i]]
    for i in diffs[:5]:
        print(f"{name} frame {i + 1}: tshark {t[i]} geotap {g[i]}")
    return 1 if bad or diffs else 0


def ip4(opts=b"", tl=None, payload=b"", cap=None, vihl=None, frag=0):
    """An IPv4 header 81.2.69.160 -> 89.160.20.112 (UDP) with options padded
    to 4 bytes, then payload; cut to cap bytes."""
    opts += b"\0" * (-len(opts) % 4)
    hl = 20 + len(opts)
    h = bytes([vihl if vihl is not None else 0x40 | hl // 4, 0]) + \
        struct.pack(">H", hl + len(payload) if tl is None else tl) + b"\0\1" + struct.pack(">H", frag) + \
        b"\x40\x11\0\0" + bytes([81, 2, 69, 160, 89, 160, 20, 112]) + opts + payload
    return h if cap is None else h[:cap]


def hand_made(path):
    """Writes the hand-made Ethernet frames to path (classic pcap)."""
    eth = bytes.fromhex("001122334455" "00aabbccddee")
    ip6 = bytes.fromhex("6000000000081140" "20010db8000000000000000000000001"
                        "2a0206b8000000000000000000000001") + b"\0" * 8
    fp = bytes.fromhex("0200000a0b0c" "0200000d0e0f" "8903" "003f")      # FabricPath header
    fpq = bytes.fromhex("0200000a0b0c" "0200000d0e0f" "81000005" "8903" "003f")
    x8 = b"\x55" * 8
    lsrr = b"\x83\x07\x04" + bytes([1, 2, 3, 4])
    frames = [
        # FabricPath: IPv4, IPv6, inner VLAN, tagged outer, cut headers, the FCS
        fp + eth + b"\x08\x00" + ip4(payload=x8), fp + eth + b"\x86\xdd" + ip6,
        fp + eth + b"\x81\x00\x00\x64\x08\x00" + ip4(payload=x8), fpq + eth + b"\x08\x00" + ip4(payload=x8),
        fp[:15], (fp + eth)[:24], fp + eth + b"\x08\x00" + ip4(), fp + eth + b"\x08\x00" + ip4(payload=b"abc"),
        fp + eth + b"\x08\x00" + ip4(payload=b"abcd"),
        # IPv4 header checks
        eth + b"\x08\x00" + ip4(tl=19, payload=x8), eth + b"\x08\x00" + ip4(vihl=0x44, payload=x8),
        eth + b"\x08\x00" + ip4(vihl=0x55, payload=x8), eth + b"\x08\x00" + ip4(tl=0, payload=x8),
        eth + b"\x08\x00" + ip4(b"\x01" * 4, tl=23, payload=x8), eth + b"\x08\x00" + ip4(frag=0x1fff, cap=20),
        # options cut off where tshark shows no destination either (where it
        # does, geotap still says truncated: test_tshark_compare.py, issue 2)
        eth + b"\x08\x00" + ip4(b"\x01" * 4, payload=x8, cap=22),
        eth + b"\x08\x00" + ip4(b"\x44\x04\x00\x00", payload=x8, cap=21),
        eth + b"\x08\x00" + ip4(b"\x07\x07\x04\x01\x02\x03\x04", payload=x8, cap=25),
        # source routes: the last address is the destination; malformed ones show none
        eth + b"\x08\x00" + ip4(lsrr, payload=x8), eth + b"\x08\x00" + ip4(b"\x89" + lsrr[1:], payload=x8),
        eth + b"\x08\x00" + ip4(b"\x83\x0b\x08" + bytes([1, 2, 3, 4, 5, 6, 7, 8]), payload=x8),
        eth + b"\x08\x00" + ip4(b"\x83\x07\x08" + bytes([1, 2, 3, 4]), payload=x8),
        eth + b"\x08\x00" + ip4(b"\x83\x06\x04\x01\x02\x03", payload=x8),
        eth + b"\x08\x00" + ip4(b"\x83\x02", payload=x8),
        eth + b"\x08\x00" + ip4(lsrr, payload=x8, cap=27),
        eth + b"\x08\x00" + ip4(b"\x01\x01" + lsrr + b"\x01\x00" + b"\x44\x04\x00\x00", payload=x8),
        eth + b"\x08\x00" + ip4(b"\x83\x0c\x04" + bytes(9), payload=x8),
    ]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1600000000, i, len(fr), len(fr)) + fr)
    return len(frames)


def main():
    global DECAP
    args = sys.argv[1:]
    if args and args[0] == "--decap":
        DECAP = True
        args = args[1:]
    dump = args[0]
    d = os.path.join(os.environ.get("GEOTAP_SHARED") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"), "pcap")
    paths = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".pcap", ".pcapng"))]
    if not paths:
        print("no captures in", d)
        return 1
    g = geotap_outer(dump, paths)
    missing = [p for p in paths if p not in g]
    for p in missing:
        print(f"{p}: libpcap could not open it")
    clean = [p for p in paths if p in g and not g[p][1]]
    odd = [p for p in paths if p in g and g[p][1]]
    bad = len(missing)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "all.pcapng")
        subprocess.run(["mergecap", "-a", "-F", "pcapng", "-w", merged] + clean, check=True)
        t = tshark_outer(merged)
        want_total = sum(len(g[p][0]) for p in clean)
        if len(t) != want_total:
            print(f"merged capture: tshark read {len(t)} packets, libpcap {want_total}")
            return 1
        pos = 0
        for p in clean:
            n = len(g[p][0])
            bad += compare(os.path.basename(p), t[pos:pos + n], g[p][0])
            pos += n
            total += n
        for p in odd:
            t = tshark_outer(p)
            bad += compare(os.path.basename(p), t, g[p][0])
            total += len(g[p][0])
        hand = os.path.join(tmp, "hand-made.pcap")
        nh = hand_made(hand)
        gh = geotap_outer(dump, [hand])[hand][0]
        th = tshark_outer(hand)
        hb = compare("hand-made frames", th, gh)
        print(f"hand-made frames: {nh} (FabricPath, IPv4 checks and options), {'differ' if hb else 'agree'}")
        bad += hb
    print(f"{'innermost' if DECAP else 'outer'} header: {len(paths)} files, {total} packets, {bad} files differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
