# Scenario "kernel-unload" (domU side). Devices: 0 rng, 1 blk 16 MiB.
# Use both, rmmod, wait for dom0's checks, load again (zero copy this
# time), use, rmmod again.
. /scenarios/kernel-lib.sh
load_kernel_frontend virtio-rng virtio_blk || fail "loading the kernel frontend and virtio-rng virtio_blk"
# Round 1 bounces every buffer through the pool; round 2 loads the module
# with zero_copy_bytes=4096, so every buffer of 4 KiB or more goes to the
# backend as grant addresses (protocol.md 5.2). Each round times 8 MiB of
# O_DIRECT writes and reads in 256 KiB requests.
rate() { # SECONDS-BEFORE SECONDS-AFTER: MB/s for 8 MiB
    awk -v a="$1" -v b="$2" 'BEGIN { d = b - a; if (d <= 0) d = 0.01; printf "%.1f MB/s (%.2f s)", 8.388608 / d, d }'
}
perf() { # MODE
    head -c 8388608 /dev/urandom > /tmp/d8
    t0=$(uptime_s)
    dd if=/tmp/d8 of=/dev/vda bs=262144 oflag=direct 2>/dev/null || fail "$1: dd write"
    t1=$(uptime_s)
    dd if=/dev/vda of=/tmp/r8 bs=262144 count=32 iflag=direct 2>/dev/null || fail "$1: dd read"
    t2=$(uptime_s)
    cmp /tmp/d8 /tmp/r8 || fail "$1: 8 MiB read back differ"
    echo "VMSG-KPERF $1 write 8 MiB in 256 KiB O_DIRECT requests: $(rate $t0 $t1)"
    echo "VMSG-KPERF $1 read 8 MiB in 256 KiB O_DIRECT requests: $(rate $t1 $t2)"
    rm -f /tmp/d8 /tmp/r8
}
for n in 1 2; do
    mode=bounce
    if [ $n = 2 ]; then
        modprobe virtio_msg_xen zero_copy_bytes=4096 || fail "modprobe virtio_msg_xen again"
        [ "$(cat /sys/module/virtio_msg_xen/parameters/zero_copy_bytes)" = 4096 ] ||
            fail "zero_copy_bytes not set"
        mode=grant
    fi
    bound() { [ -b /dev/vda ] && [ -n "$(kguest_virtio_devs virtio_rng)" ]; }
    wait_for 30 bound ||
        { dmesg | tail -n 30; fail "round $n: the devices did not bind"; }
    head -c 65536 /dev/hwrng | wc -c | grep -qx 65536 || fail "round $n: /dev/hwrng"
    head -c 1048576 /dev/urandom > /tmp/data
    dd if=/tmp/data of=/dev/vda bs=65536 oflag=direct 2>/dev/null || fail "round $n: write"
    [ "$(dd if=/dev/vda bs=65536 count=16 iflag=direct 2>/dev/null | sha256sum)" = \
      "$(sha256sum < /tmp/data)" ] || fail "round $n: read back differs"
    perf $mode
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
