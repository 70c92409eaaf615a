// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// Sections for what programs declare through the USDT probes: the task
// tree, zombie candidates, passports and their violations, shared handles
// and clone storms, declared variables (docs/declared.md). Each is drawn as
// a person reads it: names and states in words, instants as seconds since
// tracing began, lengths in ms or s, stacks and histories behind a click.
// They appear only when the report has them. Any other array in
// "declared" (a newer tool's rule) still gets a section titled by its key,
// drawn generically, so a report never hides what it holds.

(function () {
	"use strict";

	const el = MS.el;
	// Members of "declared" that are not sections of their own, or are
	// drawn by a view below.
	const KNOWN = ["source", "stats", "rules", "sites", "tasks", "zombies",
		       "passports", "violations", "shared", "storms", "tracked"];
	const MAX_ROWS = 500, MAX_DEPTH = 4;
	const STATES = {
		running: "running",
		idle: "idle",
		completed: "completed",
	};
	const KINDS = {
		heap_owner: "owns a heap block",
		container: "container",
		value: "value",
		stack_owner: "owned by a stack frame",
	};
	const VIOLATIONS = {
		never_freed_in_foreign_custody: "Never freed, left in foreign custody",
		freed_by_wrong_side: "Freed by a side without custody",
		handover_after_free: "Handed over after it was freed",
		double_handover: "Handed over twice",
		unknown_passport: "Operation on a buffer without a passport",
	};

	function at(ns) {
		return "at " + MS.fmtSec(ns);
	}

	function bytesIn(bytes, count) {
		return MS.fmtBytes(bytes) + " in " +
			MS.plural(count, "block", "blocks");
	}

	function inferred(rec) {
		return el("span", { class: "inferred", text: "inferred: rule " +
			rec.rule + ", confidence " + rec.confidence.toFixed(2) });
	}

	// Content behind a click: a native disclosure, closed at first.
	function more(label, ...kids) {
		return el("details", { class: "more-info" },
			el("summary", { text: label }), kids);
	}

	// A list of label/value lines, for details shown on demand.
	function facts(pairs) {
		return el("dl", { class: "facts" }, pairs.filter((p) => p)
			.map(([k, v]) => [el("dt", { text: k }), el("dd", null, v)]));
	}

	function taskName(t) {
		return t ? t.name !== null ? t.name : "task " + MS.fmtInt(t.id) :
			null;
	}

	// Tasks by id as the program declared them: the last record of an
	// id is the one alive at the end (an id created again is a new one).
	function taskIndex(tasks) {
		const m = new Map();

		for (const t of tasks)
			m.set(t.id, t);
		return m;
	}

	function whoTask(ids, id) {
		if (!id)
			return "outside any task";
		const t = ids.get(id);

		return t ? taskName(t) + " (task " + MS.fmtInt(id) + ")" :
			"task " + MS.fmtInt(id);
	}

	// --- task tree -------------------------------------------------------

	function taskLine(t, zombie) {
		const m = t.memory;
		const life = t.state === "completed" ?
			"lived " + MS.fmtDur(t.lifetime_ns) :
			"alive for " + MS.fmtDur(t.lifetime_ns) + ", not completed";

		return el("div", { class: "task-line" },
			el("span", { class: "task-name", text: taskName(t) }),
			el("span", { class: "task-id", text: "task " +
				     MS.fmtInt(t.id) }),
			el("span", { class: "state state-" + t.state, text:
				STATES[t.state] || t.state }),
			zombie ? el("span", { class: "state state-zombie",
				text: "zombie candidate" }) : null,
			el("span", { class: "task-life", text: life }),
			el("span", { class: "task-mem", text: "peak " +
				     MS.fmtBytes(m.peak_bytes) }),
			el("span", { class: "task-mem", text: m.live_count ?
				"live at the end: " + bytesIn(m.live_bytes,
							      m.live_count) :
				"nothing live at the end" }));
	}

	function taskDetails(t, ids) {
		const m = t.memory;
		const ac = m.at_completion;

		return more("Details", facts([
			["First seen", at(t.first_ns)],
			["Created", t.created_ns !== null ? at(t.created_ns) :
				"not declared (seen only running or allocating)"],
			["Completed", t.completed_ns !== null ?
				at(t.completed_ns) : "no"],
			["Last active", at(t.last_active_ns)],
			t.state === "running" ? ["Threads inside",
				MS.fmtInt(t.threads_inside)] : null,
			t.parent && !t.parent_known ? ["Parent", "task " +
				MS.fmtInt(t.parent) + ", not seen in this " +
				"trace: shown as a root"] : null,
			["Allocated while it ran", bytesIn(m.alloc_bytes, m.allocs)],
			["Its highest live bytes", MS.fmtBytes(m.peak_bytes)],
			ac ? ["Live when it completed",
			      bytesIn(ac.live_bytes, ac.live_count)] : null,
			["Live at the end", bytesIn(m.live_bytes, m.live_count)],
		]));
	}

	// The tree from the pre-order list: a task's children follow it,
	// one level deeper.
	function taskTree(tasks, zombies) {
		const ids = taskIndex(tasks);
		const zombieAt = new Set(zombies.map((z) => z.task_index));
		const open = tasks.length <= 200;
		const root = el("ul", { class: "tree", id: "task-tree",
					role: "tree" });
		const parents = [root];

		tasks.forEach((t, i) => {
			const kids = i + 1 < tasks.length &&
				tasks[i + 1].depth > t.depth;
			const list = kids ? el("ul", { role: "group",
				hidden: open ? null : true }) : null;
			const twisty = kids ? el("button", { type: "button",
				class: "twisty", "aria-expanded": String(open),
				"aria-label": "show or hide its subtasks",
				onclick: () => {
					const show = list.hidden;

					list.hidden = !show;
					twisty.setAttribute("aria-expanded",
							    String(show));
				} }) : el("span", { class: "twisty leaf" });
			const li = el("li", { role: "treeitem", "data-task": t.id },
				el("div", { class: "task-row" }, twisty,
				   el("div", { class: "task-body" },
				      taskLine(t, zombieAt.has(i)),
				      taskDetails(t, ids))),
				list);
			const depth = Math.min(t.depth, parents.length - 1);

			parents[depth].append(li);
			parents.length = depth + 1;
			if (list)
				parents.push(list);
		});

		const toggleAll = (show) => {
			for (const u of root.querySelectorAll("ul"))
				u.hidden = !show;
			for (const b of root.querySelectorAll("button.twisty"))
				b.setAttribute("aria-expanded", String(show));
		};

		return [el("div", { class: "toolbar" },
			   el("button", { type: "button", id: "tasks-expand",
				text: "Expand all", onclick: () => toggleAll(true) }),
			   el("button", { type: "button", id: "tasks-collapse",
				text: "Collapse all",
				onclick: () => toggleAll(false) }),
			   el("span", { class: "match-info", text:
				MS.plural(tasks.length, "task", "tasks") + ": " +
				["running", "idle", "completed"].map((s) =>
					MS.fmtInt(tasks.filter((t) =>
						t.state === s).length) + " " + s)
				.join(", ") })),
			root];
	}

	// --- zombies ---------------------------------------------------------

	function zombieItem(z, tasks) {
		const t = tasks[z.task_index];
		const what = z.rule === "completed-with-live-blocks" ?
			"completed " + at(z.since_ns) + "; " +
			bytesIn(z.bytes, z.count) + " it held then are still " +
			"live " + MS.fmtDur(z.quiet_ns) + " later" :
			"never completed, idle since " + MS.fmtSec(z.since_ns) +
			" (" + MS.fmtDur(z.quiet_ns) + ") holding " +
			bytesIn(z.bytes, z.count);

		return el("li", { "data-task": z.task },
			el("p", null, el("strong", { text: taskName(t) ||
				"task " + MS.fmtInt(z.task) }), ": " + what),
			el("p", null, inferred(z)),
			z.top ? more("Where most of them were allocated (" +
				bytesIn(z.top.bytes, z.top.count) + ")",
				MS.stackList(z.top)) : null);
	}

	// --- passports -------------------------------------------------------

	function opWords(h) {
		switch (h.op) {
		case "handover":
			return "handed over to " + h.side;
		case "free":
			return "freed by " + h.side;
		case "reclaim":
			return "reclaimed";
		case "create":
			return "created";
		default:
			return h.op + (h.side ? " (" + h.side + ")" : "");
		}
	}

	function custodyWords(p) {
		if (p.freed)
			return "freed by " + p.freed_by;
		return p.custody === "host" ? "held by the host" :
			"in " + p.custody + "'s custody";
	}

	function historyItem(h, ids) {
		return el("li", null,
			el("span", { class: "when", text: at(h.ns) }),
			el("span", { text: opWords(h) }),
			el("span", { class: "who", text: "thread " +
				     h.tid + ", " + whoTask(ids, h.task) }),
			h.at ? el("span", { class: "where", text:
				MS.frameName(h.at) + " " + MS.frameWhere(h.at) }) :
				null);
	}

	function passportRow(p, ids) {
		const hist = p.history.map(opWords);

		if (p.history_dropped)
			hist.push(MS.fmtInt(p.history_dropped) + " more");
		const row = el("tr", { "data-passport": p.ptr },
			el("td", { class: "pname", text: p.name !== null ?
				   p.name : "(no name)" }),
			el("td", { class: "addr", text: p.ptr +
				   (p.generation ? " (reused, #" +
				    MS.fmtInt(p.generation + 1) + ")" : "") }),
			el("td", { class: "num", text: MS.fmtBytes(p.size) }),
			el("td", { class: p.freed ? "" : "held",
				   text: custodyWords(p) }),
			el("td", { class: "ops", text: hist.join(" \u2192 ") }),
			el("td", { class: p.violations ? "bad num" : "num",
				   text: p.violations ?
					MS.fmtInt(p.violations) : "none" }));
		const history = more("History (" + MS.plural(p.events,
			"operation", "operations") + ")",
			el("ol", { class: "history" },
			   p.history.map((h) => historyItem(h, ids))));

		return [row, el("tr", { class: "detail" },
			el("td", { colspan: 6 }, history))];
	}

	function passports(list, ids) {
		return el("div", { class: "table-wrap" },
			el("table", { class: "declared-table", id: "passports-table" },
			   el("thead", null, el("tr", null,
				["Name", "Address", "Size", "At the end",
				 "Operations", "Violations"].map((h) =>
					el("th", { text: h })))),
			   el("tbody", null, list.slice(0, MAX_ROWS)
				.map((p) => passportRow(p, ids)))),
			list.length > MAX_ROWS ? el("p", { class: "note", text:
				"First " + MS.fmtInt(MAX_ROWS) + " of " +
				MS.fmtInt(list.length) + " shown; the JSON " +
				"inside this file holds all." }) : null);
	}

	function violationItem(v, passportsList, ids) {
		const p = v.passport !== null ? passportsList[v.passport] : null;
		const what = p ? "\u201c" + (p.name !== null ? p.name :
			"(no name)") + "\u201d " + v.ptr + " (" +
			MS.fmtBytes(p.size) + ")" : v.ptr + ":";
		let how;

		switch (v.kind) {
		case "never_freed_in_foreign_custody":
			how = "handed over to " + v.side + " and never " +
				"reclaimed or freed";
			break;
		case "freed_by_wrong_side":
			how = "freed by " + v.side + " while " + v.custody +
				" held it";
			break;
		case "handover_after_free":
			how = "handed over to " + v.side + " after it was freed";
			break;
		case "double_handover":
			how = "handed over to " + v.side + " while " +
				v.custody + " held it";
			break;
		default:
			how = "a " + v.op + ", and no live passport has that " +
				"address";
		}
		return el("li", { "data-kind": v.kind },
			el("p", null, el("strong", { text: (VIOLATIONS[v.kind] ||
				v.kind) + ": " }), what + " " + how + ", " +
				at(v.ns) + ", thread " + v.tid + ", " +
				whoTask(ids, v.task)),
			more("Stack of that operation", MS.stackList(v)));
	}

	// --- shared handles and storms ---------------------------------------

	function handleName(s) {
		return (s.name !== null ? s.name : "(no name)") +
			(s.type !== null ? " (" + s.type + ")" : "");
	}

	function sharedItem(s) {
		const b = s.block;

		return el("li", { "data-ptr": s.ptr },
			el("p", null, el("strong", { text: handleName(s) }),
			   " " + s.ptr + ": " + MS.plural(s.handles, "handle",
				"handles") + " at the end, at most " +
			   MS.fmtInt(s.max_handles) + "; " +
			   MS.plural(s.shares, "share", "shares") +
			   " from " + MS.fmtSec(s.first_ns)),
			b ? more("Its block: " + MS.fmtBytes(b.size) + ", " +
				 (b.freed ? "freed" : "still live") +
				 "; where it was allocated", MS.stackList(b)) :
				el("p", { class: "note", text:
					"No live block was at that address." }));
	}

	function stormItem(s, shared, rules) {
		const h = shared[s.shared];

		return el("li", { "data-ptr": s.ptr },
			el("p", null, el("strong", { text: h ? handleName(h) :
				s.ptr }), ": " + MS.plural(s.clones, "share",
				"shares") + " within " +
			   MS.fmtDur(s.end_ns - s.start_ns) + " from " +
			   MS.fmtSec(s.start_ns) + " (a storm is more than " +
			   MS.fmtInt(rules.storm_clones) + " in " +
			   MS.fmtDur(rules.storm_window_ns) + ")"),
			el("p", null, inferred(s)),
			more("Where most of them were made", MS.stackList(s)));
	}

	function trackedRow(v) {
		return el("tr", null,
			el("td", { class: "pname", text: v.name }),
			el("td", { text: v.type !== null ? v.type : "\u2014" }),
			el("td", { text: v.kind !== null ? KINDS[v.kind] || v.kind :
				   "\u2014" }),
			el("td", { class: "num", text: MS.fmtBytes(v.size) }),
			el("td", { text: at(v.declared_ns) }),
			el("td", { text: v.block ? "block #" +
				   MS.fmtInt(v.block.seq) + ", " +
				   MS.fmtBytes(v.block.size) :
				   "not a heap block (" + v.ptr + ")" }));
	}

	function tracked(list) {
		return el("div", { class: "table-wrap" },
			el("table", { class: "declared-table", id: "tracked-table" },
			   el("thead", null, el("tr", null,
				["Name", "Type", "Kind", "Size", "Declared",
				 "Block"].map((h) => el("th", { text: h })))),
			   el("tbody", null,
			      list.slice(0, MAX_ROWS).map(trackedRow))));
	}

	// --- any other array: generic ----------------------------------------

	function scalar(v) {
		if (v === null)
			return el("span", { class: "null", text: "\u2014" });
		return typeof v === "number" ? MS.fmtInt(v) : String(v);
	}

	function value(v, depth) {
		if (v === null || typeof v !== "object")
			return scalar(v);
		if (depth >= MAX_DEPTH)
			return el("code", { text: JSON.stringify(v) });
		if (Array.isArray(v)) {
			if (!v.length)
				return el("span", { class: "null", text: "none" });
			return el("ol", { class: "plain" }, v.slice(0, MAX_ROWS)
				.map((x) => el("li", null, value(x, depth + 1))));
		}
		return el("dl", { class: "facts" }, Object.entries(v).map(
			([k, x]) => [el("dt", { text: k }),
				     el("dd", null, value(x, depth + 1))]));
	}

	function section(key, title, note, body) {
		const sec = MS.section(key, title, note);

		sec.classList.add("declared");
		MS.append(sec, body);
		return sec;
	}

	function none() {
		return el("p", { class: "empty", text: "None in this trace." });
	}

	MS.renderExtras = function (r) {
		const d = r.declared || {};

		/* A program that declared nothing gets no declared sections. */
		if (!d.stats || !d.stats.records)
			return [];

		const tasks = d.tasks || [];
		const zombies = d.zombies || [];
		const pp = d.passports || [];
		const shared = d.shared || [];
		const ids = taskIndex(tasks);
		const out = [];
		const list = (cls, id, items) => items.length ?
			el("ol", { class: "anomalies " + cls, id: id }, items) :
			none();

		if ("tasks" in d)
			out.push(section("tasks", "Task tree",
				"Tasks as the program declared them, each under " +
				"the task that created it; bytes are captured. " +
				"Times count from the start of tracing.",
				tasks.length ? taskTree(tasks, zombies) : none()));
		if ("zombies" in d)
			out.push(section("zombies",
				"Zombie task candidates (inferred)",
				"Tasks that completed with blocks still live " +
				"long after, or went idle without completing.",
				list("", "zombies-list", zombies.map((z) =>
					zombieItem(z, tasks)))));
		if ("passports" in d)
			out.push(section("passports", "Passports",
				"Buffers the program handed across a foreign " +
				"boundary, and who held them. Click History " +
				"for each operation.",
				pp.length ? passports(pp, ids) : none()));
		if ("violations" in d)
			out.push(section("violations", "Passport violations",
				"Declared operations that broke the passport " +
				"rules: checked exactly, not guessed.",
				list("", "violations-list", (d.violations || [])
					.map((v) => violationItem(v, pp, ids)))));
		if ("shared" in d)
			out.push(section("shared", "Shared handles",
				"Blocks that reference-counted handles point at.",
				list("", "shared-list",
				     shared.map(sharedItem))));
		if ("storms" in d)
			out.push(section("storms", "Clone storms (inferred)",
				"Many shares of one block in a short time.",
				list("", "storms-list", (d.storms || []).map((s) =>
					stormItem(s, shared, d.rules)))));
		if ("tracked" in d)
			out.push(section("tracked", "Declared variables",
				"Variables still declared at the end.",
				(d.tracked || []).length ? tracked(d.tracked) :
					none()));
		for (const k of Object.keys(d)) {
			if (!KNOWN.includes(k) && Array.isArray(d[k]))
				out.push(section(k, k, null, d[k].length ?
					value(d[k], 0) : none()));
		}
		return out;
	};
})();
