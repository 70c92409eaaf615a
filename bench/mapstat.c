// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * How full memscope-bpf's per-address and per-thread kernel tables are,
 * for the soak (bench/soak.py): reads the maps of one running tool by
 * their ids, as /proc/PID/fdinfo lists them, without stopping it.
 *
 *   mapstat ID...
 *
 * Prints one line per map it knows:
 *   live SLOTS LIVE TOMBS BUSY EMPTY    the live table (bpf/live_table.h)
 *   threads SLOTS USED                  thread slots with an owner
 *   lost N                              the kernel's lost events (.bss)
 * and nothing for other maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <stddef.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "events.h"

/*
 * Calls count(value) for every element of the array map fd, one lookup
 * each: the batch lookup returned zeroed values for these arrays here.
 */
static int walk(int fd, const struct bpf_map_info *info,
		void (*count)(const void *v, __u64 *c), __u64 *c)
{
	void *val = calloc(1, info->value_size);
	__u32 k;
	int err = 0;

	if (!val)
		return -ENOMEM;
	for (k = 0; k < info->max_entries; k++) {
		if (bpf_map_lookup_elem(fd, &k, val)) {
			err = -errno;
			break;
		}
		count(val, c);
	}
	free(val);
	return err;
}

static void count_live(const void *v, __u64 *c)
{
	__u64 key;

	memcpy(&key, v, sizeof(key));
	c[key <= LIVE_STATES ? key : LIVE_STATES + 1]++;
}

static void count_threads(const void *v, __u64 *c)
{
	__u32 tid;

	memcpy(&tid, v, sizeof(tid));
	c[0] += tid != 0;
}

/*
 * counters.lost_events of a .bss map: where the variable sits comes from
 * the map's BTF (its DATASEC), as the skeleton found it.
 */
static int print_lost(int fd, const struct bpf_map_info *info)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct ms_counters c;
	struct btf *btf;
	__u32 key = 0, i;
	char *val = NULL;
	int err = -ENOENT;

	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return -errno;
	sec = btf__type_by_id(btf, info->btf_value_type_id);
	if (!sec || !btf_is_datasec(sec))
		goto out;
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), "counters") ||
		    vs->offset + sizeof(c) > info->value_size)
			continue;
		val = calloc(1, info->value_size);
		if (!val) {
			err = -ENOMEM;
			goto out;
		}
		if (bpf_map_lookup_elem(fd, &key, val)) {
			err = -errno;
			goto out;
		}
		memcpy(&c, val + vs->offset, sizeof(c));
		printf("lost %llu\n", (unsigned long long)c.lost_events);
		err = 0;
		break;
	}
out:
	free(val);
	btf__free(btf);
	return err;
}

int main(int argc, char **argv)
{
	struct bpf_map_info info;
	__u32 len;
	__u64 c[LIVE_STATES + 2];
	int i, fd, err;

	if (argc < 2) {
		fprintf(stderr, "usage: mapstat ID...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		fd = bpf_map_get_fd_by_id(strtoul(argv[i], NULL, 10));
		if (fd < 0) {
			fprintf(stderr, "mapstat: map %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		memset(c, 0, sizeof(c));
		if (!err && !strcmp(info.name, "live") && info.value_size >= 8) {
			err = walk(fd, &info, count_live, c);
			if (!err)
				printf("live %u %llu %llu %llu %llu\n",
				       info.max_entries,
				       (unsigned long long)c[LIVE_STATES + 1],
				       (unsigned long long)c[LIVE_TOMB] +
				       c[LIVE_RECL],
				       (unsigned long long)c[LIVE_BUSY],
				       (unsigned long long)c[LIVE_EMPTY]);
		} else if (!err && strstr(info.name, ".bss") && info.btf_id) {
			err = print_lost(fd, &info);
		} else if (!err && !strcmp(info.name, "threads") &&
			   info.value_size >= 4) {
			err = walk(fd, &info, count_threads, c);
			if (!err)
				printf("threads %u %llu\n", info.max_entries,
				       (unsigned long long)c[0]);
		}
		close(fd);
		if (err) {
			fprintf(stderr, "mapstat: map %s: %s\n", argv[i],
				strerror(err < 0 ? -err : errno));
			return 1;
		}
	}
	return 0;
}
