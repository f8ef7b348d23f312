# Scenario "xl-create" (domU side): the devices of the config's virtio_msg
# entries are there at boot (vmsgctl create attached them while the domain
# was paused): 0 rng, 1 console, 2 blk. Each is used.
vmsg-front list || fail "vmsg-front list: no devices at boot"
vmsg-front rng 0 --bytes 32 > /tmp/rng || fail "vmsg-front rng"
[ "$(wc -c < /tmp/rng)" -ge 32 ] || fail "rng gave fewer than 32 bytes"
head -c 65536 /dev/urandom > /tmp/file
vmsg-front blk 2 write 0 /tmp/file || fail "blk write"
vmsg-front blk 2 flush || fail "blk flush"
vmsg-front blk 2 read 0 128 > /tmp/back || fail "blk read"
cmp /tmp/file /tmp/back || fail "blk: read back differs from what was written"
echo "blk: read back identical"
echo "xl-create console line from $(uname -n)" | vmsg-front console 1 || fail "vmsg-front console"
echo "VMSG-DOMU-XL-USED"
sleep 600   # dom0 destroys us
