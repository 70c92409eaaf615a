/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Two moments' sites matched by resolved frames (diff.h): each side's
 * sites get a key made of their frames as the reports name them, the
 * entries of both sides are sorted by key, and entries of one key merge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "delta.h"
#include "diff.h"
#include "table.h"

struct entry {
	char *key;
	bool to;		/* of the second moment */
	__u64 bytes, blocks;
	__u32 nr_frames;
	struct frame *frames;
};

/* A frame as the key sees it: where it is, never its address. */
static void put_key(FILE *f, const struct frame *fr)
{
	if (fr->function)
		fprintf(f, "%s@", fr->function);
	if (fr->file)
		fprintf(f, "%s:%d", fr->file, fr->line);
	else if (fr->object)
		fprintf(f, "%s+%llx", fr->object,
			(unsigned long long)fr->object_offset);
	else
		fprintf(f, "%llx", (unsigned long long)fr->addr);
	fputc(';', f);
}

/* The entry of one site: its frames resolved, copied, and its key. */
static int entry_of(const struct diff_side *side, const struct growth_site *gs,
		    bool to, struct entry *e)
{
	const struct frame *got;
	struct store_site site;
	struct frame one;
	size_t key_len, cap = 0;
	unsigned n, i;
	__u32 k;
	FILE *f;

	*e = (struct entry){ .to = to, .bytes = gs->live_bytes,
			     .blocks = gs->live_blocks };
	if (store__site(side->st, gs->stack_id, &site))
		return -ENOENT;
	f = open_memstream(&e->key, &key_len);
	if (!f)
		return -ENOMEM;
	for (k = 0; k < site.nr_frames; k++) {
		one = (struct frame){ .addr = site.frames[k] };
		got = &one;
		n = side->resolve ? side->resolve(side->ctx, site.frames[k],
						  &got) : 1;
		if (!n) {
			got = &one;
			n = 1;
		}
		if (tab_grow((void **)&e->frames, &cap, e->nr_frames + n,
			     sizeof(*e->frames))) {
			fclose(f);
			return -ENOMEM;
		}
		for (i = 0; i < n; i++) {
			e->frames[e->nr_frames++] = got[i];
			put_key(f, &got[i]);
		}
	}
	fprintf(f, "#%u", site.family);
	return fclose(f) ? -ENOMEM : 0;
}

static int by_key(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : (int)a->to - (int)b->to;
}

static int by_growth(const void *pa, const void *pb)
{
	const struct diff_row *a = pa, *b = pb;

	if (a->d_bytes != b->d_bytes)
		return a->d_bytes > b->d_bytes ? -1 : 1;
	if (a->to_bytes != b->to_bytes)
		return a->to_bytes > b->to_bytes ? -1 : 1;
	return 0;
}

static int add_side(const struct diff_side *side, bool to,
		    struct entry **es, size_t *nr, size_t *cap)
{
	size_t i;
	int err;

	for (i = 0; side->snap && i < side->snap->nr_sites; i++) {
		if (!side->snap->sites[i].live_blocks)
			continue;
		if (tab_grow((void **)es, cap, *nr + 1, sizeof(**es)))
			return -ENOMEM;
		err = entry_of(side, &side->snap->sites[i], to, &(*es)[*nr]);
		if (err && err != -ENOENT) {
			free((*es)[*nr].key);
			free((*es)[*nr].frames);
			return err;
		}
		if (err) {
			free((*es)[*nr].key);
			free((*es)[*nr].frames);
			continue;
		}
		(*nr)++;
	}
	return 0;
}

int diff__build(const struct diff_side *from, size_t nr_from,
		const struct diff_side *to, size_t nr_to, struct diff *d)
{
	struct entry *es = NULL;
	size_t nr = 0, cap = 0, i, k;
	struct diff_row *row;
	int err = 0;

	*d = (struct diff){};
	for (i = 0; i < nr_from && !err; i++) {
		if (from[i].snap) {
			d->from_bytes += from[i].snap->live_bytes;
			d->from_blocks += from[i].snap->live_blocks;
		}
		err = add_side(&from[i], false, &es, &nr, &cap);
	}
	for (i = 0; i < nr_to && !err; i++) {
		if (to[i].snap) {
			d->to_bytes += to[i].snap->live_bytes;
			d->to_blocks += to[i].snap->live_blocks;
		}
		err = add_side(&to[i], true, &es, &nr, &cap);
	}
	if (!err && nr) {
		d->rows = calloc(nr, sizeof(*d->rows));
		if (!d->rows)
			err = -ENOMEM;
	}
	if (err)
		goto out;
	qsort(es, nr, sizeof(*es), by_key);
	for (i = 0; i < nr; i = k) {
		row = &d->rows[d->nr++];
		for (k = i; k < nr && !strcmp(es[k].key, es[i].key); k++) {
			if (es[k].to) {
				row->to_bytes += es[k].bytes;
				row->to_blocks += es[k].blocks;
			} else {
				row->from_bytes += es[k].bytes;
				row->from_blocks += es[k].blocks;
			}
		}
		/* The frames of the latest moment that has the site. */
		row->frames = es[k - 1].frames;
		row->nr_frames = es[k - 1].nr_frames;
		es[k - 1].frames = NULL;
		row->d_bytes = u64_delta(row->to_bytes, row->from_bytes);
		row->d_blocks = u64_delta(row->to_blocks, row->from_blocks);
	}
	qsort(d->rows, d->nr, sizeof(*d->rows), by_growth);
out:
	for (i = 0; i < nr; i++) {
		free(es[i].key);
		free(es[i].frames);
	}
	free(es);
	if (err)
		diff__fini(d);
	return err;
}

void diff__fini(struct diff *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		free(d->rows[i].frames);
	free(d->rows);
	*d = (struct diff){};
}
