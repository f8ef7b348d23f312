# Scenario "xl-watch" (domU side): the devices come from `vmsgctl watch`
# (first guest) or `vmsgctl apply` (second guest), maybe after we booted:
# wait for the bus, then use 0 rng, 1 console, 2 blk.
n=0
until vmsg-front list > /tmp/list 2>&1 && grep -q blk /tmp/list; do
    n=$((n + 1))
    [ $n -lt 120 ] || fail "no virtio-msg blk device within 120 s: $(cat /tmp/list)"
    sleep 1
done
cat /tmp/list
vmsg-front rng 0 --bytes 16 > /tmp/rng || fail "vmsg-front rng"
head -c 32768 /dev/urandom > /tmp/file
vmsg-front blk 2 write 0 /tmp/file || fail "blk write"
vmsg-front blk 2 read 0 64 > /tmp/back || fail "blk read"
cmp /tmp/file /tmp/back || fail "blk: read back differs"
echo "xl-watch console line from $(uname -n)" | vmsg-front console 1 || fail "vmsg-front console"
echo "VMSG-DOMU-XL-USED"
sleep 600
