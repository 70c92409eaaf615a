// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Helpers the views share. Strings from the traced program (symbols, file
// and object names, the command line) are hostile: they reach the page only
// as text nodes, attribute values or textContent, through el() and svg()
// here, never as HTML to parse.

const MS = {};

(function () {
	"use strict";

	const SVG_NS = "http://www.w3.org/2000/svg";
	const KIB = 1024;

	// Charts narrower than this would be unreadable: the page scrolls.
	MS.MIN_CHART_W = 640;

	// Attributes: "class", "text" (textContent), "on*" (listeners) and
	// anything else through setAttribute, which never parses markup.
	function setAttrs(e, attrs) {
		if (!attrs)
			return;
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === "text")
				e.textContent = String(v);
			else if (k.startsWith("on"))
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v === true ? "" : String(v));
		}
	}

	function append(e, kids) {
		for (const k of kids) {
			if (k === undefined || k === null || k === false)
				continue;
			if (Array.isArray(k))
				append(e, k);
			else
				e.append(k instanceof Node ? k : String(k));
		}
	}

	MS.el = function (tag, attrs, ...kids) {
		const e = document.createElement(tag);

		setAttrs(e, attrs);
		append(e, kids);
		return e;
	};

	MS.svg = function (tag, attrs, ...kids) {
		const e = document.createElementNS(SVG_NS, tag);

		setAttrs(e, attrs);
		append(e, kids);
		return e;
	};

	// Element.append without the nulls views use for "nothing here".
	MS.append = function (e, ...kids) {
		append(e, kids);
		return e;
	};

	MS.clear = function (e) {
		e.replaceChildren();
		return e;
	};

	MS.fmtInt = function (n) {
		return Number(n).toLocaleString("en-US");
	};

	// Binary units, three significant digits: 10.6 KiB, 123 MiB.
	MS.fmtBytes = function (n) {
		const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
		let v = Number(n), u = -1;

		if (v < KIB)
			return v + " B";
		while (v >= KIB && u < units.length - 1) {
			v /= KIB;
			u++;
		}
		return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) :
			v.toFixed(2)) + " " + units[u];
	};

	MS.fmtSec = function (ns) {
		const s = Number(ns) / 1e9;

		return (s >= 1000 ? s.toFixed(0) : s >= 100 ? s.toFixed(1) :
			s.toFixed(3)) + " s";
	};

	// A length of time as a person reads it: milliseconds under a
	// second (three significant digits), else seconds.
	MS.fmtDur = function (ns) {
		const ms = Number(ns) / 1e6;

		if (ms >= 1000)
			return MS.fmtSec(ns);
		return (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) :
			ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)) + " ms";
	};

	MS.fmtPct = function (part, whole) {
		if (!whole)
			return "0%";
		const p = 100 * part / whole;

		return (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + "%";
	};

	// The report's target: pid 0 is a traced set with no first process.
	MS.targetName = function (t) {
		return t.pid ? "pid " + t.pid : "a set of processes";
	};

	MS.plural = function (n, one, many) {
		return MS.fmtInt(n) + " " + (Number(n) === 1 ? one : many);
	};

	MS.basename = function (path) {
		const i = path.lastIndexOf("/");

		return i < 0 ? path : path.slice(i + 1);
	};

	// What a reader calls a frame: its function, else where it lies.
	MS.frameName = function (f) {
		if (f.function)
			return f.function;
		return f.object ? f.addr + " (" + MS.basename(f.object) + ")" :
			f.addr;
	};

	MS.frameWhere = function (f) {
		if (f.file)
			return f.line ? f.file + ":" + f.line : f.file;
		return f.object || "";
	};

	// The name of a call site: the frame that called the allocator.
	MS.siteName = function (s) {
		return s.frames.length ? MS.frameName(s.frames[0]) :
			"(no stack captured)";
	};

	MS.siteWhere = function (s) {
		return s.frames.length ? MS.frameWhere(s.frames[0]) : "";
	};

	// memcheck's classes, worst first, as the heap scan names them; the
	// colours the flame graph and the ownership graph share.
	MS.REACH_CLASSES = [
		{ key: "definitely_lost", label: "Definitely lost",
		  what: "nothing points to it: a leak",
		  color: "hsl(0, 68%, 56%)" },
		{ key: "indirectly_lost", label: "Indirectly lost",
		  what: "only lost blocks point to it",
		  color: "hsl(27, 88%, 56%)" },
		{ key: "possibly_lost", label: "Possibly lost",
		  what: "reached only through a pointer inside a block",
		  color: "hsl(48, 92%, 54%)" },
		{ key: "still_reachable", label: "Still reachable",
		  what: "a chain of pointers from a root reaches its start",
		  color: "hsl(150, 42%, 52%)" },
	];

	// A small square of a colour, for legends: an SVG fill, as the page's
	// policy allows no style attribute.
	MS.swatch = function (color) {
		return MS.svg("svg", { class: "swatch", width: 10, height: 10,
				       "aria-hidden": "true" },
			MS.svg("rect", { width: 10, height: 10, fill: color }));
	};

	// A report names each frame by its number in its frame_table
	// (docs/report-schema.md): the views read frames as objects, so the
	// numbers become the table's entries here, once, as the page loads.
	// A list of frames already whole is left as it is.
	const FRAME_LISTS = ["frames", "alloc_frames", "free_frames"];

	MS.resolveFrames = function (doc) {
		const table = doc.frame_table;

		if (!Array.isArray(table))
			return doc;
		const frame = (i) => {
			if (typeof i !== "number")
				return i;
			if (!(i >= 0 && i < table.length))
				throw new Error("frame " + i + " is not in frame_table");
			return table[i];
		};
		const todo = [doc];

		while (todo.length) {
			const v = todo.pop();

			for (const k of Object.keys(v)) {
				const x = v[k];

				if (FRAME_LISTS.includes(k) && Array.isArray(x))
					v[k] = x.map(frame);
				else if (k === "at" && typeof x === "number")
					v[k] = frame(x);
				else if (k !== "frame_table" && x !== null &&
					 typeof x === "object")
					todo.push(x);
			}
		}
		return doc;
	};

	// Identifies a call stack across the report's lists (sites, leaks,
	// graph links): its return addresses, which are unique per image.
	MS.stackKey = function (frames) {
		return frames.map((f) => f.addr).join(",");
	};

	// One section of the page: a titled panel with an optional note.
	MS.section = function (id, title, note) {
		return MS.el("section", { id: id, class: "panel" },
			MS.el("h2", { text: title }),
			note ? MS.el("p", { class: "note", text: note }) : null);
	};

	// Calls fn at most once per delay, after the last of a burst of calls.
	MS.debounce = function (fn, delay) {
		let t = 0;

		return function (...args) {
			clearTimeout(t);
			t = setTimeout(() => fn(...args), delay);
		};
	};

	// Nice tick step near range/count: 1, 2 or 5 times a power of ten.
	MS.niceStep = function (range, count) {
		const raw = range / Math.max(count, 1);
		const p = Math.pow(10, Math.floor(Math.log10(raw)));
		const m = raw / p;

		return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
	};

	// Axis ticks from 0 to the first one at or above max; binary: steps
	// nice in the unit (KiB, MiB...) the values are shown in.
	MS.axisTicks = function (max, count, binary) {
		let unit = 1;

		while (binary && max / unit >= KIB && unit < Math.pow(KIB, 5))
			unit *= KIB;
		const step = MS.niceStep(max / unit, count) * unit;
		const n = Math.max(1, Math.ceil(max / step - 1e-9));
		const ticks = [];

		for (let i = 0; i <= n; i++)
			ticks.push(i * step);
		return ticks;
	};

	// A stable colour per name, from the warm range flame graphs use.
	MS.nameHue = function (name) {
		let h = 2166136261;

		for (let i = 0; i < name.length; i++)
			h = Math.imul(h ^ name.charCodeAt(i), 16777619);
		return (h >>> 0) % 1000 / 1000;
	};
})();
