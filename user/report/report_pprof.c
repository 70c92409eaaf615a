/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The pprof export: profile.proto (github.com/google/pprof/proto), gzip
 * compressed, which go tool pprof, Pyroscope and Parca read.
 *
 * The protobuf is encoded by hand: the format needs only varints and
 * length-delimited fields, and the message is flat enough that a reader
 * takes its top-level fields in any order. So each top-level field is
 * encoded on its own and deflated at once: samples as the sites are
 * walked (which assigns location, function and mapping ids), then the
 * tables those ids point into, the string table last.
 *
 * Addresses. The model knows each frame's object and its address inside
 * the object, not where the object was mapped. A mapping with start,
 * limit and offset all 0 tells pprof that location addresses are already
 * object addresses (elfexec.GetBase), so a frame in an object gets its
 * object address: a reader that symbolizes again (pprof, Parca, by
 * build-id) then finds the same function ours did. A frame in no known
 * object keeps its process address.
 *
 * pprof drops a sample without locations (none matches its focus), and a
 * stack cut at the depth limit would pass for one from a root of its own:
 * both get a frame that says so, named as in the folded export.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "outfile.h"
#include "report.h"
#include "table.h"

#ifndef MEMSCOPE_VERSION
#define MEMSCOPE_VERSION	"unknown"
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define ZBUF_SIZE		(64 * 1024)
#define GZIP_WBITS		(MAX_WBITS + 16)	/* gzip wrapping */

#define WT_VARINT		0
#define WT_LEN			2

/* Field numbers of profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};

enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2 };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum { LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3 };

enum {
	MAPPING_ID = 1,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
};

enum {
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
};

enum { LINE_FUNCTION_ID = 1, LINE_LINE = 2 };

enum {
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

/*
 * The order of a sample's values, go's heap profile names, then the
 * blocks live at the moment of the peak, named in their fashion. Each
 * value takes the site metric of the same index in sample_values().
 */
static const char *const sample_types[][2] = {
	{ "alloc_objects", "count" },
	{ "alloc_space", "bytes" },
	{ "inuse_objects", "count" },
	{ "inuse_space", "bytes" },
	{ "peak_objects", "count" },
	{ "peak_space", "bytes" },
};

#define NR_VALUES		ARRAY_SIZE(sample_types)
#define NR_COMMENTS		4	/* tool, target, losses, leak filter */

#define NO_STACK		"[no-stack]"
#define TRUNCATED		"[truncated]"

/* A growing buffer; the first failure sticks and later writes do nothing. */
struct pb {
	unsigned char *data;
	size_t len;
	size_t cap;
	int err;
};

/*
 * The tables below are keyed (table.h): a record's id is its position + 1,
 * as pprof numbers them from 1, 0 meaning none.
 */

/* A function at a line: one of a location's Lines. */
struct pp_line {
	__u32 function_id;
	int line;
};

/*
 * One captured address. Its Lines are its frames, innermost first: the
 * calls inlined there, then the function they are in (profile.proto's own
 * order). An unresolved address has none.
 */
struct pp_location {
	__u64 addr;		/* the key: the process address */
	__u64 address;
	__u32 mapping_id;	/* 0: in no known object */
	__u32 first_line;	/* in pprof.lines */
	__u32 nr_lines;
};

struct pp_function {
	__u64 key;		/* name << 32 | file */
	__u32 name;		/* string indexes */
	__u32 system_name;	/* the mangled name where there is one */
	__u32 file;
};

struct pp_mapping {
	__u64 key;		/* file */
	__u32 file;
	__u32 build_id;
	bool has_functions;
	bool has_filenames;
	bool has_line_numbers;
};

struct pprof {
	struct pb msg;		/* the top-level field being encoded */
	z_stream z;
	FILE *f;
	char *comments[NR_COMMENTS];

	struct tab_pool strs;		/* the string table, "" first */
	struct tab_keyed locs;		/* by process address */
	struct tab_array lines;		/* struct pp_line, of every location */
	__u32 no_stack_loc;		/* marker locations, 0 until used */
	__u32 truncated_loc;
	__u32 stop_loc[MS_STOP__COUNT];	/* report_stop_marker()'s */
	struct tab_keyed funcs;		/* by (name, file) string indexes */
	struct tab_keyed maps;		/* by file name string index */
};

static int pb_reserve(struct pb *pb, size_t n)
{
	size_t cap = pb->cap ? pb->cap : 256;
	unsigned char *data;

	if (pb->err)
		return pb->err;
	if (pb->cap - pb->len >= n)
		return 0;
	while (cap - pb->len < n) {
		if (cap > SIZE_MAX / 2) {
			pb->err = -ENOMEM;
			return pb->err;
		}
		cap *= 2;
	}
	data = realloc(pb->data, cap);
	if (!data) {
		pb->err = -ENOMEM;
		return pb->err;
	}
	pb->data = data;
	pb->cap = cap;
	return 0;
}

static void pb_raw(struct pb *pb, const void *p, size_t n)
{
	if (pb_reserve(pb, n))
		return;
	memcpy(pb->data + pb->len, p, n);
	pb->len += n;
}

/* Base 128, low groups first: the varint of protobuf. Returns its size. */
static size_t varint_encode(unsigned char *out, __u64 v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

static void pb_varint(struct pb *pb, __u64 v)
{
	unsigned char buf[10];

	pb_raw(pb, buf, varint_encode(buf, v));
}

static void pb_tag(struct pb *pb, unsigned int field, unsigned int wire_type)
{
	pb_varint(pb, (__u64)field << 3 | wire_type);
}

/* A scalar field; proto3 leaves zero, the default, out. */
static void pb_uint(struct pb *pb, unsigned int field, __u64 v)
{
	if (!v)
		return;
	pb_tag(pb, field, WT_VARINT);
	pb_varint(pb, v);
}

static void pb_string(struct pb *pb, unsigned int field, const char *s)
{
	size_t len = strlen(s);

	pb_tag(pb, field, WT_LEN);
	pb_varint(pb, len);
	pb_raw(pb, s, len);
}

/*
 * A length-delimited field whose size is known only once written: the
 * body goes first, pb_close() moves it up behind its length. Returns
 * where the body starts.
 */
static size_t pb_open(struct pb *pb, unsigned int field)
{
	pb_tag(pb, field, WT_LEN);
	return pb->len;
}

static void pb_close(struct pb *pb, size_t start)
{
	size_t body = pb->len - start, n;
	unsigned char len[10];

	n = varint_encode(len, body);
	if (pb_reserve(pb, n))
		return;
	memmove(pb->data + start + n, pb->data + start, body);
	memcpy(pb->data + start, len, n);
	pb->len += n;
}

/* Feeds what is in z's input to the file; Z_FINISH ends the gzip member. */
static int deflate_out(struct pprof *w, int flush)
{
	unsigned char out[ZBUF_SIZE];
	size_t n;
	int ret;

	do {
		w->z.next_out = out;
		w->z.avail_out = sizeof(out);
		ret = deflate(&w->z, flush);
		if (ret == Z_STREAM_ERROR)
			return -EIO;
		n = sizeof(out) - w->z.avail_out;
		if (n && fwrite(out, 1, n, w->f) != n)
			return -EIO;
	} while (flush == Z_FINISH ? ret != Z_STREAM_END : !w->z.avail_out);
	return 0;
}

/* Compresses the encoded top-level field out and starts the next one. */
static int emit(struct pprof *w)
{
	int err = w->msg.err;

	if (err)
		return err;
	w->z.next_in = w->msg.data;
	w->z.avail_in = (uInt)w->msg.len;
	err = deflate_out(w, Z_NO_FLUSH);
	w->msg.len = 0;
	return err;
}

/* The string table index of s; "" (and NULL) is index 0, as pprof wants. */
static int intern(struct pprof *w, const char *s, __u32 *idx)
{
	const char *copy;
	size_t nr;
	int err;

	*idx = 0;
	if (!s || !*s)
		return 0;
	err = tab_pool_intern(&w->strs, s, &copy, &nr);
	if (err)
		return err;
	*idx = (__u32)nr;
	return 0;
}

/* The id of the current record of key in k (0: none). */
static __u32 id_of(const struct tab_keyed *k, __u64 key)
{
	const void *rec = tab_keyed_get(k, key);

	return rec ? (__u32)tab_keyed_pos(k, rec) + 1 : 0;
}

static int function_id(struct pprof *w, const struct frame *fr,
		       __u32 *id)
{
	struct pp_function *f;
	__u32 name, file;
	__u64 key;
	int err;

	__u32 system_name;

	err = intern(w, fr->function, &name);
	if (!err)
		err = intern(w, fr->file, &file);
	if (!err)
		err = intern(w, fr->mangled ?: fr->function, &system_name);
	if (err)
		return err;
	key = (__u64)name << 32 | file;
	*id = id_of(&w->funcs, key);
	if (*id)
		return 0;
	err = tab_keyed_reserve(&w->funcs);
	if (err)
		return err;
	f = tab_keyed_add(&w->funcs, key);
	f->name = name;
	f->system_name = system_name;
	f->file = file;
	*id = (__u32)tab_keyed_nr(&w->funcs);
	return 0;
}

/*
 * pprof symbolizes a mapping again only when none of its has_* flags is
 * set: each says that some location of the mapping has that much, as
 * pprof's own symbolizer sets them.
 */
static int mapping_id(struct pprof *w, const struct frame *fr,
		      __u32 *id)
{
	struct pp_mapping *m;
	__u32 file;
	int err;

	err = intern(w, fr->object, &file);
	if (err)
		return err;
	*id = id_of(&w->maps, file);
	if (!*id) {
		err = tab_keyed_reserve(&w->maps);
		if (err)
			return err;
		m = tab_keyed_add(&w->maps, file);
		m->file = file;
		*id = (__u32)tab_keyed_nr(&w->maps);
	}
	m = tab_keyed_at(&w->maps, *id - 1);
	if (!m->build_id) {
		err = intern(w, fr->build_id, &m->build_id);
		if (err)
			return err;
	}
	m->has_functions |= fr->function != NULL;
	m->has_filenames |= fr->file != NULL;
	m->has_line_numbers |= fr->line > 0;
	return 0;
}

/*
 * One location per process address, with its nr frames: the model
 * resolves each address once, so its frames are the same in every stack.
 */
static int location_id(struct pprof *w, const struct frame *fr, __u32 nr,
		       __u32 *id)
{
	struct pp_location loc = { .address = fr->addr };
	struct pp_line *ln;
	__u32 i;
	int err;

	*id = id_of(&w->locs, fr->addr);
	if (*id)
		return 0;
	if (fr->object) {
		loc.address = fr->object_offset;
		err = mapping_id(w, fr, &loc.mapping_id);
		if (err)
			return err;
	}
	loc.first_line = (__u32)w->lines.nr;
	for (i = 0; i < nr; i++) {
		__u32 fid;

		/* Without a Line, pprof shows the address. */
		if (!fr[i].function)
			continue;
		err = function_id(w, &fr[i], &fid);
		if (!err)
			err = tab_array_reserve(&w->lines, 1);
		if (err)
			return err;
		ln = tab_array_push(&w->lines);
		ln->function_id = fid;
		ln->line = fr[i].line;
		loc.nr_lines++;
	}
	err = tab_keyed_reserve(&w->locs);
	if (err)
		return err;
	loc.addr = fr->addr;
	*(struct pp_location *)tab_keyed_add(&w->locs, fr->addr) = loc;
	*id = (__u32)tab_keyed_nr(&w->locs);
	return 0;
}

/* A location of no address, named, no key finds: made on first use. */
static int marker_id(struct pprof *w, const char *name, __u32 *id)
{
	const struct frame fr = { .function = name };
	struct pp_location loc = { 0 };
	struct pp_line *ln;
	__u32 fid;
	int err;

	if (*id)
		return 0;
	err = tab_array_reserve(&w->lines, 1);
	if (!err)
		err = function_id(w, &fr, &fid);
	if (!err)
		err = tab_keyed_reserve(&w->locs);
	if (err)
		return err;
	ln = tab_array_push(&w->lines);
	ln->function_id = fid;
	ln->line = 0;
	loc.first_line = (__u32)(w->lines.nr - 1);
	loc.nr_lines = 1;
	*(struct pp_location *)tab_keyed_push(&w->locs) = loc;
	*id = (__u32)tab_keyed_nr(&w->locs);
	return 0;
}

static void sample_values(const struct report_site *s, __u64 *v)
{
	v[0] = s->alloc_count;
	v[1] = s->alloc_bytes;
	v[2] = s->live_count;
	v[3] = s->live_bytes;
	v[4] = s->peak_count;
	v[5] = s->peak_bytes;
}

/*
 * A sample's process: "pid" (a number), "comm" and "image" labels, and a
 * fold's "folded_images" (its pid and image its first image's).
 */
static int write_labels(struct pprof *w, const struct report_proc *p)
{
	struct pb *pb = &w->msg;
	__u32 key, str;
	size_t label;
	int err;

	err = intern(w, "pid", &key);
	if (err)
		return err;
	label = pb_open(pb, SAMPLE_LABEL);
	pb_uint(pb, LABEL_KEY, key);
	pb_uint(pb, LABEL_NUM, p->info.pid);
	pb_close(pb, label);
	err = intern(w, "image", &key);
	if (err)
		return err;
	label = pb_open(pb, SAMPLE_LABEL);
	pb_uint(pb, LABEL_KEY, key);
	pb_uint(pb, LABEL_NUM, p->image);
	pb_close(pb, label);
	if (p->folded) {
		/* a fold (--fold): its images' samples together */
		err = intern(w, "folded_images", &key);
		if (err)
			return err;
		label = pb_open(pb, SAMPLE_LABEL);
		pb_uint(pb, LABEL_KEY, key);
		pb_uint(pb, LABEL_NUM, p->folded);
		pb_close(pb, label);
	}
	if (!p->info.comm[0])
		return 0;
	err = intern(w, "comm", &key);
	if (!err)
		err = intern(w, p->info.comm, &str);
	if (err)
		return err;
	label = pb_open(pb, SAMPLE_LABEL);
	pb_uint(pb, LABEL_KEY, key);
	pb_uint(pb, LABEL_STR, str);
	pb_close(pb, label);
	return 0;
}

/*
 * Another process image: the same address is another location there (an
 * exec maps other objects), so no location of the last one is found.
 */
static void forget_locations(struct pprof *w)
{
	size_t i, n = tab_keyed_nr(&w->locs);
	const struct pp_location *l;

	for (i = 0; i < n; i++) {
		l = tab_keyed_at(&w->locs, i);
		if (tab_keyed_get(&w->locs, l->addr) == l)
			tab_keyed_unlink(&w->locs, l->addr);
	}
}

/*
 * Frames innermost first, as the model has them: location[0] is the leaf,
 * and a cut stack's [truncated] comes last, where its root would be (a
 * stack stopped early for another reason, its report_stop_marker()). The
 * frames of one address (inlined calls, then the frame that is not
 * inlined) are one location.
 */
static int write_sample(struct pprof *w, const struct report_site *s,
			const struct report_proc *p)
{
	unsigned int stop = ms_event_stop(s->flags);
	struct pb *pb = &w->msg;
	__u64 v[NR_VALUES];
	size_t sample, ids;
	__u32 i, j, id;
	int err;

	sample = pb_open(pb, PROFILE_SAMPLE);
	ids = pb_open(pb, SAMPLE_LOCATION_ID);
	if (!s->nr_frames) {
		err = marker_id(w, NO_STACK, &w->no_stack_loc);
		if (err)
			return err;
		pb_varint(pb, w->no_stack_loc);
	}
	for (i = 0; i < s->nr_frames; i = j + 1) {
		for (j = i; j + 1 < s->nr_frames && s->frames[j].inlined; j++)
			;
		err = location_id(w, &s->frames[i], j - i + 1, &id);
		if (err)
			return err;
		pb_varint(pb, id);
	}
	if (s->nr_frames && (s->flags & MS_EVF_STACK_TRUNC)) {
		err = marker_id(w, TRUNCATED, &w->truncated_loc);
		if (err)
			return err;
		pb_varint(pb, w->truncated_loc);
	} else if (s->nr_frames && report_stop_marker(stop)) {
		err = marker_id(w, report_stop_marker(stop), &w->stop_loc[stop]);
		if (err)
			return err;
		pb_varint(pb, w->stop_loc[stop]);
	}
	pb_close(pb, ids);
	sample_values(s, v);
	ids = pb_open(pb, SAMPLE_VALUE);
	for (i = 0; i < NR_VALUES; i++)
		pb_varint(pb, v[i]);
	pb_close(pb, ids);
	if (p) {
		err = write_labels(w, p);
		if (err)
			return err;
	}
	pb_close(pb, sample);
	return emit(w);
}

static int write_tables(struct pprof *w)
{
	const struct pp_location *l;
	const struct pp_function *f;
	const struct pp_mapping *m;
	struct pb *pb = &w->msg;
	size_t i, k, start, line;
	int err = 0;

	for (i = 0; i < tab_keyed_nr(&w->maps) && !err; i++) {
		m = tab_keyed_at(&w->maps, i);
		start = pb_open(pb, PROFILE_MAPPING);
		pb_uint(pb, MAPPING_ID, i + 1);
		pb_uint(pb, MAPPING_FILENAME, m->file);
		pb_uint(pb, MAPPING_BUILD_ID, m->build_id);
		pb_uint(pb, MAPPING_HAS_FUNCTIONS, m->has_functions);
		pb_uint(pb, MAPPING_HAS_FILENAMES, m->has_filenames);
		pb_uint(pb, MAPPING_HAS_LINE_NUMBERS, m->has_line_numbers);
		pb_close(pb, start);
		err = emit(w);
	}
	for (i = 0; i < tab_keyed_nr(&w->locs) && !err; i++) {
		l = tab_keyed_at(&w->locs, i);
		start = pb_open(pb, PROFILE_LOCATION);
		pb_uint(pb, LOCATION_ID, i + 1);
		pb_uint(pb, LOCATION_MAPPING_ID, l->mapping_id);
		pb_uint(pb, LOCATION_ADDRESS, l->address);
		for (k = l->first_line; k < l->first_line + l->nr_lines; k++) {
			const struct pp_line *ln = tab_array_at(&w->lines, k);

			line = pb_open(pb, LOCATION_LINE);
			pb_uint(pb, LINE_FUNCTION_ID, ln->function_id);
			pb_uint(pb, LINE_LINE, ln->line > 0 ? ln->line : 0);
			pb_close(pb, line);
		}
		pb_close(pb, start);
		err = emit(w);
	}
	for (i = 0; i < tab_keyed_nr(&w->funcs) && !err; i++) {
		f = tab_keyed_at(&w->funcs, i);
		start = pb_open(pb, PROFILE_FUNCTION);
		pb_uint(pb, FUNCTION_ID, i + 1);
		pb_uint(pb, FUNCTION_NAME, f->name);
		pb_uint(pb, FUNCTION_SYSTEM_NAME, f->system_name);
		pb_uint(pb, FUNCTION_FILENAME, f->file);
		pb_close(pb, start);
		err = emit(w);
	}
	return err;
}

static void value_type(struct pb *pb, unsigned int field, __u32 type,
		       __u32 unit)
{
	size_t start = pb_open(pb, field);

	pb_uint(pb, VALUE_TYPE_TYPE, type);
	pb_uint(pb, VALUE_TYPE_UNIT, unit);
	pb_close(pb, start);
}

static bool alloc_mode(const struct report *r)
{
	return r->target.mode == TRACE_MODE_ALLOC;
}

/* What the trace was and what it missed, for whoever opens the file. */
static int make_comments(struct pprof *w, const struct report *r)
{
	const struct report_target *t = &r->target;
	__u64 lost = (r->have_kernel ? r->kernel.lost_events : 0) +
		     r->consumer_drops;
	const struct report_filter *f = &r->filter;
	char most[48] = "";
	size_t n = 2;

	if (asprintf(&w->comments[0], "captured by memscope-bpf %s, mode %s",
		     MEMSCOPE_VERSION, trace_mode_name(t->mode)) < 0)
		return -ENOMEM;
	if (!t->pid && asprintf(&w->comments[1], REPORT_SET_NAME) < 0)
		return -ENOMEM;
	if (t->pid && asprintf(&w->comments[1], "pid %d%s%s", t->pid,
			       t->command ? ": " : "",
			       t->command ? t->command : "") < 0)
		return -ENOMEM;
	if (lost && asprintf(&w->comments[n++], "lost events: %llu, counts "
			     "are incomplete", (unsigned long long)lost) < 0)
		return -ENOMEM;
	if (!report_filter_on(f))
		return 0;
	/* inuse_* is of the blocks that pass, not every live one. */
	if (f->max_size)
		snprintf(most, sizeof(most), ", at most %llu bytes",
			 (unsigned long long)f->max_size);
	if (asprintf(&w->comments[n], "leak filter: inuse counts %llu of %llu "
		     "live blocks (older than %llu ns, at least %llu bytes%s)",
		     (unsigned long long)r->filter_count,
		     (unsigned long long)r->summary.live_allocs,
		     (unsigned long long)f->older_ns,
		     (unsigned long long)f->min_size, most) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Sample and period types, the default type and the comments. Their
 * strings are interned first, so they lead the string table.
 */
static int write_header(struct pprof *w, const struct report *r)
{
	struct pb *pb = &w->msg;
	__u32 type, unit;
	size_t i, start;
	int err;

	for (i = 0; i < NR_VALUES; i++) {
		err = intern(w, sample_types[i][0], &type);
		if (!err)
			err = intern(w, sample_types[i][1], &unit);
		if (err)
			return err;
		value_type(pb, PROFILE_SAMPLE_TYPE, type, unit);
	}
	/* Every allocation is traced, none sampled: a period of one byte. */
	err = intern(w, "space", &type);
	if (!err)
		err = intern(w, "bytes", &unit);
	if (err)
		return err;
	value_type(pb, PROFILE_PERIOD_TYPE, type, unit);
	pb_uint(pb, PROFILE_PERIOD, 1);
	/* --mode=alloc traces no frees: nothing would show as in use. */
	err = intern(w, alloc_mode(r) ? "alloc_space" : "inuse_space", &type);
	if (err)
		return err;
	pb_uint(pb, PROFILE_DEFAULT_SAMPLE_TYPE, type);
	/*
	 * No time_nanos: the model's start is monotonic time, and a wall
	 * clock made up at writing would be wrong for a replayed trace.
	 */
	pb_uint(pb, PROFILE_DURATION_NANOS, r->target.duration_ns);

	err = make_comments(w, r);
	if (err)
		return err;
	start = pb_open(pb, PROFILE_COMMENT);
	for (i = 0; i < NR_COMMENTS && w->comments[i]; i++) {
		err = intern(w, w->comments[i], &type);
		if (err)
			return err;
		pb_varint(pb, type);
	}
	pb_close(pb, start);
	return emit(w);
}

static int write_strings(struct pprof *w)
{
	size_t i;
	int err = 0;

	for (i = 0; i < tab_pool_nr(&w->strs) && !err; i++) {
		pb_string(&w->msg, PROFILE_STRING_TABLE,
			  tab_pool_str(&w->strs, i));
		err = emit(w);
	}
	return err;
}

static int write_profile(struct pprof *w, const struct report *r)
{
	size_t i;
	int err;

	err = write_header(w, r);
	if (r->nr_procs > 1) {
		/* image by image, each sample labelled with its process */
		for (i = 0; i < r->nr_procs && !err; i++) {
			const struct report *pr = r->procs[i].r;
			size_t k;

			forget_locations(w);
			for (k = 0; k < pr->nr_sites && !err; k++)
				err = write_sample(w, &pr->sites[k],
						   &r->procs[i]);
		}
	}
	for (i = 0; r->nr_procs <= 1 && i < r->nr_sites && !err; i++)
		err = write_sample(w, &r->sites[i], NULL);
	if (!err)
		err = write_tables(w);
	if (!err)
		err = write_strings(w);
	if (!err)
		err = deflate_out(w, Z_FINISH);
	return err;
}

static void pprof_release(struct pprof *w)
{
	size_t i;

	for (i = 0; i < NR_COMMENTS; i++)
		free(w->comments[i]);
	free(w->msg.data);
	tab_pool_fini(&w->strs);
	tab_keyed_fini(&w->locs);
	tab_keyed_fini(&w->funcs);
	tab_keyed_fini(&w->maps);
	tab_array_fini(&w->lines);
}

int report__write_pprof(const struct report *r, const char *path)
{
	struct pprof w = { 0 };
	struct outfile *o;
	const char *empty;
	int err;

	o = outfile__new(path);
	if (!o)
		return -errno;
	w.f = outfile__stream(o);
	tab_array_init(&w.lines, sizeof(struct pp_line), 0);
	/* At most TAB_MAX_ENTRIES records each: every id fits 32 bits. */
	err = tab_pool_init(&w.strs, 0);
	if (!err)
		err = tab_pool_intern(&w.strs, "", &empty, NULL);
	if (!err)
		err = tab_keyed_init(&w.locs, sizeof(struct pp_location),
				     offsetof(struct pp_location, addr), 0);
	if (!err)
		err = tab_keyed_init(&w.funcs, sizeof(struct pp_function),
				     offsetof(struct pp_function, key), 0);
	if (!err)
		err = tab_keyed_init(&w.maps, sizeof(struct pp_mapping),
				     offsetof(struct pp_mapping, key), 0);
	if (err)
		goto out;
	if (deflateInit2(&w.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WBITS,
			 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	err = write_profile(&w, r);
	deflateEnd(&w.z);
out:
	if (err)
		err = outfile__abort(o, err);
	else
		err = outfile__commit(o);
	pprof_release(&w);
	return err;
}
