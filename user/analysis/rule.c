/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#include <errno.h>
#include "analysis.h"
#include "rule.h"

int rule__infer(const struct rule *rule, const struct store *st,
		const struct analysis *a, const __u64 *given, __u64 *applied,
		void **items, size_t *nr)
{
	struct rule_input in = {
		.st = st,
		.a = a,
		.opts = applied,
		.end_ns = a->end_ns,
	};
	size_t i;

	*items = NULL;
	*nr = 0;
	if (rule->nr_opts > RULE_OPTS_MAX)
		return -EINVAL;
	for (i = 0; i < rule->nr_opts; i++)
		applied[i] = given && given[i] ? given[i] : rule->opts[i].def;
	return rule->infer(&in, items, nr);
}
