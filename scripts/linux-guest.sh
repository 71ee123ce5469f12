#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make linux`: set up, build vmxlab.ko and vmxlab-run, then boot the test
# VM (1-CPU Bochs) with this terminal as its console and, inside it, boot
# Debian's kernel as a vmxlab guest with a busybox shell
# (Documentation/linux-guest.rst).  `poweroff -f` in the guest's shell
# ends the guest and then the VM; Ctrl-] leaves at once.
#
#   scripts/linux-guest.sh [vm-run.sh OPTIONS...]

set -euo pipefail

cd "$(dirname "$0")/.."
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}

scripts/setup.sh
KVER=$(cat "$CACHE/kernel-version")
make -s module KDIR="/usr/src/linux-headers-$KVER"
make -s -C tools
scripts/linux-guest-initrd.sh build/linux-guest/initrd.gz
echo "linux-guest: booting the test VM, then the guest (about a minute)"
exec scripts/vm-run.sh --interactive --emulator bochs --cpus 1 --timeout 7200 \
	--log build/vm/linux-serial.log --add vmxlab.ko --add tools/out/vmxlab-run \
	--add "$CACHE/kernel-$KVER/vmlinuz:/vmxlab/linux/vmlinuz" \
	--add build/linux-guest/initrd.gz:/vmxlab/linux/initrd.gz \
	"$@" selftests/run_in_vm.sh --linux-shell
