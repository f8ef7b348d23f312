# Scenario "demo" (domU side): the guest finds its virtio-msg devices and
# uses each one with vmsg-front (userspace), then loads the kernel frontend
# and mounts an ext4 filesystem on the same disk through the kernel's own
# virtio_blk. Devices, in the order of the config's entries: 0 rng,
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
echo "# the guest kernel's own virtio_blk on the same disk (virtio_msg_xen.ko)"
echo "# modprobe virtio_msg_xen virtio_blk ext4"
load_kernel_frontend virtio_blk ext4 || fail "loading the kernel frontend"
has_vda() { [ -b /dev/vda ]; }
wait_for 30 has_vda || fail "virtio_blk did not bind the disk"
dmesg | grep -E 'virtio-msg virtio-msg|virtio_blk' | sed 's/^\[[ 0-9.]*\] //'
echo "# mkfs.ext4 /dev/vda; mount /dev/vda /mnt; copy the file; sync"
mkfs.ext4 -q -F /dev/vda || fail "mkfs.ext4"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || fail "mount"
cp /tmp/file /mnt/file || fail "cp"
echo "hello from $(uname -n) on ext4 over virtio-msg" > /mnt/hello.txt
sync
df -k /mnt | sed 's/  */ /g'
ls -l /mnt
umount /mnt || fail "umount"
echo "# e2fsck -fn /dev/vda; mount it again read-only and compare"
e2fsck -fn /dev/vda 2>&1 | tail -n 1
e2fsck -fn /dev/vda > /dev/null 2>&1 || fail "e2fsck"
mount -t ext4 -o ro /dev/vda /mnt || fail "mount -o ro"
cmp /tmp/file /mnt/file || fail "the file on ext4 differs"
cat /mnt/hello.txt
echo "on ext4: identical"
umount /mnt
echo "VMSG-DOMU-DEMO-DONE"
# dom0 destroys us now.
sleep 600
