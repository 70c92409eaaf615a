#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The HTML dashboard in headless Chromium, for `make html-test`.

    GEN=/abs/.output/html/gen-report OUT=/abs/.output/html \
    MEMSCOPE=/abs/memscope-bpf TARGETS=/abs/.output/targets \
        tests/html/run.py [TEST...]

gen-report builds stores from synthetic records and writes their reports
through report__write_html and report__write_json (tests/html/gen_report.c
says what each holds). Each report is opened in Debian's chromium, headless
and offline, and what the page drew is read back from --dump-dom:

  json      the JSON report's sites and timeline carry the known numbers
  known     summary, banner, call-site table, flame graph and timeline
            show the known numbers
  interact  interact.html clicks through the page in a frame: flame graph
            modes, search, zoom and reset; table sort, filter and stack;
            and markup injected into the page does not run (its policy)
  hostile   names that are markup and script are shown as text: no
            element was made from them and none of them ran
  extras    declared tasks and shared handles written by hand: hostile names
            shown as text in the views; a newer rule's records drawn
            generically under their key
  graph     the known report with a heap scan written by hand: the
            ownership graph around the site with the most links (8
            neighbours a side, the rest added up and said so, every link in
            the table); interact_graph.html steps to a neighbour and back,
            picks sites from the selector, the call-site table and a zoomed
            flame graph frame, and colours the flame graph by reachability
  procs     a report of four process images: the process table by live
            bytes, the selector, and every view switched to one image
            (#proc=N, what choosing it sets); interact_procs.html chooses
            one in the selector, clicks another's row, and goes back to all
  stops     a site whose walk stopped early (read): the flame graph roots
            it at its marker, its stack in the call-site table says why;
            a whole stack says nothing more
  folds     ten ended runs of one program under --fold 8: one row (pids,
            how many, the last end, failures, the largest peak of one),
            named so in the selector, and its view
  big       one million events from 5000 call stacks render in < 3 s
  shot      a 1400x1000 screenshot, kept as OUT/dashboard.png (and the big
            report as OUT/dashboard-big.png) for a person to look at
  traced    end to end: MEMSCOPE traces TARGETS/leaky with --html (root and
            BPF, like the integration tests; MEMSCOPE_SKIP_INTEGRATION=1
            skips it); the page shows the JSON report's totals and leaky's
            known leaks; screenshot OUT/dashboard-traced.png
  traced_foreign  TARGETS/sysproc forking a child that execs sysproc32
            (32-bit): the banner and that image's row say it was not traced
  traced_filter  the same with --min-size/--max-size: the note says the
            filter is on, the live views count only what passes it
  traced_growth  TARGETS/growth with -i: the leak suspects by growth are
            the first section, one item each, with rule and confidence
  traced_reach  TARGETS/reach with --reachability: the reachability view
            shows every labelled site's classes and the leaked cycle; the
            ownership graph is centred on the site with the most pointers
            and lists its links as the JSON has them; with -t 1, the
            flame graph (interact_graph.html?only=flame) colours labelled
            sites past the leak list by their own classes
  traced_declared  examples/executor (EXAMPLES, else TARGETS/../examples):
            the task tree, zombies, passports, violations, shared handles,
            storms and variables name things, say times in ms or s, show
            no JSON member name or raw nanoseconds; interact_declared.html
            collapses and expands the tree, opens a task's details, and
            finds no element past its section or scrolling sideways at
            900 px

Quiet while tests pass; a failed check prints "test: what: expected X,
got Y". Timings and sizes go to OUT/timings.txt. The last line is always
"html: N passed, N failed".
"""

import html
import html.parser
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# check.py's tables, and msjson: reports read with their frames resolved.
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import msjson  # noqa: E402
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
RENDER_BUDGET_MS = 3000
CHROMIUM_TIMEOUT = 60

# What the hostile report's strings are (tests/html/gen_report.c).
H_SCRIPT = "<script>document.body.dataset.pwned='script'</script>"
H_IMG = "<img src=x onerror=\"document.body.dataset.pwned='img'\">"
H_ALERT = "<script>alert(1)</script>"
H_ALERT_IMG = "<img src=x onerror=alert(1)>"
H_QUOTES = "\"'quotes' & \"amp\" &amp; &lt;b&gt;"
H_CLOSE = "</script><script>document.body.dataset.pwned='json'</script>"
H_SVG = "<svg onload=\"document.body.dataset.pwned='svg'\">"

# The known report, by call site (frame 0's function): allocated bytes and
# blocks, live bytes and blocks, bytes at the peak, and frame 0's place.
KNOWN_SITES = {
    "scratch": (12288, 2, 0, 0, 8192, "work.c:99"),
    "make_buffer": (2000, 2, 1000, 1, 2000, "buf.c:12"),
    "new_node": (640, 10, 320, 5, 640, "list.c:7"),
    "(no stack captured)": (128, 1, 128, 1, 0, ""),
}
KNOWN_ORDER = ["scratch", "make_buffer", "new_node", "(no stack captured)"]
LIB = "0x7f00000010a0 (libfoo.so)"
KNOWN_FLAME = {
    "live": {"all": 1448, "main": 1320, "load_config": 1320,
             "make_buffer": 1000, "new_node": 320,
             "(no stack captured)": 128},
    "peak": {"all": 10832, "main": 10832, "load_config": 2640,
             "make_buffer": 2000, "new_node": 640, LIB: 8192,
             "scratch": 8192},
    "alloc": {"all": 15056, "main": 14928, "load_config": 2640,
              "make_buffer": 2000, "new_node": 640, LIB: 12288,
              "scratch": 12288, "(no stack captured)": 128},
}


class Failed(Exception):
    pass


class Test:
    """Collects the differences of one test."""

    def __init__(self, name):
        self.name = name
        self.errors = []

    def eq(self, what, want, got):
        if want != got:
            self.errors.append(f"{what}: expected {want!r}, got {got!r}")

    def true(self, what, cond, detail=""):
        if not cond:
            self.errors.append(what + (f": {detail}" if detail else ""))

    def require(self, what, cond, detail=""):
        """A check the rest of the test cannot do without."""
        self.true(what, cond, detail)
        if not cond:
            raise Failed()


# --- a small DOM from chromium's --dump-dom -----------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.kids = []

    def text(self):
        return "".join(k if isinstance(k, str) else k.text()
                       for k in self.kids)

    def walk(self):
        for k in self.kids:
            if isinstance(k, Node):
                yield k
                yield from k.walk()

    def all(self, tag=None, **attrs):
        """Descendants with this tag and these attribute values; a value
        of True only asks that the attribute exists."""
        out = []
        for n in self.walk():
            if tag and n.tag != tag:
                continue
            if all((a.replace("_", "-") in n.attrs) if v is True else
                   n.attrs.get(a.replace("_", "-")) == v
                   for a, v in attrs.items()):
                out.append(n)
        return out

    def children(self, tag):
        return [k for k in self.kids if isinstance(k, Node) and k.tag == tag]

    def one(self, t, tag=None, **attrs):
        found = self.all(tag, **attrs)
        t.require(f"one <{tag or '*'} {attrs}>", len(found) == 1,
                  f"found {len(found)}")
        return found[0]

    def classes(self):
        return self.attrs.get("class", "").split()


class DomBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.kids.append(data)


def parse(text):
    b = DomBuilder()
    b.feed(text)
    b.close()
    return b.root


# --- chromium ------------------------------------------------------------

def chromium(t, url, *extra):
    """Runs chromium on url; its stdout and the wall time in seconds."""
    with tempfile.TemporaryDirectory(prefix="memscope-chromium.") as prof:
        cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={prof}", *extra, url]
        start = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            t.require(f"chromium on {url}", False,
                      f"no result within {CHROMIUM_TIMEOUT} s")
        wall = time.monotonic() - start
    err = "\n    ".join(p.stderr.strip().splitlines()[-5:])
    t.require(f"chromium on {url}", p.returncode == 0,
              f"exit status {p.returncode}; its stderr ends:\n    {err}")
    return p.stdout, wall


def dump(t, path, *extra):
    out, wall = chromium(t, "file://" + path, "--virtual-time-budget=5000",
                         *extra, "--dump-dom")
    dom = parse(out)
    body = dom.one(t, "body")
    t.require("page rendered (body data-rendered)",
              body.attrs.get("data-rendered") == "ok",
              f"data-rendered={body.attrs.get('data-rendered')!r}; "
              f"error: {' '.join(n.text() for n in dom.all(id='render-error'))}")
    # A JS value appended as a node (DOM append(null) writes "null").
    stray = [f"<{n.tag} id={n.attrs.get('id')!r} class={n.attrs.get('class')!r}>"
             for n in [body] + body.all()
             if n.tag not in ("script", "style") and
             any(isinstance(k, str) and
                 k.strip() in ("null", "undefined", "NaN", "[object Object]")
                 for k in n.kids)]
    t.eq("no stray text of a JS value (null, undefined)", [], stray)
    return dom, body, wall


def generate(t, gen, kind, base):
    start = time.monotonic()
    p = subprocess.run([gen, kind, base], capture_output=True, text=True)
    t.require(f"gen-report {kind}", p.returncode == 0,
              f"exit status {p.returncode}: {p.stderr.strip()}")
    return time.monotonic() - start


# --- views ---------------------------------------------------------------

def card(t, dom, metric):
    n = dom.one(t, "div", data_metric=metric)
    sub = [k for k in n.all("div") if "sub" in k.classes()]
    return (int(n.attrs["data-value"]), sub[0].text() if sub else None)


def table_rows(dom):
    """(name, where, {column: exact value}) per drawn call-site row."""
    rows = []
    for tr in dom.all("tr", data_site=True):
        cells = tr.all("td")
        vals = {}
        name = where = None
        for td in cells:
            cls = td.classes()
            if "name" in cls:
                name = td.text()
            elif "where" in cls:
                where = td.text()
        heads = [th.attrs["data-key"] for th in dom.all("th", data_key=True)]
        for key, td in zip(heads, cells):
            if "data-value" in td.attrs:
                vals[key] = int(td.attrs["data-value"])
        rows.append((name, where, vals))
    return rows


def page_title(t, dom):
    titles = dom.one(t, "head").children("title")
    t.require("one <title> in <head>", len(titles) == 1)
    return titles[0].text()


def flame_frames(dom):
    return {g.attrs["data-name"]: int(g.attrs["data-value"])
            for g in dom.all("g") if "frame" in g.classes()}


# --- tests ---------------------------------------------------------------

def test_json(t, env):
    r = msjson.load(env["known"] + ".json")
    t.eq("schema", "memscope-bpf/report/3", r.get("schema"))
    t.eq("summary.allocs", 15, r["summary"]["allocs"])
    t.eq("leaks kept", 3, len(r["leaks"]))
    t.eq("peak.bytes", 10832, r["peak"]["bytes"])
    sites = r.get("sites")
    t.require("sites is a list", isinstance(sites, list))
    t.eq("sites, in order", KNOWN_ORDER,
         [s["frames"][0]["function"] if s["frames"] else "(no stack captured)"
          for s in sites])
    for s in sites:
        name = s["frames"][0]["function"] if s["frames"] else \
            "(no stack captured)"
        ab, ac, lb, lc, pb, _ = KNOWN_SITES[name]
        t.eq(f"site {name}", {"source": "captured", "alloc_bytes": ab,
                              "alloc_count": ac, "live_bytes": lb,
                              "live_count": lc, "peak_bytes": pb,
                              "stack_truncated": False},
             {k: s.get(k) for k in ("source", "alloc_bytes", "alloc_count",
                                    "live_bytes", "live_count", "peak_bytes",
                                    "stack_truncated")})
        t.true(f"site {name} has peak_count", "peak_count" in s)
    tl = r.get("timeline")
    t.require("timeline is an object", isinstance(tl, dict))
    t.eq("timeline.source", "captured", tl.get("source"))
    # 1040 ms of records outgrow 1024 buckets of 1 ms: they doubled once.
    t.eq("timeline.width_ns", 2000000, tl.get("width_ns"))
    pts = tl["points"]
    t.eq("point keys", ["t_ns", "max_bytes", "end_bytes", "allocs", "frees"],
         list(pts[0]))
    t.eq("first point t_ns (first record at 100 ms)", 100000000,
         pts[0]["t_ns"])
    t.true("points are contiguous buckets",
           all(b["t_ns"] - a["t_ns"] == tl["width_ns"]
               for a, b in zip(pts, pts[1:])))
    t.eq("sum of allocs", 15, sum(p["allocs"] for p in pts))
    t.eq("sum of frees", 8, sum(p["frees"] for p in pts))
    t.eq("highest max_bytes", 10832, max(p["max_bytes"] for p in pts))
    t.eq("last end_bytes", 1448, pts[-1]["end_bytes"])


def test_known(t, env):
    dom, body, _ = dump(t, env["known"] + ".html")
    for metric, value, sub in [
            ("alloc_bytes", 15056, "15,056 bytes in 15 blocks"),
            ("free_bytes", 13608, "13,608 bytes in 8 blocks"),
            ("live_bytes", 1448, "1,448 bytes in 7 blocks"),
            ("peak_bytes", 10832, "10,832 bytes at 0.700 s"),
            ("duration_ns", 2000000000, "exited with status 0"),
            ("sites", 4, "distinct call stacks")]:
        t.eq(f"summary card {metric}", (value, sub), card(t, dom, metric))
    banner = dom.one(t, id="banner").text()
    for part in ["3 events lost (ring buffer full)",
                 "1 call stack could not be read",
                 "kernel counters below are exact"]:
        t.true(f"banner says '{part}'", part in banner, repr(banner))
    t.eq("command", "./server --port 8080", dom.one(t, id="command").text())
    t.eq("title", "memscope-bpf: pid 4242 (./server --port 8080)",
         page_title(t, dom))

    rows = table_rows(dom)
    t.eq("table rows, by bytes allocated", KNOWN_ORDER, [r[0] for r in rows])
    for name, where, vals in rows:
        ab, ac, lb, lc, pb, loc = KNOWN_SITES.get(name, (None,) * 6)
        t.eq(f"row {name}", (loc, {"alloc_bytes": ab, "alloc_count": ac,
                                   "live_bytes": lb, "live_count": lc,
                                   "temp_bytes": ab - lb if ab else None,
                                   "peak_bytes": pb}), (where, vals))
    t.eq("call-site count", "4 call sites", dom.one(t, id="sites-count").text())

    t.eq("flame graph mode", "live",
         dom.one(t, "svg", id="flame-graph").attrs.get("data-mode"))
    t.eq("flame graph frames (live at end)", KNOWN_FLAME["live"],
         flame_frames(dom))
    peak = dom.one(t, "g", id="peak-marker")
    t.eq("peak marker", ("10832", "700000000", "peak 10.6 KiB at 0.700 s"),
         (peak.attrs.get("data-bytes"), peak.attrs.get("data-ns"),
          peak.one(t, "text").text()))
    # Allocations fall in 15 distinct 2 ms buckets: one bar each.
    t.eq("allocation rate bars", 15,
         len([r for r in dom.one(t, "svg", id="rate-chart").all("rect")
              if "hover" not in r.classes()]))
    for key in ("tasks", "zombies", "passports", "violations", "shared",
                "storms", "tracked", "reach", "graph"):
        t.eq(f"no {key} section without it in the JSON", 0,
             len(dom.all("section", id=key)))
    t.eq("no reachability colours without a heap scan", [],
         dom.all("div", id="flame-color") + dom.all("div", id="flame-legend"))
    t.eq("no graph button without a graph", [],
         dom.all("button", id="flame-graph-site"))


def interact(t, page, report, query="", budget=10000):
    """What tests/html/PAGE wrote into its #result after driving the
    dashboard REPORT in chromium (QUERY: its own parameters, each ending
    in &)."""
    url = ("file://" + os.path.join(HERE, page) + "?" + query +
           "report=file://" + report)
    out, _ = chromium(t, url, "--allow-file-access-from-files",
                      "--virtual-time-budget=%d" % budget, "--dump-dom")
    m = re.search(r'<pre id="result">(.*?)</pre>', out, re.S)
    t.require(page + " wrote a result", m and m.group(1), out[-300:])
    r = json.loads(html.unescape(m.group(1)))
    t.require(page + " ran to the end", "error" not in r,
              r.get("error", ""))
    return r


def test_interact(t, env):
    r = interact(t, "interact.html", env["known"] + ".html", budget=20000)

    def values(frames):
        return {f["name"]: f["value"] for f in frames}

    for mode in ("live", "peak", "alloc"):
        t.eq(f"flame graph frames ({mode})", KNOWN_FLAME[mode],
             values(r[f"flame_{mode}"]))
    t.eq("search 'LOAD' (peak): matched", "matched 2.58 KiB (24%)",
         r["search"]["info"])
    t.eq("search 'LOAD': highlighted frames", ["load_config"],
         [f["name"] for f in r["search"]["frames"] if f["match"]])
    zoom = {f["name"]: f for f in r["zoom"]["frames"]}
    t.eq("zoom on load_config: frames drawn",
         {"all", "main", "load_config", "make_buffer", "new_node"}, set(zoom))
    t.true("zoom: load_config spans the graph",
           abs(zoom["load_config"]["width"] - r["svg_width"]) < 1,
           f"width {zoom['load_config']['width']} of {r['svg_width']}")
    t.eq("zoom: callers kept as ancestors", [True, True],
         [zoom["all"]["ancestor"], zoom["main"]["ancestor"]])
    t.true("zoom: make_buffer scaled to its share of load_config",
           abs(zoom["make_buffer"]["width"] -
               r["svg_width"] * 2000 / 2640) < 1,
           f"width {zoom['make_buffer']['width']}")
    t.eq("zoom: reset enabled", False, r["zoom"]["reset_disabled"])
    t.eq("reset: all frames back", KNOWN_FLAME["peak"],
         values(r["reset"]["frames"]))
    t.eq("reset: button disabled", True, r["reset"]["reset_disabled"])
    t.eq("sort by live bytes, descending",
         ["make_buffer", "new_node", "(no stack captured)", "scratch"],
         r["sort_live_desc"])
    t.eq("sort by live bytes, ascending again",
         ["scratch", "(no stack captured)", "new_node", "make_buffer"],
         r["sort_live_asc"])
    t.eq("aria-sort", "ascending", r["sort_live_aria"])
    t.eq("sort by function", sorted(KNOWN_ORDER), r["sort_name"])
    t.eq("filter 'LIST.C'", {"rows": ["new_node"],
                             "count": "1 of 4 call sites"}, r["filter"])
    t.eq("filter matches any frame of the stack",
         ["make_buffer", "new_node"], sorted(r["filter_stack"]))
    t.eq("clicked row shows its stack", [
        "make_bufferbuf.c:12/usr/bin/server0x401100",
        "load_configconfig.c:40/usr/bin/server0x401200",
        "mainmain.c:10/usr/bin/server0x401500"], r["detail"])
    t.eq("injected inline handler blocked by the page's policy", True,
         r["csp_blocked"])


def test_stops(t, env):
    dom, _, _ = dump(t, env["stops"] + ".html")
    t.eq("an exit whose status was not seen", "exited (its status not seen)",
         card(t, dom, "duration_ns")[1])
    r = interact(t, "interact_stops.html", env["stops"] + ".html")
    t.eq("flame graph: the stack that stopped early under its marker, the "
         "whole one from main",
         [("all", 400), ("[stack ended early: read]", 300),
          ("0x7f00000010a0 (libfoo.so)", 300), ("scratch", 300),
          ("main", 100), ("load_config", 100), ("make_buffer", 100)],
         sorted(((f["name"], f["value"]) for f in r["flame"]),
                key=lambda x: (-x[1], x[0] != "all")))
    t.eq("the stack that stopped early says why where it ends",
         ["scratchwork.c:99/usr/bin/server0x401400",
          "0x7f00000010a0 (libfoo.so)/usr/lib/libfoo.so0x7f00000010a0",
          "\u2026 stack ended early, read: the stack could not be read "
          "there"], r["cut"])
    t.eq("the whole stack says nothing more",
         ["make_bufferbuf.c:12/usr/bin/server0x401100",
          "load_configconfig.c:40/usr/bin/server0x401200",
          "mainmain.c:10/usr/bin/server0x401500"], r["whole"])


def test_hostile(t, env):
    path = env["hostile"] + ".html"
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    t.true("no hostile string raw in the file",
           not any(h in raw for h in (H_SCRIPT, H_IMG, H_CLOSE, H_SVG,
                                      H_ALERT, H_ALERT_IMG)))
    dom, body, _ = dump(t, path)
    t.eq("body data-pwned (set by any injected script)", None,
         body.attrs.get("data-pwned"))
    scripts = dom.all("script")
    t.eq("script elements: the report and the page's own", 2, len(scripts))
    t.eq("img elements", 0, len(dom.all("img")))
    t.eq("svg elements: live, rate and flame graph", 3, len(dom.all("svg")))
    handlers = [f"<{n.tag} {a}>" for n in dom.walk() for a in n.attrs
                if a.startswith("on")]
    t.eq("elements with on* attributes", [], handlers)
    t.eq("command shown as text", f"{H_CLOSE} {H_SCRIPT} {H_QUOTES}",
         dom.one(t, id="command").text())
    t.eq("title as text", f"memscope-bpf: pid 4242 ({H_CLOSE} {H_SCRIPT} "
         f"{H_QUOTES})", page_title(t, dom))
    rows = {r[0]: r[1] for r in table_rows(dom)}
    t.eq("table cells as text", {H_SCRIPT: H_IMG + ":1",
                                 H_ALERT: H_ALERT_IMG + ":2",
                                 H_QUOTES: H_SVG + ":3"}, rows)
    t.eq("flame graph frames as text", {
        "all": 400, f"0x504000 ({H_IMG})": 400, H_SCRIPT: 100,
        H_QUOTES: 300}, flame_frames(dom))


def embedded_json(raw):
    m = re.search(r'(<script id="report" type="application/json">)(.*?)'
                  r'(</script>)', raw, re.S)
    return m


def test_extras(t, env):
    """The known report with declared records written by hand: hostile
    names shown as text in the views, a newer rule's records generically."""
    with open(env["known"] + ".html", encoding="utf-8") as f:
        raw = f.read()
    m = embedded_json(raw)
    t.require("report element in the page", m)
    r = msjson.loads(m.group(2))
    mem = {"source": "captured", "allocs": 1, "alloc_bytes": 10,
           "live_count": 1, "live_bytes": 10, "peak_bytes": 10,
           "at_completion": None}
    task = {"source": "declared", "parent_known": False, "created": True,
            "state": "running", "first_ns": 1000000, "created_ns": 1000000,
            "completed_ns": None, "last_active_ns": 1500000,
            "lifetime_ns": 2500000000, "threads_inside": 1, "memory": mem}
    r["declared"] = {
        "stats": {"records": 3},
        "rules": {"storm_clones": 16, "storm_window_ns": 100000000},
        "tasks": [dict(task, id=1, parent=0, depth=0, name="main"),
                  dict(task, id=2, parent=1, parent_known=True, depth=1,
                       name=H_SCRIPT)],
        "passports": [],
        "shared": [{"source": "declared", "ptr": "0x1000", "name": H_ALERT_IMG,
                    "type": H_IMG, "first_ns": 2000000, "shares": 2,
                    "handles": 1, "max_handles": 2, "block": None}],
        "leak_classes": [{"source": "inferred", "rule": "a-new-rule",
                          "confidence": 0.5}],
    }
    doc = json.dumps(r).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")
    path = env["out"] + "/extras.html"
    with open(path, "w", encoding="utf-8") as f:
        f.write(raw[:m.start(2)] + doc + raw[m.end(2):])
    dom, body, _ = dump(t, path)
    t.eq("body data-pwned", None, body.attrs.get("data-pwned"))
    t.eq("img elements", 0, len(dom.all("img")))
    tasks = dom.one(t, "section", id="tasks")
    t.eq("tasks heading", "Task tree", tasks.one(t, "h2").text())
    lines = {li.attrs["data-task"]: [n for n in li.all("div")
                                     if "task-line" in n.classes()][0].text()
             for li in tasks.all("li", data_task=True)}
    t.eq("task lines: name, id, state, lifetime in s, peak, live", {
        "1": "maintask 1runningalive for 2.500 s, not completedpeak 10 B"
             "live at the end: 10 B in 1 block",
        "2": H_SCRIPT + "task 2runningalive for 2.500 s, not completed"
             "peak 10 B""live at the end: 10 B in 1 block"}, lines)
    t.eq("task 2 nested under task 1", ["2"],
         [li.attrs["data-task"] for li in tasks.one(t, "li", data_task="1")
          .children("ul")[0].children("li")])
    passports = dom.one(t, "section", id="passports")
    t.eq("passports empty state", "None in this trace.",
         [p for p in passports.all("p") if "empty" in p.classes()][0].text())
    handles = dom.one(t, "section", id="shared").text()
    t.true("handles show their names as text",
           f"{H_ALERT_IMG} ({H_IMG}) 0x1000: 1 handle at the end, at most 2"
           in handles, handles)
    rule = dom.one(t, "section", id="leak_classes")
    t.eq("a rule's records without a title: its key", "leak_classes",
         rule.one(t, "h2").text())
    t.true("a rule's records drawn", "a-new-rule" in rule.text(),
           rule.text())


def splice(raw, m, r, path):
    """Writes the page raw with report r in place of its own."""
    doc = json.dumps(r).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")
    with open(path, "w", encoding="utf-8") as f:
        f.write(raw[:m.start(2)] + doc + raw[m.end(2):])


def classes(d=0, i=0, p=0, s=0):
    """A reachability object: (count, bytes) per class."""
    return {"source": "inferred", "rule": "conservative_scan",
            **{k: {"count": v[0], "bytes": v[1]} if v else
               {"count": 0, "bytes": 0}
               for k, v in (("definitely_lost", d), ("indirectly_lost", i),
                            ("possibly_lost", p), ("still_reachable", s))}}


def graph_report(env):
    """The known report after a heap scan, by hand: make_buffer's block
    definitely lost, new_node's 3 indirectly lost and 2 still reachable,
    the block without a stack not scanned; and a graph around make_buffer
    of 30 sites holding it (the last named as markup), 4 it holds and a
    link to itself: 35 links of 110 before the report's bound.
    (path, report)."""
    with open(env["known"] + ".html", encoding="utf-8") as f:
        raw = f.read()
    m = embedded_json(raw)
    r = msjson.loads(m.group(2))
    leak = {l["frames"][0]["function"] if l["frames"] else None: l
            for l in r["leaks"]}
    leak["make_buffer"]["reachability"] = classes(d=(1, 1000))
    leak["new_node"]["reachability"] = classes(i=(3, 192), s=(2, 128))
    leak[None]["reachability"] = classes()
    # The tool gives every site its classes, as the leak of its stack has
    # them: the flame graph reads these.
    for s in r["sites"]:
        s.pop("reachability", None)
        f = s["frames"][0]["function"] if s["frames"] else None
        if f in leak:
            s["reachability"] = leak[f]["reachability"]
        elif not s["live_count"]:
            s["reachability"] = classes()

    def site(name, i):
        return {"frames": [{"function": name, "inlined": False,
                            "file": "graph.c", "line": i, "object": "/bin/g",
                            "addr": hex(0x500000 + i)}]}
    hub = {"frames": leak["make_buffer"]["frames"]}
    links = []
    for i in range(30):
        links.append({"kind": "owner", "rule": "sole_start_pointer",
                      "confidence": 0.8, "count": 100 - i,
                      "from": site(H_SCRIPT if i == 29 else f"holder_{i}",
                                   i + 1), "to": hub})
    for i, (kind, rule) in enumerate([
            ("owner", "sole_start_pointer"), ("slice", "interior_pointer"),
            ("container", "many_pointers_to_one_site"),
            ("shared", "two_or_more_holders")]):
        links.append({"kind": kind, "rule": rule, "confidence": 0.5 + i / 10,
                      "count": 10 - i, "from": hub,
                      "to": site(f"child_{i}", 100 + i)})
    links.append({"kind": "owner", "rule": "sole_start_pointer",
                  "confidence": 0.8, "count": 3, "from": hub, "to": hub})
    r["reachability"] = dict(classes(d=(1, 1000), i=(3, 192), s=(2, 128)),
                             confidence={"definitely_lost": 0.95,
                                         "indirectly_lost": 0.9,
                                         "possibly_lost": 0.5,
                                         "still_reachable": 0.9},
                             pause={"source": "captured", "ns": 150000,
                                    "threads": 1, "threads_missed": 0,
                                    "stack_bytes": 4096})
    r["cycles"] = {"source": "inferred", "rule": "owner_pointer_cycle",
                   "confidence": 0.9, "cycles": 0, "groups": 0, "list": []}
    r["graph"] = {"source": "inferred", "pointers": 4000, "links_total": 110,
                  "links": links}
    path = env["out"] + "/graph.html"
    splice(raw, m, r, path)
    return path, r


def test_graph(t, env):
    """The ownership graph around a site, and the flame graph's classes,
    on a report written by hand (graph_report)."""
    path, r = graph_report(env)
    dom, body, _ = dump(t, path)
    t.eq("body data-pwned (a site named as markup)", None,
         body.attrs.get("data-pwned"))
    t.eq("script elements: the report and the page's own", 2,
         len(dom.all("script")))
    sec = dom.one(t, "section", id="graph")
    t.true("the graph section says it is inferred",
           "(inferred)" in sec.one(t, "h2").text())
    t.eq("bound note", "The report keeps the 35 links with the most "
         "pointers of 110; the others are not drawn.",
         dom.one(t, id="graph-bound").text())
    svg = dom.one(t, "svg", id="graph-svg")
    boxes = [g for g in svg.all("g") if "site" in g.classes()]
    centre = [g for g in boxes if "centre" in g.classes()]
    t.require("one site at the centre", len(centre) == 1)
    t.eq("centre: the site with the most pointers, its self link, classes",
         ["make_buffer", "to itself: owner \u00d73",
          "1 definitely lost"], [x.text() for x in centre[0].all("text")])
    left = [g for g in boxes if "in" in g.classes()]
    right = [g for g in boxes if "out" in g.classes()]
    t.eq("left: the 8 sites holding the most of it",
         [f"holder_{i}" for i in range(8)],
         [g.all("text")[0].text() for g in left])
    t.eq("left: the 22 others added up in one box",
         "+22 more sites" "1,793 pointers: listed below",
         dom.one(t, "g", id="graph-more-in").text())
    t.eq("right: every site it holds, none added up",
         ([f"child_{i}" for i in range(4)], []),
         ([g.all("text")[0].text() for g in right],
          dom.all("g", id="graph-more-out")))
    labels = [x.text() for x in svg.all("text")
              if "edge-label" in x.classes()]
    t.eq("the 22 others' link: pointers by kind", "owner \u00d71,793",
         labels[8])
    for want in ("owner \u00d7100", "slice \u00d79", "container \u00d78",
                 "shared \u00d77"):
        t.true(f"edge label '{want}'", want in labels, repr(labels))
    rows = [[td.text() for td in tr.all("td")]
            for tr in dom.one(t, "table", id="graph-links").all("tr")
            if tr.all("td")]
    want = []
    for l in r["graph"]["links"]:
        out = l["from"]["frames"][0]["function"] == "make_buffer"
        other = l["to"] if out else l["from"]
        f = other["frames"][0]
        d = ("its own site" if l["to"] is l["from"] else "holds") if out \
            else "held by"
        want.append([d, f["function"], f"{f['file']}:{f['line']}",
                     l["kind"], f"{l['count']:,}", l["rule"],
                     f"{l['confidence']:.2f}"])
    t.eq("links table: every link of the site, with rule and confidence",
         sorted(want), sorted(rows))
    t.eq("its blocks by class", [
        "Definitely lost: 1000 B in 1 block",
        "Indirectly lost: 0 B in 0 blocks",
        "Possibly lost: 0 B in 0 blocks",
        "Still reachable: 0 B in 0 blocks"],
        [li.text() for li in dom.one(t, "ul", id="graph-classes").all("li")])
    t.true("flame graph: a colour toggle after a scan",
           dom.all("div", id="flame-color"))
    t.eq("flame graph: coloured by function at first", "name",
         dom.one(t, "svg", id="flame-graph").attrs.get("data-color"))

    got = interact(t, "interact_graph.html", path)
    t.eq("steps: first, a neighbour clicked, back, the selector's last", [
        "make_buffer", "holder_0", "make_buffer", "child_3"],
        [got["first"], got["stepped"], got["back"], got["selected"]])
    t.eq("Back disabled, then enabled after a step", [True, False],
         [got["back_disabled"], got["stepped_back_disabled"]])
    t.eq("new_node's stack: no graph button (no link of it)", False,
         got["new_node_button"])
    t.eq("make_buffer's stack: its button shows it", "make_buffer",
         got["from_table"])
    t.eq("flame graph: no graph button before a zoom", True,
         got["flame_button_hidden"])
    t.eq("flame graph: load_config zoomed offers its heaviest linked site",
         {"hidden": False, "text": "Ownership graph: make_buffer"},
         got["flame_button"])
    t.eq("flame graph's button shows it", "make_buffer", got["from_flame"])
    t.eq("legend hidden until coloured by reachability", True,
         got["legend_hidden"])
    t.eq("coloured by reachability: svg, legend", ("reach", False),
         (got["reach"]["color"], got["reach"]["legend_hidden"]))
    for part in ("Definitely lost", "Indirectly lost", "Possibly lost",
                 "Still reachable", "not classified"):
        t.true(f"legend names '{part}'", part in got["reach"]["legend"])
    fr = {f["name"]: f for f in got["reach"]["frames"]}
    # live at the end: make_buffer 1000 lost; new_node 192 indirectly
    # lost, 128 reachable; the stackless 128 not classified, of 1448.
    for name, want in [
            ("make_buffer", [("definitely_lost", 1.0)]),
            ("new_node", [("indirectly_lost", 0.6), ("still_reachable", 0.4)]),
            ("load_config", [("definitely_lost", 1000 / 1320),
                             ("indirectly_lost", 192 / 1320),
                             ("still_reachable", 128 / 1320)]),
            ("(no stack captured)", [("unclassified", 1.0)])]:
        f = fr.get(name)
        t.require(f"frame {name} drawn", f)
        got_cls = [(c, round(w / f["width"], 2)) for c, w in f["cls"]]
        t.eq(f"frame {name}: its width split by class",
             [(c, round(x, 2)) for c, x in want], got_cls)
    t.eq("root frame: not split", [], fr["all"]["cls"])
    t.eq("another mode: coloured by function again", "name",
         got["peak_color"])


def test_big(t, env):
    gen_s = generate(t, env["gen"], "big", env["big"])
    path = env["big"] + ".html"
    size = os.path.getsize(path)
    dom, body, wall = dump(t, path)
    ms = float(body.attrs.get("data-render-ms", "inf"))
    t.true(f"rendered within {RENDER_BUDGET_MS} ms", ms < RENDER_BUDGET_MS,
           f"took {ms} ms")
    r = msjson.load(env["big"] + ".json")
    t.eq("events", 1000000, r["summary"]["events"])
    t.eq("call sites", 5000, len(r["sites"]))
    t.eq("call-site count", "5,000 call sites",
         dom.one(t, id="sites-count").text())
    t.eq("rows drawn before 'show all'", 200, len(table_rows(dom)))
    t.eq("show-all button", "Show all 5,000 (200 shown)",
         dom.one(t, id="sites-more").text())
    frames = flame_frames(dom)
    t.eq("flame graph total: live bytes at the end",
         r["summary"]["live_bytes"], frames.get("all"))
    t.true("flame graph draws a bounded number of frames",
           0 < len(frames) < 5000, f"{len(frames)} frames")
    env["timings"].append(
        f"big: 1,000,000 events, 5,000 call stacks; gen-report {gen_s:.2f} s "
        f"(ASan); HTML {size} bytes ({size / 1048576:.1f} MiB); first render "
        f"{ms:.0f} ms after navigation start; chromium wall time "
        f"{wall:.2f} s (start, load, render, dump, exit)")


def trace_with_html(t, env, name, target, *opts, args=()):
    """The real tool on TARGETS/target (with args) with -o and --html:
    (base, report)."""
    base = os.path.join(env["out"], name)
    for ext in (".json", ".html"):
        if os.path.exists(base + ext):
            os.unlink(base + ext)
    cmd = [env["tool"], "-q", "-t", "0", *opts, "-o", base + ".json",
           "--html", base + ".html", "--",
           os.path.join(env["targets"], target), *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        t.require(" ".join(cmd), False, f"still running after "
                  f"{CHROMIUM_TIMEOUT} s")
    t.require(" ".join(cmd), p.returncode == 0,
              f"exit status {p.returncode}: {p.stderr.strip()}")
    return base, msjson.load(base + ".json")


def test_traced(t, env):
    """The real tool tracing tests/targets/leaky, end to end."""
    from check import LEAKS, NOT_LEAKING

    base, r = trace_with_html(t, env, "traced", "leaky")
    dom, body, _ = dump(t, base + ".html")
    s = r["summary"]
    for metric in ("alloc_bytes", "free_bytes", "live_bytes", "peak_bytes"):
        t.eq(f"summary card {metric} (JSON summary.{metric})", s[metric],
             card(t, dom, metric)[0])
    t.eq("call-site count (JSON sites)", f"{len(r['sites']):,} call sites",
         dom.one(t, id="sites-count").text())
    live = {}
    for name, _, vals in table_rows(dom):
        blocks, nbytes = live.get(name, (0, 0))
        live[name] = (blocks + vals["live_count"], nbytes + vals["live_bytes"])
    for fn, want in LEAKS["leaky"].items():
        t.eq(f"table row {fn}: live blocks and bytes", want, live.get(fn))
    for fn in NOT_LEAKING["leaky"]:
        t.true(f"table row {fn}: nothing live",
               live.get(fn, (0, 0)) == (0, 0), repr(live.get(fn)))
    t.true("flame graph draws frames", any(
        g.attrs.get("data-name") in LEAKS["leaky"]
        for g in dom.all("g") if "frame" in g.classes()))
    t.eq("flame graph total: live bytes at the end", s["live_bytes"],
         flame_frames(dom).get("all"))
    chromium(t, "file://" + base + ".html", "--virtual-time-budget=5000",
             "--screenshot=" + os.path.join(env["out"], "dashboard-traced.png"),
             "--window-size=1400,1000")


def fmt_bytes(n):
    """viz/util.js's MS.fmtBytes."""
    if n < 1024:
        return f"{n} B"
    v, unit = float(n), None
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        v /= 1024
        if v < 1024:
            break
    digits = 0 if v >= 100 else 1 if v >= 10 else 2
    return f"{v:.{digits}f} {unit}"


def test_traced_anon(t, env):
    """tests/targets/anon traced: the anonymous memory panel shows the
    PROT_NONE pages as reserved, apart from the live bytes, per site and
    in all, as the JSON says."""
    base, r = trace_with_html(t, env, "traced_anon", "anon")
    a = r.get("anon_memory") or {}
    t.require("JSON anon_memory with reserved pages",
              a.get("reserved_bytes", 0) >= 4096, repr(a.get("reserved_bytes")))
    dom, _, _ = dump(t, base + ".html")
    sec = dom.one(t, "section", id="anon")
    note = sec.one(t, "p", **{"class": "note anon-reserved"}).text()
    t.true("the reserve said apart from the live bytes",
           note.startswith(fmt_bytes(a["reserved_bytes"]) + " reserved: "
                           "mapped PROT_NONE"), note)
    table = sec.one(t, "table", **{"class": "compact anon-sites"})
    heads = [th.text() for th in table.all("th")]
    t.require("a Reserved column after Ranges",
              heads[3:5] == ["Ranges", "Reserved"], repr(heads))
    rows = table.one(t, "tbody").children("tr")
    t.eq("one row per JSON site", len(a["sites"]), len(rows))
    for i, (tr, site) in enumerate(zip(rows, a["sites"])):
        cells = [td.text() for td in tr.children("td")]
        t.eq(f"row {i}: live and reserved cells",
             [fmt_bytes(site["live_bytes"]), fmt_bytes(site["reserved_bytes"])],
             [cells[1], cells[4]])
    guard = [s for s in a["sites"]
             if any(f.get("function") == "anon_guard" for f in s["frames"])]
    t.eq("anon_guard's site: its guard page reserved, 3 pages live",
         [(3 * 4096, 4096)],
         [(s["live_bytes"], s["reserved_bytes"]) for s in guard])


def test_traced_foreign(t, env):
    """sysproc forks a child that execs sysproc32 (gcc -m32): the banner
    says an image was not traced, and that image's row says so where its
    allocations would be, as the JSON says; the parent is traced."""
    base, r = trace_with_html(
        t, env, "traced_foreign", "sysproc",
        args=("leak", "1", "111", "fork", "exec",
              os.path.join(env["targets"], "sysproc32"), "leak", "2", "222",
              ";"))
    procs = r.get("processes") or []
    foreign = [i for i, p in enumerate(procs) if p["target"].get("foreign")]
    t.eq("JSON: one foreign image, sysproc32's",
         (1, ["sysproc32"]), (r["summary"].get("procs_foreign"),
                              [procs[i]["target"]["comm"] for i in foreign]))
    dom, _, _ = dump(t, base + ".html")
    banner = dom.one(t, id="banner").text()
    part = "1 process image not traced: 32-bit programs"
    t.true(f"banner says '{part}'", part in banner, repr(banner))
    rows = {int(tr.attrs["data-proc"]): [td.text() for td in tr.all("td")]
            for tr in dom.all("tr", data_proc=True)}
    t.eq("rows saying 'not traced', by image", foreign,
         sorted(i for i, cells in rows.items()
                if "not traced (32-bit)" in cells))
    t.true("the parent's allocations shown", any(
        procs[i]["target"]["comm"] == "sysproc" and cells[6] == "1"
        for i, cells in rows.items()), repr(rows))


def test_traced_max_stacks(t, env):
    """--max-stacks 500 on manystacks (thousands of distinct stacks): the
    banner says how many records were counted at their innermost frame,
    as summary.stacks_cut does."""
    base, r = trace_with_html(t, env, "traced_max_stacks", "manystacks",
                              "--max-stacks", "500")
    cut = r["summary"].get("stacks_cut")
    t.true("JSON: records cut", bool(cut), repr(cut))
    dom, _, _ = dump(t, base + ".html")
    banner = dom.one(t, id="banner").text()
    part = (f"{cut:,} records counted at the innermost frame of their "
            "stack alone (--max-stacks: a process's table of distinct "
            "stacks was full)")
    t.true(f"banner says '{part}'", part in banner, repr(banner))


def test_traced_filter(t, env):
    """--min-size/--max-size: the dashboard's live views count what passes."""
    from check import LEAKS

    base, r = trace_with_html(t, env, "traced-filter", "leaky",
                              "--min-size", "1001", "--max-size", "4096")
    dom, body, _ = dump(t, base + ".html")
    f = r.get("leak_filter") or {}
    note = dom.one(t, id="leak-filter").text()
    for part in ["of at least 1001 B", "of at most 4.00 KiB",
                 f"{f.get('live_allocs', 0):,} of "
                 f"{r['summary']['live_allocs']:,} live blocks"]:
        t.true(f"leak filter note says '{part}'", part in note, repr(note))
    t.eq("summary card live_bytes: every block, unfiltered",
         r["summary"]["live_bytes"], card(t, dom, "live_bytes")[0])
    live = {}
    for name, _, vals in table_rows(dom):
        blocks, nbytes = live.get(name, (0, 0))
        live[name] = (blocks + vals["live_count"], nbytes + vals["live_bytes"])
    for fn, (blocks, nbytes) in LEAKS["leaky"].items():
        want = (blocks, nbytes) if 1001 <= nbytes // blocks <= 4096 else (0, 0)
        t.eq(f"table row {fn}: live blocks and bytes that pass",
             want, live.get(fn, (0, 0)))
    t.eq("flame graph total: the live bytes that pass", f.get("live_bytes"),
         flame_frames(dom).get("all"))


def test_traced_growth(t, env):
    """-i: the leak suspects by growth are the dashboard's first section."""
    base, r = trace_with_html(t, env, "traced-growth", "growth", "-i", "0.5",
                              args=("6", "grow_leak", "steady_set"))
    dom, body, _ = dump(t, base + ".html")
    sus = r.get("suspects", [])
    t.require("JSON suspects: grow_leak", any(
        s["frames"] and s["frames"][0]["function"] == "grow_leak"
        for s in sus), repr([s["frames"][:1] for s in sus]))
    first = next((e for e in dom.one(t, id="app").children("section")), None)
    t.eq("first section", "suspects", first and first.attrs.get("id"))
    items = dom.one(t, id="suspects-list").children("li")
    t.eq("one item per suspect", len(sus), len(items))
    for item, s in zip(items, sus):
        text = item.text()
        for part in (f"confidence {s['confidence']:.2f}",
                     f"rule {s['rule']}", s["frames"][0]["function"]):
            t.true(f"suspect item says '{part}'", part in text, repr(text))


def test_traced_reach(t, env):
    """--reachability: the view draws each labelled site's classes and
    the leaked cycle of tests/targets/reach."""
    from check_reach import CLASSES, TRUTH, site_of

    base, r = trace_with_html(t, env, "traced-reach", "reach",
                              "--reachability")
    dom, body, _ = dump(t, base + ".html")
    table = dom.one(t, id="reach-table")
    got = {}
    for tr in table.all("tr"):
        cells = tr.all("td")
        if len(cells) != 2 + len(CLASSES):
            continue
        site = site_of("reach", [cells[0].text()])
        if not site:
            continue
        for cls, td in zip(CLASSES, cells[2:]):
            if td.text() != "\u2014":
                got.setdefault(site, set()).add(cls)
    for site, want in TRUTH["reach"].items():
        t.eq(f"reachability row {site}: its classes", set(want),
             got.get(site, set()))
    cycles = dom.one(t, id="reach-cycles").text()
    t.true("leaked cycle drawn", "1 cycle of 4 blocks" in cycles,
           repr(cycles[:200]))
    t.true("footer says the scan is inferred", "inferred" in
           dom.one(t, id="footer").text())

    # The ownership graph: centred on the site with the most pointers,
    # every link of it in the table, as the JSON has them.
    def key(site):
        return ",".join(f["addr"] for f in site["frames"])
    pointers = {}
    for l in r["graph"]["links"]:
        pointers[key(l["from"])] = pointers.get(key(l["from"]), 0) + l["count"]
        if key(l["to"]) != key(l["from"]):
            pointers[key(l["to"])] = pointers.get(key(l["to"]), 0) + \
                l["count"]
    top = max(pointers, key=lambda k: pointers[k])
    t.eq("graph: centred on the site with the most pointers", top,
         dom.one(t, "svg", id="graph-svg").attrs.get("data-site"))
    want = sorted(
        [l["kind"], f"{l['count']:,}", l["rule"], f"{l['confidence']:.2f}"]
        for l in r["graph"]["links"] if top in (key(l["from"]), key(l["to"])))
    got = sorted([td.text() for td in tr.all("td")][3:]
                 for tr in dom.one(t, "table", id="graph-links").all("tr")
                 if tr.all("td"))
    t.eq("graph: its links, kind, pointers, rule, confidence", want, got)
    t.true("flame graph: colours by reachability offered",
           dom.all("div", id="flame-color"))

    # With -t 1 the leak list holds one site; the flame graph still
    # colours every other labelled site by its own classes.
    base, r = trace_with_html(t, env, "traced-reach-t1", "reach",
                              "--reachability", "-t", "1")
    t.eq("-t 1: one leak", 1, len(r["leaks"]))
    listed = site_of("reach", [f.get("function")
                               for f in r["leaks"][0]["frames"]])
    got = interact(t, "interact_graph.html", base + ".html", "only=flame&")
    t.eq("-t 1: coloured by reachability", "reach", got["reach"]["color"])
    drawn = {}
    for f in got["reach"]["frames"]:
        if f["name"] in TRUTH["reach"] and f["name"] != listed:
            drawn.setdefault(f["name"], set()).update(
                c for c, w in f["cls"] if w > 0)
    t.true("-t 1: labelled sites past the leak list drawn", len(drawn) >= 3,
           repr(sorted(drawn)))
    # A frame holds its callees' bytes too (list_head's, list_node's):
    # its own classes are among its parts, and no part is unclassified.
    for site, got_cls in sorted(drawn.items()):
        t.true(f"-t 1: frame {site}, past the leak list: its classes "
               f"{sorted(TRUTH['reach'][site])}, none unclassified",
               set(TRUTH["reach"][site]) <= got_cls and
               "unclassified" not in got_cls, repr(sorted(got_cls)))


def json_keys(obj):
    """Every member name in a JSON value."""
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in json_keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in json_keys(v)}
    return set()


DECLARED_SECTIONS = ["tasks", "zombies", "passports", "violations", "shared",
                     "storms", "tracked"]


def test_traced_declared(t, env):
    """examples/executor declares tasks, zombies, passports, violations,
    shared handles, storms and variables: views a person reads."""
    prog = os.path.join(env["examples"], "executor")
    base, r = trace_with_html(t, env, "traced-declared", prog)
    d = r["declared"]
    for key in DECLARED_SECTIONS:
        t.require(f"JSON declared.{key} has records", d.get(key))
    dom, body, _ = dump(t, base + ".html")
    t.eq("declared sections, in order", DECLARED_SECTIONS,
         [s.attrs["id"] for s in dom.all("section")
          if "declared" in s.classes()])
    text = " ".join(dom.one(t, "section", id=k).text()
                    for k in DECLARED_SECTIONS)
    raw = sorted(k for k in json_keys(d) if "_" in k and
                 re.search(r"\b" + re.escape(k) + r"\b", text))
    t.eq("JSON member names shown", [], raw)
    stamps = [str(v) for tk in d["tasks"] for k, v in tk.items()
              if k.endswith("_ns") and v]
    t.eq("raw nanoseconds shown", [],
         [v for v in stamps if v in text.replace(",", "")])

    tree = dom.one(t, "ul", id="task-tree")
    for tk in d["tasks"]:
        items = tree.all("li", data_task=str(tk["id"]))
        t.require(f"task {tk['id']} in the tree", len(items) == 1,
                  f"{len(items)} items")
        line = [n for n in items[0].all("div") if "task-line" in
                n.classes()][0].text()
        for part in (tk["name"], tk["state"], "ms"):
            t.true(f"task {tk['id']} says '{part}'", part in line,
                   repr(line))
        kids = [k for k in d["tasks"] if k.get("parent") == tk["id"] and
                k["parent_known"]]
        sub = items[0].children("ul")
        t.eq(f"task {tk['id']}: subtasks nested under it",
             sorted(str(k["id"]) for k in kids),
             sorted(li.attrs["data-task"] for li in sub[0].children("li"))
             if sub else [])
    zombies = dom.one(t, "ol", id="zombies-list").children("li")
    t.eq("one item per zombie", len(d["zombies"]), len(zombies))
    for item, z in zip(zombies, d["zombies"]):
        name = d["tasks"][z["task_index"]]["name"]
        for part in (name, f"confidence {z['confidence']:.2f}", z["rule"],
                     " ms later" if z["quiet_ns"] < 1e9 else " s later"):
            t.true(f"zombie {name} says '{part}'", part in item.text(),
                   repr(item.text()))
    rows = dom.one(t, "table", id="passports-table").all(
        "tr", data_passport=True)
    t.eq("one row per passport", [p["ptr"] for p in d["passports"]],
         [tr.attrs["data-passport"] for tr in rows])
    for tr, p in zip(rows, d["passports"]):
        t.true(f"passport {p['name']} named", p["name"] in tr.text())
        t.true(f"passport {p['name']}: who has it in words",
               (f"freed by {p['freed_by']}" if p["freed"] else
                f"in {p['custody']}'s custody") in tr.text(), tr.text())
    items = dom.one(t, "ol", id="violations-list").children("li")
    t.eq("one item per violation", len(d["violations"]), len(items))
    for item, v in zip(items, d["violations"]):
        t.true(f"violation {v['kind']} in words, at a time in s",
               v["kind"] not in item.text() and " s, thread " in
               item.text(), repr(item.text()))
    shared = dom.one(t, "ol", id="shared-list").text()
    for h in d["shared"]:
        t.true(f"shared handle {h['name']} ({h['type']})",
               f"{h['name']} ({h['type']})" in shared, repr(shared))
    storms = dom.one(t, "ol", id="storms-list").text()
    t.true("storm: shares within a time in ms",
           re.search(r"[\d,]+ shares within [\d.]+ ms", storms),
           repr(storms))

    got = interact(t, "interact_declared.html", base + ".html", "width=900&")
    ids = [str(tk["id"]) for tk in d["tasks"]]
    roots = [str(tk["id"]) for tk in d["tasks"] if tk["depth"] == 0]
    t.eq("elements past their section or scrolling sideways, 900 px wide",
         [], got["overflow"])
    t.eq("all tasks shown at first", ids, got["all_tasks"])
    owner = got["collapsed"]["task"]
    hidden = set(str(k["id"]) for k in d["tasks"]
                 if k["parent"] == int(owner) and k["parent_known"])
    t.true("the collapsed task has subtasks", hidden)
    t.eq(f"task {owner} collapsed: its subtasks hidden",
         [i for i in ids if i not in hidden], got["collapsed"]["visible"])
    t.eq("collapsed: aria-expanded", "false", got["collapsed"]["expanded"])
    t.eq("expanded again", ids, got["expanded"])
    t.eq("collapse all: the roots", roots, got["collapse_all"])
    t.eq("expand all", ids, got["expand_all"])
    t.true("a task's details closed at first", got["details_closed"])
    t.true("a task's details opened: when it was first seen, in s",
           re.search(r"First seen\s+at [\d.]+ s", got["details"]),
           repr(got["details"]))


def hostile_strings(obj):
    """Every string in a report that is markup: what the program declared."""
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in hostile_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in hostile_strings(v)]
    return [obj] if isinstance(obj, str) and "<" in obj else []


def test_traced_hostile(t, env):
    """A traced program declares markup as names: nothing of it may run."""
    base, r = trace_with_html(t, env, "traced-hostile", "hostile")
    declared = hostile_strings(r)
    t.true("the declared markup reached the report", bool(declared),
           "no string with '<' in the JSON report")
    with open(base + ".html", encoding="utf-8") as f:
        raw = f.read()
    m = embedded_json(raw)
    t.require("report element in the page", m)
    t.eq("raw '<' in the embedded report (a declared string could close "
         "its script element)", -1, m.group(2).find("<"))

    dom, body, _ = dump(t, base + ".html")
    t.eq("body data-pwned (set by any injected script)", None,
         body.attrs.get("data-pwned"))
    t.eq("script elements: the report and the page's own", 2,
         len(dom.all("script")))
    t.true("the declared task name shown as text",
           "<script>document.body.dataset.pwned='script'</script>" in
           dom.one(t, "section", id="tasks").text())
    t.eq("img elements", 0, len(dom.all("img")))
    t.eq("elements with on* attributes", [],
         [f"<{n.tag} {a}>" for n in dom.walk() for a in n.attrs
          if a.startswith("on")])


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def test_procs(t, env):
    path = env["procs"] + ".html"
    dom, body, _ = dump(t, path)
    t.eq("view shown", "all", body.attrs.get("data-proc"))
    t.eq("process rows, by live bytes", ["2", "0", "1", "3"],
         [tr.attrs["data-proc"] for tr in dom.all("tr", data_proc=True)])
    rows = {tr.attrs["data-proc"]: [td.text() for td in tr.all("td")]
            for tr in dom.all("tr", data_proc=True)}
    t.eq("worker's row", ["101", "worker", "/usr/bin/worker", "100",
                          "0.500 s", "exited 1 at 0.700 s", "2",
                          "2.93 KiB", "2.93 KiB at 0.600 s", "?", "?",
                          "12.0 ms"],
         rows["2"])
    t.eq("server's row: not late", "", rows["0"][-1])
    t.eq("server's first image's end", "replaced by exec at 0.500 s",
         rows["1"][5])
    t.eq("selector: all, then each image",
         ["all", "2", "0", "1", "3"],
         [o.attrs["value"] for o in dom.one(t, "select", id="proc-select")
          .all("option")])
    t.eq("live bytes of all", 4564, card(t, dom, "live_bytes")[0])
    # The running images together: the curve whose top is the peak.
    peak = dom.one(t, "g", id="peak-marker")
    t.eq("all: the peak on the curve of the running images",
         (str(card(t, dom, "peak_bytes")[0]), True),
         (peak.attrs.get("data-bytes"),
          "of the running processes together" in
          dom.one(t, "section", id="timeline").text()))
    t.true("the share ended images left: pid 101's 500 + 3000 bytes",
           card(t, dom, "live_bytes")[1].endswith(
               "; 3.42 KiB left by processes at their exit or exec"),
           card(t, dom, "live_bytes")[1])
    t.eq("the unknown frees apart from the allocator's own, and the "
         "worker's late free, counted, not judged",
         ["1 free of blocks allocated before tracing (or never)",
          "1 free by the allocator itself, of blocks it took internally "
          "(glibc frees a thread's cache at its exit)",
          "1 free by forked processes, of blocks their parent made "
          "before the fork",
          "1 free of another family's block not judged: made before its "
          "process's allocator probes were all in (joined late)"],
         [li.text() for ul in dom.all("ul") if "oddities" in ul.classes()
          for li in ul.all("li")])
    t.eq("all: each call site names its process",
         ["pid 101 worker (exec 1)", "pid 100 server", "pid 101 server",
          "pid 100 server", "pid 102 cron"],
         [td.text() for tr in dom.all("tr", data_site=True)
          for td in tr.all("td") if "proc" in td.classes()])

    t.eq("the set's title", "memscope-bpf: a set of processes",
         page_title(t, dom))
    t.eq("the set named", ["a set of processes", "(-a, --comm or --cgroup)"],
         [dom.one(t, id="target").children("span")[i].text() for i in (0, 1)])

    dom, body, _ = dump(t, path + "#proc=2")
    t.eq("view shown", "2", body.attrs.get("data-proc"))
    t.eq("live bytes of pid 101 after its exec", 3000,
         card(t, dom, "live_bytes")[0])
    t.eq("its end", "exited with status 1",
         card(t, dom, "duration_ns")[1])
    t.eq("its call sites", ["make_buffer"],
         [r[0] for r in table_rows(dom)])
    t.eq("one process: no process column", [],
         [td for td in dom.all("td") if "proc" in td.classes()])
    t.eq("title", "memscope-bpf: pid 101 (/usr/bin/worker)",
         page_title(t, dom))
    t.eq("its row marked", ["2"],
         [tr.attrs["data-proc"] for tr in dom.all("tr", data_proc=True)
          if "selected" in tr.classes()])

    r = interact(t, "interact_procs.html", path)
    # the merged sites: two processes allocated from make_buffer and new_node
    all_sites = ["make_buffer", "make_buffer", "scratch", "new_node",
                 "new_node"]
    t.eq("all", {"proc": "all", "live": 4564, "sites": all_sites,
                 "hash": "", "selected": "all"}, r["all"])
    t.eq("worker chosen in the selector",
         {"proc": "2", "live": 3000, "sites": ["make_buffer"],
          "hash": "#proc=2", "selected": "2"}, r["chosen"])
    t.eq("server's row clicked",
         {"proc": "0", "live": 1064, "sites": ["make_buffer", "new_node"],
          "hash": "#proc=0", "selected": "0"}, r["clicked"])
    t.eq("back to all", dict(r["all"], hash=""), r["back"])


def test_folds(t, env):
    path = env["folds"] + ".html"
    dom, body, _ = dump(t, path)
    t.eq("rows: server, then the fold", ["0", "1"],
         [tr.attrs["data-proc"] for tr in dom.all("tr", data_proc=True)])
    rows = {tr.attrs["data-proc"]: [td.text() for td in tr.all("td")]
            for tr in dom.all("tr", data_proc=True)}
    t.eq("the fold's row", ["201 to 210", "cron", "", "100", "0.100 s",
                            "10 images folded, the last ended at 0.195 s, "
                            "1 failed", "10", "640 B",
                            "largest of one: 64 B at 0.101 s"],
         rows["1"][:9])
    t.eq("selector: all, then each row",
         ["All processes", "pid 100 server", "cron, 10 ended images folded"],
         [o.text() for o in dom.one(t, "select", id="proc-select")
          .all("option")])
    t.true("the section says what was folded",
           "11 process images of 11 processes" in body.text() and
           "10 ended images of 1 program folded" in body.text(),
           body.text()[:400])
    dom, body, _ = dump(t, path + "#proc=1")
    t.eq("the fold's live bytes", 640, card(t, dom, "live_bytes")[0])
    t.true("its curve: none, said why",
           "A fold has no curve of its own" in
           dom.one(t, "section", id="timeline").text(),
           dom.one(t, "section", id="timeline").text())
    t.true("its peak said to be one image's",
           "Largest peak of one image" in
           dom.one(t, "div", data_metric="peak_bytes").text(),
           dom.one(t, "div", data_metric="peak_bytes").text())
    t.eq("its one call site, its ten blocks", ["new_node"],
         [r[0] for r in table_rows(dom)])


def test_shot(t, env):
    for src, png in ((env["known"], "dashboard.png"),
                     (env["big"], "dashboard-big.png")):
        shot = os.path.join(env["out"], png)
        if os.path.exists(shot):
            os.unlink(shot)
        chromium(t, "file://" + src + ".html", "--virtual-time-budget=5000",
                 f"--screenshot={shot}", "--window-size=1400,1000")
        t.eq(f"{png} size", (1400, 1000),
             png_size(shot) if os.path.exists(shot) else None)


TESTS = [("json", test_json), ("known", test_known),
         ("interact", test_interact), ("stops", test_stops),
         ("hostile", test_hostile),
         ("extras", test_extras), ("graph", test_graph),
         ("procs", test_procs), ("folds", test_folds), ("big", test_big),
         ("shot", test_shot),
         ("traced", test_traced), ("traced_hostile", test_traced_hostile),
         ("traced_anon", test_traced_anon),
         ("traced_foreign", test_traced_foreign),
         ("traced_max_stacks", test_traced_max_stacks),
         ("traced_filter", test_traced_filter),
         ("traced_growth", test_traced_growth),
         ("traced_reach", test_traced_reach),
         ("traced_declared", test_traced_declared)]


def main():
    gen, out = os.environ.get("GEN"), os.environ.get("OUT")
    if not gen or not out:
        print("html: set GEN (gen-report) and OUT (a directory); see "
              "'make html-test'", file=sys.stderr)
        return 1
    if not os.access(CHROMIUM, os.X_OK):
        print(f"html: {CHROMIUM} not found: run scripts/install-deps.sh "
              "(Debian package chromium)", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    env = {"gen": gen, "out": out, "known": os.path.join(out, "known"),
           "hostile": os.path.join(out, "hostile"),
           "procs": os.path.join(out, "procs"),
           "folds": os.path.join(out, "folds"),
           "stops": os.path.join(out, "stops"),
           "big": os.path.join(out, "big"), "timings": [],
           "tool": os.environ.get("MEMSCOPE"),
           "targets": os.environ.get("TARGETS"),
           "examples": os.environ.get("EXAMPLES") or os.path.join(
               os.path.dirname(os.environ.get("TARGETS") or "."),
               "examples")}
    wanted = sys.argv[1:] or [name for name, _ in TESTS]
    skip = {}
    if os.environ.get("MEMSCOPE_SKIP_INTEGRATION", "0") == "1":
        skip["traced"] = skip["traced_hostile"] = skip["traced_anon"] = \
            skip["traced_filter"] = skip["traced_reach"] = \
            skip["traced_growth"] = skip["traced_declared"] = \
            "MEMSCOPE_SKIP_INTEGRATION=1"
    passed = failed = 0
    setup = Test("setup")
    try:
        generate(setup, gen, "known", env["known"])
        generate(setup, gen, "hostile", env["hostile"])
        generate(setup, gen, "procs", env["procs"])
        generate(setup, gen, "folds", env["folds"])
        generate(setup, gen, "stops", env["stops"])
    except Failed:
        pass
    for msg in setup.errors:
        print(f"setup: {msg}", file=sys.stderr)
    for name, fn in TESTS:
        if name not in wanted:
            continue
        t = Test(name)
        if name in skip:
            print(f"html: {name} skipped ({skip[name]})", file=sys.stderr)
            continue
        if setup.errors:
            t.errors.append("skipped: setup failed")
        elif name.startswith("traced") and not (env["tool"] and
                                                env["targets"]):
            t.errors.append("set MEMSCOPE (the tool) and TARGETS (built "
                            "targets); see 'make html-test'")
        elif name.startswith("traced") and os.geteuid() != 0:
            t.errors.append("needs root (BPF and uprobes); run as root or "
                            "set MEMSCOPE_SKIP_INTEGRATION=1 to skip")
        else:
            try:
                fn(t, env)
            except Failed:
                pass
            except Exception as e:  # a crash in a check is a failure too
                t.errors.append(f"{type(e).__name__}: {e}")
        if t.errors:
            failed += 1
            for msg in t.errors:
                print(f"{name}: {msg}", file=sys.stderr)
        else:
            passed += 1
    with open(os.path.join(out, "timings.txt"), "w") as f:
        f.write("".join(line + "\n" for line in env["timings"]))
    print(f"html: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
