/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#include "rules.h"

#define RULES_ROW(name)		&rule_##name,
static const struct rule *const rules[] = {
	RULES(RULES_ROW)
};
#undef RULES_ROW

const struct rule *const *rules__table(size_t *nr)
{
	*nr = sizeof(rules) / sizeof(rules[0]);
	return rules;
}
