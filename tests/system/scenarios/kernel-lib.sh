# Shared by the kernel-* scenarios (sourced by their dom0.sh and domu.sh):
# the guest runs Debian's unmodified virtio drivers on our bus through
# virtio_msg_xen.ko (frontend-shim/linux).

# ---- dom0 ------------------------------------------------------------------

# kbackend_start: vmsg-backend in the background (BACKEND, /tmp/backend.log).
kbackend_start() {
    rm -f /run/vmsg-backend.pid
    vmsg-backend --foreground --verbose --pidfile /run/vmsg-backend.pid \
        > /tmp/backend.log 2>&1 &
    BACKEND=$!
    wait_for 20 test -s /run/vmsg-backend.pid ||
        { cat /tmp/backend.log; fail "vmsg-backend did not start"; }
}

# kdomu_start SPEC...: create the domU paused, attach one device per SPEC
# (vmsgctl attach words, quoted as one argument each: device 0, 1, ...),
# wait until the backend serves them all, unpause. Sets F, B, DOMID.
kdomu_start() {
    local spec d=0 got
    domu_create paused
    F=/local/domain/$DOMID/device/virtio-msg/0
    B=/local/domain/0/backend/virtio-msg/$DOMID/0
    for spec in "$@"; do
        # shellcheck disable=SC2086
        got=$(vmsgctl attach "$DOMID" $spec) && [ "$got" = $d ] ||
            fail "vmsgctl attach $spec (got '$got', expected device $d)"
        d=$((d + 1))
    done
    kserved() {
        local i=0
        [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] || return 1
        while [ $i -lt $d ]; do
            [ "$(xenstore-read $B/devices/$i/state 2>/dev/null)" = 4 ] || return 1
            i=$((i + 1))
        done
    }
    wait_for 30 kserved || { xenstore-ls -f $B; cat /tmp/backend.log; fail "devices not served"; }
    xl unpause domu || fail "xl unpause"
}

# kbackend_xen_maps: lines of grant mappings (/dev/xen/gntdev) in the
# backend's address space.
kbackend_xen_maps() {
    grep -c -E '/dev/xen/gntdev' /proc/$BACKEND/maps
}

# kdomu_finish [SECONDS]: wait for the guest's end, show the kernel lines it
# printed, check the backend's log, destroy the guest, stop the backend.
kdomu_finish() {
    domu_wait "VMSG-DOMU-DONE" "${1:-600}"
    echo "---- guest kernel lines"
    grep "VMSG-KLOG" "$DOMU_LOG" | sed 's/.*VMSG-KLOG //'
    echo "---- end guest kernel lines"
    xl destroy domu || fail "xl destroy"
    kill -TERM $BACKEND
    wait $BACKEND || { cat /tmp/backend.log; fail "vmsg-backend exited $?"; }
    echo "---- vmsg-backend log"
    cat /tmp/backend.log
    echo "---- end vmsg-backend log"
    if grep -E "framing error|malformed" /tmp/backend.log; then
        fail "the backend logged a framing error or a malformed message from the kernel frontend"
    fi
}

# ---- domU ------------------------------------------------------------------

# kguest_log_lines: the guest kernel's lines about our bus and its drivers,
# marked for dom0 (the guest console shows only errors at loglevel 4).
kguest_log_lines() {
    local d
    dmesg | grep -E 'virtio|vmsg|vd[a-z]|hwrng|EXT4' | grep -vi 'command line' |
        sed 's/^/VMSG-KLOG /'
    # Which driver holds which device (virtio-rng and virtio_console bind
    # without a kernel line).
    for d in /sys/bus/virtio/drivers/*/virtio*; do
        [ -e "$d" ] && echo "VMSG-KLOG bound: ${d#/sys/bus/virtio/drivers/}"
    done
}

# kguest_end: fail on any BUG/WARNING/Oops/refcount line, else report.
kguest_end() {
    kguest_log_lines
    kernel_log_clean || fail "the guest kernel logged a BUG, WARNING, Oops or refcount line"
}

# kguest_virtio_dev DRIVER: the virtio devices bound to DRIVER, one a line.
kguest_virtio_devs() {
    ls /sys/bus/virtio/drivers/$1 2>/dev/null | grep '^virtio'
}

# kguest_disk_of VIRTIODEV: its block device name (vda, ...), if any.
kguest_disk_of() {
    ls /sys/bus/virtio/devices/$1/block 2>/dev/null | head -n 1
}

# kguest_unload: unbind every bus instance, then rmmod the module. xenbus
# holds a reference on a frontend driver's module while it is bound to a
# device (as for xen-blkfront), so a bare rmmod fails with EAGAIN.
kguest_unload() {
    local d
    for d in /sys/bus/xen/drivers/virtio-msg/virtio-msg-*; do
        [ -e "$d" ] || continue
        echo "${d##*/}" > /sys/bus/xen/drivers/virtio-msg/unbind || return 1
    done
    rmmod virtio_msg_xen
}

# kguest_bound DRIVER [N]: at least N (default 1) devices bound to DRIVER
# (a function, so wait_for looks again each time).
kguest_bound() {
    [ "$(kguest_virtio_devs "$1" | wc -l)" -ge "${2:-1}" ]
}
