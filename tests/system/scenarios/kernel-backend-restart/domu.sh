# Scenario "kernel-backend-restart" (domU side). Device 0: blk 64 MiB.
# dom0 kills the backend after chunk 4 of 32 and starts it again.
. /scenarios/kernel-lib.sh
CHUNKS=32
load_kernel_frontend virtio_blk || fail "loading the kernel frontend and virtio_blk"
wait_for 30 test -b /dev/vda || { dmesg | tail -n 30; fail "no /dev/vda"; }
# The stream is made, not stored (the guest's RAM is small): chunk c is
# its number, then a fixed 1 MiB of random bytes, cut to 1 MiB.
head -c 1048576 /dev/urandom > /tmp/base || fail "random data"
chunk() { { echo "chunk $1 of the kernel-backend-restart stream"; cat /tmp/base; } | head -c 1048576; }
stream() { c=0; while [ $c -lt $CHUNKS ]; do chunk $c; c=$((c + 1)); done; }
sha=$(stream | sha256sum | cut -d' ' -f1)
t0=$(uptime_s)
c=0
while [ $c -lt $CHUNKS ]; do
    chunk $c | dd of=/dev/vda bs=65536 count=16 seek=$((c * 16)) iflag=fullblock oflag=direct \
        2>/tmp/dd.err || { cat /tmp/dd.err; fail "write of chunk $c failed"; }
    c=$((c + 1))
    echo "VMSG-KBR chunk $c at $(uptime_s)"
done
t1=$(uptime_s)
echo "VMSG-KBR wrote $CHUNKS MiB with no error: $t0 -> $t1 s"
got=$(dd if=/dev/vda bs=65536 count=$((CHUNKS * 16)) iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$sha" ] || fail "read back $got, wrote $sha"
echo "VMSG-KBR-SHA $sha"
# Usable again: another write and read on the new connection.
head -c 1048576 /dev/urandom > /tmp/more
dd if=/tmp/more of=/dev/vda bs=65536 seek=512 oflag=direct 2>/dev/null || fail "write after restart"
[ "$(dd if=/dev/vda bs=65536 skip=512 count=16 iflag=direct 2>/dev/null | sha256sum)" = \
  "$(sha256sum < /tmp/more)" ] || fail "read after restart differs"
echo "VMSG-KBR-OK"
kguest_end
