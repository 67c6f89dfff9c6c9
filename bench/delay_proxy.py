#!/usr/bin/env python3
"""A TCP proxy that adds latency: every chunk read from one side is written to the other
side DELAY milliseconds after it was read, in both directions, so one request/response round
trip through the proxy costs about 2 * DELAY (the RTT) more than without it.

Timers are microsecond-precise (select(), small timer slack: see precise_timers()).
Order is kept: each direction has a FIFO queue and one writer that waits for each chunk's own
due time, so chunks sent back to back (pipelining) are delayed once, not once per chunk.
The proxy is a TCP endpoint itself: connection set-up (SYN/ACK) and TCP ACKs are not delayed,
only the data, which is what the SMTP conversation waits for.

    delay_proxy.py --listen 127.0.0.1:0 --upstream 127.0.0.1:2525 [--delay-ms 1]

Prints "PORT <n>" on stdout once listening (useful with port 0), then runs until killed
(SIGTERM/SIGINT) or, with --max-seconds, until that much time has passed.

    delay_proxy.py --probe 127.0.0.1:PORT [--count 50]

Measures an SMTP round trip instead: reads the greeting, sends NOOP --count times (one at a
time, TCP_NODELAY) and prints "RTT median_ms min_ms max_ms".
"""

import argparse
import asyncio
import ctypes
import ctypes.util
import selectors
import signal
import socket
import sys


def host_port(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


async def pump(reader, writer, delay, loop):
    """Copies reader -> writer, each chunk written `delay` seconds after it was read."""
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time(), b""))

    async def write_side():
        try:
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
    import time

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
    ap.add_argument("--max-seconds", type=float, default=0, help="exit after this long (0: never)")
    args = ap.parse_args()
    if args.probe:
        probe(args.probe, args.count)
        return
    if not args.upstream:
        ap.error("--upstream is required")
    delay = args.delay_ms / 1000.0
    up_host, up_port = host_port(args.upstream)
    loop = asyncio.get_running_loop()

    async def handle(c_reader, c_writer):
        try:
            u_reader, u_writer = await asyncio.open_connection(up_host, up_port)
        except OSError as e:
            print(f"delay_proxy: upstream {args.upstream}: {e}", file=sys.stderr)
            c_writer.close()
            return
        nodelay(c_writer)
        nodelay(u_writer)
        try:
            await asyncio.gather(
                pump(c_reader, u_writer, delay, loop),
                pump(u_reader, c_writer, delay, loop),
            )
        finally:
            for w in (c_writer, u_writer):
                w.close()

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
