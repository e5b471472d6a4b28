# SPDX-License-Identifier: GPL-2.0
#
# rloop: out-of-tree build and the project's entry points.
#
#   make                  build rloop.ko against the cached test kernel
#                         (set up and built on first use), or
#   make KDIR=<dir>       against any Rust-enabled kernel build directory
#   make run              boot the test kernel in QEMU and show rloop working
#   make check            host unit tests and the guest test suite
#   make stress           the long variants (tests/stress/), under 30 min
#   make bench            rloop vs the raw file vs loop, non-debug kernel
#   make fmt / fmtcheck   rustfmt with the kernel's .rustfmt.toml
#
# The kernel's Rust toolchain is passed explicitly (scripts/env.sh): rustup's
# rustc comes first on PATH and is another version.

export KDIR
T ?=

.PHONY: all modules setup kernel run check stress bench fmt fmtcheck clean

all: modules

modules:
	@scripts/module.sh

setup:
	@scripts/setup.sh

kernel: setup
	@scripts/kernel.sh test

run:
	@scripts/run.sh

check:
	@scripts/check.sh $(T)

stress:
	@RLOOP_SUITE=stress scripts/check.sh $(T)

bench:
	@scripts/bench.sh

fmt:
	@scripts/fmt.sh

fmtcheck:
	@scripts/fmt.sh --check

clean:
	@scripts/module.sh clean
	@rm -rf target tools/target
