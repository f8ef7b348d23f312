#!/bin/bash
# The test command of the README (and of CI): install what is missing,
# build with gcc (warnings are errors) and run every unit test with the
# conformance table, build again with clang + ASan/UBSan and rerun, then
# fuzz each libFuzzer target for FUZZ_SECONDS (default 60).
# Builds go to build/ and build-san/ beside the sources.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}

step() { printf '\n::: %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi

if [ -e config.status ]; then
    echo "run-tests: the source tree is configured in-tree; run 'make distclean' first" >&2
    echo "run-tests: (the test builds go out of tree, to build/ and build-san/)" >&2
    exit 2
fi

build() { # dir, configure args...
    local dir=$1; shift
    mkdir -p "$dir"
    (cd "$dir" && "$src/configure" -q "$@" && make -s -j"$JOBS")
}

step "gcc build, -Werror"
build build --enable-werror
step "unit tests (gcc)"
if ! make -s -C build check; then
    find build -name '*.log' -path '*tests*' -newer build/config.status -exec grep -l -E 'FAIL|failed' {} + |
        while read -r f; do echo "---- $f"; tail -n 40 "$f"; done
    exit 1
fi
for log in build/tests/unit/test-*.log; do
    [ -e "$log" ] || continue
    echo "-- ${log#build/}"; sed -n '/^Run Summary/,/^ *asserts/p' "$log"
done
step "conformance table (spec digest section 5)"
make -s -C build conformance-report

step "clang build, ASan + UBSan, -Werror"
build build-san --enable-werror --enable-sanitizers CC=clang
step "unit tests (clang, sanitizers)"
if ! make -s -C build-san check; then
    find build-san -name '*.log' -path '*tests*' -exec grep -l -E 'FAIL|ERROR|runtime error' {} + |
        while read -r f; do echo "---- $f"; tail -n 40 "$f"; done
    exit 1
fi

step "fuzzing, ${FUZZ_SECONDS} s per target"
make -s -C build fuzz-run FUZZ_SECONDS="$FUZZ_SECONDS"

# One closing line over both builds, from automake's own counts.
count() { sed -n "s/^# $1: *//p" build/test-suite.log build-san/test-suite.log | awk '{s+=$1} END {print s+0}'; }
step "summary"
echo "$(count PASS) passed, $(count FAIL) failed"
