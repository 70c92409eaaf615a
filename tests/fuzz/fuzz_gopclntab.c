/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as the .gopclntab of a stripped Go program.
 * They are wrapped in the smallest ELF that holds them: that section, and
 * an executable segment at the table's own text address mapping the same
 * bytes (so the runtime rules' decoding reads them as code). The unwind
 * table is compiled from it (a table whose rows are out of order or of an
 * unknown rule fails), and every function is read through gopclntab.h as
 * the symbolizer reads it. A crash, a sanitizer report, a hang
 * (-timeout) or an allocation past -rss_limit_mb fails `make fuzz`.
 */
#include <elf.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "gopclntab.h"
#include "rows.h"

/* The functions read through the API at most, per input. */
#define MAX_FUNCS	4096

static const char shstrtab[] = "\0.shstrtab\0.gopclntab";

struct wrapped {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr sh[3];
	char names[sizeof(shstrtab)];
};

/* The ELF around data: its bytes follow the headers, in *len in all. */
static uint8_t *wrap(const uint8_t *data, size_t size, size_t *len)
{
	struct wrapped w = {};
	uint64_t text = 0x400000;
	uint8_t *out;

	/* the table's textStart, where a segment can start */
	if (size >= 32) {
		memcpy(&text, data + 24, sizeof(text));
		if (text > 0xf0000000u)
			text = 0x400000;
	}
	memcpy(w.eh.e_ident, ELFMAG, SELFMAG);
	w.eh.e_ident[EI_CLASS] = ELFCLASS64;
	w.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	w.eh.e_ident[EI_VERSION] = EV_CURRENT;
	w.eh.e_type = ET_EXEC;
	w.eh.e_machine = EM_X86_64;
	w.eh.e_version = EV_CURRENT;
	w.eh.e_phoff = offsetof(struct wrapped, ph);
	w.eh.e_shoff = offsetof(struct wrapped, sh);
	w.eh.e_ehsize = sizeof(w.eh);
	w.eh.e_phentsize = sizeof(w.ph);
	w.eh.e_phnum = 1;
	w.eh.e_shentsize = sizeof(w.sh[0]);
	w.eh.e_shnum = 3;
	w.eh.e_shstrndx = 1;
	w.ph.p_type = PT_LOAD;
	w.ph.p_flags = PF_R | PF_X;
	w.ph.p_offset = sizeof(w);
	w.ph.p_vaddr = text;
	w.ph.p_filesz = size;
	w.ph.p_memsz = 0x8000000;
	w.sh[1].sh_type = SHT_STRTAB;
	w.sh[1].sh_offset = offsetof(struct wrapped, names);
	w.sh[1].sh_size = sizeof(shstrtab);
	w.sh[2].sh_name = 11;
	w.sh[2].sh_type = SHT_PROGBITS;
	w.sh[2].sh_flags = SHF_ALLOC;
	w.sh[2].sh_offset = sizeof(w);
	w.sh[2].sh_size = size;
	memcpy(w.names, shstrtab, sizeof(shstrtab));
	*len = sizeof(w) + size;
	out = malloc(*len);
	if (!out)
		abort();
	memcpy(out, &w, sizeof(w));
	memcpy(out + sizeof(w), data, size);
	return out;
}

/* gopcln__pcsp's fn: runs lie in the function, in order. */
static int run_check(void *ctx, __u64 from, __u64 to, __s32 sp)
{
	const struct gopcln_func *f = ctx;

	if (from >= to || from < f->start || to > f->end || sp < 0)
		abort();
	return 0;
}

static void read_funcs(uint8_t *elf_bytes, size_t len, size_t size)
{
	struct gopcln_func f;
	struct gopcln *p;
	const char *file;
	size_t i, n;
	Elf *elf;
	int line;

	elf = elf_memory((char *)elf_bytes, len);
	p = elf ? gopcln__new(elf) : NULL;
	if (elf)
		elf_end(elf);
	if (!p)
		return;
	n = gopcln__nr_funcs(p);
	for (i = 0; i < n && i < MAX_FUNCS; i++) {
		if (gopcln__func(p, i, &f))
			continue;
		/* a name is read whole, as the symbolizer interns it */
		if (f.start >= f.end || (f.name && strlen(f.name) > size))
			abort();
		gopcln__pcsp(p, i, run_check, &f);
		gopcln__line(p, i, f.start, &file, &line);
		gopcln__find(p, f.start);
	}
	gopcln__free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t;
	uint8_t *elf_bytes;
	size_t len;

	elf_version(EV_CURRENT);
	elf_bytes = wrap(data, size, &len);
	t = unwind_table__build(input_file(elf_bytes, len, NULL),
				"/nonexistent", 0);
	if (t) {
		rows_check(t);
		unwind_table__free(t);
	}
	read_funcs(elf_bytes, len, size);
	free(elf_bytes);
	return 0;
}
