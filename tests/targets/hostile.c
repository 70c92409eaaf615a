/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * hostile: declares names that are markup and script, and one that is not
 * terminated, the way a compromised or careless program could. Reports
 * must carry them as text: the HTML test opens the dashboard of a trace of
 * this program and checks nothing it declared ran or became an element.
 */
#include <memscope.h>
#include "target.h"

#define H_SCRIPT "<script>document.body.dataset.pwned='script'</script>"
#define H_IMG	 "<img src=x onerror=\"document.body.dataset.pwned='img'\">"

/* MS_STR_MAX and more, with no NUL: the tracer must cut it. */
static const char unterminated[80] = {
	'<', 's', 'v', 'g', ' ', 'o', 'n', 'l', 'o', 'a', 'd', '=',
	'a', 'l', 'e', 'r', 't', '(', '1', ')', '>',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x',
};

__attribute__((noinline)) static void hostile_leak(void)
{
	void *p = malloc(64);			/* @site hostile_leak */

	MEMSCOPE_TRACK(p, 64, H_SCRIPT, H_IMG, MEMSCOPE_HEAP_OWNER);
	keep(p);
	p = malloc(32);
	MEMSCOPE_TRACK(p, 32, unterminated, "</script>", MEMSCOPE_VALUE);
	keep(p);
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	MEMSCOPE_TASK_CREATE(1, 0, H_SCRIPT);
	MEMSCOPE_TASK_ENTER(1);
	hostile_leak();
	MEMSCOPE_TASK_LEAVE(1);
	MEMSCOPE_TASK_COMPLETE(1);
	return 0;
}
