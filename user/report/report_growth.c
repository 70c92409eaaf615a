/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Snapshots as text and as JSON lines (report_growth.h). Every figure is
 * captured: live bytes and blocks of the store at the snapshot, and their
 * change since the previous one.
 */
#include <errno.h>
#include "frame_table.h"
#include "json.h"
#include "outfile.h"
#include "report_growth.h"
#include "report_json.h"
#include "report_text.h"

static __u64 since(__u64 ts, __u64 start_ns)
{
	return ts > start_ns ? ts - start_ns : 0;
}

/* "+1.5 KiB" or "-512 bytes": a change, signed. */
static void put_change(FILE *f, long long d)
{
	char buf[64];

	fprintf(f, "%c%s", d < 0 ? '-' : '+',
		report_text_bytes(buf, sizeof(buf),
				  d < 0 ? -(__u64)d : (__u64)d));
}

static void put_rows(FILE *f, const char *title, const struct growth_row *rows,
		     size_t nr, frame_resolve_fn resolve, void *ctx)
{
	char buf[64];
	size_t i;

	fprintf(f, "  %s:%s\n", title, nr ? "" : " none");
	for (i = 0; i < nr; i++) {
		fputs("    ", f);
		put_change(f, rows[i].d_bytes);
		fprintf(f, ", %+lld block%s; now %s in %llu block%s; at ",
			rows[i].d_blocks,
			report_text_plural(rows[i].d_blocks < 0 ?
					   -rows[i].d_blocks : rows[i].d_blocks),
			report_text_bytes(buf, sizeof(buf), rows[i].live_bytes),
			(unsigned long long)rows[i].live_blocks,
			report_text_plural(rows[i].live_blocks));
		report_text_site_addrs(f, rows[i].frames, rows[i].nr_frames,
				       SNAPSHOT_TEXT_FRAMES, resolve, ctx);
		fputc('\n', f);
	}
}

void report_snapshot_text(FILE *f, const struct growth_view *v,
			  __u64 start_ns, frame_resolve_fn resolve, void *ctx)
{
	char at[32], prev[32], live[64];

	fprintf(f, "\nSnapshot %u at %s", v->index,
		report_text_secs(at, sizeof(at), since(v->ts_ns, start_ns)));
	/* Of several images, each has its own snapshot: name its own. */
	if (v->named)
		fprintf(f, ", process %u (image %u)", v->pid, v->proc);
	fprintf(f, ": live %s in %llu block%s, ",
		report_text_bytes(live, sizeof(live), v->live_bytes),
		(unsigned long long)v->live_blocks,
		report_text_plural(v->live_blocks));
	put_change(f, v->d_bytes);
	fprintf(f, ", %+lld block%s since %s; lost events %llu, dropped %llu\n",
		v->d_blocks,
		report_text_plural(v->d_blocks < 0 ? -v->d_blocks : v->d_blocks),
		v->prev_ts_ns ?
		report_text_secs(prev, sizeof(prev),
				 since(v->prev_ts_ns, start_ns)) :
		"the start",
		(unsigned long long)v->lost_events,
		(unsigned long long)v->consumer_drops);
	put_rows(f, "grew most since the previous snapshot", v->since_prev,
		 v->nr_since_prev, resolve, ctx);
	put_rows(f, "most live since the start", v->since_start,
		 v->nr_since_start, resolve, ctx);
}

static void json_row(struct json *j, const struct growth_row *row,
		     frame_resolve_fn resolve, void *ctx)
{
	const struct frame *fr;
	struct frame one;
	unsigned n, i;
	__u32 k;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "live_bytes", row->live_bytes);
	json_kv_u64(j, "live_blocks", row->live_blocks);
	json_key(j, "change_bytes");
	json_s64(j, row->d_bytes);
	json_key(j, "change_blocks");
	json_s64(j, row->d_blocks);
	json_key(j, "frames");
	json_arr_begin(j);
	for (k = 0; k < row->nr_frames; k++) {
		one = (struct frame){ .addr = row->frames[k] };
		fr = &one;
		n = resolve ? resolve(ctx, row->frames[k], &fr) : 1;
		if (!n) {
			fr = &one;
			n = 1;
		}
		for (i = 0; i < n; i++)
			report_json_frame(j, &fr[i]);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_rows(struct json *j, const char *key,
		      const struct growth_row *rows, size_t nr,
		      frame_resolve_fn resolve, void *ctx)
{
	size_t i;

	json_key(j, key);
	json_arr_begin(j);
	for (i = 0; i < nr; i++)
		json_row(j, &rows[i], resolve, ctx);
	json_arr_end(j);
}

int report_snapshot_json(FILE *f, const struct growth_view *v,
			 __u64 start_ns, frame_resolve_fn resolve, void *ctx)
{
	struct json *j = json__new(f, false);

	if (!j)
		return -ENOMEM;
	json_obj_begin(j);
	json_kv_u64(j, "snapshot", v->index);
	json_kv_u64(j, "at_ns", since(v->ts_ns, start_ns));
	json_kv_u64(j, "previous_at_ns",
		    v->prev_ts_ns ? since(v->prev_ts_ns, start_ns) : 0);
	json_kv_u64(j, "live_bytes", v->live_bytes);
	json_kv_u64(j, "live_blocks", v->live_blocks);
	json_key(j, "change_bytes");
	json_s64(j, v->d_bytes);
	json_key(j, "change_blocks");
	json_s64(j, v->d_blocks);
	json_kv_u64(j, "lost_events", v->lost_events);
	json_kv_u64(j, "consumer_drops", v->consumer_drops);
	json_rows(j, "grew_since_previous", v->since_prev, v->nr_since_prev,
		  resolve, ctx);
	json_rows(j, "live_since_start", v->since_start, v->nr_since_start,
		  resolve, ctx);
	if (v->named) {
		json_kv_u64(j, "proc", v->proc);
		json_kv_u64(j, "pid", v->pid);
	}
	json_obj_end(j);
	if (json__free(j))
		return -EIO;
	return fputc('\n', f) == EOF ? -EIO : 0;
}

void report_diff_text(FILE *f, const struct diff *d, const char *from,
		      const char *to, size_t top)
{
	char a[64], b[64];
	size_t i, grew = 0;
	__u32 k;

	fprintf(f, "Growth from %s to %s: live %s in %llu block%s, then %s in %llu block%s\n",
		from, to, report_text_bytes(a, sizeof(a), d->from_bytes),
		(unsigned long long)d->from_blocks,
		report_text_plural(d->from_blocks),
		report_text_bytes(b, sizeof(b), d->to_bytes),
		(unsigned long long)d->to_blocks,
		report_text_plural(d->to_blocks));
	while (grew < d->nr && d->rows[grew].d_bytes > 0)
		grew++;
	fprintf(f, "\nSites that grew (captured), by bytes%s\n",
		grew ? "" : ": none");
	for (i = 0; i < grew && (!top || i < top); i++) {
		fprintf(f, "  #%zu  ", i + 1);
		put_change(f, d->rows[i].d_bytes);
		fprintf(f, ", %+lld block%s: %s in %llu, then %s in %llu\n",
			d->rows[i].d_blocks,
			report_text_plural(d->rows[i].d_blocks < 0 ?
					   -d->rows[i].d_blocks :
					   d->rows[i].d_blocks),
			report_text_bytes(a, sizeof(a), d->rows[i].from_bytes),
			(unsigned long long)d->rows[i].from_blocks,
			report_text_bytes(b, sizeof(b), d->rows[i].to_bytes),
			(unsigned long long)d->rows[i].to_blocks);
		if (!d->rows[i].nr_frames)
			fputs(REPORT_TEXT_INDENT "(no stack captured)\n", f);
		for (k = 0; k < d->rows[i].nr_frames &&
			    k < SNAPSHOT_TEXT_FRAMES * 2; k++) {
			fputs(REPORT_TEXT_INDENT, f);
			report_text_frame_short(f, &d->rows[i].frames[k]);
			fputc('\n', f);
		}
	}
	if (top && grew > top)
		fprintf(f, "  ... %zu more (-t 0 shows all)\n", grew - top);
}

static void json_diff(struct json *j, const struct diff *d, const char *from,
		      const char *to)
{
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_str(j, "from", from);
	json_kv_str(j, "to", to);
	json_kv_u64(j, "from_live_bytes", d->from_bytes);
	json_kv_u64(j, "from_live_blocks", d->from_blocks);
	json_kv_u64(j, "to_live_bytes", d->to_bytes);
	json_kv_u64(j, "to_live_blocks", d->to_blocks);
	json_key(j, "sites");
	json_arr_begin(j);
	for (i = 0; i < d->nr; i++) {
		json_obj_begin(j);
		json_key(j, "change_bytes");
		json_s64(j, d->rows[i].d_bytes);
		json_key(j, "change_blocks");
		json_s64(j, d->rows[i].d_blocks);
		json_kv_u64(j, "from_live_bytes", d->rows[i].from_bytes);
		json_kv_u64(j, "from_live_blocks", d->rows[i].from_blocks);
		json_kv_u64(j, "to_live_bytes", d->rows[i].to_bytes);
		json_kv_u64(j, "to_live_blocks", d->rows[i].to_blocks);
		report_json_frames(j, d->rows[i].frames, d->rows[i].nr_frames);
		json_obj_end(j);
	}
	json_arr_end(j);
	report_json_frame_table(j, json__user(j));
	json_obj_end(j);
}

int report_diff_json(const char *path, const struct diff *d,
		     const char *from, const char *to)
{
	struct outfile *o = outfile__new(path);
	struct frame_table *ft;
	struct json *j;
	int err;

	if (!o)
		return -errno;
	ft = frame_table__new();
	j = ft ? json__new(outfile__stream(o), true) : NULL;
	if (!j) {
		frame_table__free(ft);
		return outfile__abort(o, -ENOMEM);
	}
	/* The frames as numbers in a table, as in the report. */
	json__set_user(j, ft);
	json_diff(j, d, from, to);
	err = json__free(j);
	frame_table__free(ft);
	if (err)
		return outfile__abort(o, err);
	return outfile__commit(o);
}

/* Text from the traced program or the command line, as HTML text. */
static void put_html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/*
 * One static page: a table of every site, no script, so nothing from a
 * symbol can run however it is spelled.
 */
int report_diff_html(const char *path, const struct diff *d,
		     const char *from, const char *to)
{
	struct outfile *o = outfile__new(path);
	const struct frame *fr;
	size_t i;
	FILE *f;

	if (!o)
		return -errno;
	f = outfile__stream(o);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
	      "<title>memscope-bpf: growth</title><style>"
	      "body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;"
	      "text-align:right;vertical-align:top}td.s{text-align:left;"
	      "font-family:monospace}tr:nth-child(even){background:#f4f4f4}"
	      "</style></head><body>\n<h1>Growth from ", f);
	put_html(f, from);
	fputs(" to ", f);
	put_html(f, to);
	fprintf(f, "</h1>\n<p>Live %llu bytes in %llu blocks, then %llu bytes in %llu blocks (captured). Sites by the bytes they grew.</p>\n"
		"<table><tr><th>change bytes</th><th>change blocks</th><th>bytes before</th><th>bytes after</th><th>blocks after</th><th class=\"s\">call stack</th></tr>\n",
		(unsigned long long)d->from_bytes,
		(unsigned long long)d->from_blocks,
		(unsigned long long)d->to_bytes,
		(unsigned long long)d->to_blocks);
	for (i = 0; i < d->nr; i++) {
		fprintf(f, "<tr><td>%+lld</td><td>%+lld</td><td>%llu</td><td>%llu</td><td>%llu</td><td class=\"s\">",
			d->rows[i].d_bytes, d->rows[i].d_blocks,
			(unsigned long long)d->rows[i].from_bytes,
			(unsigned long long)d->rows[i].to_bytes,
			(unsigned long long)d->rows[i].to_blocks);
		for (fr = d->rows[i].frames;
		     fr < d->rows[i].frames + d->rows[i].nr_frames; fr++) {
			if (fr->function)
				put_html(f, fr->function);
			else
				fprintf(f, "0x%llx", (unsigned long long)fr->addr);
			if (fr->file) {
				fputs(" (", f);
				put_html(f, fr->file);
				fprintf(f, ":%d)", fr->line);
			}
			fputs("<br>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n</body></html>\n", f);
	return outfile__commit(o);
}
