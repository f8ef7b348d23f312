#!/bin/sh
# tests/system/qemu-aarch64-run.sh: automake LOG_COMPILER for running the
# unit tests of the aarch64 cross build on an x86_64 host (see
# cross-check-arm64.sh). An aarch64 ELF runs under qemu-aarch64 with the
# unpacked arm64 packages as its root for libraries (VMSG_ARM64_SYSROOT);
# anything else (a shell test) runs as is, with QEMU_LD_PREFIX set so that
# aarch64 programs it starts work where binfmt_misc runs them through qemu,
# and VMSGCTL pointing at the emulated vmsgctl where it does not.
: "${VMSG_ARM64_SYSROOT:?set by cross-check-arm64.sh}"
QEMU_LD_PREFIX=$VMSG_ARM64_SYSROOT
export QEMU_LD_PREFIX
magic=$(od -An -c -N 4 "$1" 2>/dev/null | tr -d ' ')
machine=$(od -An -tx1 -j 18 -N 2 "$1" 2>/dev/null | tr -d ' ')
if [ "$magic" = 177ELF ] && [ "$machine" = b700 ]; then
    exec qemu-aarch64 -L "$VMSG_ARM64_SYSROOT" "$@"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    VMSGCTL="qemu-aarch64 -L $VMSG_ARM64_SYSROOT ./tools/vmsgctl"
    export VMSGCTL
fi
exec "$@"
