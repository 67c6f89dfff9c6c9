#!/usr/bin/env python3
"""Test helper for tests/mediawiki/run.sh: evaluates Python expressions about what the
recording SMTP server received and what MediaWiki answered. Exit 0 if every expression is
true; otherwise print the failing expression and the evidence, exit 1.

  expect.py --rec DIR --since N [--result FILE] [--log FILE] -- 'EXPR' ['EXPR' ...]

Names available to EXPR:
  msgs      messages recorded after the first N (list, in order); each has
            .env (the NNNN.json envelope dict), .msg (email.message.EmailMessage, headers
            decoded), .raw (bytes as received), .text (the decoded text/plain body or "")
  r         the JSON line printed by SendTestMail.php or web_email.py (dict), or {}
  err       r's failure text: Status error parameters + exception message (str)
  log       the SmtpMailer debug log (str)
"""

import argparse
import email
import email.policy
import glob
import json
import os
import sys


class Mail:
    def __init__(self, json_path):
        with open(json_path, encoding="utf-8") as f:
            self.env = json.load(f)
        with open(json_path[: -len(".json")] + ".eml", "rb") as f:
            self.raw = f.read()
        self.msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        part = self.msg.get_body(preferencelist=("plain",))
        self.text = part.get_content() if part is not None else ""

    def __repr__(self):
        return "<envelope %s -> %s>\n%s" % (
            self.env.get("mail_from"), self.env.get("rcpt_to"),
            self.raw.decode("utf-8", "replace")[:1500])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rec", required=True)
    ap.add_argument("--since", type=int, default=0)
    ap.add_argument("--result")
    ap.add_argument("--log")
    ap.add_argument("exprs", nargs="+")
    a = ap.parse_args()

    files = sorted(glob.glob(os.path.join(a.rec, "[0-9][0-9][0-9][0-9].json")))
    msgs = [Mail(p) for p in files[a.since:]]
    r = {}
    if a.result and os.path.exists(a.result):
        with open(a.result, encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
        if lines:
            r = json.loads(lines[-1])
    parts = [p for e in r.get("errors", []) for p in e.get("params", [])]
    if r.get("exception"):
        parts.append(r["exception"].get("message", ""))
    if r.get("error"):
        parts.append(r["error"])
    err = "\n".join(parts)
    log = ""
    if a.log and os.path.exists(a.log):
        with open(a.log, encoding="utf-8", errors="replace") as f:
            log = f.read()

    env = {"msgs": msgs, "r": r, "err": err, "log": log}
    failed = False
    for expr in a.exprs:
        try:
            ok = eval(expr, {}, env)  # noqa: S307 - test expressions written in run.sh
        except Exception as e:  # noqa: BLE001 - any error means the expectation failed
            ok = False
            print("     error in %r: %s: %s" % (expr, type(e).__name__, e))
        if not ok:
            failed = True
            print("     not true: %s" % expr)
    if failed:
        print("     result: %s" % json.dumps(r, ensure_ascii=False)[:2000])
        print("     %d new message(s)%s" % (len(msgs), "".join("\n" + repr(m) for m in msgs)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
