// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "ring.h"
#include "events.h"

_Static_assert(MS_RING_REC_MAX <= MS_RING_SLACK + 8,
	       "a record that starts in a chunk must end in its slack");

struct ms_ring {
	unsigned char *mem;
	size_t stride;
	__u64 mask;		/* stream bytes in the ring, minus one */
	unsigned int chunk_shift;
	const __u64 *prod;
	__u64 *cons;
};

struct ms_ring *ms_ring__new(void *mem, size_t stride, __u32 nr_chunks,
			     unsigned int chunk_shift, const __u64 *prod,
			     __u64 *cons)
{
	struct ms_ring *r;

	if (!nr_chunks || (nr_chunks & (nr_chunks - 1)) ||
	    stride < ((size_t)1 << chunk_shift) + MS_RING_SLACK) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->mem = mem;
	r->stride = stride;
	r->mask = ((__u64)nr_chunks << chunk_shift) - 1;
	r->chunk_shift = chunk_shift;
	r->prod = prod;
	r->cons = cons;
	return r;
}

void ms_ring__free(struct ms_ring *r)
{
	free(r);
}

static struct ms_ring_hdr *hdr_at(const struct ms_ring *r, __u64 pos)
{
	__u64 off = pos & r->mask;

	return (void *)(r->mem + (off >> r->chunk_shift) * r->stride +
			(off & (((__u64)1 << r->chunk_shift) - 1)));
}

static bool len_ok(__u32 len)
{
	return !(len & 7) &&
	       len >= sizeof(struct ms_ring_hdr) + MS_EVENT_HDR_SIZE &&
	       len <= MS_RING_REC_MAX;
}

int ms_ring__consume(struct ms_ring *r, ms_ring_fn fn, void *ctx)
{
	__u64 pos = *r->cons;
	int n = 0, err = 0;

	for (;;) {
		struct ms_ring_hdr *h = hdr_at(r, pos);
		__u32 len;

		/* The commit is the producer's last store: acquire pairs it. */
		if (__atomic_load_n(&h->commit, __ATOMIC_ACQUIRE) != ~pos)
			break;
		len = h->len;
		if (!len_ok(len)) {
			/* No way to find the next record: skip what is there. */
			pos = __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
			err = -EBADMSG;
			break;
		}
		fn(ctx, h + 1, len - sizeof(*h));
		pos += len;
		n++;
		/* Give space back as we go, so a long drain does not fill it. */
		if (!(n & 255))
			__atomic_store_n(r->cons, pos, __ATOMIC_RELEASE);
	}
	__atomic_store_n(r->cons, pos, __ATOMIC_RELEASE);
	return err ? err : n;
}
