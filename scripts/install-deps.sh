#!/bin/sh
# Install the Debian 12 packages needed to build and unit-test
# virtio-msg-xen, skipping those already installed. Uses sudo when not root.
# Extra package names on the command line are installed too.
set -eu
pkgs="autoconf automake make gcc clang pkg-config libxen-dev libcunit1-dev libyajl-dev
liburing-dev xxd $*"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
