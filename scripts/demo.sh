#!/bin/sh
# The README's first command: install the build dependencies (apt), build,
# and run the main job. Today that is the loopback demo (both ends of a
# virtio-msg bus in one process; see README.md).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
scripts/install-deps.sh
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
if [ -e config.status ]; then
    dir=.                       # configured in-tree by a developer
else
    dir=build
    mkdir -p "$dir"
    [ -e "$dir/config.status" ] || (cd "$dir" && "$src/configure" -q)
fi
make -s -C "$dir" -j"$(nproc)" tools/vmsg-loopback-demo tools/vmsgctl
echo
exec "$dir/tools/vmsg-loopback-demo"
