# Scenario "xenstore-perms" (dom0 side), sourced by the dom0 /init.
# dom0 lays out a backend and a frontend directory with the permissions
# libxl gives split-driver directories (backend: owner dom0, domU may read;
# frontend: owner domU, dom0 may read), then the domU's vmsg-xs-perms checks
# what it may and may not do; dom0 checks nothing of its own changed.

step "create the domU paused"
domu_create paused
BE=/local/domain/0/backend/vmsg-test/$DOMID/0
FE=/local/domain/$DOMID/device/vmsg-test/0

step "backend and frontend directories with libxl's permissions"
xenstore-write "$BE/state" 1 "$BE/frontend" "$FE" "$BE/frontend-id" "$DOMID" ||
    fail "write $BE"
xenstore-chmod -r "$BE" n0 "r$DOMID" || fail "chmod $BE"
xenstore-write "$FE/state" 1 "$FE/backend" "$BE" "$FE/backend-id" 0 || fail "write $FE"
xenstore-chmod -r "$FE" "n$DOMID" r0 || fail "chmod $FE"

step "domU: vmsg-xs-perms"
xl unpause domu || fail "xl unpause"
domu_wait PERMS-OK 120
grep -E "CHECK|PERMS" "$DOMU_LOG"

step "dom0 view: the domU changed only what it owns"
[ "$(xenstore-read "$BE/state")" = 1 ] || fail "backend state changed"
xenstore-exists "$BE/intruder" && fail "domU created $BE/intruder"
xenstore-exists /local/domain/0/data/intruder && fail "domU created dom0's data/intruder"
xenstore-exists /local/domain/0/intruder && fail "domU created /local/domain/0/intruder"
[ "$(xenstore-read "$FE/state")" = 3 ] || fail "frontend state is not the domU's 3"
[ "$(xenstore-read "$FE/ring-ref")" = 8 ] || fail "frontend ring-ref is not the domU's 8"
xenstore-ls -p "/local/domain/$DOMID/device/vmsg-test"
xl destroy domu 2>/dev/null || true
