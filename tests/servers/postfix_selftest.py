#!/usr/bin/env python3
"""Checks tests/servers/postfix.py against a real private Postfix (run as root):

    python3 tests/servers/postfix_selftest.py [-v]

Starts two instances at the same time (one plain, one with every limit flag), talks to them
with smtplib and raw sockets, and prints one line per check with the server's own words.
Exit 0 when every check passed. Needs: postfix, sasl2-bin, libsasl2-modules, openssl.
"""

import json
import os
import shutil
import socket
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "postfix.py")
USER, PASSWORD = "wiki@example.test", "s3cret pass"
VERBOSE = "-v" in sys.argv[1:]
failures = []


def check(name, ok, observed=""):
    print("%s  %s%s" % ("ok  " if ok else "FAIL", name, ("  -> " + observed) if observed else ""))
    if not ok:
        failures.append(name)


class Instance:
    def __init__(self, *args):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, SCRIPT] + list(args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        self.ready_s = time.monotonic() - t0
        if not line.startswith("READY "):
            raise SystemExit("postfix.py did not say READY: %r" % line)
        self.info = json.loads(line[len("READY "):])
        self.__dict__.update(self.info)

    def stop(self):
        t0 = time.monotonic()
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        return time.monotonic() - t0

    def delivered(self, n, timeout=5.0):
        """The files in every Maildir's new/, once there are at least n."""
        end = time.monotonic() + timeout
        while True:
            files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(self.maildir)
                           for f in fs if os.path.basename(dp) == "new")
            if len(files) >= n or time.monotonic() > end:
                return files
            time.sleep(0.01)

    def read_log(self):
        with open(self.log_path(), errors="replace") as f:
            return f.read()

    def log_path(self):
        return self.info["log"]

    def connections(self, timeout=2.0):
        """Wire log per connection, once the last one has its "disconnect from" line."""
        sys.path.insert(0, HERE)
        import postfix  # noqa: E402 (the module under test, for its log parser)
        end = time.monotonic() + timeout
        while True:
            conns = postfix.connections(self.read_log())
            if (conns and conns[-1]["summary"]) or time.monotonic() > end:
                return conns
            time.sleep(0.02)


def ctx(inst):
    return ssl.create_default_context(cafile=inst.ca)


def reply_of(exc_or_tuple):
    if isinstance(exc_or_tuple, tuple):
        code, text = exc_or_tuple[0], exc_or_tuple[1]
    else:
        code, text = exc_or_tuple.smtp_code, exc_or_tuple.smtp_error
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "%d %s" % (code, text)


def raw_session(port, lines, read_timeout=5.0):
    """Sends bytes (one item at a time, reading the reply after each), returns replies."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    f = s.makefile("rb")
    out = [read_reply(f)]
    for chunk in lines:
        s.sendall(chunk)
        out.append(read_reply(f))
    s.close()
    return out


def read_reply(f):
    lines = []
    while True:
        line = f.readline().decode(errors="replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return "\n".join(lines)


def body_after_postfix_headers(data):
    """The delivered file minus what Postfix put in front (Return-Path, X-Original-To,
    Delivered-To and its own Received header with its continuation lines)."""
    lines = data.split(b"\n")
    i = 0
    for name in (b"Return-Path:", b"X-Original-To:", b"Delivered-To:"):
        if lines[i].startswith(name):
            i += 1
    if lines[i].startswith(b"Received:"):
        i += 1
        while lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\n".join(lines[i:])


def main():
    if os.geteuid() != 0:
        raise SystemExit("run as root")

    certs = tempfile.mkdtemp(prefix="php-smtp-selftest-certs-")
    try:
        return run(certs)
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def run(certs):
    # ---- two instances at once ----------------------------------------------------------
    t0 = time.monotonic()
    subprocess.run(["sh", os.path.join(HERE, "make_certs.sh"), certs], check=True,
                   stderr=subprocess.DEVNULL)
    print("make_certs.sh: %.3f s" % (time.monotonic() - t0))
    a = Instance("--user", "%s:%s" % (USER, PASSWORD), "--mailbox", "rcpt1@example.test",
                 "--certs", certs)
    b = Instance("--user", "%s:%s" % (USER, PASSWORD), "--sender-login",
                 "--owns", "%s:alias@example.test" % USER, "--recipient-limit", "3",
                 "--connection-limit", "2", "--timeout", "2s", "--no-chunking",
                 "--certs", certs)
    print("instance A %s ready in %.3f s (Postfix start %d ms)" % (a.dir, a.ready_s, a.start_ms))
    print("instance B %s ready in %.3f s (Postfix start %d ms)" % (b.dir, b.ready_s, b.start_ms))
    check("two instances run at once", a.master_pid != b.master_pid and
          len({a.plain, a.submission, a.smtps, b.plain, b.submission, b.smtps}) == 6)

    # ---- plain -----------------------------------------------------------------------------
    msg = (b"From: wiki@example.test\r\nTo: rcpt1@example.test\r\nSubject: plain\r\n\r\n"
           b"line 1\r\n.leading dot\r\n\r\nlast line\r\n")
    s = smtplib.SMTP("127.0.0.1", a.plain, local_hostname="client.test")
    code, text = s.ehlo()
    feats = text.decode().split("\n")[1:]
    check("plain: EHLO offers PIPELINING and CHUNKING, no STARTTLS, no AUTH",
          "PIPELINING" in feats and "CHUNKING" in feats and "STARTTLS" not in feats
          and not any(f.startswith("AUTH") for f in feats), " ".join(feats))
    t0 = time.monotonic()
    refused = s.sendmail("wiki@example.test", ["rcpt1@example.test", "Someone.Else@Example.Test"],
                         msg)
    s.quit()
    files = a.delivered(2)
    took = time.monotonic() - t0
    check("plain: delivered to 2 Maildirs within 1 s", not refused and len(files) == 2
          and took < 1.0, "%.3f s: %s" % (took, ", ".join(os.path.relpath(f, a.maildir)
                                                          for f in files)))
    by_box = {os.path.relpath(f, a.maildir).split("/new/")[0]: open(f, "rb").read()
              for f in files}
    want = msg.replace(b"\r\n", b"\n")
    check("plain: mailbox file = Postfix headers + message (LF line ends)",
          body_after_postfix_headers(by_box.get("example.test/rcpt1", b"")) == want)
    catch = by_box.get("example.test/_catchall", b"")
    check("plain: catch-all Maildir, Delivered-To names the recipient",
          b"\nDelivered-To: Someone.Else@Example.Test\n" in catch
          and catch.startswith(b"Return-Path: <wiki@example.test>\n"),
          catch.split(b"\nReceived:")[0].decode().replace("\n", " | "))

    # Bytes Postfix could be suspected of changing: an 8-bit body, a 5000-byte line (over
    # line_length_limit 2048, stored in pieces), a lone dot, trailing blanks, a long header.
    odd = ("From: wiki@example.test\r\nSubject: " + "x" * 1500 + "\r\n\r\n"
           "Grüße, 日本語\r\n" + "y" * 5000 + "\r\n.\r\ntrailing blanks  \t\r\n").encode()
    s = smtplib.SMTP("127.0.0.1", a.plain, local_hostname="client.test")
    refused = s.sendmail("wiki@example.test", ["odd@example.test"], odd,
                         mail_options=["BODY=8BITMIME"])
    s.quit()
    files = a.delivered(3)
    got = [open(f, "rb").read() for f in files if b"Delivered-To: odd@" in open(f, "rb").read()]
    check("plain: 8-bit body, 5000-byte line, lone dot delivered unchanged",
          not refused and len(got) == 1
          and body_after_postfix_headers(got[0]) == odd.replace(b"\r\n", b"\n"))
    s = smtplib.SMTP("127.0.0.1", a.plain, local_hostname="client.test")
    s.mail("wiki@example.test")
    r = s.rcpt("x@other.test")
    s.quit()
    check("plain: recipient outside the test domains refused", r[0] == 550, reply_of(r))

    # BDAT by hand (smtplib has none), then the wire log.
    data = b"Subject: bdat\r\n\r\nchunked body\r\n"
    replies = raw_session(a.plain, [
        b"EHLO client.test\r\n",
        b"MAIL FROM:<wiki@example.test>\r\n",
        b"RCPT TO:<rcpt2@example.test>\r\n",
        b"BDAT %d LAST\r\n" % len(data) + data,
        b"QUIT\r\n",
    ])
    check("plain: BDAT n LAST accepted", replies[4].startswith("250 "), replies[4])
    files = a.delivered(4)
    got = [open(f, "rb").read() for f in files if b"Subject: bdat" in open(f, "rb").read()]
    check("plain: BDAT message delivered byte for byte",
          len(got) == 1 and body_after_postfix_headers(got[0]) == data.replace(b"\r\n", b"\n"))
    conns = a.connections()
    cmds = conns[-1]["commands"] if conns else []
    check("plain: wire log shows the client's commands",
          "BDAT %d LAST" % len(data) in cmds and cmds[0] == "EHLO client.test",
          " / ".join(cmds))

    # ---- submission: STARTTLS required, then AUTH ------------------------------------------
    s = smtplib.SMTP("127.0.0.1", a.submission, local_hostname="client.test")
    code, text = s.ehlo()
    feats = text.decode().split("\n")[1:]
    check("submission: STARTTLS offered, AUTH not before TLS",
          "STARTTLS" in feats and not any(f.startswith("AUTH") for f in feats))
    r = s.mail("wiki@example.test")
    check("submission: MAIL before STARTTLS refused", r[0] == 530, reply_of(r))
    s.starttls(context=ctx(a))
    code, text = s.ehlo()
    feats = text.decode().split("\n")[1:]
    check("submission: after STARTTLS, AUTH PLAIN LOGIN", "AUTH PLAIN LOGIN" in feats,
          [f for f in feats if f.startswith("AUTH")][0] if feats else "")
    r = s.mail("wiki@example.test")
    r2 = s.rcpt("rcpt1@example.test")
    check("submission: RCPT without AUTH refused", r2[0] >= 500, reply_of(r2))
    s.rset()
    try:
        s.login(USER, "wrong")
        check("submission: wrong password refused", False)
    except smtplib.SMTPAuthenticationError as e:
        check("submission: wrong password refused", e.smtp_code == 535, reply_of(e))
    s.close()
    s = smtplib.SMTP("127.0.0.1", a.submission, local_hostname="client.test")
    s.starttls(context=ctx(a))
    s.ehlo()
    r = s.login(USER, PASSWORD)
    check("submission: AUTH PLAIN", r[0] == 235, reply_of(r))
    refused = s.sendmail(USER, ["tls@example.test"], b"Subject: submission\r\n\r\nx\r\n")
    s.quit()
    check("submission: message accepted", not refused)

    s = smtplib.SMTP("127.0.0.1", a.submission, local_hostname="client.test")
    s.starttls(context=ctx(a))
    s.ehlo()
    s.user, s.password = USER, PASSWORD
    r = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    check("submission: AUTH LOGIN", r[0] == 235, reply_of(r))
    s.quit()

    # ---- smtps: implicit TLS ---------------------------------------------------------------
    s = smtplib.SMTP_SSL("127.0.0.1", a.smtps, local_hostname="client.test", context=ctx(a))
    code, text = s.ehlo()
    feats = text.decode().split("\n")[1:]
    check("smtps: TLS from the first byte, AUTH offered, no STARTTLS",
          "AUTH PLAIN LOGIN" in feats and "STARTTLS" not in feats,
          "%s / %s" % (s.sock.version(), s.sock.getpeercert()["subject"]))
    r = s.login(USER, PASSWORD)
    refused = s.sendmail(USER, ["smtps@example.test"], b"Subject: smtps\r\n\r\nx\r\n")
    s.quit()
    check("smtps: AUTH and message accepted", r[0] == 235 and not refused)
    files = a.delivered(6)
    check("submission + smtps messages delivered", len(files) == 6, "%d files" % len(files))

    # ---- instance B: the limits ------------------------------------------------------------
    s = smtplib.SMTP("127.0.0.1", b.plain, local_hostname="client.test")
    code, text = s.ehlo()
    feats = text.decode().split("\n")[1:]
    check("--no-chunking: no CHUNKING, PIPELINING still there",
          "CHUNKING" not in feats and "PIPELINING" in feats, " ".join(feats))
    s.quit()

    s = smtplib.SMTP_SSL("127.0.0.1", b.smtps, local_hostname="client.test", context=ctx(b))
    s.login(USER, PASSWORD)
    r1 = s.mail("someone.else@example.test")
    r2 = s.rcpt("rcpt1@example.test")
    check("--sender-login: MAIL FROM not owned -> refused at RCPT", r1[0] == 250 and r2[0] == 553,
          "MAIL: %s; RCPT: %s" % (reply_of(r1), reply_of(r2)))
    s.rset()
    r1 = s.mail("alias@example.test")
    r2 = s.rcpt("rcpt1@example.test")
    check("--owns: an address the user owns is fine", r2[0] == 250, reply_of(r2))
    s.rset()
    s.mail(USER)
    rs = [s.rcpt("r%d@example.test" % i) for i in range(1, 5)]
    check("--recipient-limit 3: the 4th RCPT refused",
          [r[0] for r in rs] == [250, 250, 250, 452], reply_of(rs[3]))
    s.quit()

    c1 = socket.create_connection(("127.0.0.1", b.plain))
    c2 = socket.create_connection(("127.0.0.1", b.plain))
    g1, g2 = read_reply(c1.makefile("rb")), read_reply(c2.makefile("rb"))
    c3 = socket.create_connection(("127.0.0.1", b.plain), timeout=5)
    g3 = read_reply(c3.makefile("rb"))
    c4 = socket.create_connection(("127.0.0.1", b.submission), timeout=5)
    g4 = read_reply(c4.makefile("rb"))
    check("--connection-limit 2: the 3rd connection from 127.0.0.1 refused",
          g1.startswith("220") and g2.startswith("220") and g3.startswith("421"), g3)
    check("--connection-limit: counted per port (submission still open)", g4.startswith("220"),
          g4)
    for c in (c1, c2, c3, c4):
        c.close()

    time.sleep(0.2)
    c = socket.create_connection(("127.0.0.1", b.plain), timeout=10)
    f = c.makefile("rb")
    read_reply(f)
    c.sendall(b"EHLO client.test\r\n")
    read_reply(f)
    t0 = time.monotonic()
    idle = read_reply(f)
    waited = time.monotonic() - t0
    eof = f.read()
    check("--timeout 2s: idle connection closed", idle.startswith("421") and eof == b""
          and 1.5 < waited < 4, "after %.1f s: %s" % (waited, idle))
    c.close()

    # ---- stop: fast and nothing left behind ------------------------------------------------
    for name, inst in (("A", a), ("B", b)):
        took = inst.stop()
        left = subprocess.run(["pgrep", "-f", inst.dir], stdout=subprocess.PIPE).stdout.split()
        left += subprocess.run(["pgrep", "-s", str(inst.master_pid)],
                               stdout=subprocess.PIPE).stdout.split()
        alive = [p for p in left if open("/proc/%s/stat" % p.decode()).read().split(") ")[1][0]
                 != "Z"] if left else []
        check("stop %s: %.3f s, no process left, directory removed" % (name, took),
              not alive and not os.path.exists(inst.dir) and took < 2, str(alive))

    # ---- start/stop time ---------------------------------------------------------------------
    starts, stops = [], []
    for _ in range(5):
        inst = Instance("--user", "%s:%s" % (USER, PASSWORD), "--certs", certs)
        starts.append(inst.ready_s)
        stops.append(inst.stop())
    print("start (READY, Python included, certificates given): %s s" %
          " ".join("%.3f" % x for x in starts))
    print("stop: %s s" % " ".join("%.3f" % x for x in stops))
    check("start under 2 s, stop under 1 s", max(starts) < 2 and max(stops) < 1)

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
