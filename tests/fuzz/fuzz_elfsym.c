/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as an ELF object handed to the probe
 * placement's reader (user/capture/elfsym.c), the way a traced process's
 * executable or a library it dlopens is: symbols by plain, versioned and
 * Rust v0 name, the code of what was found, PLT stubs and the GOT
 * relocations that name them, the build-id note, PT_LOAD segments,
 * dynamic entries and USDT notes. A crash, a sanitizer report, a hang or
 * an allocation past -rss_limit_mb fails `make fuzz`, as does an answer
 * that contradicts the input: a function's code longer than asked for,
 * a build-id or PLT name not terminated within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "elfsym.h"

#define MAX_SEGMENTS	16
/* PLT stubs are 16 bytes: the first few of each executable segment. */
#define PLT_TRIES	64
#define CODE_MAX	4096

static const char *const funcs[] = {
	"malloc", "free", "calloc", "realloc", "_Znwm", "_ZdlPv", "main",
};

static int count_str(const char *s, void *ctx)
{
	size_t *n = ctx;

	(void)strlen(s);
	return ++*n > 1000;
}

static void check_str(const char *buf, size_t len)
{
	if (!memchr(buf, 0, len))
		abort();
}

static void one_func(struct elf_file *f, const struct elf_func *fn)
{
	unsigned char head[16];
	void *code;

	code = elf_file__func_code(f, fn, CODE_MAX);
	if (code && fn->size > CODE_MAX)
		abort();
	free(code);
	elf_file__read(f, fn->file_offset, head, sizeof(head));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_segment seg[MAX_SEGMENTS];
	struct elf_func fn;
	const char *path;
	struct elf_file *f;
	char buf[128];
	size_t i, n = 0;
	int nseg, k;

	input_file(data, size, &path);
	f = elf_file__open(path);
	if (!f)
		return 0;
	for (i = 0; i < sizeof(funcs) / sizeof(*funcs); i++)
		if (!elf_file__find_func(f, funcs[i], &fn))
			one_func(f, &fn);
	if (!elf_file__find_rust_func(f, "__rust_alloc", &fn))
		one_func(f, &fn);
	if (!elf_file__build_id(f, buf, sizeof(buf)))
		check_str(buf, sizeof(buf));
	elf_file__has_symbols(f);
	elf_file__is_dynamic(f);
	if (!elf_file__interp(f, buf, sizeof(buf)))
		check_str(buf, sizeof(buf));
	if (elf_path_foreign(path, buf, sizeof(buf)))
		check_str(buf, sizeof(buf));
	elf_file__has_usdt(f, "memscope");
	elf_file__dynamic_strs(f, 1 /* DT_NEEDED */, count_str, &n);
	nseg = elf_file__segments(f, seg, MAX_SEGMENTS);
	for (k = 0; k < nseg && k < MAX_SEGMENTS; k++) {
		elf_file__read(f, seg[k].offset, buf, sizeof(buf));
		if (!(seg[k].flags & 1 /* PF_X */))
			continue;
		for (i = 0; i < PLT_TRIES && i * 16 < seg[k].filesz; i++)
			if (!elf_file__plt_import(f, seg[k].vaddr + i * 16,
						  buf, sizeof(buf)))
				check_str(buf, sizeof(buf));
	}
	elf_file__free(f);
	return 0;
}
