# Scenario "bus-basic" (domU side): vmsg-front on the virtio-msg Xen bus.
# Devices (from dom0.sh): 0 rng, 1 console, 2 blk of 64 MiB.
DATA_MB=8
t0=$(uptime_s)
vmsg-front list || fail "vmsg-front list"
vmsg-front selftest || fail "vmsg-front selftest"
echo "VMSG-DOMU-TIME selftest $(uptime_s) (from $t0)"
vmsg-front rng 0 --bytes 16 || fail "vmsg-front rng"

head -c $((DATA_MB * 1048576)) /dev/urandom > /tmp/data || fail "random data"
sha=$(sha256sum /tmp/data | cut -d' ' -f1)
t1=$(uptime_s)
vmsg-front blk 2 write 0 /tmp/data || fail "blk write"
t2=$(uptime_s)
echo "VMSG-DOMU-TIME write $DATA_MB MiB: $t1 -> $t2"
vmsg-front blk 2 flush || fail "blk flush"
vmsg-front blk 2 verify 0 $((DATA_MB * 2048)) $sha || fail "blk verify"
t3=$(uptime_s)
echo "VMSG-DOMU-TIME verify $DATA_MB MiB: $t2 -> $t3"
rm -f /tmp/data
echo "VMSG-DOMU-SHA $sha"
echo "VMSG-DOMU-BUS-OK"
# dom0 stops the backend and destroys us now.
sleep 600
