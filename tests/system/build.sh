#!/bin/bash
# tests/system/build.sh ARCH: build the Xen-under-QEMU boot images for one
# architecture (x86_64 or aarch64) into the cache directory
#   ${VMSG_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmsg-xen-qemu}/ARCH/
#
# Debian bookworm's Xen 4.17 hypervisor, Xen tools, kernel and busybox are
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into the
# cache: nothing is installed on the host, /boot is never touched. The
# project's programs are built for ARCH (cross-compiled for aarch64 against
# the unpacked libxen-dev:arm64) in a copy of the source tree in the cache,
# so the source tree's own build is left alone. They are linked dynamically
# and their libraries come from the unpacked packages: Debian's static
# libxenstore.a is built without threads, and without its reader thread a
# watch event that arrives while a reply is awaited makes libxenstore drop
# the connection (EINVAL, then EBADF on every later call).
#
# Outputs in the cache's ARCH/ directory:
#   xen, kernel          what QEMU boots (hypervisor, dom0 kernel)
#   dom0.cpio.gz         dom0 initramfs = dom0-base (busybox, xl, xenstored,
#                        modules, domU kernel; rebuilt only when the packages
#                        change) + overlay (project programs, scenarios, the
#                        domU initramfs; rebuilt every time, in seconds)
#   linux-headers        -> the build tree of the booted kernel's headers
#                        (kheaders/KVER/usr/src/linux-headers-KVER), which
#                        frontend-shim/linux is built against; the domU
#                        image has the module in /lib/modules/KVER/extra
#   aarch64 only, for the *-16k scenarios (a domU on Debian's 16 KiB-page
#   kernel, linux-image-6.12-arm64-16k):
#   kernel-16k           that kernel's Image
#   dom0-16k.cpio.gz     dom0.cpio.gz plus /boot/domu-kernel-16k and
#                        /boot/domu-16k.cpio.gz (its modules, the module
#                        built for it); run.sh boots it for a scenario
#                        whose dom0-initrd.aarch64 names it
#   linux-headers-16k    -> the build tree of that kernel's headers
# Environment:
#   VMSG_QEMU_CACHE      cache directory (see above)
#   VMSG_IMAGE_TARGET    make target that builds the programs for the images
#                        (default system-image-progs, see local.mk)
#   VMSG_OFFLINE=1       never call apt-get; fail if a package is not cached
#   VMSG_BENCH=1         also fetch fio, libaio1, libnuma1 and bash and
#                        build the benchmark's images (step 6, for
#                        bench.sh): dom0-bench.cpio.gz = dom0.cpio.gz + an
#                        overlay with bash, flock, loop and xen-blkback and
#                        the domU ramdisk /boot/domu-bench.cpio.gz (the
#                        domU image + fio, xenstore-read, xen-blkfront)
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: build.sh x86_64|aarch64"
vmsg_arch "$1"
A=$ARCH_CACHE
IMAGE_TARGET=${VMSG_IMAGE_TARGET:-system-image-progs}
XENBIN=/usr/lib/xen-$VMSG_XENVER/bin
t_start=$SECONDS

# ---- 0. host tools --------------------------------------------------------
# depmod and modinfo live in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
need_cmd apt-get apt
need_cmd dpkg-deb dpkg
need_cmd cpio cpio
need_cmd gzip gzip
need_cmd readelf binutils
need_cmd make make
need_cmd autoreconf autoconf
need_cmd aclocal automake
need_cmd pkg-config pkg-config
need_cmd xz xz-utils
# depmod writes the domU's modules.dep; modinfo reads the modules' depends.
need_cmd depmod kmod
need_cmd modinfo kmod
# The kernel module is built with the compiler the kernel headers name
# (gcc-12 on Debian 12, cross for arm64).
if [ "$ARCH" = x86_64 ]; then
    need_cmd gcc gcc
    need_cmd gcc-12 gcc-12
    need_file /usr/include/xenctrl.h libxen-dev
    need_file /usr/include/yajl/yajl_gen.h libyajl-dev
else
    need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    need_cmd aarch64-linux-gnu-gcc-12 gcc-12-aarch64-linux-gnu
    # The module for the 16K kernel (6.12): its linux-kbuild runs pahole for
    # the module's BTF (the package depends on it); sparse checks it (C=1).
    need_cmd pahole dwarves
    need_cmd sparse sparse
fi
missing_report
if [ "$ARCH" = aarch64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    die "arm64 packages are not available to apt: run
    dpkg --add-architecture arm64 && apt-get update"
fi

mkdir -p "$A/debs"

# ---- 1. fetch and unpack the Debian packages ------------------------------
# The kernel metapackage is resolved each time so security updates (ABI
# bumps) are followed.
kpkg=$(apt-cache depends "linux-image-$DEB_ARCH:$DEB_ARCH" 2>/dev/null |
       awk '/Depends: linux-image-[0-9]/{print $2; exit}')
kpkg=${kpkg%:"$DEB_ARCH"}
[ -n "$kpkg" ] || die "cannot resolve linux-image-$DEB_ARCH with apt-cache (apt-get update?)"
KVER=${kpkg#linux-image-}
PKGS=(xen-hypervisor-$VMSG_XENVER-$DEB_ARCH xen-utils-$VMSG_XENVER xen-utils-common
      xenstore-utils libxenmisc$VMSG_XENVER libxenstore4 libxengnttab1 libxenevtchn1
      libxencall1 libxenforeignmemory1 libxendevicemodel1 libxentoolcore1 libxentoollog1
      libxenhypfs1 libyajl2 libc6 libgcc-s1 libuuid1 zlib1g liblzma5 libzstd1 libbz2-1.0
      liblz4-1 libfdt1 libnl-3-200 libnl-route-3-200 libtinfo6 liburing2 busybox-static "$kpkg"
      e2fsprogs libext2fs2 libcom-err2 libblkid1 util-linux)
# The benchmark's guest runs Debian's fio; Xen's block hotplug script needs bash.
[ "${VMSG_BENCH:-0}" = 1 ] && PKGS+=(fio libaio1 libnuma1 bash)
# The cross build links against the target's development packages.
[ "$ARCH" = aarch64 ] && PKGS+=(libxen-dev libyajl-dev libcunit1-dev libcunit1 liburing-dev)
fetched=0
fetch_deb() { # dir package[:arch][=version] file-glob: apt-get download unless cached
    compgen -G "$1/$3" >/dev/null && return 0
    [ "${VMSG_OFFLINE:-0}" = 1 ] && die "package $2 not in $1 and VMSG_OFFLINE=1"
    (cd "$1" && apt-get download -q "$2" 2>&1 | grep -v -i 'unsandboxed' >&2) || true
    compgen -G "$1/$3" >/dev/null || die "apt-get download $2 failed (network? apt-get update?)"
    fetched=1
}
for p in "${PKGS[@]}"; do
    fetch_deb "$A/debs" "$p:$DEB_ARCH" "${p}_*.deb"
done
if [ ! -e "$A/root/.stamp" ] || [ $fetched = 1 ] ||
   [ -n "$(find "$A/debs" -newer "$A/root/.stamp" -name '*.deb')" ]; then
    echo "unpacking $(ls "$A/debs" | wc -l) packages into $A/root"
    rm -rf "$A/root" && mkdir -p "$A/root"
    for d in "$A"/debs/*.deb; do dpkg-deb -x "$d" "$A/root"; done
    touch "$A/root/.stamp"
fi
R0=$A/root
MODDIR=$R0/lib/modules/$KVER/kernel/drivers/xen
[ -d "$MODDIR" ] || die "kernel $KVER has no $MODDIR (stale cache? rm -rf $A/root)"

# ---- 1b. the headers of that exact kernel, for the out-of-tree module ----
# linux-headers-$KVER (ARCH), the -common tree it includes (arch all) and
# linux-kbuild for the HOST (its fixdep/modpost run here), at the version
# the headers package names. Kept out of debs/ (which all goes into the
# root filesystems) and unpacked into a private tree; nothing installed.
# kernel_headers KVER: fetch and unpack them into $A/kheaders/KVER; sets
# KDIR to the build tree.
mkdir -p "$A/kdebs" "$A/kheaders"
kernel_headers() {
    local kver=$1 kh=$A/kheaders/$1 hdeb hver fver p spec inc broken d
    local kheader_debs
    KDIR=$kh/usr/src/linux-headers-$kver
    fetch_deb "$A/kdebs" "linux-headers-$kver:$DEB_ARCH" "linux-headers-${kver}_*.deb"
    hdeb=$(compgen -G "$A/kdebs/linux-headers-${kver}_*.deb" | tail -n 1)
    hver=$(dpkg-deb -f "$hdeb" Version)
    fver=${hver//:/%3a}
    kheader_debs=("$hdeb")
    for p in $(dpkg-deb -f "$hdeb" Depends | tr ',' '\n' |
               sed -n 's/^ *\(linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*\).*/\1/p'); do
        case $p in
        linux-kbuild-*) spec="$p:$(dpkg --print-architecture)=$hver" ;;
        *) spec="$p=$hver" ;;
        esac
        fetch_deb "$A/kdebs" "$spec" "${p}_${fver}_*.deb"
        kheader_debs+=("$(compgen -G "$A/kdebs/${p}_${fver}_*.deb" | tail -n 1)")
    done
    [ ${#kheader_debs[@]} -eq 3 ] ||
        die "linux-headers-$kver: expected a -common and a linux-kbuild dependency, got: ${kheader_debs[*]}"
    if [ ! -e "$kh/.stamp" ] || [ -n "$(find "${kheader_debs[@]}" -newer "$kh/.stamp")" ]; then
        echo "unpacking the headers of $kver into $kh"
        rm -rf "$kh" && mkdir -p "$kh"
        for d in "${kheader_debs[@]}"; do dpkg-deb -x "$d" "$kh"; done
        # The flavour's Makefile includes the -common one by absolute path.
        sed -i "s|^include /usr/src/|include $kh/usr/src/|" "$KDIR/Makefile"
        touch "$kh/.stamp"
    fi
    inc=$(sed -n 's/^include //p' "$KDIR/Makefile")
    [ -f "$inc" ] || die "$KDIR/Makefile includes '$inc', which is not in the unpacked headers"
    # scripts/ and tools/ point at ../../lib/linux-kbuild-*, the flavour at
    # ../linux-headers-*-common: all must resolve inside the tree.
    broken=$(find "$kh/usr/src" -xtype l | head -n 5)
    [ -z "$broken" ] || die "dangling symlinks in the unpacked headers: $broken"
}
kernel_headers "$KVER"
KDIR61=$KDIR
# A stable name for the build tree (configure --with-linux-headers=, CI).
ln -sfn "$KDIR" "$A/linux-headers"

# ---- 1c. aarch64: Debian's 16 KiB-page kernel for a second domU ----------
# linux-image-6.12-arm64-16k (resolved like the 4K kernel) boots the domU
# of the *-16k scenarios: every kernel page there is four 4 KiB grants.
# Its image package is unpacked privately (root-16k/, not debs/ and root/:
# the 4K images do not change) for the Image and the domU's modules; its
# headers are fetched as above, and the kernel module is built against
# them too (step 4). dom0 then has /boot/domu-kernel-16k and
# /boot/domu-16k.cpio.gz in dom0-16k.cpio.gz (step 5), which only the
# scenarios that ask for it boot (run.sh, dom0-initrd.aarch64).
KVER16=
if [ "$ARCH" = aarch64 ]; then
    k16=$(apt-cache depends "linux-image-6.12-arm64-16k:$DEB_ARCH" 2>/dev/null |
          awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    k16=${k16%:"$DEB_ARCH"}
    [ -n "$k16" ] || die "cannot resolve linux-image-6.12-arm64-16k with apt-cache (apt-get update?)"
    KVER16=${k16#linux-image-}
    fetch_deb "$A/kdebs" "$k16:$DEB_ARCH" "${k16}_*.deb"
    kdeb16=$(compgen -G "$A/kdebs/${k16}_*.deb" | tail -n 1)
    R16=$A/root-16k
    if [ ! -e "$R16/.stamp" ] || [ "$kdeb16" -nt "$R16/.stamp" ] ||
       [ ! -e "$R16/boot/vmlinuz-$KVER16" ]; then
        echo "unpacking $(basename "$kdeb16") into $R16"
        rm -rf "$R16" && mkdir -p "$R16"
        dpkg-deb -x "$kdeb16" "$R16"
        touch "$R16/.stamp"
    fi
    kernel_headers "$KVER16"
    KDIR16=$KDIR
    ln -sfn "$KDIR16" "$A/linux-headers-16k"
fi
KDIR=$KDIR61
# Older ABIs' header trees go.
for d in "$A"/kheaders/*; do
    [ -e "$d" ] || continue
    case ${d##*/} in "$KVER"|"$KVER16") ;; *) rm -rf "$d" ;; esac
done

# ---- 2. boot files --------------------------------------------------------
if [ "$ARCH" = x86_64 ]; then
    if [ ! -e "$A/xen" ] || [ "$R0/.stamp" -nt "$A/xen" ]; then
        zcat "$R0/boot/xen-$VMSG_XENVER-amd64.gz" > "$A/xen"
        cp "$R0/boot/vmlinuz-$KVER" "$A/kernel"
        # The domU kernel as an ELF vmlinux, so libxenguest does not un-xz an
        # 8 MB bzImage inside the emulated dom0 (about 5 s under TCG).
        off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$A/kernel" | head -1 | cut -d: -f1)
        { tail -c +$((off + 1)) "$A/kernel" | xz -dc --single-stream > "$A/vmlinux"; } 2>/dev/null || true
        [ "$(head -c 4 "$A/vmlinux" | od -An -c | tr -d ' ')" = 177ELF ] ||
            die "could not extract an ELF vmlinux from $A/kernel"
    fi
    DOMU_KERNEL=$A/vmlinux
else
    cp -u "$R0/boot/xen-$VMSG_XENVER-arm64" "$A/xen"
    cp -u "$R0/boot/vmlinuz-$KVER" "$A/kernel"     # arm64 vmlinuz is a raw Image
    DOMU_KERNEL=$A/kernel
    cp -u "$R16/boot/vmlinuz-$KVER16" "$A/kernel-16k"
fi

# ---- 3. base root filesystems (only when the packages changed) -----------
LIBDIRS="lib/$GNU_TRIPLET usr/lib/$GNU_TRIPLET lib usr/lib"
# An overlay sets BASE_ROOT to the base image it goes on: what the base
# already has (glibc, for one) is not copied again, also when a library
# copied for the overlay needs it.
BASE_ROOT=
copy_lib() { # rootfs soname
    local r=$1 so=$2 d
    for d in $LIBDIRS; do
        if [ -e "$R0/$d/$so" ]; then
            [ -e "$r/$d/$so" ] && return 0
            [ -n "$BASE_ROOT" ] && [ -e "$BASE_ROOT/$d/$so" ] && return 0
            mkdir -p "$r/$d"
            cp -L "$R0/$d/$so" "$r/$d/$so"
            copy_needed "$r" "$R0/$d/$so"
            return 0
        fi
    done
    die "library $so not found in the unpacked packages (add its package to PKGS)"
}
copy_needed() { # rootfs elf: its DT_NEEDED libraries, recursively
    local so
    for so in $(readelf -d "$2" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        copy_lib "$1" "$so"
    done
}
copy_bin() { # rootfs path-in-root
    mkdir -p "$1$(dirname "$2")"
    cp -L "$R0$2" "$1$2"
    copy_needed "$1" "$R0$2"
}
# copy_ko SRC DEST: a module file, uncompressed (busybox insmod and modprobe
# read plain .ko; Debian's 6.12 modules are .ko.xz).
copy_ko() {
    case $1 in
    *.ko.xz) xz -dc "$1" > "$2" ;;
    *.ko.zst) zstd -qdc "$1" > "$2" ;;
    *.ko.gz) gzip -dc "$1" > "$2" ;;
    *) cp "$1" "$2" ;;
    esac
}
xen_modules() { # rootfs drivers/xen-dir: the Xen device modules, flat in /lib/modules
    local m f
    for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs/xenfs; do
        f=$(compgen -G "$2/$m.ko*" | head -n 1)
        [ -n "$f" ] || die "no $m module in $2"
        copy_ko "$f" "$1/lib/modules/${m##*/}.ko"
    done
}
busybox_root() { # rootfs
    local r=$1
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root,lib/modules,var/log}
    cp "$R0/bin/busybox" "$r/bin/busybox"
    ln -sf busybox "$r/bin/sh"     # the rest: busybox --install at boot
    xen_modules "$r" "$MODDIR"
}
copy_interp() { # rootfs elf: its ELF interpreter (the loader), at its path
    local interp
    interp=$(readelf -l "$2" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
    [ -n "$interp" ] || return 0
    copy_lib "$1" "$(basename "$interp")"
    [ -e "$1$interp" ] || { mkdir -p "$1$(dirname "$interp")"
        ln -sf "/lib/$GNU_TRIPLET/$(basename "$interp")" "$1$interp"; }
}

# Debian's modules for the domU's kernel drivers (the kernel frontend's
# virtio devices, ext4 on a virtio disk), with everything they depend on:
# modinfo's depends, and its softdeps (ext4 and jbd2: pre: crypto-crc32c)
# resolved through the aliases of the whole module tree. What the kernel
# has built in (virtio, virtio_ring on arm64) is skipped. Copied to the
# same paths under /lib/modules/KVER, uncompressed (busybox modprobe reads
# plain .ko). modules.dep is made later, with the project's module, in the
# overlay (step 5).
DOMU_KMODS="virtio_ring virtio virtio-rng virtio_console virtio_blk virtio_net net_failover
failover ext4"
mod_name() { sed 's|.*/||; s/\.ko\(\.xz\|\.zst\|\.gz\)\?$//; s/-/_/g'; }
domu_modules() { # rootfs KVER: the modules of kernel KVER, from $R0 or $R16
    local r=$1 KVER=$2 KMODS t=$A/kmod-index todo m n f rel rel_ko deps a
    KMODS=$R0/lib/modules/$KVER
    [ -d "$KMODS" ] || KMODS=$R16/lib/modules/$KVER
    rm -rf "$t" && mkdir -p "$t/lib/modules"
    # An alias index of the full tree (the .deb ships none), made aside.
    cp -al "$KMODS" "$t/lib/modules/$KVER"
    depmod -b "$t" "$KVER" || die "depmod of the full $KVER module tree failed"
    (cd "$KMODS" && find kernel -name '*.ko*') > "$t/files"
    mod_name < "$t/files" > "$t/names"
    paste -d' ' "$t/names" "$t/files" > "$t/index"
    mod_name < "$KMODS/modules.builtin" > "$t/builtin"
    todo=$DOMU_KMODS
    : > "$t/done"
    while [ -n "$todo" ]; do
        set -- $todo; m=$1; shift; todo=$*
        n=$(echo "$m" | tr - _)
        grep -qx "$n" "$t/done" && continue
        echo "$n" >> "$t/done"
        if grep -qx "$n" "$t/builtin"; then continue; fi
        rel=$(awk -v n="$n" '$1 == n { print $2; exit }' "$t/index")
        [ -n "$rel" ] || die "module $m is neither a module nor built in in kernel $KVER"
        f=$KMODS/$rel
        mkdir -p "$r/lib/modules/$KVER/$(dirname "$rel")"
        rel_ko=${rel%.xz}; rel_ko=${rel_ko%.zst}; rel_ko=${rel_ko%.gz}
        copy_ko "$f" "$r/lib/modules/$KVER/$rel_ko"
        deps=$(modinfo -F depends "$f" | tr ',' ' ')
        # softdep: "pre: a b post: c" -> the modules providing a, b, c.
        # A name no module provides is built in (or absent): nothing to ship.
        for a in $(modinfo -F softdep "$f" | tr ' ' '\n' | grep -v ':$'); do
            deps="$deps $(awk -v a="$a" '$1 == "alias" && $2 == a { print $3 }' \
                "$t/lib/modules/$KVER/modules.alias")"
            grep -qx "$(echo "$a" | tr - _)" "$t/names" && deps="$deps $a"
        done
        todo="$todo $deps"
    done
    for f in modules.builtin modules.builtin.modinfo; do
        [ -e "$KMODS/$f" ] && cp "$KMODS/$f" "$r/lib/modules/$KVER/"
    done
    # The load order depmod follows, of the modules shipped (not all 4000).
    (cd "$r/lib/modules/$KVER" && find kernel -name '*.ko') > "$t/shipped"
    grep -Fxf "$t/shipped" "$KMODS/modules.order" > "$r/lib/modules/$KVER/modules.order" || true
    echo "domU modules ($KVER): $(cd "$r/lib/modules/$KVER" && find kernel -name '*.ko' | mod_name |
        LC_ALL=C sort | tr '\n' ' ')"
    rm -rf "$t"
}
mkcpio() { # dir output
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -6) > "$2"
}

if [ ! -e "$A/dom0-base.cpio.gz" ] || [ "$R0/.stamp" -nt "$A/dom0-base.cpio.gz" ] ||
   [ "$0" -nt "$A/dom0-base.cpio.gz" ]; then
    echo "building base root filesystems (kernel $KVER)"
    R=$A/domu-base
    rm -rf "$R"; busybox_root "$R"
    domu_modules "$R" "$KVER"
    # ext4 tools for the kernel-blk scenarios (Debian's, not busybox's
    # mke2fs: ext4 with its default features, and an e2fsck), and
    # util-linux's blkdiscard. They sit in /sbin, ahead of busybox's
    # applets in PATH, and busybox --install leaves existing files alone.
    for b in /sbin/mke2fs /sbin/e2fsck /sbin/blkdiscard; do
        copy_bin "$R" "$b"
        copy_interp "$R" "$R0$b"
    done
    ln -sf mke2fs "$R/sbin/mkfs.ext4"
    ln -sf e2fsck "$R/sbin/fsck.ext4"
    cp "$R0/etc/mke2fs.conf" "$R/etc/"
    mkcpio "$R" "$A/domu-base.cpio.gz"

    R=$A/dom0-base
    rm -rf "$R"; busybox_root "$R"
    for b in xl xenstored xenconsoled xen-init-dom0 xenstore-control; do
        copy_bin "$R" "$XENBIN/$b"
    done
    for b in xenstore xenstore-ls xenstore-read xenstore-write xenstore-list xenstore-rm \
             xenstore-chmod xenstore-exists; do
        copy_bin "$R" "/usr/bin/$b"
    done
    copy_interp "$R" "$R0$XENBIN/xl"
    copy_lib "$R" libgcc_s.so.1      # dlopen()ed by glibc for pthread_cancel
    cp -a "$R0/etc/xen/." "$R/etc/xen/" 2>/dev/null || true
    mkdir -p "$R"/etc/xen/scripts "$R"/var/lib/xen "$R"/var/log/xen/console "$R"/var/lock \
             "$R"/var/run "$R"/boot
    cp "$DOMU_KERNEL" "$R/boot/domu-kernel"
    mkcpio "$R" "$A/dom0-base.cpio.gz"
fi
# The 16K domU's base: the same programs, the 16K kernel's modules; and
# that kernel for dom0's /boot, in an archive of its own (dom0-16k-base).
if [ -n "$KVER16" ] && { [ ! -e "$A/domu-base-16k.cpio.gz" ] ||
       [ "$A/domu-base.cpio.gz" -nt "$A/domu-base-16k.cpio.gz" ] ||
       [ "$R16/.stamp" -nt "$A/domu-base-16k.cpio.gz" ]; }; then
    echo "building the 16K domU base root filesystem (kernel $KVER16)"
    R=$A/domu-base-16k
    rm -rf "$R" && cp -a "$A/domu-base" "$R"
    rm -rf "$R/lib/modules" && mkdir -p "$R/lib/modules"
    xen_modules "$R" "$R16/lib/modules/$KVER16/kernel/drivers/xen"
    domu_modules "$R" "$KVER16"
    mkcpio "$R" "$A/domu-base-16k.cpio.gz"
    R=$A/dom0-16k-base
    rm -rf "$R" && mkdir -p "$R/boot"
    cp "$A/kernel-16k" "$R/boot/domu-kernel-16k"
    mkcpio "$R" "$A/dom0-16k-base.cpio.gz"
fi

# ---- 4. the project's programs, for ARCH ---------------------------------
# A copy of the source tree: the tree itself may be configured in place,
# which forbids a second (VPATH) build from it.
B=$A/build
mkdir -p "$B" "$A/bin"
if git -C "$TOP_SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$TOP_SRCDIR" ls-files -z -c -o --exclude-standard
else
    (cd "$TOP_SRCDIR" && find . -type f ! -name '*.o' ! -name '*.a' ! -name Makefile \
        ! -name config.status ! -name config.h ! -name config.log ! -path './autom4te.cache/*' \
        ! -path '*/.deps/*' -print0)
fi | { (cd "$TOP_SRCDIR" && tar --null -T - -cf - 2>/dev/null) || true; } | tar -C "$B" -xf -

# The build is incremental across runs, so it keeps automake's dependency
# tracking: without it a changed header leaves objects built against the
# old layout, and the images run a mix of two versions. A build configured
# otherwise (by an older build.sh) is configured again.
# (config.status always holds the words in a help text: look at the
# options it was configured with, its ac_cs_config line.)
if [ ! -e "$B/config.status" ] ||
   grep -q -e "^ac_cs_config=.*--disable-dependency-tracking" "$B/config.status"; then
    echo "configuring the $ARCH build in $B"
    [ -e "$B/Makefile" ] && make -C "$B" -s distclean >/dev/null 2>&1
    (cd "$B" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed in $B"
    cfg=()
    if [ "$ARCH" = x86_64 ]; then
        cfg+=(--without-cunit)
    else
        # pkg-config answers from the unpacked arm64 development packages.
        # A caller's own sysroot wins: test-install.sh points it at its
        # DESTDIR to find the libvmsg-front it has just installed.
        PKGCONF=$A/bin/aarch64-linux-gnu-pkg-config
        printf '%s\n' '#!/bin/sh' "PKG_CONFIG_SYSROOT_DIR=\${PKG_CONFIG_SYSROOT_DIR:-$R0}" \
            "PKG_CONFIG_LIBDIR=$R0/usr/lib/aarch64-linux-gnu/pkgconfig:$R0/usr/share/pkgconfig" \
            'export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR' 'exec pkg-config "$@"' > "$PKGCONF"
        chmod +x "$PKGCONF"
        L=$R0/usr/lib/aarch64-linux-gnu
        cfg+=(--host=aarch64-linux-gnu CC=aarch64-linux-gnu-gcc PKG_CONFIG="$PKGCONF"
              CPPFLAGS="-isystem $R0/usr/include"
              LDFLAGS="-L$L -Wl,-rpath-link,$L -Wl,-rpath-link,$R0/lib/aarch64-linux-gnu")
    fi
    (cd "$B" && ./configure -q "${cfg[@]}" > "$B/configure.out" 2>&1) ||
        { tail -20 "$B/configure.out" >&2; die "configure failed (log: $B/config.log)"; }
fi
make -C "$B" -s -j"$(nproc)" "$IMAGE_TARGET" > "$B/make.out" 2>&1 ||
    { tail -30 "$B/make.out" >&2; die "building the programs for $ARCH failed (make $IMAGE_TARGET in $B)"; }
progs=$(make -C "$B" -s print-system-image-progs)

# The kernel frontend (frontend-shim/linux), built out of tree against the
# headers of the kernel the images boot: natively on amd64, cross for
# arm64. Kbuild writes its objects next to the sources, here in the copy.
# build_kmod SRC KDIR KVER [MAKE-ARGS...]: build it in SRC; the .ko files
# in `kmods`. Warnings are errors (Kbuild's -Werror; with C=1, sparse's
# warnings too).
build_kmod() {
    local src=$1 kdir=$2 kver=$3 t_kmod=$SECONDS f vm kmake
    shift 3
    kmods=()
    kmake=(make -C "$kdir" M="$src" -j"$(nproc)" "$@")
    [ "$ARCH" = aarch64 ] && kmake+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
    "${kmake[@]}" modules > "$src/modules.out" 2>&1 ||
        { tail -40 "$src/modules.out" >&2
          die "building the kernel module for $kver failed (${kmake[*]} modules; log $src/modules.out)"; }
    if grep -iE "(warning|error):" "$src/modules.out" >&2; then
        die "the kernel module build for $kver warned (${kmake[*]} modules; log $src/modules.out)"
    fi
    # The modules of this build (modules.order), not a stale .ko of an
    # earlier one left in the copy.
    while read -r f; do
        case $f in /*) ;; *) f=$src/$f ;; esac
        f=${f%.o}; f=${f%.ko}.ko
        [ -e "$f" ] || die "Kbuild lists $f in modules.order, but did not make it"
        vm=$(modinfo -F vermagic "$f")
        [ "${vm%% *}" = "$kver" ] || die "$f has vermagic '$vm', not $kver"
        kmods+=("$f")
    done < "$src/modules.order"
    [ ${#kmods[@]} -gt 0 ] || die "the kernel module build made no .ko in $src"
    echo "kernel module for $kver: $(basename -a "${kmods[@]}" | tr '\n' ' ')($((SECONDS - t_kmod)) s)"
}
KMOD_SRC=$B/frontend-shim/linux
kmods=() kmods16=()
if [ -f "$KMOD_SRC/Kbuild" ]; then
    build_kmod "$KMOD_SRC" "$KDIR" "$KVER"
    if [ -n "$KVER16" ]; then
        # Its own copy of the sources (objects of one kernel per tree);
        # cp -p keeps their times, so Kbuild rebuilds only what changed.
        # sparse (C=1) checks what is compiled for 6.12 (CI checks 6.1).
        S16=$A/kmod-16k
        mkdir -p "$S16"
        for f in "$KMOD_SRC"/Kbuild "$KMOD_SRC"/*.[ch]; do
            cmp -s "$f" "$S16/${f##*/}" || cp -p "$f" "$S16/"
        done
        k61=("${kmods[@]}")
        build_kmod "$S16" "$KDIR16" "$KVER16" C=1
        kmods16=("${kmods[@]}") kmods=("${k61[@]}")
    fi
else
    note "no frontend-shim/linux/Kbuild: the domU image has no kernel frontend module"
fi

# ---- 5. overlays: programs, scenarios, init scripts ----------------------
STRIP=strip
[ "$ARCH" = aarch64 ] && STRIP=aarch64-linux-gnu-strip
overlay() { # rootfs init-script base-rootfs
    local r=$1 p so interp
    rm -rf "$r"
    mkdir -p "$r/usr/local/bin" "$r/scenarios"
    BASE_ROOT=$3
    for p in $progs; do
        [ -x "$B/$p" ] || die "$B/$p was not built"
        $STRIP -o "$r/usr/local/bin/$(basename "$p")" "$B/$p"
        interp=$(readelf -l "$B/$p" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
        [ -n "$interp" ] || continue
        # The loader and libraries the base image lacks, from the packages.
        # libgcc_s is dlopen()ed by glibc's pthread_cancel (xs_close does).
        for so in $(readelf -d "$B/$p" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p') \
                  "$(basename "$interp")" libgcc_s.so.1; do
            [ -n "$(find "$3" -name "$so" -print -quit)" ] || copy_lib "$r" "$so"
        done
        if [ ! -e "$3$interp" ] && [ ! -e "$r$interp" ]; then
            mkdir -p "$r$(dirname "$interp")"
            ln -sf "/lib/$GNU_TRIPLET/$(basename "$interp")" "$r$interp"
        fi
    done
    BASE_ROOT=
    cp -r "$SYSTEM_DIR/scenarios/." "$r/scenarios/"
    cp "$SYSTEM_DIR/guest/functions.sh" "$r/scenarios/functions.sh"
    cp "$2" "$r/init"
    chmod +x "$r/init"
}
overlay "$A/domu-overlay" "$SYSTEM_DIR/guest/domu-init.sh" "$A/domu-base"
mkcpio "$A/domu-overlay" "$A/domu-overlay.cpio.gz"
# The project's kernel module(s) in /lib/modules/KVER/extra, and the
# module indexes (modules.dep, modules.alias, ...) of Debian's modules in
# the base plus those, made by the host's depmod in a staging tree of hard
# links: busybox modprobe reads modules.dep (dependencies, in load order)
# and modules.alias (e.g. crypto-crc32c, which ext4 asks for at mount).
# kmod_overlay DIR BASE-ROOTFS KVER KO...: those files, in DIR.
kmod_overlay() {
    local r=$1 base=$2 kver=$3 KS=$A/domu-kmod f
    shift 3
    rm -rf "$r" "$KS" && mkdir -p "$KS/lib/modules" "$r/lib/modules/$kver"
    cp -al "$base/lib/modules/$kver" "$KS/lib/modules/$kver"
    if [ $# -gt 0 ]; then
        mkdir -p "$KS/lib/modules/$kver/extra" "$r/lib/modules/$kver/extra"
        cp "$@" "$KS/lib/modules/$kver/extra/"
        cp "$@" "$r/lib/modules/$kver/extra/"
    fi
    depmod -b "$KS" "$kver" || die "depmod -b $KS $kver failed"
    for f in "$KS/lib/modules/$kver"/modules.*; do
        [ -e "$base/lib/modules/$kver/${f##*/}" ] || cp "$f" "$r/lib/modules/$kver/"
    done
    rm -rf "$KS"
}
kmod_overlay "$A/domu-kmod-overlay" "$A/domu-base" "$KVER" ${kmods[@]+"${kmods[@]}"}
mkcpio "$A/domu-kmod-overlay" "$A/domu-kmod-overlay.cpio.gz"
overlay "$A/dom0-overlay" "$SYSTEM_DIR/guest/dom0-init.sh" "$A/dom0-base"
mkdir -p "$A/dom0-overlay/boot"
# One gzip stream for the domU: libxenguest gunzips a PV ramdisk itself and
# stops after the first stream (the kernel would take concatenated ones).
{ zcat "$A/domu-base.cpio.gz" "$A/domu-overlay.cpio.gz" "$A/domu-kmod-overlay.cpio.gz"; } |
    gzip -1 > "$A/dom0-overlay/boot/domu.cpio.gz"
mkcpio "$A/dom0-overlay" "$A/dom0-overlay.cpio.gz"
# Concatenated compressed cpio archives are one initramfs to Linux.
cat "$A/dom0-base.cpio.gz" "$A/dom0-overlay.cpio.gz" > "$A/dom0.cpio.gz"
if [ -n "$KVER16" ]; then
    # The 16K domU's initramfs: its base, the same programs and scripts,
    # the module built for the 16K kernel. dom0-16k.cpio.gz is dom0.cpio.gz
    # plus the 16K kernel and that initramfs in /boot.
    kmod_overlay "$A/domu-kmod-overlay-16k" "$A/domu-base-16k" "$KVER16" \
        ${kmods16[@]+"${kmods16[@]}"}
    mkcpio "$A/domu-kmod-overlay-16k" "$A/domu-kmod-overlay-16k.cpio.gz"
    rm -rf "$A/dom0-16k-overlay" && mkdir -p "$A/dom0-16k-overlay/boot"
    { zcat "$A/domu-base-16k.cpio.gz" "$A/domu-overlay.cpio.gz" \
           "$A/domu-kmod-overlay-16k.cpio.gz"; } |
        gzip -1 > "$A/dom0-16k-overlay/boot/domu-16k.cpio.gz"
    mkcpio "$A/dom0-16k-overlay" "$A/dom0-16k-overlay.cpio.gz"
    cat "$A/dom0.cpio.gz" "$A/dom0-16k-base.cpio.gz" "$A/dom0-16k-overlay.cpio.gz" \
        > "$A/dom0-16k.cpio.gz"
fi

# ---- 6. the benchmark's images (VMSG_BENCH=1) ---------------------------
# Only the benchmark boot (bench.sh) uses them; the scenarios' images above
# stay as they are.
# fio_engine_stubs rootfs elf soname...: one small library that stands in
# for each soname, defining every symbol ELF takes from them (with the
# version ELF asks for) as a trap. Debian's fio links the libraries of its
# optional engines (Ceph rados/rbd, GlusterFS, NBD, RDMA, PMEM) directly,
# and with BIND_NOW: the real ones and what they need come to about 90 MB.
# The benchmark runs only libaio, so none of these is ever called.
STUB_CC=gcc
[ "$ARCH" = aarch64 ] && STUB_CC=aarch64-linux-gnu-gcc
fio_engine_stubs() {
    local r=$1 elf=$2 t=$A/fio-stubs so d lib
    shift 2
    rm -rf "$t" && mkdir -p "$t"
    : > "$t/defined"
    for so in $(readelf -d "$elf" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        case " $* " in *" $so "*) continue ;; esac
        for d in $LIBDIRS; do
            [ -e "$R0/$d/$so" ] || continue
            readelf --dyn-syms -W "$R0/$d/$so" |
                awk '$7 != "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' >> "$t/defined"
            break
        done
    done
    # name version ("-": none) of each strong undefined symbol no real library defines
    readelf --dyn-syms -W "$elf" | awk -v def="$t/defined" '
        BEGIN { while ((getline s < def) > 0) have[s] = 1 }
        $7 == "UND" && $5 != "WEAK" && $8 != "" {
            n = $8; v = "-"
            if (split(n, p, "@") > 1) { n = p[1]; v = p[2] }
            if (!(n in have)) print n, v
        }' | LC_ALL=C sort -u > "$t/syms"
    [ -s "$t/syms" ] || die "fio_engine_stubs: $elf takes no symbol from $*"
    awk '{ printf "void %s(void);\nvoid %s(void) { __builtin_trap(); }\n", $1, $1 }' \
        "$t/syms" > "$t/stubs.c"
    awk '{ v[$2] = v[$2] " " $1 ";" }
         END { for (k in v) if (k != "-") printf "%s {\n global:%s\n};\n", k, v[k]
               printf "STUBS {\n global:%s\n local: *;\n};\n", v["-"] }' \
        "$t/syms" > "$t/stubs.map"
    lib=/usr/lib/$GNU_TRIPLET/libfio-engine-stubs.so
    mkdir -p "$r/usr/lib/$GNU_TRIPLET"
    $STUB_CC -shared -fPIC -nostdlib -O1 -Wl,-soname,libfio-engine-stubs.so \
        -Wl,--version-script="$t/stubs.map" -o "$r$lib" "$t/stubs.c" ||
        die "fio_engine_stubs: building $lib failed (in $t)"
    for so in "$@"; do ln -sf libfio-engine-stubs.so "$r/usr/lib/$GNU_TRIPLET/$so"; done
    echo "fio: $(wc -l < "$t/syms") symbols of $* stubbed"
    rm -rf "$t"
}
FIO_STUB_LIBS="librados.so.2 librbd.so.1 libgfapi.so.0 libnbd.so.0 libibverbs.so.1
librdmacm.so.1 libpmem.so.1 libpmemblk.so.1"
if [ "${VMSG_BENCH:-0}" = 1 ]; then
    # domU: the test image (base + overlay, copied), plus fio and the
    # real libraries it uses (libaio, libnuma, zlib, libc), the stubs,
    # xenstore-read (the guest takes its orders from dom0 through
    # xenstore) and xen-blkfront; one tree, so one gzip stream.
    R=$A/domu-bench
    rm -rf "$R" && mkdir -p "$R"
    cp -a "$A/domu-base/." "$R/" && cp -a "$A/domu-overlay/." "$R/" ||
        die "copying the domU image into $R failed"
    FIO=/usr/bin/fio
    mkdir -p "$R/usr/bin"
    cp -L "$R0$FIO" "$R$FIO"
    for so in $(readelf -d "$R0$FIO" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        case " $(echo $FIO_STUB_LIBS) " in *" $so "*) ;; *) copy_lib "$R" "$so" ;; esac
    done
    # shellcheck disable=SC2086
    fio_engine_stubs "$R" "$R0$FIO" $FIO_STUB_LIBS
    copy_bin "$R" /usr/bin/xenstore-read
    mkdir -p "$R/lib/modules/bench"
    cp "$KMODS/kernel/drivers/block/xen-blkfront.ko" "$R/lib/modules/bench/"
    mkcpio "$R" "$A/domu-bench.cpio.gz"
    # dom0: bash and flock for Xen's block hotplug script (busybox has no
    # flock), the loop and blkback modules, the domU ramdisk.
    R=$A/dom0-bench
    rm -rf "$R" && mkdir -p "$R/boot" "$R/lib/modules/bench"
    BASE_ROOT=$A/dom0-base
    copy_bin "$R" /bin/bash
    copy_bin "$R" /usr/bin/flock
    BASE_ROOT=
    for m in loop xen-blkback/xen-blkback; do
        cp "$KMODS/kernel/drivers/block/$m.ko" "$R/lib/modules/bench/"
    done
    cp "$A/domu-bench.cpio.gz" "$R/boot/"
    mkcpio "$R" "$A/dom0-bench-overlay.cpio.gz"
    cat "$A/dom0.cpio.gz" "$A/dom0-bench-overlay.cpio.gz" > "$A/dom0-bench.cpio.gz"
    domu_gz=$(stat -c %s "$A/dom0-overlay/boot/domu.cpio.gz")
    echo "bench images: domU ramdisk $(stat -c %s "$A/domu-bench.cpio.gz") bytes" \
         "(the test image's: $domu_gz), dom0 initramfs $(stat -c %s "$A/dom0-bench.cpio.gz")" \
         "bytes (the test image's: $(stat -c %s "$A/dom0.cpio.gz"))"
fi
echo "built $ARCH images in $A ($((SECONDS - t_start)) s): programs: $(echo $progs | xargs -n1 basename | tr '\n' ' ')"
