# Scenario "xenstore-perms" (domU side), sourced by the domU /init.
vmsg-xs-perms || fail "vmsg-xs-perms failed"
# Stay up: powering off would make the toolstack remove our xenstore
# directory before dom0 has looked at it. dom0 destroys us.
sleep 600
