# Scenario "platform" (dom0 side), sourced by the dom0 /init.
# lib/xen/platform on real Xen: the domU's vmsg-plat-front shares two pages
# and an event channel, published through xenstore; dom0's vmsg-plat-back
# finds them with a watch, maps them, and both exchange text both ways.
# The frontend's unshare must reach dom0 as an unmap notification. Then the
# domU is destroyed: the backend learns it from Xen, unmaps (its own unmap
# notification must fire), and the dead domain must be fully released,
# which Xen only does once no grant of it is mapped any more.

step "create the domU"
domu_create

step "vmsg-plat-back $DOMID: find, map, exchange both ways"
vmsg-plat-back "$DOMID" /tmp/unmap-now > /tmp/back.log 2>&1 &
BACK=$!
back_state() {
    grep -q "plat-back: FAIL" /tmp/back.log && return 0
    grep -q "BACK-EXCHANGED" /tmp/back.log
}
wait_for 120 back_state || { cat /tmp/back.log; fail "no BACK-EXCHANGED within 120 s"; }
grep -q "plat-back: FAIL" /tmp/back.log && { cat /tmp/back.log; fail "vmsg-plat-back failed"; }
domu_wait "FRONT-OK" 30

step "xl destroy the domU while dom0 still maps its pages"
xl destroy domu || fail "xl destroy"

step "backend sees dom$DOMID gone"
saw_gone() { grep -q -e BACK-SAW-GONE -e "plat-back: FAIL" /tmp/back.log; }
wait_for 60 saw_gone && grep -q BACK-SAW-GONE /tmp/back.log ||
    { cat /tmp/back.log; fail "vmsg-plat-back did not see dom$DOMID die"; }

step "Xen keeps dead dom$DOMID while dom0 maps its pages"
listed() { xl list | awk -v id="$DOMID" 'NR > 1 && $2 == id { found = 1 } END { exit !found }'; }
listed || { xl list; fail "dom$DOMID vanished although dom0 still maps its grants"; }
xl list | awk -v id="$DOMID" 'NR == 1 || $2 == id'
touch /tmp/unmap-now

step "backend unmaps; nothing stays mapped"
wait $BACK
rc=$?
cat /tmp/back.log
[ $rc -eq 0 ] && grep -q BACK-OK /tmp/back.log || fail "vmsg-plat-back exited $rc"

step "Xen releases dom$DOMID (no grant of it mapped any more)"
gone() { ! listed; }
wait_for 30 gone || { xl list; fail "dom$DOMID still listed (a zombie: something still maps it)"; }
xl list
domu_console
