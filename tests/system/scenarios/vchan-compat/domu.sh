# Scenario "vchan-compat" (domU side): a libxenvchan-channel frontend, then
# our own on the same bus instance. Devices (from dom0.sh): 0 rng, 1 console.
t0=$(uptime_s)
vmsg-vchan-front 0 || fail "vmsg-vchan-front (see its FAIL lines)"
echo "VMSG-DOMU-TIME vchan-front $(uptime_s) (from $t0)"
vmsg-front selftest || fail "vmsg-front selftest after vmsg-vchan-front closed"
echo "VMSG-DOMU-VCHAN-OK"
# dom0 destroys us now.
sleep 600
