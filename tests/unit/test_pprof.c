/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The pprof export, read back the way a reader does: gunzip, then decode
 * profile.proto with a small decoder of its own, so the test does not
 * trust the encoder it checks.
 *
 * The trace (stacks innermost first; "app" is /bin/app, "libx" /lib/libx.so):
 *   A  a_alloc a.c:10 app+0x100 <- main main.c:5 app+0x200
 *        2 x 100, one freed                 alloc 2/200, live 1/100
 *   B  "b;alloc fn" libx+0x42 <- main         300 kept, 50 freed:
 *                                            alloc 2/350, live 1/300
 *   C  libx+0x99 (no symbol) <- 0x5000 (nothing known)
 *                                            alloc 1/40, live 1/40
 *   F  freed_fn app+0x700, freed           alloc 1/16, live 0
 *   D  no stack                            alloc 1/70, live 1/70
 *   E  deep (in no object), stack cut      alloc 1/8, live 1/8
 * Sites by bytes allocated: B A D C F E.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <criterion/criterion.h>
#include "report.h"
#include "store.h"
#include "builders.h"

#define START_NS	1000000000ull
#define APP		"/bin/app"
#define LIBX		"/lib/libx.so"
#define APP_BUILD_ID	"0123456789abcdef0123456789abcdef01234567"
#define HOSTILE_FN	"b;alloc fn"

#define MAX_ITEMS	32
#define MAX_STRS	64

static const __u64 stack_a[] = { 0x1000, 0x2000 };
static const __u64 stack_b[] = { 0x3000, 0x2000 };
static const __u64 stack_c[] = { 0x4000, 0x5000 };
static const __u64 stack_f[] = { 0x7000 };
static const __u64 stack_e[] = { 0x6000 };

/* Reused by every call, like a resolver whose strings do not last. */
static char res_fn[64], res_file[64], res_obj[64], res_bid[64];

static void resolve(struct frame *out, const char *fn,
		    const char *file, int line, const char *obj, __u64 off,
		    const char *bid)
{
	if (fn)
		out->function = strcpy(res_fn, fn);
	if (file)
		out->file = strcpy(res_file, file);
	out->line = line;
	if (obj)
		out->object = strcpy(res_obj, obj);
	out->object_offset = off;
	if (bid)
		out->build_id = strcpy(res_bid, bid);
}

static void fake_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	(void)ctx;
	switch (addr) {
	case 0x1000:
		resolve(out, "a_alloc", "a.c", 10, APP, 0x100, APP_BUILD_ID);
		break;
	case 0x2000:
		resolve(out, "main", "main.c", 5, APP, 0x200, APP_BUILD_ID);
		break;
	case 0x3000:
		resolve(out, HOSTILE_FN, NULL, 0, LIBX, 0x42, NULL);
		break;
	case 0x4000:
		resolve(out, NULL, NULL, 0, LIBX, 0x99, NULL);
		break;
	case 0x7000:
		resolve(out, "freed_fn", "f.c", 7, APP, 0x700, APP_BUILD_ID);
		break;
	case 0x6000:
		resolve(out, "deep", NULL, 0, NULL, 0, NULL);
		break;
	}
}

/* The frame_resolve_fn: one frame per address, filled by fake_resolve_one. */
static unsigned fake_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	fake_resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

/* Records 1 us apart, from START_NS. */
static __u64 next_ts(void)
{
	static __u64 ts = START_NS;

	return ts += 1000;
}

#define NR(a)		(sizeof(a) / sizeof(*(a)))
#define ALLOC(s, p, n, st)	ev_alloc(s, p, n, 0, st, NR(st), next_ts())
#define FREE(s, p)		ev_free(s, p, next_ts())

/* An allocation whose stack came with flags. */
static void alloc_flagged(struct store *s, __u64 ptr, __u64 size,
			  const __u64 *frames, __u32 nr, __u16 flags)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, next_ts());

	e.ptr = ptr;
	e.size = size;
	e.flags = flags;
	ev_stack(&e, frames, nr);
	ev_apply(s, &e);
}

static struct store *make_store(void)
{
	struct store *s = store__new();

	cr_assert_not_null(s, "store__new: %s", strerror(errno));
	ALLOC(s, 0xa1, 100, stack_a);
	ALLOC(s, 0xa2, 100, stack_a);
	FREE(s, 0xa1);
	ALLOC(s, 0xb1, 300, stack_b);
	ALLOC(s, 0xb2, 50, stack_b);
	FREE(s, 0xb2);
	ALLOC(s, 0xc1, 40, stack_c);
	ALLOC(s, 0xf1, 16, stack_f);
	FREE(s, 0xf1);
	alloc_flagged(s, 0xd1, 70, NULL, 0, MS_EVF_STACK_ERR);
	alloc_flagged(s, 0xe1, 8, stack_e, 1, MS_EVF_STACK_TRUNC);
	/* after the peak (518 bytes): C was live there, not at the end */
	FREE(s, 0xc1);
	return s;
}

static struct report *build(struct store *s, enum trace_mode mode)
{
	struct report_target t = {
		.pid = 4242, .command = "./app --serve", .mode = mode,
		.start_ns = START_NS, .duration_ns = 5000000000ull,
	};
	struct ms_counters k = { .lost_events = 3 };
	struct report_opts opts = { .resolve = fake_resolve };
	struct report *r;

	r = report__build(s, &t, &k, NULL, 0, &opts);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	r->consumer_drops = 2;
	/* the resolver's strings die here; the profile must not care */
	memset(res_fn, 'X', sizeof(res_fn) - 1);
	memset(res_file, 'X', sizeof(res_file) - 1);
	memset(res_obj, 'X', sizeof(res_obj) - 1);
	memset(res_bid, 'X', sizeof(res_bid) - 1);
	return r;
}

/* --- a reader of gzip'd profile.proto ------------------------------------ */

struct vtype {
	__u64 type, unit;
};

struct label {
	__u64 key, str, num;
};

struct sample {
	__u64 locs[MAX_ITEMS];
	size_t nr_locs;
	__u64 values[MAX_ITEMS];
	size_t nr_values;
	struct label labels[4];
	size_t nr_labels;
};

struct mapping {
	__u64 id, start, limit, offset, file, build_id;
	__u64 has_functions, has_filenames, has_line_numbers;
};

#define MAX_LINES	4

struct location {
	__u64 id, mapping_id, address;
	__u64 function_id, line;	/* of its first Line */
	__u64 function_ids[MAX_LINES], lines[MAX_LINES];
	size_t nr_lines;
};

struct function {
	__u64 id, name, system_name, file;
};

struct profile {
	struct vtype types[MAX_ITEMS];
	size_t nr_types;
	struct sample samples[MAX_ITEMS];
	size_t nr_samples;
	struct mapping maps[MAX_ITEMS];
	size_t nr_maps;
	struct location locs[MAX_ITEMS];
	size_t nr_locs;
	struct function funcs[MAX_ITEMS];
	size_t nr_funcs;
	char *strs[MAX_STRS];
	size_t nr_strs;
	__u64 comments[MAX_ITEMS];
	size_t nr_comments;
	__u64 time_nanos, duration_nanos, period, default_type;
	struct vtype period_type;
};

struct rd {
	const unsigned char *p, *end;
};

static __u64 rd_varint(struct rd *r)
{
	unsigned int shift;
	__u64 v = 0;

	for (shift = 0; shift < 64; shift += 7) {
		cr_assert(r->p < r->end, "varint runs past its message");
		v |= (__u64)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	cr_assert_fail("varint longer than 10 bytes");
	return 0;
}

/* The next field: a varint in *v, or a length-delimited body in *body. */
static bool rd_field(struct rd *r, unsigned int *field, __u64 *v,
		     struct rd *body)
{
	__u64 key, len;

	if (r->p == r->end)
		return false;
	key = rd_varint(r);
	*field = (unsigned int)(key >> 3);
	cr_assert_neq(*field, 0, "field number 0");
	switch (key & 7) {
	case 0:
		*v = rd_varint(r);
		body->p = body->end = NULL;
		break;
	case 2:
		len = rd_varint(r);
		cr_assert_leq(len, (__u64)(r->end - r->p),
			      "field %u runs past its message", *field);
		body->p = r->p;
		body->end = r->p + len;
		r->p += len;
		break;
	default:
		cr_assert_fail("field %u: unexpected wire type %llu", *field,
			       (unsigned long long)(key & 7));
	}
	return true;
}

/* A repeated varint, packed (body) or not (v). */
static void rd_repeated(const struct rd *body, __u64 v, __u64 *out,
			size_t *n)
{
	struct rd r = *body;

	if (!body->p) {
		cr_assert_lt(*n, MAX_ITEMS);
		out[(*n)++] = v;
		return;
	}
	while (r.p < r.end) {
		cr_assert_lt(*n, MAX_ITEMS);
		out[(*n)++] = rd_varint(&r);
	}
}

static void decode_vtype(struct rd r, struct vtype *t)
{
	struct rd body;
	unsigned int f;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f == 1)
			t->type = v;
		else if (f == 2)
			t->unit = v;
	}
}

static void decode_label(struct rd r, struct label *l)
{
	struct rd body;
	unsigned int f;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f == 1)
			l->key = v;
		else if (f == 2)
			l->str = v;
		else if (f == 3)
			l->num = v;
	}
}

static void decode_sample(struct rd r, struct sample *s)
{
	struct rd body;
	unsigned int f;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f == 1)
			rd_repeated(&body, v, s->locs, &s->nr_locs);
		else if (f == 2)
			rd_repeated(&body, v, s->values, &s->nr_values);
		else if (f == 3 && s->nr_labels < 4)
			decode_label(body, &s->labels[s->nr_labels++]);
	}
}

static void decode_mapping(struct rd r, struct mapping *m)
{
	__u64 *fields[] = {
		NULL, &m->id, &m->start, &m->limit, &m->offset, &m->file,
		&m->build_id, &m->has_functions, &m->has_filenames,
		&m->has_line_numbers,
	};
	struct rd body;
	unsigned int f;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f < sizeof(fields) / sizeof(*fields))
			*fields[f] = v;
	}
}

static void decode_location(struct rd r, struct location *l)
{
	struct rd body;
	unsigned int f, lf;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f == 1)
			l->id = v;
		else if (f == 2)
			l->mapping_id = v;
		else if (f == 3)
			l->address = v;
		if (f != 4)
			continue;
		cr_assert_lt(l->nr_lines, MAX_LINES, "too many Lines");
		while (rd_field(&body, &lf, &v, &(struct rd){ 0 })) {
			if (lf == 1)
				l->function_ids[l->nr_lines] = v;
			else if (lf == 2)
				l->lines[l->nr_lines] = v;
		}
		l->nr_lines++;
	}
	l->function_id = l->function_ids[0];
	l->line = l->lines[0];
}

static void decode_function(struct rd r, struct function *fn)
{
	__u64 *fields[] = {
		NULL, &fn->id, &fn->name, &fn->system_name, &fn->file,
	};
	struct rd body;
	unsigned int f;
	__u64 v;

	while (rd_field(&r, &f, &v, &body)) {
		if (f < sizeof(fields) / sizeof(*fields))
			*fields[f] = v;
	}
}

/* The index of the next element of a repeated message. */
static size_t next(size_t *n)
{
	cr_assert_lt(*n, MAX_ITEMS, "more than %d of a repeated field",
		     MAX_ITEMS);
	return (*n)++;
}

static void decode(const unsigned char *buf, size_t len, struct profile *p)
{
	struct rd r = { buf, buf + len }, body;
	unsigned int f;
	__u64 v;

	memset(p, 0, sizeof(*p));
	while (rd_field(&r, &f, &v, &body)) {
		switch (f) {
		case 1:
			decode_vtype(body, &p->types[next(&p->nr_types)]);
			break;
		case 2:
			decode_sample(body, &p->samples[next(&p->nr_samples)]);
			break;
		case 3:
			decode_mapping(body, &p->maps[next(&p->nr_maps)]);
			break;
		case 4:
			decode_location(body, &p->locs[next(&p->nr_locs)]);
			break;
		case 5:
			decode_function(body, &p->funcs[next(&p->nr_funcs)]);
			break;
		case 6:
			cr_assert_lt(p->nr_strs, MAX_STRS);
			p->strs[p->nr_strs++] = strndup((const char *)body.p,
							body.end - body.p);
			break;
		case 9:
			p->time_nanos = v;
			break;
		case 10:
			p->duration_nanos = v;
			break;
		case 11:
			decode_vtype(body, &p->period_type);
			break;
		case 12:
			p->period = v;
			break;
		case 13:
			rd_repeated(&body, v, p->comments, &p->nr_comments);
			break;
		case 14:
			p->default_type = v;
			break;
		default:
			cr_assert_fail("unexpected Profile field %u", f);
		}
	}
}

static void profile_free(struct profile *p)
{
	size_t i;

	for (i = 0; i < p->nr_strs; i++)
		free(p->strs[i]);
}

static const char *str(const struct profile *p, __u64 idx)
{
	cr_assert_lt(idx, p->nr_strs, "string index %llu of %zu",
		     (unsigned long long)idx, p->nr_strs);
	return p->strs[idx];
}

static char tmpdir[] = "/tmp/memscope-pprof-XXXXXX";
static char path[PATH_MAX];

static void setup_dir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/p.pb.gz", tmpdir);
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(tmpdir);
}

/* Writes r, gunzips the file as pprof does and decodes it into p. */
static void write_and_read(const struct report *r, struct profile *p)
{
	unsigned char in[4096], *out = NULL;
	size_t cap = 0, len = 0, n;
	z_stream z = { 0 };
	int err, ret = Z_OK;
	FILE *f;

	err = report__write_pprof(r, path);
	cr_assert_eq(err, 0, "report__write_pprof: %s", strerror(-err));
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	while (ret != Z_STREAM_END && (n = fread(in, 1, sizeof(in), f))) {
		z.next_in = in;
		z.avail_in = (uInt)n;
		while (z.avail_in && ret != Z_STREAM_END) {
			if (cap - len < sizeof(in)) {
				cap = cap ? cap * 2 : sizeof(in);
				out = realloc(out, cap);
				cr_assert_not_null(out);
			}
			z.next_out = out + len;
			z.avail_out = (uInt)(cap - len);
			ret = inflate(&z, Z_NO_FLUSH);
			cr_assert(ret == Z_OK || ret == Z_STREAM_END,
				  "not gzip: inflate %d", ret);
			len = cap - z.avail_out;
		}
	}
	cr_assert_eq(ret, Z_STREAM_END, "gzip stream cut short");
	cr_assert(!z.avail_in && !fread(in, 1, 1, f),
		  "data after the gzip member");
	inflateEnd(&z);
	fclose(f);
	decode(out, len, p);
	free(out);
}

static const struct location *loc_of(const struct profile *p, __u64 id)
{
	size_t i;

	for (i = 0; i < p->nr_locs; i++) {
		if (p->locs[i].id == id)
			return &p->locs[i];
	}
	cr_assert_fail("no location %llu", (unsigned long long)id);
	return NULL;
}

static const struct function *func_of(const struct profile *p, __u64 id)
{
	size_t i;

	for (i = 0; i < p->nr_funcs; i++) {
		if (p->funcs[i].id == id)
			return &p->funcs[i];
	}
	cr_assert_fail("no function %llu", (unsigned long long)id);
	return NULL;
}

static const struct mapping *map_named(const struct profile *p,
				       const char *file)
{
	size_t i;

	for (i = 0; i < p->nr_maps; i++) {
		if (!strcmp(str(p, p->maps[i].file), file))
			return &p->maps[i];
	}
	cr_assert_fail("no mapping %s", file);
	return NULL;
}

/* The function name of a location's Line, or NULL without one. */
static const char *loc_name(const struct profile *p, __u64 loc_id)
{
	const struct location *l = loc_of(p, loc_id);

	return l->nr_lines ? str(p, func_of(p, l->function_id)->name) : NULL;
}

TestSuite(pprof, .init = setup_dir, .fini = remove_dir);

Test(pprof, sample_types_and_header)
{
	static const char *const want[][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
		{ "peak_objects", "count" }, { "peak_space", "bytes" },
	};
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_DEFAULT);
	struct profile p;
	size_t i;

	write_and_read(r, &p);
	cr_assert_eq(p.nr_types, 6, "%zu sample types", p.nr_types);
	for (i = 0; i < 6; i++) {
		cr_expect_str_eq(str(&p, p.types[i].type), want[i][0]);
		cr_expect_str_eq(str(&p, p.types[i].unit), want[i][1]);
	}
	cr_expect_str_eq(str(&p, p.default_type), "inuse_space");
	cr_expect_str_eq(str(&p, p.period_type.type), "space");
	cr_expect_str_eq(str(&p, p.period_type.unit), "bytes");
	cr_expect_eq(p.period, 1);
	cr_expect_eq(p.duration_nanos, 5000000000ull);
	cr_expect_eq(p.time_nanos, 0, "the model has no wall clock");
	cr_assert_eq(p.nr_comments, 3);
	cr_expect_str_eq(str(&p, p.comments[0]),
			 "captured by memscope-bpf " MEMSCOPE_VERSION
			 ", mode default");
	cr_expect_str_eq(str(&p, p.comments[1]), "pid 4242: ./app --serve");
	cr_expect_str_eq(str(&p, p.comments[2]),
			 "lost events: 5, counts are incomplete");
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, string_table)
{
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_DEFAULT);
	struct profile p;
	size_t i, j;

	write_and_read(r, &p);
	cr_assert_gt(p.nr_strs, 0);
	cr_expect_str_eq(p.strs[0], "", "string 0 must be empty");
	for (i = 1; i < p.nr_strs; i++) {
		cr_expect_neq(p.strs[i][0], '\0', "string %zu empty", i);
		for (j = i + 1; j < p.nr_strs; j++)
			cr_expect_str_neq(p.strs[i], p.strs[j],
					  "strings %zu and %zu both \"%s\"",
					  i, j, p.strs[i]);
	}
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, one_sample_per_site_with_values)
{
	/*
	 * B A D C F E: alloc_objects alloc_space inuse_objects inuse_space
	 * peak_objects peak_space
	 */
	static const __u64 want[][6] = {
		{ 2, 350, 1, 300, 1, 300 }, { 2, 200, 1, 100, 1, 100 },
		{ 1, 70, 1, 70, 1, 70 }, { 1, 40, 0, 0, 1, 40 },
		{ 1, 16, 0, 0, 0, 0 }, { 1, 8, 1, 8, 1, 8 },
	};
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_DEFAULT);
	const struct sample *sm;
	struct profile p;
	size_t i, k;

	write_and_read(r, &p);
	cr_assert_eq(p.nr_samples, 6, "%zu samples", p.nr_samples);
	for (i = 0; i < 6; i++) {
		sm = &p.samples[i];
		cr_assert_eq(sm->nr_values, 6);
		for (k = 0; k < 6; k++)
			cr_expect_eq(sm->values[k], want[i][k],
				     "sample %zu value %zu: %llu, want %llu",
				     i, k, (unsigned long long)sm->values[k],
				     (unsigned long long)want[i][k]);
	}
	/* the leaf first */
	cr_assert_eq(p.samples[0].nr_locs, 2);
	cr_expect_str_eq(loc_name(&p, p.samples[0].locs[0]), HOSTILE_FN);
	cr_expect_str_eq(loc_name(&p, p.samples[0].locs[1]), "main");
	cr_assert_eq(p.samples[1].nr_locs, 2);
	cr_expect_str_eq(loc_name(&p, p.samples[1].locs[0]), "a_alloc");
	cr_expect_eq(p.samples[1].locs[1], p.samples[0].locs[1],
		     "main's return address is one location");
	/* pprof drops a sample without locations: a marker keeps it */
	cr_assert_eq(p.samples[2].nr_locs, 1);
	cr_expect_str_eq(loc_name(&p, p.samples[2].locs[0]), "[no-stack]");
	cr_expect_eq(loc_of(&p, p.samples[2].locs[0])->mapping_id, 0);
	/* a cut stack's root is not its outermost frame */
	cr_assert_eq(p.samples[5].nr_locs, 2);
	cr_expect_str_eq(loc_name(&p, p.samples[5].locs[0]), "deep");
	cr_expect_str_eq(loc_name(&p, p.samples[5].locs[1]), "[truncated]");
	profile_free(&p);
	report__free(r);
	store__free(s);
}

/*
 * A stack that stopped before the program's entry is rooted at its
 * reason's marker, as a cut one at [truncated]: stacks that stopped alike
 * share a root, and the marker is one location.
 */
Test(pprof, a_stack_stopped_early_under_its_marker)
{
	struct store *s = store__new();
	struct report *r;
	struct profile p;
	size_t i;

	cr_assert_not_null(s);
	alloc_flagged(s, 0xa1, 100, stack_a, NR(stack_a),
		      MS_STOP_NOT_LOADED << MS_EVF_STOP_SHIFT);
	alloc_flagged(s, 0xb1, 300, stack_b, NR(stack_b),
		      MS_STOP_NOT_LOADED << MS_EVF_STOP_SHIFT);
	ALLOC(s, 0xf1, 16, stack_f);
	r = build(s, TRACE_MODE_DEFAULT);
	write_and_read(r, &p);
	cr_assert_eq(p.nr_samples, 3, "%zu samples", p.nr_samples);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(p.samples[i].nr_locs, 3);
		cr_expect_str_eq(loc_name(&p, p.samples[i].locs[1]), "main");
		cr_expect_str_eq(loc_name(&p, p.samples[i].locs[2]),
				 "[ended-early-not_loaded]");
	}
	cr_expect_eq(p.samples[0].locs[2], p.samples[1].locs[2],
		     "one marker location");
	cr_assert_eq(p.samples[2].nr_locs, 1, "a whole stack has no marker");
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, locations_functions_mappings)
{
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_DEFAULT);
	const struct location *l;
	const struct function *fn;
	const struct mapping *app, *libx;
	struct profile p;
	size_t i;

	write_and_read(r, &p);
	/* 0x1000 0x2000 0x3000 0x4000 0x5000 0x7000 0x6000, two markers */
	cr_expect_eq(p.nr_locs, 9, "%zu locations", p.nr_locs);
	/* a_alloc main "b;alloc fn" freed_fn deep [no-stack] [truncated] */
	cr_expect_eq(p.nr_funcs, 7, "%zu functions", p.nr_funcs);
	cr_assert_eq(p.nr_maps, 2, "%zu mappings", p.nr_maps);
	for (i = 0; i < p.nr_locs; i++)
		cr_expect_eq(p.locs[i].id, i + 1);

	app = map_named(&p, APP);
	libx = map_named(&p, LIBX);
	cr_expect_str_eq(str(&p, app->build_id), APP_BUILD_ID);
	cr_expect_eq(libx->build_id, 0, "libx has no build-id");
	cr_expect(app->has_functions && app->has_filenames &&
		  app->has_line_numbers);
	cr_expect(libx->has_functions && !libx->has_filenames &&
		  !libx->has_line_numbers);
	/* addresses unknown: pprof then takes locations as object addresses */
	cr_expect(!app->start && !app->limit && !app->offset);

	/* a_alloc a.c:10 at app+0x100 */
	l = loc_of(&p, p.samples[1].locs[0]);
	cr_expect_eq(l->mapping_id, app->id);
	cr_expect_eq(l->address, 0x100);
	cr_assert_eq(l->nr_lines, 1);
	cr_expect_eq(l->line, 10);
	fn = func_of(&p, l->function_id);
	cr_expect_str_eq(str(&p, fn->name), "a_alloc");
	cr_expect_str_eq(str(&p, fn->system_name), "a_alloc");
	cr_expect_str_eq(str(&p, fn->file), "a.c");

	/* B's leaf: a function without a file */
	fn = func_of(&p, loc_of(&p, p.samples[0].locs[0])->function_id);
	cr_expect_eq(fn->file, 0);

	/* C: libx+0x99 with no symbol, then an address in no object */
	cr_assert_eq(p.samples[3].nr_locs, 2);
	l = loc_of(&p, p.samples[3].locs[0]);
	cr_expect_eq(l->mapping_id, libx->id);
	cr_expect_eq(l->address, 0x99);
	cr_expect_eq(l->nr_lines, 0, "unresolved frame has a Line");
	l = loc_of(&p, p.samples[3].locs[1]);
	cr_expect_eq(l->mapping_id, 0);
	cr_expect_eq(l->address, 0x5000);
	cr_expect_eq(l->nr_lines, 0);
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, alloc_mode_defaults_to_alloc_space)
{
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_ALLOC);
	struct profile p;

	write_and_read(r, &p);
	cr_expect_str_eq(str(&p, p.default_type), "alloc_space");
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, empty_report_is_a_valid_profile)
{
	struct store *s = store__new();
	struct report_target t = { .pid = 1, .start_ns = START_NS };
	struct report *r;
	struct profile p;

	cr_assert_not_null(s);
	r = report__build(s, &t, NULL, NULL, 0, NULL);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	write_and_read(r, &p);
	cr_expect_eq(p.nr_types, 6);
	cr_expect_eq(p.nr_samples, 0);
	cr_expect_eq(p.nr_locs + p.nr_funcs + p.nr_maps, 0);
	cr_expect_eq(p.nr_comments, 2, "no losses, no loss comment");
	cr_expect_str_eq(str(&p, p.comments[1]), "pid 1");
	profile_free(&p);
	report__free(r);
	store__free(s);
}

/* With a leak filter, inuse_* is of fewer blocks than the trace's: said. */
Test(pprof, leak_filter_is_a_comment)
{
	struct store *s = store__new();
	struct report_target t = { .pid = 1, .start_ns = START_NS };
	struct report_opts o = {
		.filter = { .min_size = 100, .max_size = 1000 },
	};
	static const __u64 st[] = { 0x1000 };
	struct report *r;
	struct profile p;

	cr_assert_not_null(s);
	ev_alloc(s, 0xa0, 50, 1, st, 1, START_NS + 1);
	ev_alloc(s, 0xb0, 500, 2, st, 1, START_NS + 2);
	r = report__build(s, &t, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	write_and_read(r, &p);
	cr_assert_eq(p.nr_comments, 3, "no losses, and the filter's comment");
	cr_expect_str_eq(str(&p, p.comments[2]),
			 "leak filter: inuse counts 1 of 2 live blocks (older "
			 "than 0 ns, at least 100 bytes, at most 1000 bytes)");
	cr_assert_eq(p.nr_samples, 1);
	profile_free(&p);
	report__free(r);
	store__free(s);
}

Test(pprof, unwritable_path_fails_cleanly)
{
	struct store *s = make_store();
	struct report *r = build(s, TRACE_MODE_DEFAULT);
	char bad[PATH_MAX];

	snprintf(bad, sizeof(bad), "%s/missing/p.pb.gz", tmpdir);
	cr_expect_eq(report__write_pprof(r, bad), -ENOENT);
	cr_expect_neq(access(bad, F_OK), 0);
	report__free(r);
	store__free(s);
}

/* 0x8000: inl_fn (mangled _Z6inl_fnv) a.c:3 inlined into outer_fn a.c:30 */
static unsigned inline_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame frames[2];

	(void)ctx;
	memset(frames, 0, sizeof(frames));
	*out = frames;
	frames[0].addr = frames[1].addr = addr;
	if (addr != 0x8000)
		return 1;
	frames[0] = (struct frame){
		.addr = addr, .function = "inl_fn()", .mangled = "_Z6inl_fnv",
		.file = "a.c", .line = 3, .inlined = true, .object = APP,
		.object_offset = 0x800,
	};
	frames[1] = (struct frame){
		.addr = addr, .function = "outer_fn", .file = "a.c",
		.line = 30, .object = APP, .object_offset = 0x800,
	};
	return 2;
}

/* The frames of one address are one Location, its Lines innermost first. */
Test(pprof, inlined_calls_are_lines_of_one_location)
{
	static const __u64 st[] = { 0x8000 };
	struct report_target t = { .pid = 1, .mode = TRACE_MODE_DEFAULT,
				   .start_ns = START_NS };
	struct report_opts opts = { .resolve = inline_resolve };
	struct store *s = store__new();
	const struct location *l;
	const struct function *fn;
	struct report *r;
	struct profile p;

	cr_assert(s);
	ALLOC(s, 0xa1, 100, st);
	r = report__build(s, &t, NULL, NULL, 0, &opts);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	write_and_read(r, &p);
	cr_assert_eq(p.nr_samples, 1);
	cr_assert_eq(p.samples[0].nr_locs, 1, "%zu locations for one address",
		     p.samples[0].nr_locs);
	l = loc_of(&p, p.samples[0].locs[0]);
	cr_expect_eq(l->address, 0x800);
	cr_assert_eq(l->nr_lines, 2, "%zu Lines, want 2", l->nr_lines);
	fn = func_of(&p, l->function_ids[0]);
	cr_expect_str_eq(str(&p, fn->name), "inl_fn()");
	cr_expect_str_eq(str(&p, fn->system_name), "_Z6inl_fnv");
	cr_expect_eq(l->lines[0], 3);
	fn = func_of(&p, l->function_ids[1]);
	cr_expect_str_eq(str(&p, fn->name), "outer_fn");
	cr_expect_str_eq(str(&p, fn->system_name), "outer_fn");
	cr_expect_eq(l->lines[1], 30);
	profile_free(&p);
	report__free(r);
	store__free(s);
}

/* The value of a sample's label key (a number, or a string's index). */
static __u64 label_of(const struct profile *p, const struct sample *s,
		      const char *key, bool num)
{
	size_t i;

	for (i = 0; i < s->nr_labels; i++) {
		if (!strcmp(str(p, s->labels[i].key), key))
			return num ? s->labels[i].num : s->labels[i].str;
	}
	cr_assert_fail("no label %s", key);
	return 0;
}

/* Image i's resolver names every address "img<i>". */
static unsigned image_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;
	static char fn[16];

	snprintf(fn, sizeof(fn), "img%zu", (size_t)ctx);
	fr = (struct frame){ .addr = addr, .function = fn };
	*out = &fr;
	return 1;
}

static void *image_ctx(void *ctx, size_t i)
{
	(void)ctx;
	return (void *)i;
}

/*
 * Two processes allocate from the same address: two locations, each of
 * its image's function, and each sample labelled with its process.
 */
Test(pprof, processes_labelled_with_their_own_locations)
{
	/* -a: a set with no first process */
	struct report_target tgt = { .start_ns = 1 };
	struct report_opts o = { .resolve = image_resolve,
				 .image_ctx = image_ctx };
	struct procs *pt = procs__new();
	struct profile p = { 0 };
	struct ms_event e;
	struct report *r;
	__u32 pid;
	size_t i;

	cr_assert_not_null(pt);
	for (pid = 10; pid <= 11; pid++) {
		e = ev_rec(MS_EV_ALLOC, 100 + pid);
		e.pid = pid;
		e.ptr = 0x1000;
		e.size = pid;
		ev_stack(&e, stack_f, 1);
		cr_assert_eq(procs__apply(pt, &e), 0);
	}
	/* pid 10's block freed: its peak is its own, not the trace's */
	e = ev_rec(MS_EV_FREE, 200);
	e.pid = 10;
	e.ptr = 0x1000;
	cr_assert_eq(procs__apply(pt, &e), 0);
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r);
	write_and_read(r, &p);
	cr_assert_geq(p.nr_comments, 2);
	cr_expect_str_eq(str(&p, p.comments[1]), REPORT_SET_NAME);
	cr_assert_eq(p.nr_samples, 2, "samples: %zu", p.nr_samples);
	cr_assert_eq(p.nr_locs, 2, "one location per image, got %zu",
		     p.nr_locs);
	for (i = 0; i < 2; i++) {
		const struct sample *s = &p.samples[i];
		const struct location *l = loc_of(&p, s->locs[0]);
		char want[16];

		snprintf(want, sizeof(want), "img%zu", i);
		cr_expect_eq(label_of(&p, s, "pid", true), 10 + i);
		cr_expect_eq(label_of(&p, s, "image", true), 0);
		cr_expect_str_eq(str(&p, func_of(&p, l->function_id)->name),
				 want);
		cr_expect_eq(s->values[1], 10 + i, "alloc_space of pid %zu",
			     10 + i);
		cr_expect_eq(s->values[3], i ? 11 : 0, "inuse_space of pid %zu",
			     10 + i);
		cr_expect_eq(s->values[5], 10 + i, "peak_space of pid %zu",
			     10 + i);
	}
	profile_free(&p);
	report__free(r);
	procs__free(pt);
}
