#!/bin/bash
# tests/system/cross-check-arm64.sh: build the project for aarch64 (the
# cross build build.sh keeps in the cache, against the unpacked arm64
# libxen-dev, libcunit1-dev and libyajl-dev) and run its `make check` unit
# tests under qemu-aarch64 (Debian's qemu-user). Called by
# `make cross-check-arm64`; exits with make's status.
set -euo pipefail
. "$(dirname "$0")/common.sh"
vmsg_arch aarch64
need_cmd qemu-aarch64 qemu-user
missing_report
t0=$SECONDS
bash "$SYSTEM_DIR/build.sh" aarch64
B=$ARCH_CACHE/build
echo "running make check of the aarch64 build under qemu-aarch64 ($B)"
if VMSG_ARM64_SYSROOT=$ARCH_CACHE/root make -C "$B" -j"$(nproc)" check \
        LOG_COMPILER="$SYSTEM_DIR/qemu-aarch64-run.sh" > "$B/check.out" 2>&1; then
    grep -E "^# (TOTAL|PASS|FAIL|ERROR)" "$B/check.out" || true
    echo "cross-check-arm64: PASS ($((SECONDS - t0)) s)"
else
    tail -n 40 "$B/check.out"
    [ -f "$B/test-suite.log" ] && tail -n 60 "$B/test-suite.log"
    echo "cross-check-arm64: FAIL ($((SECONDS - t0)) s, logs in $B)"
    exit 1
fi
