// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Live bytes over time with the peak marked, and the allocation rate, from
// the report's timeline buckets. A bucket knows the highest live value
// inside it and the value after its last record, so the live chart is an
// envelope: each bucket drawn at its highest, the gaps between at the level
// the previous bucket ended on. That keeps the exact peak visible however
// many events a bucket merged.

(function () {
	"use strict";

	const el = MS.el, svg = MS.svg;
	const M = { l: 72, r: 18, t: 14, b: 24 };
	const LIVE_H = 230, RATE_H = 120;

	function fmtRate(v) {
		const units = [[1e9, " G/s"], [1e6, " M/s"], [1e3, " k/s"]];

		for (const [scale, unit] of units) {
			if (v >= scale)
				return Number((v / scale).toPrecision(3)) + unit;
		}
		return Number(v.toPrecision(3)) + " /s";
	}

	// Axis labels: 5 KiB, not 5.00 KiB.
	function fmtTickBytes(v) {
		return MS.fmtBytes(v).replace(/\.(\d*?)0+ /,
			(m, kept) => (kept ? "." + kept : "") + " ");
	}

	function fmtTick(sec, step) {
		const d = Math.max(0, -Math.floor(Math.log10(step)));

		return sec.toFixed(Math.min(d, 6)) + " s";
	}

	// Scales and the frame (axes, grid) of one chart.
	function frame(width, height, xMax, yTicks, yFmt, yMax) {
		const iw = width - M.l - M.r, ih = height - M.t - M.b;
		const sx = (ns) => M.l + iw * ns / xMax;
		const sy = (v) => M.t + ih * (1 - v / yMax);
		const step = MS.niceStep(xMax / 1e9, Math.max(2, iw / 110));
		const g = svg("g", { class: "axes" });

		for (const v of yTicks) {
			g.append(svg("line", { class: "grid", x1: M.l, x2: M.l + iw,
					       y1: sy(v), y2: sy(v) }),
				 svg("text", { class: "ytick", x: M.l - 6,
					       y: sy(v) + 4, text: yFmt(v) }));
		}
		for (let s = 0; s <= xMax / 1e9 * 1.0001; s += step) {
			g.append(svg("line", { class: "tick", x1: sx(s * 1e9),
					       x2: sx(s * 1e9), y1: M.t + ih,
					       y2: M.t + ih + 4 }),
				 svg("text", { class: "xtick", x: sx(s * 1e9),
					       y: M.t + ih + 17,
					       text: fmtTick(s, step) }));
		}
		g.append(svg("line", { class: "axis", x1: M.l, x2: M.l + iw,
				       y1: M.t + ih, y2: M.t + ih }));
		return { sx, sy, iw, ih, g };
	}

	// Steps only where the level changes: a long trace has few of them.
	function livePath(pts, w, xMax, sx, sy) {
		const px = (v) => Math.round(v * 10) / 10;
		const d = ["M", px(sx(0)), px(sy(0))];
		let y = px(sy(0));

		function step(ns, bytes) {
			const ny = px(sy(bytes));

			if (ny !== y)
				d.push("H", px(sx(ns)), "V", ny);
			y = ny;
		}
		for (const p of pts) {
			step(p.t_ns, p.max_bytes);
			step(Math.min(p.t_ns + w, xMax), p.end_bytes);
		}
		d.push("H", px(sx(xMax)));
		return d.join(" ");
	}

	function peakMarker(s, f) {
		if (!s.peak_bytes)
			return null;
		const x = f.sx(s.peak_ns), y = f.sy(s.peak_bytes);
		const right = x < M.l + f.iw * 0.7;

		return svg("g", { class: "peak", id: "peak-marker",
				  "data-bytes": s.peak_bytes, "data-ns": s.peak_ns },
			svg("line", { x1: x, x2: x, y1: y, y2: M.t + f.ih }),
			svg("circle", { cx: x, cy: y, r: 4.5 }),
			// Above the dot, unless that leaves the chart.
			svg("text", { x: right ? x + 6 : x - 6,
				      y: y - 9 > M.t + 8 ? y - 9 : y + 17,
				      "text-anchor": right ? "start" : "end",
				      text: "peak " + MS.fmtBytes(s.peak_bytes) +
				      " at " + MS.fmtSec(s.peak_ns) }));
	}

	// The bucket that holds time ns, or -1.
	function bucketAt(pts, w, ns) {
		let lo = 0, hi = pts.length - 1;

		while (lo <= hi) {
			const mid = (lo + hi) >> 1;

			if (ns < pts[mid].t_ns)
				hi = mid - 1;
			else if (ns >= pts[mid].t_ns + w)
				lo = mid + 1;
			else
				return mid;
		}
		return -1;
	}

	MS.renderTimeline = function (r) {
		const tl = r.timeline, pts = tl.points, w = tl.width_ns;
		const alloc = r.target.mode === "alloc";
		// Several images, seen whole: their curve is the peak's.
		const together = (r.processes || []).length > 1 &&
			r.view_proc === undefined;
		const sec = MS.section("timeline", alloc ? "Allocation rate" :
				       "Live memory over time",
				       pts.length ? (alloc ? "" :
				       "Highest live bytes" + (together ?
				       " of the running processes together" +
				       " (as the peak: what ended ones left" +
				       " is not in it)" : "") + " in each " +
				       MS.fmtSec(w) + " bucket; below, " +
				       "allocations per second.") : null);
		const charts = el("div", { class: "charts" });
		const readout = el("div", { class: "readout", id: "timeline-readout",
					    text: pts.length ? "Point at the chart for the values of a bucket." : "" });

		if (!pts.length) {
			sec.append(el("p", { class: "empty",
					     text: r.target.folded ?
					     "A fold has no curve of its own: " +
					     "its images ran each at its time." :
					     "No allocations were traced." }));
			return { node: sec, draw() {} };
		}
		sec.append(charts, readout);
		const last = pts[pts.length - 1];
		const xMax = Math.max(r.target.duration_ns, last.t_ns + w, 1);
		const rates = pts.map((p) => p.allocs / (w / 1e9));

		function drawLive(width) {
			const yMax = Math.max(r.summary.peak_bytes,
					      ...pts.map((p) => p.max_bytes), 1);
			const ticks = MS.axisTicks(yMax, 4, true);
			const f = frame(width, LIVE_H, xMax, ticks, fmtTickBytes,
					ticks[ticks.length - 1]);
			const d = livePath(pts, w, xMax, f.sx, f.sy);

			return { f, node: svg("svg", { class: "chart live",
				id: "live-chart", viewBox: `0 0 ${width} ${LIVE_H}`,
				width: width, height: LIVE_H, role: "img",
				"aria-label": "live bytes over time" },
				f.g,
				svg("path", { class: "area", d: d + ` V ${f.sy(0)} Z` }),
				svg("path", { class: "line", d: d }),
				peakMarker(r.summary, f)) };
		}

		function drawRate(width) {
			const ticks = MS.axisTicks(Math.max(...rates, 1), 3, false);
			const f = frame(width, RATE_H, xMax, ticks, fmtRate,
					ticks[ticks.length - 1]);
			const bars = svg("g", { class: "bars" });

			pts.forEach((p, i) => {
				if (!p.allocs)
					return;
				const x = f.sx(p.t_ns);
				const bw = Math.max(1, f.sx(p.t_ns + w) - x - 0.5);

				bars.append(svg("rect", { x: x, y: f.sy(rates[i]),
					width: bw, height: f.sy(0) - f.sy(rates[i]) }));
			});
			return { f, node: svg("svg", { class: "chart rate",
				id: "rate-chart", viewBox: `0 0 ${width} ${RATE_H}`,
				width: width, height: RATE_H, role: "img",
				"aria-label": "allocations per second" },
				f.g, bars) };
		}

		function show(i) {
			const p = pts[i];

			readout.textContent = MS.fmtSec(p.t_ns) + " to " +
				MS.fmtSec(p.t_ns + w) + ": " + (alloc ? "" :
				"live up to " + MS.fmtBytes(p.max_bytes) + ", " +
				MS.fmtBytes(p.end_bytes) + " at its end; ") +
				MS.plural(p.allocs, "allocation", "allocations") +
				(alloc ? "" : ", " + MS.plural(p.frees, "free", "frees")) +
				" (" + fmtRate(rates[i]) + ")";
		}

		function hover(chart, cursors) {
			const f = chart.f;
			const layer = svg("rect", { class: "hover", x: M.l, y: M.t,
				width: f.iw, height: f.ih });

			layer.addEventListener("mousemove", (ev) => {
				const box = chart.node.getBoundingClientRect();
				const x = ev.clientX - box.left;
				const i = bucketAt(pts, w, (x - M.l) / f.iw * xMax);

				for (const c of cursors) {
					c.setAttribute("x1", x);
					c.setAttribute("x2", x);
					c.style.visibility = "visible";
				}
				if (i >= 0)
					show(i);
			});
			layer.addEventListener("mouseleave", () => {
				for (const c of cursors)
					c.style.visibility = "hidden";
			});
			chart.node.append(layer);
		}

		// Fills the panel: called again when the window changes width.
		function draw() {
			const width = Math.max(MS.MIN_CHART_W, charts.clientWidth);
			const list = alloc ? [drawRate(width)] :
				[drawLive(width), drawRate(width)];
			const cursors = list.map((c) => {
				const line = svg("line", { class: "cursor", y1: M.t,
					y2: M.t + c.f.ih });

				c.node.append(line);
				return line;
			});

			for (const c of list)
				hover(c, cursors);
			MS.clear(charts).append(...list.map((c) => c.node));
		}

		return { node: sec, draw: draw };
	};
})();
