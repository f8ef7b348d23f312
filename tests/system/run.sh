#!/bin/bash
# tests/system/run.sh ARCH SCENARIO: boot the images build.sh made for ARCH
# under QEMU (TCG) and run one scenario. Exit 0 only if dom0 printed
# "VMSG-PASS SCENARIO". On failure (including a hang, killed at the timeout)
# print the failing step and the last serial lines.
#
# A scenario whose `arches` file does not list ARCH is skipped: a SKIP line,
# exit 0, no QEMU. Its `qemu-cpu.ARCH` file names the QEMU CPU model for
# ARCH, its `dom0-initrd.ARCH` the dom0 initramfs in the cache (default
# dom0.cpio.gz): the 16K-page domU needs a CPU with the 16K granule
# ("max"; the default cortex-a57 has none) and the image that holds its
# kernel (dom0-16k.cpio.gz).
#
# Environment: VMSG_QEMU_CACHE (see build.sh), VMSG_TIMEOUT (seconds per boot,
# default 300 or the scenario's own `timeout` file), VMSG_TAIL (lines of
# serial log shown on failure, default 60). For a boot that needs more (the
# benchmark, bench.sh): VMSG_DOM0_INITRD (the dom0 initramfs, default the
# cache's dom0.cpio.gz), VMSG_QEMU_MEM and VMSG_DOM0_MEM (MiB of the
# machine and of dom0; default 1024 and 384 on x86_64, 1536 and 512 on
# aarch64).
set -uo pipefail
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || die "usage: run.sh x86_64|aarch64 SCENARIO"
vmsg_arch "$1"
SCENARIO=$2
A=$ARCH_CACHE
SDIR=$SYSTEM_DIR/scenarios/$SCENARIO
[ -f "$SDIR/dom0.sh" ] || die "no scenario '$SCENARIO' (have: $(vmsg_scenarios | tr '\n' ' '))"
if ! vmsg_scenario_runs_on "$SCENARIO" "$ARCH"; then
    echo "SKIP $ARCH $SCENARIO: skipped: $(vmsg_scenario_arches "$SCENARIO") only (scenarios/$SCENARIO/arches)"
    exit 0
fi
TIMEOUT=${VMSG_TIMEOUT:-$(cat "$SDIR/timeout" 2>/dev/null || echo 300)}
TAIL=${VMSG_TAIL:-60}

need_cmd "$QEMU_SYSTEM" "$QEMU_PKG"
need_cmd timeout coreutils
need_cmd flock util-linux
missing_report
# The dom0 initramfs: VMSG_DOM0_INITRD (a path: the benchmark's), else the
# scenario's dom0-initrd.ARCH (a file in the cache), else dom0.cpio.gz.
DOM0_INITRD=dom0.cpio.gz
[ -f "$SDIR/dom0-initrd.$ARCH" ] && DOM0_INITRD=$(tr -d ' \n' < "$SDIR/dom0-initrd.$ARCH")
INITRD=${VMSG_DOM0_INITRD:-$A/$DOM0_INITRD}
QEMU_CPU=
[ -f "$SDIR/qemu-cpu.$ARCH" ] && QEMU_CPU=$(tr -d ' \n' < "$SDIR/qemu-cpu.$ARCH")
for f in "$A/xen" "$A/kernel" "$INITRD"; do
    [ -e "$f" ] || die "missing $f: build the images first with
    bash $SYSTEM_DIR/build.sh $ARCH      (or: make system-check)"
done

LOGDIR=$A/logs
mkdir -p "$LOGDIR"
LOG=$LOGDIR/$SCENARIO.log
PIDFILE=$LOGDIR/$SCENARIO.qemu.pid
rm -f "$PIDFILE"

# A scenario may add Xen boot options for one architecture (xen-args.ARCH):
# a driver domain on Arm needs xsm=dummy instead of the default SILO mode.
XEN_EXTRA=
[ -f "$SDIR/xen-args.$ARCH" ] && XEN_EXTRA=" $(tr '\n' ' ' < "$SDIR/xen-args.$ARCH")"

if [ "$ARCH" = x86_64 ]; then
    # The CPU is qemu64 with SVM and NPT, not "max": under "max", user
    # processes in the PV domains died at random (glibc reading a NULL TLS
    # pointer, heap corruption in xl and vmsgctl, a guest shell's exec
    # failing with ENOENT) in about one run in three; with qemu64 none did
    # (docs/xen-qemu-ci.md). qemu64 has no SMAP, so the smap=0 that "max"
    # needs is not needed. No Xen "noreboot": a panic must end the run
    # (-no-reboot), not hang it. VMSG_QEMU_CPU overrides the CPU model.
    MEM=${VMSG_QEMU_MEM:-1024} DOM0_MEM=${VMSG_DOM0_MEM:-384}
    XEN_CMD="console=com1 com1=115200,8n1 dom0_mem=${DOM0_MEM}M,max:${DOM0_MEM}M dom0_max_vcpus=2 loglvl=all guest_loglvl=all console_timestamps=boot$XEN_EXTRA"
    DOM0_CMD="console=hvc0 earlyprintk=xen rdinit=/init loglevel=4 vmsg.scenario=$SCENARIO"
    QEMU=("$QEMU_SYSTEM" -machine pc -cpu "${VMSG_QEMU_CPU:-${QEMU_CPU:-qemu64,+svm,+npt}}"
          -smp 2 -m "$MEM" -device isa-debug-exit,iobase=0xf4,iosize=0x04
          -kernel "$A/xen" -append "$XEN_CMD"
          -initrd "$A/kernel $DOM0_CMD,$INITRD")
else
    # The DTB sits at RAM base + 128 MiB: modules are loaded above it.
    MEM=${VMSG_QEMU_MEM:-1536} DOM0_MEM=${VMSG_DOM0_MEM:-512}
    XEN_CMD="console=dtuart dom0_mem=${DOM0_MEM}M,max:${DOM0_MEM}M dom0_max_vcpus=2 loglvl=all guest_loglvl=all console_timestamps=boot$XEN_EXTRA"
    DOM0_CMD="console=hvc0 earlycon=xenboot rdinit=/init loglevel=4 vmsg.scenario=$SCENARIO"
    QEMU=("$QEMU_SYSTEM" -machine virt,virtualization=on,gic-version=3
          -cpu "${QEMU_CPU:-cortex-a57}"
          -smp 2 -m "$MEM" -kernel "$A/xen" -append "$XEN_CMD"
          -device "guest-loader,addr=0x50000000,kernel=$A/kernel,bootargs=$DOM0_CMD"
          -device "guest-loader,addr=0x58000000,initrd=$INITRD")
fi
QEMU+=(-nodefaults -display none -no-reboot -monitor none -serial stdio
       -pidfile "$PIDFILE")

# Timestamp every serial line with the seconds since QEMU started (t0 is
# set once the lock is held: the wait for another run is not this boot's).
stamp() {
    local line now ms
    echo "$BASHPID" > "$LOG.stamp-pid"
    while IFS= read -r line; do
        while [[ $line == *$'\r' ]]; do line=${line%$'\r'}; done
        now=${EPOCHREALTIME/./}
        ms=$(( (now - t0) / 1000 ))
        printf '[%4d.%03d] %s\n' $((ms / 1000)) $((ms % 1000)) "$line"
    done
}

kill_qemu() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        sleep 1
        kill -9 "$pid" 2>/dev/null
    fi
}

# One emulated machine at a time on this host: two TCG guests on a small
# machine starve each other into timeouts. The lock is host-wide (not per
# cache), so separate checkouts with separate caches queue too.
LOCK=${VMSG_QEMU_LOCK:-/tmp/vmsg-xen-qemu.lock}
exec 9>>"$LOCK" || die "cannot open the lock file $LOCK"
if ! flock -n 9; then
    note "waiting for another system test to finish (lock $LOCK)"
    flock 9
fi

echo "+ ${QEMU[*]}" > "$LOG.cmd"
t0=${EPOCHREALTIME/./}
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null > >(stamp > "$LOG") 2>&1 &
TPID=$!
trap 'kill "$TPID" 2>/dev/null; kill_qemu; exit 130' INT TERM
wait "$TPID"
QRC=$?
trap - INT TERM
kill_qemu      # timeout already killed it; make sure, by its own pid
# Let the stamper write the last lines before the log is judged.
spid=$(cat "$LOG.stamp-pid" 2>/dev/null)
for _ in $(seq 50); do
    [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
done
rm -f "$LOG.stamp-pid"
elapsed=$(tail -n 1 "$LOG" 2>/dev/null | sed -nE 's/^\[ *([0-9.]+)\].*/\1/p')

if grep -qE "VMSG-PASS $SCENARIO"$'\r*$' "$LOG"; then
    echo "PASS $ARCH $SCENARIO (${elapsed:-?} s, log $LOG)"
    exit 0
fi
if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
    why="TIMEOUT: killed after $TIMEOUT s"
elif grep -q "VMSG-FAIL" "$LOG"; then
    why=$(grep -m1 "VMSG-FAIL" "$LOG" | sed -E 's/^\[[ 0-9.]+\] //')
else
    why="no pass marker (QEMU exit status $QRC)"
fi
echo "FAIL $ARCH $SCENARIO (${elapsed:-?} s): $why"
laststep=$(grep "VMSG-STEP" "$LOG" | tail -n 1 | sed -E 's/^\[[ 0-9.]+\] //')
echo "  last step: ${laststep:-none (dom0 /init did not start: see the Xen/kernel lines)}"
grep -E "Panic|panic|BUG|crashed|FAIL" "$LOG" | grep -v "VMSG-FAIL" | head -n 5 | sed 's/^/  /'
echo "  ---- last $TAIL serial lines ($LOG)"
tail -n "$TAIL" "$LOG" | sed 's/^/  | /'
exit 1
