// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Flame graph (icicle: callers above callees) of the call stacks of the
// report's sites, weighed by live bytes at the end, at the peak, or by all
// bytes allocated. Frames merge by name, as a reader thinks of them;
// children are ordered heaviest first. Frames narrower than MIN_W pixels
// are not drawn (zoom in to see them), which bounds the element count by
// the width, not by the number of stacks.
//
// After a heap scan the frames can be coloured by memcheck's classes of the
// bytes under them (live at the end only: the classes are of those blocks),
// each frame split by class, with a legend. Classes come from each site's
// own (sites[].reachability, every site, past --top too): only blocks the
// scan did not see are not classified. A zoomed frame offers to show its
// heaviest call site in the ownership graph.

(function () {
	"use strict";

	const el = MS.el, svg = MS.svg;
	const ROW = 18, MIN_W = 1.5, CHAR_W = 6.6, TEXT_MIN_W = 22;
	const MODES = [
		{ key: "live", label: "Live at end", bytes: "live_bytes",
		  count: "live_count", what: "live at the end" },
		{ key: "peak", label: "At the peak", bytes: "peak_bytes",
		  count: "peak_count", what: "live at the peak" },
		{ key: "alloc", label: "All allocated", bytes: "alloc_bytes",
		  count: "alloc_count", what: "allocated" },
	];
	const CUT = "[stack cut: outer frames not captured]";
	const NO_STACK = "(no stack captured)";
	const UNCLASSIFIED = "hsl(220, 8%, 78%)";

	function newNode(name, parent, where) {
		return { name: name, where: where, value: 0, count: 0,
			 parent: parent, depth: parent ? parent.depth + 1 : 0,
			 kids: new Map(), list: null, ends: [],
			 cls: MS.REACH_CLASSES.map(() => 0), unclassified: 0 };
	}

	// Root-first paths of (name, where) pairs for one site.
	function sitePath(s) {
		const path = [];

		if (!s.frames.length)
			return [[NO_STACK, ""]];
		if (s.stack_truncated)
			path.push([CUT, ""]);
		else if (s.stack_stop && s.stack_stop !== "end" &&
			 s.stack_stop !== "depth")
			// stopped early: under one root, not roots of their own
			path.push(["[stack ended early: " + s.stack_stop + "]",
				   ""]);
		for (let i = s.frames.length - 1; i >= 0; i--)
			path.push([MS.frameName(s.frames[i]),
				   MS.frameWhere(s.frames[i])]);
		return path;
	}

	function sortKids(n) {
		n.list = Array.from(n.kids.values()).sort((a, b) =>
			b.value - a.value || (a.name < b.name ? -1 : 1));
		for (const k of n.list)
			sortKids(k);
	}

	// Bytes of a site by class; what the scan did not classify (blocks it
	// did not see, an image it did not scan) last.
	function classBytes(s, v) {
		const rr = s.reachability;
		const cls = MS.REACH_CLASSES.map((c) => rr ? rr[c.key].bytes : 0);

		return [cls, Math.max(0, v - cls.reduce((a, b) => a + b, 0))];
	}

	function buildTree(sites, mode, classed) {
		const root = newNode("all", null, "");
		let depth = 0;

		for (const s of sites) {
			const v = s[mode.bytes];

			if (!v)
				continue;
			let n = root;

			n.value += v;
			n.count += s[mode.count];
			for (const [name, where] of sitePath(s)) {
				let k = n.kids.get(name);

				if (!k) {
					k = newNode(name, n, where);
					n.kids.set(name, k);
				} else if (k.where !== where) {
					// The same function, called from elsewhere.
					k.where = "";
				}
				k.value += v;
				k.count += s[mode.count];
				n = k;
			}
			n.ends.push(s);
			if (classed) {
				const [cls, rest] = classBytes(s, v);

				for (let a = n; a; a = a.parent) {
					cls.forEach((b, i) => a.cls[i] += b);
					a.unclassified += rest;
				}
			}
			depth = Math.max(depth, n.depth);
		}
		sortKids(root);
		root.maxDepth = depth;
		return root;
	}

	function frameColor(n, matched) {
		if (matched)
			return "hsl(300, 70%, 62%)";
		if (n.depth === 0)
			return "hsl(30, 12%, 78%)";
		if (n.name === CUT || n.name === NO_STACK || n.name.startsWith("0x"))
			return "hsl(30, 8%, 70%)";
		const h = MS.nameHue(n.name);

		return `hsl(${8 + 42 * h}, ${72 + 10 * h}%, ${60 + 8 * h}%)`;
	}

	// Bytes under the topmost frames that match, so nesting counts once.
	function matchedBytes(n, q) {
		if (n.depth && n.name.toLowerCase().includes(q))
			return n.value;
		let sum = 0;

		for (const k of n.list)
			sum += matchedBytes(k, q);
		return sum;
	}

	function label(name, w) {
		const fit = Math.floor((w - 6) / CHAR_W);

		if (w < TEXT_MIN_W || fit < 2)
			return "";
		return name.length <= fit ? name : name.slice(0, fit - 1) + "\u2026";
	}

	// The heaviest site ending under n that the graph has links of.
	function graphSite(n, pick, bytes) {
		let best = null;
		const walk = (x) => {
			for (const s of x.ends) {
				if (pick(s.frames) && (!best || s[bytes] > best[bytes]))
					best = s;
			}
			for (const k of x.list)
				walk(k);
		};

		walk(n);
		return best;
	}

	MS.renderFlame = function (r, pick) {
		const modes = r.target.mode === "alloc" ?
			MODES.filter((m) => m.key === "alloc") : MODES;
		const trees = new Map();
		const state = { mode: modes[0], zoom: [], query: "",
				reach: false };
		// Classes exist only after a heap scan, of the blocks live at
		// the end.
		const classed = r.sites.some((s) => s.reachability) &&
			r.target.mode !== "alloc";
		let drawn = [];

		const sec = MS.section("flame", "Flame graph",
			"Call stacks of the bytes, callers above callees; " +
			"a frame's width is its share. Click a frame to zoom in, " +
			"an upper one or Reset to zoom out.");
		const buttons = el("div", { class: "seg", role: "group",
					    "aria-label": "weigh frames by" });
		const search = el("input", { type: "search", id: "flame-search",
			placeholder: "Highlight frames matching\u2026",
			"aria-label": "highlight frames matching" });
		const reset = el("button", { type: "button", id: "flame-reset",
					     text: "Reset zoom" });
		const matchInfo = el("span", { class: "match-info",
					       id: "flame-match" });
		const info = el("div", { class: "readout", id: "flame-info" });
		const box = el("div", { class: "flame-box" });

		for (const m of modes) {
			buttons.append(el("button", { type: "button",
				"data-mode": m.key, text: m.label,
				onclick: () => {
					state.mode = m;
					state.reach = state.reach && m === modes[0];
					draw();
				} }));
		}
		const colors = classed ? el("div", { class: "seg", role: "group",
			id: "flame-color", "aria-label": "colour frames by" },
			[["name", "Colour by function"],
			 ["reach", "By reachability"]].map(([k, label]) =>
				el("button", { type: "button", "data-color": k,
					text: label, onclick: () => {
						state.reach = k === "reach";
						if (state.reach)
							state.mode = modes[0];
						draw();
					} }))) : null;
		const legend = classed ? el("div", { class: "legend",
			id: "flame-legend" }, "Colours: memcheck's class of " +
			"the bytes live at the end under each frame (inferred):",
			MS.REACH_CLASSES.map((c) => el("span", { title: c.what },
				MS.swatch(c.color), c.label)),
			el("span", null, MS.swatch(UNCLASSIFIED),
			   "not classified: blocks the scan did not see " +
			   "(allocated after it, or of a process it did not " +
			   "scan)")) : null;
		const toGraph = pick ? el("button", { type: "button",
			id: "flame-graph-site", hidden: true }) : null;

		// MS.append: colors and legend are null without a heap scan
		MS.append(sec, el("div", { class: "toolbar" }, buttons, colors,
				      search, reset, toGraph, matchInfo),
			  legend, box, info);

		function tree() {
			if (!trees.has(state.mode.key))
				trees.set(state.mode.key, buildTree(r.sites,
					state.mode, state.mode === modes[0] &&
					classed));
			return trees.get(state.mode.key);
		}

		// The zoom is a path of names, so it survives a change of mode.
		function zoomNode(root) {
			let n = root;

			for (const name of state.zoom) {
				const k = n.kids.get(name);

				if (!k)
					break;
				n = k;
			}
			return n;
		}

		function pathOf(n) {
			const names = [];

			for (; n.parent; n = n.parent)
				names.unshift(n.name);
			return names;
		}

		function describe(n, root) {
			return n.name + (n.where ? "  " + n.where : "") + "\n" +
				MS.fmtBytes(n.value) + " " + state.mode.what + " (" +
				MS.fmtInt(n.value) + " bytes, " +
				MS.fmtPct(n.value, root.value) + " of all), " +
				MS.plural(n.count, "block", "blocks") +
				(state.reach ? ": " + MS.REACH_CLASSES.map((c, i) =>
					c.label.toLowerCase() + " " +
					MS.fmtBytes(n.cls[i])).concat(
					"not classified " +
					MS.fmtBytes(n.unclassified)).join(", ") : "");
		}

		// The frame's width split by class, worst first.
		function classRects(n, w) {
			const out = [];
			let x = 0;

			n.cls.concat(n.unclassified).forEach((b, i) => {
				const cw = b / n.value * w;

				if (cw <= 0)
					return;
				out.push(svg("rect", { class: "cls", x: x.toFixed(2),
					width: Math.max(cw - 0.5, 0.5),
					height: ROW - 1, "data-cls": i <
					MS.REACH_CLASSES.length ?
					MS.REACH_CLASSES[i].key : "unclassified",
					fill: i < MS.REACH_CLASSES.length ?
					MS.REACH_CLASSES[i].color : UNCLASSIFIED }));
				x += cw;
			});
			return out;
		}

		function frameNode(n, x, w, cls, root) {
			const matched = state.query &&
				n.depth && n.name.toLowerCase().includes(state.query);
			const g = svg("g", {
				class: "frame" + cls + (matched ? " match" :
					state.query ? " dim" : ""),
				transform: `translate(${x.toFixed(2)},${n.depth * ROW})`,
				"data-i": drawn.length, "data-name": n.name,
				"data-value": n.value },
				svg("title", { text: describe(n, root) }),
				svg("rect", { width: Math.max(w - 0.5, 0.5),
					      height: ROW - 1,
					      fill: frameColor(n, matched) }),
				state.reach && !matched && n.depth ?
					classRects(n, w) : null);
			const text = label(n.name, w);

			if (text)
				g.append(svg("text", { x: 4, y: 12.5, text: text }));
			drawn.push(n);
			return g;
		}

		// Fills the panel: called again when the window changes width.
		function draw() {
			const w = Math.max(MS.MIN_CHART_W, box.clientWidth);
			const root = tree();
			const z = zoomNode(root);
			const g = svg("g");
			let hidden = 0;

			drawn = [];
			state.zoom = pathOf(z);
			for (const b of buttons.children)
				b.setAttribute("aria-pressed",
					       b.dataset.mode === state.mode.key);
			if (colors) {
				for (const b of colors.children)
					b.setAttribute("aria-pressed", String(
						(b.dataset.color === "reach") ===
						state.reach));
				legend.hidden = !state.reach;
			}
			if (toGraph) {
				const s = z === root ? null : graphSite(z, pick,
								  state.mode.bytes);

				toGraph.hidden = !s;
				if (s) {
					toGraph.textContent = "Ownership graph: " +
						MS.siteName(s);
					toGraph.onclick = pick(s.frames);
				}
			}
			if (!root.value) {
				MS.clear(box).append(el("p", { class: "empty",
					text: "No bytes " + state.mode.what + "." }));
				matchInfo.textContent = "";
				return;
			}
			// The zoomed frame's callers, full width, to zoom out.
			for (let a = z.parent; a; a = a.parent)
				g.append(frameNode(a, 0, w, " ancestor", root));
			const stack = [[z, 0]];

			while (stack.length) {
				const [n, x] = stack.pop();
				const nw = n.value / z.value * w;

				if (nw < MIN_W) {
					hidden++;
					continue;
				}
				g.append(frameNode(n, x, nw, "", root));
				let cx = x;

				for (const k of n.list) {
					stack.push([k, cx]);
					cx += k.value / z.value * w;
				}
			}
			const h = (root.maxDepth + 1) * ROW;

			MS.clear(box).append(svg("svg", { id: "flame-graph",
				class: "flame", "data-mode": state.mode.key,
				"data-color": state.reach ? "reach" : "name",
				"data-total": root.value, width: w, height: h,
				viewBox: `0 0 ${w} ${h}`, role: "img",
				"aria-label": "flame graph of bytes " + state.mode.what },
				g));
			reset.disabled = z === root;
			info.textContent = hidden ? MS.plural(hidden, "frame", "frames") +
				" too narrow to draw: zoom in to see them." : "";
			if (state.query) {
				const m = matchedBytes(root, state.query);

				matchInfo.textContent = "matched " + MS.fmtBytes(m) +
					" (" + MS.fmtPct(m, root.value) + ")";
			} else {
				matchInfo.textContent = "";
			}
		}

		box.addEventListener("click", (ev) => {
			const g = ev.target.closest("g.frame");

			if (!g)
				return;
			state.zoom = pathOf(drawn[Number(g.dataset.i)]);
			draw();
		});
		box.addEventListener("mouseover", (ev) => {
			const g = ev.target.closest("g.frame");

			if (g)
				info.textContent = describe(drawn[Number(g.dataset.i)],
							    tree()).replace("\n", ": ");
		});
		reset.addEventListener("click", () => {
			state.zoom = [];
			draw();
		});
		search.addEventListener("input", MS.debounce(() => {
			state.query = search.value.trim().toLowerCase();
			draw();
		}, 120));

		return { node: sec, draw: draw };
	};
})();
