#!/usr/bin/env python3
"""A private Postfix instance on 127.0.0.1 for php-smtp's tests and benchmark (stdlib only).

Runs as root with the system's Postfix binaries but none of its configuration: everything
(main.cf, master.cf, queue, data, log, Maildirs, sasldb, certificates) lives in one directory,
and `postfix -c DIR start` starts it. It never touches /etc/postfix or port 25.

Three smtpd services on free high ports of 127.0.0.1:
  plain       no TLS, no AUTH
  submission  STARTTLS required (smtpd_tls_security_level=encrypt), then AUTH PLAIN LOGIN
  smtps       implicit TLS (smtpd_tls_wrappermode=yes), AUTH PLAIN LOGIN
Mail for the test domains goes through virtual(8) into Maildirs, one file per recipient:
  <maildir>/<domain>/<localpart>/new/<file>   mailboxes named by --user/--mailbox (lower case)
  <maildir>/<domain>/_catchall/new/<file>     every other recipient at the domain

Prints one line `READY <json>` to stdout once Postfix listens, then runs until SIGTERM/SIGINT,
stdin closes, or --lifetime passes; then stops Postfix (`postfix -c DIR abort`, a wait until
every process of the instance is gone, SIGKILL to the instance's session after 5 s) and
removes the directory unless --keep.

Other uses:
  postfix.py --stop DIR          stop an instance left running by --detach (and remove DIR)
  postfix.py --commands LOGFILE  client commands per connection from the maillog (wire log)

See tests/servers/README.md (## postfix.py).
"""

import argparse
import json
import os
import pwd
import grp
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, "make_certs.sh")
# Owner of the delivered Maildir files (virtual(8) refuses uids below virtual_minimum_uid=100).
MAIL_USER = "nobody"
# The catch-all Maildir of each domain: <maildir>/<domain>/_catchall/
CATCH_ALL = "_catchall"


def die(msg, code=1):
    sys.stderr.write("postfix.py: %s\n" % msg)
    sys.stderr.flush()
    sys.exit(code)


def note(msg):
    sys.stderr.write("postfix.py: %s\n" % msg)
    sys.stderr.flush()


# ----------------------------------------------------------------------------------------
# Configuration


def free_ports(n):
    """n distinct ports nobody listens on right now (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def split_user(spec):
    if ":" not in spec:
        die("--user wants ADDRESS:PASSWORD, got %r" % spec, 2)
    user, password = spec.split(":", 1)
    if "@" in user:
        check_mailbox(user)
    elif not user:
        die("empty --user login", 2)
    return user, password


def check_mailbox(addr):
    """An address whose local part can be a directory name."""
    local, _, domain = addr.rpartition("@")
    if not local or not domain or "/" in addr or local.startswith(".") or local == CATCH_ALL:
        die("not usable as a mailbox: %r" % addr, 2)


def domain_of(addr):
    return addr.rsplit("@", 1)[1].lower() if "@" in addr else None


def mailbox_path(addr):
    """Where virtual(8) delivers addr, relative to the Maildir base (trailing / = Maildir)."""
    local, domain = addr.lower().rsplit("@", 1)
    return "%s/%s/" % (domain, local)


def main_cf(o, d):
    """main.cf text for the instance in directory d."""
    lines = [
        "# Private test instance made by tests/servers/postfix.py; not a system configuration.",
        "compatibility_level = 3.6",
        "queue_directory = %s/queue" % d,
        "data_directory = %s/data" % d,
        "syslog_name = %s" % o.syslog_name,
        "multi_instance_name = %s" % o.syslog_name,
        "maillog_file = %s/maillog" % d,
        "maillog_file_prefixes = %s" % d,
        "myhostname = %s" % o.hostname,
        "mydomain = %s" % o.hostname,
        "myorigin = $myhostname",
        "mydestination =",
        "relay_domains =",
        "mynetworks = 127.0.0.0/8",
        "inet_interfaces = loopback-only",
        "inet_protocols = ipv4",
        "biff = no",
        "notify_classes =",
        # Nothing leaves the instance: every non-virtual destination fails at once.
        "default_transport = error:5.3.0 test instance delivers only to its virtual domains",
        "relay_transport = $default_transport",
        "local_transport = error:5.3.0 test instance has no local delivery",
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
        # Keep the client's header bytes as they are (127.0.0.1 would count as "local" and get
        # missing Date/Message-ID/From headers added and addresses rewritten).
        "local_header_rewrite_clients =",
        "always_add_missing_headers = no",
        # Delivery: virtual(8) into Maildirs, as soon as the queue file is there.
        "virtual_transport = virtual",
        "virtual_mailbox_domains = %s" % ", ".join(o.domains),
        "virtual_mailbox_base = %s/mail" % d,
        "virtual_mailbox_maps = texthash:%s/conf/vmailbox" % d,
        "virtual_uid_maps = static:%d" % o.mail_uid,
        "virtual_gid_maps = static:%d" % o.mail_gid,
        "virtual_mailbox_limit = 0",
        "message_size_limit = %d" % o.message_size_limit,
        "in_flow_delay = 0",
        "queue_run_delay = 1s",
        "minimal_backoff_time = 1s",
        "maximal_backoff_time = 2s",
        "virtual_destination_concurrency_limit = 20",
        "virtual_destination_recipient_limit = 1",
        # TLS and SASL (enabled per service in master.cf).
        "smtpd_tls_cert_file = %s/good.pem" % o.certs,
        "smtpd_tls_key_file = %s/good.key" % o.certs,
        "smtpd_tls_security_level = none",
        "smtpd_tls_loglevel = 1",
        "smtpd_tls_received_header = no",
        "smtpd_sasl_type = cyrus",
        "smtpd_sasl_path = smtpd",
        # Debian's Postfix reads $config_directory/sasl/smtpd.conf (its own patch); upstream
        # Postfix reads cyrus_sasl_config_path. Both point at the same file.
        "cyrus_sasl_config_path = %s/conf/sasl" % d,
        "smtpd_sasl_auth_enable = no",
        "smtpd_sasl_security_options = noanonymous",
        "smtpd_sasl_tls_security_options = noanonymous",
        "smtpd_sasl_authenticated_header = no",
        "smtpd_banner = $myhostname ESMTP Postfix (php-smtp test instance)",
        # Limits and options the caller chose.
        "smtpd_recipient_limit = %d" % o.recipient_limit,
        "smtpd_timeout = %s" % o.timeout,
    ]
    if o.connection_limit:
        lines += [
            "smtpd_client_connection_count_limit = %d" % o.connection_limit,
            # By default $mynetworks (so 127.0.0.1) is exempt from anvil's limits.
            "smtpd_client_event_limit_exceptions =",
        ]
    if o.no_chunking:
        lines.append("smtpd_discard_ehlo_keywords = chunking")
    if o.sender_login:
        lines.append("smtpd_sender_login_maps = texthash:%s/conf/sender_login" % d)
    if o.discard_domains:
        # Queued (cleanup and qmgr as for any mail), then thrown away by discard(8): the
        # benchmark's target, where a Maildir write per message is not what is measured.
        lines.append("transport_maps = texthash:%s/conf/transport" % d)
    if not o.no_wire_log:
        lines += ["debug_peer_list = 127.0.0.1", "debug_peer_level = 1"]
    if o.relay:
        # Later lines would win, but Postfix warns about each repeated name.
        relay = relay_main_cf(o)
        names = {l.split("=", 1)[0].strip() for l in relay}
        lines = [l for l in lines if l.split("=", 1)[0].strip() not in names] + relay
    for extra in o.main:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def relay_main_cf(o):
    """--relay: the reference chain for tests/reference.rs. Mail put in by sendmail (pickup,
    cleanup, as any local submission: missing headers added, addresses qualified) leaves by
    Postfix's own SMTP client for the capture server; nothing is delivered here. Later lines
    of main.cf win, so these replace the virtual-only settings above."""
    return [
        "virtual_mailbox_domains =",
        "default_transport = smtp",
        "relay_transport = smtp",
        "relayhost = [127.0.0.1]:%d" % o.relay,
        # Mail for the capture server's name would count as "loops back to myself".
        "smtp_helo_name = reference.invalid",
        "smtp_tls_security_level = none",
        # Postfix's documented defaults, named here because the harness relies on them: lines
        # over 998 octets are broken with CRLF + space, and 8-bit bodies are converted to
        # quoted-printable for a next hop without 8BITMIME.
        "smtp_line_length_limit = 998",
        "disable_mime_output_conversion = no",
        # One transaction per message whatever its number of recipients.
        "smtp_destination_recipient_limit = 10000",
        "smtp_destination_concurrency_limit = 20",
        # A deferral (capture server gone) fails at once instead of waiting in the queue.
        "maximal_queue_lifetime = 0",
        "bounce_queue_lifetime = 0",
    ]


def master_cf(o, ports):
    """master.cf text: the three smtpd services and the internal ones (chroot = n everywhere)."""
    name = o.syslog_name
    sender = "reject_sender_login_mismatch" if o.sender_login else ""
    auth_opts = [
        "-o smtpd_sasl_auth_enable=yes",
        "-o smtpd_tls_auth_only=yes",
        "-o smtpd_sender_restrictions=%s" % sender if sender else "-o smtpd_sender_restrictions=",
        "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject",
        "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
    ]
    services = [
        ("127.0.0.1:%d" % ports["plain"], ["-o syslog_name=%s/plain" % name]),
        ("127.0.0.1:%d" % ports["submission"], [
            "-o syslog_name=%s/submission" % name,
            "-o smtpd_tls_security_level=encrypt",
        ] + auth_opts),
        ("127.0.0.1:%d" % ports["smtps"], [
            "-o syslog_name=%s/smtps" % name,
            "-o smtpd_tls_wrappermode=yes",
            "-o smtpd_tls_security_level=encrypt",
        ] + auth_opts),
    ]
    out = ["# service type private unpriv chroot wakeup maxproc command + args"]
    for listen, opts in services:
        out.append("%s inet n - n - - smtpd\n  %s" % (listen, "\n  ".join(opts)))
    out += [
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
        "virtual unix - n n - - virtual",
    ]
    if o.relay:
        out += [
            "pickup unix n - n 60 1 pickup",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
        ]
    return "\n".join(out) + "\n"


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    # Postfix reads a configuration or table file only once it is "cool" (modified more than
    # a second before the read starts) and otherwise pauses 300 ms and tries again (util/
    # load_file.c). A file just written would delay `postfix start` by about 2 s.
    past = time.time() - 10
    os.utime(path, (past, past))


# The queue directories as Postfix's postfix-files lists them: (name, owner, group, mode);
# None = root. `postfix start` would make them with `post-install create-missing`, a shell
# loop over postfix-files that takes 0.5-1.5 s; making them here lets the start skip it.
QUEUE_DIRS = [
    ("", None, None, 0o755),
    ("pid", None, None, 0o755),
    ("maildrop", "postfix", "postdrop", 0o730),
    ("public", "postfix", "postdrop", 0o710),
] + [(n, "postfix", None, 0o700) for n in (
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
    "private", "saved", "trace")]


def make_dir(path, uid, gid, mode):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def prepare(o, d):
    """Everything in d except the ports: directories, maps, sasldb, certificates."""
    # Postfix's daemons (user postfix) and virtual(8) (user nobody) walk down from d.
    parent = os.path.dirname(d)
    while parent != "/":
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            die("%s is not searchable by other users (Postfix runs as postfix and nobody): "
                "use a --dir elsewhere" % parent)
        parent = os.path.dirname(parent)
    make_dir(d, 0, 0, 0o755)
    make_dir(os.path.join(d, "conf"), 0, 0, 0o755)
    make_dir(os.path.join(d, "data"), o.postfix_uid, o.postfix_gid, 0o700)
    make_dir(os.path.join(d, "mail"), o.mail_uid, o.mail_gid, 0o755)
    postdrop = grp.getgrnam("postdrop").gr_gid
    for name, owner, group, mode in QUEUE_DIRS:
        make_dir(os.path.join(d, "queue", name),
                 o.postfix_uid if owner else 0,
                 postdrop if group else 0, mode)

    if not o.certs:
        o.certs = os.path.join(d, "certs")
    if not os.path.exists(os.path.join(o.certs, "good.pem")):
        r = subprocess.run(["sh", MAKE_CERTS, o.certs], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            die("make_certs.sh failed: %s" % r.stderr.decode(errors="replace"))
    o.certs = os.path.abspath(o.certs)

    conf = os.path.join(d, "conf")
    # Explicit mailboxes (the users and --mailbox), then the catch-all per domain.
    boxes = {}
    for addr in [u for u, _ in o.users if "@" in u] + o.mailboxes:
        boxes[addr.lower()] = mailbox_path(addr)
    # The catch-all: one Maildir per domain (virtual(8) allows no regexp substitution, so
    # there can be no directory per recipient); Delivered-To names the recipient.
    if not o.no_catch_all:
        for dom in o.domains:
            boxes["@" + dom] = "%s/%s/" % (dom, CATCH_ALL)
    write(os.path.join(conf, "vmailbox"),
          "".join("%s %s\n" % (a, p) for a, p in sorted(boxes.items())))
    # Sender owners: every user owns its own address, plus --owns LOGIN:ADDRESS.
    owners = {}
    for user, _ in o.users:
        if "@" in user:
            owners.setdefault(user.lower(), []).append(user)
    for spec in o.owns:
        login, addr = spec.split(":", 1)
        owners.setdefault(addr.lower(), []).append(login)
    write(os.path.join(conf, "transport"),
          "".join("%s discard:\n" % dom for dom in o.discard_domains))
    write(os.path.join(conf, "sender_login"),
          "".join("%s %s\n" % (a, ",".join(ls)) for a, ls in sorted(owners.items())))

    # Cyrus SASL: smtpd.conf for the application name "smtpd", and a sasldb of our own.
    sasldb = os.path.join(d, "sasldb2")
    make_dir(os.path.join(conf, "sasl"), 0, 0, 0o755)
    write(os.path.join(conf, "sasl", "smtpd.conf"),
          "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
          "sasldb_path: %s\n" % sasldb)
    for user, password in o.users:
        # user@realm: Cyrus splits the login at the last @ into user and realm.
        if "@" in user:
            name, realm = user.rsplit("@", 1)
        else:
            name, realm = user, o.hostname
        r = subprocess.run([SASLPASSWD2, "-f", sasldb, "-p", "-c", "-u", realm, name],
                           input=password.encode(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            die("saslpasswd2 failed for %s: %s" % (user, r.stderr.decode(errors="replace")))
    if os.path.exists(sasldb):
        os.chown(sasldb, 0, o.postfix_gid)
        os.chmod(sasldb, 0o640)


# ----------------------------------------------------------------------------------------
# Start and stop


def run_postfix(d, *args, timeout=30):
    return subprocess.run([POSTFIX, "-c", os.path.join(d, "conf")] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


def master_pid(d):
    try:
        with open(os.path.join(d, "queue", "pid", "master.pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def session_pids(sid):
    """Live processes whose session id is sid (master calls setsid(), its children share it).

    Zombies do not count: the master's parent is init, which may reap them a moment later."""
    pids = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(ent))
    return pids


def stop_instance(d, pid=None, timeout=5.0):
    """Stops the instance whose master is pid (default: from its pid file) and waits until
    every process of it is gone; SIGKILL to its session if need be. True when none is left.

    `postfix stop` sends SIGTERM to the master and then polls in steps of one second, so it
    takes a second or more; `postfix abort` sends the same SIGTERM without waiting, and we
    poll here every 10 ms instead (the master passes the SIGTERM on to its children)."""
    if pid is None:
        pid = master_pid(d)
    if pid is None or not session_pids(pid):
        return True
    if master_pid(d) == pid:
        try:
            run_postfix(d, "abort", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    else:
        # The pid file is gone or names another master: signal ours directly.
        kill(pid, signal.SIGTERM)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not session_pids(pid):
            return True
        time.sleep(0.01)
    note("Postfix processes left after SIGTERM; sending SIGKILL to session %d" % pid)
    for p in session_pids(pid):
        kill(p, signal.SIGKILL)
    time.sleep(0.1)
    return not session_pids(pid)


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def running(d):
    """The master pid of an instance running in d, else None."""
    pid = master_pid(d)
    return pid if pid is not None and session_pids(pid) else None


def start_instance(o, d):
    """Writes the configuration and starts Postfix; retries with new ports if one was taken."""
    conf = os.path.join(d, "conf")
    last = ""
    for _attempt in range(5):
        ports = dict(zip(("plain", "submission", "smtps"), free_ports(3)))
        write(os.path.join(conf, "main.cf"), main_cf(o, d))
        write(os.path.join(conf, "master.cf"), master_cf(o, ports))
        if not o.full_checks:
            # postfix-script skips its integrity checks once (and removes this file).
            write(os.path.join(d, "queue", "quick-start"), "")
        r = run_postfix(d, "start")
        if r.returncode == 0:
            return ports
        last = r.stdout.decode(errors="replace") + tail(os.path.join(d, "maillog"))
        stop_instance(d)
        if "Address already in use" not in last:
            break
        note("a port was taken meanwhile; trying other ports")
    die("postfix start failed:\n%s" % last)


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------------------
# The wire log


LOG_RE = re.compile(r"\s(\S+)/smtpd\[(\d+)\]: (.*)$")


def connections(log_text):
    """The smtpd connections in a maillog, in the order they connected.

    Each is a dict: service (plain/submission/smtps), pid, commands (client lines as read,
    AUTH continuation lines included), replies (server lines as sent), summary (the
    counters of Postfix's "disconnect from" line, or None while still connected)."""
    conns, open_by_pid = [], {}
    for line in log_text.splitlines():
        m = LOG_RE.search(line)
        if not m:
            continue
        prog, pid, text = m.group(1), int(m.group(2)), m.group(3)
        if text.startswith("connect from "):
            c = {"service": prog.rsplit("/", 1)[-1], "pid": pid,
                 "client": text[len("connect from "):], "commands": [], "replies": [],
                 "summary": None}
            conns.append(c)
            open_by_pid[pid] = c
            continue
        c = open_by_pid.get(pid)
        if c is None:
            continue
        if text.startswith("disconnect from "):
            c["summary"] = text[len("disconnect from "):].split(" ", 1)[-1]
            del open_by_pid[pid]
            continue
        # Verbose smtpd (debug_peer_list): "< client: line" read, "> client: line" written.
        for arrow, key in (("< ", "commands"), ("> ", "replies")):
            prefix = arrow + c["client"] + ": "
            if text.startswith(prefix):
                c[key].append(text[len(prefix):])
    return conns


# ----------------------------------------------------------------------------------------
# Main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Private Postfix instance on 127.0.0.1 (see tests/servers/README.md)")
    p.add_argument("--dir", help="instance directory (default: a new one under $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="do not remove the directory at the end")
    p.add_argument("--detach", action="store_true",
                   help="print READY and exit, leaving Postfix running (stop with --stop DIR)")
    p.add_argument("--lifetime", type=float, metavar="S", default=0,
                   help="stop after S seconds (default 0 = no limit)")
    p.add_argument("--hostname", default="localhost", metavar="NAME", help="myhostname (greeting, EHLO)")
    p.add_argument("--domain", action="append", default=[], metavar="DOMAIN",
                   help="virtual mailbox domain (repeatable; default example.test)")
    p.add_argument("--user", action="append", default=[], metavar="LOGIN:PASSWORD",
                   help="SASL user (repeatable); a login that is an address is also a mailbox")
    p.add_argument("--mailbox", action="append", default=[], metavar="ADDRESS",
                   help="explicit mailbox (repeatable); with --no-catch-all the only ones")
    p.add_argument("--discard-domain", action="append", default=[], metavar="DOMAIN",
                   help="accept any recipient at DOMAIN, queue it, then discard it (discard(8), "
                        "logged as status=sent); repeatable")
    p.add_argument("--no-catch-all", action="store_true",
                   help="only listed mailboxes; others get 550 5.1.1 User unknown")
    p.add_argument("--certs", metavar="DIR", help="directory with good.pem/good.key/ca.pem from make_certs.sh "
                                   "(default: made in DIR/certs)")
    p.add_argument("--sender-login", action="store_true",
                   help="submission/smtps: reject_sender_login_mismatch with "
                        "smtpd_sender_login_maps (each user owns its own address)")
    p.add_argument("--owns", action="append", default=[], metavar="LOGIN:ADDRESS",
                   help="with --sender-login: LOGIN may also send as ADDRESS (repeatable)")
    p.add_argument("--recipient-limit", type=int, metavar="N", default=1000, help="smtpd_recipient_limit (default 1000, as Postfix)")
    p.add_argument("--connection-limit", type=int, metavar="N", default=0,
                   help="smtpd_client_connection_count_limit, loopback included (0 = off)")
    p.add_argument("--timeout", default="300s", metavar="T", help="smtpd_timeout (idle close; default 300s, as Postfix), e.g. 2s")
    p.add_argument("--message-size-limit", type=int, metavar="BYTES", default=10240000,
                   help="message_size_limit (default 10240000, as Postfix)")
    p.add_argument("--no-chunking", action="store_true",
                   help="smtpd_discard_ehlo_keywords = chunking")
    p.add_argument("--no-wire-log", action="store_true",
                   help="no debug_peer_list (less logging, for the benchmark)")
    p.add_argument("--relay", type=int, metavar="PORT", default=0,
                   help="reference chain: take mail from sendmail (`sendmail -C DIR/conf`, "
                        "pickup) and relay all of it to 127.0.0.1:PORT; no local delivery")
    p.add_argument("--main", action="append", default=[], metavar="'NAME = VALUE'",
                   help="extra main.cf line (repeatable)")
    p.add_argument("--full-checks", action="store_true",
                   help="let `postfix start` run its integrity checks (about 1 s more)")
    p.add_argument("--stop", metavar="DIR",
                   help="stop the instance in DIR, remove DIR unless --keep, and exit")
    p.add_argument("--commands", metavar="LOGFILE",
                   help="print the client commands of each connection in LOGFILE and exit")
    o = p.parse_args(argv)
    o.domains = [x.lower() for x in o.domain] or ["example.test"]
    o.users = [split_user(u) for u in o.user]
    for addr in [u for u, _ in o.users if "@" in u] + o.mailbox:
        dom = domain_of(addr)
        if dom not in o.domains:
            o.domains.append(dom)
    o.discard_domains = [x.lower() for x in o.discard_domain]
    for dom in o.discard_domains:
        if dom in o.domains or not re.match(r"^[a-z0-9.-]+$", dom):
            die("--discard-domain %r: not a domain name, or already a mailbox domain" % dom, 2)
    for spec in o.owns:
        if ":" not in spec:
            die("--owns wants LOGIN:ADDRESS, got %r" % spec, 2)
    for addr in o.mailbox:
        check_mailbox(addr)
    o.mailboxes = o.mailbox
    return o


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    if o.commands:
        with open(o.commands, errors="replace") as f:
            for i, c in enumerate(connections(f.read()), 1):
                print("# connection %d: %s pid %d %s" % (i, c["service"], c["pid"],
                                                          c["summary"] or "(open)"))
                for cmd in c["commands"]:
                    print(cmd)
        return 0
    if os.geteuid() != 0:
        die("must run as root (postfix -c DIR start)")
    if o.stop:
        d = os.path.abspath(o.stop)
        if not os.path.exists(os.path.join(d, "instance.json")):
            die("%s is not a directory of postfix.py" % d)
        if not stop_instance(d):
            return 1
        if not o.keep:
            shutil.rmtree(d, ignore_errors=True)
        return 0

    pw = pwd.getpwnam("postfix")
    o.postfix_uid, o.postfix_gid = pw.pw_uid, pw.pw_gid
    mail = pwd.getpwnam(MAIL_USER)
    o.mail_uid = mail.pw_uid
    o.mail_gid = grp.getgrgid(mail.pw_gid).gr_gid

    d = os.path.abspath(o.dir or tempfile.mkdtemp(prefix="php-smtp-postfix-"))
    if re.search(r"[\s,=$]", d):
        die("the directory name must not contain blanks, commas, = or $ (main.cf): %r" % d, 2)
    os.makedirs(d, exist_ok=True)
    if running(d):
        die("an instance is already running in %s (stop it with --stop %s)" % (d, d))
    # A reused directory (--dir, --keep): start from empty queue, mail and log.
    for old in ("conf", "queue", "data", "mail", "maillog", "sasldb2", "instance.json"):
        path = os.path.join(d, old)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.unlink(path)
    # A name for syslog_name/multi_instance_name, unique among parallel instances.
    o.syslog_name = "postfix-" + os.path.basename(d).replace("php-smtp-postfix-", "")[-24:]
    o.syslog_name = re.sub(r"[^A-Za-z0-9_.-]", "_", o.syslog_name)

    stop = {"why": None}

    def on_signal(signum, _frame):
        stop["why"] = signal.Signals(signum).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t0 = time.monotonic()
    pid = None
    try:
        prepare(o, d)
        ports = start_instance(o, d)
        pid = master_pid(d)
        info = {
            "plain": ports["plain"],
            "submission": ports["submission"],
            "smtps": ports["smtps"],
            "dir": d,
            "config_directory": os.path.join(d, "conf"),
            "maildir": os.path.join(d, "mail"),
            "log": os.path.join(d, "maillog"),
            "ca": os.path.join(o.certs, "ca.pem"),
            "domains": ",".join(o.domains),
            "master_pid": pid or 0,
            "start_ms": int((time.monotonic() - t0) * 1000),
        }
        write(os.path.join(d, "instance.json"), json.dumps(info, indent=1) + "\n")
        sys.stdout.write("READY %s\n" % json.dumps(info, separators=(",", ":")))
        sys.stdout.flush()
        if o.detach:
            return 0
        wait_for_stop(o, stop)
    finally:
        if not (o.detach and pid):
            ok = stop_instance(d, pid)
            if not ok:
                note("processes of %s are still running" % d)
            if o.keep or not ok:
                note("kept %s" % d)
            else:
                shutil.rmtree(d, ignore_errors=True)
    return 0


def wait_for_stop(o, stop):
    """Returns on a signal, at the end of --lifetime, or when stdin closes (if it is a pipe,
    socket or terminal: not /dev/null or a file)."""
    deadline = time.monotonic() + o.lifetime if o.lifetime > 0 else None
    mode = os.fstat(sys.stdin.fileno()).st_mode
    watch_stdin = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or sys.stdin.isatty()
    while stop["why"] is None:
        wait = 0.5
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                return
        if not watch_stdin:
            time.sleep(wait)
            continue
        try:
            ready, _, _ = select.select([sys.stdin], [], [], wait)
            if ready and not os.read(sys.stdin.fileno(), 4096):
                return
        except (InterruptedError, OSError, ValueError):
            continue


if __name__ == "__main__":
    sys.exit(main())
