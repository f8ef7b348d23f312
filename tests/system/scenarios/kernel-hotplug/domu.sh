# Scenario "kernel-hotplug" (domU side). Device 0: rng; device 1: a blk
# attached and detached by dom0, eleven times.
. /scenarios/kernel-lib.sh
ROUNDS=10
load_kernel_frontend virtio_blk ext4 || fail "loading the kernel frontend and virtio_blk ext4"
disk() { # the block device of the bus's blk, or nothing
    local v
    for v in $(kguest_virtio_devs virtio_blk); do kguest_disk_of $v; done | head -n 1
}
has_disk() { [ -n "$(disk)" ]; }
no_disk() { [ -z "$(disk)" ]; }
i=1
while [ $i -le $ROUNDS ]; do
    echo "VMSG-KHP waiting $i"
    wait_for 120 has_disk || fail "round $i: no disk appeared"
    d=$(disk)
    head -c 1048576 /dev/urandom > /tmp/data
    sha=$(sha256sum /tmp/data | cut -d' ' -f1)
    dd if=/tmp/data of=/dev/$d bs=65536 oflag=direct 2>/dev/null || fail "round $i: write /dev/$d"
    got=$(dd if=/dev/$d bs=65536 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$sha" ] || fail "round $i: read back $got, wrote $sha"
    echo "VMSG-KHP-SHA $i $sha"
    echo "VMSG-KHP ready-for-detach $i ($d)"
    wait_for 120 no_disk || fail "round $i: /dev/$d did not go"
    echo "VMSG-KHP-ROUND $i OK"
    i=$((i + 1))
done

echo "VMSG-KHP waiting $i (mounted)"
wait_for 120 has_disk || fail "last round: no disk appeared"
d=$(disk)
mkfs.ext4 -q -F /dev/$d || fail "mkfs.ext4 /dev/$d"
mkdir -p /mnt
mount -t ext4 /dev/$d /mnt || fail "mount /dev/$d"
( while dd if=/dev/zero of=/mnt/w bs=65536 count=32 conv=fsync 2>/dev/null; do :; done
  echo "VMSG-KHP writer stopped" ) &
writer=$!
sleep 1
echo "VMSG-KHP ready-for-detach $i ($d mounted, writer running)"
wait_for 120 no_disk || fail "last round: /dev/$d did not go"
wait_for 60 sh -c "! kill -0 $writer 2>/dev/null" || fail "the writer still runs after the disk went"
umount -l /mnt 2>/dev/null
echo "VMSG-KHP-ROUND $i OK (mounted disk detached: its I/O failed)"
kguest_end
