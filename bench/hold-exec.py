#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""How long --hold-exec stops a process at its exec (issue 11).

Traces --comm hxbench --hold-exec while it runs N copies of a static
build of tests/targets/sysproc.c, each a file of its own (so each is held:
a file is held for once), then N copies of its dynamic build; the tool
prints how many execs it held and the median and longest hold, from the
exec to SIGCONT (the file's probes and unwind tables compiled meanwhile).

    bench/hold-exec.py --tool .output/memscope-bpf --src tests/targets -n 10
"""
import argparse
import os
import re
import signal
import subprocess
import tempfile

import ready

COMM = "hxbench"


def build(src, out, static):
    cmd = ["gcc", "-O1", "-g", "-o", out, os.path.join(src, "sysproc.c")]
    if static:
        cmd.insert(1, "-static")
    subprocess.run(cmd, check=True)


def measure(tool, src, n, static):
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "built")
        build(src, exe, static)
        paths = []
        for i in range(n):
            os.mkdir(os.path.join(d, str(i)))
            p = os.path.join(d, str(i), COMM)
            # a copy, not a link: its own inode, held on its own
            with open(exe, "rb") as f, open(p, "wb") as g:
                g.write(f.read())
            os.chmod(p, 0o755)
            paths.append(p)
        t = ready.start(tool, ["-t", "0", "-o", os.path.join(d, "r.json"),
                               "--comm", COMM, "--hold-exec"], d)
        for p in paths:
            subprocess.run([p, "leak", "3", "111"], check=True,
                           stdout=subprocess.DEVNULL)
        t.send_signal(signal.SIGINT)
        _, err = t.communicate(timeout=120)
    m = re.search(r"held (\d+) execs? or mappings? of a new file until it "
                  r"was probed: "
                  r"median ([0-9.]+) ms, max ([0-9.]+) ms", err)
    if not m:
        raise SystemExit(f"hold-exec: no hold line from the tool: {err}")
    return int(m[1]), float(m[2]), float(m[3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--src", default="tests/targets")
    ap.add_argument("-n", type=int, default=10)
    a = ap.parse_args()
    for static in (True, False):
        held, med, mx = measure(a.tool, a.src, a.n, static)
        print(f"{'static' if static else 'dynamic'}: {held} of {a.n} "
              f"execs held, median {med:.1f} ms, max {mx:.1f} ms")


if __name__ == "__main__":
    main()
