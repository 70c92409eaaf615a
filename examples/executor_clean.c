/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * executor_clean: the clean twin of examples/executor.c, the same tasks
 * doing the same work with none of its planted mistakes. memscope-bpf
 * must report no zombie task, no passport violation, no clone storm and
 * no block live at exit; its per-task figures are in examples/executor.h.
 *
 *   make .output/examples/executor_clean
 *   sudo .output/memscope-bpf -- .output/examples/executor_clean
 *
 * What it does instead of each mistake:
 *  1. cache_fill#1 frees its result entries before it completes.
 *  2. session#1 fires session_closed; watch#1 wakes, frees its state and
 *     completes.
 *  3. main shuts libfoo down, which frees the snapshot as "libfoo".
 *  4. host_submit reclaims a buffer libfoo refuses; the host then frees
 *     "bulk" with custody back on its side.
 *  5-7. No late handover, no second submit, no reclaim of libfoo's reply.
 *  8. fanout#1 makes 4 clones, not 1000.
 */
#define EXECUTOR_MISTAKES 0
#include "executor.h"
