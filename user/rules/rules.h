/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The inference rules' table: every rule the reports run, in order.
 *
 * To add a rule: write user/rules/rule_NAME.c defining
 * `const struct rule rule_NAME` (rule.h: its options, infer function and
 * text and JSON records; the dashboard draws its JSON array as it is),
 * add X(NAME) to RULES below and, if other code looks into its records,
 * their type here. A rule with options changes a recording's header:
 * raise RECORDING_RULE_OPTS and RECORDING_VERSION (user/store/recording.h).
 */
#ifndef MEMSCOPE_RULES_H
#define MEMSCOPE_RULES_H

#include <stddef.h>
#include <linux/types.h>
#include "rule.h"

#define RULES(X)							\
	X(zombie_tasks)							\
	X(clone_storms)

#define RULES_DECLARE(name)	extern const struct rule rule_##name;
RULES(RULES_DECLARE)
#undef RULES_DECLARE

/* The rules, in order; *nr of them. */
const struct rule *const *rules__table(size_t *nr);

/* The names inferred records carry. */
#define RULE_COMPLETED_LIVE	"completed-with-live-blocks"
#define RULE_NEVER_COMPLETED	"never-completed-idle"
#define RULE_CLONE_STORM	"clone-storm"

/* zombie_tasks: a task that may be a zombie. */
struct rule_zombie {
	struct rule_finding f;	/* stack: where most of its bytes are from */
	size_t task;		/* index in report.tasks */
	__u64 since_ns;		/* completion, or last activity */
	__u64 quiet_ns;		/* from since_ns to the end */
	/*
	 * Its blocks live at the end; for a completed task, those already
	 * live when it completed.
	 */
	__u64 count;
	__u64 bytes;
	/* of those, from the stack in f */
	__u64 top_count;
	__u64 top_bytes;
};

/* clone_storms: more than N shares of one block within a window. */
struct rule_storm {
	struct rule_finding f;	/* where most of its shares were made */
	size_t shared;		/* index in report.shared */
	__u64 clones;		/* shares in the densest window */
	__u64 start_ns;		/* its first and last share */
	__u64 end_ns;
};

#endif /* MEMSCOPE_RULES_H */
