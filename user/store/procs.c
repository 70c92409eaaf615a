/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The process table. Images live in one array, numbered in order of
 * opening (the numbers are what recordings and reports name them by);
 * an index keyed by pid finds the open image of a pid, and an image that
 * ends leaves the index, so a pid seen again is a new process.
 *
 * The peak over all images is followed here, as the store follows its
 * own: the sum of live bytes of every image changes only by the change of
 * the image a record went to, and an image that ends takes its live bytes
 * out of the sum (they are no longer anyone's memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procs.h"
#include "table.h"

struct open_pid {
	__u64 pid;
	__u64 image;		/* position in images */
};

/*
 * A window procs__late() keeps for the images of its pid that records
 * have not opened yet; kgen: the kernel's generation of the image it was
 * for, 0 not known.
 */
struct late_note {
	__u32 pid;
	__u32 kgen;
	__u64 since_ns;
	__u64 late_ns;
};

/* Notes kept at most; past it the oldest go. */
#define LATE_NOTES	1024

struct procs {
	struct tab_array images;	/* struct proc_image */
	struct tab_keyed open;		/* struct open_pid by pid */
	struct tab_array late;		/* struct late_note */
	bool took_late;			/* procs__took_late() */
	struct procs_summary sum;
	/* the running images' live bytes together, whose top is the peak */
	struct timeline tl;
	long last;
	procs_pass_fn pass;
	void *pass_ctx;
	__u32 max_stacks;	/* each image's store's; 0: its default */
	/*
	 * procs__set_spill(): the file ended images' sites go to, its end,
	 * and the last spill_keep ended images, which stay in memory (a
	 * ring: the nr_ended-th ended image in slot nr_ended % spill_keep)
	 */
	int spill_fd;
	off_t spill_end;
	size_t spill_keep;
	size_t *ring;
	size_t nr_ended;
};

/* What store__close() asks of each block: the filter, at this end. */
struct close_ctx {
	const struct procs *p;
	__u64 end_ns;
};

static bool close_pass(const struct store_block *b, void *ctx)
{
	const struct close_ctx *cc = ctx;

	return cc->p->pass(b, cc->end_ns, cc->p->pass_ctx);
}

void procs__set_filter(struct procs *p, procs_pass_fn pass, void *ctx)
{
	p->pass = pass;
	p->pass_ctx = ctx;
}

void procs__set_max_stacks(struct procs *p, __u32 n)
{
	p->max_stacks = n;
}

struct procs *procs__new(void)
{
	struct procs *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	tab_array_init(&p->images, sizeof(struct proc_image),
		       PROCS_MAX_IMAGES);
	tab_array_init(&p->late, sizeof(struct late_note), LATE_NOTES);
	if (tab_keyed_init(&p->open, sizeof(struct open_pid),
			   offsetof(struct open_pid, pid), PROCS_MAX_IMAGES) ||
	    timeline_init(&p->tl)) {
		tab_keyed_fini(&p->open);
		timeline_fini(&p->tl);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->last = -1;
	p->spill_fd = -1;
	return p;
}

int procs__set_spill(struct procs *p, const char *dir, size_t keep)
{
	size_t *ring = NULL;
	int fd;

	if (p->spill_fd >= 0)
		return -EBUSY;
	if (keep) {
		ring = calloc(keep, sizeof(*ring));
		if (!ring)
			return -ENOMEM;
	}
	/* unlinked from the start: nothing is left behind however we end */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(ring);
		return -errno;
	}
	p->spill_fd = fd;
	p->spill_keep = keep;
	p->ring = ring;
	return 0;
}

/* Image i's sites to the file; where that fails they stay in memory. */
static void spill(struct procs *p, size_t i)
{
	struct proc_image *im = tab_array_at(&p->images, i);

	if (im->end)
		store__spill(im->store, p->spill_fd, &p->spill_end);
}

void procs__release(struct procs *p, size_t i)
{
	if (p->spill_fd >= 0 && i < p->images.nr)
		spill(p, i);
}

/* Image i ended: the oldest of the last spill_keep ended goes. */
static void spill_ended(struct procs *p, size_t i)
{
	size_t slot;

	if (p->spill_fd < 0)
		return;
	if (!p->spill_keep) {
		spill(p, i);
		return;
	}
	slot = p->nr_ended++ % p->spill_keep;
	if (p->nr_ended > p->spill_keep)
		spill(p, p->ring[slot]);
	p->ring[slot] = i;
}

void procs__free(struct procs *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->images.nr; i++) {
		struct proc_image *im = tab_array_at(&p->images, i);

		store__free(im->store);
		free(im->command);
	}
	tab_array_fini(&p->images);
	tab_array_fini(&p->late);
	tab_keyed_fini(&p->open);
	timeline_fini(&p->tl);
	if (p->spill_fd >= 0)
		close(p->spill_fd);
	free(p->ring);
	free(p);
}

static struct proc_image *image_at(const struct procs *p, size_t i)
{
	return tab_array_at(&p->images, i);
}

static struct proc_image *current(const struct procs *p, __u32 pid)
{
	struct open_pid *o = tab_keyed_get(&p->open, pid);

	return o ? image_at(p, o->image) : NULL;
}

/*
 * A late window that ran past the image's end at ts (its probes went in
 * after it was gone, a record of its end not drained yet): it ran
 * unprobed until its end, no longer.
 */
static void late_cap(struct proc_image *im, __u64 ts)
{
	struct procfacts *in = &im->info;
	__u64 from;

	if (!(in->flags & PROCINFO_LATE) || in->late_end_ns <= ts ||
	    in->late_end_ns < in->late_ns)
		return;
	from = in->late_end_ns - in->late_ns;
	in->late_ns = ts > from ? ts - from : 0;
}

/* The image ends at ts: its blocks are released, its figures stay. */
static void close_image(struct procs *p, struct proc_image *im, __u32 end,
			__u64 ts)
{
	struct open_pid *o = tab_keyed_get(&p->open, im->info.pid);
	struct close_ctx cc = { .p = p, .end_ns = ts };

	p->sum.open_bytes -= store__summary(im->store)->live_bytes;
	p->sum.open_blocks -= store__summary(im->store)->live_allocs;
	store__close(im->store, p->pass ? close_pass : NULL, &cc);
	im->end = end;
	im->end_ns = ts;
	late_cap(im, ts);
	if (end == PROC_EXITED)
		p->sum.exited++;
	else if (end == PROC_EXECED)
		p->sum.execed++;
	if (o)
		tab_keyed_delete(&p->open, o);
	spill_ended(p, im - image_at(p, 0));
}

/*
 * An image that joined late: its store judges no mismatch made while its
 * probes were going in (a recording of format 8 does not say when).
 */
static void image_late(struct proc_image *im)
{
	const struct procfacts *in = &im->info;

	if ((in->flags & PROCINFO_LATE) && in->late_end_ns >= in->late_ns &&
	    in->late_end_ns)
		store__set_late(im->store, in->late_end_ns - in->late_ns,
				in->late_end_ns);
}

/*
 * Whether im is older than the image of kernel generation kgen: an exec
 * whose record is still in the ring (0: not known, taken as not).
 */
static bool before_kgen(const struct proc_image *im, __u32 kgen)
{
	return kgen && im->kgen && im->kgen < kgen;
}

/*
 * im ran its allocator unprobed for late_ns from since_ns: counted from
 * its own start if it began later, none if after the window. Whether its
 * facts changed.
 */
static bool late_take(struct proc_image *im, __u64 since_ns, __u64 late_ns)
{
	struct procfacts *in = &im->info;
	__u64 end_ns = since_ns + late_ns;

	if (im->first_ns > since_ns) {
		if (im->first_ns - since_ns >= late_ns)
			return false;
		late_ns -= im->first_ns - since_ns;
	}
	if ((in->flags & PROCINFO_LATE) && in->late_ns >= late_ns)
		return false;
	in->flags |= PROCINFO_LATE;
	in->late_ns = late_ns;
	in->late_end_ns = end_ns;
	image_late(im);
	return true;
}

/*
 * Pid's notes: im, a new image of pid from ts, takes those whose window
 * was still open then; the others go, and all go without im (pid exited).
 * One whose probes were for a later image than im waits for that one.
 */
static void late_notes_sweep(struct procs *p, __u32 pid,
			     struct proc_image *im, __u64 ts)
{
	struct late_note *n;
	size_t i = 0;

	while (i < p->late.nr) {
		n = tab_array_at(&p->late, i);
		if (n->pid != pid) {
			i++;
			continue;
		}
		if (im && before_kgen(im, n->kgen)) {
			i++;
			continue;
		}
		if (im && ts < n->since_ns + n->late_ns) {
			p->took_late |= late_take(im, n->since_ns, n->late_ns);
			i++;
			continue;
		}
		*n = *(struct late_note *)tab_array_at(&p->late,
						       p->late.nr - 1);
		p->late.nr--;
	}
}

/*
 * A new open image of pid, generation gen, from ts; prev (an image just
 * closed, of the same pid) hands on the facts an exec keeps: its caller
 * reserved the room, so the array does not move under it. Everything
 * that can fail comes first: the table is unchanged on failure.
 */
static int open_image(struct procs *p, __u32 pid, __u32 gen, __u64 ts,
		      const struct proc_image *prev, struct proc_image **out)
{
	struct proc_image *im;
	struct open_pid *o;
	struct store *st;
	int err;

	err = tab_array_reserve(&p->images, 1);
	if (!err)
		err = tab_keyed_reserve(&p->open);
	if (err)
		return err;
	st = store__new();
	if (!st)
		return -ENOMEM;
	if (p->max_stacks)
		store__set_max_stacks(st, p->max_stacks);
	if (prev) {
		struct procfacts info = prev->info;

		im = tab_array_push(&p->images);
		im->info = info;
		/* joining late is the image's own: procs__late() */
		im->info.flags &= ~(PROCINFO_EXISTING | PROCINFO_CUT |
				    PROCINFO_LATE);
		im->info.late_ns = im->info.late_end_ns = 0;
		im->have_info = true;
	} else {
		im = tab_array_push(&p->images);
		im->info.pid = pid;
	}
	im->image = gen;
	im->parent = -1;
	im->first_ns = ts;
	im->store = st;
	o = tab_keyed_add(&p->open, pid);
	o->image = p->images.nr - 1;
	p->sum.images++;
	if (!gen)
		p->sum.processes++;
	*out = im;
	return 0;
}

/* A record of pid with nothing open: a process we see from the middle. */
static int image_for(struct procs *p, __u32 pid, __u64 ts,
		     struct proc_image **out)
{
	int err;

	*out = current(p, pid);
	if (*out)
		return 0;
	err = open_image(p, pid, 0, ts, NULL, out);
	if (!err)
		late_notes_sweep(p, pid, *out, ts);
	return err;
}

static void set_str(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = strnlen(src, len < size ? len : size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * A command line of up to len bytes, cut where a procinfo would cut it,
 * in memory of its own size: *out, NULL for an empty one. -ENOMEM.
 */
static int command_dup(const char *src, size_t len, char **out)
{
	size_t n = strnlen(src, len < PROCINFO_COMMAND ? len :
					  PROCINFO_COMMAND - 1);

	*out = NULL;
	if (!n)
		return 0;
	*out = strndup(src, n);
	return *out ? 0 : -ENOMEM;
}

static int apply_start(struct procs *p, const struct ms_event *e)
{
	struct proc_image *old = current(p, e->pid), *im;
	long parent = procs__current(p, (__u32)e->aux);
	bool opened = false;
	int err;

	if (old && !old->started && !old->image && old->first_ns >= e->ts_ns) {
		im = old;
		im->first_ns = e->ts_ns;
	} else {
		/*
		 * Reserve before closing: a failure leaves the old one
		 * open. The array may move: the old one is found again.
		 */
		err = tab_array_reserve(&p->images, 1);
		if (err)
			return err;
		old = current(p, e->pid);
		if (old)
			close_image(p, old, PROC_REUSED, e->ts_ns);
		err = open_image(p, e->pid, 0, e->ts_ns, NULL, &im);
		if (err)
			return err;
		opened = true;
	}
	im->started = true;
	im->kgen = e->seq;
	if (opened)
		late_notes_sweep(p, e->pid, im, e->ts_ns);
	store__set_forked(im->store);
	im->parent = parent >= 0 ? parent : -1;
	im->info.ppid = (__u32)e->aux;
	im->info.start_ns = e->ts_ns;
	set_str(im->info.comm, sizeof(im->info.comm), e->name,
		sizeof(e->name));
	return 0;
}

static int apply_exec(struct procs *p, const struct ms_event *e)
{
	struct proc_image *old, *im;
	char *command;
	size_t pos;
	int err;

	err = image_for(p, e->pid, e->ts_ns, &old);
	if (err)
		return err;
	pos = old - image_at(p, 0);
	err = tab_array_reserve(&p->images, 1);
	if (!err)
		err = tab_keyed_reserve(&p->open);
	/* Until /proc tells the command line, the file executed names it. */
	if (!err)
		err = command_dup(e->type_name, sizeof(e->type_name),
				  &command);
	if (err)
		return err;
	/* The array may have moved. */
	old = image_at(p, pos);
	close_image(p, old, PROC_EXECED, e->ts_ns);
	err = open_image(p, e->pid, old->image + 1, e->ts_ns,
			 image_at(p, pos), &im);
	if (err) {
		free(command);
		return err;
	}
	im->command = command;
	im->started = true;
	im->kgen = e->seq;
	late_notes_sweep(p, e->pid, im, e->ts_ns);
	im->info.start_ns = e->ts_ns;
	set_str(im->info.comm, sizeof(im->info.comm), e->name,
		sizeof(e->name));
	return 0;
}

static int apply_exit(struct procs *p, const struct ms_event *e)
{
	struct proc_image *im;
	int err;

	err = image_for(p, e->pid, e->ts_ns, &im);
	if (err)
		return err;
	im->exit_code = (int)e->aux;
	close_image(p, im, PROC_EXITED, e->ts_ns);
	late_notes_sweep(p, e->pid, NULL, 0);
	return 0;
}

/* The sum of the images' summaries, but its peak is of their sum. */
static void add_summary(struct store_summary *to,
			const struct store_summary *d)
{
	to->events += d->events;
	to->allocs += d->allocs;
	to->frees += d->frees;
	to->alloc_bytes += d->alloc_bytes;
	to->free_bytes += d->free_bytes;
	to->failed_allocs += d->failed_allocs;
	to->unknown_frees += d->unknown_frees;
	to->replaced += d->replaced;
	to->anomalies += d->anomalies;
	to->unwalked += d->unwalked;
	to->allocator_frees += d->allocator_frees;
	to->forked_frees += d->forked_frees;
	to->late_frees += d->late_frees;
	to->graves_evicted += d->graves_evicted;
	to->stacks_cut += d->stacks_cut;
}

static void sub_summary(struct store_summary *to,
			const struct store_summary *d)
{
	to->events -= d->events;
	to->allocs -= d->allocs;
	to->frees -= d->frees;
	to->alloc_bytes -= d->alloc_bytes;
	to->free_bytes -= d->free_bytes;
	to->failed_allocs -= d->failed_allocs;
	to->unknown_frees -= d->unknown_frees;
	to->replaced -= d->replaced;
	to->anomalies -= d->anomalies;
	to->unwalked -= d->unwalked;
	to->allocator_frees -= d->allocator_frees;
	to->forked_frees -= d->forked_frees;
	to->late_frees -= d->late_frees;
	to->graves_evicted -= d->graves_evicted;
	to->stacks_cut -= d->stacks_cut;
}

static int apply_heap(struct procs *p, const struct ms_event *e)
{
	struct store_summary before;
	const struct store_summary *after;
	struct proc_image *im;
	int err;

	/* A record the store refuses opens no image either. */
	if (!store__valid(e))
		return -EINVAL;
	err = image_for(p, e->pid, e->ts_ns, &im);
	if (err)
		return err;
	before = *store__summary(im->store);
	err = store__apply(im->store, e);
	if (err)
		return err;
	after = store__summary(im->store);
	sub_summary(&p->sum.sum, &before);
	add_summary(&p->sum.sum, after);
	p->sum.sum.live_allocs += after->live_allocs - before.live_allocs;
	p->sum.sum.live_bytes += after->live_bytes - before.live_bytes;
	p->sum.open_bytes += after->live_bytes - before.live_bytes;
	p->sum.open_blocks += after->live_allocs - before.live_allocs;
	if (p->sum.open_bytes > p->sum.sum.peak_bytes) {
		p->sum.sum.peak_bytes = p->sum.open_bytes;
		p->sum.sum.peak_ns = after->last_ns;
	}
	p->last = im - image_at(p, 0);
	return 0;
}

static bool proc_valid(const struct ms_event *e)
{
	if (!e->pid || e->nr_frames)
		return false;
	if (e->type == MS_EV_PROC_START)
		return e->aux && e->aux <= UINT32_MAX;
	return e->type != MS_EV_PROC_EXIT || e->aux <= UINT32_MAX;
}

static void see_ts(struct store_summary *sum, __u64 ts)
{
	if (!sum->first_ns || ts < sum->first_ns)
		sum->first_ns = ts;
	if (ts > sum->last_ns)
		sum->last_ns = ts;
}

/* The curve of the running images together, after a record at ts. */
static void note_time(struct procs *p, __u64 ts)
{
	timeline_note(&p->tl, p->sum.sum.first_ns, ts, p->sum.open_bytes,
		      p->sum.sum.allocs, p->sum.sum.frees);
}

int procs__apply(struct procs *p, const struct ms_event *e)
{
	int err;

	p->took_late = false;
	if (!ms_event_proc(e->type)) {
		if (!e->pid)
			return -EINVAL;
		err = apply_heap(p, e);
		if (err)
			return err;
		see_ts(&p->sum.sum, store__summary(
		       image_at(p, p->last)->store)->last_ns);
		note_time(p, e->ts_ns);
		return 0;
	}
	if (!proc_valid(e))
		return -EINVAL;
	if (e->type == MS_EV_PROC_START)
		err = apply_start(p, e);
	else if (e->type == MS_EV_PROC_EXEC)
		err = apply_exec(p, e);
	else
		err = apply_exit(p, e);
	if (err)
		return err;
	p->sum.lifecycle++;
	p->sum.sum.events++;
	p->last = -1;
	see_ts(&p->sum.sum, e->ts_ns);
	/* an ended image's blocks leave the running ones' curve */
	note_time(p, e->ts_ns);
	return 0;
}

size_t procs__timeline(const struct procs *p,
		       const struct timeline_point **out, __u64 *width_ns)
{
	return timeline_points(&p->tl, out, width_ns);
}

int procs__late(struct procs *p, __u32 pid, __u32 kgen, __u64 since_ns,
		__u64 late_ns)
{
	struct proc_image *im = current(p, pid);
	struct late_note *n;
	bool changed;

	changed = im && !before_kgen(im, kgen) &&
		  late_take(im, since_ns, late_ns);
	if (p->late.nr >= LATE_NOTES) {
		memmove(tab_array_at(&p->late, 0), tab_array_at(&p->late, 1),
			(p->late.nr - 1) * sizeof(*n));
		p->late.nr--;
	}
	if (tab_array_reserve(&p->late, 1))
		return -ENOMEM;
	n = tab_array_push(&p->late);
	n->pid = pid;
	n->kgen = kgen;
	n->since_ns = since_ns;
	n->late_ns = late_ns;
	return changed;
}

int procs__late_ended(struct procs *p, __u32 pid, __u32 kgen,
		      __u64 since_ns, __u64 late_ns)
{
	size_t i, n = p->images.nr;
	struct proc_image *im;

	if (!kgen)
		return -ENOENT;
	/* the newest first: the window is what the last drain brought */
	for (i = n; i > 0 && n - i < PROCS_LATE_SEARCH; i--) {
		im = image_at(p, i - 1);
		if (im->info.pid != pid || im->kgen != kgen)
			continue;
		if (im->end == PROC_RUNNING)
			return -ENOENT;
		/* it ran unprobed until its end, no longer */
		if (im->end_ns > since_ns && since_ns + late_ns > im->end_ns)
			late_ns = im->end_ns - since_ns;
		return late_take(im, since_ns, late_ns);
	}
	return -ENOENT;
}

bool procs__took_late(const struct procs *p)
{
	return p->took_late;
}

int procs__set_info(struct procs *p, const struct procinfo *info)
{
	struct proc_image *im;
	char *command;
	__u64 start_ns;
	int err;

	if (!info->pid)
		return -EINVAL;
	/* strings from outside: cut here whatever they hold */
	err = command_dup(info->command, sizeof(info->command), &command);
	if (!err)
		err = image_for(p, info->pid, info->start_ns, &im);
	if (err) {
		free(command);
		return err;
	}
	start_ns = im->info.start_ns;
	/* /proc never knows an image joined late: what it had stays */
	if (!(info->flags & PROCINFO_LATE) &&
	    (im->info.flags & PROCINFO_LATE)) {
		struct procfacts late = im->info;

		im->info = info->facts;
		im->info.flags |= PROCINFO_LATE;
		im->info.late_ns = late.late_ns;
		im->info.late_end_ns = late.late_end_ns;
	} else {
		im->info = info->facts;
	}
	free(im->command);
	im->command = command;
	/*
	 * Its start or exec record's time is exact; /proc's is the process's
	 * fork, in clock ticks (an exec'd image began ~10 ms before the
	 * fork it came from).
	 */
	if (im->started)
		im->info.start_ns = start_ns;
	im->info.comm[sizeof(im->info.comm) - 1] = '\0';
	im->have_info = true;
	image_late(im);
	return 0;
}

int procs__restore(struct procs *p, size_t i, const struct procinfo *info,
		   const struct ms_counters *kernel)
{
	struct proc_image *im;
	char *command;
	int err;

	if (i >= p->images.nr)
		return -ENOENT;
	im = image_at(p, i);
	if (info && info->pid != im->info.pid)
		return -EINVAL;
	if (info) {
		err = command_dup(info->command, sizeof(info->command),
				  &command);
		if (err)
			return err;
		im->info = info->facts;
		im->info.comm[sizeof(im->info.comm) - 1] = '\0';
		free(im->command);
		im->command = command;
		im->have_info = true;
	}
	if (kernel) {
		im->kernel = *kernel;
		im->have_kernel = true;
	}
	return 0;
}

int procs__set_kernel(struct procs *p, __u32 pid, const struct ms_counters *c)
{
	struct proc_image *im = current(p, pid);

	if (!im)
		return -ENOENT;
	im->kernel = *c;
	im->have_kernel = true;
	return 0;
}

int procs__for_each_live(const struct procs *p, __u32 pid,
			 int (*cb)(const struct store_block *b, void *ctx),
			 void *ctx)
{
	const struct proc_image *im = current(p, pid);

	return im ? store__for_each_live(im->store, cb, ctx) : 0;
}

size_t procs__nr_images(const struct procs *p)
{
	return p->images.nr;
}

const struct proc_image *procs__image(const struct procs *p, size_t i)
{
	return i < p->images.nr ? image_at(p, i) : NULL;
}

int procs__info(const struct procs *p, size_t i, struct procinfo *out)
{
	const struct proc_image *im;

	if (i >= p->images.nr)
		return -ENOENT;
	im = image_at(p, i);
	*out = (struct procinfo){ .facts = im->info };
	if (im->command)
		set_str(out->command, sizeof(out->command), im->command,
			strlen(im->command));
	return 0;
}

long procs__current(const struct procs *p, __u32 pid)
{
	const struct open_pid *o = tab_keyed_get(&p->open, pid);

	return o ? (long)o->image : -ENOENT;
}

long procs__last(const struct procs *p)
{
	return p->last;
}

const struct procs_summary *procs__summary(const struct procs *p)
{
	return &p->sum;
}

size_t procs__mem_bytes(const struct procs *p)
{
	size_t i, n = sizeof(*p) + tab_array_bytes(&p->images) +
		      tab_keyed_bytes(&p->open);

	for (i = 0; i < p->images.nr; i++) {
		const struct proc_image *im = image_at(p, i);

		n += store__mem_bytes(im->store);
		if (im->command)
			n += strlen(im->command) + 1;
	}
	return n;
}
