#!/bin/bash
# tests/system/system-check.sh: build the images and run the scenarios on
# real Xen under QEMU, one QEMU at a time. Called by `make system-check`.
#   ARCH=x86_64|aarch64 (default both), SCENARIO=name (default every
#   directory under scenarios/). Ends with "N passed, N failed"; exit 0 iff
#   nothing failed. A scenario not for an architecture (its `arches` file)
#   is skipped there: a SKIP line, counted in neither.
set -uo pipefail
. "$(dirname "$0")/common.sh"

arches=${ARCH:-x86_64 aarch64}
scenarios=${SCENARIO:-$(vmsg_scenarios | tr '\n' ' ')}
[ -n "$scenarios" ] || die "no scenarios under $SYSTEM_DIR/scenarios"
pass=0 fail=0 skip=0
results=()
t_all=$SECONDS
for a in $arches; do
    vmsg_arch "$a"
    t=$SECONDS
    if bash "$SYSTEM_DIR/build.sh" "$ARCH"; then
        results+=("build $ARCH: $((SECONDS - t)) s")
    else
        results+=("FAIL build $ARCH ($((SECONDS - t)) s)")
        for s in $scenarios; do
            vmsg_scenario_runs_on "$s" "$ARCH" || continue
            fail=$((fail + 1)); results+=("FAIL $ARCH $s (not run: build failed)")
        done
        continue
    fi
    for s in $scenarios; do
        if ! vmsg_scenario_runs_on "$s" "$ARCH"; then
            skip=$((skip + 1))
            results+=("SKIP $ARCH $s (skipped: $(vmsg_scenario_arches "$s") only)")
            echo "SKIP $ARCH $s: skipped: $(vmsg_scenario_arches "$s") only (scenarios/$s/arches)"
            continue
        fi
        t=$SECONDS
        if bash "$SYSTEM_DIR/run.sh" "$ARCH" "$s"; then
            pass=$((pass + 1)); results+=("PASS $ARCH $s ($((SECONDS - t)) s)")
        else
            fail=$((fail + 1)); results+=("FAIL $ARCH $s ($((SECONDS - t)) s)")
        fi
    done
done
echo "==== system-check summary ($((SECONDS - t_all)) s)"
printf '  %s\n' "${results[@]}"
[ "$skip" -eq 0 ] || echo "$skip skipped (scenarios not for that architecture)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
