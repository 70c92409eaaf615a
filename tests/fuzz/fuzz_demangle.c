/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: the names a person reads (symbol_display_name), made
 * from symbol and linkage names the traced process's files carry: the
 * version cut, then libiberty's Rust (legacy and v0) and C++ demanglers
 * on anything up to the symbolizer's length bound. A crash, a sanitizer
 * report, a hang or a stack overflow (deep nesting is the demanglers'
 * known weakness) fails `make fuzz`, as does a name with a version left
 * or an empty name made from a non-empty one (found here: "_RC0").
 * Debian's libiberty is not instrumented, so the coverage that guides the
 * mutations is our side's; every input still goes through the demanglers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw, *name;

	raw = malloc(size + 1);
	if (!raw)
		abort();
	memcpy(raw, data, size);
	raw[size] = 0;
	name = symbol_display_name(raw);
	if (name && !memchr(raw, '@', size) && !name[0] && raw[0])
		abort();
	if (name && memchr(raw, '@', strlen(raw)) &&
	    strlen(name) == strlen(raw) && !strcmp(name, raw))
		abort();
	free(name);
	free(raw);
	return 0;
}
