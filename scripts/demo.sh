#!/bin/bash
# The README's first command: install what is missing (apt), build, and run
# the demo under real Xen 4.17 in QEMU: a guest created from an xl config
# file with virtio_msg entries uses rng, console and blk served by
# vmsg-backend in dom0. Prints what the guest saw and where the logs are.
#
#   scripts/demo.sh [--arch x86_64|aarch64] [--loopback]
#
# --loopback runs the in-process demo instead (both ends of a virtio-msg
# bus in one process, no Xen, no QEMU: seconds).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

arch=x86_64 loopback=0
while [ $# -gt 0 ]; do
    case $1 in
    --arch) arch=${2:?--arch needs x86_64 or aarch64}; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --loopback) loopback=1; shift ;;
    -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ $loopback = 1 ]; then
    scripts/install-deps.sh
    [ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
    if [ -e config.status ]; then
        dir=.                       # configured in-tree by a developer
    else
        dir=build
        mkdir -p "$dir"
        [ -e "$dir/config.status" ] || (cd "$dir" && "$src/configure" -q)
    fi
    make -s -C "$dir" -j"$(nproc)" tools/vmsg-loopback-demo tools/vmsgctl
    echo
    exec "$dir/tools/vmsg-loopback-demo"
fi

# What tests/system/build.sh and run.sh need on the host for this arch.
# kmod: depmod and modinfo for the guest's kernel modules; the guest's
# kernel frontend is built against downloaded headers with the host's gcc,
# and the headers' prebuilt tools (objtool, modpost) link libelf.
host_pkgs="cpio xz-utils binutils kmod libelf1"
case $arch in
x86_64|amd64) arch=x86_64; host_pkgs="$host_pkgs qemu-system-x86" ;;
aarch64|arm64)
    # dwarves: pahole, which the 6.12 kernel's build of the module runs
    # (the 16 KiB-page guest of kernel-blk-16k).
    arch=aarch64; host_pkgs="$host_pkgs qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross dwarves"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "demo.sh: adding arm64 as a dpkg architecture (for the cross build's libraries)"
        if [ "$(id -u)" -eq 0 ]; then dpkg --add-architecture arm64; else sudo dpkg --add-architecture arm64; fi
        if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    fi ;;
*) echo "demo.sh: unknown architecture '$arch' (x86_64 or aarch64)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086 # a list of package names
scripts/install-deps.sh $host_pkgs

. tests/system/common.sh
vmsg_arch "$arch"
echo "::: building Xen $VMSG_XENVER boot images and the project's programs for $ARCH"
echo "    (Debian's packages are downloaded into $ARCH_CACHE, nothing is installed into /boot)"
bash tests/system/build.sh "$ARCH"

echo "::: booting Xen under QEMU: dom0 starts vmsg-backend and runs 'vmsgctl create demo.cfg'"
rc=0
VMSG_TAIL=${VMSG_TAIL:-80} bash tests/system/run.sh "$ARCH" demo || rc=$?

# Split the serial log: what dom0 printed for us, the guest's console, the
# backend's log (both are inside the VM; dom0 copies them to the console).
serial=$ARCH_CACHE/logs/demo.log
logs=$ARCH_CACHE/logs/demo
mkdir -p "$logs"
section() { # begin-marker end-marker
    sed -E 's/^\[ *[0-9.]+\] //' "$serial" | sed -n "/^$1\$/,/^$2\$/p" | sed '1d;$d'
}
section VMSG-DEMO-BEGIN VMSG-DEMO-END > "$logs/transcript.txt"
section VMSG-DEMO-BACKEND-LOG VMSG-DEMO-BACKEND-LOG-END > "$logs/vmsg-backend.log"
if [ $rc -eq 0 ]; then
    echo
    cat "$logs/transcript.txt"
    echo
    echo "::: the demo ran: logs are in $logs/ (transcript.txt, vmsg-backend.log)"
    echo "    and the whole serial console (Xen, dom0, domU) in $serial"
else
    echo "::: the demo FAILED (see above); the serial console is in $serial" >&2
fi
exit $rc
