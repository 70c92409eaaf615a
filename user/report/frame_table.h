/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The frames of one document, each distinct frame once, numbered in order
 * of first sight: a stack is then written as the numbers of its frames
 * (docs/report-schema.md, "frame_table"). A frame is its address and what
 * the address resolved to, so every stack through one call shares an entry:
 * written whole in every stack, 131,072 stacks of a 24-call random walk
 * made a 0.96 GB report.
 */
#ifndef MEMSCOPE_FRAME_TABLE_H
#define MEMSCOPE_FRAME_TABLE_H

#include <stddef.h>
#include "frame.h"

struct frame_table;

struct frame_table *frame_table__new(void);
void frame_table__free(struct frame_table *ft);

/*
 * The number of fr, given at its first sight: the table keeps copies of
 * its strings, so fr may go once this returns. Two frames are one when
 * every field a document shows is equal (addr, function, mangled, inlined,
 * file, line, object). A number, or -ENOMEM.
 */
long frame_table__id(struct frame_table *ft, const struct frame *fr);

size_t frame_table__nr(const struct frame_table *ft);
/* Frame number id (< frame_table__nr), its strings the table's. */
const struct frame *frame_table__at(const struct frame_table *ft, size_t id);

#endif /* MEMSCOPE_FRAME_TABLE_H */
