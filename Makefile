# SPDX-License-Identifier: GPL-2.0
#
# rloop: out-of-tree build and the project's entry points.
#
#   make                  rloop.ko and the tools: the module for the running
#                         kernel if it is built with Rust, else for the
#                         project's test kernel (set up and built on first
#                         use; it says so)
#   make KDIR=<dir>       the module for any Rust-enabled kernel build tree
#   sudo make install     module, rloopctl, header, udev rules, man pages and
#                         completions (PREFIX=/usr/local, DESTDIR honoured)
#   sudo make uninstall   removes what install installed
#   sudo make dkms        registers the module with DKMS (dkms-remove undoes);
#                         DKMS_KERNEL=<release> for an installed kernel that
#                         is not the running one
#   make run              boot the test kernel in QEMU and show rloop working
#   make check            host unit tests and the guest test suite
#   make check-all        make check on every kernel (6.12 and 7.3)
#   sudo make check-debian  a Debian trixie system booting Debian's own 7.3
#                         kernel in QEMU: rloop through DKMS, checked there
#   make ... KERNEL=7.3   run, check, stress, bench and hops on 7.3
#   make stress           the long variants (tests/stress/), under 30 min
#   make bench            rloop vs the raw file vs loop, non-debug kernel
#   make hops             one QD1 read's time, hop by hop, from ftrace events
#   make fmt / fmtcheck   rustfmt with the kernel's .rustfmt.toml
#
# The kernel's Rust toolchain is passed explicitly (scripts/env.sh): rustup's
# rustc comes first on PATH and is another version.

export KDIR
T ?=
# KERNEL=7.3 builds, boots and benchmarks 7.3 instead of 6.12 (scripts/kernels.sh).
ifneq ($(KERNEL),)
export RLOOP_KERNEL := $(KERNEL)
endif

.PHONY: all modules tools install uninstall dkms dkms-remove setup kernel run \
	check check-all check-debian stress bench hops fmt fmtcheck clean

all: modules tools

modules:
	@scripts/module.sh

tools:
	@scripts/tools.sh

install:
	@scripts/install.sh install

uninstall:
	@scripts/install.sh uninstall

dkms:
	@scripts/dkms.sh add

dkms-remove:
	@scripts/dkms.sh remove

setup:
	@scripts/setup.sh

kernel: setup
	@scripts/kernel.sh test

run:
	@scripts/run.sh

check:
	@scripts/check.sh $(T)

check-all:
	@scripts/check-all.sh $(T)

check-debian:
	@scripts/debian.sh $(T)

stress:
	@RLOOP_SUITE=stress scripts/check.sh $(T)

bench:
	@scripts/bench.sh

hops:
	@scripts/hops.sh

fmt:
	@scripts/fmt.sh

fmtcheck:
	@scripts/fmt.sh --check

clean:
	@scripts/module.sh clean
	@rm -rf target tools/target
