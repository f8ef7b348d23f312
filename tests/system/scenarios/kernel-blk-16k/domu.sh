# Scenario "kernel-blk-16k" (domU side): check that this is the 16 KiB-page
# kernel, then the kernel-blk checks (scenarios/kernel-blk/domu.sh).
echo "VMSG-K16 kernel $(uname -r): $(dmesg | grep -m1 "Linux version" | cut -c1-140)"
echo "VMSG-K16 $(grep -m1 KernelPageSize /proc/self/smaps)"
grep -q "KernelPageSize: *16 kB" /proc/self/smaps ||
    fail "not a 16 KiB-page kernel: $(grep -m1 KernelPageSize /proc/self/smaps)"
. /scenarios/kernel-blk/domu.sh
