# Scenario "kernel-unload" (dom0 side): after the guest used an rng and a
# blk through virtio_msg_xen.ko, `rmmod virtio_msg_xen` closes the bus:
# the backend unmaps everything (no grant mapping left in its address
# space), B goes back to InitWait and F to Initialising, so the module
# loaded again (with zero_copy_bytes=4096: buffers as grant addresses)
# binds the same bus instance and works; a second rmmod leaves nothing
# mapped either. Both rounds time 8 MiB of direct I/O (VMSG-KPERF).
. /scenarios/kernel-lib.sh

IMG=/run/kul.img
dd if=/dev/zero of=$IMG bs=1M count=0 seek=16 2>/dev/null || fail "create $IMG"
step "start vmsg-backend; the domU gets an rng and a blk"
kbackend_start
BASE_XEN=$(kbackend_xen_maps)
echo "backend grant mapping lines before the guest: $BASE_XEN"
kdomu_start "type=rng" "type=blk target=$IMG"

for n in 1 2; do
    step "unload $n: the guest removes the module after using the devices"
    domu_wait "VMSG-KUL unloaded $n" 600
    back_to_base() { [ "$(kbackend_xen_maps)" = "$BASE_XEN" ]; }
    wait_for 8 back_to_base ||
        { grep -E 'gntdev' /proc/$BACKEND/maps; fail "unload $n: the backend still maps $(kbackend_xen_maps) grant lines (was $BASE_XEN)"; }
    echo "unload $n: backend grant mapping lines $(kbackend_xen_maps), B/state $(xenstore-read $B/state), F/state $(xenstore-read $F/state)"
    [ "$(xenstore-read $B/state)" = 2 ] || fail "unload $n: B/state is not InitWait"
    [ "$(xenstore-read $F/state)" = 1 ] || fail "unload $n: F/state is not Initialising"
done
kdomu_finish 300
grep "VMSG-KPERF" "$DOMU_LOG"
grep -c "serving dom$DOMID" /tmp/backend.log | grep -qx 2 ||
    fail "expected two connections in the backend's log (before and after the reload)"
