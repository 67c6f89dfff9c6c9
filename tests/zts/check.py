#!/usr/bin/env python3
"""Checks a run of tests/zts/host.c against what the fault server recorded.

    check.py RECORD_DIR OUT_DIR THREADS REQUESTS MAILS IDLE_AT

Prints one line per check ("ok ..." / "FAIL ...") and exits 1 if any failed.
"""
import email.parser
import json
import os
import re
import sys

record, out = sys.argv[1], sys.argv[2]
threads, requests, mails, idle_at = (int(x) for x in sys.argv[3:7])
failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    failed += 0 if ok else 1


# Every mail delivered exactly once, and each to its own thread's recipient.
ids = []
for name in sorted(os.listdir(record)):
    if name.endswith(".eml"):
        with open(os.path.join(record, name), "rb") as f:
            msg = email.parser.BytesParser().parse(f, headersonly=True)
        ids.append(msg["Message-ID"])
want = sorted("<t%d.r%d.m%d@zts.test>" % (t, r, m)
              for t in range(threads) for r in range(requests) for m in range(mails))
dups = sorted({i for i in ids if ids.count(i) > 1})
check(sorted(ids) == want, "every mail delivered exactly once: %d of %d, duplicates %s, missing %d"
      % (len(set(ids) & set(want)), len(want), dups[:5], len(set(want) - set(ids))))

# Connections: which threads each carried, and in what order they opened and closed.
conn_threads, events = {}, []
with open(os.path.join(record, "transcript.log")) as f:
    for line in f:
        conn, _, rest = line.rstrip("\n").partition(" ")
        m = re.fullmatch(r"C: RCPT TO:<t(\d+)@example\.test>", rest)
        if m:
            conn_threads.setdefault(int(conn), set()).add(int(m.group(1)))
        if rest in ("OPEN", "CLOSE", "C: QUIT"):
            events.append((int(conn), rest))
shared = {c: sorted(t) for c, t in conn_threads.items() if len(t) > 1}
check(not shared, "no connection carried two threads' mails %s" % (shared or ""))
per_thread = {t: sorted(c for c, ts in conn_threads.items() if t in ts) for t in range(threads)}
check(all(len(c) == 2 for c in per_thread.values()),
      "each thread used one connection before its idle wait and one after: %s" % per_thread)
closed = {c for c, e in events if e == "CLOSE"}
check(all(c in closed for cs in per_thread.values() for c in cs),
      "every connection was closed by the end (threads ended cleanly)")
quits = {c for c, e in events if e == "C: QUIT"}
last = [cs[-1] for cs in per_thread.values() if cs]
check(all(c in quits for c in last), "each thread's last connection got a QUIT when the thread ended")

# smtp_stats() per thread, as each thread's requests saw it.
for t in range(threads):
    rec = {}
    for r in range(requests):
        try:
            with open(os.path.join(out, "t%d.r%d.json" % (t, r))) as f:
                rec[r] = json.load(f)
        except OSError:
            pass
    if len(rec) != requests:
        check(False, "thread %d: stats of %d requests of %d" % (t, len(rec), requests))
        continue
    before = rec[idle_at - 1]["stats"]
    end = rec[requests - 1]["stats"]
    check(before["connections_opened"] == 1 and before["connections_reused"] == idle_at * mails - 1
          and before["messages_sent"] == idle_at * mails,
          "thread %d: smtp_stats() before idling: its own %d mails on 1 connection reused %d times: %s"
          % (t, idle_at * mails, idle_at * mails - 1, before))
    check(end["connections_opened"] == 2 and end["messages_sent"] == requests * mails
          and end["failures"] == 0 and end["unknown"] == 0,
          "thread %d: smtp_stats() at the end: %d mails, 2 connections: %s" % (t, requests * mails, end))
    check(rec[idle_at].get("closed_while_idle") is True,
          "thread %d: its idle connection was closed while it waited, before its next send (%s)"
          % (t, {k: v for k, v in rec[idle_at].items() if k != "stats"}))

print("%d checks failed" % failed if failed else "all checks passed")
sys.exit(1 if failed else 0)
