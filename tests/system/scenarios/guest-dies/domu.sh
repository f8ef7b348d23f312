# Scenario "guest-dies" (domU side): see dom0.sh. The role comes from the
# kernel command line (vmsg.role=warm|stream|new); blk device 0 is 32 MiB.
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
*)
    fail "no vmsg.role= (warm, stream or new) on the command line"
    ;;
esac
