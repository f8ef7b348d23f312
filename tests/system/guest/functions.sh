# Sourced by the guests' /init (dom0 and domU) and so by every scenario
# script. Busybox ash. Marker lines the host runner reads:
#   VMSG-STEP <text>            dom0: the step being run (reported on failure)
#   VMSG-PASS <scenario>        dom0: the scenario passed (the only pass marker)
#   VMSG-FAIL <scenario>: ...   dom0: it failed, and in which step
#   VMSG-DOMU-DONE / VMSG-DOMU-FAIL <text>   domU console, read by dom0

export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# The scenario, from the kernel command line (vmsg.scenario=NAME).
scenario_name() {
    local w
    for w in $(cat /proc/cmdline); do
        case $w in vmsg.scenario=*) echo "${w#vmsg.scenario=}"; return ;; esac
    done
}

# Only /bin/busybox and /bin/sh exist at first: the applet links are made
# here (--install needs /proc/self/exe).
mount_basics() {
    /bin/busybox mount -t proc proc /proc
    /bin/busybox --install -s
    mount -t sysfs sys /sys
    mount -t devtmpfs dev /dev
    mkdir -p /dev/pts /dev/shm /run /tmp
    mount -t devpts devpts /dev/pts
    mount -t tmpfs tmpfs /run
}

# Xen's userspace interfaces are modules in Debian's kernel; the .deb has no
# modules.dep, so load them in dependency order (xenfs needs privcmd).
load_xen_modules() {
    local m
    for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
        insmod /lib/modules/$m.ko || echo "insmod $m failed"
    done
    mkdir -p /proc/xen
    mount -t xenfs xenfs /proc/xen
}

# wait_for SECONDS COMMAND...: poll (every 0.5 s) until COMMAND succeeds.
wait_for() {
    local n=$(( $1 * 2 )); shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.5
        n=$((n - 1))
    done
    return 1
}
