# Scenario "kernel-rng" (domU side). Device 0: rng.
. /scenarios/kernel-lib.sh
load_kernel_frontend virtio-rng || fail "loading the kernel frontend and virtio-rng"
wait_for 30 kguest_bound virtio_rng ||
    { dmesg | tail -n 30; fail "virtio_rng did not bind to a device on the bus"; }
cur=$(cat /sys/class/misc/hw_random/rng_current)
echo "rng_current: $cur"
case $cur in virtio_rng*) ;; *) fail "rng_current is '$cur', not virtio" ;; esac
t0=$(uptime_s)
head -c 1048576 /dev/hwrng > /tmp/rng || fail "reading /dev/hwrng"
t1=$(uptime_s)
n=$(wc -c < /tmp/rng)
[ "$n" = 1048576 ] || fail "/dev/hwrng gave $n bytes, not 1 MiB"
# Random bytes do not compress; a stuck or zeroed source does.
z=$(gzip -c /tmp/rng | wc -c)
[ "$z" -gt 1040000 ] || fail "1 MiB from /dev/hwrng compresses to $z bytes: not random"
echo "VMSG-KRNG-OK 1 MiB in $t0 -> $t1 s, gzip $z bytes, rng_current $cur"
kguest_end
