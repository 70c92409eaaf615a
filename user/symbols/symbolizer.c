/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Lazy symbolization of one process's addresses with libdwfl.
 *
 * The symbolizer keeps its own copy of the executable mappings and a
 * descriptor of the target's root directory, so it needs the target only
 * while cover() learns about new mappings. The files they map are kept
 * in a struct sym_files, which the symbolizers of a trace share: one open
 * descriptor per file, and one offline Dwfl, made on the first resolve of
 * any process that maps it. Addresses are turned into the file's ELF
 * virtual addresses first, so no process layout has to be reported. Its
 * separate debug files are found by our own callback (debuginfo.c),
 * inside the root of the process that asks.
 *
 * One return address stands for as many frames as calls were inlined at
 * it: the DWARF scopes around it give each inlined call's function and the
 * line it was called from. Names are shown as a person reads them: without
 * symbol versions, C++ and Rust demangled (libiberty).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dwarf.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>

#include "addrsym.h"
#include "clock.h"
#include "debuginfo.h"
#include "elfsym.h"
#include "gopclntab.h"
#include "perfmap.h"
#include "procinfo_read.h"
#include "procmaps.h"
#include "symbolizer.h"
#include "table.h"
#include "vdso.h"

/*
 * Longer names are shown mangled: libiberty's demangler has needed
 * quadratic time and deep recursion on hostile input before, and real
 * names stay well below this.
 */
#define DEMANGLE_MAX	(16 * 1024)
#define DEMANGLE_OPTS	(DMGL_PARAMS | DMGL_ANSI)
/* DIE nesting followed down to an address; real code nests a few dozen. */
#define SCOPE_DEPTH_MAX	256

/*
 * The frames of one (file, offset), innermost first: the same in every
 * process that maps the file, so kept once for all (sym_files.frames);
 * each answer gets the asking process's address and name of the object.
 */
struct cached_frames {
	unsigned nr;
	struct frame frames[];
};

struct symbolizer;
struct sym_files;

/*
 * One file's symbols and DWARF, read once however many processes map it
 * (a system-wide trace has every process map libc: each read of its debug
 * file inflated its compressed sections again, and kept them).
 */
struct sym_file {
	__u32 id;		/* its number in sym_files, for frames' keys */
	dev_t dev;
	__u64 inode;
	int fd;			/* -1 when it could not be opened */
	char *path;		/* as the process that opened it names it */
	bool loaded;		/* the Dwfl below was tried */
	Dwfl *dwfl;
	Dwfl_Module *mod;	/* NULL when the file is not usable ELF */
	struct addrsym *syms;	/* mod's symbol spans, made on first use */
	bool syms_tried;
	/* Go's function table, for a stripped Go program's names */
	struct gopcln *pcln;
	bool pcln_tried;
	char *build_id;		/* hex; NULL when it has none */
	struct sym_files *files;	/* for the debuginfod client */
	/*
	 * The symbolizer whose process's root the debug files are looked
	 * up in: the one that asks, set before each use of the Dwfl, whose
	 * lookups are lazy. The debug file of a file is the same in any
	 * root that has it (by build-id or by CRC).
	 */
	struct symbolizer *asking;
	/*
	 * The .gnu_debugaltlink of the separate debug file found for it,
	 * kept for the alternate file's lookup that follows.
	 */
	char *debug_path;	/* as the target names it, or debuginfod's */
	char *alt_name;
	unsigned char *alt_id;
	size_t alt_id_len;
};

/*
 * The files of every symbolizer made with it, by (dev, inode), and what
 * they were found to hold: under -a every process maps libc, and each
 * image named its addresses again and kept its own copy of the names.
 */
struct sym_files {
	struct tab_keyed index;		/* struct file_ref */
	struct debuginfod_client *debuginfod;	/* made on first use */
	__u32 nr_files;			/* ids given */
	struct tab_pool strings;	/* names, paths, build-ids */
	/* struct frames_ref by (sym_file.id << OFFSET_BITS | offset) */
	struct tab_keyed frames;
	struct cached_frames *uncached;	/* a result the table could not take */
	/*
	 * struct sym_root: the roots the symbolizers hold open, one for all
	 * the processes that share it (-a kept one descriptor per process
	 * image, and ran out of them after ~20,000 processes)
	 */
	struct tab_array roots;
};

/* A process's root directory, as a mount and an inode: its descriptor. */
struct sym_root {
	__u64 dev;
	__u64 ino;
	__u64 mnt;		/* the mount's id: a mount namespace's own */
	int fd;
};

struct file_ref {
	__u64 key;
	struct sym_file *f;
};

/* One file as one process maps it, however many times and under whatever name. */
struct sym_object {
	const char *path;	/* interned, as this process names it */
	struct sym_file *file;
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
	int root_fd;		/* /proc/PID/root, -1 until read or unreadable;
				 * files->roots' */
	struct sym_files *files;
	struct sym_files *own_files;	/* files when none was shared */
	struct frame scratch;	/* an address of no object */
	struct sym_map *maps;	/* executable only, sorted, disjoint */
	size_t nmaps;
	/*
	 * struct range: addresses where two files, or one file at two
	 * biases, held code in turn (a dlclose, then a dlopen at the same
	 * place). A stack's address there may be either's: it is named by
	 * neither.
	 */
	struct tab_array reused;
	struct sym_object **objs;
	size_t nobjs, cap_objs;
	/* the program the maps were first read from (/proc/PID/exe) */
	dev_t exe_dev;
	ino_t exe_ino;
	bool exe_known;
	bool sealed;		/* the process exec'd since this image */
	bool tried;		/* the maps were read, or could not be */
	/*
	 * The image named, as the kernel numbers a process's images, and
	 * how to ask which one the process runs now (0: none known)
	 */
	__u32 image_gen;
	__u32 (*image_now)(void *ctx, int pid);
	void *image_ctx;
	/*
	 * Code a JIT runtime compiled, which no file holds, named from the
	 * runtime's perf map: the process's pid in its namespace (the map's
	 * name) and its owner, read with its maps while it runs; the map,
	 * read on the first lookup and again when it has changed.
	 */
	__u32 ns_pid;		/* 0: unknown, no map is read */
	uid_t uid;
	__u64 start_ns;		/* since boot: an older map is another's */
	struct perfmap *jit;
	const char *jit_path;	/* interned, as the process names it */
	struct stat jit_st;	/* of the map read */
	__u64 jit_checked_ns;
};

/* How often a perf map is looked at again for changes */
#define JIT_RECHECK_NS	1000000000ull

/* A cached result in the frames table: keyed, pointing at its frames. */
struct frames_ref {
	__u64 key;
	struct cached_frames *c;
};

/* File offsets a frame cache key holds; past it, results are not kept. */
#define OFFSET_BITS	40
/* Reused ranges kept: each is a dlclose and dlopen seen by a maps read. */
#define REUSED_MAX	4096

struct range {
	__u64 start;
	__u64 end;
};

static int find_debuginfo(Dwfl_Module *mod, void **userdata,
			  const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name);

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* NULL for NULL, or when out of memory. */
static const char *intern(struct symbolizer *s, const char *str)
{
	const char *in;

	if (!str || tab_pool_intern(&s->files->strings, str, &in, NULL))
		return NULL;
	return in;
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

/* The same file at the same bias: the same code at every address. */
static bool same_code(const struct sym_map *a, const struct sym_map *b)
{
	return a->obj == b->obj && a->start - a->offset == b->start - b->offset;
}

/* The reused range that holds [start, end) whole, if any. */
static const struct range *reused_over(const struct symbolizer *s,
				       __u64 start, __u64 end)
{
	const struct range *r;
	size_t i;

	for (i = 0; i < s->reused.nr; i++) {
		r = tab_array_at(&s->reused, i);
		if (start >= r->start && end <= r->end)
			return r;
	}
	return NULL;
}

static bool reused_at(const struct symbolizer *s, __u64 addr)
{
	return reused_over(s, addr, addr + 1);
}

/*
 * old and the mappings of maps[0, n) (sorted) over its range: where one
 * holds other code, the addresses are marked reused, once (a host that
 * swaps two plugins all day marks the same range at every read). Past
 * the table's bound a range is not kept: -ENOSPC, as -ENOMEM, fails the
 * read.
 */
static int reused_check(struct symbolizer *s, const struct sym_map *old,
			const struct sym_map *maps, size_t n)
{
	struct range *r, o;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		if (maps[i].end <= old->start || maps[i].start >= old->end ||
		    same_code(&maps[i], old))
			continue;
		o.start = maps[i].start > old->start ? maps[i].start :
						       old->start;
		o.end = maps[i].end < old->end ? maps[i].end : old->end;
		if (reused_over(s, o.start, o.end))
			continue;
		err = tab_array_reserve(&s->reused, 1);
		if (err)
			return err;
		r = tab_array_push(&s->reused);
		*r = o;
	}
	return 0;
}

/*
 * Through the target's view of it (procmap_path; map_files takes
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE).
 */
static int object_open(int pid, const struct procmap *e)
{
	char path[PATH_MAX + 64];
	int fd = -1;

	if (vdso__is(e->path)) {
		const char *image = vdso__path(e->end - e->start);

		return image ? open(image, O_RDONLY | O_CLOEXEC) : -1;
	}
	if (!procmap_path(pid, e, path, sizeof(path)))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	/*
	 * The process gone (a mapping the kernel told of: add_map), the
	 * path in this tool's namespace, taken only if it is that file.
	 */
	if (fd < 0 && !e->deleted && e->path[0] == '/')
		fd = procmap_open_same(e->path, e->dev, e->inode);
	return fd;
}

static __u64 file_key(dev_t dev, __u64 inode)
{
	return tab_mix64(dev) ^ inode;
}

/*
 * The file of a mapping of process pid, opened the first time any
 * process is seen to map it. One that could not be opened is tried again
 * through another process's root (the first may have gone before its
 * maps were read), until its DWARF is asked for: within one process,
 * failing once is cheaper than retrying.
 */
static struct sym_file *file_get(struct sym_files *files, int pid,
				 const struct procmap *e)
{
	__u64 key = file_key(e->dev, e->inode);
	struct file_ref *ref = tab_keyed_get(&files->index, key);
	struct sym_file *f;

	if (ref && ref->f->dev == e->dev && ref->f->inode == e->inode) {
		f = ref->f;
		if (f->fd < 0 && !f->loaded) {
			char *path = strdup(e->path);

			f->fd = path ? object_open(pid, e) : -1;
			/* its debug link is looked up beside this name */
			if (f->fd >= 0) {
				free(f->path);
				f->path = path;
			} else {
				free(path);
			}
		}
		return f;
	}
	/* two files of one key: the newer is found, the older stays kept */
	if (tab_keyed_reserve(&files->index))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->path = strdup(e->path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->id = files->nr_files++;
	f->dev = e->dev;
	f->inode = e->inode;
	f->files = files;
	f->fd = object_open(pid, e);
	ref = tab_keyed_add(&files->index, key);
	ref->f = f;
	return f;
}

static void file_free(struct sym_file *f)
{
	addrsym__free(f->syms);
	gopcln__free(f->pcln);
	if (f->dwfl)
		dwfl_end(f->dwfl);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->build_id);
	free(f->debug_path);
	free(f->alt_name);
	free(f->alt_id);
	free(f);
}

struct sym_files *sym_files__new(void)
{
	struct sym_files *files = calloc(1, sizeof(*files));

	if (!files)
		return NULL;
	tab_array_init(&files->roots, sizeof(struct sym_root), 0);
	if (tab_keyed_init(&files->index, sizeof(struct file_ref),
			   offsetof(struct file_ref, key), 0) ||
	    tab_pool_init(&files->strings, 0) ||
	    tab_keyed_init(&files->frames, sizeof(struct frames_ref),
			   offsetof(struct frames_ref, key), 0)) {
		sym_files__free(files);
		errno = ENOMEM;
		return NULL;
	}
	return files;
}

void sym_files__free(struct sym_files *files)
{
	size_t i;

	if (!files)
		return;
	for (i = 0; i < tab_keyed_nr(&files->index); i++)
		file_free(((struct file_ref *)
			   tab_keyed_at(&files->index, i))->f);
	tab_keyed_fini(&files->index);
	for (i = 0; i < tab_keyed_nr(&files->frames); i++)
		free(((struct frames_ref *)tab_keyed_at(&files->frames, i))->c);
	tab_keyed_fini(&files->frames);
	tab_pool_fini(&files->strings);
	free(files->uncached);
	for (i = 0; i < files->roots.nr; i++)
		close(((struct sym_root *)tab_array_at(&files->roots, i))->fd);
	tab_array_fini(&files->roots);
	if (files->debuginfod)
		debuginfod_end(files->debuginfod);
	free(files);
}

/* The object of a file-backed mapping, the first time it is seen. */
static struct sym_object *object_get(struct symbolizer *s,
				     const struct procmap *e, const char *path)
{
	struct sym_object *o;
	size_t i;

	for (i = 0; i < s->nobjs; i++) {
		o = s->objs[i];
		if (o->file->dev == e->dev && o->file->inode == e->inode)
			return o;
	}
	if (tab_grow((void **)&s->objs, &s->cap_objs, s->nobjs + 1,
		     sizeof(*s->objs)))
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->file = file_get(s->files, s->pid, e);
	if (!o->file) {
		free(o);
		return NULL;
	}
	o->path = path;
	s->objs[s->nobjs++] = o;
	return o;
}

/* Keeps the debug file's .gnu_debugaltlink for the alternate's lookup. */
static void keep_altlink(struct sym_file *o, int fd, const char *path)
{
	const unsigned char *id;
	const char *name;
	size_t len;
	Elf *elf;

	o->debug_path = strdup(path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return;
	if (!debuginfo_altlink(elf, &name, &id, &len)) {
		o->alt_name = strdup(name);
		o->alt_id = malloc(len);
		if (o->alt_id) {
			memcpy(o->alt_id, id, len);
			o->alt_id_len = len;
		}
	}
	elf_end(elf);
}

/* The separate debug file of the object itself. -errno when none. */
static int find_debug_file(struct sym_file *o, Elf *elf, char **found)
{
	struct debuginfo_query q = {
		.root_fd = o->asking ? o->asking->root_fd : -1,
		.path = o->path,
	};
	const void *id;
	GElf_Word crc;
	ssize_t n;
	int fd;

	n = dwelf_elf_gnu_build_id(elf, &id);
	if (n > 0) {
		q.build_id = id;
		q.build_id_len = n;
	}
	q.debuglink = dwelf_elf_gnu_debuglink(elf, &crc);
	q.crc = crc;
	fd = debuginfo_find(&q, found);
	/* nothing usable in the root, whatever the reason: ask the servers */
	if (fd < 0 && fd != -ENOMEM)
		fd = debuginfo_fetch(&o->files->debuginfod, q.build_id,
				     q.build_id_len, found);
	if (fd >= 0)
		keep_altlink(o, fd, *found);
	return fd;
}

/* The dwz file of the object's DWARF (in the object or its debug file). */
static int find_alt_file(struct sym_file *o, Elf *elf, char **found)
{
	const unsigned char *id = o->alt_id;
	const char *name = o->alt_name;
	size_t len = o->alt_id_len;
	int fd;

	if (!o->debug_path && debuginfo_altlink(elf, &name, &id, &len))
		return -ENOENT;
	if (!name || !id)
		return -ENOENT;
	fd = debuginfo_find_alt(o->asking ? o->asking->root_fd : -1,
				o->debug_path ?: o->path, name, id, len, found);
	if (fd < 0 && fd != -ENOMEM)
		fd = debuginfo_fetch(&o->files->debuginfod, id, len, found);
	return fd;
}

/*
 * libdwfl asks twice: for the object's debug file (with the object's own
 * .gnu_debuglink, or none), then, once it has DWARF, for the dwz file
 * that DWARF names (with that file's name as the link and no CRC). The
 * object's own link tells the two apart.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata,
			  const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct sym_file *o = *userdata;
	const char *own_link;
	GElf_Word own_crc;
	Elf *elf;
	int fd;

	(void)mod;
	(void)modname;
	(void)base;
	(void)file_name;
	if (!o || o->fd < 0)
		return -1;
	elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -1;
	own_link = dwelf_elf_gnu_debuglink(elf, &own_crc);
	if (!debuglink_file || (own_link && !strcmp(own_link, debuglink_file) &&
				own_crc == debuglink_crc))
		fd = find_debug_file(o, elf, debuginfo_file_name);
	else
		fd = find_alt_file(o, elf, debuginfo_file_name);
	elf_end(elf);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/*
 * The build-id names the object to readers of exported profiles (pprof
 * mappings): they find its symbols by it, wherever the file has gone.
 * Without memory the object simply has none.
 */
static char *module_build_id(Dwfl_Module *mod)
{
	const unsigned char *bits;
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
	return hex;
}

/*
 * The file's module, read the first time any process asks, its debug
 * files looked up in s's root. libdwfl closes the descriptor it is
 * given, so it gets a duplicate. The module is named by the target's
 * path: .gnu_debuglink is looked up beside it, which still works after
 * /proc/PID/root has gone.
 */
static Dwfl_Module *file_module(struct symbolizer *s, struct sym_file *o)
{
	void **userdata;
	int fd;

	o->asking = s;
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
	/* find_debuginfo's context: debug files are looked up lazily */
	dwfl_module_info(o->mod, &userdata, NULL, NULL, NULL, NULL, NULL,
			 NULL);
	*userdata = o;
	o->build_id = module_build_id(o->mod);
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
	/* [vsyscall] and the like have no file to read (the vDSO has one) */
	if (e->path[0] != '/' && !vdso__is(e->path))
		return 0;
	m->obj = object_get(s, e, m->name);
	return m->obj ? 0 : -ENOMEM;
}

/*
 * fd, a process's root, or the one open already for the same mount and
 * directory (then fd is closed): the processes of one mount namespace
 * and root share a descriptor. -1 when fd is, or when it cannot be kept.
 */
static int root_shared(struct sym_files *files, int fd)
{
	struct sym_root *r;
	struct statx st;
	size_t i;

	if (fd < 0)
		return -1;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &st) ||
	    !(st.stx_mask & STATX_MNT_ID))
		st.stx_mnt_id = 0;
	for (i = 0; st.stx_mnt_id && i < files->roots.nr; i++) {
		r = tab_array_at(&files->roots, i);
		if (r->mnt == st.stx_mnt_id && r->ino == st.stx_ino &&
		    r->dev == makedev(st.stx_dev_major, st.stx_dev_minor)) {
			close(fd);
			return r->fd;
		}
	}
	if (tab_array_reserve(&files->roots, 1)) {
		close(fd);
		return -1;
	}
	r = tab_array_push(&files->roots);
	/* without a mount id it is matched by nothing, still closed at the end */
	*r = (struct sym_root){
		.dev = makedev(st.stx_dev_major, st.stx_dev_minor),
		.ino = st.stx_ino, .mnt = st.stx_mnt_id, .fd = fd,
	};
	return fd;
}

/*
 * Whether the process still runs the program whose stacks this symbolizer
 * names: the one it ran when its maps were first read, unless that was
 * this tool's own file (a launched command's fork before its exec, which
 * traces nothing). After an exec of another program the maps are that
 * program's: the image would get its stacks named after the new program's
 * objects where the two map code at the same addresses. Read after the
 * maps: maps of the new program come with its executable.
 */
static bool same_program(struct symbolizer *s)
{
	struct stat st, self;
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", s->pid);
	if (stat(exe, &st))
		return true;	/* a kernel thread, or gone: the maps say */
	if (!s->exe_known) {
		if (!stat("/proc/self/exe", &self) && self.st_dev == st.st_dev &&
		    self.st_ino == st.st_ino)
			return true;
		s->exe_dev = st.st_dev;
		s->exe_ino = st.st_ino;
		s->exe_known = true;
	}
	return st.st_dev == s->exe_dev && st.st_ino == s->exe_ino;
}

/*
 * Whether the process still runs the image this symbolizer names, where
 * the kernel numbers them: after any exec, the program's own included
 * (bash running bash), the maps are another image's. Read after the
 * maps, as same_program().
 */
static bool same_image(const struct symbolizer *s)
{
	return !s->image_now || s->image_now(s->image_ctx, s->pid) ==
				s->image_gen;
}

/*
 * What names the perf map of a JIT runtime, read while the process runs:
 * its pid in its namespace; its owner, the map's too or root's (perf's
 * rule: another user could otherwise plant names for its code); and its
 * start, before which its map was not written (one an earlier process of
 * its pid left in /tmp would name its code wrong).
 */
static void jit_owner(struct symbolizer *s)
{
	__u64 start_ns;
	struct stat st;
	char dir[32];
	__u32 ns_pid;

	snprintf(dir, sizeof(dir), "/proc/%d", s->pid);
	if (stat(dir, &st) || procinfo_read_ident(s->pid, &ns_pid, &start_ns))
		return;
	s->uid = st.st_uid;
	s->start_ns = start_ns;
	s->ns_pid = ns_pid;
}

static int refresh(struct symbolizer *s)
{
	struct sym_map *maps, *now;
	const struct procmap *e;
	size_t i, n = 0, fresh;
	struct procmaps *pm;
	char root[64];
	int err;

	/*
	 * The root is kept open so debug files are still found after the
	 * target has gone; a process that is not there yet fails below.
	 */
	if (s->root_fd < 0) {
		snprintf(root, sizeof(root), "/proc/%d/root", s->pid);
		s->root_fd = root_shared(s->files,
					 open(root, O_PATH | O_DIRECTORY |
						    O_CLOEXEC));
	}
	if (s->sealed)
		return -ESRCH;
	s->tried = true;
	pm = procmaps__read(s->pid);
	if (!pm)
		return -errno;
	/*
	 * No mapping at all: a zombie (a kernel thread is never traced).
	 * Gone, as the caller needs to hear: then the mappings the kernel
	 * walked through name its stacks. Taken for a read, an exec'd ls
	 * whose maps were read at its exec (its libraries not mapped yet)
	 * kept them: its frames in libc were named after nothing.
	 */
	if (!procmaps__count(pm)) {
		procmaps__free(pm);
		return -ESRCH;
	}
	if (!same_image(s) || !same_program(s)) {
		/*
		 * What it knows is all it will: the image ended at an exec,
		 * and is as gone as an exited one to the caller (an exec'd
		 * sh read first after it exec'd true took true's maps for its
		 * own, and its frames were named after nothing).
		 */
		s->sealed = true;
		procmaps__free(pm);
		return -ESRCH;
	}
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
	/* Now, while it runs: its JIT code may be made after, or found late */
	if (!s->ns_pid)
		jit_owner(s);
	/*
	 * Mappings gone since stay: stacks captured before still point into
	 * them. One whose range now holds something else was replaced; the
	 * cache is by object and offset, so nothing cached goes stale.
	 */
	fresh = n;
	for (i = 0; i < s->nmaps; i++) {
		now = map_overlapping(maps, fresh, s->maps[i].start,
				      s->maps[i].end);
		if (!now) {
			maps[n++] = s->maps[i];
			continue;
		}
		err = reused_check(s, &s->maps[i], maps, fresh);
		if (err)
			goto free_maps;
	}
	/*
	 * Room was made for every mapping, most of them not executable: an
	 * ended image keeps this array, so it gives the rest back.
	 */
	now = n ? realloc(maps, n * sizeof(*maps)) : NULL;
	if (now)
		maps = now;
	qsort(maps, n, sizeof(*maps), cmp_map_start);
	free(s->maps);
	s->maps = maps;
	s->nmaps = n;
	procmaps__free(pm);
	return 0;

free_maps:
	free(maps);
free_procmaps:
	procmaps__free(pm);
	return err;
}

struct symbolizer *symbolizer__new(int pid, struct sym_files *files)
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
	s->root_fd = -1;
	tab_array_init(&s->reused, sizeof(struct range), REUSED_MAX);
	s->files = files;
	if (!files)
		s->files = s->own_files = sym_files__new();
	if (!s->files) {
		symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nobjs; i++) {
		/* a file another process asked for last no longer asks here */
		if (s->objs[i]->file->asking == s)
			s->objs[i]->file->asking = NULL;
		free(s->objs[i]);
	}
	free(s->objs);
	free(s->maps);
	perfmap__free(s->jit);
	tab_array_fini(&s->reused);
	sym_files__free(s->own_files);
	free(s);
}

int symbolizer__refresh(struct symbolizer *s)
{
	return refresh(s);
}

bool symbolizer__knows_program(const struct symbolizer *s)
{
	return s->exe_known;
}

void symbolizer__image_is(struct symbolizer *s, __u32 gen,
			  __u32 (*now)(void *ctx, int pid), void *ctx)
{
	s->image_gen = gen;
	s->image_now = now;
	s->image_ctx = ctx;
}

int symbolizer__add_map(struct symbolizer *s, const struct procmap *e)
{
	struct sym_map m, *maps;
	int err;

	if (e->perms[2] != 'x' || e->end <= e->start)
		return 0;
	err = map_init(s, e, &m);
	if (err)
		return err;
	if (map_overlapping(s->maps, s->nmaps, e->start, e->end))
		return reused_check(s, &m, s->maps, s->nmaps);
	maps = realloc(s->maps, (s->nmaps + 1) * sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	maps[s->nmaps++] = m;
	qsort(maps, s->nmaps, sizeof(*maps), cmp_map_start);
	s->maps = maps;
	return 0;
}

bool symbolizer__blind(const struct symbolizer *s)
{
	return s->tried && !s->nmaps;
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

char *symbol_display_name(const char *raw)
{
	char *plain, *demangled = NULL;
	const char *at = strchr(raw, '@');

	plain = at ? strndup(raw, at - raw) : strdup(raw);
	if (!plain)
		return NULL;
	if (plain[0] == '_' &&
	    strnlen(plain, DEMANGLE_MAX + 1) <= DEMANGLE_MAX) {
		/* Rust first: a legacy Rust name is also a valid C++ one */
		demangled = rust_demangle(plain, DEMANGLE_OPTS);
		if (!demangled)
			demangled = cplus_demangle(plain,
						   DEMANGLE_OPTS | DMGL_GNU_V3);
	}
	/* libiberty reads some v0 names as no path at all ("_RC0"): "" */
	if (!demangled || !demangled[0]) {
		free(demangled);
		return plain;
	}
	free(plain);
	return demangled;
}

/*
 * The interned display name of raw; *mangled gets the linkage name (without
 * its version) when the name shown differs from it.
 */
static const char *display_name(struct symbolizer *s, const char *raw,
				const char **mangled)
{
	const char *shown, *at;
	char *name;
	size_t len;

	*mangled = NULL;
	if (!raw)
		return NULL;
	name = symbol_display_name(raw);
	if (!name)
		return NULL;
	shown = intern(s, name);
	at = strchr(raw, '@');
	len = at ? (size_t)(at - raw) : strlen(raw);
	if (shown && (strlen(name) != len || strncmp(name, raw, len))) {
		/* the linkage name is raw up to its version */
		free(name);
		name = strndup(raw, len);
		*mangled = name ? intern(s, name) : NULL;
	}
	free(name);
	return shown;
}

/* A function DIE's linkage name, else its name, from its origin if need be. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name,
						     &attr));
	if (!name)
		name = dwarf_formstring(
			dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name,
					     &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name,
							     &attr));
	return name;
}

/* Where an inlined call was made: the line in its caller. */
static void call_site(struct symbolizer *s, Dwarf_Die *inl, Dwarf_Files *files,
		      size_t nfiles, struct frame *out)
{
	Dwarf_Attribute attr;
	Dwarf_Word file, line;

	out->file = NULL;
	out->line = 0;
	/* An index from the DIE: bounds-checked against the CU's table */
	if (files && !dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr),
				      &file) && file < nfiles)
		out->file = intern(s, dwarf_filesrc(files, file, NULL, NULL));
	if (out->file && !dwarf_formudata(dwarf_attr(inl, DW_AT_call_line,
						     &attr), &line) &&
	    line <= INT32_MAX)
		out->line = (int)line;
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_entry_point;
}

static struct cached_frames *entry_new(unsigned nr)
{
	struct cached_frames *c;

	c = calloc(1, sizeof(*c) + nr * sizeof(c->frames[0]));
	if (c)
		c->nr = nr;
	return c;
}

/* DIEs that hold functions without covering addresses themselves. */
static bool is_container(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_module;
}

static bool is_scope(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_entry_point ||
	       tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block;
}

static bool has_pc_attrs(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) ||
	       dwarf_hasattr(die, DW_AT_ranges);
}

/*
 * The scopes around pc below parent, outermost first, into path[*n..]:
 * one pass down the DIE tree that enters only what covers pc (and the
 * namespaces and classes that may hold it). dwarf_getscopes would walk
 * the whole CU two or three times per address, which is most of the cost
 * on large CUs. 1 when found, 0 when not; the depth is bounded, hostile
 * DWARF can nest without end.
 */
static int scope_path(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *path,
		      int *n, int depth)
{
	Dwarf_Die child;
	int tag;

	if (depth >= SCOPE_DEPTH_MAX || dwarf_child(parent, &child))
		return 0;
	do {
		tag = dwarf_tag(&child);
		if (is_scope(tag) && dwarf_haspc(&child, pc) > 0) {
			if (*n >= SCOPE_DEPTH_MAX)
				return 0;
			path[(*n)++] = child;
			scope_path(&child, pc, path, n, depth + 1);
			return 1;
		}
		/* a block with no addresses of its own may hold some that do */
		if ((is_container(tag) || (tag == DW_TAG_lexical_block &&
					   !has_pc_attrs(&child))) &&
		    scope_path(&child, pc, path, n, depth + 1))
			return 1;
	} while (!dwarf_siblingof(&child, &child));
	return 0;
}

/*
 * The compile unit whose code holds pc, NULL when none does. libdwfl's
 * lookup goes by .debug_aranges and hands an address they miss to the
 * unit before it: in a cgo program Go's functions have units and no
 * aranges, and got a C file's last line (runtime.asmcgocall at
 * gcc_mmap.c:37); so would hand-written assembly without debug
 * information in any C program. Its answer is checked, and the units are
 * searched one by one when it is wrong.
 */
static Dwarf_Die *cu_of(Dwfl_Module *mod, __u64 pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, bias);

	/* a unit that says nothing of its addresses is taken at its word */
	if (cu && (dwarf_haspc(cu, pc - *bias) > 0 || !has_pc_attrs(cu)))
		return cu;
	cu = NULL;
	while ((cu = dwfl_module_nextcu(mod, cu, bias)))
		if (dwarf_haspc(cu, pc - *bias) > 0)
			return cu;
	return NULL;
}

/*
 * The outer frame's function named as its source names it. GCC's and
 * Clang's copies and parts of a function are symbols of their own, the
 * function's name and a suffix (foo.isra.0, foo.part.0, foo.cold,
 * foo.constprop.0, foo.localalias, _ZL3fooi.isra.0); the debug information
 * names the function they belong to, as gdb shows it, so that foo and
 * foo.cold are one function in every export. Only a symbol that is the
 * DWARF name and a dotted suffix is renamed: Go's dotted names are their
 * DWARF names whole. The symbol stays the linkage name, "mangled".
 */
static void source_name(struct symbolizer *s, struct frame *fr,
			const char *sym, const char *dwarf)
{
	size_t len = dwarf ? strlen(dwarf) : 0;
	const char *at, *mangled;
	char *raw;

	if (!sym || !len || strncmp(sym, dwarf, len) || sym[len] != '.')
		return;
	at = strchr(sym, '@');
	raw = at ? strndup(sym, at - sym) : strdup(sym);
	if (!raw)
		return;
	fr->function = display_name(s, dwarf, &mangled);
	fr->mangled = intern(s, raw);
	free(raw);
}

/*
 * The frames of base's address: each inlined call around pc (innermost
 * first, the innermost at base's line), then the function they are in, at
 * the line of the outermost inlined call. The function keeps the symbol's
 * name, sym, when there is one (.symtab names what DWARF may not, and the
 * other way round), but for a compiler's copy of it (source_name). cudie:
 * pc's unit (cu_of), or NULL. NULL without memory.
 */
static struct cached_frames *expand(struct symbolizer *s, Dwarf_Die *cudie,
				    Dwarf_Addr bias, __u64 pc,
				    const struct frame *base, const char *sym)
{
	Dwarf_Die *path, *fn = NULL;
	Dwarf_Files *files = NULL;
	struct cached_frames *c;
	unsigned nr_inl = 0, k;
	size_t nfiles = 0;
	struct frame *fr;
	int n = 0, i;

	path = malloc(SCOPE_DEPTH_MAX * sizeof(*path));
	if (!path)
		return NULL;
	if (cudie)
		scope_path(cudie, pc - bias, path, &n, 0);
	/* innermost first: the inlined calls up to the function */
	for (i = n - 1; i >= 0; i--) {
		if (dwarf_tag(&path[i]) == DW_TAG_inlined_subroutine)
			nr_inl++;
		else if (is_function(&path[i])) {
			fn = &path[i];
			break;
		}
	}
	c = entry_new(nr_inl + 1);
	if (!c)
		goto out;
	for (k = 0; k <= nr_inl; k++)
		c->frames[k] = *base;
	if (nr_inl && dwarf_getsrcfiles(cudie, &files, &nfiles))
		files = NULL;
	for (i = n - 1, k = 0; k < nr_inl; i--) {
		if (dwarf_tag(&path[i]) != DW_TAG_inlined_subroutine)
			continue;
		fr = &c->frames[k];
		fr->function = display_name(s, die_name(&path[i]),
					    &fr->mangled);
		fr->inlined = true;
		/* the call's line is where its caller is */
		call_site(s, &path[i], files, nfiles, &c->frames[++k]);
	}
	fr = &c->frames[nr_inl];
	if (!fr->function && fn)
		fr->function = display_name(s, die_name(fn), &fr->mangled);
	else if (fn)
		source_name(s, fr, sym, die_name(fn));
out:
	free(path);
	return c;
}

/*
 * libdwfl's symbol at pc, found in the module's sorted symbols
 * (addrsym.h); without them, libdwfl's own search.
 */
static const char *object_symbol(struct sym_file *o, GElf_Addr pc,
				 GElf_Off *off)
{
	if (!o->syms_tried) {
		o->syms_tried = true;
		o->syms = addrsym__new(o->mod);
	}
	return addrsym__name(o->syms, o->mod, pc, off);
}

/*
 * A stripped Go program has no symbol nor line table of its Go functions:
 * Go's own table names them (gopclntab.h), at the ELF address pc, with
 * their file and line into *fr where it has them.
 */
static const char *go_symbol(struct symbolizer *s, struct sym_file *o,
			     Elf *elf, __u64 pc, struct frame *fr)
{
	struct gopcln_func f;
	const char *file;
	int line;
	ssize_t i;

	if (!o->pcln_tried) {
		o->pcln_tried = true;
		o->pcln = gopcln__new(elf);
	}
	i = o->pcln ? gopcln__find(o->pcln, pc) : -1;
	if (i < 0 || gopcln__func(o->pcln, i, &f))
		return NULL;
	if (!gopcln__line(o->pcln, i, pc, &file, &line) && line > 0) {
		fr->file = intern(s, file);
		fr->line = fr->file ? line : 0;
	}
	return f.name;
}

/* The frames of addr, in m, at offset in its file. NULL without memory. */
static struct cached_frames *describe(struct symbolizer *s,
				      const struct sym_map *m, __u64 addr,
				      __u64 offset)
{
	struct frame base = {
		.addr = addr, .object = m->name, .object_offset = offset,
	};
	struct cached_frames *c;
	Dwarf_Addr cu_bias = 0;
	Dwarf_Die *cudie;
	Dwfl_Module *mod;
	Dwarf_Line *line;
	GElf_Addr bias;
	GElf_Off off;
	const char *name;
	Elf *elf;
	__u64 pc;
	int lineno;

	mod = file_module(s, m->obj->file);
	if (!mod)
		goto one;
	base.build_id = intern(s, m->obj->file->build_id);
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || elf_offset_to_vaddr(elf, offset, &base.object_offset))
		goto one;
	/* A return address: the call that made the frame ends just before */
	pc = base.object_offset - 1 + bias;
	name = object_symbol(m->obj->file, pc, &off);
	/*
	 * No call precedes a return address at a function's first byte: the
	 * kernel made it, returning a signal handler into the trampoline
	 * (glibc's __restore_rt, after a nop that no symbol covers).
	 */
	if (!name) {
		name = object_symbol(m->obj->file, pc + 1, &off);
		if (name && off)
			name = NULL;
	}
	if (!name)
		name = go_symbol(s, m->obj->file, elf, base.object_offset - 1,
				 &base);
	base.function = display_name(s, name, &base.mangled);
	cudie = cu_of(mod, pc, &cu_bias);
	line = cudie ? dwarf_getsrc_die(cudie, pc - cu_bias) : NULL;
	if (line && !dwarf_lineno(line, &lineno)) {
		base.file = intern(s, dwarf_linesrc(line, NULL, NULL));
		base.line = base.file ? lineno : 0;
	}
	return expand(s, cudie, cu_bias, pc, &base, name);
one:
	c = entry_new(1);
	if (c)
		c->frames[0] = base;
	return c;
}

/*
 * Whether st was last written before the process started: its time of
 * day as time since boot, against the start, to the clock tick (10 ms)
 * /proc gives the start in.
 */
static bool written_before(const struct stat *st, __u64 start_ns)
{
	__u64 mtime = (__u64)st->st_mtim.tv_sec * 1000000000ull +
		      st->st_mtim.tv_nsec;
	__u64 boot = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);

	return mtime < boot || mtime - boot + 10000000ull < start_ns;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Reads the process's perf map when there is one it did not read yet, or
 * it has changed: a runtime appends to it as it compiles (node), or
 * writes it when asked or at its exit (Java). Looked at once a second at
 * most: a stack's addresses are named one by one. One last written before
 * the process started is another's.
 */
static void jit_load(struct symbolizer *s)
{
	__u64 now = mono_ns();
	struct perfmap *pm;
	struct stat st;
	char path[40];
	int fd;

	if (s->jit_checked_ns && now - s->jit_checked_ns < JIT_RECHECK_NS)
		return;
	s->jit_checked_ns = now;
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", s->ns_pid);
	/*
	 * Not through a link: the process could make its map one to a file
	 * of root's, which the owner check would then let us read as one.
	 */
	fd = debuginfo_open(s->root_fd, path, true);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || (st.st_uid && st.st_uid != s->uid) ||
	    written_before(&st, s->start_ns) ||
	    (s->jit && same_file(&st, &s->jit_st)) ||
	    perfmap__read(fd, &pm))
		goto out;
	perfmap__free(s->jit);
	s->jit = pm;
	s->jit_st = st;
	if (!s->jit_path)
		s->jit_path = intern(s, path);
out:
	close(fd);
}

/*
 * Names addr, in code of no file, from the process's perf map: the
 * runtime's own name for the code there, its map as the object. False
 * when the map does not name it.
 */
static bool jit_frame(struct symbolizer *s, __u64 addr)
{
	const char *name;
	bool reused;

	if (!s->ns_pid)
		return false;
	jit_load(s);
	if (!s->jit)
		return false;
	name = perfmap__find(s->jit, addr, &reused);
	if (reused) {
		s->scratch.object = SYMBOLIZER_REUSED;
		s->scratch.object_offset = addr;
		return true;
	}
	if (!name || !s->jit_path)
		return false;
	s->scratch.function = intern(s, name);
	s->scratch.object = s->jit_path;
	s->scratch.object_offset = addr;
	return true;
}

unsigned symbolizer__resolve(struct symbolizer *s, __u64 addr,
			     const struct frame **out)
{
	struct sym_files *files = s->files;
	struct cached_frames *c;
	struct frames_ref *ref;
	struct sym_map *m;
	__u64 offset, key;
	bool keyed;
	unsigned i;

	/* Not cached: a later cover() may still bring its mapping in */
	m = map_find(s, addr);
	s->scratch = (struct frame){ .addr = addr };
	*out = &s->scratch;
	if (!m) {
		/* JIT code unmapped before the maps were read */
		jit_frame(s, addr);
		return 1;
	}
	/*
	 * The maps read last may not be those the stack was taken in: a
	 * name from either file could be a wrong one. Said, not guessed.
	 */
	if (reused_at(s, addr)) {
		s->scratch.object = SYMBOLIZER_REUSED;
		s->scratch.object_offset = addr;
		return 1;
	}
	offset = addr - m->start + m->offset;
	/*
	 * [vsyscall] and anonymous code: no file to read, nothing to cache
	 * (a JIT runtime's perf map changes as it compiles)
	 */
	if (!m->obj) {
		if (!jit_frame(s, addr)) {
			s->scratch.object = m->name;
			s->scratch.object_offset = offset;
		}
		return 1;
	}
	keyed = !(offset >> OFFSET_BITS) &&
		!((__u64)m->obj->file->id >> (64 - OFFSET_BITS));
	key = (__u64)m->obj->file->id << OFFSET_BITS | offset;
	ref = keyed ? tab_keyed_get(&files->frames, key) : NULL;
	if (ref) {
		c = ref->c;
		goto found;
	}
	c = describe(s, m, addr, offset);
	if (!c) {
		s->scratch.object = m->name;
		s->scratch.object_offset = offset;
		return 1;
	}
	/* Without room the answer is still right, only not remembered */
	if (!keyed || tab_keyed_reserve(&files->frames)) {
		free(files->uncached);
		files->uncached = c;
	} else {
		ref = tab_keyed_add(&files->frames, key);
		ref->c = c;
	}
found:
	/*
	 * The file's frames, at this address and under the name this
	 * process gives the object (a chroot's, a container's path).
	 */
	for (i = 0; i < c->nr; i++) {
		c->frames[i].addr = addr;
		c->frames[i].object = m->name;
	}
	*out = c->frames;
	return c->nr;
}
