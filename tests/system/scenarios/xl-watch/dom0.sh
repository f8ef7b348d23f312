# Scenario "xl-watch" (dom0 side): `vmsgctl watch` runs as the dom0
# service does; a plain `xl create CFG` makes a guest whose config has
# virtio_msg entries; the watch attaches them (the config found as
# /etc/xen/NAME.cfg: xl 4.17 stores no userdata "xl" at create, recorded
# here), the guest uses its devices; after xl destroy the watch removes
# what it made. Then, with the watch stopped by SIGTERM, `vmsgctl apply`
# gives a running guest the same devices.

IMG=/srv/xl-watch.img
CON=/var/log/xl-watch-console.log
CFG=/etc/xen/domu.cfg
WLOG=/var/log/vmsgctl-watch.log

step "start vmsg-backend and vmsgctl watch"
mkdir -p /srv
vmsg-backend --foreground > /var/log/vmsg-backend.log 2>&1 &
BACKEND=$!
vmsgctl watch > $WLOG 2>&1 &
WATCH=$!
wait_for 20 grep -q "watching for domains" $WLOG || { cat $WLOG; fail "vmsgctl watch did not start"; }

step "plain xl create $CFG"
dd if=/dev/zero of=$IMG bs=1M count=0 seek=8 2>/dev/null || fail "create $IMG"
DOMU_CFG_EXTRA='virtio_msg = [ "type=rng", "type=console, output=file:'$CON'",
                              "type=blk, target='$IMG'" ]'
domu_write_config "$CFG"
xl_create "$CFG"
cat /tmp/xl-create.log
DOMID=$(xl domid domu) || fail "xl domid"
DOMU_LOG=/var/log/xen/console/guest-domu.log
echo "what libxl stored for dom$DOMID (userdata files):"
ls /var/lib/xen/ | grep "userdata-d\.$DOMID\." || echo "(none)"
ls /var/lib/xen/ | grep -q "userdata-d\.$DOMID\..*\.xl$" && echo "userdata \"xl\" present" ||
    echo "no userdata \"xl\" after xl create (xl 4.17 writes it only on xl config-update)"

step "the watch attaches; the guest uses its devices"
domu_wait "VMSG-DOMU-XL-USED" 180
wait_for 20 grep -q "xl-watch console line" $CON || fail "console line not in $CON"
cat $WLOG
grep -q "domain domu($DOMID): virtio_msg\[2\]" $WLOG || fail "the watch did not log entry 2"

step "xl destroy; the watch removes what it made"
xl destroy domu || fail "xl destroy"
gone() { ! xenstore-ls /local/domain/0/backend/virtio-msg/$DOMID > /dev/null 2>&1; }
wait_for 30 gone || { cat $WLOG; xenstore-ls /local/domain/0/backend/virtio-msg; fail "a bus-instance node of dom$DOMID is left"; }
wait_for 20 grep -q "domain $DOMID is gone" $WLOG || { cat $WLOG; fail "the watch did not see dom$DOMID go"; }
cat $WLOG

step "SIGTERM stops the watch cleanly"
kill -TERM $WATCH
wait $WATCH || { cat $WLOG; fail "vmsgctl watch exited $? on SIGTERM"; }
tail -n 2 $WLOG

step "vmsgctl apply on a running guest"
: > $CON
mv "$DOMU_LOG" "$DOMU_LOG.first"    # xenconsoled opens a new one for the new domain
xl_create "$CFG"
DOMID=$(xl domid domu) || fail "xl domid"
wait_for 60 grep -q "VMSG-DOMU-BOOTED" "$DOMU_LOG" || fail "second guest did not boot"
vmsgctl apply domu > /tmp/apply.out 2>&1 || { cat /tmp/apply.out; fail "vmsgctl apply"; }
cat /tmp/apply.out
grep -q "from\|attached" /tmp/apply.out || fail "vmsgctl apply printed nothing"
vmsgctl apply domu > /tmp/apply2.out 2>&1 && fail "a second vmsgctl apply was not refused"
cat /tmp/apply2.out
domu_wait "VMSG-DOMU-XL-USED" 180
wait_for 20 grep -q "xl-watch console line" $CON || fail "console line not in $CON (apply)"
xl destroy domu || fail "xl destroy (2)"
gone() { ! xenstore-read /local/domain/0/backend/virtio-msg/$DOMID/0/state > /dev/null 2>&1; }
wait_for 30 gone || { cat /var/log/vmsg-backend.log; fail "bus instance of dom$DOMID left"; }
kill -TERM $BACKEND; wait $BACKEND
