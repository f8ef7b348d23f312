#!/bin/sh
# dom0 /init of the system-test image: start Xen's daemons, then run the
# scenario named on the command line (vmsg.scenario=NAME) from
# /scenarios/NAME/dom0.sh and print VMSG-PASS or VMSG-FAIL, then end the VM.
. /scenarios/functions.sh
mount_basics
SCENARIO=$(scenario_name)
CURRENT_STEP="boot"
DOMU_LOG=/var/log/xen/console/guest-domu.log
echo "VMSG-DOM0-INIT uptime=$(uptime_s) arch=$(uname -m) scenario=$SCENARIO"

finish() {
    # A program killed by a fault in dom0 shows only as the shell's
    # "Segmentation fault"; the kernel knows which one and where.
    dmesg 2>/dev/null | grep -E "segfault at|traps:|general protection" |
        sed 's/^/VMSG-DOM0-FAULT /'
    echo "VMSG-FINISH rc=$1 uptime=$(uptime_s)"
    if [ "$(uname -m)" = x86_64 ]; then
        # QEMU's isa-debug-exit at port 0xf4 ends the run with (v << 1) | 1.
        printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    fi
    sleep 1
    poweroff -f
}

# step TEXT: announce the next step (the runner reports the last one).
step() {
    CURRENT_STEP="$*"
    echo "VMSG-STEP $* (uptime=$(uptime_s))"
}

# fail TEXT: end the scenario as failed, with what we know.
fail() {
    echo "VMSG-FAIL $SCENARIO: step '$CURRENT_STEP': $*"
    local log
    for log in /var/log/xen/console/guest-*.log; do
        [ -f "$log" ] || continue
        echo "---- console of ${log##*/guest-}"; tail -n 40 "$log"; echo "---- end console"
    done
    xl list 2>&1
    finish 1
}

# domu_write_config FILE: the xl config of a domU that runs
# /scenarios/$SCENARIO/domu.sh. Extra xl.cfg lines come from
# DOMU_CFG_EXTRA; a scenario with several domUs names each in DOMU_NAME
# (default "domu") and tells them apart by kernel command-line words in
# DOMU_CMDLINE (e.g. vmsg.role=backend). DOMU_KERNEL, DOMU_RAMDISK and
# DOMU_MEMORY (MiB) replace the defaults: the 16K-page kernel of the Arm
# image, /boot/domu-kernel-16k with /boot/domu-16k.cpio.gz (in
# dom0-16k.cpio.gz, see build.sh and run.sh's dom0-initrd.ARCH); the
# benchmark's ramdisk and memory (scenarios/bench-blk).
domu_write_config() {
    local kind=pvh mem=192 name=${DOMU_NAME:-domu}
    [ "$(uname -m)" = x86_64 ] && kind=pv mem=160
    cat > "$1" <<CFG
name = "$name"
type = "$kind"
kernel = "${DOMU_KERNEL:-/boot/domu-kernel}"
ramdisk = "${DOMU_RAMDISK:-/boot/domu.cpio.gz}"
extra = "console=hvc0 rdinit=/init loglevel=4 vmsg.scenario=$SCENARIO${DOMU_CMDLINE:+ $DOMU_CMDLINE}"
memory = ${DOMU_MEMORY:-$mem}
vcpus = 1
on_poweroff = "destroy"
on_crash = "preserve"
${DOMU_CFG_EXTRA:-}
CFG
}

# domu_create [paused]: create that domU from /etc/xen/NAME.cfg. Sets DOMID
# and DOMU_LOG (its console log).
domu_create() {
    local opt= name=${DOMU_NAME:-domu}
    [ "$1" = paused ] && opt=-p
    domu_write_config /etc/xen/$name.cfg
    xl create $opt /etc/xen/$name.cfg > /tmp/xl-create.log 2>&1 ||
        { cat /tmp/xl-create.log; fail "xl create $name"; }
    DOMID=$(xl domid $name) || fail "xl domid $name"
    DOMU_LOG=/var/log/xen/console/guest-$name.log
    echo "$name is dom$DOMID"
}

# xl_create CFG: a plain `xl create CFG` of domain domu. xl 4.17's
# daemonizing child (the one that waits for the domain's death) sometimes
# dies of a heap corruption in this image ("domain monitoring daemonizing
# child ... died due to fatal signal"), after the domain was made: then
# the domain is running and xl create still exits non-zero. That case is
# reported and accepted; any other failure fails the scenario.
xl_create() {
    if ! xl create "$1" > /tmp/xl-create.log 2>&1; then
        cat /tmp/xl-create.log
        grep -q "daemonizing child .* died due to fatal signal" /tmp/xl-create.log &&
            xl domid domu > /dev/null 2>&1 || fail "xl create $1"
        echo "(xl's monitoring child died after creating the domain: it runs, going on)"
    fi
    cat /tmp/xl-create.log
}

# domu_wait MARKER [SECONDS]: wait for MARKER on the domU console; a
# VMSG-DOMU-FAIL line there fails at once.
domu_wait() {
    local n=$(( ${2:-120} * 2 ))
    while [ $n -gt 0 ]; do
        grep -q "$1" "$DOMU_LOG" 2>/dev/null && return 0
        if grep -q "VMSG-DOMU-FAIL" "$DOMU_LOG" 2>/dev/null; then
            fail "domU: $(grep -m1 VMSG-DOMU-FAIL "$DOMU_LOG")"
        fi
        sleep 0.5
        n=$((n - 1))
    done
    fail "no '$1' on the domU console within ${2:-120} s"
}

# domu_count PATTERN N [SECONDS]: wait until PATTERN is on N lines of the
# domU console (the guest prints the same line every round).
domu_count() {
    local n=$(( ${3:-120} * 2 ))
    while [ $n -gt 0 ]; do
        [ "$(grep -c "$1" "$DOMU_LOG" 2>/dev/null)" -ge "$2" ] && return 0
        grep -q "VMSG-DOMU-FAIL" "$DOMU_LOG" 2>/dev/null &&
            fail "domU: $(grep -m1 VMSG-DOMU-FAIL "$DOMU_LOG")"
        sleep 0.5
        n=$((n - 1))
    done
    domu_console
    fail "'$1' not seen $2 times on the domU console within ${3:-120} s"
}

domu_console() {
    echo "---- domU console"; cat "$DOMU_LOG" 2>/dev/null; echo "---- end domU console"
}

[ -n "$SCENARIO" ] || fail "no vmsg.scenario= on the kernel command line"
[ -f "/scenarios/$SCENARIO/dom0.sh" ] || fail "no scenario '$SCENARIO' in the image"

step "load Xen modules"
load_xen_modules
for n in evtchn gntdev gntalloc privcmd xenbus; do
    [ -c /dev/xen/$n ] || fail "/dev/xen/$n missing"
done
step "start xenstored, xen-init-dom0, xenconsoled"
mkdir -p /run/xen /run/xenstored /var/run/xen /var/log/xen/console
xenstored --pid-file=/run/xenstored.pid || fail xenstored
xen-init-dom0 > /tmp/xen-init-dom0.log 2>&1 || { cat /tmp/xen-init-dom0.log; fail xen-init-dom0; }
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
    fail xenconsoled
step "xl info"
xl info > /tmp/xl-info.log 2>&1 || { cat /tmp/xl-info.log; fail "xl info"; }
grep -E '^(xen_version|xen_caps|total_memory|free_memory)' /tmp/xl-info.log

step "scenario $SCENARIO"
. "/scenarios/$SCENARIO/dom0.sh"
echo "VMSG-PASS $SCENARIO"
finish 0
