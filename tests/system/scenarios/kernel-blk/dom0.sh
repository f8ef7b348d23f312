# Scenario "kernel-blk" (dom0 side): the guest kernel's virtio_blk binds to
# two disks on our bus: device 0, 256 MiB read-write (an image in dom0's
# tmpfs) and device 1, 16 MiB read-only. The guest makes an ext4
# filesystem, writes 64 MiB of files, syncs, checks them after a remount
# and a clean fsck, trims, and finds the read-only disk refusing writes.
# Here the image must then hold an ext4 superblock and the read-only
# image must be untouched.
. /scenarios/kernel-lib.sh

RW=/run/kblk-rw.img RO=/run/kblk-ro.img
step "images: 256 MiB read-write, 16 MiB read-only with a known pattern"
dd if=/dev/zero of=$RW bs=1M count=0 seek=256 2>/dev/null || fail "create $RW"
head -c 16777216 /dev/urandom > $RO || fail "create $RO"
ro_sha=$(sha256sum $RO | cut -d' ' -f1)

step "start vmsg-backend; the domU gets both disks"
kbackend_start
kdomu_start "type=blk target=$RW" "type=blk target=$RO ro=1"

step "guest: mkfs.ext4, 64 MiB of files, fsck, remount, verify, discard; ro refuses"
kdomu_finish 1200
grep -q "VMSG-KBLK-OK" "$DOMU_LOG" || fail "no VMSG-KBLK-OK from the guest"
grep "VMSG-KBLK" "$DOMU_LOG"

step "dom0: the image holds ext4, the read-only image is unchanged"
magic=$(dd if=$RW bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')
[ "$magic" = 53ef ] || fail "no ext4 superblock magic in $RW (got '$magic')"
[ "$(sha256sum $RO | cut -d' ' -f1)" = "$ro_sha" ] || fail "the read-only image changed"
want=$(sed -n 's/.*VMSG-KBLK-RO-SHA \([0-9a-f]*\).*/\1/p' "$DOMU_LOG" | head -n 1)
[ "$want" = "$ro_sha" ] || fail "the guest read '$want' from the read-only disk, the image is $ro_sha"
echo "allocated in $RW after the guest's trim: $(du -k $RW | cut -f1) KiB"
