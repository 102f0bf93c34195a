#!/usr/bin/env python3
"""Per-frame upstream rules (--upstream-map mac / vlan) against tshark.

For five test captures with 802.1Q-tagged IP frames: the most common source
MAC of its IP frames gets a `mac` rule, and (a second run) its most common
outermost VLAN ID a `vlan` rule. With --by upstream and no home nets both
addresses of a matching frame take the rule's upstream, so that upstream's
packets_from and packets_to must each equal tshark's count of IP frames
with that source MAC (or outer VLAN ID), and its bytes their frame.len sum.
A capture is compared only where geotap and tshark agree on its number of
IP frames (they may disagree on damaged headers, which other tests cover);
at least 8 of the 10 runs must. This is the engine's L2 path, where the parse keeps the
MAC and VLAN fields it skips when no L2 rule is loaded."""
import csv
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, skip  # noqa: E402

GEOTAP = os.environ["GEOTAP_BIN"]
PCAPS = os.path.join(os.environ["GEOTAP_SRC"], "tests", "data", "pcap")
# the five test captures with the most VLAN-tagged IP frames (of the ten
# that have any): enough to tell a rule's frames from the rest, at 2 s a
# capture under ASan
CAPTURES = ["capwap_data.pcapng", "discord_mid_flow.pcap", "mongodb.pcap", "rdp2.pcap", "smtp-starttls.pcap"]


def tshark_ip_frames(path):
    """(source MAC, outermost VLAN ID or None, frame length) of each IP frame."""
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", "ip || ipv6", "-T", "fields", "-E", "separator=\t",
                          "-e", "eth.src", "-e", "vlan.id", "-e", "frame.len"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        mac, vlan, flen = (line.split("\t") + ["", "", ""])[:3]
        if not mac or not flen:
            continue
        rows.append((mac.lower(), int(vlan.split(",")[0]) if vlan else None, int(flen)))
    return rows


def geotap_upstream(path, rule, tmp):
    """geotap's totals per upstream (packets_from, bytes_from, packets_to, bytes_to) and its IP frame count."""
    um, out = os.path.join(tmp, "um"), os.path.join(tmp, "out.csv")
    with open(um, "w") as f:
        f.write(rule + " BorderA\n")
    r = subprocess.run([GEOTAP, "analyze", "--format", "csv", "--bin", "0", "--by", "upstream",
                        "--upstream-map", um, "-o", out, path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, None
    tot = {}
    with open(out) as f:
        for row in csv.DictReader(f):
            t = tot.setdefault(row["upstream"], [0, 0, 0, 0])
            for i, k in enumerate(("packets_from", "bytes_from", "packets_to", "bytes_to")):
                t[i] += int(row[k])
    ip = None
    for line in r.stderr.splitlines():
        if " frames (" in line and " IP," in line:
            ip = int(line.split("): ")[1].split(" IP")[0])
    return tot, ip


def main():
    if not shutil.which("tshark"):
        skip("tshark is not installed")
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in CAPTURES:
            path = os.path.join(PCAPS, name)
            frames = tshark_ip_frames(path)
            macs = {}
            vlans = {}
            for mac, vlan, _ in frames:
                macs[mac] = macs.get(mac, 0) + 1
                if vlan is not None:
                    vlans[vlan] = vlans.get(vlan, 0) + 1
            rules = [("mac " + max(sorted(macs), key=macs.get), lambda fr, m=max(sorted(macs), key=macs.get): fr[0] == m)]
            if vlans:
                v = max(sorted(vlans), key=vlans.get)
                rules.append(("vlan %d" % v, lambda fr, v=v: fr[1] == v))
            for rule, match in rules:
                tot, ip = geotap_upstream(path, rule, tmp)
                if not check(tot is not None, "%s: geotap analyze with '%s' runs" % (name, rule)):
                    continue
                if ip != len(frames):
                    print("note %s: geotap counts %s IP frames, tshark %d: not compared" % (name, ip, len(frames)))
                    continue
                sel = [fr for fr in frames if match(fr)]
                want = [len(sel), sum(fr[2] for fr in sel)] * 2
                got = tot.get("BorderA", [0, 0, 0, 0])
                check(got == want, "%s: '%s' upstream counts %s = tshark's %s" % (name, rule, got, want))
                compared += 1
    check(compared >= 8, "%d rule runs compared with tshark (at least 8)" % compared)
    finish()


if __name__ == "__main__":
    main()
