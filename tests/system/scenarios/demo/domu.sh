# Scenario "demo" (domU side): the guest finds its virtio-msg devices and
# uses each one. Devices, in the order of the config's entries: 0 rng,
# 1 console, 2 blk.
echo "VMSG-DOMU-DEMO-BEGIN"
echo "# vmsg-front list"
vmsg-front list || fail "vmsg-front list"
echo "# vmsg-front rng 0 --bytes 32"
vmsg-front rng 0 --bytes 32 || fail "vmsg-front rng"
echo "# a 1 MiB file written to blk (device 2) and read back"
head -c 1048576 /dev/urandom > /tmp/file
vmsg-front blk 2 write 0 /tmp/file || fail "blk write"
vmsg-front blk 2 flush || fail "blk flush"
vmsg-front blk 2 read 0 2048 > /tmp/back || fail "blk read"
sha256sum /tmp/file /tmp/back
cmp /tmp/file /tmp/back || fail "what was read back differs from what was written"
echo "read back: identical"
echo "# vmsg-front console 1 < 'hello from the guest'"
echo "hello from the guest $(uname -n), kernel $(uname -r)" | vmsg-front console 1 ||
    fail "vmsg-front console"
echo "VMSG-DOMU-DEMO-DONE"
# dom0 destroys us now.
sleep 600
