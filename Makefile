# safeguard: every developer and CI entry point. `make run` and `make test` install
# what they need on a fresh Debian 12 machine (see deps).

# ARCH=aarch64 (make build / package / vm-test ARCH=aarch64) cross-builds the same agent
# for arm64 on this x86_64 machine: rustup's aarch64 standard library, Debian's
# gcc-aarch64-linux-gnu and the :arm64 libelf and zlib (multiarch).
# Only a command-line ARCH counts: kernel build environments export ARCH (x86, arm64).
ifneq ($(origin ARCH),command line)
ARCH := x86_64
endif
TARGET   := $(ARCH)-unknown-linux-gnu
BIN      := target/$(TARGET)/release/safeguard
HOST_BIN := target/x86_64-unknown-linux-gnu/release/safeguard
CONFIG   ?= ./safeguard.toml
CACHE    ?= $(CURDIR)/.cache

DEB_PACKAGES := clang llvm libelf-dev zlib1g-dev pkg-config make gcc \
                qemu-system-x86 busybox-static cpio bpftool shellcheck python3

ifeq ($(ARCH),x86_64)
# One fully static binary for the host and the busybox initramfs alike. The explicit
# --target keeps crt-static off the build scripts.
STATIC_ENV := LIBBPF_SYS_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu \
              RUSTFLAGS="-C target-feature=+crt-static"
else ifeq ($(ARCH),aarch64)
# The arm64 library path is given for the target only: as the global one it would hand
# the build scripts (x86_64) the arm64 libelf.a. The global one stays as the x86_64 build
# sets it, so that both builds share the build scripts' dependencies instead of rebuilding
# them at each switch (libbpf-sys reruns when it changes); the arm64 link comes first and
# the linker skips the x86_64 archives. libbpf is vendored, compiled by the cc crate (CC_*).
STATIC_ENV := LIBBPF_SYS_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu \
              LIBBPF_SYS_LIBRARY_PATH_aarch64_unknown_linux_gnu=/usr/lib/aarch64-linux-gnu \
              CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
              AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
              CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
              RUSTFLAGS="-C target-feature=+crt-static"
DEB_PACKAGES += gcc-aarch64-linux-gnu libc6-dev-arm64-cross libelf-dev:arm64 zlib1g-dev:arm64
else
$(error ARCH=$(ARCH): x86_64 or aarch64)
endif

.PHONY: all build run test test-aarch64 host-test vm-test bench vmlinux clean deps

all: build

deps:
	@if [ "$(ARCH)" = aarch64 ]; then \
	  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64; \
	  rustup target list --installed 2>/dev/null | grep -qx $(TARGET) || rustup target add $(TARGET); \
	fi
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

# aarch64: the cross-built agent, its packages and a subset of the VM scenarios on Debian's
# arm64 kernels (tests/aarch64.sh), alone; `make test` runs it at its end.
test-aarch64:
	tests/aarch64.sh

host-test: build
	tests/host/run.sh $(BIN)

vm-test: build
	tests/vm/run.sh $(BIN)

# Overhead by instruction count (qemu -icount shift=0), never as timed assertions in tests.
# Results: bench/results.md (file, telemetry, detect and outputs: bench/run.sh, network:
# bench/run-network.sh).
bench: build
	bench/run.sh $(BIN)
	bench/run-network.sh $(BIN) > bench/results-network.md
	cat bench/results-file.md bench/results-telemetry.md bench/results-detect.md bench/results-outputs.md \
	    bench/results-network.md > bench/results.md
	@# events/report/generate throughput on a 1 GB log of each format (docs/analysis.md, "Speed")
	SAFEGUARD=$(BIN) SAFEGUARD_BENCH_MB=$${SAFEGUARD_BENCH_MB:-1000} tests/analysis/bench.sh
	@# inventory and risk on this host: wall and CPU time, entries walked (docs/inventory.md, "Speed")
	tests/inventory/bench.sh $(BIN)

# x86_64: the host's BTF. aarch64: the BTF inside Debian's newest arm64 cloud kernel (the
# VM tests' arm64-6.12, fetched by tests/vm/kernels.sh): its /boot/vmlinuz is a plain arm64
# Image, from which vmlinux/btf-from-image.sh cuts the .BTF blob.
vmlinux:
ifeq ($(ARCH),x86_64)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/x86_64/vmlinux.h
else
	tests/vm/kernels.sh arm64-6.12
	vmlinux/btf-from-image.sh $${SG_VM_CACHE:-/var/cache/safeguard-vm}/kernels/arm64-6.12/vmlinuz target/vmlinux-arm64.btf
	bpftool btf dump file target/vmlinux-arm64.btf format c > vmlinux/aarch64/vmlinux.h
endif

clean:
	cargo clean

# --- packages ---------------------------------------------------------------------------
# `make package`: a .deb and an .rpm of the static binary in $(PKG_OUT)/, with the config,
# the systemd unit, man pages and completions (generated by the binary itself).
# `make package-test`: tests/pkg/ installs, upgrades and removes both packages in a
# debootstrapped Debian root (cached in $(SG_PKG_CACHE)), checks the unit, and boots the
# .deb under systemd on a BPF LSM kernel in qemu (SG_PKG_VM=0 skips that).
# The packaging tools are pinned and installed from crates.io once.
CARGO_DEB_VERSION          := 3.8.0
CARGO_GENERATE_RPM_VERSION := 0.21.1
# The asset lists in Cargo.toml name these directories.
PKG_OUT      := target/package
PKG_ASSETS   := $(PKG_OUT)/assets
SG_PKG_CACHE ?= /var/cache/safeguard-pkg

.PHONY: package package-tools package-test

# cargo-deb and cargo-generate-rpm look for the binary under the cargo target dir, and
# $(BIN) assumes ./target: keep a CARGO_TARGET_DIR from the environment out of it.
package package-test: export CARGO_TARGET_DIR := $(CURDIR)/target

package-tools:
	@cargo deb --version 2>/dev/null | grep -qx 'cargo-deb $(CARGO_DEB_VERSION)' || \
	  cargo install --locked cargo-deb@$(CARGO_DEB_VERSION)
	@cargo generate-rpm --version 2>/dev/null | grep -qx 'cargo-generate-rpm $(CARGO_GENERATE_RPM_VERSION)' || \
	  cargo install --locked cargo-generate-rpm@$(CARGO_GENERATE_RPM_VERSION)

ifeq ($(ARCH),x86_64)
package: build package-tools
	rm -rf $(PKG_OUT) && mkdir -p $(PKG_OUT)
	$(BIN) assets $(PKG_ASSETS)
	gzip -9n $(PKG_ASSETS)/man/*.8
	cargo deb --no-build --no-strip --target $(TARGET) --output $(PKG_OUT)/
	cargo generate-rpm --target $(TARGET) --payload-compress gzip --output $(PKG_OUT)/
	@ls -l $(PKG_OUT)/*.deb $(PKG_OUT)/*.rpm
else
# `make package ARCH=aarch64`: safeguard_*_arm64.deb and safeguard-*.aarch64.rpm in
# $(PKG_OUT)/aarch64/. The man pages and completions come from the x86_64 binary (this
# machine cannot run the arm64 one; they are the same text). The asset lists in
# Cargo.toml name target/release/safeguard, which both tools read under target/$(TARGET)/.
package: build package-tools
	$(MAKE) --no-print-directory build ARCH=x86_64
	rm -rf $(PKG_ASSETS) $(PKG_OUT)/$(ARCH) && mkdir -p $(PKG_OUT)/$(ARCH)
	$(HOST_BIN) assets $(PKG_ASSETS)
	gzip -9n $(PKG_ASSETS)/man/*.8
	cargo deb --no-build --no-strip --target $(TARGET) --output $(PKG_OUT)/$(ARCH)/
	cargo generate-rpm --target $(TARGET) --payload-compress gzip --output $(PKG_OUT)/$(ARCH)/
	@ls -l $(PKG_OUT)/$(ARCH)/*.deb $(PKG_OUT)/$(ARCH)/*.rpm
endif

# `make vagrant-test`: the .deb on a locally built Vagrant box (libvirt provider) under its
# systemd: vagrant up, the package's systemd checks over vagrant ssh, vagrant destroy
# (tests/vagrant/run.sh; README "Tests" gives the time). `make test` runs it at its end.
.PHONY: vagrant-test
vagrant-test: export CARGO_TARGET_DIR := $(CURDIR)/target
vagrant-test: package
	@[ "$(ARCH)" = x86_64 ] || { echo "vagrant-test: the box is x86_64"; exit 2; }
	SG_PKG_CACHE=$(SG_PKG_CACHE) tests/vagrant/run.sh $(PKG_OUT)/safeguard_*_amd64.deb

# The upgrade test needs a newer package of the same files: revision 2 of each.
package-test: package
	@[ "$(ARCH)" = x86_64 ] || { echo "package-test: the package roots run x86_64 only; for $(ARCH) see tests/vm (make vm-test ARCH=$(ARCH))"; exit 2; }
	cargo deb --no-build --no-strip --target $(TARGET) --deb-revision 2 --output $(PKG_OUT)/upgrade/
	cargo generate-rpm --target $(TARGET) --payload-compress gzip --set-metadata 'release = "2"' --output $(PKG_OUT)/upgrade/
	SG_PKG_CACHE=$(SG_PKG_CACHE) tests/pkg/run.sh $(PKG_OUT) $(BIN)
