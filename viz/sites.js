// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// The call sites: one row per call stack, named by the frame that called
// the allocator. Sortable by any column, filtered by text matched against
// every frame of the stack (so "parse" finds all sites under parse()). A
// click on a row shows its whole stack. Only the first PAGE rows are drawn
// until asked: a report can hold many thousands.

(function () {
	"use strict";

	const el = MS.el;
	const PAGE = 200;
	const COLS = [
		{ key: "name", label: "Function", text: true },
		{ key: "where", label: "File:line", text: true },
		{ key: "family", label: "Family", text: true,
		  title: "the allocator API called there: malloc, new, new[], " +
			 "rust, jemalloc, tcmalloc, mimalloc" },
		{ key: "alloc_bytes", label: "Allocated", bytes: true },
		{ key: "alloc_count", label: "Blocks" },
		{ key: "live_bytes", label: "Live (leaked)", bytes: true,
		  live: true },
		{ key: "live_count", label: "Live blocks", live: true },
		{ key: "temp_bytes", label: "Temporary", bytes: true, live: true,
		  title: "allocated minus live: bytes that were freed again" },
		{ key: "peak_bytes", label: "At peak", bytes: true, live: true },
	];

	// Sites of several processes (the "all" view): each names its own.
	const PROC_COL = { key: "proc", label: "Process", text: true };

	function rowOf(r, s, i) {
		const hay = s.frames.map((f) => [f.function, f.file, f.object]
			.filter(Boolean).join(" ")).join("\n").toLowerCase();
		const p = r.processes && r.processes[s.proc];

		return {
			i: i, s: s, hay: hay,
			name: MS.siteName(s), where: MS.siteWhere(s),
			proc: p ? MS.procName(p) : "",
			family: s.family || "malloc",
			alloc_bytes: s.alloc_bytes, alloc_count: s.alloc_count,
			live_bytes: s.live_bytes, live_count: s.live_count,
			temp_bytes: s.alloc_bytes - s.live_bytes,
			peak_bytes: s.peak_bytes,
		};
	}

	// What a stack that stopped early lacks (report_stop_why() in C).
	const STOP_WHY = {
		no_info: "no unwind information for the code there",
		no_mapping: "a return address in no file mapping",
		not_loaded: "the unwind table of the code there was not " +
			"loaded yet",
		read: "the stack could not be read there",
		unsupported: "unwind information the kernel walker does " +
			"not apply",
	};

	function stackList(s) {
		if (!s.frames.length)
			return el("p", { class: "note",
					 text: "No call stack could be captured." });
		return el("ol", { class: "stack", start: 0 },
			s.frames.map((f) => el("li", null,
				el("span", { class: "fn", text: MS.frameName(f) }),
				f.inlined ? el("span", { class: "inl",
							 text: "inlined" }) : null,
				f.file ? el("span", { class: "loc",
						      text: MS.frameWhere(f) }) : null,
				f.object ? el("span", { class: "obj",
							text: f.object }) : null,
				el("span", { class: "addr", text: f.addr }))),
			s.stack_full ? el("li", { class: "note", text:
				"\u2026 outer frames not kept: the process's " +
				"table of distinct stacks was full " +
				"(--max-stacks); stacks cut to this frame " +
				"are counted here together" }) :
			s.stack_truncated ? el("li", { class: "note", text:
				"\u2026 outer frames not captured (stack cut)" }) :
			STOP_WHY[s.stack_stop] ? el("li", { class: "note",
				text: "\u2026 stack ended early, " + s.stack_stop +
				": " + STOP_WHY[s.stack_stop] }) :
				null);
	}

	// The reachability view shows stacks the same way.
	MS.stackList = stackList;

	// A button that shows site s in the ownership graph, when the graph
	// has a link of it (pick: the graph view's, or null without one).
	MS.graphButton = function (pick, s) {
		const show = pick ? pick(s.frames) : null;

		return show ? el("button", { type: "button", class: "to-graph",
			text: "Ownership graph around this site",
			onclick: show }) : null;
	};

	const ANOMALY_WORDS = {
		double_free: "Double free",
		invalid_free: "Invalid free (never allocated)",
		mismatched_free: "Mismatched free",
	};

	// Captured anomalies: one entry per kind, freeing and allocating
	// stack; absent from reports that found none.
	MS.renderAnomalies = function (r) {
		const list = r.anomalies || [];

		if (!list.length)
			return [];
		const sec = MS.section("anomalies", "Anomalies (captured)",
			"Frees the allocator was not owed, each with the stack " +
			"that freed and the one that allocated.");

		sec.append(el("ol", { class: "anomalies", id: "anomalies" },
			list.map((a) => el("li", { "data-kind": a.kind },
				el("p", null, el("strong", { text:
					(ANOMALY_WORDS[a.kind] || a.kind) + " ×" +
					MS.fmtInt(a.count) }),
				   " freed by " + a.free_family +
				   (a.alloc_family === null ? "" :
				    ", allocated by " + a.alloc_family +
				    (a.other_allocator ? " of another allocator" :
				     ""))),
				el("p", { class: "note", text: "Freed at:" }),
				stackList({ frames: a.free_frames }),
				a.alloc_family === null ? null :
					el("p", { class: "note", text: "Allocated at:" }),
				a.alloc_family === null ? null :
					stackList({ frames: a.alloc_frames })))));
		return [sec];
	};

	// Leak suspects by growth (-i): inferred, so each says its rule and
	// confidence, and the evidence: its rate, its old blocks, its steps.
	MS.renderSuspects = function (r) {
		const list = r.suspects || [];
		const g = r.growth || { snapshots: 0 };

		if (!g.snapshots)
			return [];
		const sec = MS.section("suspects",
			"Leak suspects by growth (inferred)",
			"Sites whose old blocks (still live, allocated before " +
			"the previous snapshot) kept growing over " +
			MS.fmtInt(g.snapshots) + " snapshots, rule " +
			(list.length ? list[0].rule : "old_blocks_growth") + ".");

		if (!list.length) {
			sec.append(el("p", { text: g.sites && g.sites.length ?
				"None: no site's old blocks kept growing." :
				"None judged: a verdict needs " + g.min_snapshots +
				" snapshots." }));
			return [sec];
		}
		sec.append(el("ol", { class: "anomalies", id: "suspects-list" },
			list.map((s) => el("li", { "data-pattern": s.pattern },
				el("p", null, el("strong", { text:
					MS.fmtBytes(Math.max(0, s.growth_bytes_per_s)) +
					"/s growing, confidence " +
					s.confidence.toFixed(2) }),
				   " (" + s.source + ", rule " + s.rule + "): " +
				   MS.fmtInt(s.old_blocks) + " old blocks of " +
				   MS.fmtInt(s.live_blocks) + " live, " +
				   s.growth_blocks_per_s.toFixed(2) + " blocks/s; " +
				   "rose in " + s.rises + " and fell in " + s.falls +
				   " of " + (s.snapshots - 1) + " steps"),
				stackList(s)))));
		return [sec];
	};

	MS.renderSites = function (r, pick) {
		const several = new Set(r.sites.map((s) => s.proc)).size > 1;
		const cols = (several ? [COLS[0], PROC_COL, ...COLS.slice(1)] :
			      COLS).filter((c) => r.target.mode !== "alloc" ||
					      !c.live);
		const rows = r.sites.map((s, i) => rowOf(r, s, i));
		const state = { key: "alloc_bytes", desc: true, query: "",
				limit: PAGE, open: new Set() };
		const sec = MS.section("sites", "Call sites",
			"Each call stack that allocated, named by the function " +
			"that called the allocator. Click a header to sort, a row " +
			"for its stack.");
		const filter = el("input", { type: "search", id: "sites-filter",
			placeholder: "Filter by function, file or object\u2026",
			"aria-label": "filter call sites" });
		const count = el("span", { class: "match-info", id: "sites-count" });
		const head = el("tr");
		const body = el("tbody");
		const more = el("div", { class: "more" });

		sec.append(el("div", { class: "toolbar" }, filter, count),
			   el("div", { class: "table-wrap" },
			      el("table", { class: "sites", id: "sites-table" },
				 el("thead", null, head), body)),
			   more);

		for (const c of cols) {
			head.append(el("th", { "data-key": c.key, title: c.title,
					       class: c.text ? "" : "num" },
				el("button", { type: "button", text: c.label,
					onclick: () => {
						state.desc = state.key === c.key ?
							!state.desc : !c.text;
						state.key = c.key;
						draw();
					} })));
		}

		function cell(c, row) {
			if (c.text)
				return el("td", { class: c.key, text: row[c.key] });
			const v = row[c.key];

			return el("td", { class: "num", "data-value": v,
					  title: MS.fmtInt(v) + (c.bytes ? " bytes" : ""),
					  text: c.bytes ? MS.fmtBytes(v) : MS.fmtInt(v) });
		}

		function compare(a, b) {
			const k = state.key;
			let d;

			if (typeof a[k] === "string")
				d = a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0;
			else
				d = a[k] - b[k];
			if (state.desc)
				d = -d;
			return d || b.alloc_bytes - a.alloc_bytes || a.i - b.i;
		}

		function draw() {
			const shown = state.query ?
				rows.filter((row) => row.hay.includes(state.query) ||
					row.name.toLowerCase().includes(state.query)) :
				rows.slice();

			shown.sort(compare);
			for (const th of head.children) {
				th.setAttribute("aria-sort", th.dataset.key !== state.key ?
						"none" : state.desc ? "descending" :
						"ascending");
			}
			const frag = document.createDocumentFragment();

			for (const row of shown.slice(0, state.limit)) {
				const tr = el("tr", { "data-site": row.i,
					class: state.open.has(row.i) ? "open" : "",
					onclick: () => {
						if (!state.open.delete(row.i))
							state.open.add(row.i);
						draw();
					} }, cols.map((c) => cell(c, row)));

				frag.append(tr);
				if (state.open.has(row.i))
					frag.append(el("tr", { class: "detail" },
						el("td", { colspan: cols.length },
						   stackList(row.s),
						   MS.graphButton(pick, row.s))));
			}
			if (!shown.length)
				frag.append(el("tr", { class: "empty" },
					el("td", { colspan: cols.length, text: rows.length ?
						"No call site matches the filter." :
						"No allocations were traced." })));
			MS.clear(body).append(frag);
			count.textContent = shown.length === rows.length ?
				MS.plural(rows.length, "call site", "call sites") :
				MS.fmtInt(shown.length) + " of " +
				MS.plural(rows.length, "call site", "call sites");
			MS.clear(more);
			if (shown.length > state.limit)
				more.append(el("button", { type: "button",
					id: "sites-more",
					text: "Show all " + MS.fmtInt(shown.length) +
					      " (" + MS.fmtInt(state.limit) + " shown)",
					onclick: () => {
						state.limit = Infinity;
						draw();
					} }));
		}

		filter.addEventListener("input", MS.debounce(() => {
			state.query = filter.value.trim().toLowerCase();
			draw();
		}, 120));
		draw();
		return sec;
	};
})();
