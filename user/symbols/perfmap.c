/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A runtime's perf map, as perf reads it: entries sorted by start, each
 * with the greatest end of the entries up to it, so a lookup walks back
 * from the last entry starting at or below the address only as far as
 * an entry could still cover it. Names point into one copy of the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfmap.h"
#include "table.h"

/* 4M entries of 32 bytes: a map of PERFMAP_MAX_BYTES has ~2.6M real ones */
#define PERFMAP_MAX_ENTRIES	(4u << 20)
/*
 * Entries a lookup looks through: a runtime lists a piece of code a few
 * times at most; more means a hostile map, and no name is given.
 */
#define PERFMAP_SCAN_MAX	256

struct perfmap_entry {
	__u64 start;
	__u64 end;
	__u64 max_end;		/* of the entries up to this one, sorted */
	const char *name;
};

struct perfmap {
	char *text;		/* the file, lines cut at their ends */
	struct tab_array entries;	/* struct perfmap_entry */
	size_t skipped;
};

/* A hexadecimal number of at most 64 bits, "0x" optional: its end, or NULL. */
static const char *hex(const char *p, const char *end, __u64 *out)
{
	unsigned digits = 0;
	__u64 v = 0;
	int d;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; p < end; p++, digits++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits == 16)
			return NULL;
		v = v << 4 | d;
	}
	if (!digits || p == end || (*p != ' ' && *p != '\t'))
		return NULL;
	*out = v;
	return p;
}

static const char *blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* One line, [p, end): 0 and *e filled, or -EINVAL. */
static int parse_line(char *p, char *end, struct perfmap_entry *e)
{
	const char *q;
	__u64 size;

	if (end > p && end[-1] == '\r')
		end--;
	q = hex(p, end, &e->start);
	if (!q)
		return -EINVAL;
	q = hex(blanks(q, end), end, &size);
	if (!q || !size || e->start + size < e->start)
		return -EINVAL;
	q = blanks(q, end);
	if (q == end)
		return -EINVAL;
	e->end = e->start + size;
	e->name = q;
	*end = 0;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct perfmap_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

struct perfmap *perfmap__parse(const char *buf, size_t len)
{
	struct perfmap_entry e, *es;
	struct perfmap *pm;
	char *p, *end, *nl;
	__u64 max_end = 0;
	size_t i, nr;
	int err;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	tab_array_init(&pm->entries, sizeof(e), PERFMAP_MAX_ENTRIES);
	pm->text = malloc(len + 1);
	if (!pm->text)
		goto fail;
	if (len)
		memcpy(pm->text, buf, len);
	pm->text[len] = 0;
	end = pm->text + len;
	for (p = pm->text; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		/* a NUL inside a line would cut its name short: not an entry */
		err = memchr(p, 0, nl - p) || parse_line(p, nl, &e) ? -EINVAL :
		      tab_array_reserve(&pm->entries, 1);
		if (err == -ENOMEM)
			goto fail;
		if (err) {
			pm->skipped++;
			continue;
		}
		*(struct perfmap_entry *)tab_array_push(&pm->entries) = e;
	}
	es = pm->entries.v;
	nr = pm->entries.nr;
	if (nr)
		qsort(es, nr, sizeof(*es), cmp_start);
	for (i = 0; i < nr; i++) {
		if (es[i].end > max_end)
			max_end = es[i].end;
		es[i].max_end = max_end;
	}
	return pm;
fail:
	perfmap__free(pm);
	errno = ENOMEM;
	return NULL;
}

int perfmap__read(int fd, struct perfmap **out)
{
	size_t len = 0, cap = 64 << 10;
	char *buf, *grown;
	int err = 0;
	ssize_t n;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	/* Read to the end, not to fstat's size: the runtime may be writing */
	for (;;) {
		if (len == cap) {
			if (cap > PERFMAP_MAX_BYTES) {
				err = -EFBIG;
				goto out;
			}
			/* one byte past the bound tells a file that is over it */
			cap = cap * 2 > PERFMAP_MAX_BYTES ? PERFMAP_MAX_BYTES + 1 :
							    cap * 2;
			grown = realloc(buf, cap);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = pread(fd, buf + len, cap - len, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	/* a line still being written is not a whole entry yet */
	while (len && buf[len - 1] != '\n')
		len--;
	*out = perfmap__parse(buf, len);
	if (!*out)
		err = -ENOMEM;
out:
	free(buf);
	return err;
}

void perfmap__free(struct perfmap *pm)
{
	if (!pm)
		return;
	tab_array_fini(&pm->entries);
	free(pm->text);
	free(pm);
}

const char *perfmap__find(const struct perfmap *pm, __u64 addr,
			  bool *reused)
{
	const struct perfmap_entry *es = pm->entries.v;
	size_t lo = 0, hi = pm->entries.nr, steps = 0;
	const char *name = NULL;
	const struct perfmap_entry *e;

	*reused = false;
	if (!hi)
		return NULL;
	/* hi: the entries that start at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (e = es + hi; e-- > es && e->max_end > addr;) {
		if (++steps > PERFMAP_SCAN_MAX) {
			*reused = true;
			return NULL;
		}
		if (e->end <= addr)
			continue;
		if (name && strcmp(name, e->name)) {
			*reused = true;
			return NULL;
		}
		name = e->name;
	}
	return name;
}

size_t perfmap__count(const struct perfmap *pm)
{
	return pm->entries.nr;
}

size_t perfmap__skipped(const struct perfmap *pm)
{
	return pm->skipped;
}
