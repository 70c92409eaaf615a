/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What report.c shares with report_fold.c, which builds on its models:
 * not for the exporters.
 */
#ifndef MEMSCOPE_REPORT_PRIV_H
#define MEMSCOPE_REPORT_PRIV_H

#include "report.h"

/* Zeroed, aligned for any type, in r's arena; NULL: out of memory. */
void *report__arena_alloc(struct report *r, size_t nmemb, size_t size);

/* The frames a reader cannot tell apart (report.c's frame_same()). */
bool report__frames_same(const struct frame *a, const struct frame *b,
			 __u32 nr);
/* A hash of what report__frames_same() compares, family and length in. */
__u64 report__frames_hash(const struct frame *frames, __u32 nr,
			  __u32 family);

/* The orders of a model's lists. */
int report__anomaly_cmp(const void *pa, const void *pb);
int report__anon_site_cmp(const void *pa, const void *pb);
int report__arena_cmp(const void *pa, const void *pb);

/*
 * The folds of one trace's report (report_opts.fold): each image's model
 * merged into its entry's as it is built.
 */
struct report_fold;

struct report_fold *report_fold__new(void);
void report_fold__free(struct report_fold *f);
/*
 * pr, the model of ended image im built with top 0, merged into the
 * entry top->procs[pos] (made of im's facts at its first image; pos:
 * where the entry's first image would have been). pr is freed whatever
 * the outcome. 0, -ENOMEM.
 */
int report_fold__add(struct report_fold *f, struct report *top, size_t pos,
		     struct report *pr, const struct proc_image *im);
/* Every entry's lists made, ranked as an image's, top applied. */
int report_fold__finish(struct report_fold *f, struct report *top);

#endif /* MEMSCOPE_REPORT_PRIV_H */
