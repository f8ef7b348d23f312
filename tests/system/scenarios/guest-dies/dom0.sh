# Scenario "guest-dies" (dom0 side), sourced by the dom0 /init.
# One vmsg-backend serves three domUs in turn, each with a blk device:
#   gd-warm   writes 1 MiB, reads it back and powers off: a full life, so
#             the backend's process has had a bus instance thread, blk I/O
#             threads and their glibc stack cache and malloc arena; its fd
#             count and mappings after that are the baseline (also printed
#             at start: the gntdev/xen lines and fds must equal those too);
#   gd-stream streams 16 MiB to its disk and is `xl destroy`ed mid-stream:
#             its kernel never runs again, so no unmap notification and no
#             Closing: the backend must learn it from @releaseDomain, drop
#             what was in flight, unmap every grant, close every fd, end
#             the instance's thread and remove B. Within a bounded wait the
#             fd count and the mappings are back at the baseline, the
#             backend still runs, vmsgctl status lists nothing for the dead
#             domain and Xen has released it (nothing maps its pages);
#   gd-new    a new guest then writes and reads back 1 MiB: the backend
#             serves it as if nothing happened, and dom0 reads its bytes;
#   gd-reboot a plain `xl create` of /etc/xen/gd-reboot.cfg (on_reboot
#             "restart", a virtio_msg blk entry) with `vmsgctl watch`
#             running: its first boot writes a marker (a random token,
#             "boot 1") to the disk, flushes and runs `reboot -f`; xl's
#             monitoring child destroys the domain and creates it again
#             under a new domid. The backend ends the old domid's instance
#             (B gone, Xen releases the domain), the watch removes the old
#             domid's nodes and attaches the entry for the new one; the
#             second boot, finding the marker, connects through the
#             handshake, reads the marker back and writes "boot 2". After
#             `xl destroy` the backend holds what it held at the baseline.

step "start vmsg-backend"
vmsg-backend --foreground --verbose > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_for 20 test -S /run/vmsg-backend/control ||
    { cat /tmp/backend.log; fail "vmsg-backend did not open its control socket"; }

# What the backend process holds: open fds, mapping lines, and the mapping
# lines of Xen devices (grant maps are /dev/xen/gntdev; the Xen libraries'
# own lines are not counted there).
fds() { ls /proc/$BACKEND/fd | wc -l; }
maps() { wc -l < /proc/$BACKEND/maps; }
xenmaps() { grep -c -E '/dev/xen|gntdev' /proc/$BACKEND/maps; }
held() { echo "fds $(fds), mapping lines $(maps), of them Xen devices $(xenmaps)"; }
START_FDS=$(fds) START_XEN=$(xenmaps)
echo "backend at start: $(held)"

listed() { xl list | awk -v id="$1" 'NR > 1 && $2 == id { found = 1 } END { exit !found }'; }

# guest NAME ROLE IMG: create domU NAME (paused) with the blk IMG as device
# 0 and let it run ROLE (domu.sh).
guest() {
    DOMU_NAME=$1
    DOMU_CMDLINE="vmsg.role=$2"
    domu_create paused
    dd if=/dev/zero of=$3 bs=1M count=0 seek=32 2>/dev/null || fail "create $3"
    d=$(vmsgctl attach "$DOMID" type=blk target=$3) && [ "$d" = 0 ] ||
        fail "vmsgctl attach blk to $1 (got '$d')"
    B=/local/domain/0/backend/virtio-msg/$DOMID/0
    wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend.log; fail "$1: B not InitWait with blk at 4"; }
    xl unpause $1 || fail "xl unpause $1"
}
served() {
    [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] &&
        [ "$(xenstore-read $B/devices/0/state 2>/dev/null)" = 4 ]
}
# released ID: the backend ended dom<ID>'s instance and removed B, and Xen
# let the domain go.
released() {
    grep -q "dom$1/bus0: instance ended" /tmp/backend.log &&
        ! xenstore-read /local/domain/0/backend/virtio-msg/$1/0/state > /dev/null 2>&1 &&
        ! listed "$1"
}
# io_ok NAME IMG: the guest wrote and read back 1 MiB; the image has it.
io_ok() {
    domu_wait "VMSG-GD-IO-OK" 180
    want=$(sed -n 's/.*VMSG-GD-IO-OK \([0-9a-f]*\).*/\1/p' "$DOMU_LOG" | head -n 1)
    got=$(head -c 1048576 $2 | sha256sum | cut -d' ' -f1)
    [ -n "$want" ] && [ "$want" = "$got" ] || fail "$1: $2 holds $got, the guest wrote '$want'"
}

step "gd-warm: a full guest life (connect, blk I/O, power off)"
guest gd-warm warm /run/gd-warm.img
WARM=$DOMID
io_ok gd-warm /run/gd-warm.img
wait_for 60 released $WARM || { tail -n 20 /tmp/backend.log; xl list; fail "gd-warm (dom$WARM) not released"; }
BASE_FDS=$(fds) BASE_MAPS=$(maps) BASE_XEN=$(xenmaps)
cp /proc/$BACKEND/maps /tmp/maps.base
echo "backend after a guest's life (the baseline): $(held)"
[ "$BASE_FDS" = "$START_FDS" ] || { ls -l /proc/$BACKEND/fd; fail "fds $BASE_FDS after gd-warm's life, $START_FDS at start"; }
[ "$BASE_XEN" = "$START_XEN" ] ||
    { grep -E 'gntdev|xen' /proc/$BACKEND/maps; fail "Xen device mappings $BASE_XEN after gd-warm's life, $START_XEN at start"; }

step "gd-stream: a continuous blk write stream"
guest gd-stream stream /run/gd-stream.img
STREAM=$DOMID
domu_wait "vmsg-front: [0-9]* bytes written" 300
grep -q "VMSG-GD-STREAM-ENDED" "$DOMU_LOG" && fail "the stream ended before the destroy: pace it slower"
echo "backend mid-stream: $(held)"
[ "$(xenmaps)" -gt "$BASE_XEN" ] || fail "no grant mapped mid-stream? $(held)"

step "xl destroy gd-stream (dom$STREAM) mid-stream"
xl destroy gd-stream || fail "xl destroy gd-stream"
wait_for 30 released $STREAM ||
    { xenstore-ls -f /local/domain/0/backend/virtio-msg; xl list; tail -n 30 /tmp/backend.log; fail "dom$STREAM: instance not ended, B not removed, or the domain not released"; }
kill -0 $BACKEND 2>/dev/null || { cat /tmp/backend.log; fail "vmsg-backend died with the guest"; }

step "the backend holds what it held before dom$STREAM"
back_to_base() { [ "$(fds)" = "$BASE_FDS" ] && [ "$(maps)" = "$BASE_MAPS" ] && [ "$(xenmaps)" = "$BASE_XEN" ]; }
wait_for 20 back_to_base || {
    ls -l /proc/$BACKEND/fd; diff /tmp/maps.base /proc/$BACKEND/maps
    fail "after dom$STREAM died: $(held); baseline fds $BASE_FDS, mapping lines $BASE_MAPS, Xen $BASE_XEN"; }
echo "backend after dom$STREAM died: $(held)"
vmsgctl status --json > /tmp/status.json 2> /tmp/status.err || fail "vmsgctl status"
cat /tmp/status.json /tmp/status.err
grep -q "not reachable" /tmp/status.err && fail "the backend's control socket did not answer"
grep -q "\"frontend_id\":$STREAM," /tmp/status.json && fail "vmsgctl status still lists dom$STREAM"
grep -E "dom$STREAM|dom$STREAM/bus0" /tmp/backend.log | tail -n 8

step "gd-new: a new guest does blk I/O"
guest gd-new new /run/gd-new.img
NEW=$DOMID
io_ok gd-new /run/gd-new.img
wait_for 60 released $NEW || { tail -n 20 /tmp/backend.log; fail "gd-new (dom$NEW) not released"; }
wait_for 20 back_to_base || fail "after gd-new: $(held); baseline fds $BASE_FDS, mapping lines $BASE_MAPS, Xen $BASE_XEN"

step "gd-reboot: plain xl create with on_reboot=\"restart\", devices from vmsgctl watch"
WLOG=/tmp/watch.log
vmsgctl watch > $WLOG 2>&1 &
WATCH=$!
wait_for 20 grep -q "watching for domains" $WLOG || { cat $WLOG; fail "vmsgctl watch did not start"; }
IMG=/run/gd-reboot.img
dd if=/dev/zero of=$IMG bs=1M count=0 seek=32 2>/dev/null || fail "create $IMG"
DOMU_NAME=gd-reboot DOMU_CMDLINE="vmsg.role=reboot"
DOMU_CFG_EXTRA='on_reboot = "restart"
virtio_msg = [ "type=blk, target='$IMG'" ]'
domu_create     # writes /etc/xen/gd-reboot.cfg, where the watch finds it
FIRST=$DOMID
grep -E "^(name|on_reboot|virtio_msg)" /etc/xen/gd-reboot.cfg
domu_wait "VMSG-GD-BOOT1 [0-9a-f]* written" 180
TOKEN=$(sed -n 's/.*VMSG-GD-BOOT1 \([0-9a-f]*\) written.*/\1/p' "$DOMU_LOG" | head -n 1)
# The guest flushed before rebooting: the image holds its marker.
[ "$(head -n 1 $IMG | tr -d '\000')" = "VMSG-GD-MARK $TOKEN boot 1" ] ||
    fail "$IMG does not start with boot 1's marker (token '$TOKEN'): $(head -c 64 $IMG | od -c | head -n 3)"

step "gd-reboot (dom$FIRST) reboots: xl restarts it as a new domain"
rebooted() { SECOND=$(xl domid gd-reboot 2>/dev/null) && [ "$SECOND" != "$FIRST" ]; }
wait_for 60 rebooted || { xl list; cat $WLOG; fail "gd-reboot still dom$FIRST (or gone) 60 s after its reboot -f"; }
echo "gd-reboot: dom$FIRST rebooted, now dom$SECOND"
wait_for 30 released $FIRST ||
    { xenstore-ls -f /local/domain/0/backend/virtio-msg; xl list; tail -n 30 /tmp/backend.log; fail "dom$FIRST: instance not ended, B not removed, or the domain not released"; }
old_gone() { ! xenstore-ls /local/domain/0/backend/virtio-msg/$FIRST > /dev/null 2>&1; }
wait_for 20 old_gone || { xenstore-ls -f /local/domain/0/backend/virtio-msg/$FIRST; fail "backend nodes of dom$FIRST are left"; }
wait_for 20 grep -q "domain $FIRST is gone" $WLOG || { cat $WLOG; fail "the watch did not see dom$FIRST go"; }

step "gd-reboot's second boot (dom$SECOND) reconnects and finds boot 1's marker"
domu_wait "VMSG-GD-BOOT2-OK $TOKEN" 180
grep -q "domain gd-reboot($SECOND): attaching 1 virtio_msg entries" $WLOG ||
    { cat $WLOG; fail "the watch did not attach the entry for dom$SECOND"; }
grep -q "serving dom$SECOND:" /tmp/backend.log || fail "no handshake of dom$SECOND in the backend's log"
[ "$(head -n 1 $IMG | tr -d '\000')" = "VMSG-GD-MARK $TOKEN boot 2" ] ||
    fail "$IMG does not start with boot 2's marker: $(head -c 64 $IMG | od -c | head -n 3)"
grep -E "VMSG-GD-BOOT|VMSG-DOMU-BOOTED" "$DOMU_LOG"
grep -E "dom$FIRST\b|dom$SECOND\b" /tmp/backend.log | grep -E "serving|gone|ended|started" | tail -n 8
cat $WLOG
echo "backend while dom$SECOND runs: $(held)"

step "xl destroy gd-reboot (dom$SECOND); stop the watch"
xl destroy gd-reboot || fail "xl destroy gd-reboot"
wait_for 30 released $SECOND || { tail -n 20 /tmp/backend.log; fail "gd-reboot (dom$SECOND) not released"; }
wait_for 20 back_to_base ||
    { ls -l /proc/$BACKEND/fd; diff /tmp/maps.base /proc/$BACKEND/maps
      fail "after gd-reboot: $(held); baseline fds $BASE_FDS, mapping lines $BASE_MAPS, Xen $BASE_XEN"; }
echo "backend after gd-reboot's two lives: $(held)"
wait_for 20 grep -q "domain $SECOND is gone" $WLOG || { cat $WLOG; fail "the watch did not see dom$SECOND go"; }
kill -TERM $WATCH
wait $WATCH || { cat $WLOG; fail "vmsgctl watch exited $? on SIGTERM"; }

step "SIGTERM: vmsg-backend exits 0"
kill -TERM $BACKEND
wait $BACKEND || { cat /tmp/backend.log; fail "vmsg-backend exited $?"; }
grep -E "error|warn" /tmp/backend.log | head -n 20
true
