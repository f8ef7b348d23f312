# fio-perf.awk: read the JSON report of one fio job (fio
# --output-format=json, as fio 3.33 prints it: one key per line) and print
#   <iops> <MB/s> <p50_us> <p99_us> <total_ios>
# of the direction that did the I/O (read or write). MB/s is 10^6 bytes per
# second; p50 and p99 are fio's completion-latency (clat) percentiles.
# Busybox awk: no gensub, no arrays of arrays.
function val(s) { sub(/^[^:]*: */, "", s); sub(/,[ \r]*$/, "", s); return s + 0 }
/^ *"(read|write|trim|sync)" : \{/ { sect = $1; gsub(/"/, "", sect); next }
sect == "" { next }
/^ *"iops" : / { iops[sect] = val($0) }
/^ *"bw_bytes" : / { bw[sect] = val($0) }
/^ *"total_ios" : / { ios[sect] = val($0) }
/^ *"50\.000000" : / && !(sect in p50) { p50[sect] = val($0) }
/^ *"99\.000000" : / && !(sect in p99) { p99[sect] = val($0) }
END {
    d = (ios["write"] > ios["read"]) ? "write" : "read"
    if (ios[d] + 0 <= 0) { print "no I/O in the fio report" > "/dev/stderr"; exit 1 }
    printf "%.1f %.2f %.1f %.1f %d\n", iops[d], bw[d] / 1e6, p50[d] / 1000, p99[d] / 1000, ios[d]
}
