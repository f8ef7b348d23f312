# Scenario "hotplug" (dom0 side), sourced by the dom0 /init.
# A running domU has an rng (device 0) and nothing else. Ten times over,
# dom0 attaches a blk as device 1 while the guest waits for it
# (`vmsg-front wait-device 1 present`: it sees EVENT_DEVICE READY), the
# guest writes 64 KiB and reads them back over the bus, then holds the
# device as a driver and waits for it to go (`wait-device 1 absent
# --hold`) while dom0 detaches it: the backend sends REMOVED, the guest's
# driver resets it at once, the backend destroys it (state 6) well within
# its 5 s wait, vmsgctl detach removes devices/1, and the guest's list
# drops it. Each round a fresh image, whose bytes dom0 checks. The
# backend's log must show ten detaches ended by the driver's reset and
# none by the timeout.

ROUNDS=10
B_STATE() { xenstore-read $B/state 2>/dev/null; }

step "start vmsg-backend"
vmsg-backend --foreground --verbose > /tmp/backend.log 2>&1 &
BACKEND=$!

step "create the domU (paused) with an rng as device 0"
domu_create paused
F=/local/domain/$DOMID/device/virtio-msg/0
B=/local/domain/0/backend/virtio-msg/$DOMID/0
d=$(vmsgctl attach "$DOMID" type=rng) && [ "$d" = 0 ] || fail "vmsgctl attach rng (got '$d')"
served() { [ "$(B_STATE)" = 2 ] && [ "$(xenstore-read $B/devices/0/state 2>/dev/null)" = 4 ]; }
wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend.log; fail "B not InitWait with rng at 4"; }
xl unpause domu || fail "xl unpause"

i=1
while [ $i -le $ROUNDS ]; do
    img=/run/hotplug-$i.img
    step "round $i: attach blk while the guest waits for it"
    dd if=/dev/zero of=$img bs=1M count=0 seek=4 2>/dev/null || fail "create $img"
    domu_count "waiting for device 1 to be present" $i
    d=$(vmsgctl attach "$DOMID" type=blk target=$img) && [ "$d" = 1 ] ||
        fail "vmsgctl attach blk (got '$d', expected device 1 again)"

    step "round $i: the guest sees it, writes and reads back, holds it"
    domu_count "waiting for device 1 to be absent (held by a driver)" $i
    want=$(sed -n "s/.*VMSG-HOTPLUG-SHA $i \([0-9a-f]*\).*/\1/p" "$DOMU_LOG" | head -n 1)
    got=$(head -c 65536 $img | sha256sum | cut -d' ' -f1)
    [ -n "$want" ] && [ "$want" = "$got" ] ||
        fail "round $i: $img holds $got, the guest wrote '${want}'"

    step "round $i: detach while the guest's driver holds it"
    t0=$(uptime_s)
    vmsgctl detach "$DOMID" 1 || { tail -n 30 /tmp/backend.log; fail "vmsgctl detach (round $i)"; }
    t1=$(uptime_s)
    echo "round $i: vmsgctl detach took $t0 -> $t1"
    xenstore-read $B/devices/1/state > /dev/null 2>&1 && fail "devices/1 still there after detach"
    [ "$(grep -c 'device 1: the driver let go: destroyed' /tmp/backend.log)" = $i ] ||
        { tail -n 30 /tmp/backend.log; fail "round $i: the backend did not see the driver let go"; }
    domu_count "bus 0: device 1 absent (its driver reset it)" $i
    domu_count "VMSG-HOTPLUG-ROUND $i OK" 1
    rm -f $img
    i=$((i + 1))
done

step "the guest finishes; no detach ran into the 5 s timeout"
domu_wait "VMSG-DOMU-DONE" 120
grep -q "did not reset it within 5 s" /tmp/backend.log &&
    { cat /tmp/backend.log; fail "a detach waited for the timeout"; }
grep -c "device 1: detaching" /tmp/backend.log
[ "$(grep -c 'EVENT_DEVICE .* not sent' /tmp/backend.log)" = 0 ] ||
    { cat /tmp/backend.log; fail "an EVENT_DEVICE was not sent"; }
grep -E "VMSG-HOTPLUG|present|absent" "$DOMU_LOG" | tail -n 6

step "xl destroy; the backend drops the instance"
xl destroy domu 2>/dev/null
b_gone() { ! xenstore-read $B/state > /dev/null 2>&1; }
wait_for 30 b_gone || { xenstore-ls -f $B; cat /tmp/backend.log; fail "B not removed"; }
kill -TERM $BACKEND
wait $BACKEND || { cat /tmp/backend.log; fail "vmsg-backend exited $?"; }
echo "---- vmsg-backend log (detaches)"
grep -E "device 1|leaving" /tmp/backend.log | tail -n 12
echo "---- end vmsg-backend log"
