#!/usr/bin/env python3
"""Times the TCP segments of a command's connections to one port on 127.0.0.1, without a proxy
in between (AF_PACKET on lo: needs root or CAP_NET_RAW; standard library only).

    lo_capture.py --port PORT [--stdout FILE] [--json OUT] -- COMMAND [ARGS...]

Runs COMMAND while capturing (its stdout to FILE, default stderr), then prints one JSON line
(and with --json writes every segment to OUT):

    {"conns": 10, "stalls": [{"conn": 1, "gap": 44.2, "ack_before": 0.06, "first": 255,
      "second": 76, "segments": [[ms, "C"|"S", "flags", payload bytes], ...]}, ...],
     "rc": <COMMAND's exit status>}

A stall is two data segments from the server with nothing from the client in between but
pure ACKs, 20 ms or more apart: "gap" is the time between them, "ack_before" the time from
the client's last ACK to the second one (about 0 when the server held its data back until
that ACK came: Nagle on the server against the client's delayed ACK). "first" and "second"
are their payload sizes; "segments" are the connection's segments up to the second one,
in ms since its SYN. Unlike bench/delay_proxy.py, which is itself a TCP endpoint, this shows
what the client's own kernel does (when it ACKs).
"""

import argparse
import json
import select
import socket
import struct
import subprocess
import sys
import time

STALL_MS = 20.0
PACKET_OUTGOING = 4
FLAGS = {0x02: "SYN", 0x12: "SYN-ACK", 0x10: "ACK", 0x18: "PSH-ACK", 0x11: "FIN-ACK",
         0x19: "FIN-PSH-ACK", 0x04: "RST", 0x14: "RST-ACK"}


def capture(port, cmd, stdout):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
    s.bind(("lo", 0))
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    segs = []
    proc = subprocess.Popen(cmd, stdout=stdout)
    done_at = None
    while True:
        r, _, _ = select.select([s], [], [], 0.05)
        while r:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            t = time.monotonic() * 1000
            if addr[2] == PACKET_OUTGOING:  # lo shows every packet twice
                continue
            ip = data[14:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:]
            sport, dport = struct.unpack("!HH", tcp[:4])
            if port not in (sport, dport):
                continue
            off = (tcp[12] >> 4) * 4
            segs.append((t, dport if sport == port else sport, "S" if sport == port else "C",
                         tcp[13] & 0x1F, total - ihl - off))
        if done_at is None and proc.poll() is not None:
            done_at = time.monotonic()
        if done_at is not None and time.monotonic() - done_at > 0.3:
            break
    return segs, proc.returncode


def stalls(segs):
    conns = {}
    for t, cport, who, flags, n in segs:
        conns.setdefault(cport, []).append((t, who, flags, n))
    ordered = sorted(conns.values(), key=lambda c: c[0][0])
    out = []
    for i, c in enumerate(ordered, 1):
        t0 = c[0][0]
        last_server = None  # (index, time) of the server's last data segment
        last_ack = None
        for j, (t, who, flags, n) in enumerate(c):
            if who == "C":
                if n > 0:
                    last_server = None
                else:
                    last_ack = t
                continue
            if n == 0:
                continue
            if last_server is not None and t - last_server[1] >= STALL_MS:
                out.append({
                    "conn": i,
                    "gap": round(t - last_server[1], 3),
                    "ack_before": round(t - last_ack, 3) if last_ack and last_ack > last_server[1] else None,
                    "first": c[last_server[0]][3],
                    "second": n,
                    "segments": [[round(x[0] - t0, 3), x[1], FLAGS.get(x[2], hex(x[2])), x[3]] for x in c[:j + 1]],
                })
            last_server = (j, t)
    return len(ordered), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--json", metavar="OUT")
    ap.add_argument("--stdout", metavar="FILE", help="COMMAND's stdout (default: stderr)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    with open(a.stdout, "w") if a.stdout else open(sys.stderr.fileno(), "w", closefd=False) as out:
        segs, rc = capture(a.port, cmd, out)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(segs, f)
    n, st = stalls(segs)
    print(json.dumps({"conns": n, "stalls": st, "rc": rc}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
