# Benchmark "bench-blk" (domU side): run the fio jobs dom0 orders, one at a
# time, and print each one's result on the console for dom0:
#   PERF <job> <path> <iops> <MB/s> <p50_us> <p99_us>
#   VMSG-BENCH-IOS <job> <path> <total_ios>
#   VMSG-BENCH-DONE <N>
# An order is the xenstore node data/bench-cmd (under this domain's home),
# "N PATH JOB SECONDS" or "N end"; a new N is a new order. The path names
# the disk: vmsg-kernel the guest's virtio_blk disk on our bus (device 0),
# blkback the xen-blkfront disk xvda that dom0 attaches later.
. /scenarios/kernel-lib.sh
BENCH=/scenarios/bench-blk
load_kernel_frontend virtio_blk || fail "loading the kernel frontend and virtio_blk"
insmod /lib/modules/bench/xen-blkfront.ko || fail "insmod xen-blkfront"
wait_for 30 kguest_bound virtio_blk || { dmesg | tail -n 30; fail "virtio_blk did not bind"; }
VDISK=$(kguest_disk_of "$(kguest_virtio_devs virtio_blk | head -n 1)")
[ -n "$VDISK" ] || fail "the virtio_blk device has no disk"
echo "VMSG-BENCH-READY $(fio --version) vmsg-kernel disk $VDISK"

bench_queue() { # path disk: the block queue's limits, for the report
    local q=/sys/block/$2/queue
    echo "VMSG-BENCH-QUEUE $1 $2 max_sectors_kb=$(cat $q/max_sectors_kb)" \
        "max_hw_sectors_kb=$(cat $q/max_hw_sectors_kb) max_segments=$(cat $q/max_segments)" \
        "nr_requests=$(cat $q/nr_requests) hw_queues=$(ls -d /sys/block/$2/mq/* 2>/dev/null | wc -l)"
}
last='' shown=''
while :; do
    cmd=$(xenstore-read data/bench-cmd 2>/dev/null)
    # shellcheck disable=SC2086
    set -- $cmd
    if [ $# -lt 2 ] || [ "$1" = "$last" ]; then
        sleep 0.2
        continue
    fi
    last=$1
    [ "$2" = end ] && break
    path=$2 job=$3 secs=$4
    case $path in
    vmsg-kernel) disk=$VDISK ;;
    blkback) disk=xvda ;;
    *) fail "unknown path '$path' in order '$cmd'" ;;
    esac
    wait_for 60 test -b /dev/$disk || fail "no /dev/$disk for $path"
    case " $shown " in *" $path "*) ;; *) bench_queue "$path" "$disk"; shown="$shown $path" ;; esac
    if BENCH_DEV=/dev/$disk BENCH_RUNTIME=$secs fio --section="$job" --output-format=json \
           $BENCH/blk.fio > /tmp/fio.json 2> /tmp/fio.err &&
       r=$(awk -f $BENCH/fio-perf.awk /tmp/fio.json); then
        # shellcheck disable=SC2086
        set -- $r
        echo "PERF $job $path $1 $2 $3 $4"
        echo "VMSG-BENCH-IOS $job $path $5"
    else
        echo "VMSG-BENCH-FIO-FAIL $job $path"
        sed 's/^/VMSG-BENCH-FIO-FAIL /' /tmp/fio.err
        head -c 2000 /tmp/fio.json
        echo "PERF $job $path n/a n/a n/a n/a"
    fi
    echo "VMSG-BENCH-DONE <$last>"
done
kguest_end
