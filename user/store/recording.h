/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Recordings (.msr): the event stream of one trace, and what is needed to
 * report on it again after the target is gone.
 *
 * A file is a prelude (magic, format version, byte-order mark), then
 * frames. Each frame is a type, its raw and compressed lengths and a CRC32
 * of all of that and the zlib-compressed payload, so damage is found, and
 * everything before it kept, frame by frame:
 *
 *   HEADER   once, first: tool version, pid, command, mode, --top and the
 *            inference rules the run used (the replay's defaults), start times
 *   EVENTS   raw struct ms_event records, each ms_event_len() bytes
 *   SYMBOLS  (5: the process image they are of, then) resolved frames of
 *            the stacks' addresses, each address once per image
 *            with all its frames (inlined calls first, see frame.h):
 *            written as new stacks appear, and the rest at the end
 *   PROCINFO (5) a process's facts (procinfo) where the run learnt them,
 *            among the records: the replay hands them on at that point,
 *            so it numbers the images as the run did
 *   SNAPSHOT (6) a moment of the trace (-i): its time, the records before
 *            it and the lost counts then; a replay that reaches it has the
 *            process table the live run had, so it takes the same snapshot
 *            of every image
 *   SCAN     (7) a heap scan (--reachability) of one process image,
 *            among the records where it was taken: its image, the pause,
 *            the totals and how many entries of each list follow
 *   SCAN_PART (7) right after its SCAN, as many as it takes: entries of
 *            one list of the scan, in order: each block's class by
 *            address, the cycle groups, their members, the links, the
 *            clone groups; a replay hands the scan on once it is whole
 *   PROCS    (5) once, before the trailer: each process image's facts
 *            and kernel counters, by image number
 *   TRAILER  once, last: kernel counters, probes, how the target ended,
 *            (7) the processes a traced set could not take
 *
 * The writer appends to FILE.partial and renames it to FILE only once the
 * trailer is on disk: the destination never holds half a recording, while
 * a tool that is killed leaves FILE.partial, a valid recording up to its
 * last frame, which the reader reports as cut short.
 */
#ifndef MEMSCOPE_RECORDING_H
#define MEMSCOPE_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "events.h"
#include "attach.h"
#include "frame.h"
#include "heaproots.h"
#include "mode.h"
#include "procinfo.h"
#include "procs.h"
#include "scan.h"
#include "store.h"

/*
 * 3: a symbol is every frame of its address (inlined calls expanded),
 * records carry why their stack ended (flags), up to 256 frames, and the
 * trailer's kernel counters count the stops by reason.
 * 4: anonymous-memory records (MS_EV_MMAP..MS_EV_BRK, MS_EVF_ARENA). A
 * version 3 file reads as it is: it holds none, and its reports say
 * anonymous memory was not traced.
 * 5: the records of a traced set of processes (MS_EV_PROC_*), symbols by
 * process image (an exec maps other objects at the same addresses), and
 * the images' facts and kernel counters. A version 4 or 3 file is one
 * process, image 0.
 * 6: snapshot frames (-i). Older files have none and read as they are.
 * 7: heap scan frames (--reachability), and the trailer ends with the
 * processes --max-procs left out of a traced set, and the bound. Older
 * files have no scans (their reports have no classes) and read as none
 * left out.
 * 8: an image's facts (procinfo) may say it joined late (PROCINFO_LATE),
 * followed by how late. Older files have no such flag.
 * 9: ... and when that ended (late_end_ns). A file of format 8 leaves it
 * 0: its suspect frees are judged as they were.
 * 10: an MS_EV_MMAP carries its protection (MS_MMAP_PROT_KNOWN), and
 * MS_EV_MPROTECT records move pages between live and reserved. Older
 * files' mappings read as accessible, and their reports say how many.
 * 11: the header ends with the live run's --fold. Older files' runs
 * folded nothing: they read as --fold 0.
 */
#define RECORDING_VERSION	11
/*
 * 4: allocator records carry their family and allocator (ms_event.aux,
 * MS_TAG_*), new enum ms_fn values, and suspect frees their stack; runs
 * trace anonymous memory (MS_EV_MMAP...). A version 3 file has the same
 * layout, its records all of the C API and no anonymous memory, so it is
 * read as it is. The oldest version this reader takes:
 */
#define RECORDING_VERSION_MIN	3
/* The first version whose runs traced anonymous memory. */
#define RECORDING_VERSION_ANON	4
/* The first version with process images. */
#define RECORDING_VERSION_PROCS	5
/* The first version that may hold snapshots. */
#define RECORDING_VERSION_SNAPSHOTS	6
/* The first version that may hold heap scans. */
#define RECORDING_VERSION_SCANS	7
/* The first version whose trailer counts the processes left out. */
#define RECORDING_VERSION_PROCS_FULL	7
/* The first version whose late images say when they stopped being late. */
#define RECORDING_VERSION_LATE_END	9
/* The first version whose header says the run's --fold. */
#define RECORDING_VERSION_FOLD	11
/*
 * The header holds this many options of the inference rules, in the order
 * of the rules' table (user/rules/rules.h). A rule that adds options
 * changes the header: raise both.
 */
#define RECORDING_RULE_OPTS	3
#define RECORDING_PARTIAL	".partial"

/* The caller flushes at least this often: what a killed tool can lose. */
#define RECORDING_FLUSH_NS	100000000ULL

/*
 * Limits on every length in a file. The writer stays inside them; the
 * reader calls a file outside them damaged rather than allocate for it.
 */
/* Payload bytes of one frame. */
#define REC_FRAME_RAW_MAX	(4u << 20)
/* An events frame is written once it holds this much. */
#define REC_EVENTS_FRAME	(256u << 10)
/* A name, path or command line; longer ones are cut when recording. */
#define REC_STR_MAX		(512u << 10)
/*
 * Resolved frames (an address has one, and one more per call inlined
 * there), and the bytes of all their entries.
 */
#define REC_SYMBOLS_MAX		(1u << 22)
#define REC_SYMBOL_BYTES_MAX	(256u << 20)
#define REC_PROBES_MAX		65536
/* Entries of one list of a heap scan (verdicts: one per live block). */
#define REC_SCAN_ITEMS_MAX	(1u << 28)

/* What the header says; strings may be NULL where noted. */
struct recording_info {
	__u32 version;		/* the file's format version; a live run:
				 * RECORDING_VERSION */
	const char *tool_version;
	int pid;
	const char *command;	/* NULL: attached with -p */
	enum trace_mode mode;
	__u32 top;		/* the live run's --top, the replay's default */
	__u32 fold;		/* the live run's --fold, the replay's default */
	/* The live run's rules' options, the replay's defaults (0: theirs). */
	__u64 rule_opts[RECORDING_RULE_OPTS];
	__u64 wall_ns;		/* CLOCK_REALTIME when tracing began */
	__u64 start_ns;		/* CLOCK_MONOTONIC when tracing began */
};

/* What the trailer says: everything known only once tracing stopped. */
struct recording_end {
	struct ms_counters kernel;
	__u64 end_ns;		/* CLOCK_MONOTONIC when tracing stopped */
	__u64 consumer_drops;
	bool exited;
	int exit_status;
	bool status_unknown;	/* exited, its status not known */
	/* a launched command still running when tracing ended: */
	bool detached;		/* left running, detached */
	bool killed;		/* ended by --kill (exited too) */
	/* processes a traced set could not take: --max-procs was reached */
	__u64 procs_full;
	__u64 max_procs;	/* the bound, --max-procs */
	const struct attach_probe *probes;
	size_t nr_probes;
};

/* A snapshot's moment in the record stream. */
struct recording_snapshot {
	__u64 ts_ns;		/* CLOCK_MONOTONIC when it was taken */
	__u64 records;		/* records before it in the file */
	__u64 lost_events;	/* the kernel's count then */
	__u64 consumer_drops;	/* records userspace could not take by then */
};

/* A heap scan of one process image, as taken: what a report shows of it. */
struct recording_scan {
	__u32 image;
	struct heaproots_info pause;
	struct heapscan_result res;
};

/* Writing. */
struct recorder;

/*
 * Creates PATH.partial (EEXIST: another recording in progress, or one a
 * killed run left). A PATH that exists and is not a regular file (a FIFO,
 * /dev/fd/N) is written in place instead. NULL with errno set.
 */
struct recorder *recorder__new(const char *path);
/* Writes the prelude and the header. 0 or -errno. */
int recorder__start(struct recorder *w, const struct recording_info *info);
/*
 * Appends one record, writing a frame when it is full. Errors stick: the
 * first one is returned from here on, and from recorder__finish.
 */
int recorder__add(struct recorder *w, const struct ms_event *e);
/*
 * Writes the records added so far, then a snapshot frame (records is
 * filled in here). 0 or -errno, which sticks.
 */
int recorder__snapshot(struct recorder *w, const struct recording_snapshot *s);
/*
 * Writes the records added so far, then the scan, in as many frames as it
 * takes. 0 or -errno, which sticks.
 */
int recorder__scan(struct recorder *w, const struct recording_scan *s);
/*
 * After the records added so far: a process's facts (procs__set_info()),
 * which the replay hands on at this point. Errors stick.
 */
int recorder__info(struct recorder *w, const struct procinfo *info);
/* Writes the records added since the last frame, if any. 0 or -errno. */
int recorder__flush(struct recorder *w);
/*
 * Flushes, then writes the symbols of the addresses (new stacks' frames)
 * not written yet, resolved through resolve now, while the target is
 * alive: a recording cut short still symbolizes what it holds.
 */
int recorder__symbols(struct recorder *w, __u32 image, const __u64 *addrs,
		      size_t nr, frame_resolve_fn resolve, void *ctx);
/*
 * Writes the last records, the symbols of every address in each image's
 * stacks (through resolve with image_ctx(resolve_ctx, image), or
 * resolve_ctx when image_ctx is NULL, while it can still resolve them),
 * the images' facts and the trailer, then syncs and renames. 0 or
 * -errno; frees w either way, and on error removes PATH.partial.
 */
int recorder__finish(struct recorder *w, struct procs *pt,
		     frame_resolve_fn resolve,
		     void *(*image_ctx)(void *ctx, size_t image),
		     void *resolve_ctx, const struct recording_end *end);
/* Abandons an unfinished recording: PATH.partial is removed. */
void recorder__free(struct recorder *w);

/* Reading. */
struct recording;

typedef int (*recording_event_fn)(void *ctx, const struct ms_event *e);
typedef int (*recording_info_fn)(void *ctx, const struct procinfo *info);

/* Where the damage is, and how much was read before it. */
struct recording_damage {
	__u64 offset;		/* byte of the file where it begins */
	__u64 records;		/* records delivered before it */
	const char *what;
};

/*
 * Reads from f, which it owns from then on (free closes it). NULL with
 * errno set, f still the caller's.
 */
struct recording *recording__new(FILE *f);
void recording__free(struct recording *r);

/*
 * Reads the prelude and the header. 0, or -EINVAL (not a recording),
 * -EPROTONOSUPPORT (another format version or record layout), -EBADMSG
 * (damaged or cut before the header ends), -errno; recording__error()
 * says what, in one line.
 */
int recording__read_header(struct recording *r);
const char *recording__error(const struct recording *r);
const struct recording_info *recording__info(const struct recording *r);

typedef int (*recording_snapshot_fn)(void *ctx,
				     const struct recording_snapshot *s);

/*
 * Has recording__replay call fn at each snapshot, after the records
 * before it; its non-zero return stops the replay. Without it snapshots
 * are checked and skipped.
 */
void recording__on_snapshot(struct recording *r, recording_snapshot_fn fn,
			    void *ctx);

typedef int (*recording_scan_fn)(void *ctx, const struct recording_scan *s);

/*
 * Has recording__replay call fn with each heap scan once all its frames
 * are read, after the records before it (the scan's arrays are the
 * reader's, gone when fn returns); its non-zero return stops the replay.
 * Without it scans are checked and skipped.
 */
void recording__on_scan(struct recording *r, recording_scan_fn fn,
			void *ctx);

/*
 * Delivers the records of every frame, in order, and keeps the symbols
 * and the trailer. A frame's records are delivered only once the whole
 * frame checked out. 0 when the file is whole; -EBADMSG when it is
 * damaged or cut short (recording__damage() says where, and everything
 * before it was delivered); a callback's non-zero return, or -errno.
 */
int recording__replay(struct recording *r, recording_event_fn fn, void *ctx);
const struct recording_damage *recording__damage(const struct recording *r);
/*
 * The replay hands each recorded procinfo, in its place among the
 * records, to fn with the replay's ctx; without fn they are skipped.
 */
void recording__on_info(struct recording *r, recording_info_fn fn);

/* The trailer; NULL when the file has none. */
const struct recording_end *recording__end(const struct recording *r);

/*
 * A frame_resolve_fn (ctx: the recording) answering from the recorded
 * symbols of the image recording__image_ctx() named last (0 at first);
 * an address without any resolves to nothing but itself.
 */
unsigned recording__resolve(void *ctx, __u64 addr, const struct frame **out);
/* The image the next recording__resolve() answers for; returns ctx. */
void *recording__image_ctx(void *ctx, size_t image);

/* What a version 5 file says of each process image, by image number. */
struct recording_proc {
	struct procinfo info;
	bool have_info;
	bool have_kernel;
	struct ms_counters kernel;
};

/* The images' facts read by the replay; none before version 5. */
const struct recording_proc *recording__procs(const struct recording *r,
					      size_t *nr);

#endif /* MEMSCOPE_RECORDING_H */
