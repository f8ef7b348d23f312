# Scenario "kernel-rng" (dom0 side): the guest kernel's own virtio-rng
# binds to an rng device on our bus (virtio_msg_xen.ko) and /dev/hwrng
# gives 1 MiB through it.
. /scenarios/kernel-lib.sh

step "start vmsg-backend; the domU gets an rng"
kbackend_start
kdomu_start "type=rng"

step "guest: virtio-rng on the bus, 1 MiB from /dev/hwrng"
kdomu_finish 300
grep -q "VMSG-KRNG-OK" "$DOMU_LOG" || fail "no VMSG-KRNG-OK from the guest"
grep "VMSG-KRNG" "$DOMU_LOG"
