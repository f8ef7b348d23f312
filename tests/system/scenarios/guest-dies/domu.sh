# Scenario "guest-dies" (domU side): see dom0.sh. The role comes from the
# kernel command line (vmsg.role=warm|stream|new|reboot); blk device 0 is
# 32 MiB. The reboot role has the same command line at both boots: sector 0
# of its disk tells which boot this is (zeros: the first; our marker with
# "boot 1": the second, after xl restarted us as a new domain).
role=$(sed -n 's/.*vmsg\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
case $role in
warm|new)
    head -c 1048576 /dev/urandom > /tmp/data || fail "random data"
    sha=$(sha256sum /tmp/data | cut -d' ' -f1)
    vmsg-front blk 0 write 0 /tmp/data || fail "$role: blk write"
    vmsg-front blk 0 verify 0 2048 $sha > /dev/null || fail "$role: blk read-back differs"
    echo "VMSG-GD-IO-OK $sha"
    ;;
stream)
    # 16 MiB, a quarter MiB every 0.2 s: dom0 destroys us long before the
    # end. --reconnect only for its progress lines (one per MiB).
    head -c 16777216 /dev/urandom > /tmp/data || fail "random data"
    i=0
    while [ $i -lt 64 ]; do
        dd if=/tmp/data bs=262144 skip=$i count=1 2>/dev/null
        sleep 0.2
        i=$((i + 1))
    done | vmsg-front --reconnect 30 blk 0 write 0 2>&1
    echo "VMSG-GD-STREAM-ENDED"
    sleep 600
    ;;
reboot)
    # Its devices come from `vmsgctl watch`, maybe after we booted.
    n=0
    until vmsg-front list > /tmp/list 2>&1 && grep -q blk /tmp/list; do
        n=$((n + 1))
        [ $n -lt 120 ] || fail "reboot: no virtio-msg blk device within 120 s: $(cat /tmp/list)"
        sleep 1
    done
    vmsg-front buses
    # mark TOKEN BOOT: the 512-byte sector 0 this boot leaves behind.
    mark() {
        { echo "VMSG-GD-MARK $1 boot $2"; head -c 512 /dev/zero; } | head -c 512 > /tmp/mark
        vmsg-front blk 0 write 0 /tmp/mark || fail "reboot: boot $2: blk write of the marker"
        vmsg-front blk 0 flush || fail "reboot: boot $2: blk flush"
    }
    vmsg-front blk 0 read 0 1 > /tmp/sector0 || fail "reboot: blk read of sector 0"
    found=$(head -n 1 /tmp/sector0 | tr -d '\000')
    case $found in
    "")
        token=$(head -c 32 /dev/urandom | sha256sum | cut -c1-16)
        mark "$token" 1
        echo "VMSG-GD-BOOT1 $token written and flushed; rebooting"
        sync
        reboot -f
        fail "reboot -f returned"
        ;;
    "VMSG-GD-MARK "*" boot 1")
        token=${found#VMSG-GD-MARK }
        token=${token% boot 1}
        echo "VMSG-GD-BOOT2 found the marker of boot 1: $found"
        mark "$token" 2
        vmsg-front blk 0 read 0 1 | head -n 1 | grep -q "^VMSG-GD-MARK $token boot 2$" ||
            fail "reboot: boot 2: the marker did not read back"
        echo "VMSG-GD-BOOT2-OK $token"
        sleep 600   # dom0 checks the old domain is gone, then destroys us
        ;;
    *)
        fail "reboot: sector 0 holds neither zeros nor boot 1's marker: '$found'"
        ;;
    esac
    ;;
*)
    fail "no vmsg.role= (warm, stream, new or reboot) on the command line"
    ;;
esac
