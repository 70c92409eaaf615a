#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The soak: memscope-bpf attached to a service (bench/soak.c) for a long
time with `-i`, as a service is traced, sampled from outside while it runs,
to show that nothing it holds grows with time: the tool's RSS, its kernel
tables (live blocks and their tombstones, thread slots), and lost events.

    bench/soak.py --tool .output/memscope-bpf --soak .output/bench/soak \\
        --mapstat .output/bench/mapstat [--duration 600] [--every 30] \\
        [--results bench/RESULTS.md] [--output DIR]

Every --every seconds: the tool's VmRSS (/proc), the live table's and the
thread table's slots in use (bench/mapstat.c, on the maps /proc/PID/fdinfo
lists for the tool), and the kernel's lost events (its .bss), both by
bench/mapstat.c. The tool takes a snapshot every --every seconds too (-i,
--snapshots): each gives the lost and dropped events so far and the slow
leak's live blocks then, which must rise from one snapshot to the next. At
the end the tool's JSON report gives the lost events of the whole stream,
the slow leak, which must be there, and its growth suspects, which must
name it.

Flat means: from the first sample after a fifth of the run to the last,
RSS grows by at most 10% (and 4 MiB); the live table's tombstones by at
most 25% (and 64), though the service leaks a block a second and churns
millions (bpf/live_table.h reclaims every tombstone no key needs); thread
slots stay within the service's threads plus a few; and no event is
lost, neither in the kernel nor by the tool, at any snapshot. Exits 1
when not flat, saying what grew. With --results, writes its section (## Soak) into
that file, replacing the one there.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

import sections

# Reports read with their frames resolved (msjson, beside the tests).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import msjson  # noqa: E402

LEAK_FN = "leak_slowly"
LEAK_SIZE = 1000
SECTION = "## Soak (bench/soak.py)"
WINDOW = 512		# soak.c's live blocks per worker
MAX_LIVE = 16384


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def map_ids(pid):
    """The BPF maps the process holds, by id, from its fds' fdinfo."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return sorted(ids)


def sample(tool_pid, mapstat, t0):
    ids = map_ids(tool_pid)
    out = subprocess.run([mapstat] + [str(i) for i in ids],
                         capture_output=True, text=True, check=True).stdout
    s = {"t": round(time.monotonic() - t0), "rss_kib": rss_kib(tool_pid)}
    for line in out.splitlines():
        f = line.split()
        if f[0] == "live":
            s.update(live_slots=int(f[1]), live=int(f[2]), tombs=int(f[3]),
                     busy=int(f[4]))
        elif f[0] == "threads":
            s.update(thread_slots_used=int(f[2]))
        elif f[0] == "lost":
            s.update(lost=int(f[1]))
    return s


def is_leak(site):
    return any(fr.get("function") == LEAK_FN
               for fr in site.get("frames", []))


def leak_blocks(snap):
    """The slow leak's live blocks at a snapshot (0 before its first)."""
    return sum(s["live_blocks"] for s in snap.get("live_since_start", [])
               if is_leak(s))


def nearest(snaps, t):
    """The snapshot taken nearest t seconds into the trace."""
    return min(snaps, key=lambda n: abs(n["at_ns"] / 1e9 - t), default=None)


def check(samples, snaps, report, threads, duration, every):
    """What grew or was lost, as lines; empty when flat."""
    bad = []
    warm = next((s for s in samples if s["t"] >= duration / 5), samples[0])
    end = samples[-1]
    grow = end["rss_kib"] - warm["rss_kib"]
    if grow > max(warm["rss_kib"] / 10, 4096):
        bad.append(f"tool RSS grew {grow} KiB from {warm['t']} s to {end['t']} s")
    if end["tombs"] > warm["tombs"] * 1.25 + 64:
        bad.append(f"live table: {warm['tombs']} tombstones at {warm['t']} s, "
                   f"{end['tombs']} at {end['t']} s")
    worst = max(s["thread_slots_used"] for s in samples)
    # the workers, the main thread, and one being replaced per worker
    if worst > 2 * threads + 1:
        bad.append(f"thread slots: {worst} used for {threads} workers")
    lost = [s["lost"] for s in samples if s["lost"]]
    if lost:
        bad.append(f"kernel lost events while running: {max(lost)}")
    summ = report["summary"]
    if summ.get("lost_events"):
        bad.append(f"report: {summ['lost_events']} lost events")
    want_snaps = int(duration / every) - 1
    if len(snaps) < want_snaps:
        bad.append(f"{len(snaps)} snapshots, {want_snaps} expected")
    for n in snaps:
        if n["lost_events"] or n["consumer_drops"]:
            bad.append(f"snapshot {n['snapshot']}: {n['lost_events']} lost, "
                       f"{n['consumer_drops']} dropped events")
            break
    series = [leak_blocks(n) for n in snaps]
    fell = [i for i in range(1, len(series)) if series[i] <= series[i - 1]]
    if fell:
        i = fell[0]
        bad.append(f"the slow leak did not grow from snapshot {i} "
                   f"({series[i - 1]} blocks) to {i + 1} ({series[i]})")
    if not any(is_leak(x) for x in report.get("suspects", [])):
        bad.append(f"the growth suspects do not name {LEAK_FN}")
    leak = [l for l in report.get("leaks", []) if is_leak(l)]
    want = int(duration * 0.8)
    if not leak or leak[0]["count"] < want:
        bad.append(f"the slow leak ({LEAK_FN}) is not in the report with "
                   f"at least {want} blocks")
    return bad


def row(s, snaps):
    n = nearest(snaps, s["t"])
    snap = (f"{n['snapshot']} ({n['at_ns'] / 1e9:.0f} s) | "
            f"{n['lost_events']} / {n['consumer_drops']} | {leak_blocks(n)}"
            if n else "- | - | -")
    return (f"| {s['t']} | {s['rss_kib'] / 1024:.1f} | {s['live']:,} | "
            f"{s['tombs']:,} | "
            f"{s['live_slots'] - s['live'] - s['tombs'] - s['busy']:,} | "
            f"{s['thread_slots_used']} | {s['lost']} | {snap} |")


def load_avg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def section(samples, snaps, report, args, bad, wall, load):
    summ = report["summary"]
    rows = "\n".join(row(s, snaps) for s in samples)
    leak = next((l for l in report.get("leaks", []) if is_leak(l)), None)
    sus = next((x for x in report.get("suspects", []) if is_leak(x)), None)
    return f"""{SECTION}

memscope-bpf attached with `-p` to `bench/soak.c` ({args.threads} worker
threads at {args.rate:,} operations a second in all: malloc, some realloc,
free of the block allocated {WINDOW} operations before, sizes 16-4111 bytes,
an anonymous page mapped and unmapped every 5,000; each worker thread ends
after 200,000 operations and a new one takes its place; one {LEAK_SIZE}-byte
block leaked a second from `{LEAK_FN}`), for {args.duration} s, traced as a
service is, with `-i {args.every} --snapshots FILE`, and sampled every
{args.every} s from outside: the tool's VmRSS, its live table
(`bench/mapstat.c`: slots holding a live block, tombstones, empty) and
thread table (slots with an owner), and the kernel's lost events (the
tool's `.bss`, also by mapstat). Beside each sample, the tool's own
snapshot nearest it: its lost (kernel) and dropped (userspace) events so
far, and the slow leak's live blocks then, which must rise at every
snapshot. The tool runs with `--max-live {MAX_LIVE}`
({samples[0]['live_slots']:,} slots, at most
{max(s['live'] for s in samples) / samples[0]['live_slots']:.0%} in use): mapstat reads a slot
per lookup, and the default million slots cost seconds of a loaded
2-core machine per sample. Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},
`{' '.join(sys.argv)}` ({wall:.0f} s wall), on a 2-core machine shared
with other work: load average {' '.join(load[0])} when it began,
{' '.join(load[1])} when it ended.

| s | tool RSS (MiB) | live slots | tombstones | empty | thread slots used | lost events (kernel) | snapshot | lost / dropped so far | slow leak's live blocks |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

Report at the end: {summ['allocs']:,} allocations, {summ['frees']:,} frees,
{summ.get('lost_events', 0)} lost events; the slow leak:
{f"{leak['count']} blocks, {leak['bytes']:,} bytes" if leak else "not found"};
{len(snaps)} snapshots; growth suspect:
{f"{sus['pattern']}, {sus['growth_bytes_per_s']:,.0f} bytes/s, confidence {sus['confidence']:.2f}" if sus else "not named"}.
Verdict: {"flat" if not bad else "NOT flat: " + "; ".join(bad)}.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--soak", required=True)
    ap.add_argument("--mapstat", required=True)
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--every", type=int, default=30)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rate", type=int, default=40000)
    ap.add_argument("--output", default="/tmp")
    ap.add_argument("--results")
    args = ap.parse_args()
    if args.duration < 5 * args.every:
        ap.error("--duration must be at least 5 samples (--every)")
    os.makedirs(args.output, exist_ok=True)
    report_path = os.path.join(args.output, "soak.json")
    snaps_path = os.path.join(args.output, "soak-snapshots.jsonl")
    load = [load_avg()]

    svc = subprocess.Popen([args.soak, "-t", str(args.threads),
                            "-r", str(args.rate)],
                           stdout=subprocess.PIPE, text=True)
    tool = None
    try:
        if not svc.stdout.readline().startswith("ready"):
            sys.exit("soak: the service did not start")
        ready_r, ready_w = os.pipe()
        t_start = time.monotonic()
        tool = subprocess.Popen(
            [args.tool, "-q", "-t", "0", "--max-live", str(MAX_LIVE),
             "-p", str(svc.pid),
             "-d", str(args.duration),
             "-i", str(args.every), "--snapshots", snaps_path,
             "-o", report_path, "--ready-fd", str(ready_w)],
            pass_fds=(ready_w,), stdout=subprocess.DEVNULL)
        os.close(ready_w)
        with os.fdopen(ready_r) as r:
            if not r.readline().strip():
                sys.exit("soak: memscope-bpf did not attach")
        t0 = time.monotonic()
        samples = []
        while True:
            time.sleep(args.every - (time.monotonic() - t0) % args.every)
            if tool.poll() is not None or \
               time.monotonic() - t0 > args.duration - 2:
                break
            samples.append(sample(tool.pid, args.mapstat, t0))
            s = samples[-1]
            print(f"soak: {s['t']:5d} s  rss {s['rss_kib'] / 1024:.1f} MiB  "
                  f"live {s['live']} tombs {s['tombs']}  "
                  f"threads {s['thread_slots_used']}  lost {s['lost']}",
                  flush=True)
        if tool.wait(timeout=args.duration + 120):
            sys.exit(f"soak: memscope-bpf failed ({tool.returncode})")
        wall = time.monotonic() - t_start
        load.append(load_avg())
    finally:
        if tool and tool.poll() is None:
            tool.send_signal(signal.SIGINT)
            tool.wait()
        svc.kill()
        svc.wait()
    report = msjson.load(report_path)
    with open(snaps_path) as f:
        snaps = [json.loads(line) for line in f if line.strip()]
    bad = check(samples, snaps, report, args.threads, args.duration,
                args.every)
    if args.results:
        text = section(samples, snaps, report, args, bad, wall, load)
        sections.write(args.results, "soak.py",
                       text.rstrip("\n").split("\n"))
    for b in bad:
        print(f"soak: {b}", file=sys.stderr)
    print(f"soak: {'flat' if not bad else 'NOT flat'} over {args.duration} s")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
