#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into the table it prints and bench/results.md.

    report.py RESULTS_TSV OUT_MD --n N --budget S --rtt-ms R --measured-rtt "..." --ext-info "..."

RESULTS_TSV: one line per case run: phase, case, max RSS (KiB or "n/a"), messages smtp-sink
counted for that run, then bench.php's JSON line. Exits 1 if any case failed.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

PEAR_MW = "pear-mediawiki"
RAW = "raw-pipelined"
PHP_MAILERS = ["pear-mediawiki", "pear-persist", "phpmailer-keepalive", "symfony-mailer"]


def php_version():
    try:
        out = subprocess.run(["php", "-n", "-r", "echo PHP_VERSION;"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def mib(n):
    return f"{n / 1048576:.1f} MiB"


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            phase, case, rss, sink, js = line.split("\t", 4)
            try:
                r = json.loads(js)
            except ValueError:
                r = {"case": case, "sent": 0, "failed": 0, "seconds": 0, "peak": 0, "error": "no result: " + js[:200]}
            r["phase"] = phase
            r["case"] = case
            r["rss_kib"] = int(rss) if rss.isdigit() else None
            r["sink"] = int(sink) if sink.lstrip("-").isdigit() else None
            problems = []
            if r.get("failed"):
                problems.append(f"{r['failed']} failed")
            if not r.get("sent"):
                problems.append("nothing sent")
            if r["sink"] is not None and r["sink"] != r.get("sent"):
                problems.append(f"smtp-sink counted {r['sink']}, client reported {r.get('sent')}")
            r["problems"] = problems
            r["ok"] = not problems
            r["rate"] = r["sent"] / r["seconds"] if r["ok"] and r["seconds"] > 0 else None
            rows.append(r)
    return rows


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    if x is None:
        return "—"
    return f"{x:,.1f}×" if x >= 10 else f"{x:.2f}×"


def table(rows, phase, title):
    rs = [r for r in rows if r["phase"] == phase]
    by = {r["case"]: r for r in rs}
    base_mw = by.get(PEAR_MW, {}).get("rate")
    base_raw = by.get(RAW, {}).get("rate")
    lines = [
        f"### {title}",
        "",
        "| case | messages | seconds | runs | msgs/s | ms/msg | client CPU µs/msg | vs pear-mediawiki | vs raw-pipelined | peak memory (real / used) | max RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rs:
        rss = f"{r['rss_kib'] / 1024:.1f} MiB" if r["rss_kib"] else "n/a"
        if r["ok"]:
            rate = f"{r['rate']:,.0f}"
            ms = f"{1000 / r['rate']:.3f}"
            v1, v2 = fmt_ratio(ratio(r["rate"], base_mw)), fmt_ratio(ratio(r["rate"], base_raw))
        else:
            rate = "**FAILED**"
            ms = "—"
            v1 = v2 = "—"
        cpu = f"{1e6 * r['cpu_seconds'] / r['sent']:,.0f}" if r.get("cpu_seconds") is not None and r.get("sent") else "n/a"
        lines.append(
            f"| {r['case']} | {r['sent']} | {r['seconds']:.3f} | {r.get('runs', 1)} | {rate} | {ms} | {cpu} | {v1} | {v2} | {mib(r.get('peak', 0))} / {mib(r.get('peak_used', 0))} | {rss} |"
        )
    failures = [r for r in rs if not r["ok"]]
    for r in failures:
        lines.append("")
        lines.append(f"FAILED {r['case']}: {'; '.join(r['problems'])}; first error: {r.get('error')}")
    return lines, by


def targets(by_loop, by_rtt):
    out = []

    def rate(by, case):
        return by.get(case, {}).get("rate")

    def check(label, value, want):
        if value is None:
            out.append(f"- {label}: **n/a** (a case failed or is missing)")
            return
        ok = value >= want
        out.append(f"- {label}: {fmt_ratio(value)} (target ≥ {want}×) — **{'met' if ok else 'MISSED'}**")

    ext = "ext-mail"
    check("2 ms RTT: ext-mail vs pear-mediawiki", ratio(rate(by_rtt, ext), rate(by_rtt, PEAR_MW)), 20)
    check("2 ms RTT: ext-mail vs raw-pipelined", ratio(rate(by_rtt, ext), rate(by_rtt, RAW)), 0.8)
    check("loopback: ext-mail vs raw-pipelined", ratio(rate(by_loop, ext), rate(by_loop, RAW)), 0.5)
    best = None
    for c in PHP_MAILERS:
        r = rate(by_loop, c)
        if r is not None and (best is None or r > best[1]):
            best = (c, r)
    if best is None or rate(by_loop, ext) is None:
        out.append("- loopback: ext-mail ahead of every PHP mailer: **n/a**")
    else:
        v = ratio(rate(by_loop, ext), best[1])
        out.append(
            f"- loopback: ext-mail ahead of every PHP mailer (fastest: {best[0]}): {fmt_ratio(v)} — **{'met' if v > 1 else 'MISSED'}**"
        )
    return out


def round_trips(by_rtt, measured):
    """ms per message divided by the measured round trip, per case."""
    import re

    m = re.search(r"median ([0-9.]+) ms", measured or "")
    if not m:
        return []
    rtt = float(m.group(1))
    parts = []
    for case, r in by_rtt.items():
        if r.get("rate"):
            parts.append(f"{case} {1000 / r['rate'] / rtt:.1f}")
    if not parts:
        return []
    return [
        "",
        f"Round trips per message at {rtt:.2f} ms measured RTT (ms/msg ÷ RTT; about 2 is the floor with DATA): "
        + ", ".join(parts)
        + ".",
    ]


def pick(path):
    """Prints the run to report from RESULTS_TSV lines of one case: a failed run if any (failures
    are never averaged away), else the median by seconds; adds "runs" to its JSON."""
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    rows = []
    for l in lines:
        phase, case, rss, sink, js = l.split("\t", 4)
        try:
            j = json.loads(js)
        except ValueError:
            j = {}
        bad = bool(j.get("failed")) or not j.get("sent") or str(j.get("sent")) != sink
        rows.append((bad, j.get("seconds") or 0, phase, case, rss, sink, j, js))
    bad = [r for r in rows if r[0]]
    if bad:
        chosen = bad[0]
    else:
        rows.sort(key=lambda r: r[1])
        chosen = rows[(len(rows) - 1) // 2]
    _, _, phase, case, rss, sink, j, js = chosen
    if j:
        j["runs"] = len(rows)
        js = json.dumps(j, separators=(",", ":"))
    print("\t".join([phase, case, rss, sink, js]))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--pick":
        pick(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv")
    ap.add_argument("out_md")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--budget", required=True)
    ap.add_argument("--rtt-ms", required=True)
    ap.add_argument("--measured-rtt", default="")
    ap.add_argument("--ext-info", default="")
    ap.add_argument("--php-flags", default="")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--instr", default="")
    a = ap.parse_args()

    rows = load(a.tsv)
    loop_lines, by_loop = table(rows, "loopback", "Loopback (smtp-sink directly)")
    rtt_title = f"{a.rtt_ms} ms RTT (through bench/delay_proxy.py)"
    rtt_lines, by_rtt = table(rows, "rtt", rtt_title)

    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = [
        "# php-smtp benchmark results",
        "",
        f"- date: {now}",
        f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {platform.system()} {platform.release()}, PHP {php_version()}",
        f"- N = {a.n} messages per case, each case capped at {a.budget} s (messages = what was sent in that time)",
        f"- RTT phase: bench/delay_proxy.py calibrated to a {a.rtt_ms} ms round trip; measured NOOP round trip: {a.measured_rtt or 'n/a'}",
        f"- extension: {a.ext_info or 'n/a'}",
        f"- PHP flags (every case): `{a.php_flags}`",
        "- msgs/s = messages / seconds of the send loop (library loading and set-up excluded); ratios divide msgs/s",
        "- client CPU = user + system CPU time of the php process over the send loop (getrusage) per message: what the client itself costs, less sensitive than msgs/s to the machine's scheduling",
        "- peak memory = memory_get_peak_usage(true) / memory_get_peak_usage(false); max RSS = /usr/bin/time %M of the whole php process",
        f"- loopback cases that finish in under 1 s are run {a.repeat} times; the median run is shown (runs column)",
        "- every message counted was also counted by smtp-sink (-c counters) for that run",
        "- reproduce: `bench/run.sh N` (see bench/README.md)",
        "",
    ]
    instr_lines = []
    if a.instr and os.path.exists(a.instr) and os.path.getsize(a.instr) > 0:
        with open(a.instr) as f:
            ins = dict(l.rstrip("\n").split("\t") for l in f if "\t" in l)
        raw = int(ins[RAW]) if RAW in ins else None
        instr_lines = [
            "### User-space instructions per message (callgrind, loopback)",
            "",
            "(instructions for 600 messages − for 100) / 500, whole php process: deterministic, unlike loopback msgs/s.",
            "",
            "| case | instructions/msg | vs raw-pipelined |",
            "|---|---:|---:|",
        ]
        for case, v in ins.items():
            rel = f"{int(v) / raw:.1f}×" if raw else "—"
            instr_lines.append(f"| {case} | {int(v):,} | {rel} |")
        instr_lines.append("")
    body = head + loop_lines + [""] + rtt_lines + ["", "### Targets", ""] + targets(by_loop, by_rtt) + round_trips(by_rtt, a.measured_rtt) + [""] + instr_lines
    text = "\n".join(body)
    with open(a.out_md, "w") as f:
        f.write(text)
    print(text)
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()
