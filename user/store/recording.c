/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Recordings: writer and reader of the .msr format (see recording.h).
 *
 * Fields are in host byte order, like the records themselves, which are
 * the ring buffer's bytes unchanged; the prelude's byte-order mark and the
 * header's record layout make a file from another machine or another
 * events.h fail with a clear reason instead of replaying garbage.
 *
 * The reader trusts nothing: every length is checked against a named
 * limit before anything is allocated for it, a frame's CRC is checked
 * before it is decompressed, and zlib is told the exact raw length, so a
 * frame can neither overrun its buffer nor inflate past the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "prologue.h"
#include "recording.h"
#include "table.h"

#define REC_MAGIC		"\x89MSR\r\n\x1a\n"
#define REC_MAGIC_LEN		(sizeof(REC_MAGIC) - 1)
#define REC_BOM			0x01020304u
/* Speed over ratio: frames are compressed on the consumer's thread. */
#define REC_ZLEVEL		Z_BEST_SPEED
/* A string's length field for a NULL string. */
#define REC_STR_NULL		UINT32_MAX

enum rec_frame_type {
	REC_FRAME_HEADER = 1,
	REC_FRAME_EVENTS,
	REC_FRAME_SYMBOLS,
	REC_FRAME_TRAILER,
	REC_FRAME_PROCS,	/* 5: before the trailer */
	REC_FRAME_PROCINFO,	/* 5: among the records */
	REC_FRAME_SNAPSHOT,	/* 6: among the records */
	REC_FRAME_SCAN,		/* 7: among the records */
	REC_FRAME_SCAN_PART,	/* 7: right after its SCAN */
	REC_FRAME__COUNT,
};

/* A probe's flags, in the trailer. */
#define REC_PROBE_RETURN	(1u << 0)
#define REC_PROBE_EMULATED	(1u << 1)
/* Not probed: a third string, the function it forwards to, follows. */
#define REC_PROBE_FORWARDS	(1u << 2)
/* A layer, probed at its entry only: what counts its blocks follows. */
#define REC_PROBE_LAYER		(1u << 3)
/* A return probe on a function that may throw. */
#define REC_PROBE_THROW_ENDS	(1u << 4)
/* Bits 8-15: why the probe is single-stepped (enum prologue_reason). */
#define REC_PROBE_REASON_SHIFT	8
#define REC_PROBE_REASON_MASK	0xffu
#define REC_PROBE_KNOWN		(REC_PROBE_RETURN | REC_PROBE_EMULATED | \
				 REC_PROBE_FORWARDS | REC_PROBE_LAYER | \
				 REC_PROBE_THROW_ENDS | \
				 REC_PROBE_REASON_MASK << REC_PROBE_REASON_SHIFT)

/*
 * How the target ended, in the trailer's word that once held only
 * "exited" (0 or 1, so older files read the same).
 */
#define REC_END_EXITED		(1u << 0)
#define REC_END_DETACHED	(1u << 1)
#define REC_END_KILLED		(1u << 2)
/* exited, and its status not known (older files said 0) */
#define REC_END_STATUS_UNKNOWN	(1u << 3)
#define REC_END_ALL		(REC_END_EXITED | REC_END_DETACHED | \
				 REC_END_KILLED | REC_END_STATUS_UNKNOWN)

struct rec_prelude {
	char magic[REC_MAGIC_LEN];
	__u32 version;
	__u32 bom;
};

/* crc covers the three fields before it, then the compressed payload. */
struct rec_frame {
	__u32 type;
	__u32 raw_len;
	__u32 z_len;
	__u32 crc;
};

#define REC_FRAME_CRC_LEN	offsetof(struct rec_frame, crc)

/* The reader hands out records in place, inside the frame buffer. */
_Static_assert(offsetof(struct ms_event, frames) % 8 == 0 &&
	       sizeof(struct ms_event) % 8 == 0,
	       "every record length must keep the next record aligned");

/* The record layout a file was made with: events.h at the time. */
struct rec_layout {
	__u32 event_hdr;
	__u32 max_stack;
	__u32 str_max;
	__u32 counters;
};

static const struct rec_layout layout = {
	.event_hdr = MS_EVENT_HDR_SIZE,
	.max_stack = MS_MAX_STACK,
	.str_max = MS_STR_MAX,
	.counters = sizeof(struct ms_counters),
};

static __u32 frame_crc(const struct rec_frame *fr, const void *z)
{
	uLong crc = crc32(0, (const Bytef *)fr, REC_FRAME_CRC_LEN);

	return crc32(crc, z, fr->z_len);
}

/* Writing ------------------------------------------------------------------ */

/*
 * A frame's payload being built; never grows past REC_FRAME_RAW_MAX. The
 * first error sticks and later puts do nothing, so a payload is built
 * without a check per field and checked once.
 */
struct wbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int err;
};

struct recorder {
	int fd;
	char *path;
	char *partial;		/* NULL: writing to path in place */
	int err;		/* the first error; sticks */
	struct wbuf events;	/* records not yet in a frame */
	__u64 records;		/* records added */
	struct wbuf meta;	/* header, symbols, trailer payloads */
	unsigned char *z;	/* frame header + compressed payload */
	size_t z_cap;
	size_t sym_bytes;	/* symbols written, against REC_SYMBOL_BYTES_MAX */
	/*
	 * Addresses whose symbols are in the file already: symbols go out as
	 * stacks appear, so a killed tool's .partial still symbolizes, and
	 * the end adds only what is left.
	 */
	struct tab_keyed *written;	/* by image: __u64 addresses */
	size_t nr_written;
	size_t nr_frames;	/* their frames, against REC_SYMBOLS_MAX */
	/*
	 * Addresses written while nothing was known of them (struct
	 * rec_unknown): the end writes again those it knows by then.
	 */
	struct tab_array unknown;
};

struct rec_unknown {
	__u64 addr;
	__u32 image;
};

static void wbuf_reset(struct wbuf *b)
{
	b->len = 0;
	b->err = 0;
}

static int wbuf_reserve(struct wbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->err)
		return b->err;
	if (n > REC_FRAME_RAW_MAX - b->len)
		return b->err = -E2BIG;
	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	if (cap > REC_FRAME_RAW_MAX)
		cap = REC_FRAME_RAW_MAX;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void wbuf_put(struct wbuf *b, const void *data, size_t n)
{
	if (wbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void wbuf_u32(struct wbuf *b, __u32 v)
{
	wbuf_put(b, &v, sizeof(v));
}

static void wbuf_u64(struct wbuf *b, __u64 v)
{
	wbuf_put(b, &v, sizeof(v));
}

/* Bytes wbuf_str() takes for s. */
static size_t str_size(const char *s)
{
	return sizeof(__u32) + (s ? strnlen(s, REC_STR_MAX) : 0);
}

/* s, at most max bytes of it (a field of that size need not end). */
static void wbuf_strn(struct wbuf *b, const char *s, size_t max)
{
	size_t n;

	if (!s) {
		wbuf_u32(b, REC_STR_NULL);
		return;
	}
	n = strnlen(s, max);
	wbuf_u32(b, n);
	wbuf_put(b, s, n);
}

static void wbuf_str(struct wbuf *b, const char *s)
{
	wbuf_strn(b, s, REC_STR_MAX);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t done;

	while (n) {
		done = write(fd, p, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		p += done;
		n -= done;
	}
	return 0;
}

/* One frame, compressed and checksummed, in one write. */
static int write_frame(struct recorder *w, __u32 type, const struct wbuf *b)
{
	static const Bytef empty;
	uLongf z_len = compressBound(b->len);
	size_t need = sizeof(struct rec_frame) + z_len;
	struct rec_frame fr = { .type = type, .raw_len = b->len };
	unsigned char *z;

	if (b->err)
		return b->err;
	if (need > w->z_cap) {
		z = realloc(w->z, need);
		if (!z)
			return -ENOMEM;
		w->z = z;
		w->z_cap = need;
	}
	z = w->z + sizeof(fr);
	if (compress2(z, &z_len, b->len ? b->p : &empty, b->len,
		      REC_ZLEVEL) != Z_OK)
		return -ENOMEM;
	fr.z_len = z_len;
	fr.crc = frame_crc(&fr, z);
	memcpy(w->z, &fr, sizeof(fr));
	return write_all(w->fd, w->z, sizeof(fr) + z_len);
}

/* Keeps the first error; a recorder in error writes nothing more. */
static int stick(struct recorder *w, int err)
{
	if (err && !w->err)
		w->err = err;
	return w->err;
}

static void release(struct recorder *w, bool remove_partial)
{
	size_t i;

	if (w->fd >= 0)
		close(w->fd);
	if (w->partial && remove_partial)
		unlink(w->partial);
	free(w->events.p);
	free(w->meta.p);
	free(w->z);
	for (i = 0; i < w->nr_written; i++)
		tab_keyed_fini(&w->written[i]);
	free(w->written);
	tab_array_fini(&w->unknown);
	free(w->partial);
	free(w->path);
	free(w);
}

struct recorder *recorder__new(const char *path)
{
	struct recorder *w;
	struct stat st;
	int err;

	w = calloc(1, sizeof(*w));
	if (w)
		tab_array_init(&w->unknown, sizeof(struct rec_unknown), 0);
	if (!w)
		return NULL;
	w->fd = -1;
	w->path = strdup(path);
	if (!w->path)
		goto err_release;
	/* As outfile does: a FIFO or /dev/fd/N is written, not replaced. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			goto err_release;
		}
		w->fd = open(path, O_WRONLY | O_CLOEXEC);
	} else if (asprintf(&w->partial, "%s" RECORDING_PARTIAL, path) >= 0) {
		/* Never clobber another run's recording, live or left over. */
		w->fd = open(w->partial,
			     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	} else {
		w->partial = NULL;
	}
	/* No file was created: a .partial that exists is someone else's. */
	if (w->fd < 0) {
		free(w->partial);
		w->partial = NULL;
		goto err_release;
	}
	/* Once for all: a full frame plus one record always fits. */
	err = wbuf_reserve(&w->events,
			   REC_EVENTS_FRAME + sizeof(struct ms_event));
	if (err) {
		errno = -err;
		goto err_release;
	}
	return w;

err_release:
	err = errno;
	release(w, true);
	errno = err;
	return NULL;
}

int recorder__start(struct recorder *w, const struct recording_info *info)
{
	struct rec_prelude pre = {
		.version = RECORDING_VERSION,
		.bom = REC_BOM,
	};
	struct wbuf *b = &w->meta;
	int err, i;

	memcpy(pre.magic, REC_MAGIC, REC_MAGIC_LEN);
	err = write_all(w->fd, (const unsigned char *)&pre, sizeof(pre));
	if (err)
		return stick(w, err);
	wbuf_reset(b);
	wbuf_put(b, &layout, sizeof(layout));
	wbuf_u64(b, info->wall_ns);
	wbuf_u64(b, info->start_ns);
	wbuf_u32(b, info->pid);
	wbuf_u32(b, info->top);
	for (i = 0; i < RECORDING_RULE_OPTS; i++)
		wbuf_u64(b, info->rule_opts[i]);
	wbuf_str(b, info->tool_version);
	wbuf_str(b, info->command);
	wbuf_str(b, trace_mode_name(info->mode));
	wbuf_u32(b, info->fold);
	return stick(w, write_frame(w, REC_FRAME_HEADER, b));
}

int recorder__flush(struct recorder *w)
{
	int err;

	if (w->err || !w->events.len)
		return w->err;
	err = write_frame(w, REC_FRAME_EVENTS, &w->events);
	w->events.len = 0;
	return stick(w, err);
}

int recorder__add(struct recorder *w, const struct ms_event *e)
{
	size_t len;

	if (w->err)
		return w->err;
	if (e->nr_frames > MS_MAX_STACK)
		return -EINVAL;
	len = ms_event_len(e);
	memcpy(w->events.p + w->events.len, e, len);
	w->events.len += len;
	w->records++;
	if (w->events.len >= REC_EVENTS_FRAME)
		return recorder__flush(w);
	return 0;
}

/* A snapshot's payload: its time, then the counts at that moment. */
#define REC_SNAPSHOT_LEN	(4 * sizeof(__u64))

int recorder__snapshot(struct recorder *w, const struct recording_snapshot *s)
{
	struct wbuf *b = &w->meta;
	int err;

	/* Every record before it, in the frames before it. */
	err = recorder__flush(w);
	if (err)
		return err;
	wbuf_reset(b);
	wbuf_u64(b, s->ts_ns);
	wbuf_u64(b, w->records);
	wbuf_u64(b, s->lost_events);
	wbuf_u64(b, s->consumer_drops);
	return stick(w, write_frame(w, REC_FRAME_SNAPSHOT, b));
}

/*
 * A heap scan: a SCAN frame (image, flags, the pause, the totals, the
 * length of each list), then its lists in that order, each in SCAN_PART
 * frames of one list: the list's number, then whole entries.
 */
enum rec_scan_list {
	REC_SCAN_VERDICTS,	/* addr u64, class u32 */
	REC_SCAN_CYCLES,	/* instances, blocks, bytes u64, members u32 */
	REC_SCAN_MEMBERS,	/* site u32, count u32, bytes u64 */
	REC_SCAN_LINKS,		/* from, to, kind u32, count u64 */
	REC_SCAN_CLONES,	/* site u32, size, count u64 */
	REC_SCAN__LISTS,
};

static const __u32 scan_entry_len[REC_SCAN__LISTS] = {
	[REC_SCAN_VERDICTS] = 12,
	[REC_SCAN_CYCLES] = 28,
	[REC_SCAN_MEMBERS] = 16,
	[REC_SCAN_LINKS] = 20,
	[REC_SCAN_CLONES] = 20,
};

/* The totals are written as they are: a field more is a new version. */
_Static_assert(sizeof(struct heapscan_stats) == 20 * sizeof(__u64),
	       "a scan's totals changed: raise RECORDING_VERSION");

/* Starts an entry of list in w->meta: a new frame when this one is full. */
static int scan_entry(struct recorder *w, __u32 list)
{
	struct wbuf *b = &w->meta;
	int err = 0;

	if (b->len && b->len + scan_entry_len[list] <= REC_FRAME_RAW_MAX)
		return 0;
	if (b->len)
		err = write_frame(w, REC_FRAME_SCAN_PART, b);
	wbuf_reset(b);
	wbuf_u32(b, list);
	return err;
}

/* The last frame of a list, if it has entries. */
static int scan_list_end(struct recorder *w)
{
	struct wbuf *b = &w->meta;
	int err = b->len ? write_frame(w, REC_FRAME_SCAN_PART, b) : 0;

	wbuf_reset(b);
	return err;
}

static int write_scan_lists(struct recorder *w, const struct heapscan_result *res)
{
	struct wbuf *b = &w->meta;
	size_t i, k;
	int err = 0;

	wbuf_reset(b);
	for (i = 0; i < res->nr_verdicts && !err; i++) {
		err = scan_entry(w, REC_SCAN_VERDICTS);
		wbuf_u64(b, res->verdicts[i].addr);
		wbuf_u32(b, res->verdicts[i].cls);
	}
	err = err ? err : scan_list_end(w);
	for (i = 0; i < res->nr_cycles && !err; i++) {
		err = scan_entry(w, REC_SCAN_CYCLES);
		wbuf_u64(b, res->cycles[i].instances);
		wbuf_u64(b, res->cycles[i].blocks);
		wbuf_u64(b, res->cycles[i].bytes);
		wbuf_u32(b, res->cycles[i].nr_members);
	}
	err = err ? err : scan_list_end(w);
	for (i = 0; i < res->nr_cycles && !err; i++) {
		for (k = 0; k < res->cycles[i].nr_members && !err; k++) {
			const struct heapscan_member *m =
				&res->cycles[i].members[k];

			err = scan_entry(w, REC_SCAN_MEMBERS);
			wbuf_u32(b, m->site);
			wbuf_u32(b, m->count);
			wbuf_u64(b, m->bytes);
		}
	}
	err = err ? err : scan_list_end(w);
	for (i = 0; i < res->nr_links && !err; i++) {
		err = scan_entry(w, REC_SCAN_LINKS);
		wbuf_u32(b, res->links[i].from);
		wbuf_u32(b, res->links[i].to);
		wbuf_u32(b, res->links[i].kind);
		wbuf_u64(b, res->links[i].count);
	}
	err = err ? err : scan_list_end(w);
	for (i = 0; i < res->nr_clones && !err; i++) {
		err = scan_entry(w, REC_SCAN_CLONES);
		wbuf_u32(b, res->clones[i].site);
		wbuf_u64(b, res->clones[i].size);
		wbuf_u64(b, res->clones[i].count);
	}
	return err ? err : scan_list_end(w);
}

int recorder__scan(struct recorder *w, const struct recording_scan *s)
{
	const struct heapscan_result *res = &s->res;
	struct wbuf *b = &w->meta;
	__u64 members = 0;
	size_t i;
	int err;

	/* After the records before it: the replay has the same live blocks. */
	err = recorder__flush(w);
	if (err)
		return err;
	for (i = 0; i < res->nr_cycles; i++)
		members += res->cycles[i].nr_members;
	if (s->image >= PROCS_MAX_IMAGES ||
	    res->nr_verdicts > REC_SCAN_ITEMS_MAX ||
	    res->nr_cycles > REC_SCAN_ITEMS_MAX ||
	    members > REC_SCAN_ITEMS_MAX || res->nr_links > REC_SCAN_ITEMS_MAX ||
	    res->nr_clones > REC_SCAN_ITEMS_MAX)
		return stick(w, -E2BIG);
	wbuf_reset(b);
	wbuf_u32(b, s->image);
	wbuf_u32(b, 0);
	wbuf_u64(b, s->pause.pause_ns);
	wbuf_u32(b, s->pause.threads);
	wbuf_u32(b, s->pause.missed);
	wbuf_u64(b, s->pause.stack_bytes);
	wbuf_put(b, &res->stats, sizeof(res->stats));
	wbuf_u64(b, res->nr_verdicts);
	wbuf_u64(b, res->nr_cycles);
	wbuf_u64(b, members);
	wbuf_u64(b, res->nr_links);
	wbuf_u64(b, res->nr_clones);
	err = write_frame(w, REC_FRAME_SCAN, b);
	if (!err)
		err = write_scan_lists(w, res);
	return stick(w, err);
}

static int addr_cmp(const void *pa, const void *pb)
{
	__u64 a = *(const __u64 *)pa, b = *(const __u64 *)pb;

	return a < b ? -1 : a > b;
}

/* Every distinct address in the stacks of an image's store, sorted. */
static int stack_addrs(const struct store *st, __u64 **out, size_t *nr)
{
	__u32 nr_stacks = store__nr_stacks(st), i;
	struct store_site site;
	size_t n = 0, cap = 0, j, k;
	__u64 *addrs = NULL;
	int err;

	for (i = 0; i < nr_stacks; i++) {
		err = store__site(st, i, &site);
		if (err)
			goto err_free;
		if (!site.nr_frames)
			continue;
		err = tab_grow((void **)&addrs, &cap, n + site.nr_frames,
			       sizeof(*addrs));
		if (err)
			goto err_free;
		memcpy(addrs + n, site.frames, site.nr_frames * sizeof(*addrs));
		n += site.nr_frames;
	}
	if (n)
		qsort(addrs, n, sizeof(*addrs), addr_cmp);
	for (j = 0, k = 0; j < n; j++)
		if (!k || addrs[k - 1] != addrs[j])
			addrs[k++] = addrs[j];
	if (k > REC_SYMBOLS_MAX) {
		err = -E2BIG;
		goto err_free;
	}
	*out = addrs;
	*nr = k;
	return 0;

err_free:
	free(addrs);
	return err;
}

/* The addresses of image written so far, a table made on first use. */
static struct tab_keyed *written_of(struct recorder *w, __u32 image)
{
	size_t cap = w->nr_written, i;
	struct tab_keyed *t;

	if (image >= PROCS_MAX_IMAGES)
		return NULL;
	if (image < w->nr_written)
		return &w->written[image];
	if (tab_grow((void **)&w->written, &cap, image + 1, sizeof(*t)))
		return NULL;
	for (i = w->nr_written; i <= image; i++) {
		if (tab_keyed_init(&w->written[i], sizeof(__u64), 0, 0))
			return NULL;
		w->nr_written++;
	}
	return &w->written[image];
}

/* Marks addr written; 1 if it was new, 0 if not, -ENOMEM. */
static int written_add(struct tab_keyed *t, __u64 addr)
{
	int err;

	if (tab_keyed_get(t, addr))
		return 0;
	err = tab_keyed_reserve(t);
	if (err)
		return err;
	tab_keyed_add(t, addr);
	return 1;
}

/*
 * An address's entry: addr, object_offset, object, build_id, the number of
 * frames, then each frame: line, flags, function, mangled, file. The
 * frames of one address share its object.
 */
#define REC_SYMBOL_FIXED	(2 * sizeof(__u64) + sizeof(__u32))
#define REC_SYMBOL_STRS		2
#define REC_SYMBOL_FRAME_FIXED	(2 * sizeof(__u32))
#define REC_SYMBOL_FRAME_STRS	3
/* The least bytes a frame takes: what bounds a count before allocating. */
#define REC_SYMBOL_FRAME_MIN	(REC_SYMBOL_FRAME_FIXED + \
				 REC_SYMBOL_FRAME_STRS * sizeof(__u32))
#define REC_SYMBOL_INLINED	(1u << 0)

/* The writer never needs to split an entry of one frame between frames. */
_Static_assert(sizeof(__u32) + REC_SYMBOL_FIXED + REC_SYMBOL_FRAME_FIXED +
	       (REC_SYMBOL_STRS + REC_SYMBOL_FRAME_STRS) *
	       (sizeof(__u32) + REC_STR_MAX) <= REC_FRAME_RAW_MAX,
	       "a symbol entry must fit in one frame");

static size_t symbol_frame_size(const struct frame *fr)
{
	return REC_SYMBOL_FRAME_FIXED + str_size(fr->function) +
	       str_size(fr->mangled) + str_size(fr->file);
}

/*
 * Bytes of the entry of frames[0..nr). Past a frame's payload (only names
 * of hundreds of KiB each do that) *nr shrinks: the calls inlined nearest
 * the function are left out, never the function or the innermost call.
 */
static size_t symbol_size(const struct frame *frames, unsigned *nr)
{
	size_t size, last;
	unsigned i;

	size = REC_SYMBOL_FIXED + str_size(frames[0].object) +
	       str_size(frames[0].build_id);
	last = symbol_frame_size(&frames[*nr - 1]);
	size += last;
	for (i = 0; i + 1 < *nr; i++) {
		if (size + symbol_frame_size(&frames[i]) > REC_FRAME_RAW_MAX)
			break;
		size += symbol_frame_size(&frames[i]);
	}
	*nr = i + 1;
	return size;
}

static void wbuf_symbol_frame(struct wbuf *b, const struct frame *fr,
			      bool inlined)
{
	wbuf_u32(b, fr->line);
	wbuf_u32(b, inlined ? REC_SYMBOL_INLINED : 0);
	wbuf_str(b, fr->function);
	wbuf_str(b, fr->mangled);
	wbuf_str(b, fr->file);
}

/* Nothing is known of the address: no function, no object. */
static bool symbol_unknown(const struct frame *frames, unsigned n)
{
	return n == 1 && !frames[0].function && !frames[0].object;
}

/*
 * One address's entry into b, whose frame is image's; a full frame is
 * written first and b begun again.
 */
static int put_symbol(struct recorder *w, struct wbuf *b, __u32 image,
		      __u64 addr, const struct frame *frames, unsigned n)
{
	unsigned kept = n, i;
	size_t size;
	int err = 0;

	size = symbol_size(frames, &kept);
	w->nr_frames += kept;
	if (w->nr_frames > REC_SYMBOLS_MAX)
		return -E2BIG;
	w->sym_bytes += size;
	if (w->sym_bytes > REC_SYMBOL_BYTES_MAX)
		return -E2BIG;
	if (b->len + size > REC_FRAME_RAW_MAX) {
		err = write_frame(w, REC_FRAME_SYMBOLS, b);
		wbuf_reset(b);
		wbuf_u32(b, image);
	}
	wbuf_u64(b, addr);
	wbuf_u64(b, frames[0].object_offset);
	wbuf_str(b, frames[0].object);
	wbuf_str(b, frames[0].build_id);
	wbuf_u32(b, kept);
	for (i = 0; i + 1 < kept; i++)
		wbuf_symbol_frame(b, &frames[i], true);
	wbuf_symbol_frame(b, &frames[n - 1], false);
	return err;
}

/*
 * The symbols of image's addrs not written yet, in as many frames as
 * REC_FRAME_RAW_MAX takes: a frame is the image's number, then whole
 * entries. An address nothing is known of yet is noted for the end.
 */
static int write_symbols(struct recorder *w, __u32 image, const __u64 *addrs,
			 size_t nr, frame_resolve_fn resolve, void *ctx)
{
	struct tab_keyed *written = written_of(w, image);
	struct wbuf *b = &w->meta;
	const struct frame *frames;
	struct rec_unknown *u;
	struct frame one;
	size_t k;
	unsigned n;
	int err = 0, fresh;

	if (!written)
		return image >= PROCS_MAX_IMAGES ? -E2BIG : -ENOMEM;
	wbuf_reset(b);
	wbuf_u32(b, image);
	for (k = 0; k < nr && !err; k++) {
		fresh = written_add(written, addrs[k]);
		if (fresh <= 0) {
			err = fresh;
			continue;
		}
		one = (struct frame){ .addr = addrs[k] };
		frames = &one;
		n = resolve ? resolve(ctx, addrs[k], &frames) : 1;
		if (!n) {
			frames = &one;
			n = 1;
		}
		if (resolve && symbol_unknown(frames, n)) {
			err = tab_array_reserve(&w->unknown, 1);
			if (err)
				break;
			u = tab_array_push(&w->unknown);
			u->addr = addrs[k];
			u->image = image;
		}
		err = put_symbol(w, b, image, addrs[k], frames, n);
	}
	if (!err && b->len > sizeof(__u32))
		err = write_frame(w, REC_FRAME_SYMBOLS, b);
	return err;
}

/*
 * Of the first nr addresses written unknown, those known now, written
 * again (the reader keeps an address's last entry): a fork's stacks
 * covered while its image's mappings were not known yet, named at the
 * end through what was learnt of them later, as the live report names
 * them.
 */
static int write_learnt(struct recorder *w, size_t nr,
			frame_resolve_fn resolve,
			void *(*image_ctx)(void *ctx, size_t image),
			void *resolve_ctx)
{
	struct wbuf *b = &w->meta;
	const struct rec_unknown *u;
	const struct frame *frames;
	__u32 image = 0;
	size_t k;
	unsigned n;
	int err = 0;

	wbuf_reset(b);
	for (k = 0; k < nr && !err; k++) {
		u = tab_array_at(&w->unknown, k);
		n = resolve(image_ctx ? image_ctx(resolve_ctx, u->image) :
			    resolve_ctx, u->addr, &frames);
		if (!n || symbol_unknown(frames, n))
			continue;
		if (b->len && u->image != image) {
			err = write_frame(w, REC_FRAME_SYMBOLS, b);
			wbuf_reset(b);
		}
		if (!b->len) {
			image = u->image;
			wbuf_u32(b, image);
		}
		if (!err)
			err = put_symbol(w, b, image, u->addr, frames, n);
	}
	if (!err && b->len > sizeof(__u32))
		err = write_frame(w, REC_FRAME_SYMBOLS, b);
	return err;
}

int recorder__symbols(struct recorder *w, __u32 image, const __u64 *addrs,
		      size_t nr, frame_resolve_fn resolve, void *ctx)
{
	/* Records before symbols: a reader of a cut file sees both or none. */
	int err = w->err ? w->err : recorder__flush(w);

	if (!err)
		err = write_symbols(w, image, addrs, nr, resolve, ctx);
	if (err && !w->err)
		w->err = err;
	return err;
}

static int write_trailer(struct recorder *w, const struct recording_end *end)
{
	struct wbuf *b = &w->meta;
	const struct attach_probe *p;
	size_t i;

	if (end->nr_probes > REC_PROBES_MAX)
		return -E2BIG;
	wbuf_reset(b);
	wbuf_put(b, &end->kernel, sizeof(end->kernel));
	wbuf_u64(b, end->end_ns);
	wbuf_u64(b, end->consumer_drops);
	wbuf_u32(b, (end->exited ? REC_END_EXITED : 0) |
		    (end->detached ? REC_END_DETACHED : 0) |
		    (end->killed ? REC_END_KILLED : 0) |
		    (end->status_unknown ? REC_END_STATUS_UNKNOWN : 0));
	wbuf_u32(b, end->exit_status);
	wbuf_u32(b, end->nr_probes);
	for (i = 0; i < end->nr_probes; i++) {
		p = &end->probes[i];
		wbuf_u64(b, p->offset);
		wbuf_u64(b, p->func_offset);
		wbuf_u32(b, (p->is_return ? REC_PROBE_RETURN : 0) |
			    (p->emulated ? REC_PROBE_EMULATED : 0) |
			    (p->forwards_to ? REC_PROBE_FORWARDS : 0) |
			    (p->counted_at ? REC_PROBE_LAYER : 0) |
			    (p->throw_ends ? REC_PROBE_THROW_ENDS : 0) |
			    (p->reason & REC_PROBE_REASON_MASK)
				    << REC_PROBE_REASON_SHIFT);
		wbuf_str(b, p->object);
		wbuf_str(b, p->symbol);
		if (p->forwards_to)
			wbuf_str(b, p->forwards_to);
		if (p->counted_at)
			wbuf_str(b, p->counted_at);
	}
	wbuf_u64(b, end->procs_full);
	wbuf_u64(b, end->max_procs);
	return write_frame(w, REC_FRAME_TRAILER, b);
}

/*
 * An image's entry: its number, the flags saying what is known, its
 * kernel counters (all zero when not known) and its procinfo (pid, ppid,
 * ns_pid, flags, start_ns, comm, command, and late_ns and late_end_ns
 * when its flags say PROCINFO_LATE), which a PROCINFO frame holds alone.
 */
#define REC_PROC_INFO		(1u << 0)
#define REC_PROC_KERNEL		(1u << 1)
#define REC_PROC_KNOWN		(REC_PROC_INFO | REC_PROC_KERNEL)
#define REC_PROC_FIXED		(6 * sizeof(__u32) + sizeof(__u64) + \
				 sizeof(struct ms_counters))
/* ... and its strings' lengths, late_ns and late_end_ns. */
#define REC_PROC_TAIL		(2 * sizeof(__u32) + 2 * sizeof(__u64))
_Static_assert(REC_PROC_FIXED + REC_PROC_TAIL +
	       PROCINFO_COMM + PROCINFO_COMMAND <= REC_FRAME_RAW_MAX,
	       "an image's entry must fit in one frame");

/* A procinfo as both frames hold it, after what precedes it there. */
static void wbuf_procinfo(struct wbuf *b, const struct procfacts *info,
			  const char *command)
{
	wbuf_u32(b, info->pid);
	wbuf_u32(b, info->ppid);
	wbuf_u32(b, info->ns_pid);
	wbuf_u32(b, info->flags);
	wbuf_u64(b, info->start_ns);
	wbuf_strn(b, info->comm, sizeof(info->comm));
	wbuf_strn(b, command ? command : "", PROCINFO_COMMAND);
	if (info->flags & PROCINFO_LATE) {
		wbuf_u64(b, info->late_ns);
		wbuf_u64(b, info->late_end_ns);
	}
}

int recorder__info(struct recorder *w, const struct procinfo *info)
{
	struct wbuf *b = &w->meta;
	/* After the records before it: the replay applies it at that point. */
	int err = w->err ? w->err : recorder__flush(w);

	if (!err) {
		wbuf_reset(b);
		wbuf_procinfo(b, &info->facts, info->command);
		err = write_frame(w, REC_FRAME_PROCINFO, b);
	}
	return stick(w, err);
}

/* The images' facts, in as many frames as REC_FRAME_RAW_MAX takes. */
static int write_procs(struct recorder *w, const struct procs *pt)
{
	size_t i, n = procs__nr_images(pt), size;
	struct wbuf *b = &w->meta;
	int err = 0;

	wbuf_reset(b);
	for (i = 0; i < n && !err; i++) {
		const struct proc_image *im = procs__image(pt, i);

		size = REC_PROC_FIXED + REC_PROC_TAIL +
		       strnlen(im->info.comm, PROCINFO_COMM) +
		       (im->command ? strlen(im->command) : 0);
		if (b->len + size > REC_FRAME_RAW_MAX) {
			err = write_frame(w, REC_FRAME_PROCS, b);
			wbuf_reset(b);
		}
		wbuf_u32(b, i);
		wbuf_u32(b, (im->have_info ? REC_PROC_INFO : 0) |
			    (im->have_kernel ? REC_PROC_KERNEL : 0));
		wbuf_put(b, &im->kernel, sizeof(im->kernel));
		wbuf_procinfo(b, &im->info, im->command);
	}
	if (!err && b->len)
		err = write_frame(w, REC_FRAME_PROCS, b);
	return err;
}

int recorder__finish(struct recorder *w, struct procs *pt,
		     frame_resolve_fn resolve,
		     void *(*image_ctx)(void *ctx, size_t image),
		     void *resolve_ctx, const struct recording_end *end)
{
	int err = recorder__flush(w);
	size_t i, n = procs__nr_images(pt);
	/* those noted while tracing: the end's own are resolved as now */
	size_t learnable = w->unknown.nr;
	__u64 *addrs;
	size_t nr;

	for (i = 0; i < n && !err; i++) {
		addrs = NULL;
		nr = 0;
		err = stack_addrs(procs__image(pt, i)->store, &addrs, &nr);
		if (!err)
			err = write_symbols(w, i, addrs, nr, resolve,
					    image_ctx ?
					    image_ctx(resolve_ctx, i) :
					    resolve_ctx);
		free(addrs);
		procs__release(pt, i);
	}
	if (!err && resolve)
		err = write_learnt(w, learnable, resolve, image_ctx,
				   resolve_ctx);
	if (!err)
		err = write_procs(w, pt);
	if (!err)
		err = write_trailer(w, end);
	/* In place (a FIFO, a device) there is nothing to sync or rename. */
	if (!err && w->partial && fsync(w->fd))
		err = -errno;
	if (close(w->fd) && !err)
		err = -errno;
	w->fd = -1;
	if (!err && w->partial && rename(w->partial, w->path))
		err = -errno;
	release(w, err != 0);
	return err;
}

void recorder__free(struct recorder *w)
{
	if (w)
		release(w, true);
}

/* Reading ------------------------------------------------------------------ */

/*
 * A frame's payload being parsed. Its strings are copied, NUL-terminated,
 * into strs: each takes 4 + n bytes in the payload and n + 1 in the copy,
 * so a block the size of the payload always holds them all.
 */
struct rbuf {
	const unsigned char *p;
	size_t len;
	size_t off;
	char *strs;
	size_t strs_used;
};

/* The frames of one address of one image: syms[first .. first + nr). */
struct rec_sym {
	__u64 addr;
	__u32 image;		/* 0 in files before version 5 */
	__u32 first;
	__u32 nr;
};

/* A heap scan being read: each list's entries as they come. */
struct rec_scan {
	struct recording_scan s;
	__u64 want[REC_SCAN__LISTS];
	__u64 got[REC_SCAN__LISTS];
	void *items[REC_SCAN__LISTS];
	size_t cap[REC_SCAN__LISTS];
};

static const size_t scan_item_size[REC_SCAN__LISTS] = {
	[REC_SCAN_VERDICTS] = sizeof(struct heapscan_verdict),
	[REC_SCAN_CYCLES] = sizeof(struct heapscan_cycle),
	[REC_SCAN_MEMBERS] = sizeof(struct heapscan_member),
	[REC_SCAN_LINKS] = sizeof(struct heapscan_link),
	[REC_SCAN_CLONES] = sizeof(struct heapscan_clone),
};

static void rec_scan_free(struct rec_scan *sc)
{
	int i;

	if (!sc)
		return;
	for (i = 0; i < REC_SCAN__LISTS; i++)
		free(sc->items[i]);
	free(sc);
}

/* String blocks, freed with the recording: the report borrows them. */
struct block {
	struct block *next;
	max_align_t data[];
};

struct recording {
	FILE *f;
	__u64 off;		/* bytes read so far */
	__u64 frame_off;	/* where the frame being read began */

	unsigned char *z;	/* the frame as read, and decompressed */
	size_t z_cap;
	unsigned char *raw;
	size_t raw_cap;
	__u32 type;
	__u32 raw_len;

	struct block *blocks;
	struct recording_info info;
	bool have_header;
	struct recording_end end;
	bool have_end;
	struct frame *syms;	/* every address's frames, one after another */
	struct tab_pool sym_strs;	/* their strings */
	size_t nr_syms;
	size_t cap_syms;
	size_t sym_bytes;
	struct rec_sym *index;	/* by image and address, after the replay */
	size_t nr_index;
	size_t cap_index;
	__u32 sym_image;	/* the image of the symbols being parsed */
	__u32 image;		/* the image recording__resolve() answers for */
	struct recording_proc *procs;	/* by image */
	size_t nr_procs;
	size_t cap_procs;
	recording_info_fn info_fn;
	struct frame unknown;	/* what an address without symbols gets */

	recording_snapshot_fn on_snapshot;
	void *snapshot_ctx;
	struct recording_snapshot last_snapshot;
	__u64 nr_snapshots;

	recording_scan_fn on_scan;
	void *scan_ctx;
	struct rec_scan *scan;	/* a scan whose lists are being read */

	struct recording_damage damage;
	char damage_what[96];
	char error[192];
};

static bool get(struct rbuf *c, void *out, size_t n)
{
	if (n > c->len - c->off)
		return false;
	memcpy(out, c->p + c->off, n);
	c->off += n;
	return true;
}

static bool get_u32(struct rbuf *c, __u32 *v)
{
	return get(c, v, sizeof(*v));
}

static bool get_u64(struct rbuf *c, __u64 *v)
{
	return get(c, v, sizeof(*v));
}

static bool get_str(struct rbuf *c, const char **out)
{
	__u32 n;

	if (!get_u32(c, &n))
		return false;
	if (n == REC_STR_NULL) {
		*out = NULL;
		return true;
	}
	if (n > REC_STR_MAX || n > c->len - c->off)
		return false;
	memcpy(c->strs + c->strs_used, c->p + c->off, n);
	c->strs[c->strs_used + n] = '\0';
	*out = c->strs + c->strs_used;
	c->strs_used += n + 1;
	c->off += n;
	return true;
}

static void rbuf_init(struct recording *r, struct rbuf *c)
{
	*c = (struct rbuf){ .p = r->raw, .len = r->raw_len };
}

/*
 * Gives the cursor a block for the frame's strings, and *extra, when
 * asked for, extra bytes in the same block aligned for any type.
 */
static int rbuf_strings(struct recording *r, struct rbuf *c, size_t extra,
			void **extra_out)
{
	const size_t align = _Alignof(max_align_t);
	size_t at = (r->raw_len + 1 + align - 1) & ~(align - 1);
	struct block *b = malloc(sizeof(*b) + at + extra);

	if (!b)
		return -ENOMEM;
	b->next = r->blocks;
	r->blocks = b;
	c->strs = (char *)b->data;
	c->strs_used = 0;
	if (extra_out)
		*extra_out = (char *)b->data + at;
	return 0;
}

/* Drops the block of a frame that did not parse. */
static void rbuf_drop(struct recording *r)
{
	struct block *b = r->blocks;

	r->blocks = b->next;
	free(b);
}

struct recording *recording__new(FILE *f)
{
	struct recording *r;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (tab_pool_init(&r->sym_strs, 0)) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->f = f;
	return r;
}

void recording__free(struct recording *r)
{
	struct block *b, *next;

	if (!r)
		return;
	for (b = r->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	fclose(r->f);
	rec_scan_free(r->scan);
	free(r->syms);
	tab_pool_fini(&r->sym_strs);
	free(r->index);
	free(r->procs);
	free(r->z);
	free(r->raw);
	free(r);
}

const char *recording__error(const struct recording *r)
{
	return r->error;
}

const struct recording_info *recording__info(const struct recording *r)
{
	return &r->info;
}

const struct recording_damage *recording__damage(const struct recording *r)
{
	return &r->damage;
}

const struct recording_end *recording__end(const struct recording *r)
{
	return r->have_end ? &r->end : NULL;
}

static int damaged(struct recording *r, __u64 offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Notes the damage; always -EBADMSG. */
static int damaged(struct recording *r, __u64 offset, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->damage_what, sizeof(r->damage_what), fmt, ap);
	va_end(ap);
	r->damage.offset = offset;
	r->damage.what = r->damage_what;
	return -EBADMSG;
}

/* n bytes, or fewer at the end of the file: how many, or -errno. */
static ssize_t read_bytes(struct recording *r, void *buf, size_t n)
{
	size_t got;

	errno = 0;
	got = fread(buf, 1, n, r->f);
	r->off += got;
	if (got < n && ferror(r->f))
		return errno ? -errno : -EIO;
	return got;
}

/*
 * The next frame, checked and decompressed into r->raw. 0, 1 at a clean
 * end of file, -EBADMSG (damaged) or -errno.
 */
static int next_frame(struct recording *r)
{
	struct rec_frame fr;
	uLongf raw_len;
	ssize_t got;
	int err;

	r->frame_off = r->off;
	got = read_bytes(r, &fr, sizeof(fr));
	if (got < 0)
		return got;
	if (!got)
		return 1;
	if (got < (ssize_t)sizeof(fr))
		return damaged(r, r->frame_off,
			       "the file ends inside a frame header (cut short)");
	if (!fr.type || fr.type >= REC_FRAME__COUNT)
		return damaged(r, r->frame_off, "unknown frame type %u",
			       fr.type);
	if (fr.raw_len > REC_FRAME_RAW_MAX)
		return damaged(r, r->frame_off,
			       "a frame of %u bytes, over the limit of %u",
			       fr.raw_len, REC_FRAME_RAW_MAX);
	if (fr.z_len > compressBound(fr.raw_len))
		return damaged(r, r->frame_off,
			       "%u compressed bytes cannot hold %u bytes",
			       fr.z_len, fr.raw_len);
	/* + 1: an empty frame still gets a buffer to point at */
	err = tab_grow((void **)&r->z, &r->z_cap, fr.z_len + 1, 1);
	if (!err)
		err = tab_grow((void **)&r->raw, &r->raw_cap,
			       fr.raw_len + 1, 1);
	if (err)
		return err;
	got = read_bytes(r, r->z, fr.z_len);
	if (got < 0)
		return got;
	if (got < fr.z_len)
		return damaged(r, r->frame_off,
			       "the file ends inside a frame (cut short)");
	if (frame_crc(&fr, r->z) != fr.crc)
		return damaged(r, r->frame_off, "frame checksum mismatch");
	raw_len = fr.raw_len;
	if (uncompress(r->raw, &raw_len, r->z, fr.z_len) != Z_OK ||
	    raw_len != fr.raw_len)
		return damaged(r, r->frame_off, "a frame does not decompress");
	r->type = fr.type;
	r->raw_len = fr.raw_len;
	return 0;
}

static bool get_rule_opts(struct rbuf *c, __u64 *opts)
{
	int i;

	for (i = 0; i < RECORDING_RULE_OPTS; i++) {
		if (!get_u64(c, &opts[i]))
			return false;
	}
	return true;
}

static int parse_header(struct recording *r)
{
	struct recording_info *in = &r->info;
	struct rec_layout l;
	const char *mode;
	__u32 pid;
	struct rbuf c;
	int err;

	rbuf_init(r, &c);
	err = rbuf_strings(r, &c, 0, NULL);
	if (err)
		return err;
	if (!get(&c, &l, sizeof(l)) || !get_u64(&c, &in->wall_ns) ||
	    !get_u64(&c, &in->start_ns) || !get_u32(&c, &pid) ||
	    !get_u32(&c, &in->top) || !get_rule_opts(&c, in->rule_opts) ||
	    !get_str(&c, &in->tool_version) ||
	    !get_str(&c, &in->command) || !get_str(&c, &mode) ||
	    (in->version >= RECORDING_VERSION_FOLD &&
	     !get_u32(&c, &in->fold)) ||
	    c.off != c.len ||
	    /* a mode this version does not know would be reported as another */
	    !mode || trace_mode_parse(mode, &in->mode)) {
		*in = (struct recording_info){};
		rbuf_drop(r);
		return damaged(r, r->frame_off, "malformed header");
	}
	in->pid = pid;
	if (memcmp(&l, &layout, sizeof(l))) {
		snprintf(r->error, sizeof(r->error),
			 "made by memscope-bpf %s with another record layout: read it with that version",
			 in->tool_version ? in->tool_version : "(unknown)");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int read_prelude(struct recording *r)
{
	struct rec_prelude pre;
	ssize_t got;

	got = read_bytes(r, &pre, sizeof(pre));
	if (got < 0)
		return got;
	/* The start of the magic alone is a recording cut short. */
	if (!got || memcmp(pre.magic, REC_MAGIC,
			   got < (ssize_t)REC_MAGIC_LEN ?
			   (size_t)got : REC_MAGIC_LEN)) {
		snprintf(r->error, sizeof(r->error),
			 "not a memscope-bpf recording%s",
			 got ? "" : " (empty file)");
		return -EINVAL;
	}
	if (got < (ssize_t)sizeof(pre))
		return damaged(r, got,
			       "the file ends inside the prelude (cut short)");
	if (pre.bom != REC_BOM) {
		if (pre.bom != __builtin_bswap32(REC_BOM))
			return damaged(r, offsetof(struct rec_prelude, bom),
				       "bad byte-order mark");
		snprintf(r->error, sizeof(r->error),
			 "made on a machine of the other byte order");
		return -EPROTONOSUPPORT;
	}
	if (pre.version < RECORDING_VERSION_MIN ||
	    pre.version > RECORDING_VERSION) {
		snprintf(r->error, sizeof(r->error),
			 "format version %u, and this memscope-bpf reads versions %u to %u%s",
			 pre.version, RECORDING_VERSION_MIN, RECORDING_VERSION,
			 pre.version > RECORDING_VERSION ?
			 ": use a newer memscope-bpf" : "");
		return -EPROTONOSUPPORT;
	}
	r->info.version = pre.version;
	return 0;
}

int recording__read_header(struct recording *r)
{
	int err;

	err = read_prelude(r);
	if (!err) {
		err = next_frame(r);
		if (err == 1)
			err = damaged(r, r->off,
				      "the file ends before the header (cut short)");
		else if (!err && r->type != REC_FRAME_HEADER)
			err = damaged(r, r->frame_off,
				      "the first frame is not the header");
	}
	if (!err)
		err = parse_header(r);
	if (err == -EBADMSG)
		snprintf(r->error, sizeof(r->error),
			 "damaged at byte %llu, in its header: %s",
			 (unsigned long long)r->damage.offset, r->damage.what);
	else if (err && !r->error[0])
		snprintf(r->error, sizeof(r->error), "%s", strerror(-err));
	r->have_header = !err;
	return err;
}

/* Every record of the frame fits it, checked before any is delivered. */
static int check_events(struct recording *r, size_t *nr)
{
	const struct ms_event *e;
	size_t off = 0, n = 0;

	while (off < r->raw_len) {
		e = (const struct ms_event *)(r->raw + off);
		if (r->raw_len - off < MS_EVENT_HDR_SIZE ||
		    e->nr_frames > MS_MAX_STACK ||
		    r->raw_len - off < ms_event_len(e))
			return damaged(r, r->frame_off,
				       "malformed record %zu of a frame", n);
		off += ms_event_len(e);
		n++;
	}
	*nr = n;
	return 0;
}

/*
 * Records are delivered from the frame buffer: every record is a multiple
 * of 8 bytes long, so each one is as aligned as the buffer.
 */
static int replay_events(struct recording *r, recording_event_fn fn,
			 void *ctx)
{
	const struct ms_event *e;
	size_t off, nr = 0, i;
	int err;

	err = check_events(r, &nr);
	for (i = 0, off = 0; !err && i < nr; i++) {
		e = (const struct ms_event *)(r->raw + off);
		err = fn(ctx, e);
		off += ms_event_len(e);
		r->damage.records++;
	}
	return err;
}

/*
 * One address's entry. Its frame count is bounded by the bytes left before
 * anything is allocated, and every frame but the last must be an inlined
 * call, the last its function (frame.h): 0, -EBADMSG (malformed) or
 * -ENOMEM.
 */
static int parse_symbol(struct recording *r, struct rbuf *c)
{
	struct frame base = {}, *fr;
	__u32 nr, i, line, flags;
	struct rec_sym *sym;

	if (!get_u64(c, &base.addr) || !get_u64(c, &base.object_offset) ||
	    !get_str(c, &base.object) || !get_str(c, &base.build_id) ||
	    !get_u32(c, &nr) || !nr ||
	    nr > (c->len - c->off) / REC_SYMBOL_FRAME_MIN)
		return -EBADMSG;
	if (nr > REC_SYMBOLS_MAX - r->nr_syms)
		return -E2BIG;
	if (tab_grow((void **)&r->syms, &r->cap_syms, r->nr_syms + nr,
		     sizeof(*r->syms)) ||
	    tab_grow((void **)&r->index, &r->cap_index, r->nr_index + 1,
		     sizeof(*r->index)))
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		fr = &r->syms[r->nr_syms + i];
		*fr = base;
		if (!get_u32(c, &line) || !get_u32(c, &flags) ||
		    !get_str(c, &fr->function) || !get_str(c, &fr->mangled) ||
		    !get_str(c, &fr->file) ||
		    flags != (i + 1 < nr ? REC_SYMBOL_INLINED : 0))
			return -EBADMSG;
		fr->line = (int)line;
		fr->inlined = flags & REC_SYMBOL_INLINED;
	}
	sym = &r->index[r->nr_index++];
	sym->addr = base.addr;
	sym->image = r->sym_image;
	sym->first = r->nr_syms;
	sym->nr = nr;
	r->nr_syms += nr;
	return 0;
}

/*
 * The strings of the frames from first on, interned: each image's
 * symbols name the same functions, files and objects again (a replay of
 * a 65 s build held 80 MiB of copies, 61 runs of cc1 among them).
 */
static int intern_symbols(struct recording *r, size_t first)
{
	struct tab_pool *pool = &r->sym_strs;
	const char **strs[5];
	struct frame *fr;
	size_t i, j;
	int err;

	for (i = first; i < r->nr_syms; i++) {
		fr = &r->syms[i];
		strs[0] = &fr->function;
		strs[1] = &fr->mangled;
		strs[2] = &fr->file;
		strs[3] = &fr->object;
		strs[4] = &fr->build_id;
		for (j = 0; j < 5; j++) {
			if (!*strs[j])
				continue;
			err = tab_pool_intern(pool, *strs[j], strs[j], NULL);
			if (err)
				return err;
		}
	}
	return 0;
}

static int parse_symbols(struct recording *r)
{
	size_t kept = r->nr_syms, kept_index = r->nr_index;
	struct rbuf c;
	int err;

	if (r->raw_len > REC_SYMBOL_BYTES_MAX - r->sym_bytes)
		return damaged(r, r->frame_off,
			       "symbols over the limit of %u bytes",
			       REC_SYMBOL_BYTES_MAX);
	rbuf_init(r, &c);
	err = rbuf_strings(r, &c, 0, NULL);
	if (err)
		return err;
	r->sym_image = 0;
	if (r->info.version >= RECORDING_VERSION_PROCS &&
	    (!get_u32(&c, &r->sym_image) ||
	     r->sym_image >= PROCS_MAX_IMAGES))
		err = -EBADMSG;
	while (c.off < c.len && !err)
		err = parse_symbol(r, &c);
	if (!err)
		err = intern_symbols(r, kept);
	if (err == -EBADMSG)
		err = damaged(r, r->frame_off, "malformed symbols");
	else if (err == -E2BIG)
		err = damaged(r, r->frame_off, "over %u symbols",
			      REC_SYMBOLS_MAX);
	if (err) {
		/* Nothing of a frame that did not parse. */
		r->nr_syms = kept;
		r->nr_index = kept_index;
		rbuf_drop(r);
		return err;
	}
	/* the frames' strings are the pool's now */
	rbuf_drop(r);
	r->sym_bytes += r->raw_len;
	return 0;
}

static int parse_trailer(struct recording *r)
{
	struct recording_end *end = &r->end;
	struct attach_probe *probes = NULL;
	__u32 exited, status, nr, flags, i;
	void *room;
	struct rbuf c;
	bool bad;
	int err;

	rbuf_init(r, &c);
	if (!get(&c, &end->kernel, sizeof(end->kernel)) ||
	    !get_u64(&c, &end->end_ns) || !get_u64(&c, &end->consumer_drops) ||
	    !get_u32(&c, &exited) || !get_u32(&c, &status) ||
	    !get_u32(&c, &nr) || nr > REC_PROBES_MAX ||
	    (exited & ~REC_END_ALL))
		return damaged(r, r->frame_off, "malformed trailer");
	/* The probe array shares the strings' block. */
	err = rbuf_strings(r, &c, nr * sizeof(*probes), &room);
	if (err)
		return err;
	probes = room;
	for (i = 0; i < nr; i++) {
		struct attach_probe *p = &probes[i];

		*p = (struct attach_probe){};
		if (!get_u64(&c, &p->offset) || !get_u64(&c, &p->func_offset) ||
		    !get_u32(&c, &flags) || !get_str(&c, &p->object) ||
		    !get_str(&c, &p->symbol))
			break;
		p->is_return = flags & REC_PROBE_RETURN;
		p->emulated = flags & REC_PROBE_EMULATED;
		p->reason = flags >> REC_PROBE_REASON_SHIFT &
			    REC_PROBE_REASON_MASK;
		p->throw_ends = flags & REC_PROBE_THROW_ENDS;
		if ((flags & REC_PROBE_FORWARDS) &&
		    !get_str(&c, &p->forwards_to))
			break;
		if ((flags & REC_PROBE_LAYER) && !get_str(&c, &p->counted_at))
			break;
		/* Older files have no reason: 0, which is PROLOGUE_NONE. */
		if ((flags & ~REC_PROBE_KNOWN) ||
		    p->reason >= NR_PROLOGUE_REASONS)
			break;
	}
	bad = i < nr;
	if (!bad && r->info.version >= RECORDING_VERSION_PROCS_FULL)
		bad = !get_u64(&c, &end->procs_full) ||
		      !get_u64(&c, &end->max_procs);
	if (bad || c.off != c.len) {
		rbuf_drop(r);
		return damaged(r, r->frame_off, "malformed trailer");
	}
	end->exited = exited & REC_END_EXITED;
	end->detached = exited & REC_END_DETACHED;
	end->killed = exited & REC_END_KILLED;
	end->status_unknown = exited & REC_END_STATUS_UNKNOWN;
	end->exit_status = (int)status;
	end->probes = nr ? probes : NULL;
	end->nr_probes = nr;
	r->have_end = true;
	return 0;
}

/* By image and address, then by position in the file. */
static int sym_cmp(const void *pa, const void *pb)
{
	const struct rec_sym *a = pa, *b = pb;

	if (a->image != b->image)
		return a->image < b->image ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/*
 * Sorted for recording__resolve. The writer lists an address again only
 * when it learnt its name after the first entry, unknown (write_learnt):
 * of one listed twice, the last entry is kept.
 */
static void index_symbols(struct recording *r)
{
	size_t i, k;

	if (!r->nr_index)
		return;
	qsort(r->index, r->nr_index, sizeof(*r->index), sym_cmp);
	for (i = 1, k = 1; i < r->nr_index; i++) {
		if (r->index[i].addr == r->index[k - 1].addr &&
		    r->index[i].image == r->index[k - 1].image)
			k--;
		r->index[k++] = r->index[i];
	}
	r->nr_index = k;
}

void recording__on_snapshot(struct recording *r, recording_snapshot_fn fn,
			    void *ctx)
{
	r->on_snapshot = fn;
	r->snapshot_ctx = ctx;
}

/*
 * A snapshot is a moment of the record stream: it must come after every
 * record it counts and after the snapshot before it, in a file whose
 * version has snapshots.
 */
static int parse_snapshot(struct recording *r)
{
	struct recording_snapshot s = {};
	struct rbuf c;

	if (r->info.version < RECORDING_VERSION_SNAPSHOTS)
		return damaged(r, r->frame_off,
			       "a snapshot in a version %u file",
			       r->info.version);
	rbuf_init(r, &c);
	if (!get_u64(&c, &s.ts_ns) || !get_u64(&c, &s.records) ||
	    !get_u64(&c, &s.lost_events) || !get_u64(&c, &s.consumer_drops) ||
	    c.off != c.len)
		return damaged(r, r->frame_off, "malformed snapshot");
	if (s.records != r->damage.records)
		return damaged(r, r->frame_off,
			       "a snapshot after %llu records, in the file after %llu",
			       (unsigned long long)s.records,
			       (unsigned long long)r->damage.records);
	if (s.ts_ns < r->info.start_ns ||
	    (r->nr_snapshots && s.ts_ns < r->last_snapshot.ts_ns))
		return damaged(r, r->frame_off, "a snapshot out of time order");
	r->last_snapshot = s;
	r->nr_snapshots++;
	return r->on_snapshot ? r->on_snapshot(r->snapshot_ctx, &s) : 0;
}

void recording__on_scan(struct recording *r, recording_scan_fn fn, void *ctx)
{
	r->on_scan = fn;
	r->scan_ctx = ctx;
}

/* The list the next part must hold: the first not whole yet. */
static int scan_next_list(const struct rec_scan *sc)
{
	int i;

	for (i = 0; i < REC_SCAN__LISTS; i++) {
		if (sc->got[i] < sc->want[i])
			return i;
	}
	return REC_SCAN__LISTS;
}

/*
 * Every list read: the cycles' members counted out of the members list,
 * then the scan handed on and dropped.
 */
static int scan_done(struct recording *r)
{
	struct rec_scan *sc = r->scan;
	struct heapscan_cycle *cycles = sc->items[REC_SCAN_CYCLES];
	struct heapscan_member *members = sc->items[REC_SCAN_MEMBERS];
	struct heapscan_result *res = &sc->s.res;
	__u64 at = 0, i;
	int err = 0;

	for (i = 0; i < sc->want[REC_SCAN_CYCLES]; i++) {
		if (!cycles[i].nr_members ||
		    cycles[i].nr_members > sc->want[REC_SCAN_MEMBERS] - at)
			break;
		cycles[i].members = members + at;
		at += cycles[i].nr_members;
	}
	if (i < sc->want[REC_SCAN_CYCLES] || at != sc->want[REC_SCAN_MEMBERS])
		err = damaged(r, r->frame_off,
			      "a heap scan's cycles do not hold its members");
	res->verdicts = sc->items[REC_SCAN_VERDICTS];
	res->nr_verdicts = sc->want[REC_SCAN_VERDICTS];
	res->cycles = cycles;
	res->nr_cycles = sc->want[REC_SCAN_CYCLES];
	res->links = sc->items[REC_SCAN_LINKS];
	res->nr_links = sc->want[REC_SCAN_LINKS];
	res->clones = sc->items[REC_SCAN_CLONES];
	res->nr_clones = sc->want[REC_SCAN_CLONES];
	if (!err && r->on_scan)
		err = r->on_scan(r->scan_ctx, &sc->s);
	rec_scan_free(sc);
	r->scan = NULL;
	return err;
}

static int parse_scan(struct recording *r)
{
	struct rec_scan *sc;
	__u32 flags;
	struct rbuf c;
	int i;

	if (r->info.version < RECORDING_VERSION_SCANS)
		return damaged(r, r->frame_off,
			       "a heap scan in a version %u file",
			       r->info.version);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	rbuf_init(r, &c);
	if (!get_u32(&c, &sc->s.image) || sc->s.image >= PROCS_MAX_IMAGES ||
	    !get_u32(&c, &flags) || flags ||
	    !get_u64(&c, &sc->s.pause.pause_ns) ||
	    !get_u32(&c, &sc->s.pause.threads) ||
	    !get_u32(&c, &sc->s.pause.missed) ||
	    !get_u64(&c, &sc->s.pause.stack_bytes) ||
	    !get(&c, &sc->s.res.stats, sizeof(sc->s.res.stats)))
		goto malformed;
	for (i = 0; i < REC_SCAN__LISTS; i++) {
		if (!get_u64(&c, &sc->want[i]) ||
		    sc->want[i] > REC_SCAN_ITEMS_MAX)
			goto malformed;
	}
	if (c.off != c.len)
		goto malformed;
	r->scan = sc;
	return scan_next_list(sc) == REC_SCAN__LISTS ? scan_done(r) : 0;
malformed:
	rec_scan_free(sc);
	return damaged(r, r->frame_off, "malformed heap scan");
}

/* One entry of list at c into its place in the scan; false: malformed. */
static bool get_scan_item(struct rbuf *c, struct rec_scan *sc, int list)
{
	void *at = (char *)sc->items[list] + sc->got[list] * scan_item_size[list];
	struct heapscan_verdict *v = at;
	struct heapscan_cycle *cy = at;
	struct heapscan_member *m = at;
	struct heapscan_link *l = at;
	struct heapscan_clone *cl = at;
	__u32 kind;

	switch (list) {
	case REC_SCAN_VERDICTS:
		*v = (struct heapscan_verdict){};
		/* by address, each once: what the scan's lookups need */
		return get_u64(c, &v->addr) && get_u32(c, &v->cls) &&
		       v->cls < HEAPSCAN_CLASS__COUNT &&
		       (!sc->got[list] || v[-1].addr < v->addr);
	case REC_SCAN_CYCLES:
		*cy = (struct heapscan_cycle){};
		/* a group is of one cycle or more, each of a block or more */
		return get_u64(c, &cy->instances) && get_u64(c, &cy->blocks) &&
		       get_u64(c, &cy->bytes) && get_u32(c, &cy->nr_members) &&
		       cy->instances && cy->blocks >= cy->instances;
	case REC_SCAN_MEMBERS:
		return get_u32(c, &m->site) && get_u32(c, &m->count) &&
		       get_u64(c, &m->bytes);
	case REC_SCAN_LINKS:
		if (!get_u32(c, &l->from) || !get_u32(c, &l->to) ||
		    !get_u32(c, &kind) || kind >= HEAPSCAN_EDGE__COUNT)
			return false;
		l->kind = kind;
		return get_u64(c, &l->count);
	default:
		return get_u32(c, &cl->site) && get_u64(c, &cl->size) &&
		       get_u64(c, &cl->count);
	}
}

/* Whole entries of the list the scan is at, no more than it announced. */
static int parse_scan_part(struct recording *r)
{
	struct rec_scan *sc = r->scan;
	__u32 list;
	size_t n;
	struct rbuf c;

	if (!sc)
		return damaged(r, r->frame_off,
			       "a part of a heap scan without its scan");
	rbuf_init(r, &c);
	if (!get_u32(&c, &list) || (int)list != scan_next_list(sc) ||
	    (c.len - c.off) % scan_entry_len[list])
		return damaged(r, r->frame_off, "malformed heap scan part");
	n = (c.len - c.off) / scan_entry_len[list];
	if (!n || n > sc->want[list] - sc->got[list])
		return damaged(r, r->frame_off, "malformed heap scan part");
	if (tab_grow(&sc->items[list], &sc->cap[list], sc->got[list] + n,
		     scan_item_size[list]))
		return -ENOMEM;
	while (n--) {
		if (!get_scan_item(&c, sc, list))
			return damaged(r, r->frame_off,
				       "malformed heap scan part");
		sc->got[list]++;
	}
	return scan_next_list(sc) == REC_SCAN__LISTS ? scan_done(r) : 0;
}

/*
 * A procinfo, its strings copied; false when malformed or too long. A
 * file of format 8 says how late an image joined, not when that ended.
 */
static bool get_procinfo(const struct recording *r, struct rbuf *c,
			 struct procinfo *info)
{
	const char *comm, *command;

	*info = (struct procinfo){};
	if (!get_u32(c, &info->pid) || !get_u32(c, &info->ppid) ||
	    !get_u32(c, &info->ns_pid) || !get_u32(c, &info->flags) ||
	    !get_u64(c, &info->start_ns) ||
	    !get_str(c, &comm) || !get_str(c, &command) ||
	    (comm && strlen(comm) >= sizeof(info->comm)) ||
	    (command && strlen(command) >= sizeof(info->command)))
		return false;
	if (comm)
		strcpy(info->comm, comm);
	if (command)
		strcpy(info->command, command);
	return !(info->flags & PROCINFO_LATE) ||
	       (get_u64(c, &info->late_ns) &&
		(r->info.version < RECORDING_VERSION_LATE_END ||
		 get_u64(c, &info->late_end_ns)));
}

/*
 * One image's facts; strings longer than procinfo holds, an image out of
 * order or flags unknown are damage.
 */
static int parse_proc(struct recording *r, struct rbuf *c)
{
	struct recording_proc *rp;
	__u32 image, flags;

	if (tab_grow((void **)&r->procs, &r->cap_procs, r->nr_procs + 1,
		     sizeof(*r->procs)))
		return -ENOMEM;
	rp = &r->procs[r->nr_procs];
	*rp = (struct recording_proc){};
	if (!get_u32(c, &image) || image != r->nr_procs ||
	    image >= PROCS_MAX_IMAGES || !get_u32(c, &flags) ||
	    (flags & ~REC_PROC_KNOWN) ||
	    !get(c, &rp->kernel, sizeof(rp->kernel)) ||
	    !get_procinfo(r, c, &rp->info))
		return -EBADMSG;
	rp->have_info = flags & REC_PROC_INFO;
	rp->have_kernel = flags & REC_PROC_KERNEL;
	r->nr_procs++;
	return 0;
}

/* A frame of process facts, which only version 5 and later files hold. */
static int procs_frame(struct recording *r, struct rbuf *c)
{
	if (r->info.version < RECORDING_VERSION_PROCS)
		return damaged(r, r->frame_off,
			       "process facts in a version %u file",
			       r->info.version);
	rbuf_init(r, c);
	return rbuf_strings(r, c, 0, NULL);
}

static int parse_procs(struct recording *r)
{
	size_t kept = r->nr_procs;
	struct rbuf c;
	int err;

	err = procs_frame(r, &c);
	if (err)
		return err;
	while (c.off < c.len && !err)
		err = parse_proc(r, &c);
	/* The strings were copied: their block is not needed. */
	rbuf_drop(r);
	if (err) {
		r->nr_procs = kept;
		return err == -EBADMSG ?
		       damaged(r, r->frame_off, "malformed process facts") :
		       err;
	}
	return 0;
}

/* A process's facts where the live run learnt them: handed on. */
static int replay_procinfo(struct recording *r, void *ctx)
{
	struct procinfo info;
	struct rbuf c;
	int err;

	err = procs_frame(r, &c);
	if (err)
		return err;
	err = get_procinfo(r, &c, &info) && c.off == c.len && info.pid ? 0 :
	      -EBADMSG;
	rbuf_drop(r);
	if (err)
		return damaged(r, r->frame_off, "malformed process facts");
	return r->info_fn ? r->info_fn(ctx, &info) : 0;
}

static int replay_frame(struct recording *r, recording_event_fn fn,
			void *ctx)
{
	if (r->have_end)
		return damaged(r, r->frame_off, "data after the trailer");
	if (r->scan && r->type != REC_FRAME_SCAN_PART)
		return damaged(r, r->frame_off, "a heap scan cut short");
	switch (r->type) {
	case REC_FRAME_PROCS:
		return parse_procs(r);
	case REC_FRAME_PROCINFO:
		return replay_procinfo(r, ctx);
	case REC_FRAME_EVENTS:
		return replay_events(r, fn, ctx);
	case REC_FRAME_SYMBOLS:
		return parse_symbols(r);
	case REC_FRAME_TRAILER:
		return parse_trailer(r);
	case REC_FRAME_SNAPSHOT:
		return parse_snapshot(r);
	case REC_FRAME_SCAN:
		return parse_scan(r);
	case REC_FRAME_SCAN_PART:
		return parse_scan_part(r);
	default:
		return damaged(r, r->frame_off, "a second header");
	}
}

int recording__replay(struct recording *r, recording_event_fn fn, void *ctx)
{
	int err;

	if (!r->have_header)
		return -EINVAL;
	for (;;) {
		err = next_frame(r);
		if (err == 1) {
			err = r->have_end ? 0 :
			      damaged(r, r->off,
				      "no trailer (cut short: was the tool killed?)");
			break;
		}
		if (!err)
			err = replay_frame(r, fn, ctx);
		if (err)
			break;
	}
	index_symbols(r);
	return err;
}

static int sym_addr_cmp(const void *key, const void *elem)
{
	const struct rec_sym *k = key, *s = elem;

	if (k->image != s->image)
		return k->image < s->image ? -1 : 1;
	return k->addr < s->addr ? -1 : k->addr > s->addr;
}

void recording__on_info(struct recording *r, recording_info_fn fn)
{
	r->info_fn = fn;
}

void *recording__image_ctx(void *ctx, size_t image)
{
	struct recording *r = ctx;

	/* A file before version 5 has one image's symbols, numbered 0. */
	r->image = r->info.version >= RECORDING_VERSION_PROCS ? image : 0;
	return r;
}

const struct recording_proc *recording__procs(const struct recording *r,
					      size_t *nr)
{
	*nr = r->nr_procs;
	return r->procs;
}

unsigned recording__resolve(void *ctx, __u64 addr, const struct frame **out)
{
	struct recording *r = ctx;
	const struct rec_sym key = { .addr = addr, .image = r->image };
	const struct rec_sym *sym = NULL;

	if (r->nr_index)
		sym = bsearch(&key, r->index, r->nr_index, sizeof(*sym),
			      sym_addr_cmp);
	if (!sym) {
		r->unknown = (struct frame){ .addr = addr };
		*out = &r->unknown;
		return 1;
	}
	*out = &r->syms[sym->first];
	return sym->nr;
}
