# Benchmark "bench-blk" (dom0 side), run by make system-bench
# (tests/system/bench.sh), not by system-check (the file "bench"). One
# image in dom0's tmpfs behind a loop device, and the same fio jobs
# (blk.fio) in the guest through each path in turn:
#   vmsg-kernel  the guest kernel's virtio_blk on our bus
#                (vmsgctl attach type=blk target=/dev/loopN)
#   blkback      xen-blkfront in the guest, Linux's blkback here
#                (xl block-attach of the same loop device, phy)
# dom0 orders each job through xenstore (see domu.sh), drops its page
# cache before it, and for our path reads the backend's message and kick
# counters (vmsgctl status) around it. Every job's result is printed here
# as the guest printed it, "PERF <job> <path> <iops> <MB/s> <p50_us> <p99_us>",
# and for our path "VMSG-BENCH-COUNTS <job> ..." per I/O.
. /scenarios/kernel-lib.sh
JOBS="randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd32 seqread-1m-qd1 seqread-1m-qd8
seqwrite-1m-qd1 seqwrite-1m-qd8"
IMG=/run/bench.img IMG_MB=256 SECS=5

step "modules: loop, xen-blkback"
[ -e /dev/loop-control ] || insmod /lib/modules/bench/loop.ko || fail "insmod loop"
insmod /lib/modules/bench/xen-blkback.ko || fail "insmod xen-blkback"

step "image: $IMG_MB MiB in tmpfs (allocated), behind a loop device"
dd if=/dev/zero of=$IMG bs=1M count=$IMG_MB 2>/dev/null || fail "create $IMG"
LOOP=$(losetup -f) && losetup "$LOOP" $IMG || fail "losetup $IMG"
echo "image $IMG on $LOOP; dom0 memory: $(grep -E 'MemTotal|MemFree' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

step "vmsg-backend; the domU gets $LOOP on our bus"
kbackend_start
DOMU_RAMDISK=/boot/domu-bench.cpio.gz kdomu_start "type=blk target=$LOOP"
domu_wait VMSG-BENCH-READY 300
grep -h "VMSG-BENCH-READY" "$DOMU_LOG" | tr -d '\r'

# "messages received, sent, kicks received, sent" of the backend's (only)
# bus instance, from vmsgctl status.
vmsg_counters() {
    vmsgctl status 2>/dev/null | sed -n \
        's/.*messages: received \([0-9]*\) sent \([0-9]*\) .*kicks: received \([0-9]*\) sent \([0-9]*\).*/\1 \2 \3 \4/p' |
        head -n 1
}

N=0
bench_job() { # path job
    local before after ios
    N=$((N + 1))
    before=$(vmsg_counters)
    sync
    echo 3 > /proc/sys/vm/drop_caches
    xenstore-write "/local/domain/$DOMID/data/bench-cmd" "$N $1 $2 $SECS" ||
        fail "xenstore-write bench-cmd"
    domu_wait "VMSG-BENCH-DONE <$N>" $((SECS * 10 + 60))
    after=$(vmsg_counters)
    grep "PERF $2 $1 " "$DOMU_LOG" | tr -d '\r' | sed 's/.*\(PERF \)/\1/' | tail -n 1
    ios=$(grep "VMSG-BENCH-IOS $2 $1 " "$DOMU_LOG" | tr -d '\r' | tail -n 1 | sed 's/.* //')
    [ "$1" = vmsg-kernel ] || return 0
    echo "$before $after ${ios:-0}" | awk -v j="$2" 'NF == 9 && $9 > 0 {
        printf "VMSG-BENCH-COUNTS %s ios %d messages/io received %.3f sent %.3f kicks/io received %.3f sent %.3f\n",
            j, $9, ($5 - $1) / $9, ($6 - $2) / $9, ($7 - $3) / $9, ($8 - $4) / $9 }'
}

step "path vmsg-kernel: $SECS s per job"
for j in $JOBS; do bench_job vmsg-kernel $j; done
grep -h "VMSG-BENCH-QUEUE\|VMSG-BENCH-FIO-FAIL" "$DOMU_LOG" | tr -d '\r'

step "path blkback: xl block-attach $LOOP as xvda"
# Xen's block hotplug script (bash) takes its lock with
# stat /dev/stdin: devtmpfs has no /dev/stdin (udev makes it), and without
# it the script loops until libxl kills it (40 s).
for f in 0:stdin 1:stdout 2:stderr; do
    [ -e /dev/${f#*:} ] || ln -s /proc/self/fd/${f%%:*} /dev/${f#*:}
done
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
xl block-attach domu "format=raw,vdev=xvda,access=rw,target=$LOOP" > /tmp/xl-attach.log 2>&1 ||
    { cat /tmp/xl-attach.log; tail -n 20 /var/log/xen/xen-hotplug.log; fail "xl block-attach"; }
B=$(xenstore-list /local/domain/0/backend/vbd/$DOMID 2>/dev/null | head -n 1)
echo "blkback: vbd $B, physical-device $(xenstore-read /local/domain/0/backend/vbd/$DOMID/$B/physical-device 2>/dev/null)"
for j in $JOBS; do bench_job blkback $j; done
grep -h "VMSG-BENCH-QUEUE blkback\|VMSG-BENCH-FIO-FAIL" "$DOMU_LOG" | tr -d '\r'

step "end: the guest stops"
N=$((N + 1))
xenstore-write "/local/domain/$DOMID/data/bench-cmd" "$N end" || fail "xenstore-write end"
kdomu_finish 120
