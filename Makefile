# probesim: build, test, demo and benchmark.
#
#   make demo    show the uprobe miss window on SMP (installs what is missing first)
#   make test    everything CI runs
#   make bench   long benchmarks (never part of test)
#
# `deps` installs missing Debian packages with apt-get (run as root on a
# fresh Debian 12). Go 1.26 must be on PATH (/usr/local/go/bin is added).

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/probesim
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

# Debian packages the build, the fixtures and the tests need. Unicorn is not
# among them: the engine is Debian 13's Unicorn 2.1.1, fetched into a
# project-local prefix (UNICORN_PREFIX) and linked statically, so
# bin/probesim needs no libunicorn at run time (scripts/fetch-unicorn.sh).
DEB_PACKAGES := gcc gcc-multilib musl-tools make binutils git
# What only the tests need: the demo's HTML page is checked in headless
# Chromium, the pandas snippet of docs/sweep.md runs on real results, and
# Debian's static busybox and bash run under probesim against native, and
# libc6-dbg gives libc.so.6's .symtab (its build-id debug file), where probes
# find the implementations behind glibc's IFUNCs; sash (a static shell with
# built-in commands) runs the process tests' shell cases.
TEST_DEB_PACKAGES := chromium python3-pandas busybox-static bash-static libc6-dbg sash
# What only `make bench` needs: qemu-user as the anchor of the programs
# table, and the third-party programs it runs.
BENCH_DEB_PACKAGES := qemu-user busybox-static bash-static
# What `deps` installs. `make demo` needs no browser: it installs only the
# build's packages (a target-specific value, seen by its prerequisites).
DEPS_PACKAGES = $(DEB_PACKAGES) $(TEST_DEB_PACKAGES)

# Packages whose tests run under the race detector: those without cgo hot paths.
RACE_PKGS := ./mmu/... ./emu/loader/... ./kernel/... ./emu/insn/... ./probes/... ./timing/... ./report/... ./fixtures/... ./sweep/... ./plot/... ./calibrate/... ./internal/ptraceinline/... ./internal/perfprobe/...

include fixtures/fixtures.mk

.PHONY: all deps unicorn build install uninstall test test-slurm demo demo-workload bench difftest check-go fmt-check vet race fuzz clean validate-timing validate-kernel validate-uprobes

all: build

check-go:
	@command -v $(GO) >/dev/null || { echo "make: Go 1.26 is required: put it on PATH (see README.md)" >&2; exit 1; }
	@$(GO) version | grep -Eq 'go1\.(2[6-9]|[3-9][0-9])' || { echo "make: Go 1.26 or newer is required, found: $$($(GO) version)" >&2; exit 1; }

UNICORN_PREFIX := build/unicorn
UNICORN_LIB := $(UNICORN_PREFIX)/usr/lib/x86_64-linux-gnu/libunicorn.a

deps: unicorn
	@missing=""; for p in $(DEPS_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: run as root (apt-get) or install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Unicorn 2.1.1 into build/unicorn (emu/uc's cgo flags point there). The
# download needs apt-get and the network of the package registry; nothing
# is installed on the system.
unicorn: $(UNICORN_LIB)

$(UNICORN_LIB): scripts/fetch-unicorn.sh
	@scripts/fetch-unicorn.sh $(CURDIR)/$(UNICORN_PREFIX)
	@test -f $@ && touch $@

build: deps check-go
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/probesim

# Install bin/probesim, its manual pages (generated from the commands) and
# its shell completions under PREFIX (DESTDIR for staging, as packagers use).
PREFIX ?= /usr/local
INSTALL_BIN = $(DESTDIR)$(PREFIX)/bin
INSTALL_MAN = $(DESTDIR)$(PREFIX)/share/man/man1
INSTALL_BASH = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
INSTALL_ZSH = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
INSTALL_FISH = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
install: build
	install -d $(INSTALL_BIN) $(INSTALL_MAN) $(INSTALL_BASH) $(INSTALL_ZSH) $(INSTALL_FISH)
	install -m 755 $(BIN) $(INSTALL_BIN)/probesim
	$(BIN) man $(INSTALL_MAN)
	$(BIN) completion bash > $(INSTALL_BASH)/probesim
	$(BIN) completion zsh > $(INSTALL_ZSH)/_probesim
	$(BIN) completion fish > $(INSTALL_FISH)/probesim.fish

uninstall:
	rm -f $(INSTALL_BIN)/probesim $(INSTALL_MAN)/probesim.1 $(INSTALL_MAN)/probesim-*.1 \
	  $(INSTALL_BASH)/probesim $(INSTALL_ZSH)/_probesim $(INSTALL_FISH)/probesim.fish

fmt-check: check-go
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet: deps check-go
	$(GO) vet ./...

race: deps check-go fixtures
	$(GO) test -race -count=1 $(RACE_PKGS)

test: deps check-go fixtures build fmt-check vet
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

demo: DEPS_PACKAGES = $(DEB_PACKAGES)
demo: build
	@$(BIN) demo $(DEMO_FLAGS)

# Rebuild the demo's embedded workload after changing its source; the
# build is reproducible and demo/workload_test.go checks the two agree.
demo-workload:
	$(FIXTURES_MUSL_CC) -static -O2 -o demo/workload/threads-x86_64.elf fixtures/src/c/threads.c

bench: DEPS_PACKAGES = $(DEB_PACKAGES) $(TEST_DEB_PACKAGES) $(BENCH_DEB_PACKAGES)
bench: build fixtures
	$(GO) run ./cmd/probesim-bench -probesim $(BIN)
	$(GO) test -run '^$$' -bench . -benchtime 3x ./smp/ ./emu/uc/ ./timing/ ./mmu/
	$(GO) test -run '^$$' -bench 'Hit(1000)?$$' -benchtime 10x ./probes/
	$(GO) test -run '^$$' -bench Sweep -benchtime 5x ./sweep/

# The probes' differential test against the host CPU on the whole corpus
# (probes/diff_test.go; make test runs a fixed sample of it).
difftest: deps check-go fixtures
	@mkdir -p build
	$(GO) test -count=1 -timeout 30m ./probes/ -run TestDifferentialAgainstTheCPU -v -difftest.all -difftest.report $(CURDIR)/build/difftest.txt
	@cat build/difftest.txt | sed -n '1,/^engine deviations/p'

# Compare the block model with llvm-mca-14 (docs/timing.md); installs llvm-14 if missing.
validate-timing: deps check-go fixtures
	@if [ ! -x /usr/bin/llvm-mca-14 ]; then \
	  echo "validate-timing: installing llvm-14"; \
	  if [ "$$(id -u)" != 0 ]; then echo "validate-timing: run as root (apt-get) or install llvm-14" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq llvm-14 >/dev/null; \
	fi
	$(GO) run ./timing/cmd/validatetiming

# A bounded fuzzing session: the ELF loader, the address space, the
# instruction helpers, the sweep config parser, the probe spec parser, the
# syscall layer, and extreme flag and config values run under a watchdog.
# Minimisation is kept short (FUZZ_MINIMIZE), so the time goes to fuzzing;
# FUZZ_TIME is per target.
FUZZ_TIME ?= 60s
FUZZ_MINIMIZE ?= 3s
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZ_TIME) -fuzzminimizetime $(FUZZ_MINIMIZE) -fuzz
fuzz: deps check-go fixtures
	$(FUZZ) FuzzParse ./emu/loader/
	$(FUZZ) FuzzOps ./mmu/
	$(FUZZ) FuzzFindFaulting ./emu/insn/
	$(FUZZ) FuzzParse ./sweep/
	$(FUZZ) FuzzResolve ./probes/
	$(FUZZ) FuzzSyscalls ./kernel/
	$(FUZZ) FuzzExtremeValues ./cmd/probesim/

clean: fixtures-clean
	rm -rf bin build

# docs/sweep.md's Slurm job array on a one-node Slurm cluster started on this
# machine (munged, slurmctld and slurmd on loopback, configured under
# build/slurm, stopped afterwards): 4 shards, merged, compared byte for byte
# with the unsharded sweep. Needs root; installs Debian's slurmctld, slurmd,
# slurm-client and munge if missing. Not part of `make test`.
SLURM_DEB_PACKAGES := slurmctld slurmd slurm-client munge
test-slurm: build fixtures
	@missing=""; for p in $(SLURM_DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "test-slurm: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "test-slurm: run as root (apt-get) or install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	scripts/test-slurm.sh $(CURDIR)

# Check probesim's predictions against this host's kernel (docs/calibrate.md):
# calibrate the host, then real uprobes (perf probe + perf stat) against
# --strategy xol, and the ptrace inline tracer's miss rates against
# --strategy inline. Needs root, perf and the uprobe PMU; installs linux-perf
# if perf is missing. Not part of `make test`. VALIDATE_FLAGS=-quick for a
# short run.
VALIDATE_FLAGS ?=
# Installs Debian's linux-perf if perf is missing or does not run; $(1) is
# the target's name, for its messages.
define need-perf
	@if ! command -v perf >/dev/null || ! perf version >/dev/null 2>&1; then \
	  echo "$(1): installing linux-perf"; \
	  if [ "$$(id -u)" != 0 ]; then echo "$(1): run as root (apt-get, perf probe) or install linux-perf" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null; \
	fi
endef
validate-kernel: build fixtures
	$(call need-perf,validate-kernel)
	$(BIN) calibrate --out bin/host.json --ptrace-out bin/ptrace-inline.json
	$(GO) run ./calibrate/cmd/validatekernel -host bin/host.json -ptrace bin/ptrace-inline.json $(VALIDATE_FLAGS)

# Probe counts of real uprobes (perf probe -x FILE at a symbol's offset,
# perf stat -e) against probesim --strategy xol on the same fixtures and
# libraries, main program and libc.so.6, static and dynamic, both arches
# (docs/validate-uprobes.md). Needs root and the uprobe PMU; installs
# linux-perf if missing. Not part of `make test`. Writes
# bin/validate-uprobes.json; VALIDATE_UPROBES_FLAGS='-run REGEXP' for some rows.
VALIDATE_UPROBES_FLAGS ?=
validate-uprobes: deps check-go fixtures
	$(call need-perf,validate-uprobes)
	@mkdir -p bin
	$(GO) run ./cmd/validateuprobes -json bin/validate-uprobes.json $(VALIDATE_UPROBES_FLAGS)
