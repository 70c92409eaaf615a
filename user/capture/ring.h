/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The consumer side of the record ring (bpf/events.h): walks committed
 * records in stream order over the chunks the kernel shares by mmap, and
 * hands each back with its length.
 */
#ifndef MEMSCOPE_RING_H
#define MEMSCOPE_RING_H

#include <stddef.h>
#include <linux/types.h>

struct ms_ring;

/* data: the record after its ring header; len: its bytes (header not included). */
typedef void (*ms_ring_fn)(void *ctx, const void *data, size_t len);

/*
 * mem: nr_chunks (a power of two) chunks of stride bytes each, the first
 * (1 << chunk_shift) + slack of which are the chunk; prod and cons: the
 * shared stream positions.
 */
struct ms_ring *ms_ring__new(void *mem, size_t stride, __u32 nr_chunks,
			     unsigned int chunk_shift, const __u64 *prod,
			     __u64 *cons);
void ms_ring__free(struct ms_ring *r);

/*
 * Hands over every record committed in order from the consumer position
 * and releases their space. Returns how many, or -EBADMSG when a committed
 * header is impossible: the records up to the producer are then skipped,
 * since nothing tells where the next one starts.
 */
int ms_ring__consume(struct ms_ring *r, ms_ring_fn fn, void *ctx);

#endif /* MEMSCOPE_RING_H */
