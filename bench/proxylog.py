#!/usr/bin/env python3
"""Reads bench/delay_proxy.py's --log: round trips of one case, and the TLS stall check.

    proxylog.py LOG --from LINE [--wait S]

Takes the connections opened at or after line LINE of LOG (1-based; run.sh notes the line
count before each case), waits up to S seconds (default 5) until each has its "close" line,
and prints one JSON line:

    {"conns": 3, "open": 0, "turns": 212, "turns_each": [8, 102, 102],
     "tls": {"n": 3, "pipelined": 3, "gaps": [41.2, 0.4, 0.3], "examples": {...}}}

"turns" is the round trips the proxy counted (see delay_proxy.py). "tls" looks at the first
run of server chunks after the client's second TLS flight (its Finished, and with a client
that sends EHLO at once, the EHLO too): in TLS 1.3 that run is Postfix's session ticket(s)
and then the EHLO reply (STARTTLS) or the greeting (implicit TLS). "gaps" are the times from
the first to the last chunk of that run, one per connection, in ms: about 40 ms when the
server held its reply back (Nagle) until the peer's delayed ACK of the ticket. "pipelined"
counts connections whose client had sent more than its Finished before that run started
(without that, the reply cannot be in the run). "examples" shows one connection with the
largest gap and one with the smallest: the chunks from the client's Finished to the reply,
in ms since the Finished was read.
"""

import argparse
import json
import re
import sys
import time

RECORD = re.compile(r"^(\d+):(\d+)$")


def records(what):
    """The TLS records of a trace entry's description, as (type, length); [] for plain text."""
    out = []
    for part in what.split():
        m = RECORD.match(part)
        if m:
            out.append((int(m.group(1)), int(m.group(2))))
        elif not part.startswith("+") and not part.startswith("?"):
            return []
    return out


def post_handshake(trace):
    """The server run after the client's second TLS flight, or None (no TLS, or trace cut)."""
    i = 0
    n = len(trace)
    # ClientHello: the first client chunk that starts with a handshake record.
    while i < n and not (trace[i][1] == "c" and records(trace[i][3])[:1] and records(trace[i][3])[0][0] == 22):
        i += 1
    if i == n:
        return None
    # The server's flight, then the client's next chunk (its Finished).
    i += 1
    while i < n and trace[i][1] == "c":
        i += 1
    while i < n and trace[i][1] == "s":
        i += 1
    if i == n:
        return None
    fin = i
    extra = max(0, len([r for r in records(trace[i][3]) if r[0] == 23]) - 1)
    i += 1
    while i < n and trace[i][1] == "c":
        extra += 1
        i += 1
    start = i
    while i < n and trace[i][1] == "s":
        i += 1
    if start == i:
        return None
    run = trace[start:i]
    t_fin = trace[fin][0]
    return {
        "gap": round(run[-1][0] - run[0][0], 3),
        "pipelined": extra > 0,
        "chunks": [[round(e[0] - t_fin, 3), e[1], e[2], e[3]] for e in trace[fin:i]],
    }


def summarize(lines, first):
    opened, closed = set(), {}
    for no, line in enumerate(lines, 1):
        if no < first or not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("ev") == "open":
            opened.add(r["id"])
        elif r.get("ev") == "close" and r.get("id") in opened:
            closed[r["id"]] = r
    conns = [closed[k] for k in sorted(closed)]
    tls = [p for p in (post_handshake(c.get("trace", [])) for c in conns) if p]
    out = {
        "conns": len(opened),
        "open": len(opened) - len(closed),
        "turns": sum(c["turns"] for c in conns),
        "turns_each": [c["turns"] for c in conns],
    }
    if tls:
        gaps = [p["gap"] for p in tls]
        worst = max(tls, key=lambda p: p["gap"])
        best = min(tls, key=lambda p: p["gap"])
        out["tls"] = {
            "n": len(tls),
            "pipelined": sum(1 for p in tls if p["pipelined"]),
            "gaps": gaps,
            "examples": {"largest": worst["chunks"], "smallest": best["chunks"]},
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--from", dest="first", type=int, default=1)
    ap.add_argument("--wait", type=float, default=5.0)
    a = ap.parse_args()
    end = time.monotonic() + a.wait
    while True:
        with open(a.log) as f:
            out = summarize(f.read().splitlines(), a.first)
        if out["open"] == 0 or time.monotonic() > end:
            break
        time.sleep(0.05)
    print(json.dumps(out, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
