# Scenario "vchan-compat" (dom0 side), sourced by the dom0 /init.
# Wire compatibility with Xen's libxenvchan (docs/protocol.md 4.6): in the
# domU, vmsg-vchan-front is a frontend whose channel is a real libxenvchan
# server (libxenvchan_server_init on F, libxenvchan_send/recv/wait), and it
# talks to this unmodified vmsg-backend: PING, GET_DEVICES against
# B/devices, GET_DEVICE_INFO and GET_CONFIG of rng, then the whole rng flow
# with its queue in the granted pool. It closes, the bus instance returns
# to InitWait, and vmsg-front selftest (our own channel) runs on the same
# bus instance. Here: the backend saw both connections, dropped nothing,
# found no framing error, and is back in InitWait.

CON_LOG=/run/vmsg-console.log

step "start vmsg-backend"
vmsg-backend --foreground --verbose --pidfile /run/vmsg-backend.pid > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_for 20 test -s /run/vmsg-backend.pid ||
    { cat /tmp/backend.log; fail "vmsg-backend did not start"; }

step "create the domU (paused), attach rng and console"
domu_create paused
F=/local/domain/$DOMID/device/virtio-msg/0
B=/local/domain/0/backend/virtio-msg/$DOMID/0
d=$(vmsgctl attach "$DOMID" type=rng) && [ "$d" = 0 ] || fail "vmsgctl attach rng (got '$d')"
d=$(vmsgctl attach "$DOMID" type=console output=file:$CON_LOG) && [ "$d" = 1 ] ||
    fail "vmsgctl attach console (got '$d')"
served() {
    [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] || return 1
    for d in 0 1; do
        [ "$(xenstore-read $B/devices/$d/state 2>/dev/null)" = 4 ] || return 1
    done
}
wait_for 30 served || { xenstore-ls -f $B; cat /tmp/backend.log; fail "B not InitWait with devices 4"; }

step "domU: vmsg-vchan-front (libxenvchan server), then vmsg-front selftest"
xl unpause domu || fail "xl unpause"
domu_wait "VMSG-DOMU-VCHAN-OK" 300
grep -E "^(PASS|FAIL)|vchan-front:|^selftest" "$DOMU_LOG"
nfail=$(grep -c "^FAIL " "$DOMU_LOG")
[ "$nfail" = 0 ] && grep -q "vchan-front: all checks passed" "$DOMU_LOG" ||
    fail "domU: expected 'vchan-front: all checks passed' and no FAIL line, saw $nfail FAIL"

step "the backend served both frontends and dropped nothing"
wait_for 10 served || { xenstore-ls -f $B; fail "B/state not back to InitWait (saw '$(xenstore-read $B/state)')"; }
nconn=$(grep -c "backend $B: serving dom$DOMID" /tmp/backend.log)
[ "$nconn" = 2 ] || { cat /tmp/backend.log; fail "expected 2 connections of dom$DOMID in the backend log (libxenvchan, then selftest), saw $nconn"; }
if grep -E -i "dropped|malformed|framing|refused|error" /tmp/backend.log; then
    cat /tmp/backend.log
    fail "the backend log reports dropped or malformed messages or an error (lines above)"
fi
xenstore-exists $B/error && fail "B/error is set: $(xenstore-read $B/error)"
[ "$(xenstore-read $F/state)" = 6 ] || [ "$(xenstore-read $F/state)" = 1 ] ||
    fail "F/state is '$(xenstore-read $F/state)' after the guest closed, expected 6 (Closed) or 1"
xenstore-read $F/backend > /dev/null || fail "F/backend is gone: libxenvchan_close removed F"

step "stop"
kill -TERM $BACKEND
wait $BACKEND || { cat /tmp/backend.log; fail "vmsg-backend exited $?"; }
xl destroy domu || fail "xl destroy"
echo "---- vmsg-backend log"
cat /tmp/backend.log
echo "---- end vmsg-backend log"
