/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * An inference rule: one row of the rules' table (user/rules/rules.h).
 * A row says everything about the rule: its options with their defaults
 * and parsing, the function that infers its records from the store and
 * the declared-state analysis, and how each record is shown in the text
 * and JSON reports (the dashboard draws the JSON). report__build runs the
 * rules it is given and keeps what they found in the model; the
 * exporters place each rule's section after the declared section it is
 * about. Nothing else knows a rule by name.
 */
#ifndef MEMSCOPE_RULE_H
#define MEMSCOPE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "frame.h"

struct analysis;
struct json;
struct report;
struct store;

/* Options per rule, at most. */
#define RULE_OPTS_MAX		4

enum rule_opt_type {
	RULE_OPT_SECS,		/* seconds > 0 (fractions too), in ns */
	RULE_OPT_COUNT,		/* a count > 0, at most max */
};

struct rule_option {
	const char *name;	/* --NAME */
	const char *json;	/* its key in the JSON report's "rules" */
	enum rule_opt_type type;
	__u64 def;		/* when not given: 0 is never given */
	__u64 max;		/* RULE_OPT_COUNT: the largest accepted */
	const char *help;	/* its lines of --help */
};

/* Where a rule's sections go: after the declared section it is about. */
enum rule_place {
	RULE_AFTER_TASKS,
	RULE_AFTER_PASSPORTS,
	RULE_AFTER_SHARED,
};

/*
 * The head of every record a rule infers: which rule (a row may have
 * several), how sure, and the stack it names, which report__build
 * resolves into frames.
 */
struct rule_finding {
	const char *rule;	/* static: the rule as reports name it */
	double confidence;	/* 0..1 */
	bool has_stack;		/* stack_id is the store's, to resolve */
	__u32 stack_id;
	__u32 nr_frames;	/* resolved: in the report's arena */
	struct frame *frames;
};

/* What a rule infers from. */
struct rule_input {
	const struct store *st;
	const struct analysis *a;	/* tasks, passports, shared */
	const __u64 *opts;	/* the rule's options, as applied */
	__u64 end_ns;		/* the end of the trace, to look from */
};

struct rule {
	const char *key;	/* its JSON member in "declared" */
	const char *title;	/* its text section's title */
	enum rule_place place;
	const struct rule_option *opts;
	size_t nr_opts;		/* at most RULE_OPTS_MAX */
	size_t size;		/* of a record, which begins with the head */
	/* *items (malloc'd, nr records) in report order. 0 or -errno. */
	int (*infer)(const struct rule_input *in, void **items, size_t *nr);
	/* Record i in the text report, under the title; opts as applied. */
	void (*text)(FILE *f, const struct report *r, const __u64 *opts,
		     const void *item, size_t i);
	/* Record as one JSON object. */
	void (*json)(struct json *j, const struct report *r, const void *item);
};

/*
 * Runs rule on the store and its analysis. given: its options, 0 for the
 * default (NULL: all defaults); applied gets them as used. 0 or -errno.
 */
int rule__infer(const struct rule *rule, const struct store *st,
		const struct analysis *a, const __u64 *given, __u64 *applied,
		void **items, size_t *nr);

#endif /* MEMSCOPE_RULE_H */
