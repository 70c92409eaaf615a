// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * --live: a top-like view of the trace on the terminal, redrawn every
 * second, while the report still comes at the end. The rows come from
 * top.h over the store; this file only reads keys and draws, with plain
 * ANSI sequences on /dev/tty (no curses: a dozen sequences and termios
 * do, and stdout stays free for the report).
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
#include "report.h"
#include "report_text.h"
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

struct live_view {
	int tty;
	bool started;		/* the terminal is ours: live__start */
	struct termios saved;
	struct top *top;
	enum top_sort sort;
	size_t selected;	/* row index in the sorted rows */
	__u32 selected_id;	/* its stack, kept across re-sorting */
	frame_resolve_fn resolve;
	void *resolve_ctx;
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
	v->top = top__new();
	v->tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (!v->top || v->tty < 0)
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
	top__free(v->top);
	free(v);
	return NULL;
}

int live__start(struct live_view *v, frame_resolve_fn resolve, void *ctx)
{
	struct termios raw = v->saved;

	v->resolve = resolve;
	v->resolve_ctx = ctx;
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
	if (!v)
		return;
	if (v->started)
		restore_tty(v->tty, &v->saved);
	saved_tty = -1;
	close(v->tty);
	free(v->buf);
	top__free(v->top);
	free(v);
}

int live__fd(const struct live_view *v)
{
	return v->tty;
}

/* The name of frame 0 of a stack, as the text report names it. */
static void site_name(struct live_view *v, const struct store_site *site,
		      char *buf, size_t size)
{
	const struct frame *fr;
	char *text = NULL, *s;
	size_t len = 0;
	unsigned n = 0;
	FILE *f;

	snprintf(buf, size, "[no stack]");
	if (!site->nr_frames)
		return;
	if (v->resolve)
		n = v->resolve(v->resolve_ctx, site->frames[0], &fr);
	f = open_memstream(&text, &len);
	if (!f)
		return;
	if (n) {
		report_text_frames(f, &fr[n - 1], 1);
	} else {
		fprintf(f, "0x%llx", (unsigned long long)site->frames[0]);
	}
	fclose(f);
	for (s = text; *s == ' '; s++)
		;
	snprintf(buf, size, "%.*s", (int)strcspn(s, "\n"), s);
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
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line && lines > 0;
	     line = strtok_r(NULL, "\n", &save), lines--)
		fprintf(v->out, "  %.*s\033[K\r\n", cols - 2,
			line + strspn(line, " "));
	free(text);
}

static void draw(struct live_view *v, const struct store *st,
		 const struct live_status *status)
{
	const struct store_summary *sum = store__summary(st);
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	const struct top_row *rows, *r;
	struct store_site site;
	size_t nr, i, shown, first;
	char name[256];
	int list;

	ioctl(v->tty, TIOCGWINSZ, &ws);
	if (ws.ws_row < 12)
		ws.ws_row = 12;
	/* the columns before SITE take 65 */
	if (ws.ws_col < 80)
		ws.ws_col = 80;
	rows = top__rows(v->top, &nr);
	free(v->buf);
	v->buf = NULL;
	v->out = open_memstream(&v->buf, &v->len);
	if (!v->out)
		return;
	fputs(HOME_CLEAR, v->out);
	fprintf(v->out,
		"memscope-bpf --live  pid %d  %.0f s  live %llu bytes in %llu blocks  peak %llu bytes  lost %llu\033[K\r\n",
		status->pid, status->elapsed_ns / 1e9,
		(unsigned long long)sum->live_bytes,
		(unsigned long long)sum->live_allocs,
		(unsigned long long)sum->peak_bytes,
		(unsigned long long)status->lost);
	fprintf(v->out,
		"sorted by %s  keys: l live, g growth, a allocations, j/k or arrows select, q quit\033[K\r\n",
		sort_names[v->sort]);
	fprintf(v->out, REVERSE "%4s %14s %8s %14s %10s  %-7s %-*s" NORMAL "\r\n",
		"#", "LIVE BYTES", "BLOCKS", "GROWTH/S", "ALLOCS", "FAMILY",
		ws.ws_col - 65, "SITE");
	/* half the screen for the list, the rest for the selected stack */
	list = (ws.ws_row - 5) / 2;
	if (v->selected >= nr)
		v->selected = nr ? nr - 1 : 0;
	first = v->selected >= (size_t)list ? v->selected - list + 1 : 0;
	shown = nr - first < (size_t)list ? nr - first : (size_t)list;
	for (i = first; i < first + shown; i++) {
		r = &rows[i];
		if (store__site(st, r->stack_id, &site))
			continue;
		site_name(v, &site, name, sizeof(name));
		fprintf(v->out, "%s%c%3zu %14llu %8llu %+14lld %10llu  %-7s %.*s" NORMAL "\033[K\r\n",
			i == v->selected ? REVERSE : "",
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
	if (nr && !store__site(st, rows[v->selected].stack_id, &site)) {
		v->selected_id = rows[v->selected].stack_id;
		fprintf(v->out, REVERSE "stack of #%zu%*s" NORMAL "\r\n",
			v->selected + 1, ws.ws_col - 12, "");
		draw_stack(v, &site, ws.ws_row - 5 - list, ws.ws_col);
	} else {
		fputs("(no call site yet)\033[K\r\n", v->out);
	}
	fclose(v->out);
	v->out = NULL;
	if (write(v->tty, v->buf, v->len) < 0 && errno != EAGAIN)
		return;
}

int live__draw(struct live_view *v, const struct store *st,
	       const struct live_status *status)
{
	const struct top_row *rows;
	size_t nr, i;
	int err;

	err = top__refresh(v->top, st, v->sort);
	if (err)
		return err;
	/* the selection follows its site when the order changes */
	rows = top__rows(v->top, &nr);
	for (i = 0; i < nr; i++) {
		if (rows[i].stack_id == v->selected_id) {
			v->selected = i;
			break;
		}
	}
	draw(v, st, status);
	return 0;
}

bool live__keys(struct live_view *v, const struct store *st,
		const struct live_status *status)
{
	enum top_sort sort = v->sort;
	const struct top_row *rows;
	unsigned char keys[64];
	bool moved = false;
	size_t nr;
	ssize_t n, i;

	rows = top__rows(v->top, &nr);
	while ((n = read(v->tty, keys, sizeof(keys))) > 0) {
		for (i = 0; i < n; i++) {
			switch (keys[i]) {
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
			case 'j':
			case 'B':	/* ESC [ B: down */
				if (v->selected + 1 < nr)
					v->selected++;
				break;
			case 'k':
			case 'A':	/* ESC [ A: up */
				if (v->selected)
					v->selected--;
				break;
			default:
				continue;
			}
			moved = true;
		}
	}
	if (!moved)
		return false;
	if (v->selected < nr)
		v->selected_id = rows[v->selected].stack_id;
	if (v->sort != sort) {
		/* a new order at once, without the growth clock moving */
		top__sort(v->top, v->sort);
		for (v->selected = 0; v->selected < nr; v->selected++)
			if (rows[v->selected].stack_id == v->selected_id)
				break;
	}
	draw(v, st, status);
	return false;
}
