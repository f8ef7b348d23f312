# Scenario "kernel-blk-16k" (dom0 side, aarch64 only: see `arches`): the
# kernel-blk scenario, with a domU that boots Debian's 16 KiB-page kernel
# (linux-image-6.12-arm64-16k), so every guest page the kernel frontend
# grants or bounces through is four 4 KiB grant frames. build.sh puts that
# kernel and its own domU initramfs (its modules, virtio_msg_xen.ko built
# for it) in dom0-16k.cpio.gz, which run.sh boots for this scenario
# (dom0-initrd.aarch64), on a CPU with the 16K granule (qemu-cpu.aarch64).
DOMU_KERNEL=/boot/domu-kernel-16k
DOMU_RAMDISK=/boot/domu-16k.cpio.gz
[ -f $DOMU_KERNEL ] && [ -f $DOMU_RAMDISK ] ||
    fail "no $DOMU_KERNEL or $DOMU_RAMDISK in this dom0 image (build.sh aarch64 makes dom0-16k.cpio.gz)"
. /scenarios/kernel-blk/dom0.sh

step "the guest ran the 16 KiB-page kernel"
grep "VMSG-K16" "$DOMU_LOG"
grep -q "VMSG-K16 KernelPageSize: *16 kB" "$DOMU_LOG" ||
    fail "the guest did not report a 16 kB kernel page size"
