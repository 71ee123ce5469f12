#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM for `make demo` (busybox sh, cwd /vmxlab): load
# vmxlab.ko, print the capability report from /dev/vmxlab with vmxlab-info,
# run a guest that says hello (vmxlab-hello), two demos of the exit log
# (vmxlab-trace demo cpuid ept), unload, and show what the module logged.  scripts/demo.sh starts it.

status=0
if insmod /vmxlab/vmxlab.ko; then
	/vmxlab/vmxlab-info || status=$?
	echo
	/vmxlab/vmxlab-hello || status=$?
	echo
	/vmxlab/vmxlab-trace demo cpuid ept || status=$?
	rmmod vmxlab || status=$?
else
	status=1
fi
echo "--- vmxlab lines of dmesg:"
dmesg | grep -i vmxlab
exit "$status"
