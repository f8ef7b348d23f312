# Scenario "xl-create" (dom0 side): an ordinary xl config file with
# virtio_msg entries (rng, console to a dom0 file, blk); `vmsgctl create`
# makes the guest with its devices (xl create -p, attach, xl unpause); the
# guest uses all three. xl 4.17 itself accepts the key: `xl create -n`
# (parse only) on the same file, and what it says is recorded.

IMG=/srv/xl-create.img
CON=/var/log/xl-create-console.log
CFG=/etc/xen/domu.cfg

step "start vmsg-backend"
mkdir -p /srv
vmsg-backend --foreground > /var/log/vmsg-backend.log 2>&1 &
BACKEND=$!
wait_for 20 test -d /proc/$BACKEND || fail "vmsg-backend did not start"

step "write $CFG with virtio_msg entries"
dd if=/dev/zero of=$IMG bs=1M count=0 seek=8 2>/dev/null || fail "create $IMG"
DOMU_CFG_EXTRA='virtio_msg = [ "type=rng",
               "type=console, output=file:'$CON'",
               "type=blk, target='$IMG', rw, serial=xl-create" ]'
domu_write_config "$CFG"

step "xl 4.17 parses a config carrying virtio_msg (xl create -n)"
xl create -n "$CFG" > /tmp/xl-n.out 2> /tmp/xl-n.err || {
    cat /tmp/xl-n.err; fail "xl create -n refused the config"; }
echo "xl create -n: exit 0; its messages about the config:"
cat /tmp/xl-n.err
grep -i "virtio_msg" /tmp/xl-n.err /tmp/xl-n.out || echo "(xl says nothing about virtio_msg)"

step "vmsgctl create $CFG"
vmsgctl create "$CFG" > /tmp/create.out 2>&1 || { cat /tmp/create.out; fail "vmsgctl create"; }
cat /tmp/create.out
grep -q "virtio_msg\[2\] .*device 2 on bus 0" /tmp/create.out || fail "create did not report device 2"
DOMID=$(xl domid domu) || fail "xl domid"
DOMU_LOG=/var/log/xen/console/guest-domu.log
[ ! -e /run/vmsgctl/creating/domu ] || fail "vmsgctl create left its claim behind"
xl list domu | awk 'NR==2 {print "state:", $5}'
xl list domu | awk 'NR==2 {exit index($5, "p") ? 1 : 0}' || fail "the domain is still paused"

step "the guest uses rng, blk and console"
domu_wait "VMSG-DOMU-XL-USED" 180
wait_for 20 grep -q "xl-create console line" $CON || fail "the guest's console line is not in $CON"
cat $CON
vmsgctl list

step "xl destroy; the bus instance goes"
xl destroy domu || fail "xl destroy"
gone() { ! xenstore-read /local/domain/0/backend/virtio-msg/$DOMID/0/state > /dev/null 2>&1; }
wait_for 30 gone || { cat /var/log/vmsg-backend.log; fail "bus instance of dom$DOMID left"; }
kill -TERM $BACKEND; wait $BACKEND
