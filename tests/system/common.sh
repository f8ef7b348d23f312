# tests/system/common.sh: shared by build.sh, run.sh, system-check.sh and
# cross-check-arm64.sh (sourced, not run). Knows the cache layout, the
# architecture names and how to say what is missing and how to get it.

VMSG_XENVER=4.17
VMSG_CACHE=${VMSG_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmsg-xen-qemu}
SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=$(cd "$SYSTEM_DIR/../.." && pwd)

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
note() { echo "$(basename "$0"): $*" >&2; }

# Canonical architecture names: x86_64 and aarch64 (arm64 accepted).
# Sets ARCH, DEB_ARCH (Debian's name), GNU_TRIPLET, QEMU_SYSTEM, QEMU_PKG.
vmsg_arch() {
    case $1 in
    x86_64|amd64|x86)
        ARCH=x86_64 DEB_ARCH=amd64 GNU_TRIPLET=x86_64-linux-gnu
        QEMU_SYSTEM=qemu-system-x86_64 QEMU_PKG=qemu-system-x86 ;;
    aarch64|arm64)
        ARCH=aarch64 DEB_ARCH=arm64 GNU_TRIPLET=aarch64-linux-gnu
        QEMU_SYSTEM=qemu-system-aarch64 QEMU_PKG=qemu-system-arm ;;
    *) die "unknown architecture '$1' (use x86_64 or aarch64)" ;;
    esac
    ARCH_CACHE=$VMSG_CACHE/$ARCH
}

# need_cmd COMMAND DEBIAN-PACKAGE: fail with the apt-get line that fixes it.
MISSING_PKGS=()
need_cmd() {
    command -v "$1" >/dev/null 2>&1 || MISSING_PKGS+=("$2 (for $1)")
}
need_file() {
    [ -e "$1" ] || MISSING_PKGS+=("$2 (for $1)")
}
missing_report() {
    [ ${#MISSING_PKGS[@]} -eq 0 ] && return 0
    note "missing host tools:"
    local m pk=()
    for m in "${MISSING_PKGS[@]}"; do echo "  $m" >&2; pk+=("${m%% *}"); done
    note "install them with: apt-get install $(printf '%s\n' "${pk[@]}" | sort -u | tr '\n' ' ')"
    exit 2
}

# The scenarios are the directories under scenarios/ with a dom0.sh. A
# directory with a file named "bench" is a benchmark (make system-bench,
# bench.sh): run.sh runs it like a scenario, system-check does not.
vmsg_scenarios() {
    local d
    for d in "$SYSTEM_DIR"/scenarios/*/; do
        [ -f "$d/dom0.sh" ] && [ ! -e "$d/bench" ] && basename "$d"
    done
}

# vmsg_scenario_runs_on SCENARIO ARCH: true if SCENARIO runs on ARCH. A
# scenario's `arches` file lists the architectures it is for (e.g. the
# 16K-page kernel exists only for aarch64); without one it runs on all.
# run.sh and system-check.sh skip it elsewhere (a SKIP line, no QEMU).
vmsg_scenario_runs_on() {
    local f=$SYSTEM_DIR/scenarios/$1/arches
    [ -f "$f" ] || return 0
    grep -qw -- "$2" "$f"
}

# vmsg_scenario_arches SCENARIO: its `arches` file as one line.
vmsg_scenario_arches() {
    tr -s ' \n' ' ' < "$SYSTEM_DIR/scenarios/$1/arches" | sed 's/ $//'
}
