/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The inference rules' table (user/rules/rules.h) as the rest of the tool
 * relies on it: every option has a unique name, a default it would accept
 * from the command line and its line in --help; a recording's header holds
 * exactly the options the table has; each rule has its sections.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "recording.h"
#include "rules.h"

Test(rules, table_is_well_formed)
{
	const struct rule *const *rules;
	const struct rule_option *o, *p;
	size_t nr, i, k, total = 0, m, n;
	char want[64];

	rules = rules__table(&nr);
	cr_assert_gt(nr, 0, "no rules");
	for (i = 0; i < nr; i++) {
		cr_assert(rules[i]->key && rules[i]->title && rules[i]->infer &&
			  rules[i]->text && rules[i]->json,
			  "rule %zu lacks a key, title or function", i);
		cr_expect_geq(rules[i]->size, sizeof(struct rule_finding),
			      "%s: records begin with struct rule_finding",
			      rules[i]->key);
		cr_expect_leq(rules[i]->nr_opts, RULE_OPTS_MAX, "%s: options",
			      rules[i]->key);
		for (k = 0; k < i; k++)
			cr_expect_str_neq(rules[i]->key, rules[k]->key,
					  "two rules write one JSON member");
		for (k = 0; k < rules[i]->nr_opts; k++) {
			o = &rules[i]->opts[k];
			total++;
			cr_expect_gt(o->def, 0, "--%s: 0 means not given",
				     o->name);
			if (o->type == RULE_OPT_COUNT)
				cr_expect_leq(o->def, o->max,
					      "--%s: default past its max",
					      o->name);
			snprintf(want, sizeof(want), "      --%s ", o->name);
			cr_expect(!strncmp(o->help, want, strlen(want)),
				  "--%s: help begins '%s', got '%s'", o->name,
				  want, o->help);
			cr_expect(o->json && *o->json, "--%s: JSON key",
				  o->name);
			/* unique among every rule's options so far */
			for (m = 0; m <= i; m++) {
				for (n = 0; n < rules[m]->nr_opts; n++) {
					p = &rules[m]->opts[n];
					if (p == o)
						break;
					cr_expect_str_neq(p->name, o->name,
							  "option twice");
					cr_expect_str_neq(p->json, o->json,
							  "JSON key twice");
				}
			}
		}
	}
	cr_expect_eq(total, RECORDING_RULE_OPTS,
		     "the rules have %zu options, a recording's header %d: "
		     "raise RECORDING_RULE_OPTS and RECORDING_VERSION",
		     total, RECORDING_RULE_OPTS);
}
