/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The frame table (frame_table.h): the frames in an array, an index over
 * them, and their strings in a pool, where equal strings are one pointer,
 * so frames compare as their fields, pointers and all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "frame_table.h"
#include "table.h"

struct frame_table {
	struct tab_array frames;	/* struct frame, by number */
	struct tab_index ix;
	struct tab_pool strs;
};

struct frame_table *frame_table__new(void)
{
	struct frame_table *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	tab_array_init(&ft->frames, sizeof(struct frame), 0);
	if (tab_index_init(&ft->ix, 64) || tab_pool_init(&ft->strs, 0)) {
		frame_table__free(ft);
		errno = ENOMEM;
		return NULL;
	}
	return ft;
}

void frame_table__free(struct frame_table *ft)
{
	if (!ft)
		return;
	tab_array_fini(&ft->frames);
	tab_index_fini(&ft->ix);
	tab_pool_fini(&ft->strs);
	free(ft);
}

/* The pool's copy of s in *out (NULL stays NULL). 0 or -ENOMEM. */
static int intern(struct frame_table *ft, const char *s, const char **out)
{
	*out = NULL;
	return s ? tab_pool_intern(&ft->strs, s, out, NULL) : 0;
}

static bool same(const struct frame *a, const struct frame *b)
{
	return a->addr == b->addr && a->line == b->line &&
	       a->inlined == b->inlined && a->function == b->function &&
	       a->mangled == b->mangled && a->file == b->file &&
	       a->object == b->object;
}

static __u32 hash(const struct frame *k)
{
	const void *words[] = { k->function, k->mangled, k->file, k->object };
	__u64 h = tab_mix64(k->addr ^ ((__u64)(__u32)k->line << 1) ^ k->inlined);

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		h = tab_mix64(h ^ (__u64)(uintptr_t)words[i]);
	return (__u32)h;
}

long frame_table__id(struct frame_table *ft, const struct frame *fr)
{
	/* What a document shows of a frame, and nothing else. */
	struct frame k = {
		.addr = fr->addr,
		.line = fr->line > 0 ? fr->line : 0,
		.inlined = fr->inlined,
	};
	size_t i, n;
	__u32 h;
	int err;

	err = intern(ft, fr->function, &k.function);
	if (!err)
		err = intern(ft, fr->mangled, &k.mangled);
	if (!err)
		err = intern(ft, fr->file, &k.file);
	if (!err)
		err = intern(ft, fr->object, &k.object);
	if (err)
		return err;
	h = hash(&k);
	tab_index_for_run(&ft->ix, h, i) {
		n = tab_index_pos(&ft->ix, i);
		if (ft->ix.slots[i].hash == h &&
		    same(tab_array_at(&ft->frames, n), &k))
			return (long)n;
	}
	err = tab_array_reserve(&ft->frames, 1);
	if (!err)
		err = tab_index_reserve(&ft->ix);
	if (err)
		return err;
	n = ft->frames.nr;
	*(struct frame *)tab_array_push(&ft->frames) = k;
	tab_index_insert(&ft->ix, h, n);
	return (long)n;
}

size_t frame_table__nr(const struct frame_table *ft)
{
	return ft->frames.nr;
}

const struct frame *frame_table__at(const struct frame_table *ft, size_t id)
{
	return tab_array_at(&ft->frames, id);
}
