# Scenario "driver-domain" (dom0 side), sourced by the dom0 /init.
# The backend runs in an unprivileged domU, "storagedom" (docs/driver-domain.md):
# dom0 creates it from the same image (vmsg.role=backend on its command line:
# it starts vmsg-backend and keeps a 16 MiB blk image in its own tmpfs), then
# the guest, and attaches the guest's rng and blk with backend=storagedom.
# The target path is storagedom's, not dom0's. The guest passes vmsg-front
# selftest and writes and verifies 4 MiB on blk. Then `xl destroy guest`:
# storagedom notices on its own, drops the instance (B removed, nothing
# mapped: Xen releases the guest, which leaves `xl list`) and reports the
# SHA-256 of what landed in its image, which must be the guest's.

DD_IMG=/run/vmsg-dd-blk.img     # in storagedom, see domu.sh
DATA_MB=4

step "create the driver domain storagedom"
# Arm's default XSM SILO mode forbids event channels and grants between two
# domUs: xen-args.aarch64 boots Xen with xsm=dummy (docs/driver-domain.md).
xl dmesg | grep -E "XSM|SILO" || echo "(no XSM line in xl dmesg)"
DOMU_NAME=storagedom DOMU_CMDLINE=vmsg.role=backend
domu_create
DD=$DOMID DD_LOG=$DOMU_LOG
domu_wait "VMSG-DD-READY" 120
grep "serving /local/domain/" "$DD_LOG" || fail "storagedom's backend did not say what it serves"

step "create the guest (paused)"
DOMU_NAME=guest DOMU_CMDLINE=
domu_create paused
FE=$DOMID FE_LOG=$DOMU_LOG

# The target is a path in storagedom: dom0 has no such file, and vmsgctl
# must not look for it here.
step "vmsgctl attach rng and blk of guest (dom$FE) with backend=storagedom (dom$DD)"
[ ! -e $DD_IMG ] || fail "$DD_IMG exists in dom0: the test would not show whose path it is"
F=/local/domain/$FE/device/virtio-msg/0
B=/local/domain/$DD/backend/virtio-msg/$FE/0
d=$(vmsgctl attach guest type=rng backend=storagedom) && [ "$d" = 0 ] ||
    fail "vmsgctl attach rng (got '$d')"
d=$(vmsgctl attach guest type=blk target=$DD_IMG backend=storagedom) && [ "$d" = 1 ] ||
    fail "vmsgctl attach blk (got '$d')"
vmsgctl list guest || fail "vmsgctl list"

step "permissions: B owned by storagedom, readable by the guest; F the other way"
perms_of() {   # perms_of DIR CHILD: the "(n..,r..)" xenstore-ls -p shows for DIR/CHILD
    xenstore-ls -p "$1" 2>/dev/null | sed -n "s/^$2 = .*(\(.*\))\$/\1/p"
}
bp=$(perms_of /local/domain/$DD/backend/virtio-msg/$FE 0)
fp=$(perms_of /local/domain/$FE/device/virtio-msg 0)
echo "B $B: $bp"
echo "F $F: $fp"
[ "$bp" = "n$DD,r$FE" ] || fail "B has permissions '$bp', expected 'n$DD,r$FE'"
[ "$fp" = "n$FE,r$DD" ] || fail "F has permissions '$fp', expected 'n$FE,r$DD'"
[ "$(xenstore-read $F/backend-id)" = "$DD" ] || fail "F/backend-id is not $DD"
# Above B, dom0 made the directories: they keep /local/domain/$DD's
# permissions, so storagedom can watch them but not remove them.
up=$(perms_of /local/domain/$DD/backend/virtio-msg $FE)
echo "/local/domain/$DD/backend/virtio-msg/$FE: $up"
[ "$up" = "n0,r$DD" ] || fail "B's parent has permissions '$up', expected 'n0,r$DD'"

step "storagedom's backend publishes InitWait and serves both devices"
served() {
    [ "$(xenstore-read $B/state 2>/dev/null)" = 2 ] || return 1
    for d in 0 1; do
        [ "$(xenstore-read $B/devices/$d/state 2>/dev/null)" = 4 ] || return 1
    done
}
wait_for 30 served || { xenstore-ls -fp $B; fail "B not InitWait with devices 4"; }
vmsgctl check || { xenstore-ls -fp /local/domain; fail "vmsgctl check"; }

step "guest: selftest and $DATA_MB MiB through blk served by storagedom"
xl unpause guest || fail "xl unpause guest"
domu_wait "VMSG-DOMU-BUS-OK" 300
grep -E "^(PASS|FAIL|selftest)|VMSG-DOMU-TIME" "$DOMU_LOG"
want=$(sed -n 's/.*VMSG-DOMU-SHA \([0-9a-f]*\).*/\1/p' "$FE_LOG" | head -n 1)
[ -n "$want" ] || fail "no VMSG-DOMU-SHA from the guest"
vmsgctl status || fail "vmsgctl status"

step "xl destroy guest: storagedom drops the instance and maps nothing of dom$FE"
xl destroy guest || fail "xl destroy guest"
b_gone() { ! xenstore-read $B/state > /dev/null 2>&1; }
wait_for 30 b_gone || { xenstore-ls -fp $B; fail "B not removed by storagedom"; }
listed() { xl list | awk -v id="$FE" 'NR > 1 && $2 == id { found = 1 } END { exit !found }'; }
gone() { ! listed; }
wait_for 30 gone || { xl list; fail "dom$FE still listed (storagedom still maps some of it)"; }

step "storagedom's image holds the guest's bytes"
DOMU_LOG=$DD_LOG
domu_wait "VMSG-DD-DONE" 60
got=$(sed -n 's/.*VMSG-DD-SHA \([0-9a-f]*\).*/\1/p' "$DD_LOG" | head -n 1)
echo "guest wrote       $want"
echo "storagedom image  $got"
[ "$want" = "$got" ] || fail "storagedom's image differs from what the guest wrote"
grep "releasing the instance" "$DD_LOG" || fail "no release line in storagedom's log"

echo "---- storagedom console"
cat "$DD_LOG"
echo "---- end storagedom console"
xl destroy storagedom || fail "xl destroy storagedom"
