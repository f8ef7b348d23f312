#!/bin/sh
# bench/callgrind.sh N PROGRAM...: run each benchmark program under
# callgrind in counted mode (--iterations N) and print the instructions
# (Ir) per operation of every case.
#
# The programs dump one callgrind part per case, named "<case> n=<N>", with
# the counters zeroed just before the case (bench/bench.c), so set-up and
# teardown are not charged; with callgrind's default (threads not
# separated) a part holds every thread's instructions, the device thread's
# included. Parts are kept in ${TMPDIR:-/tmp}/vmsg-bench-cg.<program>.* for
# callgrind_annotate.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 ITERATIONS PROGRAM..." >&2
    exit 2
fi
n=$1
shift
command -v valgrind >/dev/null || { echo "$0: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }

for prog in "$@"; do
    name=$(basename "$prog")
    out=${TMPDIR:-/tmp}/vmsg-bench-cg.$name
    rm -f "$out" "$out".*
    valgrind --tool=callgrind --callgrind-out-file="$out" "$prog" --iterations "$n" \
        >"$out.stdout" 2>"$out.valgrind"
    echo "== $name under callgrind, $n operations per case (parts: $out.*)"
    # Part files sort numerically by their dump number, so cases print in
    # the program's order.
    ls "$out".[0-9]* | sort -t. -k3 -n | xargs awk -v n="$n" '
        /^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); sub(/ n=[0-9]+$/, ""); label = $0 }
        /^totals: / { printf "%-36s %14d Ir %12.1f Ir/op\n", label, $2, $2 / n }'
done
