#!/bin/sh
# vmsgctl decode: every v1 message kind, each input form, and refusals.
# Prints "N passed, N failed" and exits non-zero on any failure.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
VMSGCTL=${VMSGCTL:-./tools/vmsgctl}
DATA=$top_srcdir/tests/data/v1-messages.hex
pass=0 fail=0
check() { # name, command...
    name=$1; shift
    if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

# 1. stdin hex: 30 messages, 30 JSON lines, all 30 kinds, exit 0
check "hex stdin decodes all" sh -c "$VMSGCTL decode < '$DATA' > '$tmp/out'"
check "one line per message" test "$(wc -l < "$tmp/out")" -eq 30
expect='GET_DEVICE_INFO request
GET_DEVICE_INFO response
GET_DEVICE_FEATURES request
GET_DEVICE_FEATURES response
SET_DRIVER_FEATURES request
SET_DRIVER_FEATURES response
GET_CONFIG request
GET_CONFIG response
SET_CONFIG request
SET_CONFIG response
GET_DEVICE_STATUS request
GET_DEVICE_STATUS response
SET_DEVICE_STATUS request
SET_DEVICE_STATUS response
GET_VQUEUE request
GET_VQUEUE response
SET_VQUEUE request
SET_VQUEUE response
RESET_VQUEUE request
RESET_VQUEUE response
GET_SHM request
GET_SHM response
EVENT_CONFIG event
EVENT_AVAIL event
EVENT_USED event
GET_DEVICES request
GET_DEVICES response
PING request
PING response
EVENT_DEVICE event'
sed -E 's/^\{"name":"([A-Z_]+)","kind":"([a-z]+)".*/\1 \2/' "$tmp/out" > "$tmp/names"
printf '%s\n' "$expect" > "$tmp/expect"
check "every kind named as in the spec" cmp "$tmp/names" "$tmp/expect"
check "fields named as in the spec" grep -q '"desc_addr":4096,"driver_addr":8192,"device_addr":78187493530' "$tmp/out"
check "feature blocks as numbers" grep -q '"features":\[1,1\]' "$tmp/out"
check "bitmap as hex" grep -q '"bitmap":"2500"' "$tmp/out"
check "status bits named" grep -q '"status_bits":\["ACKNOWLEDGE","DRIVER","DRIVER_OK","FEATURES_OK"\]' "$tmp/out"

# 2. arguments and binary stream give the same lines
check "hex arguments" sh -c "$VMSGCTL decode '00 07 0200 0900 0800' '02 03 0000 0500 0c00 efbeadde' | grep -c name | grep -qx 2"
grep -v '^#' "$DATA" | tr -d ' \n' | xxd -r -p > "$tmp/stream.bin" 2>/dev/null ||
    grep -v '^#' "$DATA" | tr -d ' \n' | sed 's/\(..\)/\\x\1/g' | xargs -0 printf '%b' > "$tmp/stream.bin"
check "binary stream" sh -c "$VMSGCTL decode --binary < '$tmp/stream.bin' > '$tmp/bin.out'"
check "binary equals hex" cmp "$tmp/out" "$tmp/bin.out"

# 3. refusals: reason printed, exit 1
check "malformed exits 1" sh -c "$VMSGCTL decode '01 05 0000 0000 1600 00000000 00000000 05000000 abcd'; test \$? -eq 1"
check "reason names the field" sh -c "$VMSGCTL decode '01 05 0000 0000 1600 00000000 00000000 05000000 abcd' | grep -q 'length = 5 needs 5 bytes of data'"
check "unknown id" sh -c "$VMSGCTL decode '00 20 0000 0000 0800' | grep -q '\"error\":\"unknown-id\"'"
check "over the bus maximum" sh -c "$VMSGCTL decode --max-size 48 '01 05 0000 0000 3500 00000000 00000000 21000000 $(printf '00%.0s' $(seq 33))' | grep -q size-over-max"
check "reserved ignored by default" sh -c "$VMSGCTL decode 'fc 02 0000 0000 0800' | grep -q '\"ignored\"'"
check "reserved refused with --strict" sh -c "$VMSGCTL decode --strict 'fc 02 0000 0000 0800'; test \$? -eq 1"
check "not hex is a usage error" sh -c "$VMSGCTL decode 'zz'; test \$? -eq 2"
check "odd digit count" sh -c "$VMSGCTL decode '000'; test \$? -eq 2"
check "truncated binary stream" sh -c "printf '\\000\\002\\000\\000\\000\\000\\020\\000' | $VMSGCTL decode --binary; test \$? -eq 1"
check "--help" sh -c "$VMSGCTL decode --help | grep -q -- --binary"
check "bad --max-size" sh -c "$VMSGCTL decode --max-size 10 '00 07 0000 0000 0800'; test \$? -eq 2"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
