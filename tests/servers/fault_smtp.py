#!/usr/bin/env python3
"""Fault-injecting SMTP test server for php-smtp's tests (standard library only).

Started by the Rust integration tests (tests/*.rs) and the PHP .phpt tests. It listens on
127.0.0.1, prints exactly one line "READY <port>" to stdout once listening, and runs until
SIGTERM/SIGINT or --lifetime seconds have passed. See tests/servers/README.md for the flags
and the recording format; `--help` lists everything.

One thread per connection with blocking sockets: each connection reads its commands from its
own buffer, so pipelined commands are answered one by one, in order.
"""

import argparse
import base64
import json
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback

MAX_LINE = 64 * 1024                # longest command line accepted (bytes, without the newline)
SIZE_LIMIT = 10485760               # advertised SIZE
MAX_KEEP = 64 * 1024 * 1024         # stop storing message data beyond this (memory guard)

REPLY_VERBS = ("GREETING", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
               "DOT", "BDAT", "RSET", "NOOP", "QUIT")
ACTION_VERBS = REPLY_VERBS + ("CONNECT", "MIDDATA")

XOAUTH2_ERROR = base64.b64encode(json.dumps(
    {"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"},
    separators=(",", ":")).encode()).decode()

VERBOSE = False


def log(msg):
    if not VERBOSE:
        return
    try:
        sys.stderr.write("[fault_smtp %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()
    except Exception:
        pass


# ----------------------------------------------------------------------------------------
# Replies

_CODE_RE = re.compile(r"^(\d{3})(?:[ -](.*))?$", re.S)


def parse_reply_text(text):
    """'550 5.7.1 a\\n550 5.7.1 b' -> [('550','5.7.1 a'), ('550','5.7.1 b')].

    Lines are separated by a real newline or by the two characters backslash-n. A line
    without its own code takes the code of the first line."""
    text = text.replace("\\n", "\n")
    raw_lines = [l.rstrip("\r") for l in text.split("\n")]
    out = []
    first_code = None
    for l in raw_lines:
        m = _CODE_RE.match(l)
        if m:
            code, rest = m.group(1), m.group(2) or ""
        elif first_code is not None:
            code, rest = first_code, l
        else:
            raise ValueError("reply must start with a 3-digit code: %r" % text)
        if first_code is None:
            first_code = code
        out.append((code, rest))
    return out


def render(lines):
    """[(code, text), ...] -> bytes with '-' continuation on all but the last line."""
    out = []
    for i, (code, text) in enumerate(lines):
        sep = " " if i == len(lines) - 1 else "-"
        out.append("%s%s%s\r\n" % (code, sep, text))
    return "".join(out).encode("utf-8")


def R(*lines):
    """R('250 2.0.0 Ok') or R('250 a', '250 b') -> [(code, text), ...]."""
    out = []
    for l in lines:
        out.append((l[:3], l[4:]))
    return out


# ----------------------------------------------------------------------------------------
# Recording

class Recorder:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.lock = threading.Lock()
        self.count = 0
        self.transcript = open(os.path.join(directory, "transcript.log"), "a",
                               encoding="utf-8", errors="backslashreplace", newline="\n")

    def line(self, conn, text):
        with self.lock:
            try:
                self.transcript.write("%d %s\n" % (conn, text))
                self.transcript.flush()
            except Exception as e:
                log("transcript write failed: %s" % e)

    def _atomic(self, name, data):
        final = os.path.join(self.dir, name)
        tmp = os.path.join(self.dir, ".%s.tmp" % name)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
        os.replace(tmp, final)

    def message(self, meta, body, raw):
        """Records a completely received message (before any reply); returns its stem."""
        with self.lock:
            self.count += 1
            stem = "%04d" % self.count
            meta = dict(meta)
            meta["raw_data_b64"] = base64.b64encode(bytes(raw)).decode("ascii")
            self._atomic(stem + ".eml", bytes(body))
            self._write_meta(stem, meta)
            return stem, meta

    def _write_meta(self, stem, meta):
        self._atomic(stem + ".json",
                     (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))

    def replied(self, stem, meta, code):
        """Notes the reply that was sent for a recorded message."""
        with self.lock:
            meta = dict(meta)
            meta["reply"] = code
            self._write_meta(stem, meta)


# ----------------------------------------------------------------------------------------
# Connection

class CloseNow(Exception):
    """Close this connection (normal end, fault, or peer gone)."""


class IdleTimeout(Exception):
    pass


def b64decode_strict(s):
    s = s.strip()
    if s == "=":
        return b""
    return base64.b64decode(s, validate=True)


class Session:
    def __init__(self, server, sock, addr, number):
        self.srv = server
        self.cfg = server.cfg
        self.sock = sock
        self.addr = addr
        self.n = number
        self.buf = bytearray()
        self.scan = 0
        self.faulty = (not self.cfg.fault_once) or number == 1
        self.tls = False
        self.greeting_failed = False
        self.reset_session()
        self.msgs_accepted = 0

    # --- state ---------------------------------------------------------------------------
    def reset_session(self):
        self.helo = None
        self.esmtp = None          # None: no EHLO/HELO yet; True: EHLO; False: HELO
        self.advertised = None     # set of EHLO keywords actually sent
        self.auth_user = None
        self.reset_txn()

    def reset_txn(self):
        self.mail_from = None
        self.mail_params = []
        self.rcpt_params = []
        self.rcpts = []
        self.chunks = bytearray()

    # --- logging ---------------------------------------------------------------------------
    def t(self, text):
        if self.srv.recorder:
            self.srv.recorder.line(self.n, text)

    def log(self, msg):
        log("conn %d: %s" % (self.n, msg))

    # --- I/O -------------------------------------------------------------------------------
    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise IdleTimeout()
        except (OSError, ssl.SSLError) as e:
            self.log("recv failed: %s" % e)
            raise CloseNow()
        if not chunk:
            self.log("peer closed")
            raise CloseNow()
        self.buf += chunk
        if self.cfg.read_rate:
            # A slow link: what was read takes len/rate seconds to arrive.
            time.sleep(len(chunk) / self.cfg.read_rate)

    def readline(self, limit=True):
        """One line including its LF; None if the line was longer than MAX_LINE (discarded)."""
        too_long = False
        while True:
            i = self.buf.find(b"\n", self.scan)
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                self.scan = 0
                if limit and len(line) > MAX_LINE + 2:
                    too_long = True
                return None if too_long else line
            if limit and len(self.buf) > MAX_LINE:
                too_long = True
                self.buf.clear()
            self.scan = len(self.buf)
            self._fill()

    def send(self, lines):
        data = render(lines)
        for code, text in lines[:-1]:
            self.t("S: %s-%s" % (code, text))
        self.t("S: %s %s" % lines[-1])
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            self.log("send failed: %s" % e)
            raise CloseNow()

    def blackhole(self):
        """Never answer again: read and discard until the peer goes away."""
        self.log("silent: discarding everything from now on")
        self.buf.clear()
        while True:
            try:
                self._fill()
            except IdleTimeout:
                raise CloseNow()
            self.buf.clear()

    def do_action(self, verb):
        if not self.faulty:
            return
        act = self.cfg.actions.get(verb)
        if act is None:
            return
        kind, secs = act
        if kind == "close":
            self.log("action %s=close" % verb)
            raise CloseNow()
        if kind == "stall":
            # Neither read nor answer again (a peer whose receive window stays shut), until the
            # client goes away or the server's lifetime ends.
            self.log("action %s=stall" % verb)
            while True:
                time.sleep(3600)
        if kind == "silent":
            self.log("action %s=silent" % verb)
            self.blackhole()
        if kind == "delay":
            self.log("action %s=delay:%s" % (verb, secs))
            time.sleep(secs)

    def respond(self, verb, default, before_send=None):
        """Send the reply to VERB, applying --action and --reply faults.

        Returns (code, lines_sent, overridden). Closes after a 421 reply."""
        if verb is not None:
            self.do_action(verb)
        lines = default
        overridden = False
        if verb is not None and self.faulty and verb in self.cfg.replies:
            lines = self.cfg.replies[verb]
            overridden = True
        code = int(lines[0][0])
        if before_send is not None:
            before_send(code)
        self.send(lines)
        if code == 421:
            raise CloseNow()
        if verb is not None and self.faulty and verb in self.cfg.after_replies:
            # An unsolicited reply right behind the real one, the connection left open (as
            # Exchange Online queues a 421 behind a reply).
            self.send(self.cfg.after_replies[verb])
        return code, lines, overridden

    # --- TLS -------------------------------------------------------------------------------
    def start_tls(self):
        self.sock.settimeout(self.cfg.idle_close or 30)
        try:
            self.sock = self.srv.ssl_ctx.wrap_socket(self.sock, server_side=True)
        except Exception as e:
            self.log("TLS handshake failed: %s" % e)
            self.t("HANDSHAKE-FAILED %s" % e)
            raise CloseNow()
        self.sock.settimeout(self.cfg.idle_close)
        self.tls = True
        self.t("TLS")
        self.log("TLS established: %s %s" % (self.sock.version(), self.sock.cipher()[0]))

    # --- main loop ---------------------------------------------------------------------------
    def run(self):
        self.t("OPEN")
        self.log("open from %s" % (self.addr,))
        try:
            self.sock.settimeout(self.cfg.idle_close)
            self.serve()
        except CloseNow:
            pass
        except IdleTimeout:
            self.log("idle timeout")
            if self.cfg.idle_close_421:
                try:
                    self.send(R("421 4.4.2 Idle timeout"))
                except CloseNow:
                    pass
        except Exception:
            self.log("error: %s" % traceback.format_exc())
        finally:
            try:
                self.sock.close()
            except Exception:
                pass
            self.t("CLOSE")
            self.srv.session_ended()
            self.log("closed")

    def serve(self):
        self.do_action("CONNECT")
        if self.cfg.tls == "implicit":
            self.start_tls()
        code, _, _ = self.respond("GREETING", R("220 %s ESMTP fault_smtp ready" % self.cfg.hostname))
        if code != 220:
            self.greeting_failed = True
        while True:
            line = self.readline()
            if line is None:
                self.t("C: <line longer than %d bytes>" % MAX_LINE)
                self.send(R("500 5.5.6 Line too long"))
                continue
            raw = line.rstrip(b"\n")
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            text = raw.decode("utf-8", "replace")
            self.t("C: %s" % text)
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if self.greeting_failed and verb != "QUIT":
                self.send(R("503 5.5.1 Bad sequence of commands"))
                continue
            handler = getattr(self, "cmd_" + verb, None) if verb.isalpha() else None
            if handler is None:
                self.send(R("500 5.5.2 Error: command not recognized"))
                continue
            handler(arg.strip())

    # --- commands ------------------------------------------------------------------------------
    def capabilities(self):
        c = self.cfg
        caps = []
        if c.pipelining:
            caps.append("PIPELINING")
        caps.append("SIZE %d" % c.size)
        if c.eightbit:
            caps.append("8BITMIME")
        if c.chunking:
            caps.append("CHUNKING")
        if not c.no_smtputf8:
            caps.append("SMTPUTF8")
        if c.dsn:
            caps.append("DSN")
        if c.requiretls and self.tls:
            caps.append("REQUIRETLS")
        caps.append("ENHANCEDSTATUSCODES")
        if c.starttls and not self.tls:
            caps.append("STARTTLS")
        if c.auth_user is not None and (self.tls or not c.auth_requires_tls):
            caps.append("AUTH " + " ".join(c.auth_mechs))
        return caps

    def cmd_EHLO(self, arg):
        if self.cfg.no_ehlo:
            self.respond("EHLO", R("502 5.5.1 EHLO not supported"))
            return
        if not arg:
            self.respond("EHLO", R("501 5.5.4 Syntax: EHLO hostname"))
            return
        lines = R("250 %s Hello %s" % (self.cfg.hostname, arg),
                  *["250 " + c for c in self.capabilities()])
        code, sent, _ = self.respond("EHLO", lines)
        if 200 <= code < 300:
            self.reset_txn()
            self.helo = arg
            self.esmtp = True
            self.advertised = {t.split(" ")[0].upper() for _, t in sent[1:] if t}

    def cmd_HELO(self, arg):
        if not arg:
            self.respond("HELO", R("501 5.5.4 Syntax: HELO hostname"))
            return
        code, _, _ = self.respond("HELO", R("250 %s" % self.cfg.hostname))
        if 200 <= code < 300:
            self.reset_txn()
            self.helo = arg
            self.esmtp = False
            self.advertised = set()

    def cmd_STARTTLS(self, arg):
        if self.tls:
            self.respond("STARTTLS", R("554 5.5.1 Error: TLS already active"))
            return
        if not self.cfg.starttls:
            self.respond("STARTTLS", R("502 5.5.1 Error: command not implemented"))
            return
        if arg:
            self.respond("STARTTLS", R("501 5.5.4 Syntax error (no parameters allowed)"))
            return
        code, _, _ = self.respond("STARTTLS", R("220 2.0.0 Ready to start TLS"))
        if code != 220:
            return
        if self.buf:
            # Anything pipelined after STARTTLS must not be trusted (RFC 3207): drop it.
            self.log("discarding %d bytes sent after STARTTLS" % len(self.buf))
            self.buf.clear()
            self.scan = 0
        self.start_tls()
        self.reset_session()

    def cmd_NOOP(self, arg):
        self.respond("NOOP", R("250 2.0.0 Ok"))

    def cmd_RSET(self, arg):
        code, _, _ = self.respond("RSET", R("250 2.0.0 Ok"))
        if 200 <= code < 300:
            self.reset_txn()

    def cmd_QUIT(self, arg):
        self.respond("QUIT", R("221 2.0.0 Bye"))
        raise CloseNow()

    # AUTH ----------------------------------------------------------------------------------
    def auth_line(self):
        line = self.readline()
        if line is None:
            self.t("C: <line longer than %d bytes>" % MAX_LINE)
            return None
        text = line.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
        self.t("C: %s" % text)
        return text

    def check(self, user, password):
        return user == self.cfg.auth_user and password == self.cfg.auth_pass

    def check_token(self, user, token):
        """XOAUTH2: with --xoauth2-tokens, only a token listed in that file (and not past the
        expiry time written after it, if any) is good; without it, the --auth-pass."""
        path = self.cfg.xoauth2_tokens
        if path is None:
            return self.check(user, token)
        if user != self.cfg.auth_user or not token:
            return False
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            return False
        now = time.time()
        for line in lines:
            fields = line.split()
            if fields and fields[0] == token:
                try:
                    return len(fields) < 2 or now < float(fields[1])
                except ValueError:
                    return False
        return False

    def cmd_AUTH(self, arg):
        c = self.cfg
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        initial = initial.strip()
        ok = R("235 2.7.0 Authentication successful")
        bad = R("535 5.7.8 Authentication credentials invalid")
        undecodable = R("501 5.5.2 Cannot decode response")
        if c.auth_user is None:
            self.respond("AUTH", R("503 5.5.1 Error: authentication not enabled"))
            return
        if c.auth_requires_tls and not self.tls:
            self.respond("AUTH", R("538 5.7.11 Encryption required for requested authentication mechanism"))
            return
        if self.auth_user is not None:
            self.respond("AUTH", R("503 5.5.1 Error: already authenticated"))
            return
        if self.mail_from is not None:
            self.respond("AUTH", R("503 5.5.1 Error: MAIL transaction in progress"))
            return
        if not mech:
            self.respond("AUTH", R("501 5.5.4 Syntax: AUTH mechanism"))
            return
        if mech not in c.auth_mechs:
            self.respond("AUTH", R("504 5.5.4 Unrecognized authentication type"))
            return

        def success(user):
            self.auth_user = user
            self.log("authenticated as %r" % user)

        def first(default, on_success_user=None):
            """Send the first reply through the fault layer. True if the exchange goes on."""
            code, _, overridden = self.respond("AUTH", default)
            if overridden:
                if 200 <= code < 300:
                    success(c.auth_user)
                return False
            if 200 <= code < 300 and on_success_user is not None:
                success(on_success_user)
            return code == 334

        def aborted(resp):
            if resp is None:
                self.send(R("500 5.5.6 Line too long"))
                return True
            if resp.strip() == "*":
                self.send(R("501 5.7.0 Authentication aborted"))
                return True
            return False

        if mech == "PLAIN":
            if initial:
                resp = initial
            else:
                if not first(R("334 ")):
                    return
                resp = self.auth_line()
                if aborted(resp):
                    return
            try:
                parts = b64decode_strict(resp).split(b"\0")
            except Exception:
                if initial:
                    self.respond("AUTH", undecodable)
                else:
                    self.send(undecodable)
                return
            good = len(parts) == 3 and self.check(parts[1].decode("utf-8", "replace"),
                                                  parts[2].decode("utf-8", "replace"))
            user = parts[1].decode("utf-8", "replace") if good else None
            if initial:
                first(ok if good else bad, user)
            else:
                self.send(ok if good else bad)
                if good:
                    success(user)
            return

        if mech == "LOGIN":
            if initial:
                try:
                    user = b64decode_strict(initial).decode("utf-8", "replace")
                except Exception:
                    self.respond("AUTH", undecodable)
                    return
                if not first(R("334 UGFzc3dvcmQ6")):
                    return
            else:
                if not first(R("334 VXNlcm5hbWU6")):
                    return
                resp = self.auth_line()
                if aborted(resp):
                    return
                try:
                    user = b64decode_strict(resp).decode("utf-8", "replace")
                except Exception:
                    self.send(undecodable)
                    return
                self.send(R("334 UGFzc3dvcmQ6"))
            resp = self.auth_line()
            if aborted(resp):
                return
            try:
                password = b64decode_strict(resp).decode("utf-8", "replace")
            except Exception:
                self.send(undecodable)
                return
            if self.check(user, password):
                self.send(ok)
                success(user)
            else:
                self.send(bad)
            return

        if mech == "XOAUTH2":
            def parse(s):
                d = b64decode_strict(s).decode("utf-8", "replace")
                fields = {}
                for part in d.split("\x01"):
                    k, sep, v = part.partition("=")
                    if sep:
                        fields[k] = v
                user = fields.get("user")
                authz = fields.get("auth", "")
                token = authz[7:] if authz.startswith("Bearer ") else None
                return user, token

            if initial:
                try:
                    user, token = parse(initial)
                except Exception:
                    self.respond("AUTH", undecodable)
                    return
                good = self.check_token(user, token)
                if good:
                    first(ok, user)
                    return
                if not first(R("334 " + XOAUTH2_ERROR)):
                    return
            else:
                if not first(R("334 ")):
                    return
                resp = self.auth_line()
                if aborted(resp):
                    return
                try:
                    user, token = parse(resp)
                except Exception:
                    self.send(undecodable)
                    return
                if self.check_token(user, token):
                    self.send(ok)
                    success(user)
                    return
                self.send(R("334 " + XOAUTH2_ERROR))
            # after the error challenge the client sends an empty line; whatever it sends, fail
            self.auth_line()
            self.send(bad)
            return

    # Transaction ------------------------------------------------------------------------------
    def allowed_params(self):
        adv = self.advertised
        if adv is None:   # no EHLO/HELO: judge by what we would advertise
            adv = {t.split(" ")[0].upper() for t in self.capabilities()}
        return adv

    def cmd_MAIL(self, arg):
        c = self.cfg
        if c.require_auth and self.auth_user is None:
            self.respond("MAIL", R("530 5.7.0 Authentication required"))
            return
        if c.max_messages is not None and self.msgs_accepted >= c.max_messages:
            self.respond("MAIL", R("421 4.7.0 Too many messages, closing connection"))
            return
        if self.mail_from is not None:
            self.respond("MAIL", R("503 5.5.1 Error: nested MAIL command"))
            return
        m = re.match(r"(?i)^FROM:\s*(?:<([^>]*)>|(\S+))\s*(.*)$", arg)
        if not m:
            self.respond("MAIL", R("501 5.5.4 Syntax: MAIL FROM:<address>"))
            return
        addr = m.group(1) if m.group(1) is not None else m.group(2)
        params = m.group(3).split()
        adv = self.allowed_params()
        for p in params:
            key, _, val = p.partition("=")
            key = key.upper()
            need = {"BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8", "SIZE": "SIZE", "RET": "DSN",
                    "ENVID": "DSN", "REQUIRETLS": "REQUIRETLS"}.get(key)
            if need is not None and need not in adv:
                self.respond("MAIL", R("555 5.5.4 Unsupported option: %s" % p))
                return
            if key == "SIZE":
                try:
                    size = int(val)
                except ValueError:
                    self.respond("MAIL", R("501 5.5.4 Bad SIZE parameter"))
                    return
                if size > self.cfg.size:
                    self.respond("MAIL", R("552 5.3.4 Message size exceeds fixed limit"))
                    return
        # When the transaction began, on the machine's monotonic clock: a rate test counts
        # these in sliding windows.
        began = time.monotonic()
        code, _, _ = self.respond("MAIL", R("250 2.1.0 Ok"))
        if 200 <= code < 300:
            self.mail_at = began
            self.mail_from = addr
            self.mail_params = params
            self.rcpts = []
            self.rcpt_params = []

    def cmd_RCPT(self, arg):
        c = self.cfg
        if self.mail_from is None:
            self.respond("RCPT", R("503 5.5.1 Error: need MAIL command"))
            return
        m = re.match(r"(?i)^TO:\s*(?:<([^>]*)>|(\S+))\s*(.*)$", arg)
        if not m or not (m.group(1) or m.group(2)):
            self.respond("RCPT", R("501 5.1.3 Bad recipient address syntax"))
            return
        addr = m.group(1) if m.group(1) is not None else m.group(2)
        rcpt_params = m.group(3).split()
        for p in rcpt_params:
            key = p.partition("=")[0].upper()
            if key in ("NOTIFY", "ORCPT") and "DSN" not in self.allowed_params():
                self.respond("RCPT", R("555 5.5.4 Unsupported option: %s" % p))
                return
        accept = False
        special = next((text for sub, text in c.rcpt_replies if sub in addr), None)
        # As Postfix does, the recipient limit comes before any check of the address.
        if c.rcpt_limit is not None and len(self.rcpts) >= c.rcpt_limit:
            default = R("452 4.5.3 Too many recipients")
        elif special is not None:
            default = special
            accept = 200 <= int(special[0][0]) < 300
        elif any(s in addr for s in c.reject_rcpt):
            default = R("550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr)
        else:
            default = R("250 2.1.5 Ok")
            accept = True
        code, _, _ = self.respond("RCPT", default)
        if accept and 200 <= code < 300:
            self.rcpts.append(addr)
            self.rcpt_params.append(rcpt_params)

    def cmd_DATA(self, arg):
        if arg:
            self.respond("DATA", R("501 5.5.4 Syntax: DATA"))
            return
        if self.mail_from is None:
            self.respond("DATA", R("503 5.5.1 Error: need MAIL command"))
            return
        if not self.rcpts:
            self.respond("DATA", R("554 5.5.1 No valid recipients"))
            return
        code, _, _ = self.respond("DATA", R("354 End data with <CR><LF>.<CR><LF>"))
        if code != 354:
            return
        self.receive_data()

    def read_exact(self, n):
        """Exactly n bytes from the connection (the BDAT chunk)."""
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        self.scan = 0
        return data

    def cmd_BDAT(self, arg):
        m = re.match(r"(?i)^(\d+)(\s+LAST)?$", arg)
        if not m or "CHUNKING" not in self.allowed_params():
            self.respond("BDAT", R("500 5.5.2 Error: command not recognized"))
            return
        size, last = int(m.group(1)), bool(m.group(2))
        override = self.cfg.replies.get("BDAT") if self.faulty else None
        if override is not None and int(override[0][0]) in (500, 502):
            # A server that does not know BDAT: it never reads the chunk, which it then takes
            # for commands.
            self.respond("BDAT", R("502 5.5.2 unused"))
            return
        if size:
            if not self.buf:
                self._fill()
            self.mid_data_reply()
        chunk = self.read_exact(size)
        self.t("C: <chunk %d bytes%s>" % (size, ", LAST" if last else ""))
        if self.mail_from is None or not self.rcpts:
            # RFC 3030: the chunk is read and thrown away.
            self.send(R("503 5.5.1 Error: need MAIL and RCPT first"))
            self.reset_txn()
            return
        self.chunks += chunk
        if not last:
            self.send(R("250 2.0.0 %d octets received" % size))
            return
        self.deliver(bytes(self.chunks), bytes(self.chunks), "BDAT")

    def mid_data_reply(self):
        """--mid-data-reply: refuse the message in the middle of its data and hang up, without
        reading the rest (as a server that runs out of room)."""
        if self.faulty and self.cfg.mid_data_reply:
            self.t("C: <data %d bytes, incomplete>" % len(self.buf))
            self.send(self.cfg.mid_data_reply)
            raise CloseNow()

    def receive_data(self):
        raw = bytearray()
        body = bytearray()
        raw_len = 0
        # MIDDATA faults fire once the first data bytes are in.
        if not self.buf:
            self._fill()
        self.mid_data_reply()
        if self.faulty and "MIDDATA" in self.cfg.actions:
            kind, _ = self.cfg.actions["MIDDATA"]
            if kind in ("close", "silent", "stall"):
                self.t("C: <data %d bytes, incomplete>" % len(self.buf))
            self.do_action("MIDDATA")
        while True:
            line = self.readline(limit=False)
            raw_len += len(line)
            if line in (b".\r\n", b".\n"):
                raw += line
                break
            if len(raw) < MAX_KEEP:   # past this, only count (the message is too big anyway)
                raw += line
                body += line[1:] if line.startswith(b".") else line
        self.t("C: <data %d bytes>" % raw_len)
        too_big = len(body) > self.cfg.size or len(raw) >= MAX_KEEP
        self.deliver(body, raw, "DOT", too_big)

    def deliver(self, body, raw, verb, too_big=False):
        """Records a completely received message and answers VERB (DOT or BDAT) for it."""
        too_big = too_big or len(body) > self.cfg.size
        qid = secrets.token_hex(5).upper()
        default = (R("552 5.3.4 Message size exceeds fixed maximum message size") if too_big
                   else R("250 2.0.0 Ok: queued as %s" % qid))
        meta = {
            "mail_at": getattr(self, "mail_at", None),
            "received_at": time.monotonic(),
            "mail_from": self.mail_from,
            "mail_params": list(self.mail_params),
            "rcpt_to": list(self.rcpts),
            "rcpt_params": list(self.rcpt_params),
            "helo": self.helo,
            "tls": self.tls,
            "auth_user": self.auth_user,
            "connection": self.n,
            "queue_id": qid,
            "via": "BDAT" if verb == "BDAT" else "DATA",
        }

        # Recorded as soon as the whole message is in, before any reply: a test can then tell
        # a message the server has but never answered for ("reply": null) from one it refused.
        meta["reply"] = None
        stem = None
        if self.srv.recorder is not None:
            stem, meta = self.srv.recorder.message(meta, body, raw)
            self.log("recorded message %s" % stem)

        def before_send(code):
            if stem is not None:
                self.srv.recorder.replied(stem, meta, code)

        try:
            code, _, _ = self.respond(verb, default, before_send)
        finally:
            self.reset_txn()
        if 200 <= code < 300:
            self.msgs_accepted += 1
            if self.cfg.close_after is not None and self.msgs_accepted >= self.cfg.close_after:
                # The session's last message: closed without a word, right behind its reply.
                raise CloseNow()


# ----------------------------------------------------------------------------------------
# Server

class Server:
    def __init__(self, cfg):
        self.cfg = cfg
        self.recorder = Recorder(cfg.record) if cfg.record else None
        self.ssl_ctx = None
        if cfg.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cfg.cert, cfg.key)
            self.ssl_ctx = ctx
        self.count = 0
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        self.lsock = socket.socket(family, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if cfg.read_rate or cfg.mid_data_reply or "MIDDATA" in cfg.actions:
            # Small socket buffers (inherited by accepted sockets), so the client sees the
            # slow reading (or a server that stops reading) instead of filling megabytes of
            # kernel buffers at once.
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
        self.lsock.bind((cfg.host, cfg.port))
        self.lsock.listen(128)
        self.port = self.lsock.getsockname()[1]

    def note_peak(self):
        if self.recorder:
            try:
                with open(os.path.join(self.recorder.dir, "peak"), "w") as f:
                    f.write("%d\n" % self.peak)
            except OSError:
                pass

    def session_ended(self):
        with self.lock:
            self.active -= 1

    def accept_loop(self):
        while True:
            try:
                sock, addr = self.lsock.accept()
            except OSError as e:
                log("accept failed: %s" % e)
                time.sleep(0.05)
                continue
            if self.cfg.nodelay:
                # Each reply is its own write: without this, Nagle holds the second reply of
                # a pipelined group until the client's delayed ACK (~40 ms) of the first.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.count += 1
                n = self.count
                limit = self.cfg.max_connections
                over = limit is not None and self.active >= limit
                if not over:
                    self.active += 1
                    self.peak = max(self.peak, self.active)
                    self.note_peak()
            if over:
                # As Postfix's smtpd_client_connection_count_limit answers.
                try:
                    if self.recorder:
                        self.recorder.line(n, "OPEN")
                        self.recorder.line(n, "S: 421 4.7.0 localhost Error: too many connections from %s" % addr[0])
                        self.recorder.line(n, "CLOSE")
                    sock.sendall(b"421 4.7.0 localhost Error: too many connections from %s\r\n" % addr[0].encode())
                    sock.close()
                except OSError:
                    pass
                continue
            try:
                s = Session(self, sock, addr, n)
                threading.Thread(target=s.run, name="conn-%d" % n, daemon=True).start()
            except Exception:
                log("could not start connection %d: %s" % (n, traceback.format_exc()))
                try:
                    sock.close()
                except Exception:
                    pass


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Fault-injecting SMTP test server. Prints 'READY <port>' once listening.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (default)")
    p.add_argument("--hostname", default="localhost", help="name used in the greeting/EHLO reply")
    p.add_argument("--lifetime", type=float, default=120.0,
                   help="exit after this many seconds (default 120; 0 = no limit)")
    p.add_argument("--exit-on-stdin-close", action="store_true",
                   help="also exit when stdin reaches EOF (e.g. the parent died)")
    p.add_argument("--verbose", action="store_true", help="log to stderr")
    p.add_argument("--record", metavar="DIR", help="record accepted messages and a transcript")
    # TLS
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--tls", choices=("none", "implicit", "starttls"), default="none",
                   help="implicit: TLS from the first byte; starttls: same as --starttls")
    p.add_argument("--starttls", action="store_true", help="offer STARTTLS")
    # capabilities
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--no-ehlo", action="store_true")
    p.add_argument("--chunking", action="store_true", help="offer CHUNKING (BDAT, RFC 3030)")
    p.add_argument("--dsn", action="store_true", help="offer DSN (RFC 3461)")
    p.add_argument("--no-smtputf8", action="store_true", help="do not offer SMTPUTF8")
    p.add_argument("--requiretls", action="store_true", help="offer REQUIRETLS (RFC 8689), after TLS only")
    p.add_argument("--size", type=int, default=SIZE_LIMIT,
                   help="SIZE to offer and enforce (default %d)" % SIZE_LIMIT)
    # auth
    p.add_argument("--auth-user")
    p.add_argument("--auth-pass")
    p.add_argument("--auth-mechs", default="PLAIN LOGIN XOAUTH2",
                   help="mechanisms to offer (default 'PLAIN LOGIN XOAUTH2')")
    p.add_argument("--auth-requires-tls", action="store_true")
    p.add_argument("--xoauth2-tokens", metavar="FILE",
                   help="XOAUTH2 accepts only a token listed in FILE at the time of AUTH "
                        "(lines: TOKEN [EXPIRY_UNIX_TIME]); --auth-pass may then be left out")
    p.add_argument("--require-auth", action="store_true")
    # faults
    p.add_argument("--reply", action="append", default=[], metavar="VERB=TEXT")
    p.add_argument("--action", action="append", default=[], metavar="VERB=close|silent|stall|delay:S")
    p.add_argument("--reject-rcpt", action="append", default=[], metavar="SUBSTRING")
    p.add_argument("--rcpt-reply", action="append", default=[], metavar="SUBSTRING=TEXT",
                   help="RCPT whose address contains SUBSTRING gets TEXT (first match wins)")
    p.add_argument("--after-reply", action="append", default=[], metavar="VERB=TEXT",
                   help="right after the reply to VERB, also send TEXT (unsolicited)")
    p.add_argument("--rcpt-limit", type=int)
    p.add_argument("--read-rate", type=float, metavar="BYTES_PER_S",
                   help="read at most this fast (a slow link; small socket buffers)")
    p.add_argument("--mid-data-reply", metavar="TEXT",
                   help="once message data arrives (DATA or BDAT), send TEXT and close")
    p.add_argument("--max-messages", type=int)
    p.add_argument("--nodelay", action="store_true",
                   help="TCP_NODELAY on every connection (for timing: bench/run.sh)")
    p.add_argument("--close-after", type=int, metavar="N",
                   help="close the connection right after accepting its N-th message")
    p.add_argument("--max-connections", type=int,
                   help="refuse a connection over N at once with Postfix's 421 (peak in DIR/peak)")
    p.add_argument("--idle-close", type=float, metavar="SECONDS")
    p.add_argument("--idle-close-421", action="store_true")
    p.add_argument("--fault-once", action="store_true",
                   help="--reply/--action apply to the first connection only")
    a = p.parse_args(argv)

    if a.tls == "starttls":
        a.starttls = True
        a.tls = "none"
    if a.tls == "implicit" and a.starttls:
        p.error("--tls implicit and --starttls exclude each other")
    if (a.tls == "implicit" or a.starttls) and not (a.cert and a.key):
        p.error("TLS needs --cert and --key")
    if bool(a.cert) != bool(a.key):
        p.error("--cert and --key go together")
    if (a.auth_user is None) != (a.auth_pass is None) and not (a.xoauth2_tokens and a.auth_user):
        p.error("--auth-user and --auth-pass go together")
    if a.idle_close_421 and not a.idle_close:
        p.error("--idle-close-421 needs --idle-close")
    if a.idle_close is not None and a.idle_close <= 0:
        a.idle_close = None

    a.pipelining = not a.no_pipelining
    a.eightbit = not a.no_8bitmime
    a.auth_mechs = [m.upper() for m in a.auth_mechs.replace(",", " ").split()]
    for m in a.auth_mechs:
        if m not in ("PLAIN", "LOGIN", "XOAUTH2"):
            p.error("unsupported AUTH mechanism %s" % m)

    a.replies = {}
    for r in a.reply:
        verb, sep, text = r.partition("=")
        verb = verb.strip().upper()
        if not sep or verb not in REPLY_VERBS:
            p.error("--reply wants VERB=TEXT with VERB one of %s: %r" % (",".join(REPLY_VERBS), r))
        try:
            a.replies[verb] = parse_reply_text(text)
        except ValueError as e:
            p.error(str(e))

    if a.mid_data_reply:
        try:
            a.mid_data_reply = parse_reply_text(a.mid_data_reply)
        except ValueError as e:
            p.error(str(e))

    a.rcpt_replies = []
    for r in a.rcpt_reply:
        sub, sep, text = r.partition("=")
        if not sep or not sub:
            p.error("--rcpt-reply wants SUBSTRING=TEXT: %r" % r)
        try:
            a.rcpt_replies.append((sub, parse_reply_text(text)))
        except ValueError as e:
            p.error(str(e))

    a.after_replies = {}
    for r in a.after_reply:
        verb, sep, text = r.partition("=")
        verb = verb.strip().upper()
        if not sep or verb not in REPLY_VERBS:
            p.error("--after-reply wants VERB=TEXT with VERB one of %s: %r" % (",".join(REPLY_VERBS), r))
        try:
            a.after_replies[verb] = parse_reply_text(text)
        except ValueError as e:
            p.error(str(e))

    a.actions = {}
    for r in a.action:
        verb, sep, what = r.partition("=")
        verb = verb.strip().upper()
        what = what.strip().lower()
        if not sep or verb not in ACTION_VERBS:
            p.error("--action wants VERB=ACTION with VERB one of %s: %r" % (",".join(ACTION_VERBS), r))
        if what in ("close", "silent", "stall"):
            a.actions[verb] = (what, 0.0)
        elif what.startswith("delay:"):
            try:
                a.actions[verb] = ("delay", float(what[6:]))
            except ValueError:
                p.error("bad delay in %r" % r)
        else:
            p.error("--action wants close, silent, stall or delay:SECONDS: %r" % r)
    return a


def main(argv=None):
    global VERBOSE
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    VERBOSE = cfg.verbose
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        server = Server(cfg)
    except Exception as e:
        sys.stderr.write("fault_smtp: cannot start: %s\n" % e)
        sys.stderr.flush()
        return 1

    threading.Thread(target=server.accept_loop, name="accept", daemon=True).start()

    if cfg.exit_on_stdin_close:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except Exception:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()

    sys.stdout.write("READY %d\n" % server.port)
    sys.stdout.flush()
    log("listening on %s:%d" % (cfg.host, server.port))

    deadline = time.monotonic() + cfg.lifetime if cfg.lifetime > 0 else None
    while not stop.is_set():
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                log("lifetime over")
                break
            stop.wait(min(left, 0.5))
        else:
            stop.wait(0.5)
    log("exiting")
    try:
        server.lsock.close()
    except Exception:
        pass
    try:
        sys.stderr.flush()
    except Exception:
        pass
    # Daemon threads may sit in recv(); leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
