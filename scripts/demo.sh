#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo` (after `make setup`): build vmxlab.ko and tools/, boot the
# test VM with one CPU, load the module there, print the VMX capability
# report read from /dev/vmxlab, run a guest that says hello and print its
# VM exits, show two of vmxlab-trace's demos (every exit and what vmxlab
# decided), unload, and show the module's kernel log.  The VM part is
# scripts/demo-vm.sh.  VMXLAB_EMULATOR picks the emulator (default auto:
# see scripts/vm-run.sh --help).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
[ -f "$CACHE/kernel-version" ] || { echo "demo: run scripts/setup.sh first" >&2; exit 1; }
KVER=$(cat "$CACHE/kernel-version")

echo "==> demo: build vmxlab.ko against $KVER"
make module KDIR="/usr/src/linux-headers-$KVER"
echo "==> demo: build tools (make -C tools)"
make -C tools
echo "==> demo: boot the VM, load vmxlab.ko, read the capability report"
exec scripts/vm-run.sh --emulator "${VMXLAB_EMULATOR:-auto}" --cpus 1 \
	--log build/vm/demo-serial.log --add vmxlab.ko \
	--add tools/out/vmxlab-info --add tools/out/vmxlab-hello \
	--add tools/out/vmxlab-trace \
	scripts/demo-vm.sh
