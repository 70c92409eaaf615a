// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// The heap scan (--reachability): memcheck's classes of the live blocks,
// on the leak table (one row per leaking call stack, its blocks by class,
// a click for its stack), then the leaked cycles and the strongest links
// of the ownership graph. Everything in it is inferred; the pause is
// captured. Absent from reports without a scan.

(function () {
	"use strict";

	const el = MS.el;
	const CLASSES = MS.REACH_CLASSES.map((c) => [c.key, c.label, c.what]);

	function classCell(c) {
		return el("td", { class: "num", "data-value": c.bytes,
				  title: MS.plural(c.count, "block", "blocks") + ", " +
					 MS.fmtInt(c.bytes) + " bytes",
				  text: c.count ? MS.fmtBytes(c.bytes) : "\u2014" });
	}

	function leakTable(r, pick) {
		const leaks = r.leaks.filter((l) => l.reachability);
		const open = new Set();
		const body = el("tbody");
		const rank = (l) => CLASSES.map(([k]) => l.reachability[k].bytes);

		leaks.sort((a, b) => {
			const x = rank(a), y = rank(b);

			for (let i = 0; i < x.length; i++) {
				if (x[i] !== y[i])
					return y[i] - x[i];
			}
			return 0;
		});

		function draw() {
			const frag = document.createDocumentFragment();

			leaks.forEach((l, i) => {
				frag.append(el("tr", { "data-leak": i,
					class: open.has(i) ? "open" : "",
					onclick: () => {
						if (!open.delete(i))
							open.add(i);
						draw();
					} },
					el("td", { class: "name", text: MS.siteName(l) }),
					el("td", { class: "where", text: MS.siteWhere(l) }),
					CLASSES.map(([k]) => classCell(l.reachability[k]))));
				if (open.has(i))
					frag.append(el("tr", { class: "detail" },
						el("td", { colspan: 2 + CLASSES.length },
						   MS.stackList(l),
						   MS.graphButton(pick, l))));
			});
			if (!leaks.length)
				frag.append(el("tr", { class: "empty" }, el("td",
					{ colspan: 2 + CLASSES.length,
					  text: "No live block at the end." })));
			MS.clear(body).append(frag);
		}
		draw();
		return el("div", { class: "table-wrap" },
			el("table", { class: "sites", id: "reach-table" },
			   el("thead", null, el("tr", null,
				el("th", { text: "Function" }),
				el("th", { text: "File:line" }),
				CLASSES.map(([, label, what]) => el("th",
					{ class: "num", title: what, text: label })))),
			   body));
	}

	function cycles(c) {
		if (!c.list.length)
			return el("p", { class: "note",
					 text: "No leaked cycle." });
		return el("ol", { class: "anomalies", id: "reach-cycles" },
			c.list.map((g) => el("li", null,
				el("p", null, el("strong", { text:
					MS.plural(g.instances, "cycle", "cycles") +
					" of " + MS.plural(g.blocks / g.instances,
							   "block", "blocks") }),
				   ", " + MS.fmtBytes(g.bytes) + " in all"),
				g.members.map((m) => [
					el("p", { class: "note", text:
						MS.plural(m.count, "block", "blocks") +
						" of this site in each, " +
						MS.fmtBytes(m.bytes) + " in all:" }),
					MS.stackList(m)]))));
	}

	function links(g) {
		return el("div", { class: "table-wrap" },
			el("table", { class: "sites", id: "reach-graph" },
			   el("thead", null, el("tr", null,
				el("th", { class: "num", text: "Pointers" }),
				el("th", { text: "Kind (rule, confidence)" }),
				el("th", { text: "From a block allocated in" }),
				el("th", { text: "To a block allocated in" }))),
			   el("tbody", null, g.links.slice(0, 30).map((l) =>
				el("tr", null,
				   el("td", { class: "num", text: MS.fmtInt(l.count) }),
				   el("td", { text: l.kind + " (" + l.rule + ", " +
						    l.confidence.toFixed(2) + ")" }),
				   el("td", { text: MS.siteName(l.from) }),
				   el("td", { text: MS.siteName(l.to) }))))));
	}

	MS.renderReach = function (r, pick) {
		const rr = r.reachability;

		if (!rr)
			return [];
		const sec = MS.section("reach", "Reachability (inferred)",
			"memcheck's classes from a scan of the target's memory " +
			"when tracing ended: registers and stacks (copied while " +
			"its threads were stopped " +
			(rr.pause.ns / 1e6).toFixed(3) + " ms), writable " +
			"segments, then every live block. A word that looks like " +
			"a pointer counts as one.");

		sec.append(el("ul", { class: "reach-totals" }, CLASSES.map(
			([k, label, what]) => el("li", { title: what },
				el("strong", { text: label + ": " }),
				MS.fmtBytes(rr[k].bytes) + " in " +
				MS.plural(rr[k].count, "block", "blocks") +
				" (confidence " + rr.confidence[k].toFixed(2) +
				")"))),
			leakTable(r, pick),
			el("h3", { text: "Leaked cycles" }), cycles(r.cycles),
			el("h3", { text: "Ownership graph: the strongest links" }),
			links(r.graph));
		return [sec];
	};
})();
