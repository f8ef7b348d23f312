#!/bin/sh
# make install: every program, the man pages, libvmsg-front with its
# headers and .pc, the systemd units, and a program built against what was
# installed (headers and pkg-config only, as a guest program would).
# Run by "make check" with the install directories in the environment
# (tools/local.mk); exits 77 when pkg-config is missing.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
MAKE=${MAKE:-make}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

command -v "$PKG_CONFIG" >/dev/null 2>&1 || { echo "SKIP: no pkg-config"; exit 77; }
for v in bindir sbindir libdir includedir mandir; do
    eval "test -n \"\$$v\"" || { echo "ERROR: \$$v not set (run by make check)"; exit 99; }
done

tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
if ! $MAKE install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "FAIL: make install DESTDIR=$dest"
    exit 1
fi

expect_file() { # path (without DESTDIR), what
    if [ -f "$dest$1" ]; then ok; else bad "$2 not installed at $1"; fi
}
expect_file "$sbindir/vmsg-backend" "vmsg-backend"
expect_file "$sbindir/vmsgctl" "vmsgctl"
expect_file "$bindir/vmsg-front" "vmsg-front"
for p in "$sbindir/vmsg-backend" "$sbindir/vmsgctl" "$bindir/vmsg-front"; do
    if [ -x "$dest$p" ]; then ok; else bad "$p is not executable"; fi
done
expect_file "$mandir/man8/vmsg-backend.8" "vmsg-backend(8)"
expect_file "$mandir/man8/vmsgctl.8" "vmsgctl(8)"
expect_file "$mandir/man1/vmsg-front.1" "vmsg-front(1)"
# Every man page of the tree is installed, whoever added it.
for page in "$top_srcdir"/backend/*.[1-8] "$top_srcdir"/tools/*.[1-8] \
            "$top_srcdir"/frontend-shim/*.[1-8]; do
    grep -q '^\.TH' "$page" 2>/dev/null || continue
    name=$(basename "$page")
    expect_file "$mandir/man${name##*.}/$name" "$name (found in the source tree)"
done
expect_file "$libdir/libvmsg-front.a" "libvmsg-front"
expect_file "$includedir/virtio-msg-xen/vmsg_front.h" "vmsg_front.h"
pc=$libdir/pkgconfig/virtio-msg-xen-front.pc
expect_file "$pc" "virtio-msg-xen-front.pc"

if [ -n "$systemdsystemunitdir" ]; then
    for unit in vmsg-backend.service vmsgctl-watch.service; do
        f=$systemdsystemunitdir/$unit
        expect_file "$f" "$unit"
        [ -f "$dest$f" ] || continue
        exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$dest$f")
        case $unit in vmsg-backend*) want=$sbindir/vmsg-backend ;; *) want=$sbindir/vmsgctl ;; esac
        if [ "$exec_start" = "$want" ]; then ok; else bad "$unit: ExecStart=$exec_start, expected $want"; fi
        if grep -q '^Requires=.*xenstored\.service' "$dest$f" &&
           grep -q '^After=.*xenstored\.service' "$dest$f"; then ok
        else bad "$unit: not ordered after and requiring xenstored.service"; fi
        if grep -q '@[a-z_]*@' "$dest$f"; then bad "$unit: unsubstituted @var@"; else ok; fi
    done
    if grep -q '^ExecStart=.* watch --syslog' "$dest$systemdsystemunitdir/vmsgctl-watch.service"; then ok
    else bad "vmsgctl-watch.service does not run 'vmsgctl watch --syslog'"; fi
fi

# A guest program on the installed library, found the way users find it.
# The sysroot makes pkg-config prefix its -I/-L with the DESTDIR.
cat > "$tmp/prog.c" <<'PROG'
#include <vmsg_front.h>
#include <stdio.h>

int main(void)
{
    unsigned idx[4];
    struct vmsg_front *f;
    int n = vmsg_front_buses(idx, 4);

    if (n > 0 && vmsg_front_open(&f, idx[0], NULL) == 0) {
        printf("bus %u: %d devices\n", vmsg_front_index(f), (int)vmsg_front_devices(f, NULL));
        vmsg_front_close(f);
    }
    return 0;
}
PROG
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
if cflags=$($PKG_CONFIG --cflags virtio-msg-xen-front) &&
   libs=$($PKG_CONFIG --static --libs virtio-msg-xen-front); then
    ok
    case $libs in *-lxenstore*) ok ;; *) bad "pkg-config --static --libs lacks -lxenstore: $libs" ;; esac
    # shellcheck disable=SC2086 # word splitting of the flags is wanted
    # LDFLAGS: a library built with --enable-sanitizers needs their runtime.
    if $CC -std=gnu11 -Wall -Wextra -Werror $cflags -o "$tmp/prog" "$tmp/prog.c" ${LDFLAGS:-} $libs \
            >"$tmp/cc.log" 2>&1; then ok
    else cat "$tmp/cc.log"; bad "a program does not build against the installed libvmsg-front"; fi
else
    bad "pkg-config does not know the installed virtio-msg-xen-front"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
