/*
 * What the interact*.html pages share (tests/html/run.py drives them in
 * chromium): the dashboard of ?report= in a frame, what a page saw in
 * `out`, written as JSON into #result when the page's steps end.
 */
"use strict";

const out = {};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
let doc;

function click(e) {
	e.dispatchEvent(new MouseEvent("click", { bubbles: true }));
}

// The report in a frame width x height px; doc is its document once drawn.
async function openReport(width, height) {
	const frame = document.createElement("iframe");

	frame.style.width = width + "px";
	frame.style.height = height + "px";
	frame.src = new URLSearchParams(location.search).get("report");
	document.body.append(frame);
	for (let i = 0; i < 100 && !(frame.contentDocument &&
	     frame.contentDocument.body &&
	     frame.contentDocument.body.dataset.rendered); i++)
		await sleep(50);
	doc = frame.contentDocument;
	out.rendered = doc.body.dataset.rendered;
}

// Runs a page's steps; out, with the error that stopped them, goes to #result.
function drive(run) {
	run().catch((e) => { out.error = String(e.stack || e); }).finally(() => {
		document.getElementById("result").textContent =
			JSON.stringify(out);
		document.title = "done";
	});
}
