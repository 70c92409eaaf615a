// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The frames of forwarders that call: which leading frames of a record
 * the intake drops, given the probe plan and a resolver.
 */
#include <string.h>
#include <criterion/criterion.h>
#include <linux/types.h>
#include "events.h"
#include "forwarders.h"

/*
 * A fake process: 0x1000.. is operator new(size_t, nothrow_t) (a
 * calling forwarder of new), 0x2000.. is its caller, with a call of
 * another function inlined at 0x2100, 0x3000.. is reallocarray (a
 * jumping forwarder), 0x4000 is nowhere known, 0x5100.. is operator
 * new (a layer, probed at its entry only: malloc's return takes its
 * blocks, its frame first).
 */
static unsigned fake_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr[2];
	unsigned *calls = ctx;

	(*calls)++;
	memset(fr, 0, sizeof(fr));
	fr[0].addr = fr[1].addr = addr;
	*out = fr;
	if (addr >= 0x1000 && addr < 0x1100) {
		fr[0].function = "operator new(unsigned long, std::nothrow_t const&)";
		fr[0].mangled = "_ZnwmRKSt9nothrow_t";
		return 1;
	}
	if (addr >= 0x2100 && addr < 0x2200) {
		fr[0].function = "inlined_helper";
		fr[0].inlined = true;
		fr[1].function = "user_function";
		return 2;
	}
	if (addr >= 0x2000 && addr < 0x2100) {
		fr[0].function = "user_function";
		return 1;
	}
	if (addr >= 0x5100 && addr < 0x5200) {
		fr[0].function = "operator new(unsigned long)";
		fr[0].mangled = "_Znwm";
		return 1;
	}
	if (addr >= 0x3000 && addr < 0x3100) {
		fr[0].function = "reallocarray";
		return 1;
	}
	return 1;
}

static const struct attach_probe probes[] = {
	{ .object = "libstdc++.so.6", .symbol = "_Znwm", .emulated = true },
	{ .object = "libstdc++.so.6", .symbol = "_ZnwmRKSt9nothrow_t",
	  .forwards_to = "_Znwm", .forward_calls = true,
	  .family = MS_FAM_NEW },
	{ .object = "libc.so.6", .symbol = "reallocarray",
	  .forwards_to = "realloc", .family = MS_FAM_MALLOC },
};

static struct forwarders *made(size_t nr)
{
	struct forwarders *f = forwarders__new();

	cr_assert_not_null(f);
	cr_assert_eq(forwarders__update(f, probes, nr), 0);
	return f;
}

Test(forwarders, drops_a_calling_forwarder)
{
	struct forwarders *f = made(3);
	__u64 st[] = { 0x1010, 0x2010, 0x5000 };
	unsigned calls = 0;

	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 3, fake_resolve,
					 &calls), 1);
	/* the caller's frame, an inlined call in it, stays */
	st[0] = 0x2110;
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 3, fake_resolve,
					 &calls), 0);
	forwarders__free(f);
}

Test(forwarders, keeps_the_last_frame)
{
	struct forwarders *f = made(3);
	__u64 st[] = { 0x1010, 0x1020 };
	unsigned calls = 0;

	/* a stack that ends in the forwarder keeps what it has */
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 2, fake_resolve,
					 &calls), 1);
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 1, fake_resolve,
					 &calls), 0);
	forwarders__free(f);
}

Test(forwarders, other_families_and_jumps_cost_nothing)
{
	struct forwarders *f = made(3);
	__u64 st[] = { 0x1010, 0x2010 }, ra[] = { 0x3010, 0x2010 };
	unsigned calls = 0;

	/* new[]'s and malloc's records are not looked at */
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW_ARRAY, st, 2,
					 fake_resolve, &calls), 0);
	cr_expect_eq(forwarders__leading(f, MS_FAM_MALLOC, ra, 2,
					 fake_resolve, &calls), 0);
	cr_expect_eq(calls, 0, "resolved %u addresses", calls);
	forwarders__free(f);
}

Test(forwarders, learns_the_plan_as_it_grows)
{
	struct forwarders *f = made(1);
	__u64 st[] = { 0x1010, 0x2010 };
	unsigned calls = 0;

	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 2, fake_resolve,
					 &calls), 0);
	cr_assert_eq(forwarders__update(f, probes, 3), 0);
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 2, fake_resolve,
					 &calls), 1);
	/* the same plan again, or an unknown address */
	cr_assert_eq(forwarders__update(f, probes, 3), 0);
	st[0] = 0x4000;
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 2, fake_resolve,
					 &calls), 0);
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 2, NULL, NULL),
		     0);
	forwarders__free(f);
}

static const struct attach_probe layers[] = {
	{ .object = "libstdc++.so.6", .symbol = "_Znwm", .emulated = true,
	  .counted_at = "malloc", .family = MS_FAM_NEW },
	{ .object = "libstdc++.so.6", .symbol = "_Znam", .emulated = true,
	  .counted_at = "_Znwm", .family = MS_FAM_NEW_ARRAY },
	{ .object = "libstdc++.so.6", .symbol = "_ZnwmRKSt9nothrow_t",
	  .forwards_to = "_Znwm", .forward_calls = true,
	  .family = MS_FAM_NEW },
};

Test(forwarders, drops_a_layers_frame_in_any_of_its_families)
{
	struct forwarders *f = forwarders__new();
	/* malloc returning into operator new, called by the user */
	__u64 st[] = { 0x5110, 0x2010, 0x5000 };
	/* ... called by nothrow new */
	__u64 nt[] = { 0x5110, 0x1010, 0x2010 };
	unsigned calls = 0;

	cr_assert_not_null(f);
	cr_assert_eq(forwarders__update(f, layers, 3), 0);
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, st, 3, fake_resolve,
					 &calls), 1);
	/* new[] jumped to new: new's frame leads a new[] block */
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW_ARRAY, st, 3,
					 fake_resolve, &calls), 1);
	cr_expect_eq(forwarders__leading(f, MS_FAM_NEW, nt, 3, fake_resolve,
					 &calls), 2);
	/* a malloc record is not looked at, whatever its first frame */
	calls = 0;
	cr_expect_eq(forwarders__leading(f, MS_FAM_MALLOC, st, 3,
					 fake_resolve, &calls), 0);
	cr_expect_eq(calls, 0, "resolved %u addresses", calls);
	forwarders__free(f);
}
