# cordon — build, test, fuzz, bench.  `make test` is the whole test suite.
#
#   make            build/cordon (host, with the KVM guest image embedded)
#   make test       setup, unit tests (ASan+UBSan), fuzz smoke, integration
#   make fuzz       libFuzzer targets in build/fuzz/
#   make fuzz-long  a long campaign on every target (FUZZ_SECONDS each)
#   make demo       make a sample image and run `cordon dd` on it
#   make bench      speed ratios against qemu-img, dd and cp
#   make coverage   line coverage of src/core by the unit tests and the fuzz corpora
#   make difffuzz   differential fuzzing against qemu-img dd, convert and info (ITER=2000, SEED=random, DIFFFUZZ_OPS=dd,convert,info)

CC       ?= cc
CLANG    ?= clang
PYTHON   ?= /usr/bin/python3
BUILD    := build

WARN     := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
CSTD     := -std=c11 -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
HOST_CFLAGS := $(CSTD) $(WARN) $(CFLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
TEST_CFLAGS := $(CSTD) $(WARN) -O1 -g $(SAN) -MMD -MP

CORE_SRC  := $(sort $(wildcard src/core/*.c src/core/*/*.c))
HOST_SRC  := $(sort $(wildcard src/host/*.c))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
# Sandbox-side code shared by the KVM guest and the process sandbox's helper.
SBOX_SRC  := src/guest/hostcall_client.c src/guest/region_alloc.c src/guest/sandbox_entry.c
LIBC_SRC  := $(sort $(wildcard src/guest/libc/*.c))
GUEST_SRC := $(sort $(wildcard src/guest/kvm/*.c)) $(LIBC_SRC)
GUEST_ASM := $(sort $(wildcard src/guest/kvm/*.S))
# The process sandbox's helper: a static program with no libc.
HELPER_SRC := $(sort $(wildcard src/guest/process/*.c))
HELPER_ASM := $(sort $(wildcard src/guest/process/*.S))

# zlib and libzstd decode compressed image data inside the sandbox: linked
# into the host binary for the process sandbox and statically (Debian's
# archives) into the KVM guest image.
DECOMP_LIBS := -lzstd -lz
GUEST_DECOMP_LIBS := /usr/lib/x86_64-linux-gnu/libzstd.a /usr/lib/x86_64-linux-gnu/libz.a

HOST_OBJ := $(patsubst %.c,$(BUILD)/host/%.o,$(CORE_SRC) $(HOST_SRC) $(CLI_SRC))

.PHONY: coverage all setup test unit guest-payloads test-build fuzz fuzz-smoke fuzz-long integration integration-slow difffuzz difffuzz-smoke demo bench clean
all: $(BUILD)/cordon

setup:
	@bash scripts/setup.sh

# ---- the product ----------------------------------------------------------
$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/guest_blob.o: src/host/guest_blob.S $(BUILD)/guest/guest.bin
	@mkdir -p $(dir $@)
	$(CC) -c -DGUEST_BIN='"$(BUILD)/guest/guest.bin"' $< -o $@

$(BUILD)/host/helper_blob.o: src/host/helper_blob.S $(BUILD)/guest/cordon-sandbox
	@mkdir -p $(dir $@)
	$(CC) -c -DHELPER_BIN='"$(BUILD)/guest/cordon-sandbox"' $< -o $@

$(BUILD)/cordon: $(HOST_OBJ) $(BUILD)/host/guest_blob.o $(BUILD)/host/helper_blob.o
	$(CC) $(CFLAGS) -o $@ $^ $(DECOMP_LIBS)

# ---- the KVM guest image: core + bare-metal runtime, freestanding ----------
GUEST_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Isrc/guest/libc/include \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
	-fno-asynchronous-unwind-tables -fno-builtin -fno-delete-null-pointer-checks \
	-MMD -MP
GUEST_OBJ := $(patsubst %.c,$(BUILD)/guest/%.o,$(CORE_SRC) $(SBOX_SRC) $(GUEST_SRC)) \
	$(patsubst %.S,$(BUILD)/guest/%.o,$(GUEST_ASM))

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
# compress.c alone includes zlib.h and zstd.h; the rest of core must not see
# the host's headers, so they come last and only for this file.
$(BUILD)/guest/src/core/compress.o: GUEST_CFLAGS += -idirafter /usr/include
$(BUILD)/guest/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/guest.elf: $(GUEST_OBJ) src/guest/kvm/guest.ld
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -T src/guest/kvm/guest.ld -o $@ $(GUEST_OBJ) \
		$(GUEST_DECOMP_LIBS) -lgcc
$(BUILD)/guest/guest.bin: $(BUILD)/guest/guest.elf
	objcopy -O binary $< $@

# ---- the process sandbox's helper: core + runtime, exec'd with nothing else
HELPER_OBJ = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(CORE_SRC) $(SBOX_SRC) $(LIBC_SRC) $(HELPER_SRC)) \
	$(patsubst %.S,$(BUILD)/$(1)/%.o,$(HELPER_ASM))
HELPER_LINK = $(CC) -nostdlib -static -no-pie -s -Wl,--build-id=none -Wl,-z,noexecstack \
	-o $@ $(filter %.o,$^) $(GUEST_DECOMP_LIBS) -lgcc
$(BUILD)/guest/cordon-sandbox: $(call HELPER_OBJ,guest)
	$(HELPER_LINK)
# The test build's helper (test hooks: CORDON_TEST_MISBEHAVE), never shipped.
$(BUILD)/guest-test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -DCORDON_TEST_HOOKS -c $< -o $@
$(BUILD)/guest-test/src/core/compress.o: GUEST_CFLAGS += -idirafter /usr/include
$(BUILD)/guest-test/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest-test/cordon-sandbox: $(call HELPER_OBJ,guest-test)
	$(HELPER_LINK)

# ---- test-only build: build/cordon-test and misbehaving guest payloads -------
# Never shipped.  build/cordon-test is the product built with
# -DCORDON_TEST_HOOKS, which honours CORDON_TEST_GUEST=<payload.bin> (run that
# guest image instead of the embedded one), CORDON_TEST_TIMEOUT_MS and
# CORDON_TEST_MISBEHAVE.  Payloads (tests/guest_payloads/*.c) each define
# their own sandbox_entry() and link against the guest runtime only.
TEST_HOST_OBJ := $(patsubst %.c,$(BUILD)/test/%.o,$(CORE_SRC) $(HOST_SRC) $(CLI_SRC))
PAYLOAD_SRC   := $(sort $(wildcard tests/guest_payloads/*.c))
PAYLOAD_BINS  := $(patsubst tests/guest_payloads/%.c,$(BUILD)/payloads/%.bin,$(PAYLOAD_SRC))
PAYLOAD_RT    := $(patsubst %.c,$(BUILD)/guest/%.o,$(GUEST_SRC) src/guest/hostcall_client.c) \
	$(patsubst %.S,$(BUILD)/guest/%.o,$(GUEST_ASM))

$(BUILD)/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DCORDON_TEST_HOOKS -c $< -o $@
$(BUILD)/test/helper_blob.o: src/host/helper_blob.S $(BUILD)/guest-test/cordon-sandbox
	@mkdir -p $(dir $@)
	$(CC) -c -DHELPER_BIN='"$(BUILD)/guest-test/cordon-sandbox"' $< -o $@
$(BUILD)/cordon-test: $(TEST_HOST_OBJ) $(BUILD)/host/guest_blob.o $(BUILD)/test/helper_blob.o
	$(CC) $(CFLAGS) -o $@ $^ $(DECOMP_LIBS)

$(BUILD)/payloads/%.elf: $(BUILD)/guest/tests/guest_payloads/%.o $(PAYLOAD_RT) src/guest/kvm/guest.ld
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -T src/guest/kvm/guest.ld -o $@ $< $(PAYLOAD_RT) -lgcc
$(BUILD)/payloads/%.bin: $(BUILD)/payloads/%.elf
	objcopy -O binary $< $@
.PRECIOUS: $(BUILD)/payloads/%.elf

guest-payloads: $(PAYLOAD_BINS)
test-build: $(BUILD)/cordon-test guest-payloads

# ---- unit tests: core and host pieces in-process, ASan+UBSan ---------------
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
# An archive, so each test links only the objects it uses.
# The cli without main(): its parsers are tested and fuzzed in-process.
CLI_LIB_SRC := $(filter-out src/cli/main.c,$(CLI_SRC))
UNIT_OBJS  := $(patsubst %.c,$(BUILD)/unit/obj/%.o,$(CORE_SRC) $(HOST_SRC) $(SBOX_SRC) \
	$(CLI_LIB_SRC) tests/unit/memdev.c)
UNIT_LIBS  := $(BUILD)/unit/libcordon-test.a
$(UNIT_LIBS): $(UNIT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/unit/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(TEST_CFLAGS) -c $< -o $@
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LIBS)
	@mkdir -p $(dir $@)
	$(CLANG) $(TEST_CFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(DECOMP_LIBS)

unit: setup $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# ---- fuzzing ----------------------------------------------------------------
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
# An archive, as for unit tests: each target links only what it uses.
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRC) $(HOST_SRC) $(SBOX_SRC) \
	$(CLI_LIB_SRC) tests/unit/memdev.c)
FUZZ_LIBS := $(BUILD)/fuzz/libcordon-fuzz.a
$(FUZZ_LIBS): $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_RUNS ?= 20000
# Targets whose every run lays out megabytes (a VHDX is at least its 1 MiB
# header section and 1 MiB log; a whole dd job writes and reads back its
# output): fewer smoke runs, same campaigns.
FUZZ_SMOKE_HEAVY := fuzz_vhdx fuzz_dd_job fuzz_info_job
FUZZ_SMOKE_HEAVY_RUNS ?= 3000
# Whole convert jobs read their output back through its reader: fewer still.
FUZZ_SMOKE_SLOW := fuzz_convert_job
FUZZ_SMOKE_SLOW_RUNS ?= 400

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(DECOMP_LIBS)

fuzz: setup $(FUZZ_BINS)

fuzz-smoke: fuzz
	@set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); \
		runs=$(FUZZ_SMOKE_RUNS); case " $(FUZZ_SMOKE_HEAVY) " in *" $$n "*) runs=$(FUZZ_SMOKE_HEAVY_RUNS);; esac; \
		case " $(FUZZ_SMOKE_SLOW) " in *" $$n "*) runs=$(FUZZ_SMOKE_SLOW_RUNS);; esac; \
		echo "== $$n ($$runs runs)"; \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		$$f -runs=$$runs -seed=1 -close_fd_mask=2 $(BUILD)/fuzz/corpus/$$n \
			$$(test -d fuzz/corpus/$$n && echo fuzz/corpus/$$n) \
			> $(BUILD)/fuzz/$$n.log 2>&1 || { cat $(BUILD)/fuzz/$$n.log; exit 1; }; \
		tail -1 $(BUILD)/fuzz/$$n.log; done

fuzz-long: fuzz
	@set -e; for f in $(FUZZ_BINS); do mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$f); \
		$$f -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 $(BUILD)/fuzz/corpus/$$(basename $$f) \
			$$(test -d fuzz/corpus/$$(basename $$f) && echo fuzz/corpus/$$(basename $$f)); done

# ---- integration: the real binary against the real qemu-img ----------------
# In parallel (one worker per core); cases over 1 GiB are a target of their
# own.  CORDON_KVM_ALL=1 runs every matrix case under KVM too (conftest.py).
JOBS ?= $(shell nproc)
PYTEST := $(PYTHON) -m pytest -q -n $(JOBS) -p no:cacheprovider
integration: setup $(BUILD)/cordon test-build
	$(PYTEST) -m "not slow" tests/integration

integration-slow: setup $(BUILD)/cordon test-build
	$(PYTEST) -m slow tests/integration

# ---- coverage: src/core's lines reached by the unit tests and by every fuzz
# target run once over its corpora (docs/fuzzing.md) ---------------------------
COV        := $(BUILD)/cov
COV_CFLAGS := $(CSTD) $(WARN) -O0 -g -fprofile-instr-generate -fcoverage-mapping -MMD -MP
COV_OBJS   := $(patsubst %.c,$(COV)/obj/%.o,$(CORE_SRC) $(HOST_SRC) $(SBOX_SRC) \
	$(CLI_LIB_SRC) tests/unit/memdev.c)
COV_UNIT   := $(patsubst tests/unit/%.c,$(COV)/unit/%,$(UNIT_SRC))
COV_FUZZ   := $(patsubst fuzz/%.c,$(COV)/fuzz/%,$(FUZZ_SRC))
$(COV)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(COV_CFLAGS) -c $< -o $@
$(COV)/libcordon-cov.a: $(COV_OBJS)
	rm -f $@ && ar rcs $@ $^
$(COV)/unit/%: tests/unit/%.c $(COV)/libcordon-cov.a
	@mkdir -p $(dir $@)
	$(CLANG) $(COV_CFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(DECOMP_LIBS)
$(COV)/fuzz/%: fuzz/%.c $(COV)/libcordon-cov.a
	@mkdir -p $(dir $@)
	$(CLANG) $(COV_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(DECOMP_LIBS)

coverage: setup $(COV_UNIT) $(COV_FUZZ)
	@bash scripts/coverage.sh $(COV) "$(COV_UNIT)" "$(COV_FUZZ)"

# ---- differential fuzzing: cordon dd, convert and info against qemu-img's (docs/difffuzz.md)
# The smoke run's seed is derived from the commit (printed first), so every
# commit explores new cases and a failure replays with --seed N.
DIFFFUZZ       := $(PYTHON) scripts/differential-fuzz.py
DIFFFUZZ_SMOKE ?= 100
ITER           ?= 2000
SEED           ?= random
DIFFFUZZ_KEEP  ?= $(BUILD)/difffuzz-failures
DIFFFUZZ_OPS   ?= dd,convert,info

difffuzz-smoke: setup $(BUILD)/cordon
	$(DIFFFUZZ) --seed commit --iterations $(DIFFFUZZ_SMOKE) --ops $(DIFFFUZZ_OPS) --keep-failures $(DIFFFUZZ_KEEP)

difffuzz: setup $(BUILD)/cordon
	$(DIFFFUZZ) --seed $(SEED) --iterations $(ITER) --ops $(DIFFFUZZ_OPS) --keep-failures $(DIFFFUZZ_KEEP)

# Everything is built first, in parallel; then each stage runs.
test: setup
	$(MAKE) -j$(JOBS) all test-build $(UNIT_BINS) $(FUZZ_BINS)
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration
	$(MAKE) difffuzz-smoke

demo: setup $(BUILD)/cordon
	@bash scripts/demo.sh

bench: setup $(BUILD)/cordon
	@bash bench/run.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
