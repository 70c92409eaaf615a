// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Anonymous memory, beside the heap and never in its figures: what the
// program mapped itself (mmap, mremap, brk) by call site, and what each
// allocator mapped for its arena. A site is named by the function that
// called the syscall wrapper: frames[0] is the syscall (with the frames
// inlined at its address), the next address its caller. Its whole stack
// opens under the row. Pages mapped PROT_NONE are reserved address
// space, shown apart from the live bytes.

(function () {
	"use strict";

	const el = MS.el;

	function callerOf(frames) {
		const f = frames.find((x) => x.addr !== frames[0].addr);

		return f || frames[0];
	}

	function siteRow(s, total) {
		const stack = el("ol", { class: "stack", start: 0 },
			s.frames.map((f) => el("li", null,
				el("span", { class: "fn", text: MS.frameName(f) }),
				f.inlined ? el("span", { class: "inl",
							 text: "inlined" }) : null,
				f.file ? el("span", { class: "loc",
						      text: MS.frameWhere(f) }) : null,
				f.object ? el("span", { class: "obj",
							text: f.object }) : null)));
		const caller = s.frames.length ? callerOf(s.frames) : null;

		return el("tr", null,
			el("td", null, el("details", { class: "anon-site" },
				el("summary", { text: caller ? MS.frameName(caller) :
						"(no stack captured)" }),
				s.frames.length ? stack : null)),
			el("td", { class: "num", text: MS.fmtBytes(s.live_bytes) }),
			el("td", { class: "num", text: MS.fmtPct(s.live_bytes, total) }),
			el("td", { class: "num", text: MS.fmtInt(s.live_ranges) }),
			el("td", { class: "num", text: MS.fmtBytes(s.reserved_bytes || 0) }),
			el("td", { class: "num", text: MS.fmtBytes(s.peak_bytes) }),
			el("td", { class: "num", text: MS.fmtBytes(s.mapped_bytes) }),
			el("td", { class: "num", text: MS.fmtInt(s.calls) }));
	}

	function head(labels) {
		return el("thead", null, el("tr", null, labels.map((l, i) =>
			el("th", { class: i ? "num" : null, text: l }))));
	}

	MS.renderAnon = function (r) {
		const a = r.anon_memory;
		const sec = MS.section("anon", "Anonymous memory",
			"mmap, mremap and brk outside the allocators: not in " +
			"the heap figures above. Bytes are the pages mapped.");

		if (!a) {
			sec.append(el("p", { class: "empty", text:
				r.target.mode === "alloc" ?
				"Not traced in --mode=alloc." :
				"Not traced in this recording." }));
			return sec;
		}
		sec.append(el("p", { class: "anon-totals", text:
			MS.fmtBytes(a.live_bytes) + " live in " +
			MS.plural(a.live_ranges, "range", "ranges") + "; peak " +
			MS.fmtBytes(a.peak_bytes) + " at " + MS.fmtSec(a.peak_ns) +
			"; " + MS.plural(a.calls, "mapping call", "mapping calls") +
			" (" + MS.fmtBytes(a.mapped_bytes) + ")." }));
		if (a.reserved_bytes)
			sec.append(el("p", { class: "note anon-reserved", text:
				MS.fmtBytes(a.reserved_bytes) + " reserved: mapped " +
				"PROT_NONE, address space rather than memory, not in " +
				"the live bytes or the peak." }));
		if (a.prot_unknown_calls)
			sec.append(el("p", { class: "note", text:
				MS.plural(a.prot_unknown_calls, "mapping", "mappings") +
				" without a protection in the recording (format 9 or " +
				"older): counted as live." }));
		const early = Object.entries(a.stack_stops)
			.filter(([why, n]) => why !== "end" && n > 0);
		if (early.length)
			sec.append(el("p", { class: "note", text:
				"Stacks that ended early: " + early.map(([why, n]) =>
					MS.fmtInt(n) + " " + why.replace(/_/g, " "))
					.join(", ") + "." }));
		if (a.full_ranges)
			sec.append(el("p", { class: "error", text:
				MS.plural(a.full_ranges, "range", "ranges") +
				" (" + MS.fmtBytes(a.full_bytes) + ") not kept: " +
				"the range table was full." }));
		if (a.sites.length)
			sec.append(el("div", { class: "table-wrap" },
				el("table", { class: "compact anon-sites" },
					head(["Call site", "Live", "Share", "Ranges",
					      "Reserved", "At peak", "Mapped", "Calls"]),
					el("tbody", null, a.sites.map((s) =>
						siteRow(s, a.live_bytes))))));
		sec.append(el("h3", { text: "Allocator arenas" }),
			el("p", { class: "note", text:
				MS.fmtBytes(a.arena.live_bytes) + " live, " +
				MS.fmtBytes(a.arena.reserved_bytes || 0) +
				" reserved (PROT_NONE), " +
				MS.fmtBytes(a.arena.mapped_bytes) + " mapped in " +
				MS.plural(a.arena.calls, "call", "calls") +
				" inside allocator calls." }));
		if (a.arena.objects.length)
			sec.append(el("table", { class: "compact anon-arenas" },
				head(["Object", "Live", "Reserved", "Mapped", "Calls"]),
				el("tbody", null, a.arena.objects.map((o) =>
					el("tr", null,
						el("td", { text: o.object || "(unknown)" }),
						el("td", { class: "num",
							   text: MS.fmtBytes(o.live_bytes) }),
						el("td", { class: "num",
							   text: MS.fmtBytes(o.reserved_bytes || 0) }),
						el("td", { class: "num",
							   text: MS.fmtBytes(o.mapped_bytes) }),
						el("td", { class: "num",
							   text: MS.fmtInt(o.calls) }))))));
		return sec;
	};
})();
