# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The service workloads: Debian's redis-server and sqlite3, driven.

    service.py redis -n REQUESTS [--wait] [--xol LIB] [--prefix ARGV...]
    service.py sqlite -n ROWS [--wait] [--xol LIB] [--prefix ARGV...]

redis: starts redis-server (no persistence, a free port), then
redis-benchmark runs SET, GET and LPUSH with 64-byte values, REQUESTS
each, 50 clients. sqlite: starts sqlite3 on an in-memory database and
feeds it a script that inserts ROWS rows, indexes, groups, updates and
deletes them.

--wait prints "ready <pid of the server> signal <own pid>" once the server
is up and blocks until SIGUSR1 comes to the latter: a tracer attaches to
the server with -p. --prefix (not with --wait)
runs the server under a launcher (heaptrack, valgrind), the way the
runner's wrap tools run a workload: everything after it is the launcher's
argv.

--xol LIB preloads tests/targets/libxolcount.c's library into the server (not under
a launcher, which brings its own preload): the last line then also says
xol_slots=N, the instructions the kernel single-stepped for the probes
the server hit (0: none).

The last line is "bench: ops=N ns_per_op=X total_ns=T ...": for redis an
op is one request and the time is the sum of the three tests' (requests
over redis-benchmark's requests per second, also given per test as
set_rps=, get_rps=, lpush_rps=); for sqlite an op is one row and the time
is from the first byte of the script to sqlite3's exit.
"""
import argparse
import ctypes
import csv
import os
import signal
import socket
import subprocess
import sys
import time

REDIS_TESTS = ("SET", "GET", "LPUSH")
VALUE_BYTES = 64
CLIENTS = 50
UP_TIMEOUT = 60


PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the server's child before exec: killed when this driver dies
    (the runner SIGKILLs a workload that hangs), never left behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG,
                                             signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(proc):
    # Blocked before "ready": the signal cannot arrive unwaited for.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    print("ready %d signal %d" % (proc.pid, os.getpid()), flush=True)
    signal.sigwait({signal.SIGUSR1})


def xol_env(args, tmp):
    """The environment that has the server count its single steps."""
    if not args.xol or args.prefix:
        return None
    return dict(os.environ, LD_PRELOAD=args.xol, MEMSCOPE_XOL_OUT=tmp)


def xol_field(tmp):
    """ xol_slots=N from what the server wrote when it exited, or ""."""
    try:
        with open(tmp) as f:
            n = [int(l.split()[1]) for l in f if l.startswith("xol ")]
        os.unlink(tmp)
    except (OSError, ValueError, IndexError):
        return ""
    return " xol_slots=%d" % max(n) if n else ""


def redis(args, tmp):
    port = free_port()
    cli = ["redis-cli", "-p", str(port)]
    proc = subprocess.Popen(args.prefix + [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no",
        "--logfile", ""], stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent, env=xol_env(args, tmp))
    deadline = time.monotonic() + UP_TIMEOUT
    while subprocess.run(cli + ["ping"], capture_output=True,
                         text=True).stdout.strip() != "PONG":
        if proc.poll() is not None or time.monotonic() > deadline:
            print("service: redis-server did not come up", file=sys.stderr)
            return 1
        time.sleep(0.05)
    if args.wait:
        ready(proc)

    bench = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t",
         ",".join(t.lower() for t in REDIS_TESTS), "-d", str(VALUE_BYTES),
         "-c", str(CLIENTS), "-n", str(args.n), "--csv"],
        capture_output=True, text=True)
    subprocess.run(cli + ["shutdown", "nosave"], capture_output=True)
    proc.wait()
    rps = {}
    for row in csv.reader(bench.stdout.splitlines()):
        if row and row[0] in REDIS_TESTS:
            rps[row[0]] = float(row[1])
    if bench.returncode or set(rps) != set(REDIS_TESTS):
        print("service: redis-benchmark failed: %s" %
              (bench.stderr or bench.stdout)[-300:], file=sys.stderr)
        return 1
    total = sum(args.n / r for r in rps.values())
    ops = args.n * len(REDIS_TESTS)
    print("bench: ops=%d ns_per_op=%.1f total_ns=%d %s%s" % (
        ops, total * 1e9 / ops, total * 1e9,
        " ".join("%s_rps=%.0f" % (t.lower(), rps[t]) for t in REDIS_TESTS),
        xol_field(tmp)), flush=True)
    return 0


SQLITE_SCRIPT = """
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, body TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
INSERT INTO t SELECT x, 'name-' || x, x % 97, hex(randomblob(40 + x % 60))
FROM c;
COMMIT;
CREATE INDEX t_name ON t(name);
CREATE INDEX t_grp ON t(grp, body);
SELECT grp, count(*), max(length(body)) FROM t GROUP BY grp ORDER BY 3;
UPDATE t SET body = body || name WHERE id % 3 = 0;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*) FROM t;
"""


def sqlite(args, tmp):
    proc = subprocess.Popen(args.prefix + ["sqlite3", ":memory:"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            preexec_fn=die_with_parent,
                            env=xol_env(args, tmp))
    if args.wait:
        ready(proc)
    t0 = time.perf_counter()
    proc.communicate(SQLITE_SCRIPT.format(n=args.n).encode())
    total = time.perf_counter() - t0
    if proc.returncode:
        print("service: sqlite3 exited with %d" % proc.returncode,
              file=sys.stderr)
        return 1
    print("bench: ops=%d ns_per_op=%.1f total_ns=%d%s" % (
        args.n, total * 1e9 / args.n, total * 1e9, xol_field(tmp)),
        flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("service", choices=("redis", "sqlite"))
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("--wait", action="store_true")
    ap.add_argument("--xol", help="tests/targets/libxolcount.c's library")
    ap.add_argument("--prefix", nargs=argparse.REMAINDER, default=[])
    args = ap.parse_args()
    if args.wait and args.prefix:
        # The pid to attach to would be the launcher's, not the server's.
        ap.error("--wait and --prefix exclude each other")
    tmp = "/tmp/memscope-bench-xol.%d" % os.getpid()
    return (redis if args.service == "redis" else sqlite)(args, tmp)


if __name__ == "__main__":
    sys.exit(main())
