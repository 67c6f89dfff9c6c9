#!/usr/bin/env python3
"""OAuth 2.0 token endpoint for php-smtp's tests: HTTPS on 127.0.0.1, acting as Microsoft's
(POST /<tenant>/oauth2/v2.0/token, client credentials) and Google's (POST /token, JWT bearer
grant with a service-account assertion), and for both the refresh_token grant of signed-in users
(--refresh-token, --rotate: each use replaces the token and revokes the old one); Microsoft's
device code flow (POST /<tenant>/oauth2/v2.0/devicecode, then the device_code grant: pending,
slow_down, expired or denied as --device-* say) and Google's authorization_code grant of the
loopback sign-in (--auth-code). Prints exactly one line "READY <port>" once listening.

Standard library, plus the `cryptography` package for Google's RS256 signatures (imported only
when --google-key or --make-google-key is used). See tests/servers/README.md.
"""

import argparse
import base64
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MS_SCOPE = "https://outlook.office365.com/.default"
MS_DELEGATED_SCOPE = "https://outlook.office.com/SMTP.Send offline_access"
MS_COMMON_TENANTS = ("common", "consumers", "organizations")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GOOGLE_SCOPE = "https://mail.google.com/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_BODY = 64 * 1024
VERBOSE = False


def log(msg):
    if VERBOSE:
        try:
            sys.stderr.write("[token_server %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
            sys.stderr.flush()
        except Exception:
            pass


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ----------------------------------------------------------------------------------------
# Errors the endpoint can answer with. Each: (HTTP status, JSON body or None, content type,
# raw body). The descriptions are in the providers' shapes (Microsoft: "AADSTS<n>: ..." then
# trace lines), in our own words.

def ms_error(status, error, code, text):
    desc = ("AADSTS%d: %s\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\n"
            "Correlation ID: 00000000-0000-0000-0000-000000000001\r\n"
            "Timestamp: 2026-01-01 00:00:00Z" % (code, text))
    return status, {"error": error, "error_description": desc, "error_codes": [code],
                    "timestamp": "2026-01-01 00:00:00Z",
                    "trace_id": "00000000-0000-0000-0000-000000000000",
                    "correlation_id": "00000000-0000-0000-0000-000000000001"}


def google_error(status, error, text):
    return status, {"error": error, "error_description": text}


def failure(name, ctx):
    """The answer for --fail NAME (or for a check that failed). ctx: dict with client, tenant."""
    client = ctx.get("client", "")
    tenant = ctx.get("tenant", "")
    table = {
        "AADSTS7000215": lambda: ms_error(
            401, "invalid_client", 7000215,
            "The client secret sent is not valid. Send the secret's value, not its id, for "
            "app '%s'." % client),
        "AADSTS7000222": lambda: ms_error(
            401, "invalid_client", 7000222,
            "The client secrets of app '%s' have expired." % client),
        "AADSTS700016": lambda: ms_error(
            400, "unauthorized_client", 700016,
            "No application with id '%s' was found in directory '%s'." % (client, tenant)),
        "AADSTS90002": lambda: ms_error(
            400, "invalid_request", 90002, "Tenant '%s' was not found." % tenant),
        "invalid_scope": lambda: ms_error(
            400, "invalid_scope", 1002012,
            "The scope requested is not valid for this client."),
        "google_invalid_scope": lambda: google_error(
            400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."),
        "unauthorized_client": lambda: google_error(
            401, "unauthorized_client",
            "Client is not allowed to get tokens this way, or not for the scopes asked."),
        "invalid_grant": lambda: google_error(400, "invalid_grant", "Invalid JWT Signature."),
        "ms_refresh_expired": lambda: ms_error(
            400, "invalid_grant", 700082,
            "The refresh token has expired due to inactivity. The token was issued on "
            "2026-01-01 and was inactive for 90.00:00:00."),
        "google_refresh_revoked": lambda: google_error(
            400, "invalid_grant", "Token has been expired or revoked."),
        "invalid_grant_sub": lambda: google_error(400, "invalid_grant", "Invalid email or User ID"),
        "invalid_grant_time": lambda: google_error(
            400, "invalid_grant",
            "Invalid JWT: the token must be short-lived and in a reasonable timeframe. Check "
            "the iat and exp values and the clock."),
    }
    if name in table:
        status, body = table[name]()
        return status, "application/json; charset=utf-8", json.dumps(body).encode()
    if name == "http500":
        return 500, "text/html", b"<html><body>Internal Server Error</body></html>"
    if name == "http503":
        return 503, "text/plain", b"Service Unavailable"
    if name == "http404":
        return 404, "text/html", b"<html><body>Not Found</body></html>"
    if name == "no_token":
        return 200, "application/json", json.dumps(
            {"token_type": "Bearer", "expires_in": 3599}).encode()
    if name == "not_json":
        return 200, "text/plain", b"token=nope"
    raise ValueError(name)


FAILURES = ("ms_refresh_expired", "google_refresh_revoked", "AADSTS7000215", "AADSTS7000222", "AADSTS700016", "AADSTS90002", "invalid_scope",
            "google_invalid_scope", "unauthorized_client", "invalid_grant", "invalid_grant_sub",
            "invalid_grant_time", "http500", "http503", "http404", "no_token", "not_json")


# ----------------------------------------------------------------------------------------
# State shared with the tests: issued tokens and request counts

class State:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.requests = 0
        self.issued = 0
        self.by_client = {}
        self.refused = {}
        self.refresh = set()
        self.device = {}
        self.codes = set()
        if directory:
            os.makedirs(directory, exist_ok=True)
            open(os.path.join(directory, "tokens"), "a").close()
            self._write_counts()

    def _atomic(self, name, data):
        tmp = os.path.join(self.dir, ".%s.tmp" % name)
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.dir, name))

    def _write_counts(self):
        self._atomic("requests.json", json.dumps({
            "requests": self.requests, "issued": self.issued,
            "by_client": self.by_client, "refused": self.refused}, indent=2) + "\n")

    def count(self, client, issued, outcome):
        with self.lock:
            self.requests += 1
            self.by_client[client] = self.by_client.get(client, 0) + 1
            if issued:
                self.issued += 1
            else:
                self.refused[client] = self.refused.get(client, 0) + 1
            if self.dir:
                self._write_counts()
                with open(os.path.join(self.dir, "requests.log"), "a") as f:
                    f.write("%.3f %s %s\n" % (time.time(), client or "-", outcome))

    def set_refresh(self, tokens):
        """The refresh tokens valid now, one a line in DIR/refresh_tokens."""
        with self.lock:
            self.refresh = set(tokens)
            if self.dir:
                self._atomic("refresh_tokens", "".join(t + "\n" for t in sorted(self.refresh)))

    def use_refresh(self, token, rotate):
        """True when TOKEN is valid; with rotate, it is revoked and a new one returned."""
        with self.lock:
            if token not in self.refresh:
                return False, None
            if not rotate:
                return True, None
            new = "rt." + secrets.token_urlsafe(32)
            self.refresh.discard(token)
            self.refresh.add(new)
            if self.dir:
                self._atomic("refresh_tokens", "".join(t + "\n" for t in sorted(self.refresh)))
            return True, new

    def add_token(self, token, valid_until):
        if not self.dir:
            return
        line = ("%s %.3f\n" % (token, valid_until)).encode()
        with self.lock:
            fd = os.open(os.path.join(self.dir, "tokens"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


# ----------------------------------------------------------------------------------------
# Google service-account keys

def load_google_key(path):
    from cryptography.hazmat.primitives import serialization
    with open(path) as f:
        info = json.load(f)
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    return info["client_email"], key.public_key()


def make_google_key(out, email, token_uri):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {
        "type": "service_account",
        "project_id": "php-smtp-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(100000000000000000000 + secrets.randbelow(10 ** 20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)


def verify_rs256(public_key, signing_input, signature):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


# ----------------------------------------------------------------------------------------
# The endpoint

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "token_server"

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def do_GET(self):
        self.answer(405, "text/plain", b"POST only\n")

    def do_POST(self):
        cfg = self.server.cfg
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.answer(400, "text/plain", b"bad Content-Length\n")
            return
        raw = self.rfile.read(length) if length else b""
        if cfg.stall == "response":
            log("stalling: never answering")
            time.sleep(cfg.lifetime or 3600)
            return
        if cfg.delay:
            time.sleep(cfg.delay)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            self.server.state.count("", False, "bad content type %s" % ctype)
            self.answer(*failure_json(400, "invalid_request", "Content-Type must be a form"))
            return
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        path = urllib.parse.urlsplit(self.path).path
        grant = form.get("grant_type", "")
        if path.endswith("/oauth2/v2.0/devicecode"):
            self.device_code(form, path)
        elif grant == DEVICE_GRANT:
            self.device_poll(form)
        elif grant == "authorization_code":
            self.authorization_code(form)
        elif grant == "client_credentials":
            self.client_credentials(form, path)
        elif grant == JWT_GRANT:
            self.jwt_bearer(form, path)
        elif grant == "refresh_token":
            self.refresh_token(form, path)
        else:
            self.server.state.count(form.get("client_id", ""), False, "grant %s" % grant)
            self.answer(*failure_json(400, "unsupported_grant_type",
                                      "grant_type %r is not supported" % grant))

    # --- grants ------------------------------------------------------------------------
    def forced_failure(self, ctx):
        """--fail NAME for the first --fail-first requests (all when 0)."""
        cfg = self.server.cfg
        if not cfg.fail:
            return None
        with self.server.lock:
            self.server.answered += 1
            n = self.server.answered
        if cfg.fail_first and n > cfg.fail_first:
            return None
        return cfg.fail

    def tenant_request(self, form, path):
        """The start shared by the grants that take a client id at Microsoft's tenant path
        or at /token: (client, tenant or None, ctx), or None once answered (a forced
        failure, an unknown path)."""
        client = form.get("client_id", "")
        parts = path.strip("/").split("/")
        tenant = parts[0] if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] else None
        ctx = {"client": client, "tenant": tenant or ""}
        forced = self.forced_failure(ctx)
        if forced:
            self.refuse(client, forced, ctx)
            return None
        if tenant is None and path != "/token":
            self.server.state.count(client, False, "unknown path %s" % path)
            self.answer(404, "text/html", b"<html><body>Not Found</body></html>")
            return None
        return client, tenant, ctx

    def client_credentials(self, form, path):
        cfg = self.server.cfg
        start = self.tenant_request(form, path)
        if start is None:
            return
        client, tenant, ctx = start
        if tenant is not None and tenant != cfg.tenant:
            return self.refuse(client, "AADSTS90002", ctx)
        if client not in cfg.clients:
            return self.refuse(client, "AADSTS700016", ctx)
        if form.get("client_secret") != cfg.clients[client]:
            return self.refuse(client, "AADSTS7000215", ctx)
        scope = form.get("scope")
        if scope is None and not cfg.allow_no_scope or scope is not None and scope not in cfg.scope:
            return self.refuse(client, "invalid_scope", ctx)
        self.issue(client, scope)

    def jwt_bearer(self, form, path):
        cfg = self.server.cfg
        assertion = form.get("assertion", "")
        try:
            h, c, s = assertion.split(".")
            header = json.loads(b64url_decode(h))
            claims = json.loads(b64url_decode(c))
            signature = b64url_decode(s)
        except Exception:
            self.server.state.count("", False, "malformed assertion")
            self.answer(*failure_json(400, "invalid_grant", "Invalid JWT format."))
            return
        client = claims.get("iss", "")
        ctx = {"client": client}
        forced = self.forced_failure(ctx)
        if forced:
            return self.refuse(client, forced, ctx)
        if cfg.google is None or path != "/token":
            self.server.state.count(client, False, "no google key or wrong path %s" % path)
            self.answer(404, "text/html", b"<html><body>Not Found</body></html>")
            return
        email, public_key = cfg.google
        if header.get("alg") != "RS256" or client != email:
            return self.refuse(client, "invalid_grant", ctx)
        if not verify_rs256(public_key, ("%s.%s" % (h, c)).encode(), signature):
            return self.refuse(client, "invalid_grant", ctx)
        expected_aud = "https://%s%s" % (self.headers.get("Host", ""), path)
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (claims.get("aud") != expected_aud or not isinstance(iat, int)
                or not isinstance(exp, int) or exp - iat > 3600 or iat > now + 60 or exp < now):
            return self.refuse(client, "invalid_grant_time", ctx)
        if claims.get("sub") not in cfg.google_user:
            return self.refuse(client, "invalid_grant_sub", ctx)
        if claims.get("scope") != cfg.google_scope:
            return self.refuse(client, "unauthorized_client", ctx)
        self.issue(client, claims.get("scope"))

    def refresh_token(self, form, path):
        """A signed-in user's refresh token: Microsoft's shape (a tenant path, the delegated
        scope) or Google's (/token, a client secret, no scope needed)."""
        cfg = self.server.cfg
        start = self.tenant_request(form, path)
        if start is None:
            return
        client, tenant, ctx = start
        if tenant is not None and tenant != cfg.tenant and tenant not in MS_COMMON_TENANTS:
            return self.refuse(client, "AADSTS90002", ctx)
        if client not in cfg.clients:
            return self.refuse(client, "AADSTS700016", ctx)
        # A public client (--client ID=) has no secret; a confidential one must send it.
        if cfg.clients[client] and form.get("client_secret") != cfg.clients[client]:
            return self.refuse(client, "AADSTS7000215", ctx)
        if tenant is not None and form.get("scope") != MS_DELEGATED_SCOPE:
            return self.refuse(client, "invalid_scope", ctx)
        ok, new = self.server.state.use_refresh(form.get("refresh_token", ""), cfg.rotate)
        if not ok:
            return self.refuse(client, "ms_refresh_expired" if tenant else "google_refresh_revoked", ctx)
        self.issue(client, form.get("scope"), refresh=new)

    def new_refresh(self):
        token = "rt." + secrets.token_urlsafe(32)
        state = self.server.state
        state.set_refresh(state.refresh | {token})
        return token

    def device_code(self, form, path):
        cfg = self.server.cfg
        client = form.get("client_id", "")
        tenant = path.strip("/").split("/")[0]
        ctx = {"client": client, "tenant": tenant}
        if tenant != cfg.tenant and tenant not in MS_COMMON_TENANTS:
            return self.refuse(client, "AADSTS90002", ctx)
        if client not in cfg.clients:
            return self.refuse(client, "AADSTS700016", ctx)
        if form.get("scope") != MS_DELEGATED_SCOPE:
            return self.refuse(client, "invalid_scope", ctx)
        code = "dc." + secrets.token_urlsafe(24)
        user_code = "TEST-%04d" % (secrets.randbelow(10000))
        with self.server.lock:
            self.server.state.device[code] = {"polls": 0, "client": client}
        self.server.state.count(client, False, "device code %s" % user_code)
        uri = "https://microsoft.example/devicelogin"
        self.answer(200, "application/json", json.dumps({
            "device_code": code, "user_code": user_code, "verification_uri": uri,
            "expires_in": cfg.device_expires_in, "interval": 1,
            "message": "To sign in, use a web browser to open the page %s and enter the code %s "
                       "to authenticate." % (uri, user_code)}).encode())

    def device_poll(self, form):
        """--device-pending N answers authorization_pending N times (the second one
        slow_down with --device-slow-down), then --device-outcome."""
        cfg = self.server.cfg
        client = form.get("client_id", "")
        with self.server.lock:
            d = self.server.state.device.get(form.get("device_code", ""))
            if d is not None:
                d["polls"] += 1
                polls = d["polls"]
        if d is None or d["client"] != client:
            self.server.state.count(client, False, "device poll: unknown code")
            return self.answer(*failure_json(400, "invalid_grant", "unknown device code"))
        if polls <= cfg.device_pending:
            kind = "slow_down" if cfg.device_slow_down and polls == 2 else "authorization_pending"
            self.server.state.count(client, False, "device poll %d: %s" % (polls, kind))
            return self.answer(*failure_json(400, kind, "AADSTS70016: OAuth 2.0 device flow "
                                             "error. Authorization is pending."))
        if cfg.device_outcome == "expired":
            self.server.state.count(client, False, "device poll: expired_token")
            return self.answer(*failure_json(400, "expired_token", "AADSTS70020: The provided "
                                             "value for the input parameter 'device_code' is "
                                             "not valid. Device codes are valid for 15 minutes."))
        if cfg.device_outcome == "denied":
            self.server.state.count(client, False, "device poll: access_denied")
            return self.answer(*failure_json(400, "access_denied", "AADSTS70000: the user "
                                             "declined"))
        with self.server.lock:
            self.server.state.device.pop(form.get("device_code", ""), None)
        self.issue(client, MS_DELEGATED_SCOPE, refresh=self.new_refresh())

    def authorization_code(self, form):
        """Google's loopback sign-in: a code from --auth-code (once), the client secret, a
        loopback redirect_uri and a PKCE verifier."""
        cfg = self.server.cfg
        client = form.get("client_id", "")
        ctx = {"client": client}
        if client not in cfg.clients or form.get("client_secret") != cfg.clients[client]:
            return self.refuse(client, "unauthorized_client", ctx)
        redirect = form.get("redirect_uri", "")
        verifier = form.get("code_verifier", "")
        with self.server.lock:
            ok = form.get("code") in self.server.state.codes
            self.server.state.codes.discard(form.get("code"))
        if (not ok or not redirect.startswith("http://127.0.0.1:")
                or not 43 <= len(verifier) <= 128):
            self.server.state.count(client, False, "authorization_code refused")
            return self.answer(*failure_json(400, "invalid_grant", "Bad Request"))
        self.issue(client, GOOGLE_SCOPE, refresh=self.new_refresh())

    def refuse(self, client, name, ctx):
        self.server.state.count(client, False, name)
        self.answer(*failure(name, ctx))

    def issue(self, client, scope, refresh=None):
        cfg = self.server.cfg
        token = "tok." + secrets.token_urlsafe(24)
        filler = cfg.token_bytes - len(token) - 1
        if filler > 0:
            token += "." + secrets.token_urlsafe(filler)[:filler]
        now = time.time()
        valid = cfg.expires_in if cfg.revoke_after is None else min(cfg.revoke_after, cfg.expires_in)
        self.server.state.add_token(token, now + valid)
        self.server.state.count(client, True, "issued %d bytes, expires_in %d" %
                                (len(token), cfg.expires_in))
        body = {"token_type": "Bearer", "expires_in": cfg.expires_in,
                "ext_expires_in": cfg.expires_in, "access_token": token}
        if scope:
            body["scope"] = scope
        if refresh:
            body["refresh_token"] = refresh
        self.answer(200, "application/json; charset=utf-8", json.dumps(body).encode())

    # --- output ----------------------------------------------------------------------------
    def answer(self, status, ctype, body):
        cfg = self.server.cfg
        reason = self.responses.get(status, ("",))[0]
        head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: %s" % ctype,
                "Cache-Control: no-store", "Connection: close"]
        if cfg.chunked:
            head.append("Transfer-Encoding: chunked")
            half = len(body) // 2
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]) if p)
            payload += b"0\r\n\r\n"
        else:
            head.append("Content-Length: %d" % len(body))
            payload = body
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        self.close_connection = True
        try:
            if cfg.trickle:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(cfg.trickle)
            else:
                self.wfile.write(data)
                self.wfile.flush()
        except OSError as e:
            log("write failed: %s" % e)


def failure_json(status, error, text):
    return status, "application/json", json.dumps({"error": error, "error_description": text}).encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cfg, state):
        self.cfg = cfg
        self.state = state
        self.lock = threading.Lock()
        self.answered = 0
        self.ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_ctx.load_cert_chain(cfg.cert, cfg.key)
        super().__init__((cfg.host, cfg.port), Handler)

    def finish_request(self, request, client_address):
        # Runs on the connection's own thread: the TLS handshake happens here, not in accept.
        if self.cfg.stall == "handshake":
            log("stalling: no TLS handshake")
            time.sleep(self.cfg.lifetime or 3600)
            return
        request.settimeout(30)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("TLS handshake failed: %s" % e)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        log("error: %s" % traceback.format_exc())


def parse_args(argv):
    p = argparse.ArgumentParser(description="OAuth token endpoint for tests. Prints 'READY <port>'.")
    p.add_argument("--make-google-key", metavar="OUT",
                   help="write a new service-account JSON key to OUT and exit")
    p.add_argument("--client-email", default="mailer@php-smtp-test.iam.gserviceaccount.com",
                   help="client_email of --make-google-key")
    p.add_argument("--token-uri", default="https://oauth2.googleapis.com/token",
                   help="token_uri of --make-google-key")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--lifetime", type=float, default=120.0, help="exit after S seconds (0 = never)")
    p.add_argument("--exit-on-stdin-close", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--state", metavar="DIR", help="tokens, requests.json, requests.log")
    p.add_argument("--tenant", default="test-tenant")
    p.add_argument("--client", action="append", default=[], metavar="ID=SECRET")
    p.add_argument("--scope", action="append", metavar="SCOPE",
                   help="scope accepted for client credentials (repeatable; default %s)" % MS_SCOPE)
    p.add_argument("--allow-no-scope", action="store_true",
                   help="client credentials without a scope are accepted")
    p.add_argument("--google-key", metavar="FILE", help="service-account JSON whose assertions to accept")
    p.add_argument("--google-user", action="append", default=[], metavar="MAILBOX",
                   help="accepted JWT sub (repeatable)")
    p.add_argument("--google-scope", default=GOOGLE_SCOPE)
    p.add_argument("--expires-in", type=int, default=3599)
    p.add_argument("--token-bytes", type=int, default=2600)
    p.add_argument("--revoke-after", type=float, metavar="S",
                   help="tokens stop being valid (in the tokens file) S seconds after issue")
    p.add_argument("--refresh-token", action="append", default=[], metavar="TOKEN",
                   help="a refresh token valid at start (repeatable; DIR/refresh_tokens lists the valid ones)")
    p.add_argument("--rotate", action="store_true",
                   help="each refresh returns a new refresh token and revokes the one used")
    p.add_argument("--device-pending", type=int, default=2, metavar="N",
                   help="device code polls answered authorization_pending before the outcome")
    p.add_argument("--device-slow-down", action="store_true",
                   help="the second pending poll is answered slow_down")
    p.add_argument("--device-outcome", choices=("ok", "expired", "denied"), default="ok")
    p.add_argument("--device-expires-in", type=int, default=900)
    p.add_argument("--auth-code", action="append", default=[], metavar="CODE",
                   help="an authorization code the loopback sign-in may exchange (once)")
    p.add_argument("--fail", choices=FAILURES, help="answer every request with this error")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="--fail only the first N requests (0 = all)")
    p.add_argument("--delay", type=float, default=0.0, help="wait S seconds before answering")
    p.add_argument("--trickle", type=float, default=0.0,
                   help="send the response one byte every S seconds")
    p.add_argument("--stall", choices=("handshake", "response"),
                   help="accept and never do the TLS handshake, or never answer the request")
    p.add_argument("--chunked", action="store_true", help="send bodies chunked")
    a = p.parse_args(argv)
    if a.make_google_key:
        return a
    if not (a.cert and a.key):
        p.error("--cert and --key are required")
    a.clients = {}
    for c in a.client:
        cid, sep, secret = c.partition("=")
        if not sep or not cid:
            p.error("--client wants ID=SECRET: %r" % c)
        a.clients[cid] = secret
    a.scope = a.scope or [MS_SCOPE]
    a.google = None
    if a.google_key:
        try:
            a.google = load_google_key(a.google_key)
        except Exception as e:
            p.error("--google-key %s: %s" % (a.google_key, e))
    return a


def main(argv=None):
    global VERBOSE
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    if cfg.make_google_key:
        make_google_key(cfg.make_google_key, cfg.client_email, cfg.token_uri)
        return 0
    VERBOSE = cfg.verbose
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        server = Server(cfg, State(cfg.state))
        server.state.set_refresh(cfg.refresh_token)
        server.state.codes = set(cfg.auth_code)
    except Exception as e:
        sys.stderr.write("token_server: cannot start: %s\n" % e)
        return 1
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if cfg.exit_on_stdin_close:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except Exception:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write("READY %d\n" % server.server_address[1])
    sys.stdout.flush()
    stop.wait(cfg.lifetime if cfg.lifetime > 0 else None)
    log("exiting")
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
