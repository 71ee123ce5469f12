#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything vmxlab needs on a Debian 12 machine: the packages the
# module build, the selftests and the test VM use, the Debian kernel image
# that matches the installed headers (for the VM), the pieces of the kernel
# source tree we borrow at build time (kselftest_harness.h, checkpatch.pl),
# and a Bochs 3.0 built from Debian's own source (the only emulator here
# that offers VMX with EPT *and* the monitor trap flag).
#
# Idempotent: every step checks its result first; downloads are cached in
# $VMXLAB_CACHE (default ~/.cache/vmxlab).  Prints one "setup: ..." line per
# step.  Nothing here writes into the repository.

set -euo pipefail

CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
mkdir -p "$CACHE"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

PACKAGES="make gcc g++ libc6-dev bc kmod linux-headers-amd64 linux-source
	sparse bochs bochsbios vgabios busybox-static isolinux syslinux-common
	xorriso cpio gzip xz-utils qemu-system-x86 dpkg-dev perl python3
	trace-cmd man-db python3-docutils"

install_packages() {
	local missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		log "Debian packages: all present"
		return
	fi
	log "installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
}

# The kernel version is whatever linux-headers-amd64 points at today: Debian
# bumps the ABI number with security updates and old images leave the
# mirror, so never hard-code it.
kernel_version() {
	apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-headers-\(.*\)$/\1/p' | head -n1
}

fetch_kernel_image() {
	local kver=$1
	local dir="$CACHE/kernel-$kver"
	if [ -f "$dir/vmlinuz" ] && [ -d "$dir/lib/modules/$kver" ]; then
		log "kernel image $kver: cached"
		return
	fi
	log "downloading linux-image-$kver"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	(cd "$dir.tmp" && apt-get download -qq "linux-image-$kver" >/dev/null)
	dpkg-deb -x "$dir.tmp"/linux-image-*.deb "$dir.tmp/root"
	mkdir -p "$dir.tmp/lib"
	cp "$dir.tmp/root/boot/vmlinuz-$kver" "$dir.tmp/vmlinuz"
	mv "$dir.tmp/root/lib/modules" "$dir.tmp/lib/modules"
	rm -rf "$dir.tmp/root" "$dir.tmp"/*.deb
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# kselftest_harness.h, kselftest.h and checkpatch.pl (with its data files)
# come from Debian's linux-source tarball, unpacked once into the cache.
extract_kernel_source_bits() {
	local dir="$CACHE/linux-src" tarball
	if [ -f "$dir/scripts/checkpatch.pl" ] &&
	   [ -f "$dir/tools/testing/selftests/kselftest_harness.h" ]; then
		log "kselftest harness and checkpatch: cached"
		return
	fi
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$tarball" ] || die "linux-source tarball not found in /usr/src"
	log "extracting harness and checkpatch from $(basename "$tarball")"
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
}

# Debian 13's Bochs 3.0 source package, fetched through a private apt
# configuration so that the machine's own sources stay untouched.  The
# mirror is the one this machine already uses.
bochs3_source() {
	local apt="$CACHE/apt-trixie" uri
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n1)
	[ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\+\([^ ]*debian\/\?\)[[:space:]].*/\1/p' \
		/etc/apt/sources.list 2>/dev/null | head -n1)
	[ -n "$uri" ] || return 1
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/src"
	echo "deb-src $uri trixie main" > "$apt/sources.list"
	local opts=(-o Dir::Etc::SourceList="$apt/sources.list"
		    -o Dir::Etc::SourceParts=/dev/null
		    -o Dir::State::Lists="$apt/lists"
		    -o Dir::Cache="$apt/cache")
	apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || return 1
	(cd "$apt/src" && apt-get "${opts[@]}" source --download-only bochs \
		>/dev/null 2>&1) || true
	ls "$apt"/src/bochs_3.*.orig.tar.* 2>/dev/null | head -n1
}

build_bochs3() {
	local prefix="$CACHE/bochs3" tarball src
	if [ -x "$prefix/bin/bochs" ]; then
		log "Bochs 3.0: cached ($prefix/bin/bochs)"
		return
	fi
	tarball=$(bochs3_source) || true
	if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
		log "WARNING: Bochs 3.0 source unavailable; the VM falls back to Bochs 2.7 (no monitor trap flag: MTF tests will be skipped)"
		return
	fi
	log "building Bochs 3.0 from $(basename "$tarball") (about a minute)"
	src="$CACHE/bochs3-build"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	(
		cd "$src"
		./configure --prefix="$prefix" --with-nogui --with-rfb --without-x \
			--without-x11 --without-wx --without-sdl --without-sdl2 \
			--enable-x86-64 --enable-smp --enable-cpu-level=6 \
			--enable-vmx=2 --enable-avx --enable-evex \
			--enable-all-optimizations --enable-pci --enable-cdrom \
			--enable-a20-pin --enable-repeat-speedups \
			--enable-fast-function-calls --enable-handlers-chaining \
			--enable-trace-linking --disable-docbook --disable-debugger
		make -j"$(nproc)"
		make install
	) > "$CACHE/bochs3-build.log" 2>&1 ||
		die "Bochs 3.0 build failed, see $CACHE/bochs3-build.log"
	rm -rf "$src"
	log "Bochs 3.0 installed in $prefix"
}

install_packages
KVER=$(kernel_version)
[ -n "$KVER" ] || die "cannot resolve the kernel version from linux-headers-amd64"
[ -d "/usr/src/linux-headers-$KVER" ] ||
	die "linux-headers-$KVER is not installed (apt-get install linux-headers-amd64)"
log "kernel: $KVER"
fetch_kernel_image "$KVER"
extract_kernel_source_bits
build_bochs3
echo "$KVER" > "$CACHE/kernel-version"
log "done (cache: $CACHE)"
