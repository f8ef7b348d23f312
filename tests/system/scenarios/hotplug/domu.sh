# Scenario "hotplug" (domU side): see dom0.sh. Device 0 (rng) stays; blk
# device 1 comes and goes ten times while this guest follows the bus.
ROUNDS=10

i=1
while [ $i -le $ROUNDS ]; do
    vmsg-front wait-device 1 present --timeout 120 || fail "round $i: device 1 did not appear"
    vmsg-front list > /tmp/list 2>&1 || { cat /tmp/list; fail "round $i: vmsg-front list"; }
    grep -q "^1 *blk *blk *yes *yes" /tmp/list || { cat /tmp/list; fail "round $i: list has no blk 1"; }
    head -c 65536 /dev/urandom > /tmp/data || fail "random data"
    sha=$(sha256sum /tmp/data | cut -d' ' -f1)
    vmsg-front blk 1 write 0 /tmp/data || fail "round $i: blk write"
    vmsg-front blk 1 verify 0 128 $sha > /dev/null || fail "round $i: blk read-back differs"
    echo "VMSG-HOTPLUG-SHA $i $sha"
    vmsg-front wait-device 1 absent --hold --timeout 120 || fail "round $i: device 1 did not go"
    vmsg-front list > /tmp/list 2>&1 || { cat /tmp/list; fail "round $i: vmsg-front list after"; }
    grep -q "^1 " /tmp/list && { cat /tmp/list; fail "round $i: device 1 still listed"; }
    grep -q "^0 *rng" /tmp/list || { cat /tmp/list; fail "round $i: rng 0 gone too"; }
    echo "VMSG-HOTPLUG-ROUND $i OK"
    i=$((i + 1))
done
