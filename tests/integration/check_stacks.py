#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Assertions on the call stacks of memscope-bpf JSON reports, for the
stack targets (tests/targets/stk_*, built without frame pointers) and for
Debian's programs.

    check_stacks.py chains REPORT.json EXPECT.json --src DIR
        every site EXPECT.json declares has its whole chain, in exactly
        its number of rows (1 unless it says "rows"), with its count; the
        stack ends where a program's stacks end (_start, or start_thread
        and clone3 for a thread), it ended there because the unwinder
        reached the outermost frame, and every frame has a name. Every
        other row that starts at one of the declared sites' functions is
        a failure: a site split, cut or guessed. Names are compared
        demangled (by c++filt when the report has them mangled) and
        without parameters or Rust's hash, so this checks the unwinding,
        not the names. The innermost frame's line must be the @site line,
        except for sites marked "inlined" (only inlined frames give it).

    check_stacks.py names REPORT.json EXPECT.json --src DIR
        the names a person reads: no mangled name, no @VERSION suffix in
        any frame, and the @site line on the innermost own frame of every
        site, "inlined" ones too.

    check_stacks.py cut REPORT.json EXPECT.json --src DIR
        the one site is deeper than the depth limit: one row, cut
        (stack_truncated, stack_stop "depth", counted in
        kernel.stack_stops.depth), whose frames are exactly the innermost
        part of the chain: nothing guessed, nothing skipped.

    check_stacks.py fp REPORT.json EXPECT.json --src DIR
        --stacks fp on a program without frame pointers: the immediate
        caller of each site is right (taken from the stack pointer), but
        no site has its whole chain: why dwarf is the default.

    check_stacks.py entry REPORT.json [--min 0.95]
        at least that share of the allocations have a stack that reaches
        the program's entry: it ended because the unwinder reached the
        outermost frame, and that frame is an entry function (the
        loader's _dl_start_user for what runs before main), or is the
        caller of __libc_start_main (the _start of a stripped executable
        has no name to show).

EXPECT.json (tests/targets/stk_*.json): "user", a regular expression of
the program's own function names; "strict", whether library frames may
come between them; "sites", each with "chain" (outermost first, each a
regular expression of one name; "NAME*N" is N frames of NAME), "line" (an @site marker in --src), "count"
(allocations from it, null for any), "outer" ("main", "thread",
"loader" for a library's constructor run before main, or "context" for
a coroutine's stack that makecontext made),
"rows", "inlined" and "line_at" (the index in the chain of the function
that carries the line, when it is not the innermost).

Quiet and exit 0 when the report holds; otherwise one line per
difference, "what: expected ..., got ...", and exit 1.
"""

import argparse
import json
import os
import re
import subprocess
import sys

import msjson

# Frames that may follow main, outermost last: glibc's start code. The
# walk ends at _start, whose CFI marks the return address undefined.
MAIN_OUTER = ["__libc_start_call_main", "__libc_start_main",
              "__libc_start_main_impl"]
MAIN_LAST = "_start"
# A thread's stack: its start routine, start_thread, then clone3 (whose
# child marks the return address undefined).
THREAD_OUTER = "start_thread"
THREAD_LAST = ["__clone3", "clone3", "__clone", "clone"]
# A library's constructor, run by the dynamic loader before main: its
# _dl_init (and call_init, where not inlined), then the loader's entry
# code, whose frame is the outermost (ld.so's _start has no CFI: the
# unwind table marks its entry code outermost).
LOADER_OUTER = ["call_init", "_dl_init"]
LOADER_LAST = "_dl_start_user"
# A coroutine's stack made by makecontext: what it was given to run,
# whose return address makecontext wrote, glibc's __start_context (the
# unwind table marks the byte before it outermost).
CONTEXT_LAST = "__start_context"
# What _start calls.
START_MAIN = {"__libc_start_main", "__libc_start_main_impl"}
# Outermost frames a stack of Debian's programs may end at.
ENTRY = {"main", "_start", "start_thread", "__clone3", "clone3",
         "__clone", "clone", LOADER_LAST} | set(MAIN_OUTER)
STOPS = ["end", "no_info", "no_mapping", "not_loaded", "depth", "read",
         "unsupported"]

MANGLED = re.compile(r"^_(Z|R)[A-Za-z0-9_]")


def demangler(report):
    """mangled name -> demangled, for every mangled frame name in report,
    in one c++filt run (binutils; it knows C++ and both Rust schemes)."""
    names = sorted({f.get("function") for s in report.get("sites") or []
                    for f in s.get("frames") or []
                    if isinstance(f.get("function"), str) and
                    MANGLED.match(f["function"])})
    if not names:
        return {}
    out = subprocess.run(["c++filt"], input="\n".join(names) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return dict(zip(names, out.splitlines()))


def strip_params(name):
    """'ns::f(int) const' -> 'ns::f': the parameter list, balanced from the
    end, when the name ends in one."""
    name = re.sub(r"\s+const$", "", name)
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        if name[i] == ")":
            depth += 1
        elif name[i] == "(":
            depth -= 1
            if depth == 0:
                return name[:i] if i > 0 else name
    return name


def normalize(name, demangled):
    """The name a chain declares: demangled, without parameters, GCC's
    clone suffixes, Rust's hash and crate disambiguators."""
    if not isinstance(name, str):
        return None
    name = demangled.get(name, name)
    name = re.sub(r" \[clone [^\]]*\]", "", name)
    name = re.sub(r"\.(cold|constprop|isra|part|lto_priv)(\.\d+)*$", "",
                  name)
    name = strip_params(name)
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    name = re.sub(r"\[[0-9a-f]+\]", "", name)
    return name


def expand(chain):
    """["a", "b*3"] -> ["a", "b", "b", "b"]"""
    out = []
    for c in chain:
        m = re.fullmatch(r"(.+)\*(\d+)", c)
        out.extend([m.group(1)] * int(m.group(2)) if m else [c])
    return out


def site_fn(site):
    """The function whose frame carries the site's @site line: the
    innermost of the chain unless "line_at" says which."""
    return expand(site["chain"])[site.get("line_at", -1)]


def chain_is(names, chain):
    """Whether names are the chain: each entry a regular expression that
    must match the whole name."""
    return len(names) == len(chain) and all(
        re.fullmatch(c, n) for c, n in zip(chain, names))


def site_lines(src_dir):
    """NAME -> (file, line) for every "@site NAME" marker in src_dir."""
    out = {}
    marker = re.compile(r"@site\s+(\w+)")
    for fname in sorted(os.listdir(src_dir)):
        if not re.search(r"\.(c|cc|rs)$", fname):
            continue
        with open(os.path.join(src_dir, fname), encoding="utf-8") as f:
            for lineno, text in enumerate(f, 1):
                m = marker.search(text)
                if m:
                    out[m.group(1)] = (fname, lineno)
    return out


def short(frames, names, limit=12):
    """A stack in one line, innermost first: function (file:line) or
    object+addr for frames without a name."""
    parts = []
    for f, n in zip(frames, names):
        if n is None:
            obj = os.path.basename(f.get("object") or "?")
            parts.append(f"<unnamed {obj} {f.get('addr')}>")
        elif f.get("line"):
            parts.append(f"{n} ({os.path.basename(str(f.get('file')))}:"
                         f"{f.get('line')})")
        else:
            parts.append(n)
    more = f" ... ({len(frames)} frames)" if len(parts) > limit else ""
    if len(parts) > limit:
        parts = parts[:limit // 2] + ["..."] + parts[-limit // 2:]
    return " < ".join(parts) + more


class Row:
    """One entry of sites[], seen through an expectation's user regex."""

    def __init__(self, site, user, demangled):
        self.site = site
        self.frames = site.get("frames") or []
        self.names = [normalize(f.get("function"), demangled)
                      for f in self.frames]
        self.own = [i for i, n in enumerate(self.names)
                    if n is not None and user.match(n)]
        # outermost first, like the declared chains
        self.chain = [self.names[i] for i in reversed(self.own)]
        self.count = site.get("alloc_count")

    def where(self, j):
        """(file, line) of the frame of chain[j]."""
        f = self.frames[self.own[len(self.own) - 1 - j % len(self.own)]]
        return os.path.basename(str(f.get("file"))), f.get("line")

    def brief(self):
        return (f"{{alloc_count={self.count} stack_stop="
                f"{self.site.get('stack_stop')!r} frames: "
                f"{short(self.frames, self.names)}}}")


class Checker:
    def __init__(self, report, expect, lines):
        self.r = report
        self.e = expect
        self.lines = lines
        self.errors = []
        self.demangled = demangler(report)
        self.user = re.compile(expect.get("user", "^main$"))
        self.rows = [Row(s, self.user, self.demangled)
                     for s in report.get("sites") or []]

    def fail(self, msg):
        self.errors.append(msg)

    def where(self, site):
        name = site["line"]
        if name not in self.lines:
            self.fail(f"@site {name}: expected a marker in the sources, "
                      f"got none")
            return None
        return self.lines[name]

    def label(self, site):
        return f"site {site['line']} ({' > '.join(site['chain'])})"

    def matches(self, row, site, with_line):
        if not chain_is(row.chain, expand(site["chain"])):
            return False
        if not with_line:
            return True
        loc = self.where(site)
        return loc is not None and row.where(site.get("line_at", -1)) == loc

    # --- chains ---------------------------------------------------------

    def chains(self, part):
        sites = self.e["sites"]
        claimed = set()
        # site functions whose rows a failed site already listed
        self.shown = set()
        for site in sites:
            with_line = part == "names" or not site.get("inlined")
            hits = [r for r in self.rows if self.matches(r, site, with_line)]
            claimed.update(id(r) for r in hits)
            if part == "chains":
                self.site_rows(site, hits)
            elif not hits:
                self.fail(f"{self.label(site)}: expected its own frame on "
                          f"{self.where(site)}, got rows "
                          f"{self.near(site)}")
        if part == "chains":
            own = {site_fn(s) for s in sites} - self.shown
            for r in self.rows:
                fn = next((n for n in r.chain for o in own
                           if re.fullmatch(o, n)), None)
                if id(r) in claimed or fn is None:
                    continue
                self.fail(f"row from {fn}: expected one of the "
                          f"declared chains, got a stack that is none of "
                          f"them (split, cut or guessed): {r.brief()}")
        else:
            self.readable()

    def near(self, site):
        fn = site_fn(site)
        rows = [r.brief() for r in self.rows
                if any(re.fullmatch(fn, n) for n in r.chain)]
        return rows or "none with " + fn

    def site_rows(self, site, hits):
        want_rows = site.get("rows", 1)
        label = self.label(site)
        if len(hits) != want_rows:
            self.shown.add(site_fn(site))
            self.fail(f"{label}: expected {want_rows} row(s) with this "
                      f"chain" + ("" if site.get("inlined") else
                                  f" on {self.where(site)}") +
                      f", got {len(hits)}" +
                      (f": {[r.brief() for r in hits]}" if hits else "") +
                      f"; rows from {site_fn(site)}: "
                      f"{self.near(site)}")
        if not hits:
            return
        count = sum(r.count or 0 for r in hits)
        if site.get("count") is not None and count != site["count"]:
            self.fail(f"{label}: expected alloc_count {site['count']}, got "
                      f"{count}")
        for r in hits:
            self.whole(label, r, site.get("outer", "main"))

    def whole(self, label, r, outer):
        """The row's stack reached the outermost frame, honestly."""
        s = r.site
        if s.get("stack_truncated") is not False:
            self.fail(f"{label}: expected stack_truncated false, got "
                      f"{s.get('stack_truncated')!r}: {r.brief()}")
        if s.get("stack_stop") != "end":
            self.fail(f"{label}: expected stack_stop 'end' (the unwinder "
                      f"reached the outermost frame), got "
                      f"{s.get('stack_stop')!r}: {r.brief()}")
        unnamed = [i for i, n in enumerate(r.names) if n is None]
        if unnamed:
            self.fail(f"{label}: expected every frame named, got frames "
                      f"{unnamed} without a function: {r.brief()}")
        if self.e.get("strict") and r.own != list(range(len(r.own))):
            self.fail(f"{label}: expected only this program's frames from "
                      f"frames[0] to the outermost of them, got others "
                      f"between: {r.brief()}")
        after = r.names[r.own[-1] + 1:] if r.own else []
        if outer == "thread":
            ok = (len(after) == 2 and after[0] == THREAD_OUTER and
                  after[1] in THREAD_LAST)
            want = f"[{THREAD_OUTER}, {'|'.join(THREAD_LAST)}]"
        elif outer == "context":
            ok = after == [CONTEXT_LAST]
            want = f"[{CONTEXT_LAST}]"
        elif outer == "loader":
            ok = (len(after) > 1 and after[-1] == LOADER_LAST and
                  all(n in LOADER_OUTER for n in after[:-1]))
            want = f"the loader's {'/'.join(LOADER_OUTER)} ending at " \
                f"{LOADER_LAST}"
        else:
            ok = (bool(after) and after[-1] == MAIN_LAST and
                  all(n in MAIN_OUTER for n in after[:-1]))
            want = f"glibc's start code ending at {MAIN_LAST}"
        if not ok:
            self.fail(f"{label}: expected above {r.chain[0] if r.chain else '?'} "
                      f"{want}, got {after}: {r.brief()}")

    def readable(self):
        bad = set()
        for r in self.rows:
            for f in r.frames:
                fn = f.get("function")
                if isinstance(fn, str) and (MANGLED.match(fn) or "@" in fn):
                    bad.add(fn)
        if bad:
            self.fail(f"frames: expected demangled names without @VERSION, "
                      f"got {sorted(bad)[:8]}")

    # --- the depth limit ------------------------------------------------

    def cut(self):
        site = self.e["sites"][0]
        chain = expand(site["chain"])
        inner = list(reversed(chain))
        hits = [r for r in self.rows if r.chain and
                re.fullmatch(chain[-1], r.chain[-1])]
        label = self.label(site)
        if len(hits) != 1:
            self.fail(f"{label}: expected 1 row cut by the depth limit, got "
                      f"{len(hits)}: {[r.brief() for r in hits]}")
            return
        r = hits[0]
        s = r.site
        n = len(r.frames)
        if not 64 <= n < len(chain):
            self.fail(f"{label}: expected at least 64 and fewer than the "
                      f"{len(chain)} own frames, got {n}: {r.brief()}")
        if not chain_is(r.names, inner[:n]):
            self.fail(f"{label}: expected exactly the innermost {n} frames "
                      f"of the chain, got {r.brief()}")
        if s.get("stack_truncated") is not True:
            self.fail(f"{label}: expected stack_truncated true, got "
                      f"{s.get('stack_truncated')!r}")
        if s.get("stack_stop") != "depth":
            self.fail(f"{label}: expected stack_stop 'depth', got "
                      f"{s.get('stack_stop')!r}")
        if site.get("count") is not None and r.count != site["count"]:
            self.fail(f"{label}: expected alloc_count {site['count']}, got "
                      f"{r.count}")
        stops = (self.r.get("kernel") or {}).get("stack_stops")
        depth = stops.get("depth") if isinstance(stops, dict) else None
        if not isinstance(depth, int) or depth < (site.get("count") or 1):
            self.fail(f"kernel.stack_stops.depth: expected >= "
                      f"{site.get('count') or 1}, got {depth!r} "
                      f"(stack_stops {stops!r})")

    # --- --stacks fp ----------------------------------------------------

    def innermost(self, site):
        """The site's chain, and the rows whose frames[0] is its own frame
        on its line (failing when there are none)."""
        chain = expand(site["chain"])
        loc = self.where(site)
        rows = [r for r in self.rows if r.names and
                re.fullmatch(chain[-1], str(r.names[0])) and
                loc is not None and
                (os.path.basename(str(r.frames[0].get("file"))),
                 r.frames[0].get("line")) == loc]
        if not rows:
            self.fail(f"{self.label(site)}: expected rows whose frames[0] "
                      f"is {chain[-1]} on {loc}, got {self.near(site)}")
        return chain, rows

    def fp(self):
        for site in self.e["sites"]:
            chain, first = self.innermost(site)
            label = self.label(site)
            whole = [r for r in first if chain_is(r.chain, chain)]
            if whole:
                self.fail(f"{label}: expected no whole chain from a frame "
                          f"pointer walk of code without frame pointers, "
                          f"got {[r.brief() for r in whole]}")

    # --- code without CFI or frame pointers ------------------------------

    def stops(self):
        """Each site's stacks are its chain's innermost part, cut where
        the CFI ends (no_info): no frame guessed beyond it."""
        for site in self.e["sites"]:
            chain, rows = self.innermost(site)
            label = self.label(site)
            for r in rows:
                own = r.chain
                tail = chain[len(chain) - len(own):] if own else []
                if (len(own) >= len(chain) or
                        not chain_is(own, tail) or
                        r.site.get("stack_stop") != "no_info"):
                    self.fail(f"{label}: expected the innermost frames of "
                              f"{chain} and stack_stop no_info, got "
                              f"{r.brief()}")


def entry(report, share):
    """Share of allocations whose stack reaches the program's entry."""
    demangled = demangler(report)
    total = reached = 0
    by_stop = {}
    worst = []
    for s in report.get("sites") or []:
        n = s.get("alloc_count") or 0
        frames = s.get("frames") or []
        names = [normalize(f.get("function"), demangled) for f in frames]
        last = names[-1] if names else None
        stop = s.get("stack_stop")
        total += n
        by_stop[stop] = by_stop.get(stop, 0) + n
        if stop == "end" and (last in ENTRY or (
                len(names) > 1 and names[-2] in START_MAIN)):
            reached += n
        else:
            worst.append((n, stop, last, frames))
    errors = []
    if not total:
        return [f"sites: expected allocations, got none"]
    if reached < share * total:
        worst.sort(key=lambda w: -w[0])
        errors.append(
            f"stacks reaching the entry ({', '.join(sorted(ENTRY))} as the "
            f"outermost frame, or the caller of __libc_start_main; "
            f"stack_stop 'end'): expected >= "
            f"{share:.0%} of {total} allocations, got {reached} "
            f"({reached / total:.1%}); allocations by stack_stop: {by_stop}; "
            f"kernel.stack_stops: "
            f"{(report.get('kernel') or {}).get('stack_stops')!r}")
        for n, stop, last, frames in worst[:5]:
            names = [normalize(f.get("function"), demangled)
                     for f in frames]
            errors.append(f"  {n} allocations, stack_stop {stop!r}, "
                          f"outermost {last!r}: {short(frames, names)}")
    return errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["chains", "names", "cut", "fp",
                                    "stops", "entry"])
    p.add_argument("report")
    p.add_argument("expect", nargs="?")
    p.add_argument("--src", help="tests/targets, for @site line numbers")
    p.add_argument("--min", type=float, default=0.95)
    a = p.parse_args()
    try:
        with open(a.report, encoding="utf-8") as f:
            report = msjson.resolve(json.load(f))
    except (OSError, ValueError) as e:
        print(f"report {a.report}: expected valid JSON, got {e}")
        return 1
    if a.what == "entry":
        errors = entry(report, a.min)
    else:
        if not a.expect or not a.src:
            p.error(f"{a.what} needs EXPECT.json and --src")
        with open(a.expect, encoding="utf-8") as f:
            expect = json.load(f)
        c = Checker(report, expect, site_lines(a.src))
        if a.what in ("chains", "names"):
            c.chains(a.what)
        elif a.what == "cut":
            c.cut()
        elif a.what == "stops":
            c.stops()
        else:
            c.fp()
        errors = c.errors
    # Every stack target is a correct program: no free is an anomaly.
    for a_ in report.get("anomalies") or []:
        errors.append(f"anomalies: expected none on a correct program, got "
                      f"{a_.get('kind')} x{a_.get('count')} "
                      f"({a_.get('alloc_family')} freed by "
                      f"{a_.get('free_family')})")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
