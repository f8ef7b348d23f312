# Scenario "demo" (dom0 side): the README's main job. A guest is created
# from an ordinary xl config file whose virtio_msg entries give it rng,
# console and blk, served by vmsg-backend in dom0. What the guest does is
# printed between VMSG-DEMO-BEGIN and VMSG-DEMO-END for scripts/demo.sh.

BLK_IMG=/srv/demo-disk.img
CON_LOG=/var/log/vmsg-demo-console.log
CFG=/etc/xen/demo.cfg

step "start vmsg-backend"
mkdir -p /srv
vmsg-backend --foreground --pidfile /run/vmsg-backend.pid > /var/log/vmsg-backend.log 2>&1 &
BACKEND=$!
wait_for 20 test -s /run/vmsg-backend.pid ||
    { cat /var/log/vmsg-backend.log; fail "vmsg-backend did not start"; }

step "write $CFG with virtio_msg entries"
dd if=/dev/zero of=$BLK_IMG bs=1M count=0 seek=16 2>/dev/null || fail "create $BLK_IMG"
DOMU_CFG_EXTRA='virtio_msg = [ "type=rng",
               "type=console, output=file:'$CON_LOG'",
               "type=blk, target='$BLK_IMG'" ]'
domu_write_config "$CFG"

step "vmsgctl create $CFG"
vmsgctl create "$CFG" > /tmp/vmsgctl-create.log 2>&1 ||
    { cat /tmp/vmsgctl-create.log; fail "vmsgctl create"; }
DOMID=$(xl domid domu) || fail "xl domid"

step "the guest uses its devices"
domu_wait "VMSG-DOMU-DEMO-DONE" 300
grep -q "hello from the guest" $CON_LOG 2>/dev/null || fail "the guest's console line is not in $CON_LOG"
magic=$(dd if=$BLK_IMG bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')
[ "$magic" = 53ef ] || fail "no ext4 superblock in $BLK_IMG after the guest's mkfs.ext4"

echo "VMSG-DEMO-BEGIN"
echo "## $CFG (the virtio_msg part)"
sed -n '/^virtio_msg/,/]/p' "$CFG"
echo "## vmsgctl create $CFG"
cat /tmp/vmsgctl-create.log
echo "## vmsgctl list"
vmsgctl list
echo "## the guest's console (dom$DOMID)"
sed -n '/VMSG-DOMU-DEMO-BEGIN/,/VMSG-DOMU-DEMO-DONE/p' "$DOMU_LOG" | grep -v "^VMSG-DOMU-DEMO"
echo "## what the guest wrote to its virtio-msg console ($CON_LOG in dom0)"
cat $CON_LOG
echo "## vmsgctl status"
vmsgctl status
echo "VMSG-DEMO-END"

step "xl destroy; vmsg-backend drops the bus instance and stops"
xl destroy domu || fail "xl destroy"
gone() { ! xenstore-read /local/domain/0/backend/virtio-msg/$DOMID/0/state > /dev/null 2>&1; }
wait_for 30 gone || { cat /var/log/vmsg-backend.log; fail "the bus instance of dom$DOMID was not removed"; }
kill -TERM $BACKEND
wait $BACKEND || { cat /var/log/vmsg-backend.log; fail "vmsg-backend exited $?"; }
echo "VMSG-DEMO-BACKEND-LOG"
cat /var/log/vmsg-backend.log
echo "VMSG-DEMO-BACKEND-LOG-END"
