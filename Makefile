# safeguard: every developer and CI entry point. `make run` and `make test` install
# what they need on a fresh Debian 12 machine (see deps).

TARGET   := x86_64-unknown-linux-gnu
BIN      := target/$(TARGET)/release/safeguard
CONFIG   ?= ./safeguard.toml
CACHE    ?= $(CURDIR)/.cache

# One fully static binary for the host and the busybox initramfs alike. The explicit
# --target keeps crt-static off the build scripts.
STATIC_ENV := LIBBPF_SYS_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu \
              RUSTFLAGS="-C target-feature=+crt-static"

DEB_PACKAGES := clang llvm libelf-dev zlib1g-dev pkg-config make gcc \
                qemu-system-x86 busybox-static cpio bpftool

.PHONY: all build run test host-test vm-test bench vmlinux clean deps

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(STATIC_ENV) cargo build --release --features libbpf-rs/static --target $(TARGET)

run: build
	$(BIN) run -c $(CONFIG)

# Unit tests, host BPF tests and kernel VM tests; ends with one "N passed, M failed" line.
test: build
	BIN=$(BIN) tests/run-all.sh

host-test: build
	tests/host/run.sh $(BIN)

vm-test: build
	tests/vm/run.sh $(BIN)

# Overhead by instruction count (qemu -icount shift=0), never as timed assertions in tests.
# Results: bench/results.md (file: bench/run.sh, network: bench/run-network.sh).
bench: build
	bench/run.sh $(BIN)
	bench/run-network.sh $(BIN) > bench/results-network.md
	cat bench/results-file.md bench/results-network.md > bench/results.md

vmlinux:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/x86_64/vmlinux.h

clean:
	cargo clean
