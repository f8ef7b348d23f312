# Scenario "kernel-hotplug" (dom0 side): ten times, attach a blk (device 1)
# to a running guest whose kernel runs virtio_msg_xen.ko: EVENT_DEVICE
# READY makes the module register a virtio device, virtio_blk binds it,
# the guest writes 1 MiB and reads it back; then detach: REMOVED makes the
# module unregister it, virtio_blk lets go and resets the device, and the
# backend destroys it on that reset, not on its 5 s timeout. An eleventh
# disk is detached while the guest has an ext4 filesystem on it mounted and
# a writer running: its I/O fails, the kernel stays clean.
. /scenarios/kernel-lib.sh

ROUNDS=10
step "start vmsg-backend; the domU gets an rng as device 0"
kbackend_start
kdomu_start "type=rng"

i=1
while [ $i -le $((ROUNDS + 1)) ]; do
    img=/run/khp-$i.img
    step "round $i: attach a blk while the guest waits for it"
    dd if=/dev/zero of=$img bs=1M count=0 seek=16 2>/dev/null || fail "create $img"
    domu_count "VMSG-KHP waiting" $i 300
    d=$(vmsgctl attach "$DOMID" type=blk target=$img) && [ "$d" = 1 ] ||
        fail "vmsgctl attach blk (got '$d', expected device 1 again)"
    domu_count "VMSG-KHP ready-for-detach" $i 120
    if [ $i -le $ROUNDS ]; then
        want=$(sed -n "s/.*VMSG-KHP-SHA $i \([0-9a-f]*\).*/\1/p" "$DOMU_LOG" | head -n 1)
        got=$(head -c 1048576 $img | sha256sum | cut -d' ' -f1)
        [ -n "$want" ] && [ "$want" = "$got" ] ||
            fail "round $i: $img holds $got, the guest wrote '$want'"
    fi
    step "round $i: detach"
    vmsgctl detach "$DOMID" 1 || { tail -n 30 /tmp/backend.log; fail "vmsgctl detach (round $i)"; }
    [ "$(grep -c 'device 1: the driver let go: destroyed' /tmp/backend.log)" = $i ] ||
        { tail -n 30 /tmp/backend.log; fail "round $i: the backend did not see the driver let go"; }
    domu_count "VMSG-KHP-ROUND .* OK" $i 120
    rm -f $img
    i=$((i + 1))
done

step "the guest's kernel stays clean; no detach waited for the timeout"
kdomu_finish 300
grep -q "did not reset it within 5 s" /tmp/backend.log && fail "a detach waited for the timeout"
grep "VMSG-KHP-ROUND" "$DOMU_LOG"
