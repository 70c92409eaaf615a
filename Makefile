# SPDX-License-Identifier: (MIT OR Apache-2.0)
# memscope-bpf: one entry point. Outputs only under $(OUTPUT).

OUTPUT ?= .output
PREFIX ?= /usr/local
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

INCLUDES := -I$(OUTPUT) -Ibpf -Iuser -Iinclude
CFLAGS ?= -g -O2
USER_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -MMD -MP \
	$(INCLUDES) -DMEMSCOPE_VERSION='"$(VERSION)"' -D_GNU_SOURCE
LIBS := -lbpf -lelf -ldw -lz -lpthread
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# usdt.bpf.h includes <linux/errno.h>, whose <asm/...> is multiarch here.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-I$(dir $(VMLINUX)) -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu \
	-Wall -Werror

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# The CLI is main.c; everything else in user/ is a library the tests link.
LIB_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
SAN_OBJS := $(patsubst user/%.c,$(OUTPUT)/asan/%.o,$(LIB_SRCS))

TOOL := $(OUTPUT)/memscope-bpf
SAN_TOOL := $(OUTPUT)/asan/memscope-bpf

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
TARGET_SRCS := $(wildcard tests/targets/*.c)
TARGETS := $(patsubst tests/targets/%.c,$(OUTPUT)/targets/%,$(TARGET_SRCS))
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURES := $(patsubst tests/fixtures/%.c,$(OUTPUT)/fixtures/%,$(FIXTURE_SRCS))

.PHONY: all deps test unit integration demo bench install clean

all: $(TOOL)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)./scripts/install-deps.sh
	$(Q)mkdir -p $(@D) && touch $@

$(VMLINUX): | $(DEPS_STAMP)
	$(call msg,GEN,$@)
	$(Q)./scripts/gen-vmlinux.sh $(ARCH)

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/events.h $(wildcard bpf/*.bpf.h) $(VMLINUX) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/obj/%.o: user/%.c $(SKELS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/asan/%.o: user/%.c $(SKELS) | $(DEPS_STAMP)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/libmemscope.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/asan/libmemscope.a: $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TOOL): $(OUTPUT)/obj/main.o $(OUTPUT)/libmemscope.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(SAN_TOOL): $(OUTPUT)/asan/main.o $(OUTPUT)/asan/libmemscope.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -o $@

# Unit tests run against the sanitizer build of the library.
$(OUTPUT)/unit/%: tests/unit/%.c $(OUTPUT)/asan/libmemscope.a
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $< \
		$(OUTPUT)/asan/libmemscope.a -lcriterion $(LIBS) -o $@

# Targets keep frame pointers: tests assert on their stacks.
$(OUTPUT)/targets/%: tests/targets/%.c tests/targets/target.h | $(DEPS_STAMP)
	$(call msg,CC-TGT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread \
		-Wall -Werror -Iinclude $< -o $@

$(OUTPUT)/fixtures/%: tests/fixtures/%.c tests/fixtures/build.mk $(wildcard tests/fixtures/*.map) | $(DEPS_STAMP)
	$(call msg,CC-FIX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MAKE) -s -f tests/fixtures/build.mk OUT=$(OUTPUT)/fixtures SRC=$< NAME=$*

unit: $(UNIT_BINS) $(FIXTURES)
	$(Q)./tests/run-unit.sh $(UNIT_BINS)

integration: $(TOOL) $(SAN_TOOL) $(TARGETS)
	$(Q)MEMSCOPE=$(abspath $(SAN_TOOL)) TARGETS=$(abspath $(OUTPUT)/targets) \
		./tests/integration/run.sh

test: unit integration

demo: $(TOOL) $(TARGETS)
	$(Q)./scripts/demo.sh $(TOOL) $(OUTPUT)/targets

bench: $(TOOL)
	$(Q)$(MAKE) -s -C bench OUTPUT=$(abspath $(OUTPUT))/bench TOOL=$(abspath $(TOOL))

install: $(TOOL)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/memscope-bpf

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/obj/*.d $(OUTPUT)/asan/*.d $(OUTPUT)/unit/*.d)

.DELETE_ON_ERROR:
.SECONDARY:
