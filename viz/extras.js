// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Sections for what programs declare through the USDT probes: the task
// tree, zombies, passports and their violations, shared handles and clone
// storms, declared variables. They appear only when the report has them,
// and are drawn generically (arrays of records as tables, other objects as
// key/value lists), so a report from a newer tool still shows everything
// it holds: any other array in "declared" (an inference rule's records,
// user/rules/) gets a section titled by its key, after these.

(function () {
	"use strict";

	const el = MS.el;
	// The keys of the report's "declared" object (docs/declared.md).
	const EXTRAS = [
		["tasks", "Task tree"],
		["zombies", "Zombie task candidates (inferred)"],
		["passports", "Passports"],
		["violations", "Passport violations"],
		["shared", "Shared handles"],
		["storms", "Clone storms (inferred)"],
		["tracked", "Declared variables"],
	];
	// Members of "declared" that are not sections of their own.
	const NOT_SECTIONS = ["source", "stats", "rules", "sites"];
	const MAX_ROWS = 500, MAX_DEPTH = 4;

	function scalar(v) {
		if (v === null)
			return el("span", { class: "null", text: "\u2014" });
		return typeof v === "number" ? MS.fmtInt(v) : String(v);
	}

	function isRecordList(v) {
		return Array.isArray(v) && v.length > 0 &&
			v.every((x) => x && typeof x === "object" && !Array.isArray(x));
	}

	function value(v, depth) {
		if (v === null || typeof v !== "object")
			return scalar(v);
		if (depth >= MAX_DEPTH)
			return el("code", { text: JSON.stringify(v) });
		if (isRecordList(v))
			return table(v, depth);
		if (Array.isArray(v)) {
			if (!v.length)
				return el("span", { class: "null", text: "none" });
			return el("ul", { class: "plain" },
				v.map((x) => el("li", null, value(x, depth + 1))));
		}
		return el("table", { class: "compact kv" }, el("tbody", null,
			Object.entries(v).map(([k, x]) => el("tr", null,
				el("th", { text: k }),
				el("td", null, value(x, depth + 1))))));
	}

	function table(list, depth) {
		const keys = [];

		for (const rec of list) {
			for (const k of Object.keys(rec)) {
				if (!keys.includes(k))
					keys.push(k);
			}
		}
		return el("div", { class: "table-wrap" },
			el("table", { class: "compact records" },
				el("thead", null, el("tr", null,
					keys.map((k) => el("th", { text: k })))),
				el("tbody", null, list.slice(0, MAX_ROWS).map((rec) =>
					el("tr", null, keys.map((k) => el("td", null,
						k in rec ? value(rec[k], depth + 1) :
						"")))))),
			list.length > MAX_ROWS ? el("p", { class: "note", text:
				"First " + MS.fmtInt(MAX_ROWS) + " of " +
				MS.fmtInt(list.length) + " shown; the JSON " +
				"inside this file holds all." }) : null);
	}

	MS.renderExtras = function (r) {
		const d = r.declared || {};

		/* A program that declared nothing gets no declared sections. */
		if (!d.stats || !d.stats.records)
			return [];

		const known = EXTRAS.map(([key]) => key).concat(NOT_SECTIONS);
		const more = Object.keys(d).filter((k) => !known.includes(k) &&
			Array.isArray(d[k])).map((k) => [k, k]);

		const sections = EXTRAS.filter(([key]) => key in d).concat(more);

		return sections.map(([key, title]) => {
			const sec = MS.section(key, title);
			const v = d[key];
			const empty = v === null || (Array.isArray(v) && !v.length) ||
				(typeof v === "object" && !Object.keys(v).length);

			sec.append(empty ? el("p", { class: "empty",
				text: "None in this trace." }) : value(v, 0));
			return sec;
		});
	};
})();
