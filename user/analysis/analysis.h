/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Analysis of what the program declared: the task tree, passports with
 * their violations (including the one only the end of the trace shows),
 * shared blocks. The inference rules (rule.h) start from it.
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
	__u64 end_ns;		/* the end of the trace it looked from */
	struct report_task *tasks;	/* tree pre-order */
	size_t nr_tasks;
	size_t *task_pos;	/* declared task i is tasks[task_pos[i]] */
	struct declared_track *tracked;
	size_t nr_tracked;
	struct report_passport *passports;	/* history unset: p.history */
	size_t nr_passports;
	struct report_violation *violations;	/* frames unset */
	size_t nr_violations;
	struct report_shared *shared;	/* frames unset: s.stack_id */
	size_t nr_shared;
};

/*
 * end_ns: the end of the trace, 0 for the last record the store applied.
 * NULL with errno set on failure.
 */
struct analysis *analysis__new(const struct store *st, __u64 end_ns);
void analysis__free(struct analysis *a);

#endif /* MEMSCOPE_ANALYSIS_H */
