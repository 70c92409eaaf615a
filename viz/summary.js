// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// The target line, the incomplete-data banner and the totals.

(function () {
	"use strict";

	const el = MS.el;

	// wait(2) status as the shell says it.
	function exitText(t) {
		if (t.state === "killed")
			return "killed when tracing stopped (--kill)";
		if (t.state === "detached")
			return "still running when tracing stopped: detached, left running";
		if (!t.exited)
			return "still running when tracing stopped";
		const st = t.exit_status;

		if (st === null || st === undefined)
			return "exited (its status not seen)";
		if ((st & 0x7f) === 0)
			return "exited with status " + ((st >> 8) & 0xff);
		return "killed by signal " + (st & 0x7f);
	}

	MS.renderTarget = function (r, box) {
		const t = r.target;

		MS.clear(box).append(
			el("span", { class: "pid", text: MS.targetName(t) }),
			el("span", { class: "command", id: "command",
				     text: t.command !== null ? t.command :
				     t.pid ? "(attached to a running process)" :
				     "(-a, --comm or --cgroup)" }),
			el("span", { class: "mode", text: "mode " + t.mode }));
	};

	// Everything that makes the numbers below undercount, one clause each.
	function problems(r) {
		const s = r.summary, k = r.kernel, out = [];

		if (s.lost_events) {
			const kl = k ? k.lost_events : 0;
			let why = "ring buffer full";

			if (kl !== s.lost_events)
				why = MS.fmtInt(kl) + " in the kernel ring buffer, " +
					MS.fmtInt(s.lost_events - kl) +
					" dropped by userspace";
			out.push(MS.plural(s.lost_events, "event", "events") +
				 " lost (" + why + ")");
		}
		if (s.stack_errors)
			out.push(MS.plural(s.stack_errors, "call stack", "call stacks") +
				 " could not be read");
		if (s.stacks_cut)
			out.push(MS.plural(s.stacks_cut, "record", "records") +
				 " counted at the innermost frame of their stack " +
				 "alone (--max-stacks: a process's table of " +
				 "distinct stacks was full)");
		if (s.procs_not_traced)
			out.push(MS.plural(s.procs_not_traced, "process", "processes") +
				 " not traced (--max-procs reached)");
		if (s.procs_foreign)
			out.push(MS.plural(s.procs_foreign, "process image",
					   "process images") +
				 " not traced: 32-bit programs, which memscope-bpf cannot trace");
		if (k && k.live_full)
			out.push(MS.plural(k.live_full, "allocation", "allocations") +
				 " missed by the full kernel live table");
		if (k && k.stack_stops) {
			// Stacks that stopped before the program's entry, by why.
			const why = Object.keys(k.stack_stops)
				.filter(n => n !== "end" && k.stack_stops[n])
				.map(n => MS.fmtInt(k.stack_stops[n]) + " " +
				     n.replace(/_/g, " "));
			const early = Object.keys(k.stack_stops)
				.filter(n => n !== "end")
				.reduce((a, n) => a + k.stack_stops[n], 0);

			if (early)
				out.push(MS.plural(early, "call stack", "call stacks") +
					 " stopped early (" + why.join(", ") + ")");
		}
		return out;
	}

	function banner(r) {
		const p = problems(r);

		if (!p.length)
			return null;
		let tail = "";

		if (r.kernel)
			tail = r.kernel.live_full ?
				" The kernel counters are inexact too." :
				" The kernel counters below are exact.";
		return el("div", { class: "banner", id: "banner", role: "alert" },
			el("strong", { text: "This report is incomplete: " }),
			p.join("; ") + "." + tail);
	}

	function card(metric, label, value, exact, sub) {
		return el("div", { class: "card", "data-metric": metric,
				   "data-value": exact },
			el("div", { class: "label", text: label }),
			el("div", { class: "value", text: value }),
			el("div", { class: "sub", text: sub }));
	}

	function bytesCard(metric, label, bytes, blocks, more) {
		return card(metric, label, MS.fmtBytes(bytes), bytes,
			    MS.fmtInt(bytes) + " bytes in " +
			    MS.plural(blocks, "block", "blocks") + (more || ""));
	}

	// Of the live bytes, what images left at their exit or exec: the
	// peak counts the running ones only, and the target, whose exit
	// ended tracing (its last image, the only one of its pid that exits).
	function endedText(r) {
		const ended = (r.processes || []).length < 2 ? 0 :
			r.processes.filter(p => p.target.end !== "running" &&
					   !(p.target.end === "exited" &&
					     p.target.pid === r.target.pid))
				.reduce((a, p) => a + p.summary.live_bytes, 0);

		return ended ? "; " + MS.fmtBytes(ended) +
			" left by processes at their exit or exec" : "";
	}

	function cards(r) {
		const s = r.summary, t = r.target;
		const alloc = t.mode === "alloc";
		const list = el("div", { class: "cards" },
			bytesCard("alloc_bytes", alloc ? "Requested" : "Allocated",
				  s.alloc_bytes, s.allocs));

		if (!alloc) {
			list.append(
				bytesCard("free_bytes", "Freed", s.free_bytes,
					  s.frees),
				bytesCard("live_bytes", t.folded ?
					  "Live at their ends" : "Live at end",
					  s.live_bytes, s.live_allocs, endedText(r)),
				// a fold's (--fold): one image's, not a sum's
				card("peak_bytes", t.folded ?
				     "Largest peak of one image" : "Peak",
				     MS.fmtBytes(s.peak_bytes),
				     s.peak_bytes, MS.fmtInt(s.peak_bytes) +
				     " bytes at " + MS.fmtSec(s.peak_ns)));
		}
		list.append(
			card("duration_ns", "Duration", MS.fmtSec(t.duration_ns),
			     t.duration_ns, exitText(t)),
			card("sites", "Call sites", MS.fmtInt(r.sites.length),
			     r.sites.length, "distinct call stacks"));
		return list;
	}

	// Counts that are zero in a healthy trace: shown only when not.
	function oddities(r) {
		const s = r.summary;
		const rows = [
			[s.failed_allocs, "allocator call", "allocator calls",
			 "returned NULL"],
			[s.unknown_frees - (s.allocator_frees || 0) -
			 (s.forked_frees || 0), "free",
			 "frees", "of blocks allocated before tracing (or never)"],
			[s.allocator_frees, "free", "frees",
			 "by the allocator itself, of blocks it took " +
			 "internally (glibc frees a thread's cache at its exit)"],
			[s.forked_frees, "free", "frees",
			 "by forked processes, of blocks their parent made " +
			 "before the fork"],
			[s.replaced, "block", "blocks",
			 "replaced at a live address (its free was lost)"],
			[s.late_frees, "free", "frees",
			 "of another family's block not judged: made " +
			 "before its process's allocator probes were " +
			 "all in (joined late)"],
		].filter(([n]) => n);

		if (!rows.length)
			return null;
		return el("ul", { class: "oddities" },
			rows.map(([n, one, many, what]) => el("li", null,
				el("strong", { text: MS.fmtInt(n) }),
				" " + (n === 1 ? one : many) + " " + what)));
	}

	function kernelTable(r) {
		const k = r.kernel, s = r.summary;

		if (!k)
			return null;
		const row = (what, kv, sv) => el("tr", null,
			el("th", { text: what }),
			el("td", { class: "num", text: MS.fmtInt(kv) }),
			el("td", { class: "num", text: MS.fmtInt(sv) }));

		return el("details", { class: "kernel" },
			el("summary", { text: "Kernel counters (" +
					(k.exact ? "exact" : "inexact") +
					") against the event stream" }),
			el("table", { class: "compact" },
				el("thead", null, el("tr", null,
					el("th"), el("th", { text: "kernel" }),
					el("th", { text: "captured stream" }))),
				el("tbody", null,
					row("allocations", k.allocs, s.allocs),
					row("frees", k.frees, s.frees),
					row("bytes allocated", k.alloc_bytes,
					    s.alloc_bytes),
					row("live bytes at end", k.live_bytes,
					    s.live_bytes),
					row("peak bytes", k.peak_bytes,
					    s.peak_bytes))));
	}

	// --older/--min-size/--max-size: the leak views count fewer blocks
	// than the totals above, and say so.
	function filterNote(r) {
		const f = r.leak_filter, s = r.summary, parts = [];

		if (!f)
			return null;
		if (f.older_ns)
			parts.push("older than " + MS.fmtSec(f.older_ns) +
				   " at the end");
		if (f.min_size)
			parts.push("of at least " + MS.fmtBytes(f.min_size));
		if (f.max_size !== null)
			parts.push("of at most " + MS.fmtBytes(f.max_size));
		return el("p", { class: "note", id: "leak-filter", text:
			"Leak filter: leaks, live bytes and the leak flame graph " +
			"count only blocks " + parts.join(", ") + ": " +
			MS.fmtInt(f.live_allocs) + " of " +
			MS.plural(s.live_allocs, "live block", "live blocks") +
			", " + MS.fmtBytes(f.live_bytes) + " of " +
			MS.fmtBytes(s.live_bytes) + "." });
	}

	MS.renderSummary = function (r) {
		const sec = MS.section("summary", "Summary");

		MS.append(sec, cards(r),
			r.target.mode === "alloc" ? el("p", { class: "note", text:
				"Traced with --mode=alloc: frees are not traced, so " +
				"there are no live bytes, leaks or peak; the views " +
				"show where bytes were requested." }) : null,
			filterNote(r), oddities(r), kernelTable(r));
		return [banner(r), sec];
	};
})();
