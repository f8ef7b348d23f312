#!/bin/sh
# domU /init of the system-test image: run /scenarios/NAME/domu.sh for the
# scenario named on the command line; report VMSG-DOMU-DONE or
# VMSG-DOMU-FAIL on the console (dom0 reads it from xenconsoled's log).
. /scenarios/functions.sh
mount_basics
SCENARIO=$(scenario_name)
echo "VMSG-DOMU-BOOTED uptime=$(uptime_s) kernel=$(uname -r)"

fail() {
    echo "VMSG-DOMU-FAIL $*"
    sleep 2
    poweroff -f
}

load_xen_modules
[ -f "/scenarios/$SCENARIO/domu.sh" ] || fail "no domU script for scenario '$SCENARIO'"
. "/scenarios/$SCENARIO/domu.sh"
echo "VMSG-DOMU-DONE uptime=$(uptime_s)"
sleep 1
poweroff -f
