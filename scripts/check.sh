#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the project's one test command.  Sets up (cached), builds
# vmxlab.ko against the VM's kernel and the selftests, runs the userspace
# unit tests, the kernel-hygiene checks (scripts/lint.sh), the docs layer
# (scripts/docs-check.sh: the generated tour and stale references) and the
# packaging layer (scripts/packaging-check.sh, alone: make check-packaging),
# then the selftests in VMs: the main lane (VMX: Bochs, or QEMU/KVM with
# nested VMX), two short Bochs lanes for the tests that depend on the CPU model or
# the host kernel's options (AVX-512, noxsave), a short Bochs lane that
# reboots in an emergency (sysrq b) while guests run on every CPU, and the
# no-VMX lane (QEMU TCG, where vmxlab.ko must refuse to load).
# scripts/tap-summary.py then counts every result and prints "N passed, N
# failed, N skipped" last; the exit status is non-zero if anything failed.
# Outputs are kept in build/check/ and build/vm/.
#
# The debug lane boots the debug kernel (scripts/debug-kernel.sh: KASAN,
# KCOV, lockdep, kmemleak, UBSAN..., built once into the cache) with a
# vmxlab.ko built against it, and runs every selftest, the fuzzer's seeds
# and a coverage-guided campaign, and a kmemleak scan.
#
# The vm-linux lane boots Debian's kernel as a vmxlab guest with
# tools/vmxlab-run (Documentation/linux-guest.rst) on a 1-CPU Bochs, then
# does what `make linux` does on a pseudo-terminal, typing into the
# guest's shell.
#
#   scripts/check.sh [--quick | --debug-only | --linux-only]
#     --quick            skip the no-VMX lane
#     --debug-only       set up and run the debug lane alone (make check-debug)
#     --linux-only       set up and run the vm-linux lane alone (make check-linux)
#   VMXLAB_EMULATOR=E    emulator of the main lane (default auto; see
#                        scripts/vm-run.sh --help)
#   VMXLAB_VM_TIMEOUT=S  time limit of the main lane (default 1800 s: the
#                        whole suite on a 2-CPU Bochs; CI allows 90 min)

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
OUT=build/check
VMLOGS=build/vm

quick=0 debug_only=0 linux_only=0
for arg in "$@"; do
	case $arg in
	--quick) quick=1 ;;
	--debug-only) debug_only=1 ;;
	--linux-only) linux_only=1 ;;
	-h|--help) sed -n '4,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "check: unknown argument '$arg' (--quick, --debug-only or --linux-only)" >&2; exit 1 ;;
	esac
done

step() { echo "==> check: $*"; }

# Without a build nothing can be tested: say so in the closing line's form.
cannot_test() {
	echo "check: FAILED: $*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

step "setup (scripts/setup.sh)"
scripts/setup.sh || cannot_test "scripts/setup.sh"
KVER=$(cat "$CACHE/kernel-version")

step "build vmxlab.ko against $KVER"
make module KDIR="/usr/src/linux-headers-$KVER" || cannot_test "building vmxlab.ko"

step "build selftests (make -C selftests)"
make -C selftests || cannot_test "building the selftests"

step "build tools (make -C tools)"
make -C tools || cannot_test "building the tools"

rm -rf "$OUT"
mkdir -p "$OUT" "$VMLOGS"
summary=()

# The README's "Watch your own guest": its hello.S (between the BEGIN and
# END lines), assembled as `make trace` does, and the output the README
# shows.  Every VM lane ships both with tools/out/vmxlab-trace, and
# trace_tool_test's readme_guest runs the one and expects the other.
README_GUEST=$OUT/readme
step "the README's guest (scripts/trace.sh --build-only)"
mkdir -p "$README_GUEST"
sed -n '/^    # BEGIN hello.S/,/^    # END hello.S/s/^    //p' README > "$README_GUEST/hello.S"
sed -n '/^    == \/vmxlab\/guest/,/^$/s/^    //p' README > "$README_GUEST/expect"
if [ ! -s "$README_GUEST/hello.S" ] || [ ! -s "$README_GUEST/expect" ]; then
	cannot_test "README: no hello.S or no output in \"Watch your own guest\""
fi
scripts/trace.sh --build-only "$README_GUEST/hello.bin" "$README_GUEST/hello.S" ||
	cannot_test "assembling the README's hello.S"

# The debug kernel builds (once per machine, about 20 minutes) in the
# background while the other layers run: they use one core, Bochs' own.
# Niced, so that the VM lanes keep their pace.  debug_lane() waits for it.
if [ "$linux_only" = 0 ]; then
	nice -n 10 scripts/debug-kernel.sh > "$OUT/debug-kernel.log" 2>&1 &
	debug_kernel_pid=$!
fi

# Run a command with its output shown and kept in a file; never stops the
# script: the status is left in $status.
run_captured() {
	local file=$1
	shift
	set +e
	"$@" 2>&1 | tee "$file"
	status=${PIPESTATUS[0]}
	set -e
}

# One VM lane: NAME EMULATOR CPUS TIMEOUT [vm-run.sh OPTIONS...] [-- run_in_vm.sh ARGS...]
#
# A VM whose serial console stays silent for VM_IDLE seconds has hung, and
# a hung lane is a failure like any other: it is not run again.
VM_IDLE=${VMXLAB_VM_IDLE:-600}
vm_lane() {
	local name=$1 emulator=$2 cpus=$3 limit=$4 start
	local vmrun_opts=() script_args=()
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do vmrun_opts+=("$1"); shift; done
	[ $# -eq 0 ] || { shift; script_args=("$@"); }
	start=$(date +%s)
	step "VM lane $name ($emulator, $cpus cpu(s)${vmrun_opts[*]:+, ${vmrun_opts[*]}}, at most ${limit}s)"
	run_captured "$OUT/$name.out" scripts/vm-run.sh --emulator "$emulator" \
		--cpus "$cpus" --timeout "$limit" --idle-timeout "$VM_IDLE" \
		--log "$VMLOGS/$name-serial.log" \
		--add vmxlab.ko --add selftests/out --add /usr/bin/trace-cmd \
		--add tools/out/vmxlab-trace --add "$README_GUEST:/vmxlab/readme" \
		${vmrun_opts[@]+"${vmrun_opts[@]}"} selftests/run_in_vm.sh \
		${script_args[@]+"${script_args[@]}"}
	echo "check: VM lane $name took $(($(date +%s) - start))s"
	summary+=(--vm-lane "$name" "$status" "$(($(date +%s) - start))" "$OUT/$name.out")
}

# The debug kernel (built once, cached) and vmxlab.ko built against it in
# build/debug/ from a copy of the module's sources.  Fails the lane, not
# the whole check, when either cannot be built.
DEBUG_KERNEL=$CACHE/kernel-debug
DEBUG_FUZZ_SECONDS=${VMXLAB_DEBUG_FUZZ_SECONDS:-40}
debug_lane() {
	local start
	start=$(date +%s)
	step "debug kernel (scripts/debug-kernel.sh, started in the background)"
	set +e
	wait "$debug_kernel_pid"
	status=$?
	cat "$OUT/debug-kernel.log"
	if [ "$status" = 0 ]; then
		step "build vmxlab.ko against the debug kernel (build/debug/)"
		make debug-module 2>&1 | tee -a "$OUT/debug-kernel.log"
		status=${PIPESTATUS[0]}
	fi
	set -e
	echo "check: waiting for the debug kernel and building the module took $(($(date +%s) - start))s"
	if [ "$status" != 0 ]; then
		printf '1..1\nnot ok 1 debug kernel and vmxlab.ko built against it\n' \
			> "$OUT/vm-debug.tap"
		summary+=(--layer vm-debug 1 "$OUT/vm-debug.tap")
		return
	fi
	vm_lane vm-debug bochs 2 2400 --kernel "$DEBUG_KERNEL" \
		--add build/debug/src/vmxlab.ko:/vmxlab/vmxlab.ko -- \
		--debug "$DEBUG_FUZZ_SECONDS"
}

# The Linux guest: the VM's own kernel, booted inside the VM by
# vmxlab-run from an initramfs of busybox and a marker-printing /init.
LINUX_INITRD=build/linux-guest/initrd.gz
linux_lane() {
	step "the Linux guest's initramfs (scripts/linux-guest-initrd.sh)"
	if ! scripts/linux-guest-initrd.sh "$LINUX_INITRD"; then
		printf '1..1\nnot ok 1 the Linux guest initramfs built\n' > "$OUT/vm-linux.tap"
		summary+=(--layer vm-linux 1 "$OUT/vm-linux.tap")
		return
	fi
	vm_lane vm-linux bochs 1 900 --add tools/out/vmxlab-run \
		--add "$CACHE/kernel-$KVER/vmlinuz:/vmxlab/linux/vmlinuz" \
		--add "$LINUX_INITRD:/vmxlab/linux/initrd.gz" -- --linux
	# make linux as a user runs it: on a terminal (a pseudo-terminal
	# here), typing into the guest's shell, poweroff -f ending both VMs.
	local start
	start=$(date +%s)
	step "make linux on a pseudo-terminal (scripts/linux-shell-test.py)"
	run_captured "$OUT/vm-linux-shell.tap" python3 scripts/linux-shell-test.py 900
	echo "check: make linux took $(($(date +%s) - start))s"
	summary+=(--layer vm-linux-shell "$status" "$OUT/vm-linux-shell.tap")
}

if [ "$linux_only" = 1 ]; then
	linux_lane
	step "summary"
	exec python3 scripts/tap-summary.py "${summary[@]}"
fi

if [ "$debug_only" = 1 ]; then
	debug_lane
	step "summary"
	exec python3 scripts/tap-summary.py "${summary[@]}"
fi

step "unit tests (make -C selftests unit)"
run_captured "$OUT/unit.tap" make -s -C selftests unit
summary+=(--layer unit "$status" "$OUT/unit.tap")

step "VMM unit tests (make -C tools test)"
run_captured "$OUT/tools.tap" make -s -C tools test VMLINUZ="$CACHE/kernel-$KVER/vmlinuz"
summary+=(--layer tools "$status" "$OUT/tools.tap")

# Kernel hygiene as a layer of its own: W=1, sparse and checkpatch
# --strict, one TAP result each (scripts/lint.sh prints "lint: NAME: clean").
step "lint (scripts/lint.sh)"
run_captured "$OUT/lint.out" scripts/lint.sh
{
	echo "1..5"
	n=0
	for what in W=1 sparse checkpatch man docs; do
		n=$((n + 1))
		if grep -q "^lint: $what: .*clean" "$OUT/lint.out"; then
			echo "ok $n lint $what"
		else
			echo "not ok $n lint $what"
		fi
	done
} > "$OUT/lint.tap"
summary+=(--layer lint "$status" "$OUT/lint.tap")

# Documentation: tour.rst generated from the T:NNN comments and current,
# tour.stops in step with them, no reference to code that is gone, and the
# self-test of those checkers (a few seconds, no VM).
step "docs (scripts/docs-check.sh)"
run_captured "$OUT/docs.tap" scripts/docs-check.sh
summary+=(--layer docs "$status" "$OUT/docs.tap")

# Packaging: make deb, install through apt and DKMS (for the VM's kernel,
# never loaded here), purge, and the DKMS-built module in the test VM.
step "packaging (scripts/packaging-check.sh)"
start=$(date +%s)
run_captured "$OUT/packaging.tap" scripts/packaging-check.sh
echo "check: packaging took $(($(date +%s) - start))s"
summary+=(--layer packaging "$status" "$OUT/packaging.tap")


# The main lane runs every selftest on the default CPU model.  The short
# lanes run only the tests that depend on a CPU model or a host kernel
# option, each on the configuration it needs:
#   vm-skylake   Bochs' corei7_skylake_x: AVX-512, so XCR0 has the
#                components whose partial values once crashed the host;
#                and SMAP, which Haswell lacks: the guest paging test's
#                SMAP test alone, on both kinds of VM (a few seconds);
#   vm-noxsave   the host kernel booted with noxsave: no CR4.OSXSAVE, no
#                XCR0 to switch.
# vm-fuzz runs vmxlab_fuzz: fixed seeds, then fresh ones for
# VMXLAB_FUZZ_SECONDS (default 20) of the VM's time, about a minute.
# vm-mitigations runs every selftest again with the host's speculation
# mitigations on (every other lane boots mitigations=off), so that
# vmxlab's mitigation steps run under the whole suite.
# The reboot lane runs no selftest: a guest spins on each CPU, then sysrq b
# resets the VM.  vm-run.sh --expect-reboot passes it when the serial log
# shows vmxlab's emergency line for every CPU and then a second boot, and
# stops the VM at that second boot.
XSAVE_LANE_TESTS="guest_xsave_test"
SMAP_LANE_TESTS="guest_paging_test:smap_user_page_data"

vm_lane vm "${VMXLAB_EMULATOR:-auto}" 2 "${VMXLAB_VM_TIMEOUT:-1800}"
vm_lane vm-skylake bochs 1 600 --cpu-model corei7_skylake_x -- \
	--only "$XSAVE_LANE_TESTS $SMAP_LANE_TESTS"
vm_lane vm-noxsave bochs 1 600 --append noxsave -- --only "$XSAVE_LANE_TESTS"
vm_lane vm-mitigations bochs 2 1200 --append mitigations=auto
vm_lane vm-fuzz bochs 2 600 -- --fuzz "${VMXLAB_FUZZ_SECONDS:-20}"
# Two boots in one VM: about 60 s on an idle machine; 300 s leaves room
# for a loaded one (120 s was too little under a load of 8).
vm_lane vm-reboot bochs 2 300 --expect-reboot -- --emergency-reboot
linux_lane
debug_lane
if [ "$quick" = 1 ]; then
	step "no-VMX lane skipped (--quick)"
else
	vm_lane vm-novmx qemu-tcg 1 120 -- --novmx
fi

step "summary"
exec python3 scripts/tap-summary.py "${summary[@]}"
