/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * executor: a small task executor with planted memory mistakes, and what
 * memscope-bpf must report about each. executor_clean does the same work
 * without them and must report none.
 *
 *   make .output/examples/executor
 *   sudo .output/memscope-bpf -- .output/examples/executor
 *
 * or, to attach first:  .output/examples/executor --wait  (prints
 * "ready <pid>"), then memscope-bpf -p <pid>, then kill -USR1 <pid>.
 *
 * The program is examples/executor.h, which lists every task and its
 * exact bytes. The mistakes, each on a line marked "@site NAME" there:
 *
 * #  mistake and @site      task          what the tool must report
 * -  ---------------------  ------------  ----------------------------------
 * 1  zombie                 cache_fill#1  zombie candidate (inferred), rule
 *    cache_fill_step keeps  (id 7)        "completed with live blocks": the
 *    its two result_entry                 task completed with 2 blocks /
 *    blocks in a cache                    1280 bytes live (result_entry,
 *    nobody reads                         allocated in cache_fill_step);
 *                                         still live at exit
 * 2  idle                   watch#1       zombie candidate (inferred), rule
 *    watch_step parks on    (id 8)        "never completed, idle": idle
 *    session_closed, which                since its only step (>= LINGER_MS,
 *    session_step never                   200 ms, at the end of the trace),
 *    fires                                holding 1 block / 512 bytes
 *                                         (watch_state)
 * 3  snapshot               none (main)   passport "snapshot" (2500 bytes)
 *    register_snapshot                    never freed while in the custody
 *    hands it to libfoo;                  of "libfoo"; stack of its last
 *    main never calls                     event, the handover: host_submit
 *    foo_shutdown()                       <- host_submit_checked
 *                                         <- register_snapshot <- main
 * 4  wrong_side             ffi#1 (6)     passport "bulk" (5000 bytes) freed
 *    ffi_send_bulk: libfoo                by "host" while in the custody of
 *    refused it, but                      "libfoo"; stack: ffi_send_bulk
 *    host_submit declared                 <- ffi_step
 *    the handover and never
 *    reclaimed it
 * 5  after_free             ffi#1 (6)     passport "late" (320 bytes) handed
 *    ffi_drop_late frees                  over to "libfoo" after it was
 *    "late", then announces               freed by "host"; stack:
 *    a handover it had                    ffi_drop_late <- ffi_step
 *    batched for it
 * 6  twice                  ffi#1 (6)     passport "retry" (900 bytes) handed
 *    ffi_resubmit submits                 over to "libfoo" while already in
 *    again a buffer libfoo                its custody; stack: host_submit
 *    holds                                <- ffi_resubmit <- ffi_send_retry
 *                                         <- ffi_step
 * 7  unknown_passport       ffi#1 (6)     reclaim of a passport never
 *    ffi_take_reply                       created: libfoo's 144-byte reply;
 *    reclaims libfoo's own                stack: ffi_take_reply <- ffi_step
 *    reply
 * 8  clone_storm            fanout#1 (5)  clone storm on "config" (160
 *    fanout_clones makes                  bytes, owner handle main_cfg):
 *    1000 clones at once                  STORM_CLONES = 1000 clones within
 *                                         one step (about 2 ms traced);
 *                                         stack: fanout_clones
 *                                         <- fanout_step
 *
 * Nothing else is a finding: every other task completes with no live
 * block, every other passport ends freed by the side that has it. For
 * the thresholds: executor_clean never has more than 8 clones of any
 * block (4 held by tasks, 4 in fanout#1), and no task in it is idle for
 * more than a few milliseconds. Live at exit (a leak report): the four
 * blocks of mistakes 1-3, 4292 bytes.
 *
 * Addresses are reused, as in any program: a passport created where a
 * freed one was is a new passport with its own name. Here "retry" often
 * gets the address "bulk" had, and neither may inherit the other's
 * history.
 */
#define EXECUTOR_MISTAKES 1
#include "executor.h"
