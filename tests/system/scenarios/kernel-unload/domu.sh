# Scenario "kernel-unload" (domU side). Devices: 0 rng, 1 blk 16 MiB.
# Use both, rmmod, wait for dom0's checks, load again, use, rmmod again.
. /scenarios/kernel-lib.sh
load_kernel_frontend virtio-rng virtio_blk || fail "loading the kernel frontend and virtio-rng virtio_blk"
for n in 1 2; do
    [ $n = 1 ] || modprobe virtio_msg_xen || fail "modprobe virtio_msg_xen again"
    bound() { [ -b /dev/vda ] && [ -n "$(kguest_virtio_devs virtio_rng)" ]; }
    wait_for 30 bound ||
        { dmesg | tail -n 30; fail "round $n: the devices did not bind"; }
    head -c 65536 /dev/hwrng | wc -c | grep -qx 65536 || fail "round $n: /dev/hwrng"
    head -c 1048576 /dev/urandom > /tmp/data
    dd if=/tmp/data of=/dev/vda bs=65536 oflag=direct 2>/dev/null || fail "round $n: write"
    [ "$(dd if=/dev/vda bs=65536 count=16 iflag=direct 2>/dev/null | sha256sum)" = \
      "$(sha256sum < /tmp/data)" ] || fail "round $n: read back differs"
    kguest_unload || fail "round $n: unbind and rmmod virtio_msg_xen"
    [ -z "$(kguest_virtio_devs virtio_rng)" ] && [ ! -b /dev/vda ] ||
        fail "round $n: devices still there after rmmod"
    echo "VMSG-KUL unloaded $n"
    sleep 10    # dom0 checks the backend meanwhile
done
if dmesg | grep -E 'virtio.msg.*(leaking|stay allocated|still maps)'; then
    fail "the module left a grant behind"
fi
kguest_end
