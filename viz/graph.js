// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// The ownership graph around one call site (--reachability): the sites
// whose blocks hold pointers to its blocks on the left, the sites its
// blocks point to on the right, each link with its kind, pointers, rule and
// confidence, all inferred. A site is chosen here, from the call-site and
// reachability tables or from the flame graph (pick()); clicking a
// neighbour steps to it. Past MAX_SIDE neighbours a side ends in one box
// that adds up the rest, and says so; the table under the drawing lists
// every link. Absent from reports without a heap scan.

(function () {
	"use strict";

	const el = MS.el, svg = MS.svg;
	const MAX_SIDE = 8, ROW = 66, BOX_H = 56, CHAR_W = 6.6, PAD = 16;
	const KIND_COLOR = {
		owner: "#4a5a78",
		slice: "#8a5cc2",
		container: "#2f8f83",
		shared: "#c2410c",
	};

	function fit(text, w) {
		const n = Math.floor((w - 12) / CHAR_W);

		return text.length <= n ? text : text.slice(0, Math.max(n - 1, 1)) +
			"\u2026";
	}

	// The sites of the graph: one per stack, with its links and its blocks
	// by class (sites[].reachability; a report without it has them on its
	// leaks alone).
	function buildSites(r) {
		const sites = new Map();
		const classed = new Map();

		for (const e of r.leaks.concat(r.sites || []))
			if (e.reachability)
				classed.set(MS.stackKey(e.frames), e);
		const site = (s) => {
			const key = MS.stackKey(s.frames);

			if (!sites.has(key))
				sites.set(key, { key: key, frames: s.frames,
					name: MS.siteName(s), where: MS.siteWhere(s),
					classed: classed.get(key) || null, out: [], in: [],
					pointers: 0 });
			return sites.get(key);
		};

		for (const l of r.graph.links) {
			const from = site(l.from), to = site(l.to);

			from.out.push(l);
			to.in.push(l);
			from.pointers += l.count;
			if (to !== from)
				to.pointers += l.count;
		}
		// Sites that share a name are told apart by their rank.
		const byName = new Map();

		for (const s of Array.from(sites.values()).sort((a, b) =>
			b.pointers - a.pointers)) {
			const n = (byName.get(s.name) || 0) + 1;

			byName.set(s.name, n);
			s.rank = n;
		}
		for (const s of sites.values())
			s.label = s.name + (byName.get(s.name) > 1 ? " #" + s.rank :
					    "");
		return sites;
	}

	function classText(e) {
		if (!e || !e.reachability)
			return "not classified";
		const parts = MS.REACH_CLASSES.filter((c) =>
			e.reachability[c.key].count).map((c) =>
			MS.fmtInt(e.reachability[c.key].count) + " " +
			c.label.toLowerCase());

		return parts.length ? parts.join(", ") : "no block scanned";
	}

	// A stacked bar of the site's live bytes by class.
	function classBar(e, x, y, w) {
		const g = svg("g", { class: "classes" });
		const rr = e && e.reachability;
		const total = rr ? MS.REACH_CLASSES.reduce((a, c) =>
			a + rr[c.key].bytes, 0) : 0;
		let cx = x;

		if (!total)
			return g;
		for (const c of MS.REACH_CLASSES) {
			const cw = rr[c.key].bytes / total * w;

			if (cw > 0)
				g.append(svg("rect", { x: cx, y: y, width: cw,
					height: 5, fill: c.color }));
			cx += cw;
		}
		return g;
	}

	// Links between this site and its neighbours, in words: pointers by
	// kind.
	function linkWords(list) {
		const by = new Map();

		for (const l of list)
			by.set(l.kind, (by.get(l.kind) || 0) + l.count);
		return Array.from(by, ([k, n]) => k + " \u00d7" + MS.fmtInt(n))
			.join(", ");
	}

	function siteBox(s, x, y, w, cls, extra) {
		const g = svg("g", { class: "site " + cls,
			transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
			"data-key": s.key },
			svg("title", { text: s.label + (s.where ? "  " + s.where :
				"") + "\n" + classText(s.classed) }),
			svg("rect", { width: w, height: BOX_H, rx: 5 }),
			svg("text", { x: 6, y: 15, class: "name",
				      text: fit(s.label, w) }),
			svg("text", { x: 6, y: 29, class: "where",
				      text: fit(extra || s.where, w) }),
			svg("text", { x: 6, y: 43, class: "where",
				      text: fit(classText(s.classed), w) }),
			classBar(s.classed, 0, BOX_H - 5, w));

		return g;
	}

	// Neighbours of s on one side: [site, its links], most pointers first.
	function side(sites, s, dir) {
		const by = new Map();

		for (const l of s[dir]) {
			const other = MS.stackKey((dir === "in" ? l.from : l.to).frames);

			if (other === s.key)
				continue;
			if (!by.has(other))
				by.set(other, []);
			by.get(other).push(l);
		}
		return Array.from(by, ([k, list]) => [sites.get(k), list]).sort(
			(a, b) => b[1].reduce((n, l) => n + l.count, 0) -
				  a[1].reduce((n, l) => n + l.count, 0));
	}

	function edgeTable(s) {
		const rows = [];
		const add = (dir, l, other) => rows.push(el("tr", { "data-dir": dir },
			el("td", { text: dir === "in" ? "held by" :
				   dir === "out" ? "holds" : "its own site" }),
			el("td", { class: "name", text: other.label }),
			el("td", { class: "where", text: other.where }),
			el("td", { text: l.kind }),
			el("td", { class: "num", text: MS.fmtInt(l.count) }),
			el("td", { text: l.rule }),
			el("td", { class: "num", text: l.confidence.toFixed(2) })));

		return { rows: rows, add: add };
	}

	MS.renderGraph = function (r) {
		const g = r.graph;

		if (!g || !g.links.length)
			return { node: [], pick: null, draw: () => {} };
		const sites = buildSites(r);
		const order = Array.from(sites.values()).sort((a, b) =>
			b.pointers - a.pointers);
		const state = { cur: order[0], back: [] };
		const sec = MS.section("graph", "Ownership graph around a site " +
			"(inferred)",
			"Pointers between live blocks found by the heap scan, " +
			"counted by the sites that allocated both ends: on the " +
			"left the sites whose blocks point to this site's " +
			"blocks, on the right those its blocks point to. Every " +
			"link is inferred, with its rule and confidence. Click a " +
			"site to step to it.");
		const select = el("select", { id: "graph-site",
			"aria-label": "site at the centre" },
			order.map((s) => el("option", { value: s.key,
				text: s.label + (s.where ? " (" + s.where + ")" : "") +
				      ", " + MS.plural(s.pointers, "pointer",
							"pointers") })));
		const back = el("button", { type: "button", id: "graph-back",
					    text: "Back" });
		const box = el("div", { class: "graph-box" });
		const about = el("div", { class: "graph-about", id: "graph-about" });
		const bound = g.links.length < g.links_total ? el("p",
			{ class: "note", id: "graph-bound", text: "The report " +
			  "keeps the " + MS.fmtInt(g.links.length) + " links " +
			  "with the most pointers of " + MS.fmtInt(g.links_total) +
			  "; the others are not drawn." }) : null;

		MS.append(sec, el("div", { class: "toolbar" },
			el("label", { class: "proc-choice" }, "Site: ", select), back,
			el("span", { class: "legend" }, Object.entries(KIND_COLOR)
				.map(([k, c]) => el("span", null,
					MS.swatch(c), k)))),
			bound, box, about);

		function go(s, remember) {
			if (!s || s === state.cur)
				return;
			if (remember)
				state.back.push(state.cur);
			state.cur = s;
			draw();
		}

		function column(list, x, w, dir, top, bottom) {
			const out = [];
			const shown = list.length > MAX_SIDE + 1 ?
				list.slice(0, MAX_SIDE) : list;
			const rest = list.slice(shown.length);

			shown.forEach(([s, links], i) => out.push([
				siteBox(s, x, top + i * ROW, w, "neighbour " + dir),
				links, top + i * ROW]));
			if (rest.length) {
				const n = rest.reduce((a, [, links]) =>
					a + links.reduce((b, l) => b + l.count, 0), 0);
				const y = top + shown.length * ROW;
				const more = svg("g", { class: "site more",
					id: "graph-more-" + dir,
					transform: `translate(${x},${y})` },
					svg("rect", { width: w, height: BOX_H, rx: 5 }),
					svg("text", { x: 6, y: 20, class: "name",
						text: "+" + MS.plural(rest.length,
							"more site", "more sites") }),
					svg("text", { x: 6, y: 36, class: "where",
						text: MS.plural(n, "pointer",
							"pointers") + ": listed below" }));

				out.push([more, rest.flatMap(([, l]) => l), y]);
			}
			bottom.n = Math.max(bottom.n, out.length);
			return out;
		}

		function draw() {
			const s = state.cur;
			const w = Math.max(MS.MIN_CHART_W, box.clientWidth);
			const bw = Math.min(300, Math.floor((w - 4 * PAD) / 3.4));
			const ins = side(sites, s, "in"), outs = side(sites, s, "out");
			const self = s.out.filter((l) =>
				MS.stackKey(l.to.frames) === s.key);
			const rows = { n: 1 };
			const left = column(ins, PAD, bw, "in", PAD, rows);
			const right = column(outs, w - PAD - bw, bw, "out", PAD, rows);
			const h = rows.n * ROW + 2 * PAD;
			const cx = (w - bw) / 2, cy = (h - BOX_H) / 2;
			const edges = svg("g", { class: "edges" });
			const boxes = svg("g");
			const edge = (x1, y1, x2, y2, links, label) => {
				const count = links.reduce((a, l) => a + l.count, 0);
				const kind = links.every((l) =>
					l.kind === links[0].kind) ? links[0].kind : null;
				const mx = (x1 + x2) / 2;

				edges.append(svg("path", {
					d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
					stroke: KIND_COLOR[kind] || "#687083",
					"stroke-width": Math.min(1 + Math.log2(count), 7),
					"marker-end": "url(#graph-arrow)" }),
					svg("text", { x: label[0], y: label[1],
						"text-anchor": label[2],
						class: "edge-label",
						text: linkWords(links) }));
			};

			select.value = s.key;
			back.disabled = !state.back.length;
			for (const [node, links, y] of left) {
				boxes.append(node);
				edge(PAD + bw, y + BOX_H / 2, cx - 2, cy + BOX_H / 2,
				     links, [PAD + bw + 6, y + BOX_H / 2 - 5, "start"]);
			}
			for (const [node, links, y] of right) {
				boxes.append(node);
				edge(cx + bw, cy + BOX_H / 2, w - PAD - bw - 2,
				     y + BOX_H / 2, links,
				     [w - PAD - bw - 6, y + BOX_H / 2 - 5, "end"]);
			}
			boxes.append(siteBox(s, cx, cy, bw, "centre", self.length ?
				"to itself: " + linkWords(self) :
				null));
			if (!ins.length && !outs.length)
				boxes.append(svg("text", { x: w / 2, y: cy - 8,
					"text-anchor": "middle", class: "edge-label",
					text: "no link to another site" }));
			MS.clear(box).append(svg("svg", { id: "graph-svg",
				class: "graph", width: w, height: h,
				viewBox: `0 0 ${w} ${h}`, role: "img",
				"data-site": s.key, "aria-label":
				"ownership graph around " + s.label },
				svg("defs", null, svg("marker", { id: "graph-arrow",
					viewBox: "0 0 8 8", refX: 7, refY: 4,
					markerWidth: 5, markerHeight: 5,
					orient: "auto-start-reverse" },
					svg("path", { d: "M0,0 L8,4 L0,8 z",
						      fill: "#687083" }))),
				edges, boxes));

			const t = edgeTable(s);

			for (const l of s.in) {
				const other = sites.get(MS.stackKey(l.from.frames));

				if (other !== s)
					t.add("in", l, other);
			}
			for (const l of s.out) {
				const other = sites.get(MS.stackKey(l.to.frames));

				t.add(other === s ? "self" : "out", l, other);
			}
			MS.clear(about).append(
				el("h3", { text: s.label }),
				el("ul", { class: "reach-totals", id: "graph-classes" },
				   s.classed && s.classed.reachability ?
				   MS.REACH_CLASSES.map((c) => el("li", null,
					MS.swatch(c.color),
					el("strong", { text: c.label + ": " }),
					MS.fmtBytes(s.classed.reachability[c.key].bytes) +
					" in " + MS.plural(s.classed.reachability[c.key]
						.count, "block", "blocks"))) :
				   el("li", { text: "Its blocks are not in the " +
					      "report's call sites (cut by " +
					      "--top or the leak filter)." })),
				el("details", { class: "more-info" },
				   el("summary", { text: "Its call stack" }),
				   MS.stackList(s)),
				el("div", { class: "table-wrap" },
				   el("table", { class: "sites", id: "graph-links" },
				      el("thead", null, el("tr", null,
					["This site", "Other site", "File:line",
					 "Kind (inferred)", "Pointers", "Rule",
					 "Confidence"].map((x) => el("th", {
						class: x === "Pointers" ||
						       x === "Confidence" ? "num" : "",
						text: x })))),
				      el("tbody", null, t.rows))));
		}

		box.addEventListener("click", (ev) => {
			const node = ev.target.closest("g.site.neighbour");

			if (node)
				go(sites.get(node.dataset.key), true);
		});
		select.addEventListener("change", () =>
			go(sites.get(select.value), true));
		back.addEventListener("click", () => {
			const s = state.back.pop();

			if (s) {
				state.cur = s;
				draw();
			}
		});

		return {
			node: sec,
			draw: draw,
			// A site chosen elsewhere (frames): null when the graph has
			// no link of it, else a function that shows it here.
			pick: (frames) => {
				const s = sites.get(MS.stackKey(frames));

				return s ? () => {
					go(s, true);
					sec.scrollIntoView();
				} : null;
			},
		};
	};
})();
