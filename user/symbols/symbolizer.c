/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Lazy symbolization of one process's addresses with libdwfl.
 *
 * The symbolizer keeps its own copy of the executable mappings and one
 * open descriptor per mapped object, so it needs the target only while
 * cover() learns about new mappings. Each object gets its own offline Dwfl,
 * made on first resolve: addresses are turned into the object's ELF
 * virtual addresses first, so no process layout has to be reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>

#include "elfsym.h"
#include "procmaps.h"
#include "symbolizer.h"

#define HTAB_MIN_BUCKETS 64

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct hnode {
	struct hnode *next;
	__u64 hash;
};

/* Chained hash table of nodes, each the first member of its allocation. */
struct htab {
	struct hnode **buckets;
	size_t nbuckets;	/* 0 or a power of two */
	size_t count;
};

struct interned {
	struct hnode node;
	char str[];
};

struct cached_frame {
	struct hnode node;
	struct frame frame;
};

/* One file, however many times and under whatever name it is mapped. */
struct sym_object {
	dev_t dev;
	__u64 inode;
	const char *path;	/* interned, as the target sees it */
	int fd;			/* -1 when it could not be opened */
	bool loaded;		/* the Dwfl below was tried */
	Dwfl *dwfl;
	Dwfl_Module *mod;	/* NULL when the file is not usable ELF */
	const char *build_id;	/* interned hex; NULL when it has none */
};

struct sym_map {
	__u64 start;
	__u64 end;
	__u64 offset;
	const char *name;	/* interned path; NULL when anonymous */
	struct sym_object *obj;	/* NULL when not backed by a file */
};

struct symbolizer {
	int pid;
	struct sym_map *maps;	/* executable only, sorted, disjoint */
	size_t nmaps;
	struct sym_object **objs;
	size_t nobjs;
	struct htab strings;
	struct htab frames;
};

struct range {
	__u64 start;
	__u64 end;
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* FNV-1a */
static __u64 hash_str(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* murmur3's finalizer: addresses differ in few bits, buckets need all 64 */
static __u64 hash_addr(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static struct hnode *htab_chain(const struct htab *h, __u64 hash)
{
	return h->nbuckets ? h->buckets[hash & (h->nbuckets - 1)] : NULL;
}

static int htab_grow(struct htab *h)
{
	size_t i, n = h->nbuckets ? h->nbuckets * 2 : HTAB_MIN_BUCKETS;
	struct hnode **buckets, *node, *next;

	buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (i = 0; i < h->nbuckets; i++) {
		for (node = h->buckets[i]; node; node = next) {
			next = node->next;
			node->next = buckets[node->hash & (n - 1)];
			buckets[node->hash & (n - 1)] = node;
		}
	}
	free(h->buckets);
	h->buckets = buckets;
	h->nbuckets = n;
	return 0;
}

static int htab_add(struct htab *h, struct hnode *node)
{
	struct hnode **head;

	/* A table that cannot grow still works, with longer chains. */
	if (h->count >= h->nbuckets && htab_grow(h) && !h->nbuckets)
		return -ENOMEM;
	head = &h->buckets[node->hash & (h->nbuckets - 1)];
	node->next = *head;
	*head = node;
	h->count++;
	return 0;
}

static void htab_clear(struct htab *h)
{
	struct hnode *node, *next;
	size_t i;

	for (i = 0; i < h->nbuckets; i++) {
		for (node = h->buckets[i]; node; node = next) {
			next = node->next;
			free(node);
		}
	}
	free(h->buckets);
	memset(h, 0, sizeof(*h));
}

/* NULL for NULL, or when out of memory. */
static const char *intern(struct symbolizer *s, const char *str)
{
	struct interned *in;
	struct hnode *node;
	__u64 hash;
	size_t len;

	if (!str)
		return NULL;
	hash = hash_str(str);
	for (node = htab_chain(&s->strings, hash); node; node = node->next) {
		in = container_of(node, struct interned, node);
		if (node->hash == hash && !strcmp(in->str, str))
			return in->str;
	}
	len = strlen(str) + 1;
	in = malloc(sizeof(*in) + len);
	if (!in)
		return NULL;
	in->node.hash = hash;
	memcpy(in->str, str, len);
	if (htab_add(&s->strings, &in->node)) {
		free(in);
		return NULL;
	}
	return in->str;
}

static int cmp_range_map(const void *key, const void *elem)
{
	const struct sym_map *m = elem;
	const struct range *r = key;

	if (r->end <= m->start)
		return -1;
	return r->start >= m->end;
}

static int cmp_map_start(const void *a, const void *b)
{
	const struct sym_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static struct sym_map *map_overlapping(struct sym_map *maps, size_t n,
				       __u64 start, __u64 end)
{
	struct range r = { start, end };

	if (!n)
		return NULL;
	return bsearch(&r, maps, n, sizeof(*maps), cmp_range_map);
}

static struct sym_map *map_find(struct symbolizer *s, __u64 addr)
{
	return map_overlapping(s->maps, s->nmaps, addr, addr + 1);
}

/*
 * Through /proc/PID/root the path resolves in the target's mount
 * namespace. A deleted file has no path left; map_files still reaches it
 * (with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE).
 */
static int object_open(int pid, const struct procmap *e)
{
	char *path;
	int fd, n;

	if (e->deleted)
		n = asprintf(&path, "/proc/%d/map_files/%llx-%llx", pid,
			     (unsigned long long)e->start,
			     (unsigned long long)e->end);
	else
		n = asprintf(&path, "/proc/%d/root%s", pid, e->path);
	if (n < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	return fd;
}

/* The object of a file-backed mapping, opened the first time it is seen. */
static struct sym_object *object_get(struct symbolizer *s,
				     const struct procmap *e, const char *path)
{
	struct sym_object *o, **objs;
	size_t i;

	for (i = 0; i < s->nobjs; i++) {
		o = s->objs[i];
		if (o->dev == e->dev && o->inode == e->inode)
			return o;
	}
	objs = realloc(s->objs, (s->nobjs + 1) * sizeof(*objs));
	if (!objs)
		return NULL;
	s->objs = objs;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->dev = e->dev;
	o->inode = e->inode;
	o->path = path;
	/* Unreadable stays unreadable: failing once is cheaper than retrying */
	o->fd = object_open(s->pid, e);
	s->objs[s->nobjs++] = o;
	return o;
}

static void object_free(struct sym_object *o)
{
	if (o->dwfl)
		dwfl_end(o->dwfl);
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

/*
 * The build-id names the object to readers of exported profiles (pprof
 * mappings): they find its symbols by it, wherever the file has gone.
 * Without memory the object simply has none.
 */
static const char *module_build_id(struct symbolizer *s, Dwfl_Module *mod)
{
	const unsigned char *bits;
	const char *interned;
	GElf_Addr vaddr;
	char *hex;
	int i, n;

	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n <= 0)
		return NULL;
	hex = malloc(2 * (size_t)n + 1);
	if (!hex)
		return NULL;
	for (i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", bits[i]);
	interned = intern(s, hex);
	free(hex);
	return interned;
}

/*
 * libdwfl closes the descriptor it is given, so it gets a duplicate. The
 * module is named by the target's path: .gnu_debuglink is looked up
 * beside it, which still works after /proc/PID/root has gone.
 */
static Dwfl_Module *object_module(struct symbolizer *s, struct sym_object *o)
{
	int fd;

	if (o->loaded)
		return o->mod;
	o->loaded = true;
	if (o->fd < 0)
		return NULL;
	o->dwfl = dwfl_begin(&offline_callbacks);
	if (!o->dwfl)
		return NULL;
	fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	o->mod = dwfl_report_offline(o->dwfl, o->path, o->path, fd);
	if (!o->mod) {
		close(fd);
		return NULL;
	}
	dwfl_report_end(o->dwfl, NULL, NULL);
	o->build_id = module_build_id(s, o->mod);
	return o->mod;
}

static int map_init(struct symbolizer *s, const struct procmap *e,
		    struct sym_map *m)
{
	m->start = e->start;
	m->end = e->end;
	m->offset = e->offset;
	m->name = NULL;
	m->obj = NULL;
	if (!e->path)
		return 0;
	m->name = intern(s, e->path);
	if (!m->name)
		return -ENOMEM;
	/* [vdso] and the like are executable but have no file to read */
	if (e->path[0] != '/')
		return 0;
	m->obj = object_get(s, e, m->name);
	return m->obj ? 0 : -ENOMEM;
}

static bool map_same(const struct sym_map *a, const struct sym_map *b)
{
	return a->start == b->start && a->end == b->end &&
	       a->offset == b->offset && a->obj == b->obj;
}

static int refresh(struct symbolizer *s)
{
	struct sym_map *maps, *now;
	const struct procmap *e;
	size_t i, n = 0, fresh;
	struct procmaps *pm;
	bool stale = false;
	int err;

	pm = procmaps__read(s->pid);
	if (!pm)
		return -errno;
	maps = calloc(procmaps__count(pm) + s->nmaps, sizeof(*maps));
	if (!maps) {
		err = -ENOMEM;
		goto free_procmaps;
	}
	for (i = 0; i < procmaps__count(pm); i++) {
		e = procmaps__get(pm, i);
		if (e->perms[2] != 'x')
			continue;
		err = map_init(s, e, &maps[n]);
		if (err)
			goto free_maps;
		n++;
	}
	/*
	 * Mappings gone since stay: stacks captured before still point into
	 * them. One whose range now holds something else was replaced, and
	 * the results cached for its addresses with it.
	 */
	fresh = n;
	for (i = 0; i < s->nmaps; i++) {
		now = map_overlapping(maps, fresh, s->maps[i].start,
				      s->maps[i].end);
		if (!now)
			maps[n++] = s->maps[i];
		else if (!map_same(now, &s->maps[i]))
			stale = true;
	}
	qsort(maps, n, sizeof(*maps), cmp_map_start);
	free(s->maps);
	s->maps = maps;
	s->nmaps = n;
	if (stale)
		htab_clear(&s->frames);
	procmaps__free(pm);
	return 0;

free_maps:
	free(maps);
free_procmaps:
	procmaps__free(pm);
	return err;
}

struct symbolizer *symbolizer__new(int pid)
{
	struct symbolizer *s;

	if (pid <= 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pid = pid;
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nobjs; i++)
		object_free(s->objs[i]);
	free(s->objs);
	free(s->maps);
	htab_clear(&s->frames);
	htab_clear(&s->strings);
	free(s);
}

int symbolizer__cover(struct symbolizer *s, const __u64 *addrs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (!map_find(s, addrs[i]))
			return refresh(s);
	}
	return 0;
}

static void describe(struct symbolizer *s, const struct sym_map *m,
		     struct frame *out)
{
	__u64 offset = out->addr - m->start + m->offset;
	Dwfl_Module *mod;
	Dwfl_Line *line;
	GElf_Addr bias;
	GElf_Off off;
	GElf_Sym sym;
	Elf *elf;
	__u64 pc;

	out->object = m->name;
	out->object_offset = offset;
	mod = m->obj ? object_module(s, m->obj) : NULL;
	if (!mod)
		return;
	out->build_id = m->obj->build_id;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || elf_offset_to_vaddr(elf, offset, &out->object_offset))
		return;
	/* A return address: the call that made the frame ends just before */
	pc = out->object_offset - 1 + bias;
	out->function = intern(s, dwfl_module_addrinfo(mod, pc, &off, &sym,
							NULL, NULL, NULL));
	line = dwfl_module_getsrc(mod, pc);
	if (!line)
		return;
	out->file = intern(s, dwfl_lineinfo(line, NULL, &out->line, NULL,
					    NULL, NULL));
	if (!out->file)
		out->line = 0;
}

void symbolizer__resolve(struct symbolizer *s, __u64 addr,
			 struct frame *out)
{
	__u64 hash = hash_addr(addr);
	struct cached_frame *c;
	struct hnode *node;
	struct sym_map *m;

	for (node = htab_chain(&s->frames, hash); node; node = node->next) {
		c = container_of(node, struct cached_frame, node);
		if (c->frame.addr == addr) {
			*out = c->frame;
			return;
		}
	}
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	/* Not cached: a later cover() may still bring its mapping in */
	m = map_find(s, addr);
	if (!m)
		return;
	describe(s, m, out);
	/* Without memory the answer is still right, only not remembered */
	c = malloc(sizeof(*c));
	if (!c)
		return;
	c->node.hash = hash;
	c->frame = *out;
	if (htab_add(&s->frames, &c->node))
		free(c);
}
