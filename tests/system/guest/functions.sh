# Sourced by the guests' /init (dom0 and domU) and so by every scenario
# script. Busybox ash. Marker lines the host runner reads:
#   VMSG-STEP <text>            dom0: the step being run (reported on failure)
#   VMSG-PASS <scenario>        dom0: the scenario passed (the only pass marker)
#   VMSG-FAIL <scenario>: ...   dom0: it failed, and in which step
#   VMSG-DOMU-DONE / VMSG-DOMU-FAIL <text>   domU console, read by dom0

export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# The scenario, from the kernel command line (vmsg.scenario=NAME).
scenario_name() {
    local w
    for w in $(cat /proc/cmdline); do
        case $w in vmsg.scenario=*) echo "${w#vmsg.scenario=}"; return ;; esac
    done
}

# Only /bin/busybox and /bin/sh exist at first: the applet links are made
# here (--install needs /proc/self/exe).
mount_basics() {
    /bin/busybox mount -t proc proc /proc
    /bin/busybox --install -s
    mount -t sysfs sys /sys
    mount -t devtmpfs dev /dev
    mkdir -p /dev/pts /dev/shm /run /tmp
    mount -t devpts devpts /dev/pts
    mount -t tmpfs tmpfs /run
}

# Xen's userspace interfaces are modules in Debian's kernel; the .deb has no
# modules.dep, so load them in dependency order (xenfs needs privcmd).
load_xen_modules() {
    local m
    for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
        insmod /lib/modules/$m.ko || echo "insmod $m failed"
    done
    mkdir -p /proc/xen
    mount -t xenfs xenfs /proc/xen
}

# wait_for SECONDS COMMAND...: poll (every 0.5 s) until COMMAND succeeds.
wait_for() {
    local n=$(( $1 * 2 )); shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.5
        n=$((n - 1))
    done
    return 1
}

# load_kernel_frontend [MODULE...]: load the kernel frontend with busybox
# modprobe, which takes the dependencies from the image's modules.dep (made
# by build.sh with depmod): the virtio core (virtio_ring, virtio: modules on
# amd64, built in on arm64, skipped there), virtio_msg_xen, then each
# MODULE (e.g. virtio_blk virtio-rng). A module counts as loaded only when
# /proc/modules lists it (busybox modprobe's exit status is not trusted).
# On a failure: a VMSG-KMOD-FAIL line, the kernel's last lines, return 1.
# Use: load_kernel_frontend virtio_blk || fail "kernel frontend"
load_kernel_frontend() {
    local m n out dir=/lib/modules/$(uname -r)
    for m in virtio_ring virtio virtio_msg_xen "$@"; do
        n=$(echo "$m" | tr - _)
        sed 's|.*/||; s/\.ko$//; s/-/_/g' "$dir/modules.builtin" 2>/dev/null | grep -qx "$n" &&
            continue
        grep -q "^$n " /proc/modules && continue
        out=$(modprobe "$m" 2>&1)
        if ! grep -q "^$n " /proc/modules; then
            echo "VMSG-KMOD-FAIL modprobe $m: ${out:-no message}"
            dmesg | tail -n 15 | sed 's/^/VMSG-KMOD-FAIL dmesg: /'
            return 1
        fi
        [ -z "$out" ] || echo "modprobe $m: $out"
    done
    echo "kernel frontend loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
}

# The domU image also has Debian's e2fsprogs and util-linux's blkdiscard
# in /sbin. The shell runs busybox's own applet for a bare command name
# when busybox has one, whatever PATH says: mkfs.ext4, fsck.ext4 and
# e2fsck are Debian's, but "mke2fs" and "blkdiscard" are busybox's unless
# called as /sbin/mke2fs and /sbin/blkdiscard.

# kernel_log_clean: return 1, printing them (VMSG-KLOG lines), if the
# kernel log has a line of a bug, warning, oops, refcount error or call
# trace; 0 if it has none.
kernel_log_clean() {
    local bad
    bad=$(dmesg | grep -E 'BUG|WARNING|Oops|refcount|Call Trace')
    [ -z "$bad" ] && return 0
    echo "$bad" | sed 's/^/VMSG-KLOG /'
    return 1
}
