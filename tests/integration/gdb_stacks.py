# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""gdb's own stacks of a program's allocations, as a memscope-bpf report.

    GDB_STACKS_OUT=FILE gdb -batch -nx -x gdb_stacks.py --args PROGRAM

Runs PROGRAM to its end under gdb, stops at every malloc, calloc and
realloc made from main on (in any thread), and writes FILE: a JSON
document shaped like memscope-bpf's report, only its "sites": one entry
per distinct stack (frames innermost first, each with function, file and
line, as gdb unwinds them: CFI, inlined frames expanded, libc's static
functions named from its separate debug file), with alloc_count, and
stack_stop "end" where gdb found the outermost frame. A call made from
inside another allocator call is not counted, as memscope-bpf does not.

check_stacks.py reads it like a report: the chains tests/targets/stk_*.json
declare are what a reference unwinder finds, independent of ours.
"""
import json
import os
import re

import gdb

ALLOCATORS = ("malloc", "calloc", "realloc")
# glibc's names for them, as gdb names its frames (__GI___libc_malloc):
# not a Rust or C++ function that merely ends in the word.
GLIBC_ALLOCATOR = re.compile(r"^(__GI_)?_*(libc_)?(malloc|calloc|realloc)$")
sites = {}


def outermost(frame):
    return frame.unwind_stop_reason() == gdb.FRAME_UNWIND_OUTERMOST


class Allocation(gdb.Breakpoint):
    def stop(self):
        frames = []
        f = gdb.newest_frame().older()
        last = None
        while f is not None:
            name = f.name()
            # An allocator's own call to another: counted once, at the
            # outer call, as memscope-bpf counts it.
            if name and GLIBC_ALLOCATOR.match(name):
                return False
            sal = f.find_sal()
            frames.append((name, sal.symtab.filename if sal.symtab
                           else None, sal.line))
            last = f
            f = f.older()
        stop = "end" if last is None or outermost(last) else \
            gdb.frame_stop_reason_string(last.unwind_stop_reason())
        key = (tuple(frames), stop)
        sites[key] = sites.get(key, 0) + 1
        return False


def main():
    out = os.environ["GDB_STACKS_OUT"]
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set backtrace past-main on")
    # stk_signal's timer: pass it on, quietly.
    gdb.execute("handle SIGALRM nostop noprint pass")
    gdb.execute("tbreak main")
    gdb.execute("run")
    for fn in ALLOCATORS:
        Allocation(fn, internal=True)
    gdb.execute("continue")
    doc = {"sites": [
        {"alloc_count": n, "stack_stop": stop, "stack_truncated": False,
         "frames": [{"function": fn, "file": file, "line": line}
                    for fn, file, line in frames]}
        for (frames, stop), n in sites.items()]}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)


main()
