# Scenario "bus-basic" (dom0 side), sourced by the dom0 /init.
# vmsg-backend in dom0 serves rng, console and a 64 MiB blk (an image in
# dom0's tmpfs) to the domU over the virtio-msg Xen bus. In the domU,
# vmsg-front selftest passes and 8 MiB of random data go through blk and
# read back with the same SHA-256; here the image file must hold the same
# bytes, vmsgctl status shows the backend's counters (control socket) and
# the --trace log the decoded GET_DEVICES. Then SIGTERM: the backend
# closes the bus (B/state 6), unmaps everything and exits 0; restarted, it
# serves the bus again; when the domU is destroyed it drops the instance
# (B removed) and Xen releases the domain (nothing of it stays mapped).

BLK_IMG=/run/vmsg-blk.img
CON_LOG=/run/vmsg-console.log
DATA_MB=8

step "start vmsg-backend (--trace)"
vmsg-backend --foreground --verbose --trace --pidfile /run/vmsg-backend.pid \
    > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_for 20 test -s /run/vmsg-backend.pid ||
    { cat /tmp/backend.log; fail "vmsg-backend did not start"; }

step "create the domU (paused) and a 64 MiB image"
domu_create paused
dd if=/dev/zero of=$BLK_IMG bs=1M count=0 seek=64 2>/dev/null || fail "create $BLK_IMG"

# The toolstack's part: vmsgctl attach creates the bus instance (both
# directories, libxl's permissions) with the first device, then adds the
# others, each in one transaction (docs/protocol.md 2.1-2.3 and 6).
step "vmsgctl attach rng, console, blk to dom$DOMID"
F=/local/domain/$DOMID/device/virtio-msg/0
B=/local/domain/0/backend/virtio-msg/$DOMID/0
d=$(vmsgctl attach "$DOMID" type=rng) && [ "$d" = 0 ] || fail "vmsgctl attach rng (got '$d')"
d=$(vmsgctl attach "$DOMID" type=console output=file:$CON_LOG) && [ "$d" = 1 ] ||
    fail "vmsgctl attach console (got '$d')"
d=$(vmsgctl attach "$DOMID" type=blk target=$BLK_IMG) && [ "$d" = 2 ] ||
    fail "vmsgctl attach blk (got '$d')"
vmsgctl list "$DOMID" || fail "vmsgctl list"

step "backend publishes InitWait and serves the three devices"
served() {
    [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] || return 1
    for d in 0 1 2; do
        [ "$(xenstore-read $B/devices/$d/state 2>/dev/null)" = 4 ] || return 1
    done
}
wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend.log; fail "B not InitWait with devices 4"; }

step "vmsgctl check: the live tree matches xenstore-schema/virtio-msg-v1.json"
vmsgctl check || { xenstore-ls -fp /local/domain; cat /tmp/backend.log; fail "vmsgctl check"; }

step "domU: selftest and $DATA_MB MiB through blk"
xl unpause domu || fail "xl unpause"
domu_wait "VMSG-DOMU-BUS-OK" 900
grep -E "^(PASS|FAIL|selftest)|VMSG-DOMU-TIME" "$DOMU_LOG"

step "dom0 sees the guest's bytes in $BLK_IMG"
want=$(sed -n 's/.*VMSG-DOMU-SHA \([0-9a-f]*\).*/\1/p' "$DOMU_LOG" | head -n 1)
got=$(head -c $((DATA_MB * 1048576)) $BLK_IMG | sha256sum | cut -d' ' -f1)
echo "domU wrote $want"
echo "image has  $got"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "image differs from what the domU wrote"
grep -q "hello from the guest" $CON_LOG || fail "console line not in $CON_LOG"
echo "console: $(cat $CON_LOG)"

step "vmsgctl status and check after the guest's session"
vmsgctl status > /tmp/status.out 2> /tmp/status.err || fail "vmsgctl status"
cat /tmp/status.out /tmp/status.err
[ -S /run/vmsg-backend/control ] || fail "no control socket at /run/vmsg-backend/control"
! grep -q "not reachable" /tmp/status.err || fail "the backend's control socket did not answer"
# The instance's line: "ring: ...; messages: received R sent S ...".
counts=$(sed -n 's/.*messages: received \([0-9]*\) sent \([0-9]*\) .*/\1 \2/p' /tmp/status.out)
rx=${counts% *} tx=${counts#* }
[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ] ||
    fail "vmsgctl status: expected non-zero messages received and sent, saw '${counts:-no backend line}'"
# The guest closed its session: the instance waits for the next one.
vmsgctl status --json | grep -q '"backend_stats":{"connected":false,"ring":null,"messages":{"received":[1-9]' ||
    fail "vmsgctl status --json: expected backend_stats of a disconnected instance with messages"
grep -q 'kicks: received [1-9][0-9]* sent [1-9]' /tmp/status.out ||
    fail "vmsgctl status: expected kicks both ways over the guest's session"
step "vmsg-backend --trace logged the guest's GET_DEVICES, decoded"
grep -q "trace {\"instance\":\"dom$DOMID/bus0\",\"direction\":\"received\",\"name\":\"GET_DEVICES\",\"kind\":\"request\"" /tmp/backend.log ||
    { grep -m 5 'trace {' /tmp/backend.log; fail "no decoded GET_DEVICES request in the trace log"; }
grep -m 2 '"name":"GET_DEVICES"' /tmp/backend.log
echo "trace lines: $(grep -c 'trace {' /tmp/backend.log)"
vmsgctl check || { xenstore-ls -fp /local/domain; fail "vmsgctl check after the session"; }

step "SIGTERM: vmsg-backend closes the bus (B/state 6) and exits 0"
kill -TERM $BACKEND
wait $BACKEND
rc=$?
[ $rc -eq 0 ] || { cat /tmp/backend.log; fail "vmsg-backend exited $rc"; }
[ "$(xenstore-read $B/state)" = 6 ] || { xenstore-ls -f $B; fail "B/state not 6 after exit"; }
cat /tmp/backend.log > /tmp/backend-1.log

step "a restarted vmsg-backend serves the bus again"
vmsg-backend --foreground --verbose > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend.log; fail "not served again"; }

step "xl destroy: the backend drops the instance and maps nothing of dom$DOMID"
xl destroy domu || fail "xl destroy"
b_gone() { ! xenstore-read $B/state > /dev/null 2>&1; }
wait_for 30 b_gone || { xenstore-ls -f $B; cat /tmp/backend.log; fail "B not removed"; }
listed() { xl list | awk -v id="$DOMID" 'NR > 1 && $2 == id { found = 1 } END { exit !found }'; }
gone() { ! listed; }
wait_for 30 gone || { xl list; fail "dom$DOMID still listed (something still maps it)"; }
kill -TERM $BACKEND
wait $BACKEND || { cat /tmp/backend.log; fail "vmsg-backend exited $?"; }
echo "---- vmsg-backend log (first run, without its trace lines)"
grep -v 'trace {' /tmp/backend-1.log
echo "---- vmsg-backend log (second run)"
cat /tmp/backend.log
echo "---- end vmsg-backend log"
