// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * --live: a top-like view of the trace on the terminal, redrawn every
 * second, while the report still comes at the end. The rows come from
 * top.h over each running process image's store, one struct top per
 * image so growth is per process; this file only reads keys and draws,
 * with plain ANSI sequences on /dev/tty (no curses: a dozen sequences and
 * termios do, and stdout stays free for the report). A trace of one
 * image shows its sites alone; with several, a process pane (the running
 * images by live bytes) comes first and the sites are the selected one's.
 *
 * The terminal is put back as it was (termios, main screen, cursor) by
 * live__free, and by a handler of the signals that would end the tool
 * without it (the trace loop takes SIGINT and SIGTERM itself and ends
 * through live__free).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "live.h"
#include "names.h"
#include "report.h"
#include "report_text.h"
#include "table.h"
#include "top.h"

#define ENTER_SCREEN	"\033[?1049h\033[?25l"
#define LEAVE_SCREEN	"\033[?25h\033[?1049l"
#define HOME_CLEAR	"\033[H\033[2J"
#define REVERSE		"\033[7m"
#define NORMAL		"\033[m"

static const char *const sort_names[TOP_SORT__COUNT] = {
	[TOP_SORT_LIVE] = "live bytes",
	[TOP_SORT_GROWTH] = "growth",
	[TOP_SORT_ALLOCS] = "allocations",
};

/* A running image's rows and where its selection is. */
struct live_proc {
	struct top *top;	/* NULL while not running */
	__u32 selected_id;	/* its selected site's stack */
	bool chosen;		/* selected_id is one: stack ids start at 0 */
};

/* A row of the process pane. */
struct live_order {
	__u64 live_bytes;
	size_t image;
};

struct live_view {
	int tty;
	bool started;		/* the terminal is ours: live__start */
	struct termios saved;
	enum top_sort sort;
	struct live_proc *procs;	/* by image number */
	size_t nr_procs, cap_procs;
	struct live_order *order;	/* running images, most live first */
	size_t nr_order, cap_order;
	size_t image;		/* the selected image, kept across orders */
	size_t proc_row;	/* its row in order */
	bool in_procs;		/* the keys move in the process pane */
	size_t selected;	/* site row index in the sorted rows */
	frame_resolve_fn resolve;
	void *(*image_ctx)(void *ctx, size_t i);
	void *ctx;
	void *resolve_ctx;	/* the selected image's */
	char *buf;		/* the frame being drawn */
	size_t len;
	FILE *out;
};

/* For the fatal-signal handler: the one view's terminal. */
static int saved_tty = -1;
static struct termios saved_termios;

static void restore_tty(int tty, const struct termios *t)
{
	ssize_t n;

	tcsetattr(tty, TCSAFLUSH, t);
	n = write(tty, LEAVE_SCREEN, sizeof(LEAVE_SCREEN) - 1);
	(void)n;
}

static void on_fatal(int sig)
{
	if (saved_tty >= 0)
		restore_tty(saved_tty, &saved_termios);
	/* SA_RESETHAND: the default action, core dump and all */
	raise(sig);
}

static void catch_fatal(void)
{
	static const int sigs[] = {
		SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT, SIGHUP,
	};
	struct sigaction sa = {
		.sa_handler = on_fatal,
		.sa_flags = SA_RESETHAND,
	};
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

struct live_view *live__new(void)
{
	struct live_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (v->tty < 0)
		goto err_free;
	if (tcgetattr(v->tty, &v->saved))
		goto err_close;
	/* In the background, reading keys would stop the tool (SIGTTIN). */
	if (tcgetpgrp(v->tty) != getpgrp()) {
		errno = ENOTTY;
		goto err_close;
	}
	return v;

err_close:
	close(v->tty);
err_free:
	free(v);
	return NULL;
}

int live__start(struct live_view *v, frame_resolve_fn resolve,
		void *(*image_ctx)(void *ctx, size_t i), void *ctx)
{
	struct termios raw = v->saved;

	v->resolve = resolve;
	v->image_ctx = image_ctx;
	v->ctx = ctx;
	/* keys one at a time, unechoed; ^C still signals */
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	saved_termios = v->saved;
	saved_tty = v->tty;
	catch_fatal();
	if (tcsetattr(v->tty, TCSAFLUSH, &raw))
		goto err;
	v->started = true;
	if (write(v->tty, ENTER_SCREEN, sizeof(ENTER_SCREEN) - 1) < 0)
		goto err;
	return 0;

err:
	/* what little was changed goes back with live__free */
	return -errno;
}

void live__free(struct live_view *v)
{
	size_t i;

	if (!v)
		return;
	if (v->started)
		restore_tty(v->tty, &v->saved);
	saved_tty = -1;
	close(v->tty);
	free(v->buf);
	for (i = 0; i < v->nr_procs; i++)
		top__free(v->procs[i].top);
	free(v->procs);
	free(v->order);
	free(v);
}

int live__fd(const struct live_view *v)
{
	return v->tty;
}

/* A site's line, as the snapshots name it: its innermost frame. */
static void site_name(struct live_view *v, const struct store_site *site,
		      char *buf, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(buf, size, "?");
	f = open_memstream(&text, &len);
	if (!f)
		return;
	report_text_site_addrs(f, site->frames, site->nr_frames, 1,
			       v->resolve, v->resolve_ctx);
	/* Not a stack of one frame: the rest was not kept. */
	if (site->flags & MS_EVF_STACK_FULL)
		fputs(" < (cut: --max-stacks)", f);
	if (!fclose(f))
		snprintf(buf, size, "%s", text);
	free(text);
}

/* Up to lines lines of the selected site's stack, every frame named. */
static void draw_stack(struct live_view *v, const struct store_site *site,
		       int lines, int cols)
{
	const struct frame *fr;
	char *text = NULL, *line, *save;
	size_t len = 0;
	unsigned n;
	__u32 i;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return;
	for (i = 0; i < site->nr_frames; i++) {
		n = v->resolve ? v->resolve(v->resolve_ctx, site->frames[i],
					    &fr) : 0;
		if (n)
			report_text_frames(f, fr, n);
		else
			fprintf(f, "0x%llx\n",
				(unsigned long long)site->frames[i]);
	}
	if (!site->nr_frames)
		fputs("(no stack captured)\n", f);
	report_text_stack_end(f, "", site->nr_frames, site->flags);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line && lines > 0;
	     line = strtok_r(NULL, "\n", &save), lines--)
		fprintf(v->out, "  %.*s\033[K\r\n", cols - 2,
			line + strspn(line, " "));
	free(text);
}

/* The selected image's rows; none when no image runs. */
static const struct top_row *cur_rows(const struct live_view *v, size_t *nr)
{
	*nr = 0;
	if (!v->nr_order)
		return NULL;
	return top__rows(v->procs[v->image].top, nr);
}

/* The site selection follows the selected image's site across orders. */
static void follow_site(struct live_view *v)
{
	size_t nr, i;
	const struct top_row *rows = cur_rows(v, &nr);

	if (!nr || !v->procs[v->image].chosen)
		return;
	for (i = 0; i < nr; i++) {
		if (rows[i].stack_id == v->procs[v->image].selected_id) {
			v->selected = i;
			return;
		}
	}
}

/*
 * A comm as the process pane shows it, in buf: the process names itself
 * (prctl), and a control character would reach the terminal as one.
 */
static const char *comm_text(const char *comm, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f || !comm[0]) {
		if (f)
			fclose(f);
		return "?";
	}
	name_put(f, comm);
	/* fmemopen ends what fits with a NUL, and the escapes fit 64 */
	fclose(f);
	return buf;
}

/* The process pane: its header and rows rows, the selected one marked. */
static void draw_procs(struct live_view *v, const struct procs *p, size_t rows,
		       int cols)
{
	const struct proc_image *im;
	const struct store_summary *sum;
	size_t i, first, shown;
	char comm[4 * PROCINFO_COMM];
	bool sel;

	fprintf(v->out, REVERSE "%4s %8s %4s %-15s %14s %8s %14s%*s" NORMAL "\r\n",
		"#", "PID", "EXEC", "COMM", "LIVE BYTES", "BLOCKS", "GROWTH/S",
		cols - 73, "");
	first = v->proc_row >= rows ? v->proc_row - rows + 1 : 0;
	shown = v->nr_order - first < rows ? v->nr_order - first : rows;
	for (i = first; i < first + shown; i++) {
		im = procs__image(p, v->order[i].image);
		sum = store__summary(im->store);
		sel = i == v->proc_row;
		fprintf(v->out, "%s%c%3zu %8u %4u %-15.15s %14llu %8llu %+14lld" NORMAL "\033[K\r\n",
			sel && v->in_procs ? REVERSE : "", sel ? '>' : ' ',
			i + 1, im->info.pid, im->image,
			comm_text(im->info.comm, comm, sizeof(comm)),
			(unsigned long long)sum->live_bytes,
			(unsigned long long)sum->live_allocs,
			top__growth(v->procs[v->order[i].image].top));
	}
	for (i = shown; i < rows; i++)
		fputs("\033[K\r\n", v->out);
}

static void draw(struct live_view *v, const struct procs *p,
		 const struct live_status *status)
{
	const struct procs_summary *all = procs__summary(p);
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	bool many = procs__nr_images(p) > 1;
	const struct proc_image *im = NULL;
	const struct top_row *rows, *r;
	size_t nr, i, shown, first, nr_procs = 0;
	struct store_site site;
	char name[256];
	int list, avail;

	ioctl(v->tty, TIOCGWINSZ, &ws);
	if (ws.ws_row < 12)
		ws.ws_row = 12;
	/* the columns before SITE take 65 */
	if (ws.ws_col < 80)
		ws.ws_col = 80;
	rows = cur_rows(v, &nr);
	if (v->nr_order) {
		im = procs__image(p, v->image);
		v->resolve_ctx = v->image_ctx ? v->image_ctx(v->ctx, v->image) :
						v->ctx;
	}
	free(v->buf);
	v->buf = NULL;
	v->out = open_memstream(&v->buf, &v->len);
	if (!v->out)
		return;
	fputs(HOME_CLEAR, v->out);
	/*
	 * What the running processes hold, as the peak counts it: an ended
	 * process's blocks went with it.
	 */
	fputs("memscope-bpf --live  ", v->out);
	/* pid 0: a set with no first process (-a, --comm, --cgroup) */
	if (status->pid) {
		long at = procs__current(p, status->pid);
		const char *comm = at >= 0 ? procs__image(p, at)->info.comm : "";

		fprintf(v->out, "pid %d", status->pid);
		/* what the pid runs now: its comm, as the report's header */
		if (comm[0]) {
			fputs(" (", v->out);
			name_put(v->out, comm);
			fputc(')', v->out);
		}
	} else {
		fputs("a set of processes", v->out);
	}
	fprintf(v->out,
		"  %.0f s  live %llu bytes in %llu blocks  peak %llu bytes  lost %llu",
		status->elapsed_ns / 1e9,
		(unsigned long long)all->open_bytes,
		(unsigned long long)all->open_blocks,
		(unsigned long long)all->sum.peak_bytes,
		(unsigned long long)status->lost);
	if (all->sum.stacks_cut)
		fprintf(v->out, "  %llu cut (--max-stacks)",
			(unsigned long long)all->sum.stacks_cut);
	if (many)
		fprintf(v->out, "  %zu running", v->nr_order);
	fputs("\033[K\r\n", v->out);
	if (many)
		fprintf(v->out,
			"sorted by %s  l/g/a sort, j/k select, tab processes/sites, q quit\033[K\r\n",
			sort_names[v->sort]);
	else
		fprintf(v->out,
			"sorted by %s  keys: l live, g growth, a allocations, j/k or arrows select, q quit\033[K\r\n",
			sort_names[v->sort]);
	avail = ws.ws_row - 5;
	if (many) {
		/* a quarter of the lines for the processes, 2 at least */
		nr_procs = avail / 4 > 2 ? avail / 4 : 2;
		draw_procs(v, p, nr_procs, ws.ws_col);
		avail -= nr_procs + 1;
	}
	fprintf(v->out, REVERSE "%4s %14s %8s %14s %10s  %-7s %-*s" NORMAL "\r\n",
		"#", "LIVE BYTES", "BLOCKS", "GROWTH/S", "ALLOCS", "FAMILY",
		ws.ws_col - 65, "SITE");
	/* half the lines left for the sites, the rest for the stack */
	list = avail / 2;
	if (v->selected >= nr)
		v->selected = nr ? nr - 1 : 0;
	first = v->selected >= (size_t)list ? v->selected - list + 1 : 0;
	shown = nr - first < (size_t)list ? nr - first : (size_t)list;
	for (i = first; i < first + shown; i++) {
		r = &rows[i];
		if (store__site(im->store, r->stack_id, &site))
			continue;
		site_name(v, &site, name, sizeof(name));
		fprintf(v->out, "%s%c%3zu %14llu %8llu %+14lld %10llu  %-7s %.*s" NORMAL "\033[K\r\n",
			i == v->selected && !v->in_procs ? REVERSE : "",
			i == v->selected ? '>' : ' ', i + 1,
			(unsigned long long)r->live_bytes,
			(unsigned long long)r->live_count,
			(long long)r->growth_bytes,
			(unsigned long long)r->allocs,
			report_family_name(r->family) ?: "?",
			ws.ws_col - 65, name);
	}
	for (i = shown; i < (size_t)list; i++)
		fputs("\033[K\r\n", v->out);
	if (nr && !store__site(im->store, rows[v->selected].stack_id, &site)) {
		v->procs[v->image].selected_id = rows[v->selected].stack_id;
		v->procs[v->image].chosen = true;
		fprintf(v->out, REVERSE "stack of #%zu%*s" NORMAL "\r\n",
			v->selected + 1, ws.ws_col - 12, "");
		draw_stack(v, &site, avail - list, ws.ws_col);
	} else {
		fputs("(no call site yet)\033[K\r\n", v->out);
	}
	fclose(v->out);
	v->out = NULL;
	if (write(v->tty, v->buf, v->len) < 0 && errno != EAGAIN)
		return;
}

static int cmp_order(const void *a, const void *b)
{
	const struct live_order *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes ? -1 : 1;
	return x->image < y->image ? -1 : x->image > y->image;
}

/*
 * Every running image's rows anew (an ended one's top is dropped: it is
 * no longer listed), the process pane's order, and the selected image
 * found again in it (the row it was at when it ended).
 */
static int refresh(struct live_view *v, const struct procs *p)
{
	size_t i, n = procs__nr_images(p);
	const struct proc_image *im;
	struct live_proc *lp;
	int err;

	if (n > v->nr_procs) {
		if (tab_grow((void **)&v->procs, &v->cap_procs, n,
			     sizeof(*v->procs)) ||
		    tab_grow((void **)&v->order, &v->cap_order, n,
			     sizeof(*v->order)))
			return -ENOMEM;
		memset(v->procs + v->nr_procs, 0,
		       (n - v->nr_procs) * sizeof(*v->procs));
		v->nr_procs = n;
	}
	v->nr_order = 0;
	for (i = 0; i < n; i++) {
		im = procs__image(p, i);
		lp = &v->procs[i];
		if (im->end != PROC_RUNNING) {
			top__free(lp->top);
			*lp = (struct live_proc){ 0 };
			continue;
		}
		if (!lp->top) {
			lp->top = top__new();
			if (!lp->top)
				return -ENOMEM;
		}
		err = top__refresh(lp->top, im->store, v->sort);
		if (err)
			return err;
		v->order[v->nr_order++] = (struct live_order){
			.live_bytes = store__summary(im->store)->live_bytes,
			.image = i,
		};
	}
	qsort(v->order, v->nr_order, sizeof(*v->order), cmp_order);
	for (i = 0; i < v->nr_order && v->order[i].image != v->image; i++)
		;
	if (i == v->nr_order) {
		/* gone: the one now at its row */
		i = v->proc_row < v->nr_order ? v->proc_row :
		    v->nr_order ? v->nr_order - 1 : 0;
		if (v->nr_order)
			v->image = v->order[i].image;
		v->selected = 0;
	}
	v->proc_row = i;
	return 0;
}

int live__draw(struct live_view *v, const struct procs *p,
	       const struct live_status *status)
{
	int err = refresh(v, p);

	if (err)
		return err;
	follow_site(v);
	draw(v, p, status);
	return 0;
}

/* Another image selected: its sites, at its own selection. */
static void select_proc(struct live_view *v, size_t row)
{
	v->proc_row = row;
	v->image = v->order[row].image;
	v->selected = 0;
	follow_site(v);
}

bool live__keys(struct live_view *v, const struct procs *p,
		const struct live_status *status)
{
	bool many = procs__nr_images(p) > 1;
	enum top_sort sort = v->sort;
	const struct top_row *rows;
	unsigned char keys[64];
	bool moved = false;
	size_t nr, i;
	ssize_t n, k;

	rows = cur_rows(v, &nr);
	while ((n = read(v->tty, keys, sizeof(keys))) > 0) {
		for (k = 0; k < n; k++) {
			switch (keys[k]) {
			case 'q':
			case 'Q':
				return true;
			case 'l':
				v->sort = TOP_SORT_LIVE;
				break;
			case 'g':
				v->sort = TOP_SORT_GROWTH;
				break;
			case 'a':
				v->sort = TOP_SORT_ALLOCS;
				break;
			case '\t':
				if (!many)
					continue;
				v->in_procs = !v->in_procs;
				break;
			case 'D':	/* ESC [ D: left, to the processes */
			case 'C':	/* ESC [ C: right, to the sites */
				if (!many)
					continue;
				v->in_procs = keys[k] == 'D';
				break;
			case 'j':
			case 'B':	/* ESC [ B: down */
				if (v->in_procs) {
					if (v->proc_row + 1 < v->nr_order)
						select_proc(v, v->proc_row + 1);
					rows = cur_rows(v, &nr);
				} else if (v->selected + 1 < nr) {
					v->selected++;
				}
				break;
			case 'k':
			case 'A':	/* ESC [ A: up */
				if (v->in_procs) {
					if (v->proc_row)
						select_proc(v, v->proc_row - 1);
					rows = cur_rows(v, &nr);
				} else if (v->selected) {
					v->selected--;
				}
				break;
			default:
				continue;
			}
			moved = true;
		}
	}
	if (!moved)
		return false;
	if (v->selected < nr) {
		v->procs[v->image].selected_id = rows[v->selected].stack_id;
		v->procs[v->image].chosen = true;
	}
	if (v->sort != sort) {
		/* a new order at once, without the growth clock moving */
		for (i = 0; i < v->nr_order; i++)
			top__sort(v->procs[v->order[i].image].top, v->sort);
		follow_site(v);
	}
	draw(v, p, status);
	return false;
}
