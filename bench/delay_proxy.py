#!/usr/bin/env python3
"""A TCP proxy that adds latency: every chunk read from one side is written to the other
side DELAY milliseconds after it was read, in both directions, so one request/response round
trip through the proxy costs about 2 * DELAY (the RTT) more than without it.

Timers are microsecond-precise (select(), small timer slack: see precise_timers()).
Order is kept: each direction has a FIFO queue and one writer that waits for each chunk's own
due time, so chunks sent back to back (pipelining) are delayed once, not once per chunk.
The proxy is a TCP endpoint itself: TCP ACKs are not delayed, only the data, which is what
the SMTP conversation waits for. The TCP handshake is emulated: the proxy connects upstream
3 * DELAY (1.5 RTT) after it accepted, and nothing the client sent reaches the server before
that, so the greeting (or, with implicit TLS, the reply to the ClientHello) arrives 2 RTT
after connect(), as over a real link (SYN, SYN-ACK, ACK + the server's first bytes);
--no-connect-delay turns that off.

    delay_proxy.py --listen 127.0.0.1:0 --upstream 127.0.0.1:2525 [--delay-ms 1]
                   [--log FILE [--trace N]]

Prints "PORT <n>" on stdout once listening (useful with port 0), then runs until killed
(SIGTERM/SIGINT) or, with --max-seconds, until that much time has passed.

--log FILE appends one JSON line per connection when it opens ({"ev": "open", "id": N}) and
one when both directions have closed:

    {"ev": "close", "id": N, "t0": <unix time of accept>, "ms": <duration>,
     "turns": <round trips>, "c_bytes": .., "s_bytes": .., "c_chunks": .., "s_chunks": ..,
     "trace": [[ms, "c"|"s", bytes, "what"], ...]}      (trace: the first N chunks, --trace N)

"turns" counts the round trips the client waited for: 1 for the TCP handshake (unless
--no-connect-delay), plus 1 each time the client sends something (data or its close) after
the proxy has handed it data from the server since the client last sent. Pipelined commands
in one write are one turn; a command that needs no reply (QUIT without waiting for 221) is
none. The trace's "what" is the first line of plain text (AUTH arguments hidden), or the TLS
records in the chunk as type:length (22 handshake, 20 change_cipher_spec, 21 alert,
23 application data: in TLS 1.3 everything after the ServerHello), "+N" for the rest of a
record begun in an earlier chunk. Times are when the proxy read the chunk.

    delay_proxy.py --probe 127.0.0.1:PORT [--count 50]

Measures an SMTP round trip instead: reads the greeting, sends NOOP --count times (one at a
time, TCP_NODELAY) and prints "RTT median_ms min_ms max_ms".
"""

import argparse
import asyncio
import ctypes
import ctypes.util
import json
import re
import selectors
import signal
import socket
import sys
import time


def host_port(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


class Conn:
    """Round trips and (optionally) a trace of one proxied connection."""

    def __init__(self, ident, trace_max, handshake):
        self.id = ident
        self.t0 = time.time()
        self.m0 = time.monotonic()
        self.turns = 1 if handshake else 0
        self.server_data_delivered = False  # since the client last sent
        self.bytes = {"c": 0, "s": 0}
        self.chunks = {"c": 0, "s": 0}
        self.trace_max = trace_max
        self.trace = []
        self.tls_left = {"c": 0, "s": 0}  # bytes of a TLS record still to come
        self.tls_seen = {"c": False, "s": False}
        self.in_auth = False  # plain-text AUTH exchange: client lines not traced

    def read(self, side, data):
        """A chunk (b"" = the close) read from side "c" (client) or "s" (server)."""
        if side == "c" and self.server_data_delivered:
            self.turns += 1
            self.server_data_delivered = False
        if not data:
            return
        self.bytes[side] += len(data)
        self.chunks[side] += 1
        if len(self.trace) < self.trace_max:
            ms = (time.monotonic() - self.m0) * 1000
            self.trace.append([round(ms, 3), side, len(data), self.describe(side, data)])

    def delivered(self, side):
        """Data from side was written to the other side."""
        if side == "s":
            self.server_data_delivered = True

    def describe(self, side, data):
        records = []
        pos = 0
        left = self.tls_left[side]
        if left:
            take = min(left, len(data))
            records.append("+%d" % take)
            pos = take
            left -= take
        tls_start = len(data) >= 3 and data[0] in (20, 21, 22, 23) and data[1] == 3
        if pos == 0 and not tls_start and not self.tls_seen[side]:
            line = data.split(b"\n", 1)[0].rstrip(b"\r")[:60].decode("ascii", "replace")
            if side == "s":
                if line[:1] in ("2", "5"):
                    self.in_auth = False
            elif re.match(r"(?i)auth\s", line):
                line = " ".join(line.split()[:2]) + " ..."
                self.in_auth = True
            elif self.in_auth:
                line = "..."
            return line
        while pos + 5 <= len(data) and data[pos] in (20, 21, 22, 23) and data[pos + 1] == 3:
            self.tls_seen[side] = True
            typ, length = data[pos], int.from_bytes(data[pos + 3:pos + 5], "big")
            records.append("%d:%d" % (typ, length))
            pos += 5 + length
        if pos > len(data):
            left = pos - len(data)
        elif pos < len(data) and not left:
            records.append("?%d" % (len(data) - pos))
        self.tls_left[side] = left
        return " ".join(records)

    def record(self):
        return {
            "ev": "close", "id": self.id, "t0": round(self.t0, 6),
            "ms": round((time.monotonic() - self.m0) * 1000, 3), "turns": self.turns,
            "c_bytes": self.bytes["c"], "s_bytes": self.bytes["s"],
            "c_chunks": self.chunks["c"], "s_chunks": self.chunks["s"], "trace": self.trace,
        }


async def pump(reader, writer_fut, delay, loop, conn, side):
    """Copies reader -> the writer that writer_fut yields, each chunk written `delay` seconds
    after it was read (and not before writer_fut is done: the emulated TCP handshake)."""
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(65536)
                conn.read(side, data)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            conn.read(side, b"")
            queue.put_nowait((loop.time(), b""))

    async def write_side():
        try:
            writer = await writer_fut
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                conn.delivered(side)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def probe(target, count):
    import statistics

    host, port = host_port(target)
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("probe: connection closed")
            if len(line) < 4 or line[3:4] != b"-":
                return line

    reply()
    times = []
    for _ in range(count):
        t = time.perf_counter()
        s.sendall(b"NOOP\r\n")
        reply()
        times.append((time.perf_counter() - t) * 1000)
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
    print(f"RTT {statistics.median(times):.3f} {min(times):.3f} {max(times):.3f}")


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--probe", metavar="HOST:PORT", help="measure NOOP round trips to HOST:PORT and exit")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--upstream")
    ap.add_argument("--delay-ms", type=float, default=1.0, help="one-way delay (default 1 ms: RTT 2 ms)")
    ap.add_argument("--no-connect-delay", action="store_true",
                    help="connect upstream at once (no emulated TCP handshake, not counted as a turn)")
    ap.add_argument("--log", metavar="FILE", help="append a JSON line per connection (open, close)")
    ap.add_argument("--trace", type=int, default=0, metavar="N",
                    help="with --log: the first N chunks of each connection, timed")
    ap.add_argument("--max-seconds", type=float, default=0, help="exit after this long (0: never)")
    args = ap.parse_args()
    if args.probe:
        probe(args.probe, args.count)
        return
    if not args.upstream:
        ap.error("--upstream is required")
    delay = args.delay_ms / 1000.0
    handshake = not args.no_connect_delay
    up_host, up_port = host_port(args.upstream)
    loop = asyncio.get_running_loop()
    log = open(args.log, "a", buffering=1) if args.log else None
    ids = iter(range(1, 1 << 62))

    async def handle(c_reader, c_writer):
        conn = Conn(next(ids), args.trace, handshake)
        if log:
            log.write(json.dumps({"ev": "open", "id": conn.id}) + "\n")
        nodelay(c_writer)
        upstream = loop.create_future()
        # The client's bytes are read (and timed) from now on, but held until the upstream
        # connection exists.
        c_to_s = asyncio.ensure_future(pump(c_reader, upstream, delay, loop, conn, "c"))
        u_writer = None
        try:
            if handshake:
                await asyncio.sleep(3 * delay)
            try:
                u_reader, u_writer = await asyncio.open_connection(up_host, up_port)
            except OSError as e:
                print(f"delay_proxy: upstream {args.upstream}: {e}", file=sys.stderr)
                c_to_s.cancel()
                return
            nodelay(u_writer)
            upstream.set_result(u_writer)
            client = loop.create_future()
            client.set_result(c_writer)
            await asyncio.gather(c_to_s, pump(u_reader, client, delay, loop, conn, "s"))
        finally:
            for w in (c_writer, u_writer):
                if w is not None:
                    w.close()
            if log:
                log.write(json.dumps(conn.record(), separators=(",", ":")) + "\n")

    l_host, l_port = host_port(args.listen)
    server = await asyncio.start_server(handle, l_host, l_port, backlog=128)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.max_seconds > 0:
        loop.call_later(args.max_seconds, stop.set)
    async with server:
        await stop.wait()


def precise_timers():
    """asyncio's default epoll selector waits in whole milliseconds, rounded up, so a 1 ms
    delay becomes 1-2 ms. select() takes microseconds; a smaller timer slack (Linux default
    50 us) keeps the kernel from adding more. Returns the event loop to use."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(29, 1000, 0, 0, 0)  # PR_SET_TIMERSLACK, 1 us
    except (OSError, AttributeError):
        pass
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


if __name__ == "__main__":
    loop = precise_timers()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
