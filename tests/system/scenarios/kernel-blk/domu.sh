# Scenario "kernel-blk" (domU side). Devices: 0 blk 256 MiB rw, 1 blk 16 MiB ro.
. /scenarios/kernel-lib.sh
FILES=8 FILE_MB=8
load_kernel_frontend virtio_blk ext4 || fail "loading the kernel frontend and virtio_blk ext4"
wait_for 30 kguest_bound virtio_blk 2 ||
    { dmesg | tail -n 30; fail "virtio_blk did not bind to both disks"; }
rw= ro=
for v in $(kguest_virtio_devs virtio_blk); do
    d=$(kguest_disk_of $v)
    if [ "$(cat /sys/block/$d/ro)" = 1 ]; then ro=$d; else rw=$d; fi
done
[ "$rw" = vda ] && [ "$ro" = vdb ] || fail "expected vda rw and vdb ro, got rw '$rw' ro '$ro'"
echo "VMSG-KBLK disks: vda $(cat /sys/block/vda/size) sectors rw, vdb $(cat /sys/block/vdb/size) sectors ro"

mkfs.ext4 -q -F /dev/vda || fail "mkfs.ext4 /dev/vda"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || fail "mount /dev/vda"
t0=$(uptime_s)
i=1
while [ $i -le $FILES ]; do
    head -c $((FILE_MB * 1048576)) /dev/urandom > /mnt/f$i || fail "write /mnt/f$i"
    i=$((i + 1))
done
sync || fail sync
t1=$(uptime_s)
echo "VMSG-KBLK wrote $((FILES * FILE_MB)) MiB of files and synced: $t0 -> $t1 s"
(cd /mnt && sha256sum f*) > /tmp/sums || fail "sha256sum"
umount /mnt || fail "umount"
e2fsck -fn /dev/vda > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "e2fsck -fn /dev/vda"; }
echo "VMSG-KBLK fsck clean: $(tail -n 1 /tmp/fsck.out)"
echo 3 > /proc/sys/vm/drop_caches
mount -t ext4 /dev/vda /mnt || fail "mount again"
(cd /mnt && sha256sum -c /tmp/sums) > /tmp/check.out 2>&1 || { cat /tmp/check.out; fail "files differ after remount"; }
echo "VMSG-KBLK $(grep -c ': OK' /tmp/check.out) files verified after remount"

# Discard: the backend offers it for a read-write disk (protocol.md 7).
[ "$(cat /sys/block/vda/queue/discard_max_bytes)" -gt 0 ] || fail "vda offers no discard"
rm -f /mnt/f*
sync
fstrim -v /mnt > /tmp/trim.out 2>&1 || { cat /tmp/trim.out; fail "fstrim /mnt"; }
echo "VMSG-KBLK $(cat /tmp/trim.out)"
umount /mnt || fail "umount after trim"

# The read-only disk: readable, and a write is refused.
[ "$(cat /sys/block/vdb/ro)" = 1 ] || fail "vdb is not read-only"
sha=$(sha256sum /dev/vdb | cut -d' ' -f1)
echo "VMSG-KBLK-RO-SHA $sha"
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
    fail "a write to the read-only disk succeeded"
fi
echo "VMSG-KBLK write to vdb refused: $(cat /tmp/dd.err)"
echo "VMSG-KBLK-OK"
kguest_end
