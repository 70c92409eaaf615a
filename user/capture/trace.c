// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "attach.h"
/* The skeleton names the ABI's types without including it. */
#include "events.h"
#include "memscope.skel.h"
#include "procmaps.h"
#include "ring.h"
#include "row_store.h"
#include "table.h"
#include "trace.h"
#include "table_cache.h"
#include "unwind.h"

/* Past this much unread data the kernel wakes the consumer at once. */
#define RING_WAKEUP_FRACTION	4
/*
 * Most rows the unwind tables may take without --unwind-rows: 256 MiB of
 * kernel memory, made only as objects need it (libc takes ~28k rows,
 * python3 65k, rustc and its LLVM 2.6M, clang 14 2.1M).
 */
#define DEFAULT_UNWIND_ROWS	(1u << 24)

/* --hold-exec: a process attached and held until its tables are in. */
struct held {
	__u32 pid;
	__u64 since_ns;
};

/* A traced set's process whose record asks for work after the drain. */
struct set_work {
	__u32 pid;
	__u32 gen;
	__u32 type;	/* MS_EV_PROC_* */
	__u32 parent;	/* an exec: its parent's tgid then, 0 unknown */
	__u64 ts_ns;	/* the record's */
	/* an exec: the file it ran, as named and as the kernel knows it */
	char file[MS_STR_MAX];
	__u64 dev;
	__u64 ino;
};

/* An image that ended (exit, exec): its blocks leave the live table. */
struct set_ended {
	__u64 owner;	/* ms_owner(): the key */
	__u32 pid;
	__u32 gen;
	bool exited;	/* its entry goes too */
};

/*
 * The live table is swept at most this often: one pass over it serves
 * every image that ended meanwhile (-a on a busy host sees exits on
 * every drain).
 */
#define SWEEP_INTERVAL_NS	100000000ull

/* The syscalls whose own exit tracepoints ms_sys_exit goes on. */
static const char *const sys_exits[] = {
	"sys_exit_mmap", "sys_exit_munmap", "sys_exit_mremap", "sys_exit_brk",
	"sys_exit_execve", "sys_exit_execveat", "sys_exit_mprotect",
	"sys_exit_pkey_mprotect",
};

struct tracer {
	struct memscope_bpf *skel;
	struct memscope_bpf *walk;	/* the walk programs while loading */
	/* a traced set: the live table mapped, and what records asked for */
	bool set;
	bool launch;		/* -- CMD: held at each exec and new mapping */
	bool scanned;		/* -a, --comm, --cgroup: found in /proc */
	bool per_pid;		/* a -p list: probes filtered to each pid */
	struct live_slot *live;	/* the far table */
	size_t live_nr;
	struct live_slot *near;	/* the near table, and its spill counts */
	size_t near_nr;
	__u64 *spill;
	struct tab_array work;
	struct tab_keyed ended;
	__u64 last_sweep_ns;
	__u64 released_blocks;	/* live at an image's end, released from
				 * the kernel table (-v) */
	__u64 released_bytes;
	struct ring_buffer *wake;
	struct ms_ring *ring;
	void *ring_mem;
	size_t ring_map_bytes;
	struct attach *attach;
	/*
	 * -a: files of the tables kept from earlier runs that define an
	 * allocator, probed at the start (probe_kept)
	 */
	__u32 kept_probed;
	struct bpf_link *exit_link;
	struct bpf_link *fork_link;	/* a traced set: who joins it */
	/*
	 * --hold-exec: the guardian process that lets every held process go
	 * when the tool dies, however (it reads EOF on guard_fd's pipe), and
	 * each hold's length
	 */
	bool hold;
	int guard_fd;
	pid_t guard_pid;
	struct tab_array holds;
	struct tab_array deferred;	/* struct held: tables compiling */
	/* the syscall tracepoints of anonymous memory; NULL in alloc mode */
	/* ms_mm_locked, then ms_sys_exit on each of sys_exits[] */
	struct bpf_link *sys_links[1 + sizeof(sys_exits) / sizeof(sys_exits[0])];
	bool sys_raw;		/* no tracefs: ms_sys_exit_raw instead */
	/* --stacks dwarf: the tables, and what keeps them current */
	struct unwinder *unwind;
	struct row_store *rows;
	__u32 rows_cap;		/* --unwind-rows, else the default */
	struct table_cache *table_cache;	/* the caller's */
	struct bpf_link *map_links[1];
	/* execs: lifecycle records, and the tables of the new image */
	struct bpf_link *exec_link;
	struct bpf_link *prepare_link;	/* NULL: the kernel has no such hook */
	__u64 reloads;		/* times the target's mappings were read */
	tracer_event_fn on_event;
	void (*on_late)(void *ctx, __u32 pid, __u32 gen, __u64 since_ns,
			__u64 late_ns);
	bool alloc_only;
	void *ctx;
	__u64 drops;
	char error[512];
};

/* A BPF_F_MMAPABLE map's values, shared with the kernel; NULL, errno set. */
static void *map_mmap(struct bpf_map *m, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(m), 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The unwind tables: rows go in chunks made as they fill (row_store);
 * the tracepoints that see the target's executable mappings change are
 * attached now, so a change from here on is seen.
 */
static int unwind_open(struct tracer *t, int pid)
{
	struct bpf_program *progs[] = { t->skel->progs.ms_mm_released };
	struct unwinder_opts uo = {
		.pid = pid,
		.objs_fd = bpf_map__fd(t->skel->maps.unwind_objs),
		.objs_cap = bpf_map__max_entries(t->skel->maps.unwind_objs),
		.maps_fd = bpf_map__fd(t->skel->maps.proc_maps),
		.files_fd = bpf_map__fd(t->skel->maps.unwind_files),
		.vmas_fd = bpf_map__fd(t->skel->maps.image_vmas),
		.vmas_cap = bpf_map__max_entries(t->skel->maps.image_vmas),
		.procs_fd = t->set ? bpf_map__fd(t->skel->maps.procs) : -1,
		.one_gen = &t->skel->data->targ_gen,
		.one_exec_begun = &t->skel->bss->targ_exec_begun,
		.one_seq = &t->skel->bss->targ_maps_seq,
		.one_exec_vm = &t->skel->bss->exec_vm_seen,
		.gen = &t->skel->data->unwind_gen,
		.changed = &t->skel->bss->maps_changed,
		/* launch mode holds a thread until its tables are in */
		.async = t->set && !t->launch,
		.jit_frame_ptrs = t->skel->rodata->jit_frame_ptrs,
		.cache = t->table_cache,
	};
	size_t i;

	t->rows = row_store__new(bpf_map__fd(t->skel->maps.unwind_rows),
				 t->rows_cap);
	if (!t->rows)
		return -ENOMEM;
	uo.rows = t->rows;
	t->unwind = unwinder__new(&uo);
	if (!t->unwind)
		return -ENOMEM;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		t->map_links[i] = bpf_program__attach(progs[i]);
		if (!t->map_links[i])
			return -errno;
	}
	return 0;
}

static void unwind_close(struct tracer *t)
{
	size_t i;

	for (i = 0; i < sizeof(t->map_links) / sizeof(t->map_links[0]); i++)
		bpf_link__destroy(t->map_links[i]);
	unwinder__free(t->unwind);
	row_store__free(t->rows);
}

static int prog_array_set(struct bpf_map *m, struct bpf_program *p)
{
	__u32 zero = 0;
	int fd = bpf_program__fd(p);

	return bpf_map_update_elem(bpf_map__fd(m), &zero, &fd, BPF_ANY) ?
	       -errno : 0;
}

/*
 * --hold-exec: lets every held process go (SIGCONT to its process) and
 * forgets it. What a hold costs a process is a stop while its file is
 * probed, never more: every exit path of the tool comes here, and the
 * guardian does it when the tool could not (SIGKILL, a crash).
 */
static void release_all(int fd)
{
	__u32 key, next, tgid;

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &tgid))
			kill(tgid, SIGCONT);
		bpf_map_delete_elem(fd, &key);
	}
}

static void holds_release(struct tracer *t)
{
	if (t->hold)
		release_all(bpf_map__fd(t->skel->maps.map_stopped));
}

/* The guardian's fds: past the tool's usual ones, closed all but these. */
#define GUARD_MAP_FD	100
#define GUARD_PIPE_FD	101

/*
 * A child of the tool that keeps only map_stopped and the read end of a
 * pipe whose write end only the tool holds: when the tool is gone, by
 * any death, read() sees EOF and the guardian lets the held processes
 * go. Forked before any program is attached (no record of it) and with
 * the tool's signals blocked (run.c blocks them from the start), so only
 * SIGKILL ends it early.
 */
static int guard_start(struct tracer *t)
{
	int p[2], mfd = bpf_map__fd(t->skel->maps.map_stopped);
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		if (dup2(mfd, GUARD_MAP_FD) < 0 || dup2(p[0], GUARD_PIPE_FD) < 0)
			_exit(1);
		close_range(0, GUARD_MAP_FD - 1, 0);
		close_range(GUARD_PIPE_FD + 1, ~0u, 0);
		while (read(GUARD_PIPE_FD, &c, 1) < 0 && errno == EINTR)
			;
		release_all(GUARD_MAP_FD);
		_exit(0);
	}
	close(p[0]);
	t->guard_fd = p[1];
	t->guard_pid = pid;
	return 0;
}

static void guard_stop(struct tracer *t)
{
	if (t->guard_fd < 0)
		return;
	close(t->guard_fd);
	t->guard_fd = -1;
	while (waitpid(t->guard_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * The files pid maps executable, examined (probed where they have an
 * allocator): a process of the set that maps one later is not held.
 */
static void known_maps_add(struct tracer *t, const struct procmaps *maps)
{
	const struct procmap *m;
	struct ms_file_key k = {};
	__u8 one = 1;
	size_t i;

	for (i = 0; i < procmaps__count(maps); i++) {
		m = procmaps__get(maps, i);
		if (m->perms[2] != 'x' || !m->inode)
			continue;
		k.dev = procmap_kernel_dev(m->dev);
		k.ino = m->inode;
		/* Full: the next process of it is held once more, not missed. */
		bpf_map__update_elem(t->skel->maps.known_exes, &k, sizeof(k),
				     &one, sizeof(one), BPF_ANY);
	}
}

/*
 * attach__process; with --hold-exec, the files pid mapped executable
 * before it (read first: what attach__process examines is these or more)
 * are known from then on.
 */
static int attach_known(struct tracer *t, int pid)
{
	struct procmaps *maps = t->hold ? procmaps__read(pid) : NULL;
	int err;

	err = attach__process(t->attach, pid);
	if (maps && !err)
		known_maps_add(t, maps);
	procmaps__free(maps);
	return err;
}

static bool is_held(const struct tracer *t, __u32 tid)
{
	__u32 tgid;

	return t->hold &&
	       !bpf_map__lookup_elem(t->skel->maps.map_stopped, &tid,
				     sizeof(tid), &tgid, sizeof(tgid), 0);
}

/* A hold's length, kept in order: few holds, one per new file. */
static void hold_note(struct tracer *t, __u64 ns)
{
	__u64 *v;
	size_t i;

	if (tab_array_reserve(&t->holds, 1))
		return;
	tab_array_push(&t->holds);
	v = tab_array_at(&t->holds, 0);
	for (i = t->holds.nr - 1; i && v[i - 1] > ns; i--)
		v[i] = v[i - 1];
	v[i] = ns;
}

size_t tracer__holds(const struct tracer *t, __u64 *median_ns, __u64 *max_ns)
{
	size_t n = t->holds.nr;
	const __u64 *v;

	*median_ns = *max_ns = 0;
	if (!n)
		return 0;
	v = tab_array_at(&t->holds, 0);
	*median_ns = v[n / 2];
	*max_ns = v[n - 1];
	return n;
}

/*
 * The walk programs (loaded in t->walk, skel_load) into the tail-call
 * arrays, which hold them from then on: their object goes.
 */
static int walk_progs_set(struct tracer *t)
{
	int err = prog_array_set(t->skel->maps.walk_plain,
				 t->walk->progs.ms_walk);

	if (!err)
		err = prog_array_set(t->skel->maps.walk_multi,
				     t->walk->progs.ms_walk_multi);
	if (!err && !t->alloc_only)
		err = prog_array_set(t->skel->maps.walk_sys, t->sys_raw ?
				     t->walk->progs.ms_walk_sys_raw :
				     t->walk->progs.ms_walk_sys);
	memscope_bpf__destroy(t->walk);
	t->walk = NULL;
	return err;
}

/*
 * The exit tracepoints of sys_exits are known by their ids in tracefs,
 * where libbpf reads them (under debugfs when that is mounted). Where
 * nothing mounted it (systemd does at boot), it is mounted where the
 * kernel made its place, as trace-cmd does.
 */
static bool sys_tracefs(void)
{
	static const char *const ids[] = {
		"/sys/kernel/debug/tracing/events/syscalls/sys_exit_mmap/id",
		"/sys/kernel/tracing/events/syscalls/sys_exit_mmap/id",
	};

	if (!access("/sys/kernel/debug/tracing", F_OK))
		return !access(ids[0], R_OK);
	if (!access(ids[1], R_OK))
		return true;
	return !mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	       !access(ids[1], R_OK);
}

/*
 * mmap, munmap, mremap and brk of the target, and exec, which unmaps all.
 * --mode=alloc has no return probes, so no way to tell an allocator's own
 * mapping from the program's: it traces no anonymous memory, and loads
 * none of this. ms_sys_exit goes on each syscall's own exit tracepoint,
 * which the kernel runs for that syscall alone: the raw sys_exit
 * (ms_sys_exit_raw, where there is no tracefs) runs a program at every
 * syscall of the host, the uretprobe syscall of each allocation return
 * included.
 */
static int sys_attach(struct tracer *t)
{
	struct bpf_link **l = t->sys_links;
	size_t i;

	if (t->alloc_only)
		return 0;
	*l = bpf_program__attach(t->skel->progs.ms_mm_locked);
	if (!*l++)
		return -errno;
	if (t->sys_raw) {
		*l = bpf_program__attach(t->skel->progs.ms_sys_exit_raw);
		return *l ? 0 : -errno;
	}
	for (i = 0; i < sizeof(sys_exits) / sizeof(sys_exits[0]); i++) {
		*l = bpf_program__attach_tracepoint(t->skel->progs.ms_sys_exit,
						    "syscalls", sys_exits[i]);
		/* A kernel without protection keys has no pkey_mprotect. */
		if (!*l++ && (errno != ENOENT ||
			      strcmp(sys_exits[i], "sys_exit_pkey_mprotect")))
			return -errno;
	}
	return 0;
}

static void sys_detach(struct tracer *t)
{
	attach__links_destroy(t->sys_links, sizeof(t->sys_links) /
					    sizeof(t->sys_links[0]));
}

static void stack_stops_sum(const struct tracer *t, struct ms_counters *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd, cpu;
	__u32 stop;

	memset(out->stack_stops, 0, sizeof(out->stack_stops));
	if (ncpu <= 0)
		return;
	fd = bpf_map__fd(t->skel->maps.stack_stops);
	for (stop = 0; stop < MS_STOP__COUNT; stop++) {
		__u64 v[ncpu];

		if (bpf_map_lookup_elem(fd, &stop, v))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			out->stack_stops[stop] += v[cpu];
	}
}

/*
 * Work for after the drain: attach to a new image, or release an old.
 * The one process of -p has none, but its execs are noted too, for
 * tracer__image_vmas() during the drain and exec_files() after it.
 */
static void set_note(struct tracer *t, const struct ms_event *e)
{
	struct set_work *w;

	if (!ms_event_proc(e->type) || (!t->set && e->type != MS_EV_PROC_EXEC))
		return;
	if (tab_array_reserve(&t->work, 1)) {
		t->drops++;
		return;
	}
	w = tab_array_push(&t->work);
	w->pid = e->pid;
	w->gen = e->seq;
	w->type = e->type;
	w->ts_ns = e->ts_ns;
	w->parent = 0;
	w->file[0] = '\0';
	if (e->type != MS_EV_PROC_EXEC)
		return;
	memcpy(w->file, e->type_name, sizeof(w->file));
	w->file[sizeof(w->file) - 1] = '\0';
	w->dev = e->ptr;
	w->ino = e->old_ptr;
	w->parent = (__u32)e->size;
}

static void ring_sample(void *ctx, const void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct ms_event *e = data;

	if (size < MS_EVENT_HDR_SIZE || e->nr_frames > MS_MAX_STACK ||
	    size < ms_event_len(e)) {
		t->drops++;
		return;
	}
	set_note(t, e);
	if (t->on_event(t->ctx, e))
		t->drops++;
}

/* The wake ring only interrupts the consumer's sleep: nothing to read. */
static int wake_sample(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static void tick(struct tracer *t)
{
	__atomic_store_n(&t->skel->bss->tick_ns, mono_ns(), __ATOMIC_RELAXED);
}

static int ring_open(struct tracer *t)
{
	struct bpf_map *m = t->skel->maps.ring;
	size_t stride = (bpf_map__value_size(m) + 7) & ~(size_t)7;
	__u32 nr = bpf_map__max_entries(m);

	t->ring_map_bytes = stride * nr;
	t->ring_mem = map_mmap(m, t->ring_map_bytes);
	if (!t->ring_mem)
		return -errno;
	t->ring = ms_ring__new(t->ring_mem, stride, nr, MS_RING_CHUNK_SHIFT,
			       &t->skel->bss->ring_prod,
			       &t->skel->bss->ring_cons);
	if (!t->ring)
		return -errno;
	t->wake = ring_buffer__new(bpf_map__fd(t->skel->maps.wake),
				   wake_sample, t, NULL);
	return t->wake ? 0 : -errno;
}

static void ring_close(struct tracer *t)
{
	ring_buffer__free(t->wake);
	ms_ring__free(t->ring);
	if (t->ring_mem)
		munmap(t->ring_mem, t->ring_map_bytes);
}

/*
 * Slots for max_live blocks: a power of two, at most LIVE_FILL_EIGHTHS
 * eighths full (events.h says why), so a full window (counted as
 * live_full) does not happen below max_live.
 */
static __u32 live_slots(__u32 max_live)
{
	__u32 slots = 1024;

	while ((__u64)slots * LIVE_FILL_EIGHTHS / 8 < max_live &&
	       slots < (1u << 30))
		slots <<= 1;
	return slots;
}

/*
 * Buckets of the near table (live_table.h) for max_live blocks: enough
 * for them all, up to its 512; 2 at least (ms_near_bucket's shift
 * stays below 64). A small --max-live keeps a small table in front too.
 */
static __u32 near_buckets(__u32 max_live)
{
	__u32 b = 2;

	while (b < (1u << MS_NEAR_BUCKET_BITS) &&
	       (__u64)b * MS_NEAR_WAYS < max_live)
		b <<= 1;
	return b;
}

/*
 * Thread slots (bpf/memscope.bpf.c): MEMSCOPE_THREAD_SLOTS, a power of two,
 * lets the tests put all threads but one in task storage.
 */
static __u32 thread_slots(__u32 dflt)
{
	const char *v = getenv("MEMSCOPE_THREAD_SLOTS");
	char *end;
	unsigned long n;

	if (!v)
		return dflt;
	n = strtoul(v, &end, 10);
	if (*end || !n || n > dflt || (n & (n - 1)))
		return dflt;
	return n;
}

/*
 * A traced set: who enters it (rodata), its bound, and the live table
 * mapped so that the blocks of ended images can be released.
 */
static int set_configure(struct tracer *t, const struct tracer_opts *o)
{
	size_t i;
	int err;

	t->skel->rodata->targ_all = o->all;
	t->skel->rodata->self_tgid = getpid();
	t->skel->rodata->follow = o->follow;
	t->skel->rodata->cgroup_id = o->cgroup_id;
	t->skel->rodata->cgroup_level = o->cgroup_level;
	if (o->nr_comms > MS_MAX_COMMS)
		return -E2BIG;
	for (i = 0; i < o->nr_comms; i++)
		strncpy((char *)t->skel->rodata->comms[i], o->comms[i],
			MS_COMM_LEN - 1);
	t->skel->rodata->nr_comms = o->nr_comms;
	err = bpf_map__set_max_entries(t->skel->maps.procs, o->max_procs);
	if (!err)
		err = bpf_map__set_max_entries(t->skel->maps.maps_dirty,
					       o->max_procs);
	if (!err)
		err = bpf_map__set_max_entries(t->skel->maps.proc_maps,
					       o->max_procs);
	return err;
}

/*
 * An LRU map's entries besides those it is sized for, for each CPU's own
 * free list: a CPU takes free entries from the common list in batches of
 * up to 128 (on kernels since mid-2025, of half its share of the map at
 * most), and one that finds the common list empty evicts a batch's worth
 * of entries in use. Sized for its use alone, on a host of many CPUs the
 * map would be held on the CPUs' lists and evict what it was kept for.
 */
#define LRU_CPU_BATCH	128

static int lru_room(struct bpf_map *m)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu < 0)
		return ncpu;
	return bpf_map__set_max_entries(m, bpf_map__max_entries(m) +
					   (__u32)ncpu * LRU_CPU_BATCH);
}

static void live_close(struct tracer *t)
{
	if (t->live)
		munmap(t->live, t->live_nr * sizeof(*t->live));
	if (t->near)
		munmap(t->near, t->near_nr * sizeof(*t->near));
	if (t->spill)
		munmap(t->spill, t->near_nr / MS_NEAR_WAYS * sizeof(*t->spill));
	t->live = t->near = NULL;
	t->spill = NULL;
}

static int live_open(struct tracer *t)
{
	t->live_nr = bpf_map__max_entries(t->skel->maps.live);
	t->live = map_mmap(t->skel->maps.live, t->live_nr * sizeof(*t->live));
	t->near_nr = bpf_map__max_entries(t->skel->maps.live_near);
	t->near = map_mmap(t->skel->maps.live_near,
			   t->near_nr * sizeof(*t->near));
	t->spill = map_mmap(t->skel->maps.live_spill,
			    t->near_nr / MS_NEAR_WAYS * sizeof(*t->spill));
	if (t->live && t->near && t->spill)
		return 0;
	live_close(t);
	return -errno;
}

/*
 * The stack walk is three programs (one loaded like each kind of its
 * callers, for the tail call), each verified in full: 40 % of the load
 * time. They are verified on a second thread, beside the rest: one
 * object creates the maps, two more load their halves of the programs
 * on those maps, and the walk programs stay alive through the tail-call
 * arrays that hold them. The copies take skel's map sizes, rodata and
 * program settings, so what is verified is what skel would have loaded.
 */
static const char *const walk_progs[] = {
	"ms_walk", "ms_walk_multi", "ms_walk_sys", "ms_walk_sys_raw",
};

static bool is_walk_prog(const struct bpf_program *prog)
{
	size_t i;

	for (i = 0; i < sizeof(walk_progs) / sizeof(walk_progs[0]); i++)
		if (!strcmp(bpf_program__name(prog), walk_progs[i]))
			return true;
	return false;
}

/*
 * to: an opened copy of skel's object, set up as skel is, with programs
 * loaded where keep says (NULL: none).
 */
static int skel_copy(struct memscope_bpf *skel, struct memscope_bpf *to,
		     bool (*keep)(const struct bpf_program *))
{
	struct bpf_program *p, *q;
	struct bpf_map *m, *n;
	const void *init;
	size_t sz;
	int err;

	bpf_object__for_each_map(m, skel->obj) {
		n = bpf_object__find_map_by_name(to->obj, bpf_map__name(m));
		if (!n)
			return -ENOENT;
		err = bpf_map__set_max_entries(n, bpf_map__max_entries(m));
		/* .kconfig is libbpf's to fill, alike in every copy */
		init = strstr(bpf_map__name(m), ".kconfig") ? NULL :
		       bpf_map__initial_value(m, &sz);
		if (!err && init)
			err = bpf_map__set_initial_value(n, init, sz);
		if (err)
			return err;
	}
	bpf_object__for_each_program(p, skel->obj) {
		q = bpf_object__find_program_by_name(to->obj,
						     bpf_program__name(p));
		if (!q)
			return -ENOENT;
		err = bpf_program__set_expected_attach_type(q,
				bpf_program__expected_attach_type(p));
		if (!err)
			err = bpf_program__set_autoload(q,
				keep && keep(p) && bpf_program__autoload(p));
		if (err)
			return err;
	}
	return 0;
}

/* skel's maps become those of maps (a loaded copy). */
static int maps_reuse(struct memscope_bpf *skel, struct memscope_bpf *maps)
{
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, skel->obj) {
		err = bpf_map__reuse_fd(m, bpf_map__fd(
			bpf_object__find_map_by_name(maps->obj,
						     bpf_map__name(m))));
		if (err)
			return err;
	}
	return 0;
}

static void *walk_load(void *arg)
{
	struct memscope_bpf *walk = arg;

	return (void *)(long)memscope_bpf__load(walk);
}

static int skel_load(struct tracer *t)
{
	struct memscope_bpf *maps = memscope_bpf__open();
	struct bpf_program *p;
	pthread_t thread;
	void *ret;
	int err;

	t->walk = memscope_bpf__open();
	if (!maps || !t->walk) {
		err = -errno;
		goto out;
	}
	err = skel_copy(t->skel, maps, NULL);
	if (!err)
		err = skel_copy(t->skel, t->walk, is_walk_prog);
	if (!err)
		err = memscope_bpf__load(maps);
	if (!err)
		err = maps_reuse(t->skel, maps);
	if (!err)
		err = maps_reuse(t->walk, maps);
	if (err)
		goto out;
	bpf_object__for_each_program(p, t->skel->obj)
		if (is_walk_prog(p))
			bpf_program__set_autoload(p, false);
	err = -pthread_create(&thread, NULL, walk_load, t->walk);
	if (err)
		goto out;
	err = memscope_bpf__load(t->skel);
	pthread_join(thread, &ret);
	if (!err)
		err = (long)ret;
out:
	/* The maps live on in skel's and walk's descriptors. */
	memscope_bpf__destroy(maps);
	return err;
}

struct tracer *tracer__new(const struct tracer_opts *o)
{
	struct tracer *t = calloc(1, sizeof(*t));
	struct attach_progs progs;
	__u32 slots;
	int err;

	if (!t)
		return NULL;
	t->on_event = o->on_event;
	t->on_late = o->on_late;
	t->alloc_only = o->alloc_only;
	t->ctx = o->ctx;
	t->skel = memscope_bpf__open();
	if (!t->skel) {
		err = -errno;
		goto err_free;
	}
	t->set = o->set;
	t->launch = o->launch;
	t->scanned = o->all || o->nr_comms || o->cgroup_id;
	/* Nobody joins a -p list later: no process outside it pays a trap. */
	t->per_pid = o->set && !t->scanned && !o->follow && !o->launch;
	tab_array_init(&t->work, sizeof(struct set_work), 0);
	if (tab_keyed_init(&t->ended, sizeof(struct set_ended),
			   offsetof(struct set_ended, owner), 0)) {
		err = -ENOMEM;
		goto err_free;
	}
	t->skel->rodata->targ_tgid = o->set ? 0 : o->pid;
	t->skel->rodata->root_tgid = o->pid;
	if (o->set) {
		err = set_configure(t, o);
		if (err)
			goto err_skel;
	} else if (!o->launch) {
		/*
		 * One process: no set, the fast path's one compare. A launched
		 * one (--no-follow) keeps ms_fork, which notes a vfork child
		 * running in its memory unseen: its frees then judge no block
		 * never allocated (targ_vm_shared).
		 */
		bpf_program__set_autoload(t->skel->progs.ms_fork, false);
	}
	err = lru_room(t->skel->maps.image_vmas);
	if (err)
		goto err_skel;
	t->skel->rodata->alloc_only = o->alloc_only;
	t->skel->rodata->ring_bytes =
		(__u64)bpf_map__max_entries(t->skel->maps.ring)
		<< MS_RING_CHUNK_SHIFT;
	t->skel->rodata->wakeup_bytes =
		t->skel->rodata->ring_bytes / RING_WAKEUP_FRACTION;
	t->skel->rodata->stacks_fp = o->stacks_fp;
	t->skel->rodata->jit_frame_ptrs = o->jit_frame_ptrs && !o->stacks_fp;
	t->skel->rodata->max_depth = o->max_depth ? o->max_depth :
						    MS_DEFAULT_DEPTH;
	t->skel->rodata->stop_on_map = o->launch && !o->stacks_fp;
	t->skel->rodata->from_start = o->launch;
	t->hold = o->hold_exec && o->set && !o->launch;
	t->skel->rodata->hold_exec = t->hold;
	/* A mapping's hold needs the syscall exit's file and address. */
	t->skel->rodata->hold_map = t->hold && !o->alloc_only;
	t->guard_fd = -1;
	tab_array_init(&t->holds, sizeof(__u64), 0);
	tab_array_init(&t->deferred, sizeof(struct held), 0);
	progs.enter = t->skel->progs.ms_alloc_enter;
	progs.ret = t->skel->progs.ms_alloc_return;
	progs.free = t->skel->progs.ms_free_enter;
#define USDT_PROG(name)	progs.usdt[USDT_##name] = t->skel->progs.ms_##name;
	ATTACH_USDT_PROBES(USDT_PROG)
#undef USDT_PROG
	attach__prepare(&progs);
	t->skel->rodata->multi_links = progs.multi;
	/* The walk is tail-called: loaded like each kind of its callers. */
	bpf_program__set_expected_attach_type(t->skel->progs.ms_walk_multi,
		bpf_program__expected_attach_type(progs.ret));
	/* MEMSCOPE_RAW_SYSCALLS: the tests' way to a host without tracefs */
	t->sys_raw = !o->alloc_only && (getenv("MEMSCOPE_RAW_SYSCALLS") ||
					!sys_tracefs());
	bpf_program__set_autoload(t->skel->progs.ms_mm_locked, !o->alloc_only);
	bpf_program__set_autoload(t->skel->progs.ms_sys_exit,
				  !o->alloc_only && !t->sys_raw);
	bpf_program__set_autoload(t->skel->progs.ms_walk_sys,
				  !o->alloc_only && !t->sys_raw);
	bpf_program__set_autoload(t->skel->progs.ms_sys_exit_raw, t->sys_raw);
	/* Linux 6.10 and later: without it, maps read in an exec may lie */
	bpf_program__set_autoload(t->skel->progs.ms_prepare_exec,
				  libbpf_find_vmlinux_btf_id("sched_prepare_exec",
							     BPF_TRACE_RAW_TP) > 0);
	bpf_program__set_autoload(t->skel->progs.ms_walk_sys_raw, t->sys_raw);
	if (o->max_live) {
		__u32 slots = live_slots(o->max_live);
		__u32 buckets = near_buckets(o->max_live);

		err = bpf_map__set_max_entries(t->skel->maps.live, slots);
		if (!err)
			err = bpf_map__set_max_entries(t->skel->maps.live_near,
						       buckets * MS_NEAR_WAYS);
		if (!err)
			err = bpf_map__set_max_entries(t->skel->maps.live_spill,
						       buckets);
		if (err)
			goto err_skel;
		t->skel->rodata->live_mask = slots - 1;
		t->skel->rodata->near_mask = buckets * MS_NEAR_WAYS - 1;
		t->skel->rodata->near_shift = 64 - __builtin_ctz(buckets);
	}
	slots = thread_slots(bpf_map__max_entries(t->skel->maps.threads));
	err = bpf_map__set_max_entries(t->skel->maps.threads, slots);
	if (err)
		goto err_skel;
	t->skel->rodata->thread_mask = slots - 1;
	/* The chunks the rows may take; each is made when first needed. */
	t->rows_cap = o->unwind_rows ? o->unwind_rows : DEFAULT_UNWIND_ROWS;
	t->table_cache = o->table_cache;
	err = bpf_map__set_max_entries(t->skel->maps.unwind_rows,
		o->stacks_fp ? 1 : (t->rows_cap + MS_ROW_CHUNK - 1) >>
				   MS_ROW_CHUNK_SHIFT);
	if (err)
		goto err_skel;
	err = skel_load(t);
	if (err)
		goto err_skel;
	err = walk_progs_set(t);
	if (err)
		goto err_skel;
	/* Before any program is attached: no record says it forked. */
	if (t->hold) {
		err = guard_start(t);
		if (err)
			goto err_skel;
	}
	if (o->set) {
		err = live_open(t);
		if (err)
			goto err_skel;
	}
	if (o->set || o->launch) {
		t->fork_link = bpf_program__attach(t->skel->progs.ms_fork);
		if (!t->fork_link) {
			err = -errno;
			goto err_ring;
		}
	}
	err = ring_open(t);
	if (err)
		goto err_ring;
	if (!o->stacks_fp) {
		err = unwind_open(t, o->pid);
		if (err)
			goto err_ring;
	}
	tick(t);
	/* Before any probe, so every thread slot taken is also given back. */
	t->exit_link = bpf_program__attach(t->skel->progs.ms_thread_exit);
	if (!t->exit_link) {
		err = -errno;
		goto err_ring;
	}
	t->exec_link = bpf_program__attach(t->skel->progs.ms_exec);
	if (!t->exec_link) {
		err = -errno;
		goto err_ring;
	}
	if (bpf_program__autoload(t->skel->progs.ms_prepare_exec)) {
		t->prepare_link =
			bpf_program__attach(t->skel->progs.ms_prepare_exec);
		if (!t->prepare_link) {
			err = -errno;
			goto err_ring;
		}
	}
	err = sys_attach(t);
	if (err)
		goto err_ring;
	t->attach = attach__new(&progs, !o->set ? o->pid :
				t->per_pid ? ATTACH_EACH : ATTACH_ANY,
				o->alloc_only);
	if (!t->attach) {
		err = -ENOMEM;
		goto err_ring;
	}
	return t;

err_ring:
	sys_detach(t);
	bpf_link__destroy(t->exit_link);
	bpf_link__destroy(t->exec_link);
	bpf_link__destroy(t->prepare_link);
	bpf_link__destroy(t->fork_link);
	unwind_close(t);
	ring_close(t);
err_skel:
	guard_stop(t);
	live_close(t);
	memscope_bpf__destroy(t->walk);
	memscope_bpf__destroy(t->skel);
err_free:
	tab_array_fini(&t->work);
	tab_keyed_fini(&t->ended);
	free(t);
	errno = -err;
	return NULL;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	/* Detach before the maps go, so no probe fires into a dying ring. */
	attach__free(t->attach);
	sys_detach(t);
	bpf_link__destroy(t->exit_link);
	bpf_link__destroy(t->exec_link);
	bpf_link__destroy(t->prepare_link);
	bpf_link__destroy(t->fork_link);
	holds_release(t);
	guard_stop(t);
	tab_array_fini(&t->holds);
	tab_array_fini(&t->deferred);
	unwind_close(t);
	ring_close(t);
	live_close(t);
	memscope_bpf__destroy(t->skel);
	tab_array_fini(&t->work);
	tab_keyed_fini(&t->ended);
	free(t);
}

/* Reads the target's executable mappings again and loads new tables. */
static void reload(struct tracer *t)
{
	unwinder__reload(t->unwind);
	t->reloads++;
}

/* Does the kernel hold a thread at an exec or new mapping (-- CMD)? */
static bool launch_holds(const struct tracer *t)
{
	return t->skel->rodata->stop_on_map;
}

/*
 * A process of a traced set: its tables, then its objects' probes (each
 * file once for every process), so that its first records already
 * unwind. A process that maps no allocator not probed yet, or that is
 * gone already, is no error here. The tables of the processes a
 * selection finds at start wait for their first stack (the walker
 * marks them): -a finds every process on the host, and compiling
 * every object's CFI took 40 s and 1M rows here.
 *
 * since_ns: when the process began running what is attached now (its
 * start or exec, a new mapping), 0 when it was not running it unprobed
 * (found at start, or held by the launcher). Probes placed now for what
 * it already ran mean it ran unprobed until now: said to on_late.
 */
static int set_attach(struct tracer *t, int pid, bool tables, __u64 since_ns)
{
	size_t links = attach__nr_links(t->attach);
	struct ms_proc p = {};
	__u32 key = pid;
	__u64 in_ns;
	int err;

	if (t->unwind && tables) {
		unwinder__reload_pid(t->unwind, pid);
		t->reloads++;
	}
	err = attach_known(t, pid);
	/*
	 * When its allocator probes were all in: now if it made new ones;
	 * else when another process's attach made the last of them, which
	 * may be after it began to run the file (two cc1 of a make -j2: the
	 * second, not late by its own attach, had its new blocks counted as
	 * malloc's, each delete a mismatch).
	 */
	in_ns = attach__nr_links(t->attach) > links ? mono_ns() :
						      attach__linked_ns(t->attach);
	/*
	 * Held now (--hold-exec, a mapping made while this attached): the
	 * new probes are for the file it is held at, whose code it has not
	 * run; each new file such a process maps holds it the same way.
	 */
	if (since_ns && t->on_late && in_ns > since_ns && !is_held(t, pid)) {
		/*
		 * The image whose mappings got the new probes: the one after
		 * the attach. A fork's start record sends here a child that
		 * may exec meanwhile; if the maps were read before, they
		 * were its parent's, probed already, and made no new probe.
		 * 0 when gone: every image in the window takes it.
		 */
		if (bpf_map__lookup_elem(t->skel->maps.procs, &key,
					 sizeof(key), &p, sizeof(p), 0))
			p.gen = 0;
		t->on_late(t->ctx, pid, p.gen, since_ns, in_ns - since_ns);
	}
	/*
	 * Gone, a kernel thread, closed to us (/proc/1 in a VM's jail), or a
	 * 32-bit program (ENOEXEC: its facts say so, PROCINFO_FOREIGN).
	 */
	return err == -ENOENT || err == -ESRCH || err == -EPERM ||
	       err == -EACCES || err == -ENOEXEC ? 0 : err;
}

int tracer__set_add(struct tracer *t, int pid)
{
	struct ms_proc p = { .gen = 1 };
	__u32 key = pid;

	if (bpf_map__update_elem(t->skel->maps.procs, &key, sizeof(key), &p,
				 sizeof(p), BPF_NOEXIST)) {
		if (errno == EEXIST)
			return 0;
		if (errno != E2BIG)
			return -errno;
		__atomic_add_fetch(&t->skel->bss->procs_full, 1,
				   __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	return 0;
}

/* Every process in the set now: attached, in the order the map has them. */
static int set_attach_all(struct tracer *t)
{
	struct bpf_map *m = t->skel->maps.procs;
	__u32 key, next, *prev = NULL;
	int err = 0, r;

	while (!bpf_map__get_next_key(m, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		r = set_attach(t, key, !t->scanned, 0);
		if (r && !err)
			err = r;
	}
	return err;
}

/*
 * -a: a file of a table an earlier run kept, probed now where it defines
 * an allocator. That run saw a process run it; when one runs it again
 * (cc1 at each compile, a static binary) its probes are in, where
 * otherwise its first run of each trace joined late, its allocations
 * before its exec's record was drained unseen. Whatever the whole host
 * runs is traced anyway: a probe on a file no process runs costs nothing.
 * A file that cannot be probed is passed over: one a process runs is
 * examined at its exec as any other.
 */
static void probe_kept(void *ctx, const char *path)
{
	struct tracer *t = ctx;

	if (attach__file(t->attach, path, path) > 0)
		t->kept_probed++;
}

int tracer__attach_process(struct tracer *t)
{
	int err;

	/*
	 * A process that joins the set later (an exec of a --comm name, a
	 * fork in the cgroup) runs before its drained record has it
	 * attached: the allocators the tool itself maps (the system's libc)
	 * are probed now, so the usual process is traced from its first
	 * allocation. The tool is never in the set.
	 */
	if (t->set && !t->launch && !t->per_pid) {
		err = attach_known(t, getpid());
		if (err && err != -ENOENT)
			return err;
	}
	if (t->set) {
		err = set_attach_all(t);
		/* Not a drain: the tables of those found now, before ready. */
		if (t->unwind)
			unwinder__flush(t->unwind);
		if (!err && t->unwind && t->skel->rodata->targ_all)
			unwinder__each_preloaded(t->unwind, probe_kept, t);
		return err;
	}
	if (t->unwind)
		reload(t);
	return attach__process(t->attach, t->skel->rodata->targ_tgid);
}

__u64 tracer__released(const struct tracer *t, __u64 *bytes)
{
	*bytes = t->released_bytes;
	return t->released_blocks;
}

__u64 tracer__procs_full(const struct tracer *t)
{
	return __atomic_load_n(&t->skel->bss->procs_full, __ATOMIC_RELAXED);
}

int tracer__root_exit(const struct tracer *t, int *status)
{
	__u64 v = __atomic_load_n(&t->skel->bss->root_exit, __ATOMIC_ACQUIRE);

	if (!(v >> 32))
		return -ENOENT;
	*status = (int)(__u32)v;
	return 0;
}

int tracer__proc_counters(const struct tracer *t, __u32 pid, __u32 gen,
			  struct ms_counters *out)
{
	struct ms_proc p;

	/*
	 * One process: the global counters are its own, until it execs:
	 * then they are its images' together, none's own.
	 */
	if (!t->set) {
		if (pid != t->skel->rodata->targ_tgid ||
		    __atomic_load_n(&t->skel->data->targ_gen,
				    __ATOMIC_RELAXED) > 1)
			return -ENOENT;
		tracer__counters(t, out);
		return 0;
	}
	if (bpf_map__lookup_elem(t->skel->maps.procs, &pid, sizeof(pid), &p,
				 sizeof(p), 0))
		return -ENOENT;
	if (gen && p.gen != gen)
		return -ENOENT;
	*out = p.c;
	return 0;
}

__u32 tracer__image_gen(const struct tracer *t, __u32 pid)
{
	struct ms_proc p;
	__u32 gen;

	if (!t->set) {
		if (pid != t->skel->rodata->targ_tgid)
			return 0;
		gen = __atomic_load_n(&t->skel->data->targ_gen,
				      __ATOMIC_ACQUIRE);
		return ms_image_now(gen,
				    __atomic_load_n(&t->skel->bss->targ_exec_begun,
						    __ATOMIC_ACQUIRE));
	}
	if (bpf_map__lookup_elem(t->skel->maps.procs, &pid, sizeof(pid), &p,
				 sizeof(p), 0) || (p.flags & MS_PROC_EXITED))
		return 0;
	return ms_image_now(p.gen, p.exec_begun);
}

/*
 * A slot of an ended image's block, swapped to a tombstone: its key, and
 * its owner into *owner (read before: once a tombstone, the slot may be
 * taken); else 0.
 */
static __u64 sweep_slot(struct tracer *t, struct live_slot *s, __u32 *owner)
{
	__u64 k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE), size;

	*owner = __atomic_load_n(&s->tag, __ATOMIC_ACQUIRE) >> 32;
	if (k <= LIVE_STATES || !*owner || !tab_keyed_get(&t->ended, *owner))
		return 0;
	size = s->size;
	if (!__atomic_compare_exchange_n(&s->key, &k, LIVE_TOMB, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return 0;
	t->released_blocks++;
	t->released_bytes += size;
	return k;
}

/*
 * The blocks of images that ended (an exit, an exec) leave the kernel's
 * live tables, so they do not fill with dead processes' blocks: one pass
 * over the mapped tables, each of their slots swapped to a tombstone (the
 * BPF side never touches a slot of an owner that is gone). The global
 * counters keep them: over the whole trace, live is what was never
 * freed, at exit or now; the process's own counters said what it left.
 */
static void sweep(struct tracer *t)
{
	__u32 owner;
	__u64 k;
	size_t i;

	for (i = 0; i < t->near_nr; i++)
		sweep_slot(t, &t->near[i], &owner);
	/*
	 * A far key gone lowers its bucket's spill count, as the BPF side's
	 * release does (live_table.h: a count may be high, never low).
	 */
	for (i = 0; i < t->live_nr; i++) {
		k = sweep_slot(t, &t->live[i], &owner);
		if (k)
			__atomic_fetch_sub(&t->spill[ms_near_bucket(
					   ms_live_hkey(k, owner),
					   t->skel->rodata->near_shift)], 1,
					   __ATOMIC_ACQ_REL);
	}
}

/* An exited process's entry goes, unless its pid is already a new one's. */
static void set_forget(struct tracer *t, const struct set_ended *w)
{
	struct bpf_map *m = t->skel->maps.procs;
	struct ms_proc p;
	__u32 key = w->pid;

	if (!bpf_map__lookup_elem(m, &key, sizeof(key), &p, sizeof(p), 0) &&
	    (p.flags & MS_PROC_EXITED) && p.gen == w->gen)
		bpf_map__delete_elem(m, &key, sizeof(key), 0);
	if (t->unwind)
		unwinder__forget(t->unwind, w->pid);
}

/*
 * --hold-exec: pid's files are examined (set_attach: probed where they
 * have an allocator, known from then on), and pid, if held since
 * since_ns, goes on. The hold's key is its tgid: an exec makes the
 * exec'ing thread the leader, and a mapping's hold stops the process.
 */
static void hold_release(struct tracer *t, __u32 pid, __u64 since_ns)
{
	struct held *h;
	__u64 now;
	size_t i;

	if (!is_held(t, pid))
		return;
	/*
	 * Deferred once only: a second entry left after the first let it
	 * go would let go its next hold (a mapping) before the attach.
	 */
	for (i = 0; i < t->deferred.nr; i++)
		if (((struct held *)tab_array_at(&t->deferred, i))->pid == pid)
			return;
	/* Its tables from the worker first (not the drain): full stacks. */
	if (t->unwind && unwinder__waits(t->unwind, pid) &&
	    !tab_array_reserve(&t->deferred, 1)) {
		h = tab_array_push(&t->deferred);
		h->pid = pid;
		h->since_ns = since_ns;
		return;
	}
	bpf_map__delete_elem(t->skel->maps.map_stopped, &pid, sizeof(pid), 0);
	kill(pid, SIGCONT);
	now = mono_ns();
	hold_note(t, since_ns && now > since_ns ? now - since_ns : 0);
}

/* Processes whose executable mappings changed: tables and probes. */
static void set_dirty(struct tracer *t)
{
	struct bpf_map *m = t->skel->maps.maps_dirty;
	__u64 since;
	__u32 key, next;
	bool held;

	while (!bpf_map__get_next_key(m, NULL, &next, sizeof(next))) {
		key = next;
		if (bpf_map__lookup_elem(m, &key, sizeof(key), &since,
					 sizeof(since), 0))
			since = 0;
		bpf_map__delete_elem(m, &key, sizeof(key), 0);
		/*
		 * One --hold-exec stopped did not run what is attached now.
		 * A hold that comes after this look (a mapping the attach
		 * may not see) marks the process again: the next round.
		 */
		held = is_held(t, key);
		set_attach(t, key, true, launch_holds(t) || held ? 0 : since);
		if (held)
			hold_release(t, key, since);
	}
}

static void set_end(struct tracer *t, __u32 pid, __u32 gen, bool exited)
{
	struct set_ended *e;

	if (tab_keyed_get(&t->ended, ms_owner(pid, gen)) ||
	    tab_keyed_reserve(&t->ended)) {
		t->drops += !tab_keyed_get(&t->ended, ms_owner(pid, gen));
		return;
	}
	e = tab_keyed_add(&t->ended, ms_owner(pid, gen));
	e->pid = pid;
	e->gen = gen;
	e->exited = exited;
}

/*
 * An exec's program, when the process was gone before set_dirty() could
 * attach to it (a short command): a program with an allocator of its own
 * (a static build) ran it unprobed, all of it, and nothing would say so;
 * its image had no record. Its file, by the exec's name if that is still
 * it, is probed now (the next run of it is traced from its first
 * allocation), and if that made new probes, the image joined late from
 * its exec on. One that set_dirty() attached made them then: none now.
 * A relative name was the process's working directory's, gone with it:
 * tried in its parent's (a shell running ./prog: the exec record names
 * the parent, as the fork's start record did in an earlier drain or
 * none), taken only if it names that file there too.
 */
static void exec_probe(struct tracer *t, const struct set_work *w)
{
	char path[32], name[sizeof(w->file) + 32], real[PATH_MAX];
	__u32 parent;
	__u64 now;
	int fd, n;

	if (t->launch || t->per_pid || !t->on_late || !w->file[0])
		return;
	/* examined already: by the attach of a process alive to have it */
	if (attach__file_done(t->attach, procmap_user_dev(w->dev), w->ino))
		return;
	parent = w->file[0] == '/' ? 0 : w->parent;
	if (w->file[0] != '/' && !parent)
		return;
	if (parent)
		snprintf(name, sizeof(name), "/proc/%u/cwd/%s", parent,
			 w->file);
	else
		snprintf(name, sizeof(name), "%s", w->file);
	fd = procmap_open_same(name, procmap_user_dev(w->dev), w->ino);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* named as the file is, not as ./prog, in -v and the report */
	n = attach__file(t->attach, path,
			 procmap_fd_path(fd, "/", real, sizeof(real)) ?
			 w->file : real);
	close(fd);
	now = mono_ns();
	/* one --hold-exec stopped at its exec ran none of it */
	if (n > 0 && now > w->ts_ns && !is_held(t, w->pid))
		t->on_late(t->ctx, w->pid, w->gen, w->ts_ns, now - w->ts_ns);
}

/*
 * An exec: the image it ended leaves; one --hold-exec stopped and not
 * let go yet (maps_dirty was full) goes on now.
 */
static void set_exec(struct tracer *t, const struct set_work *w)
{
	/*
	 * The program's table, though the process may be gone before its
	 * maps are read (a short command): the next one to run it unwinds
	 * through it from its first allocation.
	 */
	if (t->unwind)
		unwinder__exec_file(t->unwind, w->pid, w->file, w->dev,
				    w->ino);
	exec_probe(t, w);
	set_end(t, w->pid, w->gen - 1, false);
	if (is_held(t, w->pid)) {
		set_attach(t, w->pid, false, 0);
		hold_release(t, w->pid, w->ts_ns);
	}
}

/*
 * The tables the worker finished go in; a held process whose tables are
 * all in goes on.
 */
static void set_tables(struct tracer *t)
{
	struct held *h, go;
	size_t i = 0;

	if (!t->unwind)
		return;
	unwinder__poll(t->unwind);
	while (i < t->deferred.nr) {
		h = tab_array_at(&t->deferred, i);
		if (unwinder__waits(t->unwind, h->pid)) {
			i++;
			continue;
		}
		/* Out of the array first: hold_release looks there. */
		go = *h;
		*h = *(struct held *)tab_array_at(&t->deferred,
						  t->deferred.nr - 1);
		t->deferred.nr--;
		hold_release(t, go.pid, go.since_ns);
	}
}

/* What the drained records of the set ask for. */
static void set_follow(struct tracer *t)
{
	const struct set_work *w;
	__u64 now;
	size_t i;

	/*
	 * The exits first: the tables they held may go for room for the
	 * maps read next (a short command's, before the next one's load).
	 */
	for (i = 0; t->unwind && i < t->work.nr; i++) {
		w = tab_array_at(&t->work, i);
		/*
		 * And in the records' order, each exec's program, for the
		 * maps reads below, which then know it without auxv (an exit
		 * after it forgets it).
		 */
		if (w->type == MS_EV_PROC_EXEC)
			unwinder__exec_note(t->unwind, w->pid, w->dev, w->ino);
		else if (w->type != MS_EV_PROC_START)
			unwinder__gone(t->unwind, w->pid);
	}
	set_tables(t);
	set_dirty(t);
	for (i = 0; i < t->work.nr; i++) {
		w = tab_array_at(&t->work, i);
		if (w->type == MS_EV_PROC_START)
			set_attach(t, w->pid, true, launch_holds(t) ? 0 : w->ts_ns);
		else if (w->type == MS_EV_PROC_EXEC)
			set_exec(t, w);
		else
			set_end(t, w->pid, w->gen, true);
	}
	t->work.nr = 0;
	now = mono_ns();
	if (!tab_keyed_nr(&t->ended) || now - t->last_sweep_ns < SWEEP_INTERVAL_NS)
		return;
	t->last_sweep_ns = now;
	sweep(t);
	for (i = 0; i < tab_keyed_nr(&t->ended); i++) {
		const struct set_ended *e = tab_keyed_at(&t->ended, i);

		if (e->exited)
			set_forget(t, e);
	}
	while (tab_keyed_nr(&t->ended))
		tab_keyed_delete(&t->ended, tab_keyed_at(&t->ended, 0));
}

int tracer__attach_command(struct tracer *t, const char *path)
{
	return attach__command(t->attach, path);
}

const char *tracer__error(const struct tracer *t)
{
	return attach__error(t->attach);
}

void tracer__start(struct tracer *t)
{
	__atomic_store_n(&t->skel->bss->trace_state, MS_TRACE_ON,
			 __ATOMIC_RELEASE);
}

void tracer__detach(struct tracer *t)
{
	size_t i;

	/* For every probe at once, before the first link goes. */
	__atomic_store_n(&t->skel->bss->trace_state, MS_TRACE_ENDED,
			 __ATOMIC_RELEASE);
	attach__detach(t->attach);
	sys_detach(t);
	/*
	 * Nor a thread stopped at a new mapping: a launched command is let
	 * go next, and a SIGSTOP sent after that would stop it for good.
	 */
	for (i = 0; i < sizeof(t->map_links) / sizeof(t->map_links[0]); i++) {
		bpf_link__destroy(t->map_links[i]);
		t->map_links[i] = NULL;
	}
	bpf_link__destroy(t->exec_link);
	t->exec_link = NULL;
	bpf_link__destroy(t->prepare_link);
	t->prepare_link = NULL;
	/* No exec is held from here: those held go on. */
	holds_release(t);
}

int tracer__fd(const struct tracer *t)
{
	return ring_buffer__epoll_fd(t->wake);
}

/*
 * -p's execs, after the drain: each program examined, as set_exec() does,
 * for the drains after this one. An image that exec'd the next before its
 * maps were read is named from the mappings the kernel walked, by the
 * paths of the files the unwinder examined; when its stacks came in a
 * later drain than its exec record, its program was unknown by then and
 * its frames in it named after nothing (exec_chain_names under ASan: 15
 * runs in 30).
 */
static void exec_files(struct tracer *t)
{
	const struct set_work *w;
	size_t i;

	for (i = 0; t->unwind && i < t->work.nr; i++) {
		w = tab_array_at(&t->work, i);
		unwinder__exec_file(t->unwind, w->pid, w->file, w->dev,
				    w->ino);
	}
	t->work.nr = 0;
}

int tracer__drain(struct tracer *t)
{
	int n;

	tick(t);
	ring_buffer__consume(t->wake);
	/* Cleared before the drain: a producer filling it meanwhile wakes us. */
	__atomic_store_n(&t->skel->bss->wake_sent, 0, __ATOMIC_RELEASE);
	n = ms_ring__consume(t->ring, ring_sample, t);
	/* A corrupt header cost at least the record it began. */
	if (n < 0) {
		t->drops++;
		n = 0;
	}
	if (t->set) {
		set_follow(t);
		return n;
	}
	exec_files(t);
	/* New code in the target: its tables, before more stacks reach it. */
	if (t->unwind && unwinder__stale(t->unwind))
		reload(t);
	return n;
}

int tracer__image_vmas(struct tracer *t, __u32 pid, __u32 gen,
		       int (*fn)(void *ctx, const struct procmap *m),
		       void *ctx)
{
	const struct set_work *w;
	size_t i;

	if (!t->unwind)
		return -ENOENT;
	/*
	 * The image's program, when this drain holds its exec: set_exec()
	 * examines it after the drain, and the unwinder knows a mapping's
	 * path from the files it examined (the first sh -c 'exec env true'
	 * of a trace, named when it ended, had its frames in dash unnamed).
	 */
	for (i = 0; i < t->work.nr; i++) {
		w = tab_array_at(&t->work, i);
		if (w->type == MS_EV_PROC_EXEC && w->pid == pid &&
		    w->gen == gen)
			unwinder__exec_file(t->unwind, w->pid, w->file, w->dev,
					    w->ino);
	}
	return unwinder__image_vmas(t->unwind, pid, gen, fn, ctx);
}

__u64 tracer__reloads(const struct tracer *t)
{
	return t->reloads;
}

void tracer__counters(const struct tracer *t, struct ms_counters *out)
{
	const typeof(t->skel->bss->rare) *rare = &t->skel->bss->rare;

	/* .bss is mmapped: a racy but tear-free read of each counter. */
	memcpy(out, (const void *)&t->skel->bss->counters, sizeof(*out));
	stack_stops_sum(t, out);
	/* What the hot paths leave to be derived (bpf/memscope.bpf.c). */
	out->allocs = out->seq;
	if (t->alloc_only) {
		out->live_blocks = 0;
		out->free_bytes = 0;
		return;
	}
	out->live_blocks = out->seq - out->live_full - out->frees -
			   rare->replaced_blocks;
	out->free_bytes = out->alloc_bytes - out->live_bytes -
			  rare->full_bytes - rare->replaced_bytes;
}

__u64 tracer__drops(const struct tracer *t)
{
	return t->drops;
}

const struct attach_probe *tracer__probes(const struct tracer *t, size_t *nr)
{
	return attach__probes(t->attach, nr);
}

void tracer__print_probes(const struct tracer *t)
{
	attach__print_probes(t->attach, stderr, "memscope-bpf");
	if (!t->alloc_only)
		fprintf(stderr, "memscope-bpf: mmap, munmap, mremap, brk: %s\n",
			t->sys_raw ? "at the raw sys_exit tracepoint (no tracefs): a program run at every syscall exit of the host" :
			"at their own exit tracepoints (syscalls/sys_exit_*)");
}

bool tracer__map_stop(struct tracer *t, int tid, int *pid)
{
	struct bpf_map *m = t->skel->maps.map_stopped;
	__u32 key = tid, tgid;

	/* Ours only if the BPF side marked the thread before stopping it. */
	if (!t->unwind ||
	    bpf_map__lookup_elem(m, &key, sizeof(key), &tgid, sizeof(tgid), 0))
		return false;
	/*
	 * A process of a set: its tables and any allocator it maps now (an
	 * exec'd static binary, an LD_PRELOAD'd or dlopen'd allocator) are
	 * in before the thread runs on.
	 */
	if (t->set)
		set_attach(t, tgid, true, 0);
	else
		reload(t);
	bpf_map__delete_elem(m, &key, sizeof(key), 0);
	*pid = tgid;
	return true;
}

void tracer__print_unwind(const struct tracer *t)
{
	struct bpf_map *memo = t->skel->maps.memo;
	struct bpf_map *cache = t->skel->maps.walk_cache;
	int ncpu = libbpf_num_possible_cpus();
	struct unwinder_stats st;
	__u64 memo_bytes;

	if (!t->unwind) {
		fprintf(stderr, "memscope-bpf: stacks by frame pointers (--stacks fp): no unwind tables\n");
		return;
	}

	unwinder__print(t->unwind, stderr, "memscope-bpf");
	unwinder__stats(t->unwind, &st);
	memo_bytes = ((__u64)bpf_map__max_entries(memo) *
		      bpf_map__value_size(memo) +
		      (__u64)bpf_map__max_entries(cache) *
		      bpf_map__value_size(cache)) * (ncpu > 0 ? ncpu : 1);
	fprintf(stderr,
		"memscope-bpf: unwind tables: %u objects, %u of %u rows used, %llu KiB of kernel memory (rows, objects, maps, files, mappings for names), %llu KiB of per-CPU rule memo and walk caches\n",
		st.objects, st.rows, st.rows_cap,
		(unsigned long long)st.kernel_bytes / 1024,
		(unsigned long long)memo_bytes / 1024);
	if (st.released)
		fprintf(stderr,
			"memscope-bpf: unwind tables: %u released for room, no traced process mapping them any more\n",
			st.released);
	if (st.given_up)
		fprintf(stderr,
			"memscope-bpf: unwind tables: %u compile%s given up, the processes mapping them having ended\n",
			st.given_up, st.given_up == 1 ? "" : "s");
	if (st.preloaded)
		fprintf(stderr,
			"memscope-bpf: unwind tables: %u kept from earlier runs loaded at the start (%u rows); %u of their files define an allocator, probed at the start (-a)\n",
			st.preloaded, st.preload_rows, t->kept_probed);
	if (t->table_cache) {
		struct table_cache_stats cs;

		table_cache__stats(t->table_cache, &cs);
		fprintf(stderr,
			"memscope-bpf: table cache: %u tables read, %u written, %u of another build of the tool, %u damaged (removed), %u removed for room\n",
			cs.read, cs.written, cs.other_build, cs.damaged,
			cs.evicted);
	}
}

__u32 tracer__unwind_full(const struct tracer *t, __u32 *rows_cap)
{
	struct unwinder_stats st;

	if (!t->unwind)
		return 0;
	unwinder__stats(t->unwind, &st);
	*rows_cap = st.rows_cap;
	return st.no_table;
}

const char *tracer__warning(const struct tracer *t, unsigned int *nr)
{
	return attach__warning(t->attach, nr);
}

const char *tracer__own_skipped(const struct tracer *t)
{
	return attach__own_skipped(t->attach);
}
