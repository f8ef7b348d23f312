# Scenario "backend-restart" (domU side): blk device 0 (16 MiB). 8 MiB of
# random data go to it with --reconnect, fed a quarter MiB every 0.2 s so
# that dom0 can kill vmsg-backend mid-stream and start it again. The
# stream must complete, say it reconnected, and read back the same data.
DATA_MB=8
PIECE=262144

head -c $((DATA_MB * 1048576)) /dev/urandom > /tmp/data || fail "random data"
sha=$(sha256sum /tmp/data | cut -d' ' -f1)
echo "VMSG-DOMU-SHA $sha"
pieces=$((DATA_MB * 1048576 / PIECE))
paced() {
    i=0
    while [ $i -lt $pieces ]; do
        dd if=/tmp/data bs=$PIECE skip=$i count=1 2>/dev/null
        sleep 0.2
        i=$((i + 1))
    done
}
t0=$(uptime_s)
{ paced | vmsg-front --reconnect 30 blk 0 write 0 2>&1; echo "VMSG-DOMU-WRITE-RC $?"; } |
    tee /tmp/front.log
t1=$(uptime_s)
echo "VMSG-DOMU-TIME write $DATA_MB MiB with a backend restart: $t0 -> $t1"
grep -q "VMSG-DOMU-WRITE-RC 0" /tmp/front.log || fail "blk write with --reconnect failed"
grep -q "connected again (connection 2): resuming" /tmp/front.log ||
    fail "the write completed but never reconnected (expected 'connected again (connection 2)')"
grep -q "wrote $((DATA_MB * 1048576)) bytes at sector 0" /tmp/front.log ||
    fail "vmsg-front did not report all $((DATA_MB * 1048576)) bytes written"
vmsg-front blk 0 verify 0 $((DATA_MB * 2048)) $sha || fail "blk verify after the restart"
rm -f /tmp/data
echo "VMSG-DOMU-RESTART-OK"
# dom0 destroys us now.
sleep 600
