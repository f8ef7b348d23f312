# Scenario "platform" (domU side), sourced by the domU /init.
vmsg-plat-front 0 || fail "vmsg-plat-front failed"
# dom0 destroys us now; never reaching VMSG-DOMU-DONE is expected.
echo "VMSG-DOMU-WAITING for xl destroy"
sleep 600
