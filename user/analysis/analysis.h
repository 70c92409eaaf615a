/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Analysis of what the program declared: the task tree and the zombie-task
 * candidates, passports with their violations (including the one only the
 * end of the trace shows), shared blocks and clone storms.
 *
 * Pure logic over the store's state; it keeps nothing between calls. It
 * produces model records (report.h) whose strings are the store's and
 * whose stacks are stack ids: report.c copies them into the report and
 * resolves the frames.
 */
#ifndef MEMSCOPE_ANALYSIS_H
#define MEMSCOPE_ANALYSIS_H

#include <stddef.h>
#include "report.h"
#include "store.h"

struct analysis {
	struct report_rules rules;	/* as applied, defaults filled in */
	struct report_task *tasks;	/* tree pre-order */
	size_t nr_tasks;
	struct report_zombie *zombies;	/* frames unset: see stack_id */
	size_t nr_zombies;
	struct declared_track *tracked;
	size_t nr_tracked;
	struct report_passport *passports;	/* history unset: p.history */
	size_t nr_passports;
	struct report_violation *violations;	/* frames unset */
	size_t nr_violations;
	struct report_shared *shared;	/* frames unset: s.stack_id */
	size_t nr_shared;
	struct report_storm *storms;
	size_t nr_storms;
};

/*
 * rules: 0 fields take the REPORT_* defaults; end_ns 0 is the last record
 * the store applied. NULL with errno set on failure.
 */
struct analysis *analysis__new(const struct store *st,
			       const struct report_rules *rules);
void analysis__free(struct analysis *a);

#endif /* MEMSCOPE_ANALYSIS_H */
