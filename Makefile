# SPDX-License-Identifier: (MIT OR Apache-2.0)
# memscope-bpf: one entry point. Outputs only under $(OUTPUT).

OUTPUT ?= .output
# make install: DESTDIR stages (packaging), PREFIX is where it will run.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION := 0.1.0

CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VMLINUX := vmlinux/$(ARCH)/vmlinux.h
DEPS_STAMP := $(OUTPUT)/.deps-installed

# user/ is grouped by pipeline stage, each importing only the stages before
# it (scripts/check-layers.sh checks): every stage is on the include path.
STAGES := common capture symbols store analysis report rules cli
INCLUDES := -I$(OUTPUT) -Ibpf $(addprefix -Iuser/,$(STAGES)) -Iinclude
CFLAGS ?= -g -O2
USER_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -MMD -MP \
	$(INCLUDES) -DMEMSCOPE_VERSION='"$(VERSION)"' -D_GNU_SOURCE
# Capstone places probes: its x86 detail mode gives each instruction's
# branch target and the registers it reads and writes. Its headers are
# included as <capstone/capstone.h>: pkg-config's -I would put its arm.h,
# x86.h... on everyone's path. Before install-deps ran, the plain -l.
CAPSTONE_LIBS := $(or $(shell pkg-config --libs capstone 2>/dev/null),-lcapstone)
LIBS := -lbpf -ldebuginfod -ldw -lelf -liberty -lz -lpthread $(CAPSTONE_LIBS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# usdt.bpf.h includes <linux/errno.h>, whose <asm/...> is multiarch here.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-I$(dir $(VMLINUX)) -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu \
	-Wall -Werror

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# The CLI is user/cli/; every other stage is a library the tests link.
LIB_SRCS := $(wildcard $(patsubst %,user/%/*.c,$(filter-out cli,$(STAGES))))
CLI_SRCS := $(wildcard user/cli/*.c)
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
SAN_OBJS := $(patsubst user/%.c,$(OUTPUT)/asan/%.o,$(LIB_SRCS))
CLI_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(CLI_SRCS))
SAN_CLI_OBJS := $(patsubst user/%.c,$(OUTPUT)/asan/%.o,$(CLI_SRCS))

# The dashboard (viz/) becomes a generated C source, linked into both.
VIZ_SRCS := $(wildcard viz/*)
VIZ_C := $(OUTPUT)/viz_embed.c
VIZ_H := $(OUTPUT)/viz_embed.h
LIB_OBJS += $(OUTPUT)/obj/viz_embed.o
SAN_OBJS += $(OUTPUT)/asan/viz_embed.o
HTML_GEN := $(OUTPUT)/html/gen-report

PPROF_GEN := $(OUTPUT)/pprof/gen

# The USDT probe library (lib/): see its rules at the end.
USDT_LIB_CFLAGS := -g -O2 -fPIC -fvisibility=hidden -std=c11 -pedantic \
	-Wall -Wextra -Werror -Iinclude
USDT_LIBS := $(OUTPUT)/libmemscope-usdt.so $(OUTPUT)/libmemscope-usdt.a

TOOL := $(OUTPUT)/memscope-bpf
SAN_TOOL := $(OUTPUT)/asan/memscope-bpf

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
# stk_* and uw_* (and the lib*.c they load) are built without frame
# pointers, below; the rest keep them.
TARGET_SRCS := $(filter-out tests/targets/stk_%.c tests/targets/uw_%.c \
	tests/targets/fam_%.c tests/targets/lib%.c,\
	$(wildcard tests/targets/*.c))
TARGETS := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%,$(TARGET_SRCS))
# The CFI walker's targets: built as production code is, without frame
# pointers, which the stacks in their reports must not need.
UW_TARGETS := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%,\
	$(wildcard tests/targets/uw_*.c)) \
	$(patsubst tests/targets/%.c,$(OUTPUT)/targets/%.so,\
	$(wildcard tests/targets/libuw_*.c)) \
	$(OUTPUT)/targets/libuw_dl_nocfi.so
TARGETS += $(UW_TARGETS) $(OUTPUT)/targets/libbigcode_a.so \
	$(OUTPUT)/targets/libbigcode_b.so
UW_CFLAGS := -g -O2 -fomit-frame-pointer -Wall -Werror
EXAMPLE_BINS := $(patsubst examples/%.c,$(OUTPUT)/examples/%,$(wildcard examples/*.c))
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURES := $(patsubst tests/fixtures/%.c,$(OUTPUT)/fixtures/%,$(FIXTURE_SRCS))

.PHONY: all deps test test-build unit integration fuzz html-test pprof-test layers demo bench bench-reach \
	install install-test clean

all: $(TOOL) $(USDT_LIBS)

# `make test` first builds what every phase needs, on every core, then
# runs the phases one at a time: they trace real processes and time them,
# and two phases at once would skew each other. Each phase's sub-make finds
# its prerequisites made, so a `make -jN test` runs the phases in order too.
TEST_PHASES := layers unit install-test fuzz integration html-test pprof-test
NPROC := $(shell nproc)

test:
	$(Q)$(MAKE) --no-print-directory \
		$(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC)) test-build
	$(Q)for p in $(TEST_PHASES); do \
		$(MAKE) --no-print-directory $$p || exit 1; done

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)./scripts/install-deps.sh
	$(Q)mkdir -p $(@D) && touch $@

$(VMLINUX): | $(DEPS_STAMP)
	$(call msg,GEN,$@)
	$(Q)./scripts/gen-vmlinux.sh $(ARCH)

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(VIZ_C) $(VIZ_H) &: scripts/embed-viz.py $(VIZ_SRCS) | $(DEPS_STAMP)
	$(call msg,EMBED,$(VIZ_C))
	$(Q)mkdir -p $(OUTPUT)
	$(Q)./scripts/embed-viz.py viz $(VIZ_C) $(VIZ_H)

# The userspace flavours: the tool (obj), the sanitizer build the tests
# link (asan), and clang's libFuzzer build of the library (fuzz/obj).
# One pattern makes each: $(1) directory, $(2) label, $(3) compiler and
# flags. Header dependencies come from -MMD, per object.
SAN_CFLAGS := $(USER_CFLAGS) $(SAN_FLAGS)
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror $(INCLUDES) \
	-DMEMSCOPE_VERSION='"$(VERSION)"' -D_GNU_SOURCE \
	-fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
define flavour
$(OUTPUT)/$(1)/%.o: user/%.c | $(DEPS_STAMP)
	$$(call msg,$(2),$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(3) -c $$< -o $$@

$(OUTPUT)/$(1)/viz_embed.o: $(VIZ_C)
	$$(call msg,$(2),$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(3) -c $$< -o $$@

# Generated headers must exist before their one user compiles.
$(OUTPUT)/$(1)/capture/trace.o: $(SKELS)
$(OUTPUT)/$(1)/report/report_html.o: $(VIZ_H)
endef
$(eval $(call flavour,obj,CC,$(CC) $(USER_CFLAGS)))
$(eval $(call flavour,asan,CC-SAN,$(CC) $(SAN_CFLAGS)))
$(eval $(call flavour,fuzz/obj,CC-FUZZ,$(CLANG) $(FUZZ_CFLAGS) -MMD -MP \
	-fsanitize=fuzzer-no-link))

$(OUTPUT)/libmemscope.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/asan/libmemscope.a: $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The tool's own allocator, linked in: libc's malloc and free carry the
# probes of every traced set (uprobes are on the file, in every process
# that maps it), and the tool's own calls (libdw's, millions while it
# compiles a big object's CFI) would each take the trap. In the program's
# file they take none. (The ASan build has ASan's.)
TOOL_ALLOC := -Wl,--push-state,-Bstatic -ljemalloc_pic -Wl,--pop-state -ldl -lm

$(TOOL): $(CLI_OBJS) $(OUTPUT)/libmemscope.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(TOOL_ALLOC) $(LIBS) -o $@

$(SAN_TOOL): $(SAN_CLI_OBJS) $(OUTPUT)/asan/libmemscope.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -o $@

# Unit tests run against the sanitizer build of the library.
$(OUTPUT)/unit/%: tests/unit/%.c $(OUTPUT)/asan/libmemscope.a
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) -Itests/unit $< \
		$(OUTPUT)/asan/libmemscope.a -lcriterion $(LIBS) -o $@

# Writes dashboards from synthetic stores, for tests/html/.
$(HTML_GEN): tests/html/gen_report.c $(OUTPUT)/asan/libmemscope.a
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $< $(OUTPUT)/asan/libmemscope.a \
		$(LIBS) -o $@

# Writes the exports of a synthetic trace, for tests/pprof/.
$(PPROF_GEN): tests/pprof/gen.c $(OUTPUT)/asan/libmemscope.a
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $< $(OUTPUT)/asan/libmemscope.a \
		$(LIBS) -o $@

# sysproc for i386 (gcc -m32): a program the tool cannot trace, which
# it must refuse, or count as not traced in a set, never report as idle.
TARGETS += $(OUTPUT)/targets/sysproc32
$(OUTPUT)/targets/sysproc32: tests/targets/sysproc.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -m32 -O1 -Wall -Werror $< -o $@

# sysproc on musl (musl-gcc, Alpine's C library): its NEEDED libc.so is
# the dynamic linker itself, ld-musl-x86_64.so.1.
TARGETS += $(OUTPUT)/targets/sysproc_musl
$(OUTPUT)/targets/sysproc_musl: tests/targets/sysproc.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)musl-gcc -g -O1 -Wall -Werror $< -o $@

# Targets keep frame pointers: tests assert on their stacks.
$(OUTPUT)/targets/%: tests/targets/%.c tests/targets/target.h include/memscope.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread \
		-Wall -Werror -Iinclude $< -o $@

# anon's stacks are checked: built as production code is, without frame
# pointers (and each @site function its own frame).
$(OUTPUT)/targets/anon: tests/targets/anon.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UW_CFLAGS) -fno-inline $< -o $@

$(OUTPUT)/targets/uw_%: tests/targets/uw_%.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UW_CFLAGS) $< -ldl -o $@

$(OUTPUT)/targets/libuw_%.so: tests/targets/libuw_%.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UW_CFLAGS) -shared -fPIC $< -o $@

# The same library with no CFI at all (no unwind tables, no -g: its
# .eh_frame is the terminator alone), as hand-written assembly or a
# stripped blob: the walk must stop at its first frame, no_info.
$(OUTPUT)/targets/libuw_dl_nocfi.so: tests/targets/libuw_dl.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -fomit-frame-pointer -fno-asynchronous-unwind-tables \
		-fno-unwind-tables -Wall -Werror -shared -fPIC $< -o $@

# Two big libraries of frame-pointer code without CFI: compiles that hold
# a worker (sys_given_up), a scan cut in shares (unwind_table unit tests).
$(OUTPUT)/targets/libbigcode_%.so: tests/targets/libbigcode.S | $(DEPS_STAMP)
	$(call msg,AS-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -DBIG_ID=$(if $(filter a,$*),1,2) -shared -nostdlib \
		-Wl,-z,noexecstack $< -o $@

# Stack targets: built the way production code is, so without frame
# pointers (gcc -O2, g++ -O2 and rustc -O omit them); tests/integration
# checks their stacks against the chains declared beside each source.
STK_CFLAGS := -g -O2 -pthread -Wall -Wextra -Werror -Iinclude
STK_C := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%,\
	$(wildcard tests/targets/stk_*.c))
STK_CXX := $(patsubst tests/targets/%.cc,$(OUTPUT)/targets/%,\
	$(wildcard tests/targets/stk_*.cc))
STK_LIBS := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%.so,\
	$(wildcard tests/targets/libstk_*.c))
# Debian's rustc, and a second build with a rustc >= 1.87 when there is one:
# its allocator shims have mangled names (_RNvCs..._7___rustc12___rust_alloc).
RUSTC ?= /usr/bin/rustc
RUSTC_NEW ?= $(firstword $(wildcard /root/.cargo/bin/rustc))
RUSTC_NEW_OK := $(if $(RUSTC_NEW),$(shell $(RUSTC_NEW) --version 2>/dev/null | \
	awk '{ split($$2, v, "."); if (v[1] > 1 || v[2] >= 87) print "yes" }'))
STK_RS := $(OUTPUT)/targets/stk_rs $(OUTPUT)/targets/stk_rs_fwd
ifeq ($(RUSTC_NEW_OK),yes)
STK_RS += $(OUTPUT)/targets/stk_rs_new $(OUTPUT)/targets/stk_rs_fwd_new
endif
# stk_c again without unwind tables (as Chromium builds): with frame
# pointers, whose prologues give its rules, and without (no rule at all).
# -g alone would still give .debug_frame: it goes, as a stripped build's.
# And with clang, as Chromium is built.
STK_NOCFI := $(OUTPUT)/targets/stk_c_fp_nocfi $(OUTPUT)/targets/stk_c_nocfi \
	$(OUTPUT)/targets/stk_c_clang_fp_nocfi
STK_TARGETS := $(STK_C) $(STK_CXX) $(STK_LIBS) $(STK_RS) $(STK_NOCFI)
TARGETS += $(STK_TARGETS)
# The C++ side of the no-single-step test (tests/integration/xol.sh), and
# what it preloads to count the single-stepped instructions.
XOL_CXX := $(OUTPUT)/targets/xol_cxx
XOL_COUNT := $(OUTPUT)/targets/libxolcount.so
# A Go program calling C through cgo (Debian's golang-go): its own code's
# CFI is in .debug_frame, its C parts are gcc -O2 without frame pointers.
# The go command's caches stay under $(OUTPUT).
STK_GO := $(OUTPUT)/targets/stk_go
TARGETS += $(STK_GO)

# The same program stripped as release builds are (-s -w: no .symtab, no
# DWARF): its Go functions known from Go's own table alone.
STK_GO_STRIPPED := $(OUTPUT)/targets/stk_go_stripped
TARGETS += $(STK_GO_STRIPPED)
$(STK_GO_STRIPPED): GO_LDFLAGS := -ldflags="-s -w"

$(STK_GO) $(STK_GO_STRIPPED): tests/targets/stk_go.go | $(DEPS_STAMP)
	$(call msg,GO-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)GOCACHE=$(abspath $(OUTPUT))/go/cache \
		GOPATH=$(abspath $(OUTPUT))/go/path GO111MODULE=off \
		GOTOOLCHAIN=local CGO_ENABLED=1 \
		CGO_CFLAGS="-O2 -g -fomit-frame-pointer" \
		go build $(GO_LDFLAGS) -o $@ $<

# A Go program without cgo, stripped: no allocator the tool probes.
GO_PURE := $(OUTPUT)/targets/go_pure
TARGETS += $(GO_PURE)
$(GO_PURE): tests/targets/go_pure.go | $(DEPS_STAMP)
	$(call msg,GO-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)GOCACHE=$(abspath $(OUTPUT))/go/cache \
		GOPATH=$(abspath $(OUTPUT))/go/path GO111MODULE=off \
		GOTOOLCHAIN=local CGO_ENABLED=0 \
		go build -ldflags="-s -w" -o $@ $<

# busy's C++ side: new and delete over malloc from its first instruction.
BUSY_CXX := $(OUTPUT)/targets/busy_cxx
TARGETS += $(XOL_CXX) $(XOL_COUNT) $(BUSY_CXX)

$(XOL_COUNT): tests/targets/libxolcount.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -shared -fPIC -Wall -Wextra -Werror $< -o $@

$(XOL_CXX) $(BUSY_CXX): $(OUTPUT)/targets/%: tests/targets/%.cc tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CXX-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -g -O2 -Wall -Wextra -Werror -Itests/targets $< -o $@

# Allocator family targets: their leaks are checked per call site, so they
# are built as production code is too, without frame pointers.
FAM_TARGETS := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%,\
	$(wildcard tests/targets/fam_*.c)) \
	$(patsubst tests/targets/%.cc,$(OUTPUT)/targets/%,\
	$(wildcard tests/targets/fam_*.cc))
TARGETS += $(FAM_TARGETS)

$(OUTPUT)/targets/libstk_%.so: tests/targets/libstk_%.c | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(STK_CFLAGS) -fPIC -shared -Wl,-z,lazy $< -o $@

# stk_plt reaches its library through the PLT, bound lazily.
$(OUTPUT)/targets/stk_plt: $(OUTPUT)/targets/libstk_plt.so
$(OUTPUT)/targets/stk_plt: STK_LDFLAGS := -L$(OUTPUT)/targets -lstk_plt \
	-Wl,-rpath,'$$ORIGIN' -Wl,-z,lazy
# stk_exec execs stk_exec_b: both without PIE, their code at the same
# addresses.
$(OUTPUT)/targets/stk_exec $(OUTPUT)/targets/stk_exec_b: STK_LDFLAGS := -no-pie
$(OUTPUT)/targets/stk_exec: | $(OUTPUT)/targets/stk_exec_b
# stk_rows's library takes 1.2M unwind rows, many chunks of them; it and
# librows_many have their CFI from one generator.
$(OUTPUT)/targets/libstk_rows.so $(OUTPUT)/fixtures/librows_many: \
	tests/fixtures/cfi_rows.h
$(OUTPUT)/targets/stk_rows: $(OUTPUT)/targets/libstk_rows.so
$(OUTPUT)/targets/stk_rows: STK_LDFLAGS := -L$(OUTPUT)/targets -lstk_rows \
	-Wl,-rpath,'$$ORIGIN'
# stk_ctor's library allocates in its constructor, before main.
$(OUTPUT)/targets/stk_ctor: $(OUTPUT)/targets/libstk_ctor.so
$(OUTPUT)/targets/stk_ctor: STK_LDFLAGS := -L$(OUTPUT)/targets -lstk_ctor \
	-Wl,-rpath,'$$ORIGIN'
# stk_dlopen loads this one itself, from beside it.
$(OUTPUT)/targets/stk_dlopen $(OUTPUT)/targets/stk_dlthread: | \
	$(OUTPUT)/targets/libstk_dl.so
# stk_reload loads these two in turn, at the same address.
$(OUTPUT)/targets/stk_reload: | $(OUTPUT)/targets/libstk_reload_a.so \
	$(OUTPUT)/targets/libstk_reload_b.so

$(OUTPUT)/targets/stk_%: tests/targets/stk_%.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(STK_CFLAGS) -Itests/targets $< $(STK_LDFLAGS) -o $@

# stk_c without unwind tables (STK_NOCFI): the compiler and the frame
# pointers each build takes.
NOCFI_CC := $(CC)
$(OUTPUT)/targets/stk_c_fp_nocfi: NOCFI_FLAGS := -fno-omit-frame-pointer \
	-DSTK_NO_DRAP
$(OUTPUT)/targets/stk_c_clang_fp_nocfi: NOCFI_CC := $(CLANG)
$(OUTPUT)/targets/stk_c_clang_fp_nocfi: NOCFI_FLAGS := -fno-omit-frame-pointer \
	-DSTK_NO_DRAP -Wno-unknown-attributes
$(STK_NOCFI): tests/targets/stk_c.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(NOCFI_CC) $(STK_CFLAGS) $(NOCFI_FLAGS) \
		-fno-asynchronous-unwind-tables -fno-unwind-tables \
		-Itests/targets $< -o $@
	$(Q)objcopy --remove-section=.debug_frame $@

$(OUTPUT)/targets/fam_%: tests/targets/fam_%.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(STK_CFLAGS) -Itests/targets $< -ldl -o $@

$(OUTPUT)/targets/fam_%: tests/targets/fam_%.cc tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CXX-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(STK_CFLAGS) -Itests/targets $< -o $@

$(OUTPUT)/targets/stk_%: tests/targets/stk_%.cc tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CXX-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(STK_CFLAGS) -Itests/targets $< -o $@

# rustc reads make's jobserver from MAKEFLAGS, whose fds it is not given.
RUSTFLAGS_STK := -O -g --edition 2021

$(OUTPUT)/targets/stk_rs: tests/targets/stk_rs.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC) $(RUSTFLAGS_STK) $< -o $@

$(OUTPUT)/targets/stk_rs_fwd: tests/targets/stk_rs.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC) $(RUSTFLAGS_STK) --cfg forward_alloc $< -o $@

$(OUTPUT)/targets/stk_rs_new: tests/targets/stk_rs.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC_NEW) $(RUSTFLAGS_STK) $< -o $@

$(OUTPUT)/targets/stk_rs_fwd_new: tests/targets/stk_rs.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC_NEW) $(RUSTFLAGS_STK) --cfg forward_alloc $< -o $@

# The heap scan's C++ and Rust cases (tests/targets/reach_*): a
# shared_ptr cycle and an Rc cycle.
REACH_TARGETS := $(OUTPUT)/targets/reach_cxx $(OUTPUT)/targets/reach_rs
ifeq ($(RUSTC_NEW_OK),yes)
REACH_TARGETS += $(OUTPUT)/targets/reach_rs_new
endif
TARGETS += $(REACH_TARGETS)
# fam_bad's Rust side: frees the allocator was not owed, through the shims.
FAM_RS := $(OUTPUT)/targets/fam_bad_rs
ifeq ($(RUSTC_NEW_OK),yes)
FAM_RS += $(OUTPUT)/targets/fam_bad_rs_new
endif
TARGETS += $(FAM_RS)

$(OUTPUT)/targets/reach_cxx: tests/targets/reach_cxx.cc tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CXX-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -g -O2 -Wall -Wextra -Werror -Itests/targets $< -o $@

$(OUTPUT)/targets/reach_rs $(OUTPUT)/targets/fam_bad_rs: $(OUTPUT)/targets/%: tests/targets/%.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC) $(RUSTFLAGS_STK) $< -o $@

$(OUTPUT)/targets/reach_rs_new $(OUTPUT)/targets/fam_bad_rs_new: $(OUTPUT)/targets/%_new: tests/targets/%.rs | $(DEPS_STAMP)
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)MAKEFLAGS= $(RUSTC_NEW) $(RUSTFLAGS_STK) $< -o $@

# build.mk remakes by its own prerequisites, the touch answers for ours
# (cfi_expect.py, below), which it does not know of.
$(OUTPUT)/fixtures/%: tests/fixtures/%.c tests/fixtures/build.mk $(wildcard tests/fixtures/*.map) | $(DEPS_STAMP)
	$(call msg,CC-FIX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MAKE) -s -f tests/fixtures/build.mk OUT=$(OUTPUT)/fixtures SRC=$< NAME=$*
	$(Q)touch $@

# noaranges: a unit of debug information .debug_aranges does not list,
# as a cgo program's Go code: its addresses must still get its own lines.
NOARANGES := $(OUTPUT)/fixtures/noaranges
$(NOARANGES): tests/fixtures/noaranges/main.c tests/fixtures/noaranges/unit.c \
		| $(DEPS_STAMP)
	$(call msg,CC-FIX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O0 -c tests/fixtures/noaranges/main.c -o $@.main.o
	$(Q)$(CC) -g -O0 -c tests/fixtures/noaranges/unit.c -o $@.unit.o
	$(Q)objcopy --remove-section .debug_aranges $@.unit.o
	$(Q)$(CC) $@.main.o $@.unit.o -o $@

# cfi_mixed: one half's CFI in .eh_frame, the other's in .debug_frame
# only (built without unwind tables), as in a cgo program.
CFI_MIXED := $(OUTPUT)/fixtures/cfi_mixed
$(CFI_MIXED): tests/fixtures/mixed/main.c tests/fixtures/mixed/part.c \
		| $(DEPS_STAMP)
	$(call msg,CC-FIX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -fomit-frame-pointer -fasynchronous-unwind-tables \
		-c tests/fixtures/mixed/main.c -o $@.main.o
	$(Q)$(CC) -g -O2 -fomit-frame-pointer -fno-asynchronous-unwind-tables \
		-fno-unwind-tables -c tests/fixtures/mixed/part.c -o $@.part.o
	$(Q)$(CC) $@.main.o $@.part.o -o $@

# The unwind-table fixtures carry the rows readelf expects; so do the
# libc the unit tests run on and its dynamic loader (whose entry code has
# no CFI).
$(OUTPUT)/fixtures/cfi: tests/unit/cfi_expect.py
LIBC := $(shell $(CC) -print-file-name=libc.so.6)
$(OUTPUT)/fixtures/libc.cfi: $(LIBC) tests/unit/cfi_expect.py
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)tests/unit/cfi_expect.py $(realpath $(LIBC)) > $@.tmp && mv $@.tmp $@
LDSO := $(shell $(CC) -print-file-name=ld-linux-x86-64.so.2)
$(OUTPUT)/fixtures/ld.so.cfi: $(LDSO) tests/unit/cfi_expect.py
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)tests/unit/cfi_expect.py --entry $(realpath $(LDSO)) > $@.tmp && \
		mv $@.tmp $@

# test_prologue places probes in Rust's allocator shims of the stack targets.
UNIT_DEPS := $(UNIT_BINS) $(FIXTURES) $(OUTPUT)/fixtures/libc.cfi \
	$(OUTPUT)/fixtures/ld.so.cfi $(NOARANGES) $(STK_RS) \
	$(CFI_MIXED) $(STK_GO) $(STK_GO_STRIPPED) \
	$(OUTPUT)/targets/stk_c_fp_nocfi $(OUTPUT)/targets/libbigcode_b.so
unit: $(UNIT_DEPS)
	$(Q)./tests/run-unit.sh $(UNIT_BINS)

INTEGRATION_DEPS := $(TOOL) $(SAN_TOOL) $(TARGETS) $(EXAMPLE_BINS) \
	$(OUTPUT)/libmemscope-usdt.so
integration: $(INTEGRATION_DEPS)
	$(Q)MEMSCOPE=$(abspath $(SAN_TOOL)) TARGETS=$(abspath $(OUTPUT)/targets) \
		MEMSCOPE_RUSTC_NEW=$(if $(RUSTC_NEW_OK),$(RUSTC_NEW)) \
		./tests/integration/run.sh

# Each stage of user/ includes only the stages before it.
layers:
	$(Q)./scripts/check-layers.sh $(STAGES)

# The readers of what a traced process hands us, under libFuzzer. The
# gcc-built library cannot link with clang's sanitizer runtime, so clang
# builds the library's sources again into an archive (the fuzz/obj
# flavour above), and each fuzzer's link takes what it runs through.
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_TIME ?= 10

$(FUZZ_DIR)/libmemscope.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Every libFuzzer target is tests/fuzz/fuzz_NAME.c on the clang-built
# library, run from the seeds in $(FUZZ_DIR)/NAME-seeds (made by the
# NAME-seeds.stamp rule) for FUZZ_TIME seconds, its corpus and crashes
# kept in $(FUZZ_DIR)/work-NAME.
FUZZERS := recording unwind_table gopclntab elfsym procfs prologue \
	heapscan debuginfo demangle table_cache

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libmemscope.a
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

# A seed generator, gen_NAME_seeds.c, on the library as the tool builds it.
$(FUZZ_DIR)/gen_%_seeds: tests/fuzz/gen_%_seeds.c $(OUTPUT)/libmemscope.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $< $(OUTPUT)/libmemscope.a $(LIBS) -o $@

# The first lines of every seed recipe: an empty seeds directory.
define seeds_dir
	$(call msg,GEN,$(@:.stamp=))
	$(Q)rm -rf $(@:.stamp=) && mkdir -p $(@:.stamp=)
endef

# Seeds a generator writes: recordings from the writer itself, so they
# follow the format; the code of real allocators' functions (glibc,
# libstdc++, jemalloc, tcmalloc, mimalloc) for the decoder that places
# the probes; blocks that point at each other (a list, a leaked cycle,
# clones) for the heap scan, which random bytes would hardly find.
$(FUZZ_DIR)/%-seeds.stamp: $(FUZZ_DIR)/gen_%_seeds
	$(seeds_dir)
	$(Q)$< $(@:.stamp=) && touch $@

# The CFI compiler on any object; seeded with the unwind-table fixtures:
# .eh_frame with and without .eh_frame_hdr, .debug_frame plain and
# compressed, and both in one object.
$(FUZZ_DIR)/unwind_table-seeds.stamp: $(OUTPUT)/fixtures/cfi $(CFI_MIXED)
	$(seeds_dir)
	$(Q)cp $(OUTPUT)/fixtures/cfi $(OUTPUT)/fixtures/cfi.df \
		$(OUTPUT)/fixtures/cfi.overlap $(CFI_MIXED) $(@:.stamp=)/
	$(Q)objcopy --compress-debug-sections=zlib $(OUTPUT)/fixtures/cfi.df \
		$(@:.stamp=)/cfi.df.z && touch $@

# Table-cache entries of the CFI fixtures' tables, from the cache's writer.
$(FUZZ_DIR)/table_cache-seeds.stamp: $(OUTPUT)/fixtures/cfi

# Go's function table of a stripped program (its rows and names), as the
# section alone; seeded with stk_go_stripped's.
$(FUZZ_DIR)/gopclntab-seeds.stamp: $(STK_GO_STRIPPED)
	$(seeds_dir)
	$(Q)objcopy -O binary --only-section=.gopclntab $< \
		$(@:.stamp=)/stk_go_stripped.gopclntab && touch $@

# The probe placement's ELF reader on any object; seeded with targets
# that have what it looks for: PLT stubs bound lazily (stk_plt and its
# library), C++ imports (stk_cxx), USDT notes (hostile), without their
# debug sections, which it never reads.
$(FUZZ_DIR)/elfsym-seeds.stamp: $(OUTPUT)/targets/stk_plt \
		$(OUTPUT)/targets/libstk_plt.so $(OUTPUT)/targets/stk_cxx \
		$(OUTPUT)/targets/hostile
	$(seeds_dir)
	$(Q)for f in $^; do \
		objcopy --strip-debug $$f $(@:.stamp=)/$${f##*/} || exit 1; \
		done && touch $@

# The search for separate debug information with names a process chose,
# over an empty root: nothing may be found. Seeded with names that climb
# out of it towards this machine's real debug files, and a dwz'd debug
# file (made with the libinline fixture) for .gnu_debugaltlink.
$(FUZZ_DIR)/debuginfo-seeds.stamp: tests/fuzz/gen_debuginfo_seeds.py \
		$(OUTPUT)/fixtures/libinline
	$(seeds_dir)
	$(Q)python3 $< $(@:.stamp=) $(OUTPUT)/fixtures/libinline.dwz.debug && \
		touch $@

# Names as a person reads them, from names the traced process's files
# carry: C++, Rust legacy and v0, versioned; one seed a line of the list.
$(FUZZ_DIR)/demangle-seeds.stamp: tests/fuzz/demangle-seeds.txt
	$(seeds_dir)
	$(Q)n=0; while IFS= read -r name; do n=$$((n + 1)); \
		printf '%s' "$$name" >$(@:.stamp=)/$$n || exit 1; \
		done <$< && touch $@

# The /proc files a traced process writes itself (maps, stat, status,
# cmdline), seeded with this shell's own, and a JIT's perf map: node's
# lines and Java's, code listed twice, and code made again over other.
$(FUZZ_DIR)/procfs-seeds.stamp:
	$(seeds_dir)
	$(Q)for f in maps stat status cmdline; do \
		cat /proc/$$$$/$$f >$(@:.stamp=)/$$f || exit 1; \
		done && printf '%s\n' '3ef414c0 398 LazyCompile:~main /app/x.js:1:1' \
		'0x00007f6490ec7920 0x00000000000001e8 long Deflater.init(int)' \
		'3ef414c0 398 LazyCompile:~main /app/x.js:1:1' \
		'3ef41500 20 JS:*f x.js:2' >$(@:.stamp=)/perf-map && touch $@

# FUZZ_JOBS fuzzers at a time, each on a core of its own: the same
# FUZZ_TIME each, in half the wall time on two cores.
FUZZ_JOBS ?= $(shell nproc)

FUZZ_DEPS := $(foreach f,$(FUZZERS),$(FUZZ_DIR)/fuzz_$(f) $(FUZZ_DIR)/$(f)-seeds.stamp)
fuzz: $(FUZZ_DEPS)
	$(Q)printf '%s\n' $(FUZZERS) | xargs -P $(FUZZ_JOBS) -I{} \
		./tests/fuzz/run.sh $(FUZZ_DIR)/fuzz_{} $(FUZZ_DIR)/{}-seeds \
			$(FUZZ_DIR)/work-{} $(FUZZ_TIME)

# The dashboard in headless Chromium; keeps .output/html/dashboard.png.
HTML_TEST_DEPS := $(HTML_GEN) $(SAN_TOOL) $(TARGETS) $(OUTPUT)/examples/executor
html-test: $(HTML_TEST_DEPS)
	$(Q)GEN=$(abspath $(HTML_GEN)) OUT=$(abspath $(OUTPUT)/html) \
		MEMSCOPE=$(abspath $(SAN_TOOL)) \
		TARGETS=$(abspath $(OUTPUT)/targets) ./tests/html/run.py

# The pprof and folded exports read by `go tool pprof` (golang-go).
PPROF_TEST_DEPS := $(PPROF_GEN) $(SAN_TOOL) $(TARGETS)
pprof-test: $(PPROF_TEST_DEPS)
	$(Q)GEN=$(abspath $(PPROF_GEN)) MEMSCOPE=$(abspath $(SAN_TOOL)) \
		TARGETS=$(abspath $(OUTPUT)/targets) ./tests/pprof/check.sh

demo: $(TOOL) $(TARGETS)
	$(Q)./scripts/demo.sh $(TOOL) $(OUTPUT)/targets

bench: $(TOOL) $(OUTPUT)/bench/usdt-cost $(OUTPUT)/targets/growth
	$(Q)$(MAKE) -s -C bench OUTPUT=$(abspath $(OUTPUT))/bench TOOL=$(abspath $(TOOL))

# The heap scan's accuracy against memcheck and its scale (bench/reach.py):
# its own section of bench/RESULTS.md.
bench-reach: $(TOOL) $(OUTPUT)/targets/reach $(REACH_TARGETS)
	$(Q)$(MAKE) -s -C bench OUTPUT=$(abspath $(OUTPUT))/bench \
		TOOL=$(abspath $(TOOL)) $(abspath $(OUTPUT))/bench/heapscan-scale
	$(Q)python3 bench/reach.py --tool $(TOOL) --targets $(OUTPUT)/targets \
		--scale $(OUTPUT)/bench/heapscan-scale --results bench/RESULTS.md

# What a user needs: the tool, its man page, and what an instrumented
# program builds with (the USDT header, the probe library).
install: $(TOOL) $(USDT_LIBS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(TOOL) $(DESTDIR)$(BINDIR)/memscope-bpf
	install -m 0644 docs/memscope-bpf.8 $(DESTDIR)$(MANDIR)/man8/memscope-bpf.8
	install -m 0644 include/memscope.h $(DESTDIR)$(INCLUDEDIR)/memscope.h
	install -m 0755 $(OUTPUT)/libmemscope-usdt.so $(DESTDIR)$(LIBDIR)/libmemscope-usdt.so
	install -m 0644 $(OUTPUT)/libmemscope-usdt.a $(DESTDIR)$(LIBDIR)/libmemscope-usdt.a

# make install into a staging directory, the man page against --help.
INSTALL_TEST_DEPS := $(TOOL) $(USDT_LIBS)
install-test: $(INSTALL_TEST_DEPS)
	$(Q)MAKE="$(MAKE)" ./tests/install/check.sh

# Everything the phases of `make test` need (after their lists above: a
# rule's prerequisites expand where it is read).
test-build: $(UNIT_DEPS) $(INSTALL_TEST_DEPS) $(FUZZ_DEPS) \
	$(INTEGRATION_DEPS) $(HTML_TEST_DEPS) $(PPROF_TEST_DEPS)

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*/*.d $(OUTPUT)/*/*/*.d $(OUTPUT)/*/*/*/*.d)

.DELETE_ON_ERROR:
.SECONDARY:

# The USDT probe library, the instrumented examples and the probe-cost
# bench (include/memscope.h). libmemscope-usdt carries the probes as C
# functions for other languages; its object is PIC so the archive can go
# into shared objects too, and it exports only the memscope_* API.
# Examples keep frame pointers: the stacks in their reports are the point.
EXAMPLE_CFLAGS := -g -O1 -fno-omit-frame-pointer -pthread -std=gnu11 \
	-Wall -Wextra -Werror -Iinclude


$(OUTPUT)/usdt/memscope_usdt.o: lib/memscope_usdt.c include/memscope.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USDT_LIB_CFLAGS) -c $< -o $@

$(OUTPUT)/libmemscope-usdt.so: $(OUTPUT)/usdt/memscope_usdt.o
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared -Wl,-soname,libmemscope-usdt.so -Wl,-z,relro,-z,now \
		$^ -o $@

$(OUTPUT)/libmemscope-usdt.a: $(OUTPUT)/usdt/memscope_usdt.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/examples/%: examples/%.c $(wildcard examples/*.h) include/memscope.h | $(DEPS_STAMP)
	$(call msg,CC-EX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(EXAMPLE_CFLAGS) $< -o $@

# The symbolizer's cost per distinct address: `symbolize PID [STRIDE]`.
$(OUTPUT)/bench/symbolize: bench/symbolize.c $(OUTPUT)/libmemscope.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $< $(OUTPUT)/libmemscope.a $(LIBS) -o $@

$(OUTPUT)/bench/usdt-cost: bench/usdt-cost.c include/memscope.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O2 -std=gnu11 -Wall -Wextra -Werror -Iinclude $< -o $@
