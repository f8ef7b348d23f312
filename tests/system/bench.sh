#!/bin/bash
# tests/system/bench.sh [ARCH]: the block benchmark on real Xen under QEMU
# (make system-bench). Builds the images with the benchmark's extras
# (build.sh, VMSG_BENCH=1), boots once (run.sh, scenario bench-blk: fio in
# the guest through each path in turn, see scenarios/bench-blk/dom0.sh),
# then prints the PERF lines, the ratio table vmsg-kernel/blkback and our
# backend's messages and kicks per I/O, as Markdown, also written to
# the cache's ARCH/logs/bench-blk.md. ARCH defaults to $ARCH, else x86_64.
# Timings under TCG are indicative only: compare paths within one run.
#
# Environment: as build.sh and run.sh; VMSG_BENCH_REPORT_ONLY=1 only makes
# the report again from the last log; VMSG_QEMU_MEM and VMSG_DOM0_MEM
# default here to 1280 and 640 (x86_64) or 1792 and 768 (aarch64): dom0
# holds the 256 MiB image in its tmpfs.
set -uo pipefail
. "$(dirname "$0")/common.sh"

vmsg_arch "${1:-${ARCH:-x86_64}}"
A=$ARCH_CACHE
SCEN=bench-blk
if [ "$ARCH" = x86_64 ]; then
    : "${VMSG_QEMU_MEM:=1280}" "${VMSG_DOM0_MEM:=640}"
else
    : "${VMSG_QEMU_MEM:=1792}" "${VMSG_DOM0_MEM:=768}"
fi
export VMSG_QEMU_MEM VMSG_DOM0_MEM

t_build=- t_run=- rc=0
if [ "${VMSG_BENCH_REPORT_ONLY:-0}" != 1 ]; then   # 1: report from the last log
    t0=$SECONDS
    VMSG_BENCH=1 bash "$SYSTEM_DIR/build.sh" "$ARCH" || die "building the $ARCH images failed"
    t_build=$((SECONDS - t0))
    t1=$SECONDS
    VMSG_DOM0_INITRD=$A/dom0-bench.cpio.gz bash "$SYSTEM_DIR/run.sh" "$ARCH" "$SCEN"
    rc=$?
    t_run=$((SECONDS - t1))
fi
LOG=$A/logs/$SCEN.log
[ -f "$LOG" ] || die "no log $LOG"

# The serial lines dom0 printed, without run.sh's time stamps.
lines() { grep -E "^\[ *[0-9.]+\] $1" "$LOG" | sed -E 's/^\[ *[0-9.]+\] //; s/\r$//'; }
stamp_of() { grep -m1 -E "^\[ *[0-9.]+\] .*$1" "$LOG" | sed -nE 's/^\[ *([0-9.]+)\].*/\1/p'; }

REPORT=$A/logs/$SCEN.md
{
    commit=$(git -C "$TOP_SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [ -n "$(git -C "$TOP_SRCDIR" status --porcelain 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"
    echo "## $ARCH, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
    echo
    echo "Machine: nproc $(nproc), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
         "$($QEMU_SYSTEM --version | head -n 1), host load $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Guest: $(lines 'VMSG-BENCH-READY' | head -n 1 | sed 's/VMSG-BENCH-READY //')."
    echo "QEMU -m $VMSG_QEMU_MEM, dom0 $VMSG_DOM0_MEM MiB; 5 s per job (blk.fio)."
    # run.sh stamps lines from before it waits for the host-wide QEMU lock:
    # the first serial line marks QEMU's start.
    q0=$(head -n 1 "$LOG" | sed -nE 's/^\[ *([0-9.]+)\].*/\1/p')
    since() { awk -v a="${1:-0}" -v b="${q0:-0}" 'BEGIN { printf "%.0f", a - b }'; }
    echo "Time: build $t_build s; run.sh $t_run s, of which $(printf %.0f "${q0:-0}")" \
         "s waiting for the QEMU lock, then QEMU's run" \
         "$(since "$(tail -n 1 "$LOG" | sed -nE 's/^\[ *([0-9.]+)\].*/\1/p')") s:" \
         "path vmsg-kernel from $(since "$(stamp_of 'VMSG-STEP path vmsg-kernel')") s," \
         "blkback from $(since "$(stamp_of 'VMSG-STEP path blkback')") s," \
         "end at $(since "$(stamp_of 'VMSG-STEP end')") s."
    echo
    echo '```'
    lines 'PERF '
    echo '```'
    echo
    lines 'VMSG-BENCH-QUEUE ' | sed 's/^VMSG-BENCH-QUEUE /- block queue: /'
    echo
    echo "vmsg-kernel / blkback (IOPS and MB/s: above 1 is ours faster; latency: below 1 is ours faster):"
    echo
    echo "| job | IOPS | MB/s | p50 | p99 |"
    echo "|---|---:|---:|---:|---:|"
    lines 'PERF ' | awk '
        { k = $2 " " $3; iops[k] = $4; mbs[k] = $5; p50[k] = $6; p99[k] = $7
          if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
        function r(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "n/a" }
        END { for (i = 1; i <= n; i++) { j = order[i]; a = j " vmsg-kernel"; b = j " blkback"
              printf "| %s | %s | %s | %s | %s |\n", j, r(iops[a], iops[b]), r(mbs[a], mbs[b]),
                  r(p50[a], p50[b]), r(p99[a], p99[b]) } }'
    echo
    echo "vmsg-kernel: our backend's counters (vmsgctl status) per I/O the guest completed:"
    echo
    echo "| job | I/Os | messages received | messages sent | kicks received | kicks sent |"
    echo "|---|---:|---:|---:|---:|---:|"
    lines 'VMSG-BENCH-COUNTS ' | awk '{ printf "| %s | %s | %s | %s | %s | %s |\n", $2, $4, $7, $9, $12, $14 }'
} > "$REPORT"
cat "$REPORT"
if [ $rc -ne 0 ]; then
    die "the benchmark boot failed (log $LOG); the figures above may be partial"
fi
echo "report: $REPORT"
