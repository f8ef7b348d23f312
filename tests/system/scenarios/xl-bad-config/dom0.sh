# Scenario "xl-bad-config" (dom0 side): configs with an unknown key, a bad
# value, a blk without target, a bad type: `vmsgctl create` refuses each,
# naming the entry and the key, and leaves no domain and no xenstore node.
# A failure after the domain exists (two entries on one devnum) destroys
# it and removes what was written. With `vmsgctl watch`, a plain `xl
# create` of a bad config runs the guest; the watch logs the entry and key
# and attaches nothing.

CFG=/etc/xen/domu.cfg
WLOG=/var/log/vmsgctl-watch.log

nothing_left() { # what
    xl list | grep -qw domu && fail "$1: a domain domu is left"
    xenstore-ls /local/domain/0/backend 2>/dev/null | grep -q "virtio-msg" &&
        { xenstore-ls /local/domain/0/backend; fail "$1: a virtio-msg node is left in dom0's backend/"; }
    [ ! -e /run/vmsgctl/creating/domu ] || fail "$1: the create claim is left"
    return 0
}

# refused INDEX KEY ENTRY...: a config whose entries are ENTRY..., refused at INDEX for KEY.
refused() {
    local index=$1 key=$2 list="" e; shift 2
    for e in "$@"; do list="$list${list:+, }\"$e\""; done
    step "vmsgctl create refuses [$list]"
    DOMU_CFG_EXTRA="virtio_msg = [ $list ]"
    domu_write_config "$CFG"
    if vmsgctl create "$CFG" > /tmp/create.out 2>&1; then
        cat /tmp/create.out; fail "vmsgctl create accepted a bad config"
    fi
    cat /tmp/create.out
    grep -q "virtio_msg\[$index\] .*key $key" /tmp/create.out ||
        fail "the message does not name virtio_msg[$index] and key $key"
    nothing_left "$list"
}

refused 1 colour "type=rng" "type=blk, target=/srv/a.img, colour=red"
refused 0 ro "type=blk, target=/srv/a.img, ro=maybe"
refused 2 target "type=rng" "type=rng" "type=blk, ro"
refused 0 type "type=gpu"
refused 0 target "type=blk, target=/srv/a.img, target=/srv/b.img"

step "a failure after xl create: the domain is destroyed, its nodes removed"
DOMU_CFG_EXTRA='virtio_msg = [ "type=rng, devnum=3", "type=rng, devnum=3" ]'
domu_write_config "$CFG"
if vmsgctl create "$CFG" > /tmp/create.out 2>&1; then
    cat /tmp/create.out; fail "vmsgctl create accepted two devices on one devnum"
fi
cat /tmp/create.out
grep -q "virtio_msg\[1\].*device 3 already exists" /tmp/create.out || fail "the message does not say why"
grep -q "destroyed" /tmp/create.out || fail "create does not say it destroyed the domain"
wait_for 20 nothing_left "after a failed attach"

step "the watch path: xl create of a bad config"
vmsgctl watch > $WLOG 2>&1 &
WATCH=$!
wait_for 20 grep -q "watching for domains" $WLOG || { cat $WLOG; fail "vmsgctl watch did not start"; }
DOMU_CFG_EXTRA='virtio_msg = [ "type=rng", "type=console, output=tty" ]'
domu_write_config "$CFG"
xl_create "$CFG"
DOMID=$(xl domid domu) || fail "xl domid"
DOMU_LOG=/var/log/xen/console/guest-domu.log
domu_wait "VMSG-DOMU-BAD-RUNNING" 120
wait_for 20 grep -q "virtio_msg\[1\] .*key output" $WLOG || { cat $WLOG; fail "the watch did not log entry 1, key output"; }
cat $WLOG
xenstore-ls /local/domain/0/backend/virtio-msg/$DOMID > /dev/null 2>&1 && fail "the watch attached something"
xenstore-ls /local/domain/$DOMID/device/virtio-msg > /dev/null 2>&1 && fail "the guest has a virtio-msg bus"
xl destroy domu || fail "xl destroy"
kill -TERM $WATCH
wait $WATCH || fail "vmsgctl watch exited $?"
