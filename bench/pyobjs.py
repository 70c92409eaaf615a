# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The real-program workload: CPython building and dropping objects.

Run with PYTHONMALLOC=malloc so that every object allocation goes through
libc's malloc/free, where the tracers probe. Each loop iteration builds a
batch of small records (a dict, a str, a tuple and a list each) and drops
the batch, the way a parser or an ORM churns through short-lived objects.

    PYTHONMALLOC=malloc /usr/bin/python3 pyobjs.py [-n ITERATIONS] [--wait]

--wait prints "ready <pid>" and blocks until SIGUSR1. The last line is
"bench: ops=N ns_per_op=X total_ns=T": ns per loop iteration, timed with
time.perf_counter around the loop only.
"""
import argparse
import os
import signal
import sys
import time

BATCH = 32


def iteration(i):
    batch = []
    for j in range(BATCH):
        key = "k%d" % (i * BATCH + j)
        batch.append({"key": key, "pair": (i, j, key), "tags": [key, j]})
    return len(batch)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20000, help="loop iterations")
    ap.add_argument("--wait", action="store_true")
    args = ap.parse_args()

    if os.environ.get("PYTHONMALLOC") != "malloc":
        print("pyobjs: set PYTHONMALLOC=malloc, or pymalloc hides the "
              "allocations from the tracers", file=sys.stderr)
        return 2
    if args.wait:
        # Blocked before "ready": the signal cannot arrive unwaited for.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        print("ready %d" % os.getpid(), flush=True)
        signal.sigwait({signal.SIGUSR1})

    t0 = time.perf_counter()
    for i in range(args.n):
        iteration(i)
    total = time.perf_counter() - t0
    print("bench: ops=%d ns_per_op=%.1f total_ns=%d"
          % (args.n, total * 1e9 / args.n, total * 1e9), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
