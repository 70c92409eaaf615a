// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Several processes: the process table and the selector that switches
// every view to one process image or to all of them. A view is a report
// object of the shape the other views read: the whole report, or one of
// its processes[] dressed as one (its target, figures and lists, the
// trace's mode, duration and probes).

(function () {
	"use strict";

	const el = MS.el;

	const END_TEXT = {
		running: "running",
		exec: "replaced by exec",
		pid_reused: "gone (pid reused)",
	};

	// How image p ended, as the shell says a status.
	function endText(t) {
		if (t.end !== "exited")
			return END_TEXT[t.end] || t.end;
		const st = t.exit_code;

		if (st === null || st === undefined)
			return "exited, status not seen";
		if ((st & 0x7f) === 0)
			return "exited " + ((st >> 8) & 0xff);
		return "killed by signal " + (st & 0x7f);
	}

	// "pid 11 leaky", with the exec generation after an exec; a fold
	// (--fold) is its program and how many images it holds.
	MS.procName = function (p) {
		const t = p.target;

		if (t.folded)
			return (t.comm !== null ? t.comm : "?") + ", " +
				MS.plural(t.folded.images, "ended image",
					  "ended images") + " folded";
		return "pid " + t.pid + " " + (t.comm !== null ? t.comm : "?") +
			(t.image ? " (exec " + t.image + ")" : "");
	};

	// A fold's end: how many images, when the last ended, how many failed.
	function foldText(t) {
		const f = t.folded;

		return MS.plural(f.images, "image", "images") + " folded, the " +
			"last ended at " + MS.fmtSec(t.exit_ns) +
			(f.failed ? ", " + MS.fmtInt(f.failed) + " failed" : "");
	}

	// A process's list entries name their stacks by index in the
	// top-level sites ("site", docs/report-schema.md): written out here,
	// so every view reads frames as it does at the top level.
	function withStacks(r, list) {
		return (list || []).map((e) => {
			if (e.site === undefined)
				return e;
			const s = r.sites[e.site];

			return Object.assign({}, e, {
				stack_truncated: s.stack_truncated,
				stack_full: s.stack_full,
				stack_stop: s.stack_stop,
				frames: s.frames,
			});
		});
	}

	// Image i of r as a report of its own; "all" (or any other) is r.
	MS.procView = function (r, i) {
		const p = (r.processes || [])[i];

		if (!p || r.processes.length < 2)
			return r;
		const t = p.target;

		return Object.assign({}, r, {
			target: Object.assign({}, r.target, {
				pid: t.pid,
				command: t.command !== null ? t.command : t.comm,
				exited: t.end === "exited",
				exit_status: t.exit_code,
				state: t.end === "exited" ? "exited" :
				       t.end === "running" ? r.target.state :
				       "exited",
				folded: t.folded,
			}),
			summary: p.summary,
			kernel: p.kernel,
			leak_filter: p.leak_filter,
			leaks: withStacks(r, p.leaks),
			peak: Object.assign({}, p.peak, {
				by_stack: withStacks(r, p.peak.by_stack),
			}),
			// Its sites are the top-level ones of image i.
			sites: (r.sites || []).filter((s) => s.proc === i),
			anomalies: p.anomalies,
			timeline: p.timeline,
			view_proc: i,
			suspects: p.suspects,
			growth: p.growth,
			reachability: p.reachability,
			cycles: p.cycles,
			graph: p.graph,
			anon_memory: null,
			declared: null,
		});
	};

	// The order of the table: live bytes, then allocations, desc.
	function byLive(a, b) {
		return b.summary.live_bytes - a.summary.live_bytes ||
			b.summary.allocs - a.summary.allocs;
	}

	// Its stacks that stopped before the program's entry, by any reason.
	function stacksCut(k) {
		if (!k || !k.stack_stops)
			return null;
		return Object.keys(k.stack_stops).filter(n => n !== "end")
			.reduce((a, n) => a + k.stack_stops[n], 0);
	}

	function row(p, i, selected, select) {
		const t = p.target, s = p.summary, early = stacksCut(p.kernel);
		const cell = (cls, text, value) => el("td", { class: cls,
			text: text, "data-value": value });

		return el("tr", { "data-proc": i, class: i === selected ?
				  "selected" : null, onclick: () => select(i) },
			cell("num", t.folded ? t.pid + " to " +
			     t.folded.last_pid : String(t.pid), t.pid),
			cell("name", t.comm !== null ? t.comm : "?"),
			cell("where", t.command !== null ? t.command : ""),
			cell("num", t.ppid !== null ? String(t.ppid) : "?", t.ppid),
			cell("num", MS.fmtSec(t.start_ns), t.start_ns),
			cell("end", t.folded ? foldText(t) :
			     endText(t) + (t.exit_ns !== null ?
				" at " + MS.fmtSec(t.exit_ns) : "")),
			// a 32-bit program: its zeros are not a measurement
			cell("num", t.foreign ? "not traced (32-bit)" :
			     MS.fmtInt(s.allocs), s.allocs),
			cell("num", MS.fmtBytes(s.live_bytes), s.live_bytes),
			// a fold's: the largest one of its images reached
			cell("num", (t.folded ? "largest of one: " : "") +
			     MS.fmtBytes(s.peak_bytes) + " at " +
			     MS.fmtSec(s.peak_ns), s.peak_bytes),
			cell("num", p.kernel ? MS.fmtInt(p.kernel.lost_events) :
			     "?", p.kernel ? p.kernel.lost_events : null),
			cell("num", early !== null ? MS.fmtInt(early) : "?", early),
			// ran its allocator unprobed this long: counts start after
			cell("num", t.joined_late_ns !== null &&
			     t.joined_late_ns !== undefined ?
			     MS.fmtDur(t.joined_late_ns) : "",
			     t.joined_late_ns));
	}

	// selected: an image's index, or null for all; select(i or null).
	MS.renderProcs = function (r, selected, select) {
		const procs = r.processes || [];

		if (procs.length < 2)
			return null;
		const pc = r.process_counts;
		const sec = MS.section("processes", "Processes",
			MS.plural(pc.images, "process image",
				  "process images") + " of " +
			MS.plural(pc.processes, "process",
				  "processes") + ", by live bytes (at its end " +
			"for one that exited or exec'd)" +
			(pc.folded_images ? "; " + MS.plural(pc.folded_images,
				"ended image", "ended images") + " of " +
			 MS.plural(pc.folded_entries, "program", "programs") +
			 " folded, one row each, their figures added up " +
			 "(--fold)" : "") +
			". Choose one to see every view of it alone.");
		const choose = el("select", { id: "proc-select",
			"aria-label": "process shown",
			onchange: (ev) => select(ev.target.value === "all" ?
						 null : Number(ev.target.value)) },
			el("option", { value: "all", text: "All processes",
				       selected: selected === null }));
		const order = procs.map((p, i) => i)
			.sort((a, b) => byLive(procs[a], procs[b]) || a - b);

		for (const i of order)
			choose.append(el("option", { value: i, text: MS.procName(procs[i]),
						     selected: i === selected }));
		const head = ["pid", "comm", "command", "parent", "start", "end",
			      "allocations", "live", "peak", "lost",
			      "stacks cut", "joined late"];

		sec.append(el("p", { class: "proc-choice" },
			      el("label", { for: "proc-select", text: "Show: " }),
			      choose),
			   el("table", { class: "compact procs", id: "proc-table" },
			      el("thead", null, el("tr", null,
				 head.map((h) => el("th", { text: h })))),
			      el("tbody", null, order.map((i) =>
				 row(procs[i], i, selected, select)))));
		return sec;
	};
})();
