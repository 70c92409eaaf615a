// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "row_store.h"

#define CHUNK_BYTES	((size_t)MS_ROW_CHUNK * sizeof(struct ms_unwind_row))

/* Rows released, to be handed out again: [first, first + nr). */
struct extent {
	__u32 first;
	__u32 nr;
};

void row_extents__init(struct row_extents *x, __u32 cap)
{
	memset(x, 0, sizeof(*x));
	x->cap = cap;
	tab_array_init(&x->free, sizeof(struct extent), 0);
}

void row_extents__fini(struct row_extents *x)
{
	tab_array_fini(&x->free);
}

static struct extent *extent_at(const struct row_extents *x, size_t i)
{
	return tab_array_at(&x->free, i);
}

static void extent_remove(struct row_extents *x, size_t i)
{
	memmove(extent_at(x, i), extent_at(x, i + 1),
		(x->free.nr - i - 1) * sizeof(struct extent));
	x->free.nr--;
}

int row_extents__take(struct row_extents *x, __u32 nr, __u32 *first)
{
	struct extent *e;
	size_t i;

	for (i = 0; i < x->free.nr; i++) {
		e = extent_at(x, i);
		if (e->nr < nr)
			continue;
		*first = e->first;
		e->first += nr;
		e->nr -= nr;
		if (!e->nr)
			extent_remove(x, i);
		x->used += nr;
		return 0;
	}
	if (nr > x->cap - x->top)
		return -ENOSPC;
	*first = x->top;
	x->top += nr;
	x->used += nr;
	return 0;
}

int row_extents__give(struct row_extents *x, __u32 first, __u32 nr)
{
	struct extent *e, *prev = NULL;
	size_t i;

	if (!nr)
		return 0;
	if (first > x->top || nr > x->top - first || nr > x->used)
		return -EINVAL;
	for (i = 0; i < x->free.nr && extent_at(x, i)->first < first; i++)
		prev = extent_at(x, i);
	/* Released twice, or overlapping a free extent: a caller's bug. */
	if ((prev && prev->first + prev->nr > first) ||
	    (i < x->free.nr && first + nr > extent_at(x, i)->first))
		return -EINVAL;
	if (prev && prev->first + prev->nr == first) {
		e = prev;
		e->nr += nr;
		i--;
	} else {
		if (tab_array_reserve(&x->free, 1))
			return -ENOMEM;
		tab_array_push(&x->free);
		memmove(extent_at(x, i + 1), extent_at(x, i),
			(x->free.nr - i - 1) * sizeof(struct extent));
		e = extent_at(x, i);
		e->first = first;
		e->nr = nr;
	}
	x->used -= nr;
	/* Joined to the next one, and given back to the top at its end. */
	if (i + 1 < x->free.nr &&
	    e->first + e->nr == extent_at(x, i + 1)->first) {
		e->nr += extent_at(x, i + 1)->nr;
		extent_remove(x, i + 1);
	}
	if (e->first + e->nr == x->top) {
		x->top = e->first;
		extent_remove(x, i);
	}
	return 0;
}

struct row_store {
	int outer_fd;
	struct row_extents x;
	__u32 nr_chunks;	/* made */
	struct ms_unwind_row **chunks;	/* each mapped: rows are written here */
};

struct row_store *row_store__new(int outer_fd, __u32 max_rows)
{
	struct row_store *s = calloc(1, sizeof(*s));
	__u64 chunks = ((__u64)max_rows + MS_ROW_CHUNK - 1) >> MS_ROW_CHUNK_SHIFT;

	if (!s)
		return NULL;
	if (chunks > MS_ROW_CHUNKS_MAX)
		chunks = MS_ROW_CHUNKS_MAX;
	s->outer_fd = outer_fd;
	/* at most MS_ROW_CHUNKS_MAX chunks: well inside 32 bits */
	row_extents__init(&s->x, chunks << MS_ROW_CHUNK_SHIFT);
	s->chunks = calloc(chunks ? chunks : 1, sizeof(*s->chunks));
	if (!s->chunks) {
		free(s);
		return NULL;
	}
	return s;
}

void row_store__free(struct row_store *s)
{
	__u32 i;

	if (!s)
		return;
	for (i = 0; i < s->nr_chunks; i++)
		munmap(s->chunks[i], CHUNK_BYTES);
	free(s->chunks);
	row_extents__fini(&s->x);
	free(s);
}

/*
 * One more chunk: an mmapable array of its own, put in the outer map.
 * The mapping keeps the array alive for our writes, the outer map for
 * the walker: the descriptor is not needed past that.
 */
static int chunk_add(struct row_store *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	__u32 idx = s->nr_chunks;
	int fd, err = 0;
	void *p;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ms_rows", sizeof(__u32),
			    sizeof(struct ms_unwind_row), MS_ROW_CHUNK, &opts);
	if (fd < 0)
		return -errno;
	p = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	if (bpf_map_update_elem(s->outer_fd, &idx, &fd, BPF_ANY)) {
		err = -errno;
		munmap(p, CHUNK_BYTES);
		goto out;
	}
	s->chunks[idx] = p;
	s->nr_chunks++;
out:
	close(fd);
	return err;
}

int row_store__append(struct row_store *s, const struct ms_unwind_row *rows,
		      size_t nr, __u32 *first)
{
	size_t done = 0, n;
	__u32 idx, off;
	int err;

	if (nr > s->x.cap)
		return -ENOSPC;
	err = row_extents__take(&s->x, nr, first);
	if (err)
		return err;
	while (((__u64)s->nr_chunks << MS_ROW_CHUNK_SHIFT) < s->x.top) {
		err = chunk_add(s);
		if (err) {
			row_extents__give(&s->x, *first, nr);
			return err;
		}
	}
	/* An object's rows may run on into the next chunk: the walker
	 * finds each row by its index alone. */
	while (done < nr) {
		idx = *first + done;
		off = idx & (MS_ROW_CHUNK - 1);
		n = nr - done < MS_ROW_CHUNK - off ? nr - done :
						     MS_ROW_CHUNK - off;
		memcpy(s->chunks[idx >> MS_ROW_CHUNK_SHIFT] + off, rows + done,
		       n * sizeof(*rows));
		done += n;
	}
	return 0;
}

int row_store__release(struct row_store *s, __u32 first, __u32 nr)
{
	return row_extents__give(&s->x, first, nr);
}

__u32 row_store__used(const struct row_store *s)
{
	return s->x.used;
}

__u32 row_store__cap(const struct row_store *s)
{
	return s->x.cap;
}

__u64 row_store__bytes(const struct row_store *s)
{
	return (__u64)s->nr_chunks * CHUNK_BYTES;
}
