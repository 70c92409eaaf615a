// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"
#include "elfsym.h"
#include "layer.h"
#include "prologue.h"

/* Branches out of a layer decoded at most; more and it is none. */
#define LAYER_EXITS	64

int layer__of(struct elf_file *ef, const struct elf_func *f,
	      __u32 site_offset, layer_name_fn inner, layer_name_fn throws,
	      char *name, size_t len, unsigned int *span)
{
	struct prologue_exit ex[LAYER_EXITS];
	char to[128], jump[128] = "";
	size_t i, nr, far = 0;
	unsigned char *code;
	int err;

	name[0] = '\0';
	code = elf_file__func_code(ef, f, PROLOGUE_MAX_BYTES);
	if (!code)
		return -ENOENT;
	err = prologue__exits(code, f->size, ex, LAYER_EXITS, &nr);
	free(code);
	if (err)
		return -ENOENT;
	for (i = 0; i < nr; i++) {
		if (ex[i].target == PROLOGUE_INDIRECT)
			continue;
		if (elf_file__plt_import(ef, f->vaddr + (__u64)ex[i].target,
					 to, sizeof(to))) {
			/* a call into its own object: its allocator's code */
			if (ex[i].calls)
				return -ENOENT;
			continue;
		}
		if (!ex[i].calls) {
			/* a tail call out: only to another layer, alone */
			if (!throws(to) || (jump[0] && strcmp(jump, to)))
				return -ENOENT;
			snprintf(jump, sizeof(jump), "%s", to);
			continue;
		}
		if (!inner(to))
			continue;
		if (ex[i].ret <= site_offset)
			return -ENOENT;
		if (ex[i].ret - site_offset > far)
			far = ex[i].ret - site_offset;
		if (!name[0])
			snprintf(name, len, "%s", to);
	}
	if (jump[0] && !far) {
		/* the layer jumped to takes over the range */
		snprintf(name, len, "%s", jump);
		*span = 1;
		return 0;
	}
	*span = (far + MS_COOKIE_SPAN_UNIT - 1) / MS_COOKIE_SPAN_UNIT;
	if (jump[0] || !far || *span > MS_COOKIE_SPAN_MAX)
		return -ENOENT;
	return 0;
}
