// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "row_store.h"

#define CHUNK_BYTES	((size_t)MS_ROW_CHUNK * sizeof(struct ms_unwind_row))

struct row_store {
	int outer_fd;
	__u32 used;		/* rows appended */
	__u32 nr_chunks;	/* made */
	__u32 max_chunks;
	struct ms_unwind_row **chunks;	/* each mapped: rows are written here */
};

struct row_store *row_store__new(int outer_fd, __u32 max_rows)
{
	struct row_store *s = calloc(1, sizeof(*s));
	__u64 chunks = ((__u64)max_rows + MS_ROW_CHUNK - 1) >> MS_ROW_CHUNK_SHIFT;

	if (!s)
		return NULL;
	s->outer_fd = outer_fd;
	s->max_chunks = chunks < MS_ROW_CHUNKS_MAX ? chunks : MS_ROW_CHUNKS_MAX;
	s->chunks = calloc(s->max_chunks ? s->max_chunks : 1,
			   sizeof(*s->chunks));
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
	__u64 end = (__u64)s->used + nr;
	size_t done = 0, n;
	__u32 idx, off;
	int err;

	if (end > row_store__cap(s))
		return -ENOSPC;
	while (((__u64)s->nr_chunks << MS_ROW_CHUNK_SHIFT) < end) {
		err = chunk_add(s);
		if (err)
			return err;
	}
	/* An object's rows may run on into the next chunk: the walker
	 * finds each row by its index alone. */
	while (done < nr) {
		idx = s->used + done;
		off = idx & (MS_ROW_CHUNK - 1);
		n = nr - done < MS_ROW_CHUNK - off ? nr - done :
						     MS_ROW_CHUNK - off;
		memcpy(s->chunks[idx >> MS_ROW_CHUNK_SHIFT] + off, rows + done,
		       n * sizeof(*rows));
		done += n;
	}
	*first = s->used;
	s->used = end;
	return 0;
}

__u32 row_store__used(const struct row_store *s)
{
	return s->used;
}

__u32 row_store__cap(const struct row_store *s)
{
	/* at most MS_ROW_CHUNKS_MAX chunks: well inside 32 bits */
	return s->max_chunks << MS_ROW_CHUNK_SHIFT;
}

__u64 row_store__bytes(const struct row_store *s)
{
	return (__u64)s->nr_chunks * CHUNK_BYTES;
}
