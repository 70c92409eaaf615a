/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The text report's forms, for the inference rules' records (rule.h), so
 * a rule's section reads like the rest of the report.
 */
#ifndef MEMSCOPE_REPORT_TEXT_H
#define MEMSCOPE_REPORT_TEXT_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "declared.h"
#include "frame.h"

/* The indent of a record's detail lines and frames. */
#define REPORT_TEXT_INDENT	"        "

/* "512 bytes" or "1.5 MiB (1572864 bytes)": readable and exact. */
const char *report_text_bytes(char *buf, size_t size, __u64 v);
/* "1.250 s" */
const char *report_text_secs(char *buf, size_t size, __u64 ns);
/* "s" unless n is 1. */
const char *report_text_plural(__u64 n);
/* task 7 "name", its name shown safely. */
void report_text_task(FILE *f, const struct declared_task *t);
/* 0x1234 name (type), a shared block. */
void report_text_shared(FILE *f, const struct declared_shared *s);
/* A stack, innermost first, at most as many frames as the report shows. */
void report_text_frames(FILE *f, const struct frame *frames, __u32 nr);
/*
 * The line under a stack of nr frames whose site has flags (MS_EVF_*)
 * that says where it is short of the program's entry: cut to its first
 * frame by a full table, cut at the depth limit, stopped early and why;
 * nothing for a whole stack (the text report, --live).
 */
void report_text_stack_end(FILE *f, const char *indent, __u32 nr,
			   __u32 flags);
/* One frame's location on the current line: "fn (file:line)". */
void report_text_frame_short(FILE *f, const struct frame *fr);
/*
 * A call site on the current line, innermost first, at most max frames:
 * "fn (file:line) < fn (file:line) < ..." (the dots: more frames), or
 * "(no stack captured)". Every one-line site of the text outputs (the
 * live view, the snapshots, the heap scan's links and clones) is this.
 */
void report_text_site(FILE *f, const struct frame *frames, __u32 nr,
		      unsigned max);
/* The same of a stack of addresses, each resolved through resolve (NULL,
 * or nothing known: its address). */
void report_text_site_addrs(FILE *f, const __u64 *addrs, __u32 nr,
			    unsigned max, frame_resolve_fn resolve, void *ctx);

struct report;
/* The heap scan's section (report_text_reach.c): nothing without one. */
void report_text_reach(const struct report *r, FILE *f);

#endif /* MEMSCOPE_REPORT_TEXT_H */
