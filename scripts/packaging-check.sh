#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's packaging layer, on this machine (never loading the module
# here: the machine may have no VMX, and its kernel is not ours).  Runs
# alone too: `make check-packaging` or scripts/packaging-check.sh.
#   - build the tree's vmxlab.ko for the test VM's kernel (KVER), to compare;
#   - build vmxlab-dkms and vmxlab-tools (scripts/deb.sh, lintian included);
#   - install them with apt-get; DKMS must build the module for KVER, with
#     the tree's vermagic and version;
#   - check the tools, the man pages, the header, the udev rule, the group;
#   - purge them and check that nothing is left;
#   - boot the test VM with the DKMS-built module and run the packaged
#     vmxlab-hello there.
# Prints TAP (details of a failure as "# " lines; the commands' output is
# in build/packaging/) and exits non-zero if any check failed.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
VERSION=$(cat VERSION)
OUT=build/packaging	# not build/deb: scripts/deb.sh empties that
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
PACKAGES=(vmxlab-dkms vmxlab-tools vmxlab-tools-dbgsym)
start=$(date +%s)

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
# check DESCRIPTION LOG COMMAND...: COMMAND's output goes to $OUT/LOG.log;
# on failure its last lines follow the "not ok" line.
check() {
	local what=$1 log=$OUT/$2.log
	shift 2
	if "$@" > "$log" 2>&1; then
		result OK "$what"
	else
		result FAIL "$what"
		tail -n 15 "$log" | sed 's/^/#   /'
	fi
}
# absent DESCRIPTION PATH...: none of the paths (globs expanded) exists.
absent() {
	local what=$1 p left=()
	shift
	for p in "$@"; do
		[ -e "$p" ] && left+=("$p")
	done
	if [ "${#left[@]}" = 0 ]; then
		result OK "$what"
	else
		result FAIL "$what"
		printf '#   left: %s\n' "${left[@]}"
	fi
}

rm -rf "$OUT"
mkdir -p "$OUT" build/vm
echo "TAP version 13"
echo "1..18"

# Setup is cached (a second or two); it also gives KVER to a clean machine.
tree_module() {
	scripts/setup.sh &&
		make module KDIR="/usr/src/linux-headers-$(cat "$CACHE/kernel-version")"
}
check "setup, and the tree's vmxlab.ko for the test VM's kernel" tree-module \
	tree_module
KVER=$(cat "$CACHE/kernel-version" 2>/dev/null || echo unknown)
KO=/lib/modules/$KVER/updates/dkms/vmxlab.ko

# Whatever an interrupted run left behind.
$SUDO "${APT[@]}" purge "${PACKAGES[@]}" > "$OUT/purge-before.log" 2>&1

check "make deb: both packages, lintian --pedantic clean" deb scripts/deb.sh
# What the README tells users to run (the glob also takes the dbgsym package).
check "apt-get install ./build/deb/*.deb" install \
	$SUDO "${APT[@]}" --no-install-recommends install ./build/deb/*.deb

# The package's postinst (/usr/lib/dkms/common.postinst) builds for the
# running kernel and the newest in /boot -- or, when the running kernel has
# no /lib/modules directory (a container, or this machine's own kernel),
# for every kernel in /lib/modules, which includes KVER through its
# headers' build link.  `dkms install -k` makes sure of KVER either way and
# is a no-op ("already installed ... skip") when the postinst did it.
if dkms status "vmxlab/$VERSION" -k "$KVER" 2>/dev/null | grep -q ': installed'; then
	echo "# the package's postinst already built and installed it for $KVER"
fi
check "DKMS builds and installs vmxlab $VERSION for $KVER" dkms-install \
	$SUDO dkms install "vmxlab/$VERSION" -k "$KVER"
dkms_installed() {
	dkms status && dkms status | grep -q "^vmxlab/$VERSION, $KVER, [^:]*: installed$"
}
check "dkms status: vmxlab/$VERSION, $KVER: installed" dkms-status dkms_installed

# Keep the DKMS-built module (uncompressed) for the comparisons and the VM.
for k in "$KO" "$KO.xz" "$KO.zst"; do
	case $k in
	*.xz) xz -dc "$k" ;;
	*.zst) zstd -qdc "$k" ;;
	*) cat "$k" ;;
	esac > "$OUT/vmxlab-dkms.ko" 2>/dev/null && break
	rm -f "$OUT/vmxlab-dkms.ko"
done
modfield() { modinfo -F "$1" "$2" 2>/dev/null; }
compare() {	# compare FIELD [VALUE]: the same in both modules (and VALUE)
	local dkms tree
	dkms=$(modfield "$1" "$OUT/vmxlab-dkms.ko")
	tree=$(modfield "$1" vmxlab.ko)
	echo "DKMS-built: \"$dkms\", tree: \"$tree\", expected: \"${2-either}\""
	[ -n "$dkms" ] && [ "$dkms" = "$tree" ] && [ "$dkms" = "${2-$dkms}" ]
}
check "$KO: vermagic is the tree's vmxlab.ko's" vermagic compare vermagic
check "$KO: version is the tree's, $VERSION" version compare version "$VERSION"

check "vmxlab-info --help runs" info vmxlab-info --help
check "man pages: vmxlab(4), vmxlab-info/-hello/-stat/-bench/-run(1)" man \
	bash -c 'man -w 4 vmxlab && man -w 1 vmxlab-info vmxlab-hello vmxlab-stat vmxlab-bench vmxlab-run vmxlab-trace'
check "/usr/include/linux/vmxlab.h is the tree's uapi header" header \
	cmp /usr/include/linux/vmxlab.h include/uapi/linux/vmxlab.h
RULE=/lib/udev/rules.d/60-vmxlab-tools.rules
check "udev rule: /dev/vmxlab group vmxlab, mode 0660" udev \
	grep -E '^KERNEL=="vmxlab", GROUP="vmxlab", MODE="0660"$' "$RULE"
system_group() {
	local gid
	gid=$(getent group vmxlab | cut -d: -f3) && [ "$gid" -lt 1000 ]
}
check "system group vmxlab exists" group system_group

# Taking the packaged vmxlab-hello to the VM: it is gone after the purge.
rm -rf "$OUT/tools-root"
dpkg-deb -x "build/deb/vmxlab-tools_${VERSION}_amd64.deb" "$OUT/tools-root" 2>/dev/null

check "apt-get purge ${PACKAGES[*]}" purge \
	$SUDO "${APT[@]}" purge "${PACKAGES[@]}"
dkms status vmxlab > "$OUT/dkms-status-after.txt" 2>&1
absent "nothing of vmxlab-dkms left (/usr/src, DKMS tree, module)" \
	/usr/src/vmxlab-* /var/lib/dkms/vmxlab /lib/modules/*/updates/dkms/vmxlab.ko*
absent "nothing of vmxlab-tools left (tools, header, rule, docs)" \
	/usr/bin/vmxlab-* /usr/include/linux/vmxlab.h "$RULE" \
	/usr/share/doc/vmxlab-* /usr/share/man/man1/vmxlab-* /usr/share/man/man4/vmxlab.4*
no_group_no_status() {
	! getent group vmxlab && cat "$OUT/dkms-status-after.txt" &&
		[ ! -s "$OUT/dkms-status-after.txt" ]
}
check "group vmxlab removed, dkms status silent" leftovers no_group_no_status

# The DKMS-built module and the packaged (dynamically linked: vm-run.sh
# adds its libraries) vmxlab-hello in the test VM.
cat > "$OUT/hello-vm.sh" <<'SCRIPT'
insmod /vmxlab/vmxlab.ko || exit 1
/vmxlab/vmxlab-hello
status=$?
rmmod vmxlab || status=1
exit "$status"
SCRIPT
vm_start=$(date +%s)
if [ -f "$OUT/vmxlab-dkms.ko" ] && [ -x "$OUT/tools-root/usr/bin/vmxlab-hello" ]; then
	scripts/vm-run.sh --emulator bochs --cpus 1 --timeout 300 --idle-timeout 120 \
		--log build/vm/packaging-serial.log \
		--add "$OUT/vmxlab-dkms.ko:/vmxlab/vmxlab.ko" \
		--add "$OUT/tools-root/usr/bin/vmxlab-hello" \
		"$OUT/hello-vm.sh" > "$OUT/hello-vm.log" 2>&1
	st=$?
else
	echo "no DKMS-built module or packaged vmxlab-hello to run" > "$OUT/hello-vm.log"
	st=1
fi
echo "# test VM: $(($(date +%s) - vm_start))s"
vm_status() {
	echo "vm-run.sh: exit $st"
	[ "$st" = 0 ] || { tail -n 15 "$OUT/hello-vm.log"; false; }
}
hello_output() {
	grep "guest says: " "$OUT/hello-vm.log" && grep CPUID "$OUT/hello-vm.log"
}
check "the test VM runs the packaged vmxlab-hello on the DKMS module" hello-vm-status vm_status
check "vmxlab-hello's guest said hello and took its CPUID exit" hello-vm-output hello_output

echo "packaging: $((n - failed)) passed, $failed failed ($(($(date +%s) - start))s)"
[ "$failed" = 0 ]
