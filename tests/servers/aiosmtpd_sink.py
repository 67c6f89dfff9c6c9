#!/usr/bin/env python3
"""A recording SMTP sink on aiosmtpd, for php-smtp's Rust integration tests (tests/common).

    python3 tests/servers/aiosmtpd_sink.py --dir DIR [--lifetime S]

Listens on 127.0.0.1 on a free port and prints exactly one line, "READY <port>", to stdout once
listening. For every accepted message it writes, in order:

- DIR/NNNN.eml: the message as received (dot-stuffing removed, line ends kept, final ".\\r\\n"
  left out): aiosmtpd's envelope.original_content.
- DIR/NNNN.env: the envelope, one "key value" line each: "helo NAME", "mail_from ADDR",
  "mail_option OPT" (one line per MAIL parameter), "rcpt ADDR" (one line per accepted RCPT).

Both files are written under a temporary name and renamed, and the .env file comes last, so a
reader that polls for NNNN.env finds both complete. Runs until SIGTERM/SIGINT or --lifetime
seconds (default 60) have passed. Needs `pip install aiosmtpd`.
"""

import argparse
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, directory):
        self.dir = directory
        self.count = 0
        os.makedirs(directory, exist_ok=True)

    def _atomic(self, name, data):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.dir, name))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = "%04d" % self.count
        lines = ["helo %s" % (session.host_name or "")]
        lines.append("mail_from %s" % (envelope.mail_from or ""))
        lines += ["mail_option %s" % o for o in envelope.mail_options]
        lines += ["rcpt %s" % r for r in envelope.rcpt_tos]
        self._atomic(stem + ".eml", bytes(envelope.original_content))
        self._atomic(stem + ".env", ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
        return "250 2.0.0 Ok: queued as %s" % stem


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--lifetime", type=float, default=60.0)
    a = p.parse_args()

    recorder = Recorder(a.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="aiosmtpd.test", decode_data=False,
                     enable_SMTPUTF8=True),
        host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()
    try:
        await asyncio.wait_for(stop.wait(), timeout=a.lifetime if a.lifetime > 0 else None)
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
    # Open sessions may still be waiting on their sockets: leave without waiting for them.
    os._exit(0)
