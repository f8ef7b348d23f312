# Scenario "xl-bad-config" (domU side): a guest whose config's virtio_msg
# is refused still runs; it has no virtio-msg device.
echo "VMSG-DOMU-BAD-RUNNING"
sleep 600
