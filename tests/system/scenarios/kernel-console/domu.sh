# Scenario "kernel-console" (domU side). Device 0: console. Its port 0 is
# a console port: the hvc driver names it after Xen's own hvc0.
. /scenarios/kernel-lib.sh
load_kernel_frontend virtio_console || fail "loading the kernel frontend and virtio_console"
wait_for 30 kguest_bound virtio_console ||
    { dmesg | tail -n 30; fail "virtio_console did not bind to a device on the bus"; }
wait_for 10 test -c /dev/hvc1 || fail "no /dev/hvc1 after virtio_console bound"
stty -F /dev/hvc1 -echo || fail "stty /dev/hvc1"
exec 3<>/dev/hvc1
echo "VMSG-KCON guest-to-host from $(uname -n) $(uname -r)" >&3
read -t 120 line <&3 || fail "no line from the host on /dev/hvc1"
echo "VMSG-KCON-GOT $line"
exec 3>&-
kguest_end
