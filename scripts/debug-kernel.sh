#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test VM's debug kernel once per machine: Debian's linux-source
# (the same 6.1 release as the VM's Debian kernel), configured by
# `make alldefconfig` with scripts/debug-kernel.config on top (KASAN, KCOV,
# lockdep, kmemleak, UBSAN, debug objects...).  The result, in
# $VMXLAB_CACHE/kernel-debug/, has the layout scripts/vm-run.sh --kernel
# takes: vmlinuz, kernel-version, lib/modules/<version>/ (KVM and msr among
# them), and build/, the tree to build vmxlab.ko against (KDIR).
#
# Cached: rebuilt only when the source tarball or the config fragment
# changes.  Every option of the fragment is checked in the final .config,
# so an option Kconfig silently dropped fails the build here.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
FRAGMENT=$ROOT/scripts/debug-kernel.config
OUT=$CACHE/kernel-debug
SRC=$CACHE/debug-kernel-src
OBJ=$CACHE/debug-kernel-obj
JOBS=$(nproc)

log() { echo "debug-kernel: $*"; }
die() { echo "debug-kernel: error: $*" >&2; exit 1; }

tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)
[ -n "$tarball" ] || die "no /usr/src/linux-source-*.tar.xz: run scripts/setup.sh"
stamp=$( { basename "$tarball"; stat -c %s "$tarball"; cat "$FRAGMENT"; } |
	sha256sum | cut -c1-16)

if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] &&
   [ -f "$OUT/vmlinuz" ] && [ -e "$OUT/build/Makefile" ]; then
	log "cached: $(cat "$OUT/kernel-version") in $OUT"
	exit 0
fi

start=$(date +%s)
# What a kernel build needs beyond the module build's packages.
need=""
for p in flex bison libelf-dev libssl-dev bc cpio xz-utils; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		need="$need $p"
done
if [ -n "$need" ]; then
	log "installing:$need"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $need >/dev/null
fi
log "building from $(basename "$tarball") with $JOBS jobs (about an hour on 2 cores)"
if [ ! -f "$SRC/Makefile" ]; then
	rm -rf "$SRC" "$SRC.tmp" && mkdir -p "$SRC.tmp"
	tar -xJf "$tarball" -C "$SRC.tmp" --strip-components=1
	mv "$SRC.tmp" "$SRC"
fi
mkdir -p "$OBJ"
make -C "$SRC" O="$OBJ" -s KCONFIG_ALLCONFIG="$FRAGMENT" alldefconfig

# Kconfig drops what it cannot satisfy without a word: check every line.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%=n}
		grep -qx "# $opt is not set" "$OBJ/.config" ||
			! grep -q "^$opt=" "$OBJ/.config" || { echo "  $line"; missing=1; } ;;
	CONFIG_*) grep -qxF "$line" "$OBJ/.config" || { echo "  $line"; missing=1; } ;;
	esac
done < "$FRAGMENT"
[ "$missing" = 0 ] || die "the options above did not take (see $OBJ/.config)"

make -C "$OBJ" -s -j"$JOBS" bzImage modules
kver=$(make -C "$OBJ" -s kernelrelease)
rm -rf "$OUT" && mkdir -p "$OUT"
make -C "$OBJ" -s INSTALL_MOD_PATH="$OUT" INSTALL_MOD_STRIP=1 modules_install
rm -f "$OUT/lib/modules/$kver/build" "$OUT/lib/modules/$kver/source"
cp "$OBJ/arch/x86/boot/bzImage" "$OUT/vmlinuz"
ln -s "$OBJ" "$OUT/build"
echo "$kver" > "$OUT/kernel-version"
echo "$stamp" > "$OUT/stamp"
log "built $kver in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
