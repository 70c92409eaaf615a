// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The heap scan in the JSON report (docs/report-schema.md): each leak's
 * and each site's blocks live at the end by class, and the top-level "reachability", "cycles" and
 * "graph". Present only after a scan; every figure but the pause is
 * inferred, with its rule and confidence.
 */
#include "json.h"
#include "report_json.h"

/* The scan's rule: a conservative scan, memcheck's definitions. */
#define REACH_RULE	"conservative_scan"

static void write_classes(struct json *j, const struct report_count *c)
{
	unsigned i;

	for (i = 0; i < HEAPSCAN_CLASS__COUNT; i++) {
		json_key(j, heapscan_class_name(i));
		json_obj_begin(j);
		json_kv_u64(j, "count", c[i].count);
		json_kv_u64(j, "bytes", c[i].bytes);
		json_obj_end(j);
	}
}

void report_json_site_reach(struct json *j, const struct report *r,
			    const struct report_site *s)
{
	/* Over several images, a site was scanned with its own image. */
	if (r->nr_procs > 1)
		r = r->procs[s->proc].r;
	if (!r->reach.scanned)
		return;
	json_key(j, "reachability");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", REACH_RULE);
	write_classes(j, s->reach);
	json_obj_end(j);
}

static void write_summary(struct json *j, const struct report *r)
{
	const struct report_reach *rr = &r->reach;
	const struct heapscan_stats *st = &rr->stats;
	struct report_count c[HEAPSCAN_CLASS__COUNT];
	unsigned i;

	json_key(j, "reachability");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", REACH_RULE);
	json_key(j, "confidence");
	json_obj_begin(j);
	for (i = 0; i < HEAPSCAN_CLASS__COUNT; i++) {
		json_key(j, heapscan_class_name(i));
		json_double(j, heapscan_class_confidence(i));
	}
	json_obj_end(j);
	json_key(j, "pause");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "ns", rr->pause.pause_ns);
	json_kv_u64(j, "threads", rr->pause.threads);
	json_kv_u64(j, "threads_missed", rr->pause.missed);
	json_kv_u64(j, "stack_bytes", rr->pause.stack_bytes);
	json_obj_end(j);
	json_kv_u64(j, "scan_ns", st->scan_ns);
	json_kv_u64(j, "blocks", st->blocks);
	json_kv_u64(j, "bytes", st->bytes);
	json_kv_u64(j, "unreadable_blocks", st->unreadable);
	json_kv_u64(j, "unscanned_blocks", rr->unscanned);
	json_kv_u64(j, "root_bytes", st->root_bytes);
	json_kv_u64(j, "root_segments", st->root_ranges);
	json_kv_u64(j, "arena_segments", st->arena_ranges);
	json_kv_u64(j, "unreadable_segments", st->unreadable_ranges);
	for (i = 0; i < HEAPSCAN_CLASS__COUNT; i++)
		c[i] = (struct report_count){ st->count[i], st->class_bytes[i] };
	write_classes(j, c);
	json_obj_end(j);
}

static void write_cycles(struct json *j, const struct report *r)
{
	const struct report_reach *rr = &r->reach;
	size_t i;
	__u32 k;

	json_key(j, "cycles");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", "owner_pointer_cycle");
	json_key(j, "confidence");
	json_double(j, heapscan_edge_confidence(HEAPSCAN_OWNER));
	json_kv_u64(j, "cycles", rr->stats.cycles);
	json_kv_u64(j, "groups", rr->cycles_total);
	json_key(j, "list");
	json_arr_begin(j);
	for (i = 0; i < rr->nr_cycles; i++) {
		const struct report_cycle *c = &rr->cycles[i];

		json_obj_begin(j);
		json_kv_u64(j, "instances", c->instances);
		json_kv_u64(j, "blocks", c->blocks);
		json_kv_u64(j, "bytes", c->bytes);
		json_key(j, "members");
		json_arr_begin(j);
		for (k = 0; k < c->nr_members; k++) {
			json_obj_begin(j);
			json_kv_u64(j, "count", c->members[k].count);
			json_kv_u64(j, "bytes", c->members[k].bytes);
			report_json_frames(j, c->members[k].frames,
					   c->members[k].nr_frames);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void write_graph(struct json *j, const struct report *r)
{
	const struct report_reach *rr = &r->reach;
	size_t i;

	json_key(j, "graph");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_u64(j, "pointers", rr->stats.edges);
	json_kv_u64(j, "links_total", rr->links_total);
	json_key(j, "links");
	json_arr_begin(j);
	for (i = 0; i < rr->nr_links; i++) {
		const struct report_link *l = &rr->links[i];

		json_obj_begin(j);
		json_kv_str(j, "kind", heapscan_edge_name(l->kind));
		json_kv_str(j, "rule", heapscan_edge_rule(l->kind));
		json_key(j, "confidence");
		json_double(j, heapscan_edge_confidence(l->kind));
		json_kv_u64(j, "count", l->count);
		json_key(j, "from");
		json_obj_begin(j);
		report_json_frames(j, l->from, l->nr_from);
		json_obj_end(j);
		json_key(j, "to");
		json_obj_begin(j);
		report_json_frames(j, l->to, l->nr_to);
		json_obj_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "clones");
	json_obj_begin(j);
	json_kv_str(j, "rule", heapscan_clone_rule);
	json_key(j, "confidence");
	json_double(j, heapscan_clone_confidence);
	json_kv_u64(j, "window_ms", rr->stats.clone_window_ns / 1000000);
	json_kv_u64(j, "blocks", rr->stats.clones);
	json_kv_u64(j, "groups", rr->clones_total);
	json_key(j, "list");
	json_arr_begin(j);
	for (i = 0; i < rr->nr_clones; i++) {
		json_obj_begin(j);
		json_kv_u64(j, "count", rr->clones[i].count);
		json_kv_u64(j, "size", rr->clones[i].size);
		report_json_frames(j, rr->clones[i].frames,
				   rr->clones[i].nr_frames);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

void report_json_reach(struct json *j, const struct report *r)
{
	if (!r->reach.scanned)
		return;
	write_summary(j, r);
	write_cycles(j, r);
	write_graph(j, r);
}
