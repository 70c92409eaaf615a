#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Writes the debug-info fuzzer's seeds into DIR (tests/fuzz/fuzz_debuginfo.c
has the format): names a process could give, plain and climbing out of
its root, with build-ids of debug files this machine has, so that a
lookup that left the target's root would find one; and a dwz'd debug
file, for its .gnu_debugaltlink.

    gen_debuginfo_seeds.py DIR DWZ_FILE
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_debuginfo_seeds.py DIR DWZ_FILE")
    out, dwz = sys.argv[1], sys.argv[2]
    top = "/usr/lib/debug/.build-id"
    ids = []
    for d in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        for f in sorted(os.listdir(os.path.join(top, d))):
            if f.endswith(".debug") and len(d) == 2:
                ids.append((d, f[:-len(".debug")]))
        if len(ids) >= 3:
            break
    if not ids:
        sys.exit("gen_debuginfo_seeds: no debug file under %s "
                 "(scripts/install-deps.sh installs libc6-dbg)" % top)
    lib = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    for i, (d, rest) in enumerate(ids[:3]):
        bid = bytes.fromhex(d + rest)
        up = "../" * 8
        seeds = {
            "plain": (lib, "libc.so.6.debug"),
            "climb": (up + lib.lstrip("/"),
                      up + "usr/lib/debug/.build-id/%s/%s.debug" % (d, rest)),
            "absolute": (lib, "/usr/lib/debug/.build-id/%s/%s.debug"
                         % (d, rest)),
        }
        for name, (path, link) in seeds.items():
            with open(os.path.join(out, "%s-%d" % (name, i)), "wb") as f:
                f.write(path.encode() + b"\0" + link.encode() + b"\0" + bid)
    with open(dwz, "rb") as f, open(os.path.join(out, "dwz"), "wb") as o:
        o.write(f.read())


main()
