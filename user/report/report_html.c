/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The HTML dashboard: the page from viz/ (embedded at build time by
 * scripts/embed-viz.py) with the JSON report inside it, one file that opens
 * offline. The report sits in a <script type="application/json"> element;
 * the JSON writer escapes <, > and & in every string, so nothing from the
 * traced program can end that element or become markup. It is written
 * compact: the page parses it, no one reads it there.
 */
#include <errno.h>
#include "outfile.h"
#include "report.h"
#include "report_json.h"
#include "viz_embed.h"

int report__write_html(const struct report *r, const char *path)
{
	struct outfile *o;
	FILE *f;
	int err;

	o = outfile__new(path);
	if (!o)
		return -errno;
	f = outfile__stream(o);
	/* Write errors stick to the stream: the JSON writer's flush sees them. */
	fwrite(viz_page_head, 1, viz_page_head_len, f);
	err = report__json_stream(r, f, false);
	if (err)
		goto err_abort;
	fwrite(viz_page_tail, 1, viz_page_tail_len, f);
	return outfile__commit(o);

err_abort:
	return outfile__abort(o, err);
}
