# Scenario "kernel-console" (dom0 side): the guest kernel's virtio_console
# binds to a console device on our bus; a line goes each way between the
# guest's /dev/hvc1 and the backend's pty in dom0.
. /scenarios/kernel-lib.sh

step "start vmsg-backend; the domU gets a console on a pty"
kbackend_start
kdomu_start "type=console output=pty"
pty=$(sed -n 's/.*console: host end is pty \(\/dev\/pts\/[0-9]*\).*/\1/p' /tmp/backend.log | head -n 1)
[ -c "$pty" ] || { cat /tmp/backend.log; fail "no pty in the backend's log"; }
echo "host end: $pty"
stty -F "$pty" raw -echo || fail "stty $pty"
cat "$pty" > /tmp/console.out &
CAT=$!

step "guest -> host: a line through virtio_console"
wait_for 300 grep -q "VMSG-KCON guest-to-host" /tmp/console.out ||
    { domu_console; fail "the guest's line did not reach $pty"; }
grep "VMSG-KCON" /tmp/console.out

step "host -> guest: a line back"
token="host-to-guest-$$-$(date +%s)"
echo "VMSG-KCON $token" > "$pty"
domu_wait "VMSG-KCON-GOT VMSG-KCON $token" 120
kill $CAT 2>/dev/null

kdomu_finish 120
