#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make trace GUEST=FILE [ARGS="--step ..."]`: watch your own guest's VM
# exits.  FILE is a .S (assembled here: gcc, then a flat binary at 0x10000
# with objcopy, or a static ELF if it has a _start symbol and ends in
# .elf.S), a flat .bin or a static .elf.  Builds vmxlab.ko and tools/,
# boots the test VM as scripts/demo.sh does, loads the module there and
# runs `vmxlab-trace ARGS run FILE` (tools/vmxlab-trace.c,
# Documentation/tracing.rst).  VMXLAB_EMULATOR picks the emulator.
#
#   scripts/trace.sh [--build-only OUT] FILE [vmxlab-trace options...]
#     --build-only OUT   only assemble FILE into OUT (make check uses it
#                        for the README's guest)

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
LOAD=0x10000	# GUEST_CODE in tools/guest.h: where `run` loads a flat file

build_only=
if [ "${1:-}" = --build-only ]; then
	[ $# -ge 3 ] || { echo "trace: --build-only needs OUT and FILE" >&2; exit 2; }
	build_only=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: make trace GUEST=my.S|my.bin|my.elf [ARGS=--step]" >&2; exit 2; }
guest=$1
shift
[ -f "$guest" ] || { echo "trace: $guest: no such file" >&2; exit 2; }
guest=$(cd "$(dirname "$guest")" && pwd)/$(basename "$guest")
cd "$ROOT"
mkdir -p build/trace

# A .S file: 64-bit code (.code32/.code16 inside it for the other modes)
# linked at LOAD; a flat image of it unless it is called *.elf.S.
assemble() {
	local src=$1 out=$2 elf entry=-Wl,-e,$LOAD
	elf=build/trace/$(basename "${src%.S}").o.elf
	case $src in *.elf.S) entry= ;; esac	# ELF: _start
	gcc -nostdlib -static -no-pie -Wl,-N -Wl,--no-warn-rwx-segments -Wl,--build-id=none -Wl,-Ttext=$LOAD \
		${entry:+"$entry"} -o "$elf" "$src"
	case $src in
	*.elf.S) cp "$elf" "$out" ;;
	*) objcopy -O binary -j .text "$elf" "$out" ;;
	esac
}

case $guest in
*.S)
	case $guest in
	*.elf.S) image=build/trace/$(basename "${guest%.S}") ;;
	*) image=build/trace/$(basename "${guest%.S}").bin ;;
	esac
	assemble "$guest" "$image" ;;
*) image=$guest ;;
esac

if [ -n "$build_only" ]; then
	cp "$image" "$build_only"
	exit 0
fi

[ -f "$CACHE/kernel-version" ] || { echo "trace: run scripts/setup.sh first" >&2; exit 1; }
KVER=$(cat "$CACHE/kernel-version")
echo "==> trace: build vmxlab.ko against $KVER and tools/"
make module KDIR="/usr/src/linux-headers-$KVER" > build/trace/build.log 2>&1 ||
	{ cat build/trace/build.log; exit 1; }
make -C tools >> build/trace/build.log 2>&1 || { cat build/trace/build.log; exit 1; }

# The VM's script: load, trace, unload.  Arguments reach it as words.
cat > build/trace/in-vm.sh <<'SH'
#!/bin/sh
insmod /vmxlab/vmxlab.ko || exit 1
/vmxlab/vmxlab-trace "$@" run /vmxlab/guest
status=$?
rmmod vmxlab
exit "$status"
SH
echo "==> trace: boot the VM, run vmxlab-trace $* run $(basename "$image")"
# shellcheck disable=SC2068 # ARGS are words on purpose
exec scripts/vm-run.sh --emulator "${VMXLAB_EMULATOR:-auto}" --cpus 1 \
	--log build/vm/trace-serial.log --add vmxlab.ko \
	--add tools/out/vmxlab-trace --add "$image:/vmxlab/guest" \
	build/trace/in-vm.sh "$@"
