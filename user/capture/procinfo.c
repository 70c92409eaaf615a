// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"
#include "procinfo_read.h"

/* Bytes of /proc/PID/stat and status read: both are far shorter. */
#define PROC_FILE_MAX	4096

/*
 * stat: "pid (comm) state ppid ..." where comm may hold spaces and
 * parentheses: the fields start after the last ')'. Field 22 is the
 * start time in clock ticks since boot.
 */
int procinfo_parse_stat(const char *buf, size_t len, __u64 ticks_per_sec,
			struct procinfo *out)
{
	const char *open, *close = NULL, *p, *end = buf + len;
	unsigned long long v;
	size_t comm_len;
	char *e;
	int field;

	open = memchr(buf, '(', len);
	for (p = buf; p < end; p++)
		if (*p == ')')
			close = p;
	if (!open || !close || close < open || !ticks_per_sec)
		return -EINVAL;
	comm_len = close - open - 1;
	if (comm_len >= PROCINFO_COMM)
		comm_len = PROCINFO_COMM - 1;
	memcpy(out->comm, open + 1, comm_len);
	out->comm[comm_len] = 0;
	/* Field 3 (state) starts two bytes after ')'. */
	p = close + 1;
	for (field = 3; field <= 22; field++) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			return -EINVAL;
		if (field == 4 || field == 22) {
			char num[24];
			size_t n = 0;

			while (p + n < end && n < sizeof(num) - 1 &&
			       p[n] >= '0' && p[n] <= '9')
				n++;
			memcpy(num, p, n);
			num[n] = 0;
			errno = 0;
			v = strtoull(num, &e, 10);
			if (!n || *e || errno)
				return -EINVAL;
			if (field == 4)
				out->ppid = v > 0xffffffffull ? 0 : v;
			else
				out->start_ns = v / ticks_per_sec * 1000000000ull +
					v % ticks_per_sec * 1000000000ull /
					ticks_per_sec;
		}
		while (p < end && *p != ' ')
			p++;
	}
	return 0;
}

/*
 * The value of /proc/PID/status's line key ("NSpid:"): its start, and
 * *nl its end. NULL when no line has that key.
 */
static const char *status_line(const char *buf, size_t len, const char *key,
			       const char **nl)
{
	const char *p = buf, *end = buf + len;
	size_t n = strlen(key);

	for (; p < end; p = *nl + 1) {
		*nl = memchr(p, '\n', end - p);
		if (!*nl)
			*nl = end;
		if ((size_t)(*nl - p) >= n && !memcmp(p, key, n))
			return p + n;
	}
	return NULL;
}

/* A line of one decimal number up to 2^32-1 ("Tgid:", "TracerPid:"). */
static int status_u32(const char *buf, size_t len, const char *key, __u32 *out)
{
	unsigned long long v = 0;
	const char *p, *nl;
	size_t n = 0;

	p = status_line(buf, len, key, &nl);
	if (!p)
		return -EINVAL;
	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < nl && *p >= '0' && *p <= '9' && n < 11; p++, n++)
		v = v * 10 + (*p - '0');
	if (!n || p != nl || v > 0xffffffffull)
		return -EINVAL;
	*out = v;
	return 0;
}

int procinfo_parse_tgid(const char *buf, size_t len, __u32 *tgid)
{
	__u32 v;

	if (status_u32(buf, len, "Tgid:", &v) || !v)
		return -EINVAL;
	*tgid = v;
	return 0;
}

int procinfo_parse_tracer(const char *buf, size_t len, __u32 *tracer)
{
	return status_u32(buf, len, "TracerPid:", tracer);
}

int procinfo_parse_status(const char *buf, size_t len, struct procinfo *out)
{
	unsigned long long v, last = 0;
	const char *p, *nl;
	char num[24];
	size_t n;

	p = status_line(buf, len, "NSpid:", &nl);
	if (!p)
		return 0;
	/* NSpid: host ... innermost: the last number is its own. */
	while (p < nl) {
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		for (n = 0; p + n < nl && n < sizeof(num) - 1 &&
		     p[n] >= '0' && p[n] <= '9'; n++)
			;
		if (!n)
			break;
		memcpy(num, p, n);
		num[n] = 0;
		v = strtoull(num, NULL, 10);
		if (v > 0xffffffffull)
			return -EINVAL;
		last = v;
		p += n;
	}
	out->ns_pid = last == out->pid ? 0 : last;
	return 0;
}

void procinfo_parse_cmdline(const char *buf, size_t len,
			    struct procinfo *out)
{
	size_t i, n = 0;

	/* A trailing NUL ends the last argument, not another one. */
	if (len && !buf[len - 1])
		len--;
	for (i = 0; i < len && n < PROCINFO_COMMAND - 1; i++) {
		char c = buf[i];

		/* Arguments joined by spaces; control bytes shown as '?'. */
		if (!c)
			c = ' ';
		else if ((unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		out->command[n++] = c;
	}
	out->command[n] = 0;
	if (i < len)
		out->flags |= PROCINFO_CUT;
}

static ssize_t read_file(int pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	return n < 0 ? -errno : n;
}

int procinfo_read(int pid, __u32 flags, struct procinfo *out)
{
	char buf[PROC_FILE_MAX], kind[64];
	long ticks = sysconf(_SC_CLK_TCK);
	ssize_t n;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->flags = flags;
	n = read_file(pid, "stat", buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH || n == 0) {
		out->flags |= PROCINFO_GONE;
		return 0;
	}
	if (n < 0)
		return n;
	if (procinfo_parse_stat(buf, n, ticks > 0 ? ticks : 100, out))
		return -EINVAL;
	n = read_file(pid, "status", buf, sizeof(buf));
	if (n > 0 && procinfo_parse_status(buf, n, out))
		return -EINVAL;
	/* One byte more than kept tells a cut line from one that fits. */
	n = read_file(pid, "cmdline", buf, PROCINFO_COMMAND + 1);
	if (n > 0)
		procinfo_parse_cmdline(buf, n, out);
	/* What it runs, which the attach refuses when the tool cannot. */
	n = read_file(pid, "exe", buf, ELF_IDENT_LEN);
	if (n > 0 && elf_ident_foreign((unsigned char *)buf, n, kind,
				       sizeof(kind)))
		out->flags |= PROCINFO_FOREIGN;
	return 0;
}

int procinfo_parse_state(const char *buf, size_t len, char *state)
{
	const char *p, *nl;

	p = status_line(buf, len, "State:", &nl);
	if (!p)
		return -EINVAL;
	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	if (p == nl || *p < 'A' || *p > 'z')
		return -EINVAL;
	*state = *p;
	return 0;
}

int procinfo_read_task(int pid, __u32 *tgid, char *state, __u32 *tracer)
{
	char buf[PROC_FILE_MAX];
	ssize_t n = read_file(pid, "status", buf, sizeof(buf));

	if (n < 0)
		return n;
	if (tgid && procinfo_parse_tgid(buf, n, tgid))
		return -EINVAL;
	if (tracer && procinfo_parse_tracer(buf, n, tracer))
		return -EINVAL;
	return state ? procinfo_parse_state(buf, n, state) : 0;
}

int procinfo_read_ident(int pid, __u32 *ns_pid, __u64 *start_ns)
{
	struct procinfo pi = { .pid = pid };
	long ticks = sysconf(_SC_CLK_TCK);
	char buf[PROC_FILE_MAX];
	ssize_t n = read_file(pid, "status", buf, sizeof(buf));

	if (n < 0)
		return n;
	if (procinfo_parse_status(buf, n, &pi))
		return -EINVAL;
	n = read_file(pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return n;
	if (procinfo_parse_stat(buf, n, ticks > 0 ? ticks : 100, &pi))
		return -EINVAL;
	*ns_pid = pi.ns_pid ? pi.ns_pid : (__u32)pid;
	*start_ns = pi.start_ns;
	return 0;
}

int procinfo_parse_auxv(const void *buf, size_t len, __u64 *entry,
			__u64 *interp)
{
	const unsigned char *p = buf;
	bool found = false;
	__u64 kv[2];
	size_t i;

	*entry = 0;
	*interp = 0;
	for (i = 0; i + sizeof(kv) <= len; i += sizeof(kv)) {
		memcpy(kv, p + i, sizeof(kv));
		if (kv[0] == AT_NULL)
			break;
		if (kv[0] == AT_ENTRY) {
			*entry = kv[1];
			found = true;
		} else if (kv[0] == AT_BASE) {
			*interp = kv[1];
		}
	}
	return found ? 0 : -EINVAL;
}

int procinfo_read_entry(int pid, __u64 *entry, __u64 *interp)
{
	/* ~25 pairs on Linux 6.x; a full page is room to spare */
	__u64 buf[512];
	ssize_t n;

	n = read_file(pid, "auxv", (char *)buf, sizeof(buf));
	if (n < 0)
		return n;
	return procinfo_parse_auxv(buf, n, entry, interp);
}
