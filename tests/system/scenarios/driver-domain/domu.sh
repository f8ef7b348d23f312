# Scenario "driver-domain" (domU side): one image, two roles, told apart by
# vmsg.role= on the kernel command line (dom0.sh). Busybox ash.
DATA_MB=4
DD_IMG=/run/vmsg-dd-blk.img

role=guest
for w in $(cat /proc/cmdline); do
    case $w in vmsg.role=*) role=${w#vmsg.role=} ;; esac
done

if [ "$role" = backend ]; then
    # storagedom: an unprivileged domU that serves its own backend dir.
    dd if=/dev/zero of=$DD_IMG bs=1M count=0 seek=16 2>/dev/null || fail "create $DD_IMG"
    vmsg-backend --foreground -vv --pidfile /run/vmsg-backend.pid > /run/backend.log 2>&1 &
    BACKEND=$!
    wait_for 20 test -s /run/vmsg-backend.pid || { cat /run/backend.log; fail "vmsg-backend did not start"; }
    grep "serving" /run/backend.log
    echo "VMSG-DD-READY"

    # dom0 destroys the guest once it is done; we must notice by ourselves.
    wait_for 300 grep -q "instance ended" /run/backend.log ||
        { cat /run/backend.log; fail "the bus instance never ended"; }
    kill -0 $BACKEND 2>/dev/null || { cat /run/backend.log; fail "vmsg-backend died"; }
    grep -E "releasing the instance|@releaseDomain|frontend-id|device/virtio-msg" /run/backend.log
    maps=$(grep -c /dev/xen/gntdev /proc/$BACKEND/maps)
    echo "gntdev mappings left in vmsg-backend: $maps"
    [ "$maps" = 0 ] || { cat /proc/$BACKEND/maps; fail "vmsg-backend still maps $maps areas"; }
    sha=$(head -c $((DATA_MB * 1048576)) $DD_IMG | sha256sum | cut -d' ' -f1)
    echo "VMSG-DD-SHA $sha"
    echo "---- storagedom vmsg-backend log"
    cat /run/backend.log
    echo "---- end storagedom vmsg-backend log"
    echo "VMSG-DD-DONE"
    sleep 600
fi

# The guest: devices 0 rng, 1 blk (16 MiB), both served by storagedom.
vmsg-front list || fail "vmsg-front list"
vmsg-front selftest || fail "vmsg-front selftest"
head -c $((DATA_MB * 1048576)) /dev/urandom > /tmp/data || fail "random data"
sha=$(sha256sum /tmp/data | cut -d' ' -f1)
vmsg-front blk 1 write 0 /tmp/data || fail "blk write"
vmsg-front blk 1 flush || fail "blk flush"
vmsg-front blk 1 verify 0 $((DATA_MB * 2048)) $sha || fail "blk verify"
rm -f /tmp/data
echo "VMSG-DOMU-SHA $sha"
echo "VMSG-DOMU-BUS-OK"
# dom0 destroys us now.
sleep 600
