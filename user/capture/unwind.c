// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include "clock.h"
#include "debuginfo.h"
#include "elfsym.h"
#include "names.h"
#include "procinfo_read.h"
#include "procmaps.h"
#include "row_store.h"
#include "table_cache.h"
#include "table.h"
#include "unwind.h"
#include "unwind_table.h"
#include "vdso.h"

/* PT_LOADs read per object: enough for any linker's output. */
#define OBJ_SEGMENTS	16
/* Object index 0 has no rows: [vsyscall] and the like give NO_INFO. */
#define OBJ_NONE	0

/* One object, by build-id (else device and inode), loaded once. */
struct uobj {
	char key[80];		/* "b:<build-id hex>" or "i:<dev>:<inode>",
				 * then ":entry" for an entry object */
	dev_t dev;		/* the file it was last seen as */
	__u64 inode;
	char *path;
	__u32 idx;		/* in the objects map; OBJ_NONE: no rows */
	__u32 first;
	__u32 nr;
	bool no_table;		/* rows did not fit: NOT_LOADED */
	bool pending;		/* async: the worker compiles it */
	/*
	 * Processes whose last maps read found it (struct upid); at 0 its
	 * table may go for room (reclaim), released then until one maps it
	 * again, which compiles it again.
	 */
	__u32 refs;
	bool was_held;		/* refs were not always 0 */
	bool released;
	bool given_up;		/* its compile, when none mapped it any more */
	bool gave_up_once;	/* and so not again: a program's short runs */
	bool kept_later;	/* then compiled, and kept, for the table cache */
	__u32 tried;		/* no_table: u->released when it did not fit */
	bool entry;		/* processes start at its e_entry */
	bool cached;		/* its rows from the table cache */
	char ckey[80];		/* its key there ("": none) */
	bool preloaded;		/* and loaded at the start (preload_one) */
	int err;		/* compiling failed: -errno */
	char source[64];	/* where its rows came from (unwind_table) */
	struct ms_file_seg segs[MS_FILE_SEGS];	/* its executable ones */
	__u32 nr_segs;
	bool interp;		/* some process's interpreter maps it */
	/* the file its table was last published as, in the files map */
	__u64 pub_dev;
	__u64 pub_inode;
	bool pub_interp;
};

/*
 * A file an object was read from, and the path it had then: files of one
 * build (a copy, another container's) share an object, and each is named
 * by its own path (file_path()).
 */
struct ufile {
	dev_t dev;
	__u64 inode;
	char *path;
};

/* The objects a process's last maps read found it mapping: its refs. */
struct upid {
	__u64 pid;
	__u32 *objs;		/* positions in objs, each once */
	__u32 nr;
	/* the file its last exec record named: its program without auxv */
	dev_t exec_dev;
	__u64 exec_ino;
};

/*
 * Compiles run this many at a time: one huge object (rustc's driver, 2.4 s
 * alone, more on a busy host) would otherwise hold back every object
 * queued after it, and a build's processes all stopped as not_loaded.
 */
#define WORKERS		2
/*
 * A compile no process waits for any more is given up only this long
 * after it was queued: a small one is done by then, and the next short
 * run of its program has it (bench/fresh-procs.py: python3's and git's
 * second runs stopped not_loaded when any such compile was given up).
 */
#define GIVE_UP_NS	(1000 * 1000 * 1000ull)

/* async: one object for the worker to compile, and its table. */
struct job {
	size_t obj;		/* index in objs (stable: objs only grow) */
	/* the object's key and path, for the table cache */
	char key[80];
	char path[256];
	int fd;			/* the object's file, ours */
	char root[32];
	bool entry;		/* unwind_table__build's */
	struct unwind_table *table;	/* NULL: errno in err */
	int err;
	__u64 queued_ns;	/* CLOCK_MONOTONIC */
	bool taken;		/* by a worker */
	/*
	 * No traced process maps the object any more (a short run of a
	 * program with a huge library), the job is GIVE_UP_NS old and a
	 * live one's object waits: it is given up, once, and the next
	 * process that maps it has it compiled again.
	 */
	bool cancel;
	bool done;
	/*
	 * A given-up compile's, for the table cache alone: taken only when
	 * no other job waits, its table kept on disk and dropped, so the
	 * program's next run (or the next trace) has it. The worker closes
	 * its fd (-1) when done.
	 */
	bool keep_only;
	struct job *next;
};

struct unwinder {
	struct unwinder_opts o;
	bool no_auxv;		/* MEMSCOPE_NO_AUXV: entry_files_read */
	/* async: jobs in order, the workers' lock and wakeup */
	pthread_t workers[WORKERS];
	size_t nr_workers;
	int nice;			/* theirs: the tool's own */
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t finished;	/* a job is done */
	struct job *jobs;
	size_t nr_pending;
	int *waiting;			/* pids whose maps had pending objects */
	size_t nr_waiting, cap_waiting;
	struct uobj *objs;
	size_t nr_objs, cap_objs;
	__u32 next_obj;
	struct tab_array free_idx;	/* __u32: released object slots */
	__u32 no_table;
	__u32 released;			/* tables released for room */
	__u32 given_up;			/* compiles no process waited for */
	__u32 preloaded;		/* tables kept, loaded at the start */
	__u32 preload_rows;
	int preload_root;		/* "/", while they load */
	struct tab_keyed pids;		/* struct upid */
	__u32 maps_dropped;
	__u32 nr_files;			/* in the files map */
	struct tab_array files;		/* struct ufile */
	struct ms_proc_maps maps;	/* the last written */
	__u64 loaded;			/* *o.changed before the last maps */
	int pid;			/* the process being read */
	char root[32];
};

__u32 unwind_file_segs(const struct elf_segment *segs, size_t nr,
		       struct ms_file_seg *out)
{
	__u32 n = 0;
	size_t i;

	/* Only code is mapped executable: the other segments never hold a pc. */
	for (i = 0; i < nr && n < MS_FILE_SEGS; i++) {
		if (!(segs[i].flags & PF_X))
			continue;
		out[n].offset = segs[i].offset;
		out[n].vaddr = segs[i].vaddr;
		out[n].filesz = segs[i].filesz;
		n++;
	}
	return n;
}

static int map_cmp(const void *a, const void *b)
{
	const struct ms_proc_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int unwind_maps_build(struct ms_proc_maps *out, struct ms_proc_map *maps,
		      size_t nr)
{
	size_t i, kept;

	qsort(maps, nr, sizeof(*maps), map_cmp);
	for (i = 1; i < nr; i++)
		if (maps[i].start < maps[i - 1].end)
			return -EINVAL;
	kept = nr < MS_PROC_MAPS ? nr : MS_PROC_MAPS;
	memset(out, 0, sizeof(*out));
	memcpy(out->m, maps, kept * sizeof(*maps));
	out->nr = kept;
	return nr - kept;
}

/*
 * A worker: takes the jobs in order, one at a time, touching only the
 * job (unwind_table__build is fd in, table out). The rows reach the
 * kernel from the drain's thread, in unwinder__poll().
 */
static void *work(void *arg)
{
	struct unwinder *u = arg;
	struct unwind_table *t;
	struct job *j, *k;
	int err, kept;

	/*
	 * At the tool's own nice, as the traced programs' threads, and so
	 * below the drain (real-time while tracing, else ten nice levels
	 * up: run.c): a compile never takes the CPU the drain needs, and a
	 * busy host does not starve it either (at nice 19 a build's objects
	 * waited 9 s).
	 * A thread takes its creator's nice, so it is set, not inherited.
	 */
	setpriority(PRIO_PROCESS, gettid(), u->nice);
	pthread_mutex_lock(&u->lock);
	for (;;) {
		for (j = u->jobs; j && (j->taken || j->keep_only); j = j->next)
			;
		for (k = u->jobs; !j && k; k = k->next)
			if (!k->taken)
				j = k;
		if (u->stop)
			break;
		if (!j) {
			pthread_cond_wait(&u->wake, &u->lock);
			continue;
		}
		j->taken = true;
		if (j->cancel) {
			j->err = -ECANCELED;
			j->done = true;
			pthread_cond_broadcast(&u->finished);
			continue;
		}
		pthread_mutex_unlock(&u->lock);
		t = unwind_table__build_until(j->fd, j->root,
					      j->entry ? UNWIND_TABLE_ENTRY : 0,
					      &j->cancel);
		err = t ? 0 : -errno;
		kept = t && u->o.cache && j->key[0] ?
		       table_cache__put(u->o.cache, j->key, j->path, t) : 0;
		if (j->keep_only) {
			/* done for the cache alone: said so only if it kept it */
			if (!err)
				err = kept > 0 ? 0 : kept ?: -ENOENT;
			unwind_table__free(t);
			t = NULL;
			close(j->fd);
			j->fd = -1;
		}
		pthread_mutex_lock(&u->lock);
		j->table = t;
		j->err = err;
		j->done = true;
		pthread_cond_broadcast(&u->finished);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static int preload_one(void *ctx, const char *key, const char *path,
		       size_t rows);

struct unwinder *unwinder__new(const struct unwinder_opts *o)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	size_t i;

	if (!u)
		return NULL;
	u->o = *o;
	u->no_auxv = getenv("MEMSCOPE_NO_AUXV");
	tab_array_init(&u->files, sizeof(struct ufile), 0);
	tab_array_init(&u->free_idx, sizeof(__u32), 0);
	if (tab_keyed_init(&u->pids, sizeof(struct upid), 0, SIZE_MAX)) {
		free(u);
		return NULL;
	}
	/* Object 0 is the empty one; rows start at 0. */
	u->next_obj = OBJ_NONE + 1;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->wake, NULL);
	pthread_cond_init(&u->finished, NULL);
	errno = 0;
	u->nice = getpriority(PRIO_PROCESS, gettid());
	if (u->nice == -1 && errno)
		u->nice = 0;
	for (i = 0; o->async && i < WORKERS; i++) {
		errno = pthread_create(&u->workers[i], NULL, work, u);
		if (errno) {
			unwinder__free(u);
			return NULL;
		}
		u->nr_workers++;
	}
	/*
	 * A set's processes start while traced and run before their maps
	 * are read: what earlier runs kept is loaded now. (One target's
	 * tables are read as its maps show them: none are compiled then.)
	 */
	if (o->async && o->cache) {
		u->preload_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (u->preload_root >= 0) {
			table_cache__each(o->cache, preload_one, u);
			close(u->preload_root);
		}
	}
	return u;
}

void unwinder__free(struct unwinder *u)
{
	struct job *j;
	size_t i;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	/* a compile under way is of no use now: the exit does not wait */
	for (j = u->jobs; j; j = j->next)
		__atomic_store_n(&j->cancel, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&u->wake);
	pthread_mutex_unlock(&u->lock);
	for (i = 0; i < u->nr_workers; i++)
		pthread_join(u->workers[i], NULL);
	while ((j = u->jobs)) {
		u->jobs = j->next;
		unwind_table__free(j->table);
		if (j->fd >= 0)
			close(j->fd);
		free(j);
	}
	pthread_cond_destroy(&u->wake);
	pthread_cond_destroy(&u->finished);
	pthread_mutex_destroy(&u->lock);
	for (i = 0; i < u->nr_objs; i++) {
		/* what this run's processes mapped: the next start's first */
		if (u->o.cache && u->objs[i].was_held && u->objs[i].ckey[0])
			table_cache__touch(u->o.cache, u->objs[i].ckey);
		free(u->objs[i].path);
	}
	free(u->objs);
	for (i = 0; i < u->files.nr; i++)
		free(((struct ufile *)tab_array_at(&u->files, i))->path);
	tab_array_fini(&u->files);
	tab_array_fini(&u->free_idx);
	for (i = 0; i < tab_keyed_nr(&u->pids); i++)
		free(((struct upid *)tab_keyed_at(&u->pids, i))->objs);
	tab_keyed_fini(&u->pids);
	free(u->waiting);
	free(u);
}

static struct uobj *obj_by_key(struct unwinder *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->nr_objs; i++)
		if (!strcmp(u->objs[i].key, key))
			return &u->objs[i];
	return NULL;
}

/* The object last seen as this file: no need to open it again. */
static struct uobj *obj_by_file(struct unwinder *u, const struct procmap *m,
				bool entry)
{
	size_t i;

	for (i = 0; i < u->nr_objs; i++)
		if (u->objs[i].dev == m->dev && u->objs[i].inode == m->inode &&
		    m->inode && u->objs[i].entry == entry)
			return &u->objs[i];
	return NULL;
}

static struct uobj *obj_add(struct unwinder *u, const char *key)
{
	struct uobj *o;

	if (tab_grow((void **)&u->objs, &u->cap_objs, u->nr_objs + 1,
		     sizeof(*u->objs)))
		return NULL;
	o = &u->objs[u->nr_objs++];
	memset(o, 0, sizeof(*o));
	snprintf(o->key, sizeof(o->key), "%s", key);
	return o;
}

/*
 * Whether the kernel can say when every BPF program that may have read
 * an entry has returned: membarrier's global command waits an RCU grace
 * period, and the walker runs under the RCU read lock. Not on one CPU,
 * where it returns at once (a preempted walk may still be reading), nor
 * with nohz_full, where the kernel refuses it.
 */
static bool grace_known(void)
{
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL) &&
	       sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* A file as the walker keys it: the kernel's dev_t, and the inode. */
static struct ms_file_key file_key(dev_t dev, __u64 inode)
{
	return (struct ms_file_key){
		.dev = procmap_kernel_dev(dev),
		.ino = inode,
	};
}

/*
 * The objects of the slots gone[] marks leave the walker's maps: their
 * slots read as empty, and every file published as one of them, the
 * walker's way in from a process's vma, no longer names it. One pass
 * over the files for all of them.
 */
static void objs_unpublish(struct unwinder *u, const bool *gone)
{
	struct ms_unwind_obj none = {};
	struct ms_unwind_file f;
	struct ms_file_key k;
	const struct ufile *uf;
	bool lib, entry;
	size_t i;

	for (i = 0; i < u->nr_objs; i++) {
		struct uobj *o = &u->objs[i];

		if (o->idx == OBJ_NONE || !gone[o->idx])
			continue;
		bpf_map_update_elem(u->o.objs_fd, &o->idx, &none, BPF_ANY);
		o->pub_dev = 0;
		o->pub_inode = 0;
		o->pub_interp = false;
	}
	for (i = 0; i < u->files.nr; i++) {
		uf = tab_array_at(&u->files, i);
		k = file_key(uf->dev, uf->inode);
		if (bpf_map_lookup_elem(u->o.files_fd, &k, &f))
			continue;
		lib = f.obj < u->o.objs_cap && gone[f.obj];
		entry = f.entry_obj < u->o.objs_cap && gone[f.entry_obj];
		if (!lib && !entry)
			continue;
		if (lib)
			f.obj = OBJ_NONE;
		if (entry)
			f.entry_obj = OBJ_NONE;
		if (f.obj != OBJ_NONE || f.entry_obj != OBJ_NONE)
			bpf_map_update_elem(u->o.files_fd, &k, &f, BPF_ANY);
		else if (!bpf_map_delete_elem(u->o.files_fd, &k))
			u->nr_files--;
	}
}

/* A slot of the objects map for idx_take() again (none noted: lost). */
static void idx_give(struct unwinder *u, __u32 idx)
{
	if (!tab_array_reserve(&u->free_idx, 1))
		*(__u32 *)tab_array_push(&u->free_idx) = idx;
}

/*
 * Room for more tables, when rows or object slots ran out: the tables of
 * objects no traced process maps any more (their processes exited or
 * exec'd) leave the walker's maps, and once no BPF program that may have
 * read them still runs, their rows and slots are free to take. Only
 * then: a table kept is one that a later run of the same program does
 * not compile again. How many went.
 */
static size_t reclaim(struct unwinder *u)
{
	size_t i, n = 0;
	struct uobj *o;
	bool *gone;

	if (!grace_known())
		return 0;
	gone = calloc(u->o.objs_cap, sizeof(*gone));
	if (!gone)
		return 0;
	for (i = 0; i < u->nr_objs; i++) {
		o = &u->objs[i];
		if (o->idx == OBJ_NONE || o->refs || o->pending)
			continue;
		gone[o->idx] = true;
		o->released = true;
		n++;
	}
	if (n)
		objs_unpublish(u, gone);
	free(gone);
	if (!n)
		return 0;
	/* Rules memoized from them are stale. */
	__atomic_add_fetch(u->o.gen, 1, __ATOMIC_RELEASE);
	/* Not known to be done with them: they stay unpublished, held. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		n = 0;
	for (i = 0; i < u->nr_objs; i++) {
		o = &u->objs[i];
		if (!o->released || o->idx == OBJ_NONE)
			continue;
		if (n) {
			row_store__release(u->o.rows, o->first, o->nr);
			idx_give(u, o->idx);
		}
		o->idx = OBJ_NONE;
		o->first = 0;
		u->released++;
	}
	return n;
}

/* A slot of the objects map: a released one, else the next. */
static int idx_take(struct unwinder *u, __u32 *idx)
{
	if (u->free_idx.nr) {
		*idx = *(__u32 *)tab_array_at(&u->free_idx,
					      --u->free_idx.nr);
		return 0;
	}
	if (u->next_obj >= u->o.objs_cap)
		return -ENOSPC;
	*idx = u->next_obj++;
	return 0;
}

/* A slot and rows for nr rows, reclaiming once if either ran out. */
static int obj_room(struct unwinder *u, const struct ms_unwind_row *rows,
		    size_t nr, __u32 *idx, __u32 *first)
{
	int err, tries;

	for (tries = 0;; tries++) {
		err = idx_take(u, idx);
		if (!err) {
			err = row_store__append(u->o.rows, rows, nr, first);
			if (!err)
				return 0;
			idx_give(u, *idx);
		}
		if (err != -ENOSPC || tries || !reclaim(u))
			return err;
	}
}

/*
 * Copies a compiled table (NULL: none, err says why) into the row array
 * and names its object; the table is freed.
 */
static int obj_install(struct unwinder *u, struct uobj *o,
		       struct unwind_table *t, int err_build)
{
	const struct ms_unwind_row *rows;
	struct ms_unwind_obj uo;
	__u32 first, idx;
	size_t nr;
	int err = 0;

	if (!t) {
		/* No CFI, or CFI we cannot read: its pcs stop as NO_INFO. */
		o->err = err_build;
		return 0;
	}
	/* The table goes once its rows are loaded: keep the name. */
	snprintf(o->source, sizeof(o->source), "%s", unwind_table__source(t));
	rows = unwind_table__rows(t, &nr);
	if (!nr)
		goto out;
	err = obj_room(u, rows, nr, &idx, &first);
	if (err == -ENOSPC) {
		o->no_table = true;
		o->tried = u->released;
		o->nr = nr;
		u->no_table++;
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	uo.first = first;
	uo.nr = nr;
	if (bpf_map_update_elem(u->o.objs_fd, &idx, &uo, BPF_ANY)) {
		err = -errno;
		row_store__release(u->o.rows, first, nr);
		idx_give(u, idx);
		goto out;
	}
	o->idx = idx;
	o->first = first;
	o->nr = nr;
out:
	unwind_table__free(t);
	return err;
}

/* async: hands the object's file to the worker; its table comes later. */
static int obj_queue(struct unwinder *u, size_t idx, struct elf_file *f,
		     bool entry, const char *key)
{
	struct job *j, **tail;

	/* one kept for the cache alone, not taken yet: compiled as this */
	pthread_mutex_lock(&u->lock);
	for (j = u->jobs; j; j = j->next)
		if (j->obj == idx && j->keep_only && !j->taken) {
			j->keep_only = false;
			j->queued_ns = mono_ns();
			break;
		}
	pthread_mutex_unlock(&u->lock);
	if (j) {
		u->objs[idx].pending = true;
		u->nr_pending++;
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = fcntl(elf_file__fd(f), F_DUPFD_CLOEXEC, 0);
	if (j->fd < 0) {
		free(j);
		return -errno;
	}
	j->obj = idx;
	snprintf(j->key, sizeof(j->key), "%s", key);
	/* a longer one is not kept (table_cache__each) */
	if (strlen(u->objs[idx].path) < sizeof(j->path))
		strcpy(j->path, u->objs[idx].path);
	j->entry = entry;
	j->queued_ns = mono_ns();
	snprintf(j->root, sizeof(j->root), "%s", u->root);
	pthread_mutex_lock(&u->lock);
	for (tail = &u->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	u->objs[idx].pending = true;
	u->nr_pending++;
	return 0;
}

/*
 * The table of an object: kept from an earlier run (read here, a few ms
 * for the biggest, so that no process waits for a worker behind others'
 * compiles), else compiled now (sync) or by a worker (async), and kept.
 */
static int obj_load(struct unwinder *u, struct uobj *o, struct elf_file *f)
{
	struct unwind_table *t = NULL;
	char key[80] = "";
	struct stat st;

	/* by build-id, else by what the file is now */
	if (!strncmp(o->key, "b:", 2))
		snprintf(key, sizeof(key), "%s", o->key);
	else if (!fstat(elf_file__fd(f), &st))
		table_cache__file_key(&st, o->entry, key, sizeof(key));
	snprintf(o->ckey, sizeof(o->ckey), "%s", key);
	if (u->o.cache && key[0])
		t = table_cache__get(u->o.cache, key);
	o->cached = t;
	o->preloaded = false;
	if (t)
		return obj_install(u, o, t, 0);
	if (u->o.async)
		return obj_queue(u, o - u->objs, f, o->entry, key);
	t = unwind_table__build(elf_file__fd(f), u->root,
				o->entry ? UNWIND_TABLE_ENTRY : 0);
	if (t && u->o.cache && key[0])
		table_cache__put(u->o.cache, key, o->path, t);
	return obj_install(u, o, t, t ? 0 : -errno);
}

/* async: pid maps an object still compiling: read its maps again then. */
static void wait_add(struct unwinder *u, int pid)
{
	size_t i;

	for (i = 0; i < u->nr_waiting; i++)
		if (u->waiting[i] == pid)
			return;
	if (tab_grow((void **)&u->waiting, &u->cap_waiting,
		     u->nr_waiting + 1, sizeof(*u->waiting)))
		return;
	u->waiting[u->nr_waiting++] = pid;
}

static struct uobj *obj_of_file(struct unwinder *u, const struct procmap *m,
				struct elf_file *f, bool entry);

/* File m, read for an object: its path kept (without memory: not kept). */
static void file_note(struct unwinder *u, const struct procmap *m)
{
	struct ufile *f;
	size_t i;

	for (i = 0; i < u->files.nr; i++) {
		f = tab_array_at(&u->files, i);
		if (f->inode == m->inode && f->dev == m->dev)
			return;
	}
	if (tab_array_reserve(&u->files, 1))
		return;
	f = tab_array_push(&u->files);
	f->path = strdup(m->path);
	if (!f->path) {
		u->files.nr--;
		return;
	}
	f->dev = m->dev;
	f->inode = m->inode;
}

/*
 * Whether o, mapped again, is compiled and loaded again: its table went
 * for room, or did not fit and tables have gone for room since.
 */
static bool obj_reload(const struct unwinder *u, const struct uobj *o)
{
	return o->released || (o->no_table && o->tried != u->released);
}

/*
 * The object of a file mapping: found by file, else opened (procmap_path)
 * and found by build-id or compiled. entry: processes
 * start at its e_entry (the program or its interpreter, from the
 * process's auxv), which its table marks outermost: another object than
 * the same file mapped as a library.
 */
static struct uobj *obj_get(struct unwinder *u, const struct procmap *m,
			    bool entry)
{
	struct uobj *o = obj_by_file(u, m, entry);
	struct elf_file *f;
	char path[4096 + 64];

	if (o && !obj_reload(u, o))
		return o;
	if (vdso__is(m->path)) {
		const char *image = vdso__path(m->end - m->start);

		f = image ? elf_file__open(image) : NULL;
		goto opened;
	}
	f = procmap_path(u->pid, m, path, sizeof(path)) ? NULL :
						       elf_file__open(path);
opened:
	o = f ? obj_of_file(u, m, f, entry) : NULL;
	elf_file__free(f);
	return o;
}

/* The key of an object without a build-id, for this run: its file's. */
static void file_obj_key(dev_t dev, __u64 inode, bool entry, char *buf,
			 size_t len)
{
	snprintf(buf, len, "i:%u:%u:%llu%s", major(dev), minor(dev),
		 (unsigned long long)inode, entry ? ":entry" : "");
}

/*
 * The object of file f, which m names: found by build-id (else device and
 * inode), or compiled. entry: as obj_get().
 */
static struct uobj *obj_of_file(struct unwinder *u, const struct procmap *m,
				struct elf_file *f, bool entry)
{
	struct elf_segment segs[OBJ_SEGMENTS];
	char key[80], id[64];
	struct uobj *o;
	int n;

	if (!elf_file__build_id(f, id, sizeof(id)))
		snprintf(key, sizeof(key), "b:%s%s", id, entry ? ":entry" : "");
	else
		file_obj_key(m->dev, m->inode, entry, key, sizeof(key));
	o = obj_by_key(u, key);
	if (!o) {
		o = obj_add(u, key);
		if (!o)
			return NULL;
		o->entry = entry;
		o->path = strdup(m->path);
		n = elf_file__segments(f, segs, OBJ_SEGMENTS);
		o->nr_segs = unwind_file_segs(segs, n > 0 ? n : 0, o->segs);
		if (!o->path || obj_load(u, o, f)) {
			free(o->path);
			u->nr_objs--;
			return NULL;
		}
	} else if (obj_reload(u, o)) {
		if (o->no_table) {
			o->no_table = false;
			u->no_table--;
		}
		o->released = false;
		o->given_up = false;
		if (obj_load(u, o, f)) {
			/* none loaded: tried again when next mapped */
			o->released = true;
			return NULL;
		}
	}
	o->dev = m->dev;
	o->inode = m->inode;
	file_note(u, m);
	return o;
}

int unwinder__reload(struct unwinder *u)
{
	return unwinder__reload_pid(u, u->o.pid);
}

/*
 * Where processes start: the files of the mappings that hold the
 * interpreter's load address (AT_BASE) and the program's entry point
 * (AT_ENTRY). Their objects' entry code is the outermost frame, in every
 * executable mapping of those files (node maps its code in four: one
 * table, not a second one as a library for the three without the entry
 * point). Without auxv (a process gone, or one we may not read) neither
 * is known: every object is taken for a library.
 */
struct entry_files {
	dev_t prog_dev;
	__u64 prog_inode;
	dev_t interp_dev;
	__u64 interp_inode;
};

/*
 * Without auxv the program is still the file the process's last exec
 * record named, where one did (a set's processes, not one found running):
 * read as a library, it would be compiled again as the program when its
 * exec record comes. (The interpreter stays unknown.)
 * MEMSCOPE_NO_AUXV: the tests' way to a process whose auxv is unreadable.
 *
 * -EAGAIN: an exec is replacing the image (gen 0) and its auxv names no
 * entry point yet: the kernel writes the new one after it has mapped the
 * program and its interpreter, and the maps read now hold both. Taken
 * for libraries they were compiled twice, once as such for nothing (the
 * real-time drain reads them as soon as the program's first segment is
 * mapped: a 30 s compile of Chromium's code in two of three launches);
 * the exec's end marks the process's maps changed again.
 */
static int entry_files_read(struct unwinder *u, int pid, __u32 gen,
			    const struct procmaps *pm, struct entry_files *ef)
{
	const struct upid *up = tab_keyed_get(&u->pids, pid);
	const struct procmap *m;
	__u64 entry, base;
	int err;

	memset(ef, 0, sizeof(*ef));
	err = u->no_auxv ? -ENOENT : procinfo_read_entry(pid, &entry, &base);
	if (err == -EINVAL && !gen)
		return -EAGAIN;
	if (err) {
		if (up && up->exec_ino) {
			ef->prog_dev = up->exec_dev;
			ef->prog_inode = up->exec_ino;
		}
		return 0;
	}
	m = entry ? procmaps__find(pm, entry) : NULL;
	if (m && m->inode) {
		ef->prog_dev = m->dev;
		ef->prog_inode = m->inode;
	}
	m = base ? procmaps__find(pm, base) : NULL;
	if (m && m->inode) {
		ef->interp_dev = m->dev;
		ef->interp_inode = m->inode;
	}
	return 0;
}

static bool is_interp(const struct entry_files *ef, const struct procmap *m)
{
	return ef->interp_inode && m->inode == ef->interp_inode &&
	       m->dev == ef->interp_dev;
}

static bool is_entry(const struct entry_files *ef, const struct procmap *m)
{
	if (ef->prog_inode && m->inode == ef->prog_inode &&
	    m->dev == ef->prog_dev)
		return true;
	return is_interp(ef, m);
}

/*
 * The object's table as the file it was last seen as, for the walker to
 * find through a task's vma before a process's own maps are in: merged
 * with what the same file's other object (library or entry) published.
 * Once it is in (a compiled table is published when the worker is done,
 * though the process that mapped it may be gone), and once per file:
 * every process maps the same few. Failing (the map full) costs only
 * that shortcut: such a process's pcs wait for its maps.
 */
static void obj_publish(struct unwinder *u, struct uobj *o)
{
	struct ms_file_key k = file_key(o->dev, o->inode);
	struct ms_unwind_file f;
	bool fresh;

	if (o->idx == OBJ_NONE || o->pending || o->no_table || !o->inode ||
	    (o->pub_dev == k.dev && o->pub_inode == k.ino &&
	     o->pub_interp == o->interp))
		return;
	fresh = bpf_map_lookup_elem(u->o.files_fd, &k, &f);
	if (fresh)
		memset(&f, 0, sizeof(f));
	if (o->entry)
		f.entry_obj = o->idx;
	else
		f.obj = o->idx;
	if (o->interp)
		f.flags |= MS_FILEF_INTERP;
	f.nr_segs = o->nr_segs;
	memcpy(f.segs, o->segs, sizeof(f.segs));
	if (bpf_map_update_elem(u->o.files_fd, &k, &f, BPF_ANY))
		return;
	u->nr_files += fresh;
	o->pub_dev = k.dev;
	o->pub_inode = k.ino;
	o->pub_interp = o->interp;
}

/*
 * Of the rows and object slots, what the tables kept from earlier runs
 * may take at the start: the rest is for what the traced processes map.
 */
#define PRELOAD_SHARE	4

/*
 * One table kept from an earlier run (table_cache__each), loaded and
 * published by its file now, if the file at its path is still the object
 * (its build-id the key's, or the file it was): a process that runs it
 * after the start has it from its first allocation, before its maps are
 * read (and a short one never has them read). One past the rows' share
 * is passed over; the walk stops (1) when the slots' share is taken.
 */
static int preload_one(void *ctx, const char *key, const char *path,
		       size_t rows)
{
	struct unwinder *u = ctx;
	struct elf_segment segs[OBJ_SEGMENTS];
	struct procmap m = { .path = path };
	char id[80], fdpath[32], okey[80];
	struct unwind_table *t;
	struct elf_file *f;
	struct uobj *o;
	struct stat st;
	bool entry;
	size_t len;
	int n, fd;

	if (u->next_obj >= u->o.objs_cap / PRELOAD_SHARE)
		return 1;
	/* one that does not fit leaves room for the smaller ones after it */
	if (u->preload_rows + rows > row_store__cap(u->o.rows) / PRELOAD_SHARE)
		return 0;
	if (key[0] == 'b' && obj_by_key(u, key))
		return 0;
	/*
	 * A name a traced process's file had: what is there now may be a
	 * FIFO (an open would block) or anything else; only a regular file
	 * is read, and only taken with the key's build-id.
	 */
	fd = debuginfo_open(u->preload_root, path, false);
	if (fd < 0)
		return 0;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	f = elf_file__open(fdpath);
	close(fd);
	if (!f)
		return 0;
	if (fstat(elf_file__fd(f), &st))
		goto out;
	len = strlen(key);
	entry = len > 6 && !strcmp(key + len - 6, ":entry");
	/* still the object: its build-id, or the file it was */
	if (key[0] == 'b') {
		if (elf_file__build_id(f, id, sizeof(id)) ||
		    strncmp(key + 2, id, len - 2 - (entry ? 6 : 0)) ||
		    strlen(id) != len - 2 - (entry ? 6 : 0))
			goto out;
		snprintf(okey, sizeof(okey), "%s", key);
	} else {
		table_cache__file_key(&st, entry, id, sizeof(id));
		if (strcmp(id, key))
			goto out;
		file_obj_key(st.st_dev, st.st_ino, entry, okey, sizeof(okey));
	}
	if (obj_by_key(u, okey))
		goto out;
	t = table_cache__get(u->o.cache, key);
	o = t ? obj_add(u, okey) : NULL;
	if (!o) {
		unwind_table__free(t);
		goto out;
	}
	o->entry = entry;
	o->cached = o->preloaded = true;
	snprintf(o->ckey, sizeof(o->ckey), "%s", key);
	o->path = strdup(path);
	n = elf_file__segments(f, segs, OBJ_SEGMENTS);
	o->nr_segs = unwind_file_segs(segs, n > 0 ? n : 0, o->segs);
	if (!o->path || obj_install(u, o, t, 0) || o->idx == OBJ_NONE) {
		/* not kept without its table: the next mapping compiles it */
		u->no_table -= o->no_table;
		free(o->path);
		u->nr_objs--;
		goto out;
	}
	m.dev = st.st_dev;
	m.inode = st.st_ino;
	o->dev = m.dev;
	o->inode = m.inode;
	file_note(u, &m);
	obj_publish(u, o);
	u->preloaded++;
	u->preload_rows += o->nr;
out:
	elf_file__free(f);
	return 0;
}

/*
 * The kernel's count of a process's executable pages (mm->exec_vm: code
 * neither writable nor the stack), from its maps, into *seen if the
 * kernel has not set it yet. Left at 0, the walker took the target's
 * first mapping of anything after the attach for a change of its code,
 * and looked every pc up in the task's vmas until the maps were read
 * again, where a busy mmap lock made a frame stop as not_loaded. A
 * count that is off costs that once, as before.
 */
static void exec_vm_note(__u64 *seen, const struct procmaps *pm)
{
	__u64 pages = 0, zero = 0;
	size_t i;

	for (i = 0; i < procmaps__count(pm); i++) {
		const struct procmap *m = procmaps__get(pm, i);

		if (m->perms[2] != 'x' || m->perms[1] == 'w' ||
		    (m->path && (!strcmp(m->path, "[stack]") ||
				 !strcmp(m->path, "[vsyscall]"))))
			continue;
		pages += (m->end - m->start) >> 12;
	}
	__atomic_compare_exchange_n(seen, &zero, pages, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/*
 * The image generation pid runs (struct ms_proc_maps.gen; 0 while an exec
 * replaces its mappings, ms_image_now()) and, into seq when given, its
 * changes so far ([0] .seq, [1] .exec_seq); seen is *o.changed, read
 * before.
 */
static __u32 image_gen(const struct unwinder *u, int pid, __u64 seen,
		       __u64 *seq)
{
	struct ms_proc p;
	__u32 key = pid, gen;

	if (u->o.procs_fd < 0) {
		if (seq) {
			seq[0] = __atomic_load_n(u->o.one_seq,
						 __ATOMIC_ACQUIRE);
			seq[1] = seen;
		}
		gen = __atomic_load_n(u->o.one_gen, __ATOMIC_ACQUIRE);
		return ms_image_now(gen, __atomic_load_n(u->o.one_exec_begun,
							 __ATOMIC_ACQUIRE));
	}
	if (bpf_map_lookup_elem(u->o.procs_fd, &key, &p))
		return 0;
	if (seq) {
		seq[0] = p.maps_seq;
		seq[1] = p.exec_changes;
	}
	return ms_image_now(p.gen, p.exec_begun);
}

void unwind_vmas_merge(struct ms_image_vmas *into,
		       const struct ms_image_vmas *kept)
{
	__u32 i, j, n = kept->nr < MS_IMAGE_VMAS ? kept->nr : MS_IMAGE_VMAS;

	if (into->nr > MS_IMAGE_VMAS)
		into->nr = MS_IMAGE_VMAS;
	for (i = 0; i < n && into->nr < MS_IMAGE_VMAS; i++) {
		if (!kept->v[i].start)
			continue;
		for (j = 0; j < into->nr; j++)
			if (into->v[j].start == kept->v[i].start)
				break;
		if (j == into->nr)
			into->v[into->nr++] = kept->v[i];
	}
}

/*
 * The mappings iv of image gen of pid, read from its maps, into its entry
 * (image_vmas) with those the entry holds: what the walker kept there
 * meanwhile, and what an earlier read found, stay. A read that replaced
 * the entry lost them: the libraries an exec'd sed mapped while its first
 * read (of sed and ld.so alone) loaded its objects, and ld.so when a read
 * caught an exiting ls with half its mappings gone; their frames were
 * unnamed. (A walker's append between the lookup and the update is lost.)
 */
static void image_vmas_merge(const struct unwinder *u, __u32 pid, __u32 gen,
			     struct ms_image_vmas *iv)
{
	struct ms_image_key k = { .tgid = pid, .gen = gen };
	struct ms_image_vmas kept;

	if (!bpf_map_lookup_elem(u->o.vmas_fd, &k, &kept))
		unwind_vmas_merge(iv, &kept);
	bpf_map_update_elem(u->o.vmas_fd, &k, iv, BPF_ANY);
}

/* o, mapped by the process being read: held once in its list. */
static void obj_hold(struct unwinder *u, const struct uobj *o, __u32 *held,
		     __u32 *nr)
{
	__u32 pos = o - u->objs, i;

	for (i = 0; i < *nr; i++)
		if (held[i] == pos)
			return;
	held[(*nr)++] = pos;
	u->objs[pos].refs++;
	u->objs[pos].was_held = true;
}

static void objs_drop(struct unwinder *u, const __u32 *objs, __u32 nr)
{
	__u32 i;

	for (i = 0; i < nr; i++)
		u->objs[objs[i]].refs--;
}

/*
 * pid's objects are held now (NULL: it is gone, and forgotten), its last
 * ones dropped; held is taken. The walker's maps of a process must name
 * only objects it holds: an object's slot and rows go to another once
 * none holds it (reclaim). With held, tab_keyed_reserve() on pids must
 * have succeeded.
 */
static void pid_objs_set(struct unwinder *u, int pid, __u32 *held, __u32 nr)
{
	struct upid *up = tab_keyed_get(&u->pids, pid);

	if (up) {
		objs_drop(u, up->objs, up->nr);
		free(up->objs);
	}
	if (!held) {
		if (up)
			tab_keyed_delete(&u->pids, up);
		return;
	}
	if (!up)
		up = tab_keyed_add(&u->pids, pid);
	up->objs = held;
	up->nr = nr;
}

int unwinder__reload_pid(struct unwinder *u, int pid)
{
	struct entry_files ef;
	__u64 seen = __atomic_load_n(u->o.changed, __ATOMIC_ACQUIRE);
	struct ms_image_vmas iv = {};
	struct ms_proc_map *maps = NULL;
	struct procmaps *pm;
	struct uobj *o;
	size_t i, n = 0;
	__u32 key = pid, gen, *held, nr_held = 0;
	int err, dropped;
	__u64 seq[2] = {};

	/* Its files through its root: its own mount namespace. */
	u->pid = pid;
	snprintf(u->root, sizeof(u->root), "/proc/%d/root", pid);
	/*
	 * Before the maps: an exec or an executable mapping changed after
	 * this makes them stale, which the walker then tells.
	 */
	gen = image_gen(u, pid, seen, seq);
	pm = procmaps__read(pid);
	if (!pm)
		return -errno;
	err = entry_files_read(u, pid, gen, pm, &ef);
	if (err)
		goto free_maps;
	if (u->o.procs_fd < 0 && u->o.one_exec_vm)
		exec_vm_note(u->o.one_exec_vm, pm);
	maps = calloc(procmaps__count(pm) + 1, sizeof(*maps));
	held = calloc(procmaps__count(pm) + 1, sizeof(*held));
	if (!maps || !held) {
		free(held);
		err = -ENOMEM;
		goto free_maps;
	}
	for (i = 0; i < procmaps__count(pm); i++) {
		const struct procmap *m = procmaps__get(pm, i);
		struct ms_proc_map *pmap = &maps[n];

		if (m->perms[2] != 'x')
			continue;
		/*
		 * Anonymous code (a JIT) is in no mapping (NO_MAPPING), or
		 * walked by frame pointers if the user says its runtime
		 * keeps them: one entry for a run of it (V8 commits its code
		 * space a page at a time), so it takes few of MS_PROC_MAPS.
		 */
		if (!m->path || !strncmp(m->path, "[anon:", 6)) {
			if (!u->o.jit_frame_ptrs)
				continue;
			if (n && maps[n - 1].flags & MS_MAPF_FRAME_PTR &&
			    maps[n - 1].end == m->start) {
				maps[n - 1].end = m->end;
				continue;
			}
			pmap->start = m->start;
			pmap->end = m->end;
			pmap->obj = OBJ_NONE;
			pmap->flags = MS_MAPF_FRAME_PTR;
			n++;
			continue;
		}
		pmap->start = m->start;
		pmap->end = m->end;
		n++;
		/* [vsyscall] and the like: no CFI. (The vDSO has its own.) */
		if (m->path[0] == '[' && !vdso__is(m->path)) {
			pmap->obj = OBJ_NONE;
			continue;
		}
		o = obj_get(u, m, is_entry(&ef, m));
		/* held from here: no room made for another takes it */
		if (o)
			obj_hold(u, o, held, &nr_held);
		if (!o || !ms_file_bias(o->segs, o->nr_segs, m->start,
					m->end - m->start, m->offset,
					&pmap->bias)) {
			/* Unreadable, or no segment maps it: no rows. */
			pmap->obj = OBJ_NONE;
			continue;
		}
		pmap->obj = o->idx;
		/* Compiling: its pcs stop as not_loaded until it is in. */
		if (o->no_table || o->pending)
			pmap->flags |= MS_MAPF_NO_TABLE;
		if (o->pending)
			wait_add(u, pid);
		o->interp |= is_interp(&ef, m);
		obj_publish(u, o);
		if (iv.nr < MS_IMAGE_VMAS && m->inode) {
			struct ms_vma *v = &iv.v[iv.nr++];

			v->start = m->start;
			v->end = m->end;
			v->offset = m->offset;
			v->dev = procmap_kernel_dev(m->dev);
			v->ino = m->inode;
		}
	}
	/*
	 * What the walker will not keep now that the maps are in: the names
	 * of a process gone before its stacks are drained come from here.
	 * (Full, or the process's slot taken: only names are lost.) Not
	 * if it exec'd meanwhile: these may be the next image's.
	 */
	if (iv.nr && gen && image_gen(u, pid, seen, NULL) == gen)
		image_vmas_merge(u, pid, gen, &iv);
	dropped = unwind_maps_build(&u->maps, maps, n);
	if (dropped < 0) {
		err = dropped;
		goto drop_held;
	}
	err = tab_keyed_reserve(&u->pids);
	if (err)
		goto drop_held;
	u->maps.gen = gen;
	u->maps.seq = seq[0];
	u->maps.exec_seq = seq[1];
	u->maps_dropped = dropped;
	if (bpf_map_update_elem(u->o.maps_fd, &key, &u->maps, BPF_ANY)) {
		err = -errno;
		goto drop_held;
	}
	/* What it maps now is held; what it mapped before, not. */
	pid_objs_set(u, pid, held, nr_held);
	held = NULL;
	/* Rows and maps are in place: memoized rules are stale now. */
	__atomic_add_fetch(u->o.gen, 1, __ATOMIC_RELEASE);
	u->loaded = seen;
	err = 0;
drop_held:
	/* Not in its maps: held by what it mapped before, as they are. */
	if (held) {
		objs_drop(u, held, nr_held);
		free(held);
	}
free_maps:
	free(maps);
	procmaps__free(pm);
	return err;
}

/*
 * A compile given up: done anyway for the table cache, when no other
 * job waits (a program whose runs end before its compile, rustc
 * --version's LLVM, then has its table from its next trace on).
 */
static void keep_later(struct unwinder *u, struct job *j)
{
	struct job **tail;

	j->keep_only = true;
	j->taken = j->done = false;
	__atomic_store_n(&j->cancel, false, __ATOMIC_RELAXED);
	j->err = 0;
	j->next = NULL;
	pthread_mutex_lock(&u->lock);
	for (tail = &u->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
}

size_t unwinder__poll(struct unwinder *u)
{
	struct job *done = NULL, **p, *j;
	const struct job *waited;
	struct uobj *o;
	__u64 now;
	size_t i, nr;
	int *pids;

	/* the list is this thread's to change: the workers change jobs */
	if (!u->o.async || !u->jobs)
		return 0;
	now = mono_ns();
	pthread_mutex_lock(&u->lock);
	for (j = u->jobs; j && (j->taken || j->keep_only ||
				!u->objs[j->obj].refs); j = j->next)
		;
	waited = j;
	for (p = &u->jobs; (j = *p);) {
		o = &u->objs[j->obj];
		if (!j->done || (j->keep_only && j->fd >= 0)) {
			/* not one queued for a held exec, mapped by none yet */
			if (waited && !j->keep_only &&
			    now - j->queued_ns >= GIVE_UP_NS &&
			    !o->refs && o->was_held && !o->gave_up_once)
				__atomic_store_n(&j->cancel, true,
						 __ATOMIC_RELAXED);
			p = &j->next;
			continue;
		}
		*p = j->next;
		j->next = done;
		done = j;
	}
	pthread_mutex_unlock(&u->lock);
	if (!done)
		return u->nr_pending;
	while ((j = done)) {
		done = j->next;
		if (j->keep_only) {
			u->objs[j->obj].kept_later = !j->err;
			free(j);
			continue;
		}
		o = &u->objs[j->obj];
		o->pending = false;
		u->nr_pending--;
		if (!j->table && j->err == -ECANCELED) {
			/* as a table released for room: compiled if mapped */
			o->released = true;
			o->given_up = o->gave_up_once = true;
			u->given_up++;
			if (u->o.cache && !u->stop) {
				keep_later(u, j);
				continue;
			}
		} else {
			obj_install(u, o, j->table, j->err);
			obj_publish(u, o);
		}
		close(j->fd);
		free(j);
	}
	/* Their maps again, with the tables now in (a pid gone: no error). */
	pids = u->waiting;
	nr = u->nr_waiting;
	u->waiting = NULL;
	u->nr_waiting = u->cap_waiting = 0;
	for (i = 0; i < nr; i++)
		unwinder__reload_pid(u, pids[i]);
	free(pids);
	return u->nr_pending;
}

void unwinder__flush(struct unwinder *u)
{
	struct job *j;

	if (!u->o.async)
		return;
	pthread_mutex_lock(&u->lock);
	for (;;) {
		for (j = u->jobs; j && (j->done || j->keep_only); j = j->next)
			;
		if (!j)
			break;
		pthread_cond_wait(&u->finished, &u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	unwinder__poll(u);
}

bool unwinder__waits(const struct unwinder *u, int pid)
{
	size_t i;

	for (i = 0; i < u->nr_waiting; i++)
		if (u->waiting[i] == pid)
			return true;
	return false;
}

void unwinder__exec_note(struct unwinder *u, int pid, __u64 dev, __u64 ino)
{
	struct upid *up = tab_keyed_get(&u->pids, pid);

	if (!up && !tab_keyed_reserve(&u->pids))
		up = tab_keyed_add(&u->pids, pid);
	if (up) {
		up->exec_dev = procmap_user_dev(dev);
		up->exec_ino = ino;
	}
}

int unwinder__exec_file(struct unwinder *u, int pid, const char *path,
			__u64 dev, __u64 ino)
{
	struct procmap m = {
		.path = path,
		.dev = procmap_user_dev(dev),
		.inode = ino,
	};
	char full[4096 + 64], real[4096];
	struct elf_file *f;
	struct uobj *o;
	struct stat st;
	int fd;

	o = obj_by_file(u, &m, true);
	if (o && !obj_reload(u, o)) {
		obj_publish(u, o);
		return 0;
	}
	/* A relative name is the process's cwd's: only /proc knows it. */
	if (path[0] != '/')
		return -ENOENT;
	u->pid = pid;
	snprintf(u->root, sizeof(u->root), "/proc/%d/root", pid);
	snprintf(full, sizeof(full), "%s%s", u->root, path);
	f = elf_file__open(full);
	if (!f) {
		/* Gone: by the name here, only if it is that file. */
		u->root[0] = '\0';
		fd = procmap_open_same(path, m.dev, ino);
		if (fd < 0)
			return -errno;
		snprintf(full, sizeof(full), "/proc/self/fd/%d", fd);
		f = elf_file__open(full);
		close(fd);
	}
	if (!f)
		return -errno;
	if (fstat(elf_file__fd(f), &st) || st.st_ino != ino ||
	    procmap_kernel_dev(st.st_dev) != dev) {
		elf_file__free(f);
		return -ESTALE;
	}
	/*
	 * Named as /proc/PID/maps names it, not by the name it was run by
	 * (/usr/bin/python3, a symbolic link): the frames of a run gone
	 * before its maps were read take this name, and those of a run
	 * whose maps were read the other. Opened here by the name it ran
	 * (gone), the file is named from our root.
	 */
	if (!procmap_fd_path(elf_file__fd(f), u->root[0] ? u->root : "/",
			     real, sizeof(real)))
		m.path = real;
	o = obj_of_file(u, &m, f, true);
	elf_file__free(f);
	if (!o)
		return -ENOMEM;
	obj_publish(u, o);
	return 0;
}

/* The path file dev (the kernel's), ino had when it was read; or NULL. */
static const char *file_path(const struct unwinder *u, __u64 dev, __u64 ino)
{
	const struct ufile *f;
	size_t i;

	for (i = 0; i < u->files.nr; i++) {
		f = tab_array_at(&u->files, i);
		if (f->inode == ino && procmap_kernel_dev(f->dev) == dev)
			return f->path;
	}
	return NULL;
}

int unwinder__image_vmas(const struct unwinder *u, __u32 pid, __u32 gen,
			 int (*fn)(void *ctx, const struct procmap *m),
			 void *ctx)
{
	struct ms_image_key k = { .tgid = pid, .gen = gen };
	struct procmap m = { .perms = "r-xp" };
	struct ms_image_vmas iv;
	int i, n = 0, err;

	if (bpf_map_lookup_elem(u->o.vmas_fd, &k, &iv))
		return -errno;
	for (i = 0; i < (int)iv.nr && i < MS_IMAGE_VMAS; i++) {
		const struct ms_vma *v = &iv.v[i];

		/* a slot still being written, or nonsense: not a mapping */
		if (!v->start || v->end <= v->start)
			continue;
		m.path = file_path(u, v->dev, v->ino);
		if (!m.path)
			continue;
		m.start = v->start;
		m.end = v->end;
		m.offset = v->offset;
		m.dev = procmap_user_dev(v->dev);
		m.inode = v->ino;
		err = fn(ctx, &m);
		if (err)
			return err;
		n++;
	}
	return n;
}

void unwinder__gone(struct unwinder *u, int pid)
{
	pid_objs_set(u, pid, NULL, 0);
}

void unwinder__forget(struct unwinder *u, int pid)
{
	__u32 key = pid;

	bpf_map_delete_elem(u->o.maps_fd, &key);
	pid_objs_set(u, pid, NULL, 0);
}

bool unwinder__stale(const struct unwinder *u)
{
	return __atomic_load_n(u->o.changed, __ATOMIC_ACQUIRE) != u->loaded;
}

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->objects = u->nr_objs;
	out->rows = row_store__used(u->o.rows);
	out->rows_cap = row_store__cap(u->o.rows);
	out->no_table = u->no_table;
	out->released = u->released;
	out->given_up = u->given_up;
	out->preloaded = u->preloaded;
	out->preload_rows = u->preload_rows;
	out->maps_dropped = u->maps_dropped;
	out->kernel_bytes = row_store__bytes(u->o.rows) +
			    (__u64)u->o.objs_cap * sizeof(struct ms_unwind_obj) +
			    sizeof(struct ms_proc_maps) +
			    (__u64)u->nr_files * (sizeof(struct ms_file_key) +
						  sizeof(struct ms_unwind_file)) +
			    (__u64)u->o.vmas_cap * (sizeof(struct ms_image_key) +
						    sizeof(struct ms_image_vmas));
}

void unwinder__each_preloaded(const struct unwinder *u,
			      void (*fn)(void *ctx, const char *path),
			      void *ctx)
{
	size_t i;

	for (i = 0; i < u->nr_objs; i++)
		if (u->objs[i].preloaded && u->objs[i].path)
			fn(ctx, u->objs[i].path);
}

void unwinder__print(const struct unwinder *u, FILE *f, const char *who)
{
	const struct uobj *o;
	char *line = NULL;
	size_t i, len;
	FILE *m;

	for (i = 0; i < u->nr_objs; i++) {
		o = &u->objs[i];
		/*
		 * Each line made whole, then written escaped: its paths are
		 * the traced processes' (their maps, debuglinks).
		 */
		m = open_memstream(&line, &len);
		if (!m)
			return;
		fprintf(m, "unwind table %s: ", o->path);
		if (o->pending)
			fputs("still compiling when tracing ended: its frames stopped as not_loaded", m);
		else if (o->released && o->given_up)
			fprintf(m, "compile given up: the processes that mapped it ended first%s",
				o->kept_later ? "; compiled later for the table cache" : "");
		else if (o->released)
			fprintf(m, "released for room (%u rows from %s): no traced process mapped it any more",
				o->nr, o->source);
		else if (o->err == -ENOENT)
			/* strerror would say "No such file or directory". */
			fputs("none (no CFI in .eh_frame, .debug_frame or a debug file): its frames stop as no_info", m);
		else if (o->err)
			fprintf(m, "none (%s): its frames stop as no_info",
				strerror(-o->err));
		else if (o->no_table)
			fprintf(m, "not loaded: %u rows from %s do not fit (raise --unwind-rows)",
				o->nr, o->source);
		else if (!o->nr)
			fprintf(m, "empty (%s has no rows)", o->source);
		else
			fprintf(m, "%u rows from %s%s%s", o->nr, o->source,
				o->entry ? ", its entry point outermost" : "",
				o->preloaded ? " (kept from an earlier run, loaded at the start)" :
				o->cached ? " (kept from an earlier run)" : "");
		name_put_line(f, who, m, &line);
	}
}
