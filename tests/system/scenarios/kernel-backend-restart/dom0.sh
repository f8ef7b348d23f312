# Scenario "kernel-backend-restart" (dom0 side): vmsg-backend is killed
# (SIGKILL) while the guest kernel's virtio_blk writes a 32 MiB stream to
# it, and started again. virtio_msg_xen.ko sees the backend gone, unshares,
# reconnects to the new one and sets each device up again on its rings:
# the stream completes with no I/O error, without a guest reboot, and the
# image holds exactly what the guest wrote.
. /scenarios/kernel-lib.sh

IMG=/run/kbr.img
step "start vmsg-backend; the domU gets a 64 MiB blk"
dd if=/dev/zero of=$IMG bs=1M count=0 seek=64 2>/dev/null || fail "create $IMG"
kbackend_start
kdomu_start "type=blk target=$IMG"

step "SIGKILL the backend in the middle of the guest's write stream"
domu_wait "VMSG-KBR chunk 4 " 600
kill -KILL $BACKEND
wait $BACKEND 2>/dev/null
echo "killed vmsg-backend (pid $BACKEND) after the guest's chunk $(grep -c 'VMSG-KBR chunk' "$DOMU_LOG")"
mv /tmp/backend.log /tmp/backend-killed.log

step "start it again: the guest reconnects and its stream completes"
kbackend_start
domu_wait "VMSG-KBR-OK" 600
grep "VMSG-KBR" "$DOMU_LOG" | grep -v chunk
want=$(sed -n 's/.*VMSG-KBR-SHA \([0-9a-f]*\).*/\1/p' "$DOMU_LOG" | head -n 1)
got=$(head -c 33554432 $IMG | sha256sum | cut -d' ' -f1)
echo "guest wrote $want"
echo "image holds $got"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "the image differs from the guest's stream"
grep -q "serving dom$DOMID" /tmp/backend.log || { cat /tmp/backend.log; fail "the new backend served no connection"; }
echo "---- the killed backend's log"
cat /tmp/backend-killed.log
kdomu_finish 120
grep -q "backend gone .*holding the devices" "$DOMU_LOG" ||
    fail "the guest's module never saw the backend go: the kill came after the stream"
