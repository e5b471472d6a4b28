#!/bin/bash
# The module and the tools are formatted as `make fmt` formats them
# (rustfmt with the kernel's .rustfmt.toml; cargo fmt for tools/):
# `make fmtcheck` finds nothing to change.
. "${0%/*}/../lib.sh"

need_cmd rustfmt cargo
out=$("$RLOOP_TOP/scripts/fmt.sh" --check 2>&1) ||
	fail "make fmtcheck wants changes (make fmt makes them):
$(head -n 40 <<<"$out")"
