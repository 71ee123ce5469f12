#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's packaging layer, on this machine (never loading the module
# here: the machine may have no VMX, and its kernel is not ours):
#   - build vmxlab-dkms and vmxlab-tools (scripts/deb.sh, lintian included);
#   - install them with apt-get, have DKMS build the module for the kernel
#     the test VM boots (KVER), and compare it with the tree's vmxlab.ko
#     (vermagic, version);
#   - check the tools, the man pages, the header, the udev rule, the group;
#   - purge both and check that nothing is left;
#   - boot the test VM with the DKMS-built module and run vmxlab-hello.
# Prints TAP; exits non-zero if any check failed.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
KVER=$(cat "$CACHE/kernel-version")
VERSION=$(cat VERSION)
OUT=build/deb
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

n=0 failed=0
result() {	# result OK|FAIL DESCRIPTION
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}
check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then result OK "$what"; else result FAIL "$what"; fi
}

echo "TAP version 13"
echo "1..16"

# Anything a previous, interrupted run left behind.
$SUDO apt-get purge -y -qq vmxlab-dkms vmxlab-tools >/dev/null 2>&1

check "make deb builds both packages, lintian-clean" scripts/deb.sh
debs=("./$OUT/vmxlab-dkms_${VERSION}_all.deb" "./$OUT/vmxlab-tools_${VERSION}_amd64.deb")
check "apt-get install ./build/deb/*.deb" \
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends "${debs[@]}"
check "DKMS builds vmxlab $VERSION for $KVER" \
	$SUDO dkms install "vmxlab/$VERSION" -k "$KVER"
check "dkms status: installed for $KVER" \
	bash -c "dkms status vmxlab/$VERSION -k $KVER | grep -q ': installed'"
ko=$(find "/lib/modules/$KVER/updates/dkms" -name 'vmxlab.ko*' 2>/dev/null | head -n1)
case $ko in
*.xz) xz -dc "$ko" > "$OUT/vmxlab-dkms.ko" ;;
*.zst) zstd -qdc "$ko" > "$OUT/vmxlab-dkms.ko" ;;
?*) cp "$ko" "$OUT/vmxlab-dkms.ko" ;;
*) rm -f "$OUT/vmxlab-dkms.ko" ;;
esac
check "the DKMS module's vermagic is the tree's" \
	test "$(modinfo -F vermagic "$OUT/vmxlab-dkms.ko" 2>/dev/null)" = \
	     "$(modinfo -F vermagic vmxlab.ko)"
check "the DKMS module's version is $VERSION" \
	test "$(modinfo -F version "$OUT/vmxlab-dkms.ko" 2>/dev/null)" = "$VERSION"
check "vmxlab-info --help runs" bash -c 'vmxlab-info --help >/dev/null'
check "man pages installed" bash -c \
	"man -w 4 vmxlab && man -w 1 vmxlab-info vmxlab-hello vmxlab-stat vmxlab-bench"
check "/usr/include/linux/vmxlab.h" test -f /usr/include/linux/vmxlab.h
check "udev rule and group vmxlab" bash -c \
	'grep -q GROUP=\"vmxlab\" /lib/udev/rules.d/*vmxlab*.rules && getent group vmxlab >/dev/null'

check "apt-get purge vmxlab-dkms vmxlab-tools" \
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq vmxlab-dkms vmxlab-tools
check "nothing of vmxlab-dkms left (source, DKMS tree, modules)" bash -c \
	"! ls -d /usr/src/vmxlab-* /var/lib/dkms/vmxlab 2>/dev/null | grep -q . &&
	 ! find /lib/modules -name 'vmxlab.ko*' 2>/dev/null | grep -q ."
check "nothing of vmxlab-tools left (tools, header, rule, group)" bash -c \
	'! ls /usr/bin/vmxlab-* /usr/include/linux/vmxlab.h /lib/udev/rules.d/*vmxlab* 2>/dev/null | grep -q . &&
	 ! getent group vmxlab >/dev/null'

# The DKMS-built module in the test VM: vmxlab-hello must see its guest.
cat > "$OUT/hello-vm.sh" <<'SCRIPT'
insmod /vmxlab/vmxlab.ko || exit 1
/vmxlab/vmxlab-hello || exit 1
rmmod vmxlab
SCRIPT
# The tree's own (static) vmxlab-hello: the package's is dynamically
# linked, and the VM has no libc to run it with.
make -s -C tools >/dev/null || echo "packaging: building tools/ failed"
if [ -f "$OUT/vmxlab-dkms.ko" ]; then
	scripts/vm-run.sh --emulator bochs --cpus 1 --timeout 300 --idle-timeout 120 \
		--log build/vm/packaging-serial.log \
		--add "$OUT/vmxlab-dkms.ko:/vmxlab/vmxlab.ko" --add tools/out/vmxlab-hello \
		"$OUT/hello-vm.sh" > "$OUT/hello-vm.out" 2>&1
	st=$?
else
	st=1
fi
check "the test VM boots with the DKMS-built module" test "$st" = 0
check "vmxlab-hello's guest ran there" grep -q "guest says: " "$OUT/hello-vm.out"
check "and took its CPUID exit" grep -q "CPUID" "$OUT/hello-vm.out"

echo "packaging: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
