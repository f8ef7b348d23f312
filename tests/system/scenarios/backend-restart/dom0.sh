# Scenario "backend-restart" (dom0 side), sourced by the dom0 /init.
# The domU streams 8 MiB of random data to a blk device with
# `vmsg-front --reconnect`, paced so that it takes a few seconds. Once the
# guest has written its first MiB, vmsg-backend gets SIGKILL: no clean
# close, B/state stays 4, the kernel tears its grant mappings down (which
# zeroes the backend's live byte in the channel page and kicks the guest).
# The guest must notice (F/state 6), and after vmsg-backend is started
# again it must reconnect with new grants, set the disk up again and
# resubmit what had not completed. Its stream then completes; the guest
# reads the data back over the bus and dom0 reads the image file: both
# SHA-256 must be those of the data. Nothing of the killed process may
# linger: at the end the domain is destroyed cleanly.

BLK_IMG=/run/vmsg-blk.img
DATA_MB=8

step "start vmsg-backend"
vmsg-backend --foreground --verbose > /tmp/backend-1.log 2>&1 &
BACKEND=$!

step "create the domU (paused), a 16 MiB image, attach blk"
domu_create paused
dd if=/dev/zero of=$BLK_IMG bs=1M count=0 seek=16 2>/dev/null || fail "create $BLK_IMG"
F=/local/domain/$DOMID/device/virtio-msg/0
B=/local/domain/0/backend/virtio-msg/$DOMID/0
d=$(vmsgctl attach "$DOMID" type=blk target=$BLK_IMG) && [ "$d" = 0 ] ||
    fail "vmsgctl attach blk (got '$d')"
served() {
    [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] &&
        [ "$(xenstore-read $B/devices/0/state 2>/dev/null)" = 4 ]
}
wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend-1.log; fail "B not InitWait with device 0 at 4"; }

step "domU streams $DATA_MB MiB; wait for its first MiB"
xl unpause domu || fail "xl unpause"
domu_wait "vmsg-front: [0-9]* bytes written" 300
grep -q "VMSG-DOMU-WRITE-RC" "$DOMU_LOG" &&
    fail "the stream ended before the kill: it must be paced slower to test anything"
[ "$(xenstore-read $B/state)" = 4 ] || fail "B/state is $(xenstore-read $B/state), expected 4 mid-stream"

step "SIGKILL vmsg-backend mid-stream"
kill -KILL $BACKEND
wait $BACKEND
rc=$?
[ $rc -eq 137 ] || fail "vmsg-backend exited $rc after SIGKILL, expected 137"
kill -0 $BACKEND 2>/dev/null && fail "vmsg-backend (pid $BACKEND) still exists after SIGKILL"
pidof vmsg-backend > /dev/null && fail "a vmsg-backend still runs: $(pidof vmsg-backend)"
echo "B/state left by the killed backend: $(xenstore-read $B/state)"

step "the guest notices: F/state 6 (Closed), nothing granted"
f_closed() { [ "$(xenstore-read $F/state 2>/dev/null)" = 6 ]; }
wait_for 20 f_closed || { xenstore-ls -f $F; domu_console; fail "F/state is $(xenstore-read $F/state), expected 6 after the backend died"; }
grep -q "VMSG-DOMU-WRITE-RC" "$DOMU_LOG" &&
    { domu_console; fail "the guest's stream ended while the backend was down: it must wait"; }

step "start vmsg-backend again: it returns the instance to InitWait"
vmsg-backend --foreground --verbose > /tmp/backend-2.log 2>&1 &
BACKEND=$!
back() { [ "$(xenstore-read $B/state 2>/dev/null)" = 4 ]; }
wait_for 30 back || { xenstore-ls -f $B; xenstore-ls -f $F; cat /tmp/backend-2.log; fail "the guest did not connect again (B/state $(xenstore-read $B/state))"; }

step "the guest's stream completes and reads back the same data"
domu_wait "VMSG-DOMU-RESTART-OK" 120
grep -E "bytes written|connected again|went away|resubmitted|VMSG-DOMU" "$DOMU_LOG"

step "dom0 sees the guest's bytes in $BLK_IMG"
want=$(sed -n 's/.*VMSG-DOMU-SHA \([0-9a-f]*\).*/\1/p' "$DOMU_LOG" | head -n 1)
got=$(head -c $((DATA_MB * 1048576)) $BLK_IMG | sha256sum | cut -d' ' -f1)
echo "domU wrote $want"
echo "image has  $got"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "image differs from what the domU wrote"

step "xl destroy: nothing of either backend process keeps dom$DOMID alive"
xl destroy domu || fail "xl destroy"
b_gone() { ! xenstore-read $B/state > /dev/null 2>&1; }
wait_for 30 b_gone || { xenstore-ls -f $B; cat /tmp/backend-2.log; fail "B not removed"; }
listed() { xl list | awk -v id="$DOMID" 'NR > 1 && $2 == id { found = 1 } END { exit !found }'; }
gone() { ! listed; }
wait_for 30 gone || { xl list; fail "dom$DOMID still listed (something still maps it)"; }
kill -TERM $BACKEND
wait $BACKEND || { cat /tmp/backend-2.log; fail "vmsg-backend exited $?"; }
echo "---- vmsg-backend log (killed run)"
cat /tmp/backend-1.log
echo "---- vmsg-backend log (second run)"
cat /tmp/backend-2.log
echo "---- end vmsg-backend log"
