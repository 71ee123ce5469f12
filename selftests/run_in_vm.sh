#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (busybox sh, cwd /vmxlab, as root): the selftest
# binaries that selftests/Makefile builds into out/, against the vmxlab.ko
# the runner put next to this script.  Each binary is framed by
# VMXLAB-TEST-BEGIN/END lines; the exit status is non-zero if any failed.
#
# From the top of the tree, with this script as the runner's SCRIPT:
#   scripts/vm-run.sh --cpus 2 --add vmxlab.ko --add selftests/out SCRIPT
#           runs every *_test but novmx_test, then every guest_*_test
#           again as NAME@shadow: with VMXLAB_TEST_VM_TYPE=shadow, so
#           that its VMs use shadow paging (tests of EPT-only behaviour
#           skip there)
#   scripts/vm-run.sh --emulator qemu-tcg --add vmxlab.ko \
#           --add selftests/out SCRIPT --novmx
#           runs novmx_test only
#   scripts/vm-run.sh ... SCRIPT --only "guest_xsave_test vmxlab_test"
#           runs just those binaries, in that order (NAME@shadow too);
#           guest_paging_test:T1,T2 runs only its tests T1 and T2, in
#           both variants (VMXLAB_TEST_ONLY)
#   scripts/vm-run.sh --cpus 2 --expect-reboot ... SCRIPT --emergency-reboot
#           runs sysrq_reboot, which resets the VM (sysrq b) while guests
#           run on every CPU: the vm-reboot lane, judged by vm-run.sh
#   scripts/vm-run.sh --cpus 2 ... SCRIPT --fuzz SECONDS
#           runs vmxlab_fuzz: the fixed seeds below (each a regression
#           case or a known-good sequence), then fresh seeds for SECONDS
#           of the VM's time (about three times as long in Bochs)
#   scripts/vm-run.sh --cpus 2 ... SCRIPT --fuzz-replay PROGRAM
#   scripts/vm-run.sh --cpus 2 ... SCRIPT --fuzz-replay SEED OPS
#           replays one program of vmxlab_fuzz (S1:N1,S2:N2..., as a
#           finding prints it, or xSTATE1,xSTATE2,... as its MINIMISED
#           line prints it; SEED OPS is the program SEED:OPS)
#   scripts/vm-run.sh --cpus 1 --add tools/out/vmxlab-run \
#           --add VMLINUZ:/vmxlab/linux/vmlinuz \
#           --add GUEST-INITRD:/vmxlab/linux/initrd.gz ... SCRIPT --linux
#           the vm-linux lane: vmxlab-run boots the VM's own kernel as a
#           guest (Documentation/linux-guest.rst), and refuses bad input
#   scripts/vm-run.sh --interactive (the same --add options) SCRIPT --linux-shell
#           make linux: that guest with a busybox shell on the terminal
#   scripts/vm-run.sh --kernel DEBUG-KERNEL ... SCRIPT --debug SECONDS
#           the debug lane: every *_test as without arguments, then the
#           fuzzer's fixed seeds and a coverage-guided campaign of SECONDS
#           (KCOV must see vmxlab.ko), then a kmemleak scan: any leak
#           whose backtrace is in vmxlab.ko fails
#
# VMXLAB_KO and VMXLAB_TESTS override where the module and the binaries
# are (default /vmxlab/vmxlab.ko and /vmxlab/out, else /vmxlab).

mode=vmx
only=
case ${1:-} in
--novmx) mode=novmx ;;
--emergency-reboot) mode=reboot ;;
--linux) mode=linux ;;
--linux-shell) mode=linux-shell ;;
--fuzz)
	[ -n "${2:-}" ] || { echo "run_in_vm: --fuzz needs a number of seconds" >&2; exit 2; }
	mode=fuzz fuzz_secs=$2 ;;
--fuzz-replay)
	[ -n "${2:-}" ] || { echo "run_in_vm: --fuzz-replay needs PROGRAM, or SEED and OPS" >&2; exit 2; }
	mode=replay fuzz_program=$2
	[ -z "${3:-}" ] || fuzz_program=$2:$3 ;;
--debug)
	[ -n "${2:-}" ] || { echo "run_in_vm: --debug needs a number of seconds" >&2; exit 2; }
	mode=debug fuzz_secs=$2 ;;
--only)
	[ -n "${2:-}" ] || { echo "run_in_vm: --only needs a list of test binaries" >&2; exit 2; }
	mode=only only=$2 ;;
'') ;;
*) echo "run_in_vm: unknown argument '$1' (--novmx, --emergency-reboot, --linux, --linux-shell, --fuzz SECONDS, --fuzz-replay PROGRAM, --debug SECONDS or --only \"NAMES\")" >&2; exit 2 ;;
esac

: "${VMXLAB_KO:=/vmxlab/vmxlab.ko}"
export VMXLAB_KO
if [ -z "${VMXLAB_TESTS:-}" ]; then
	VMXLAB_TESTS=/vmxlab/out
	[ -d "$VMXLAB_TESTS" ] || VMXLAB_TESTS=/vmxlab
fi
export VMXLAB_KVM_HOLD="$VMXLAB_TESTS/kvm_hold"

if [ ! -f "$VMXLAB_KO" ]; then
	echo "run_in_vm: $VMXLAB_KO not found (pass --add vmxlab.ko to the runner)" >&2
	exit 2
fi

# No test blocks here: the VM resets in the middle, and the verdict is
# vm-run.sh's (--expect-reboot).  Coming back is the failure.
if [ "$mode" = reboot ]; then
	"$VMXLAB_TESTS/sysrq_reboot"
	echo "run_in_vm: sysrq_reboot returned (rc=$?) instead of resetting the VM"
	exit 1
fi

# The Linux guest: one boot to /init that echoes a line from vmxlab-run's
# stdin and powers off, one that reboots, and the inputs vmxlab-run must
# refuse (exit 2) before it creates a VM.
LINUX_RUN=/vmxlab/vmxlab-run
LINUX_DIR=/vmxlab/linux
linux_boot() {
	local out=$1
	shift
	echo "LINE-FROM-THE-HOST" | "$LINUX_RUN" --kernel "$LINUX_DIR/vmlinuz" \
		--initrd "$LINUX_DIR/initrd.gz" --timeout 400 --stats "$@" > "$out" 2>&1
}

linux_refuses() {
	local n=$1 what=$2 rc
	shift 2
	"$LINUX_RUN" "$@" > /tmp/refuse.out 2>&1 < /dev/null
	rc=$?
	sed 's/^/# /' /tmp/refuse.out
	if [ "$rc" -eq 2 ] && [ -s /tmp/refuse.out ]; then
		echo "ok $n vmxlab-run refuses $what (exit 2, with a reason)"
	else
		echo "not ok $n vmxlab-run refuses $what (exit $rc, want 2)"
	fi
}

linux_guest() {
	local start rc bad k=$LINUX_DIR/vmlinuz i=$LINUX_DIR/initrd.gz
	echo "1..12"
	# Bochs takes no external-interrupt exit at guest IF=0: a time slice
	# keeps the PIT's signal from waiting for the guest's next exit.
	insmod "$VMXLAB_KO" timeslice_us=10000 || echo "# insmod failed"
	start=$(date +%s)
	linux_boot /tmp/linux.out
	rc=$?
	sed 's/^/# /' /tmp/linux.out
	echo "# linux_guest: boot to power-off took $(($(date +%s) - start)) s (VM time)"
	grep -q '^LINUX-GUEST-INIT [0-9]' /tmp/linux.out &&
		echo "ok 1 the guest kernel reached /init" ||
		echo "not ok 1 the guest kernel reached /init"
	grep -q '^LINUX-GUEST-ECHO LINE-FROM-THE-HOST' /tmp/linux.out &&
		echo "ok 2 the guest read a line from the serial port" ||
		echo "not ok 2 the guest read a line from the serial port"
	bad=$(grep -c '^LINUX-GUEST-BAD' /tmp/linux.out)
	[ "$bad" -eq 0 ] && grep -q '^LINUX-GUEST-INIT' /tmp/linux.out &&
		echo "ok 3 the guest's dmesg has no bad line" ||
		echo "not ok 3 the guest's dmesg has no bad line ($bad)"
	[ "$rc" -eq 0 ] && echo "ok 4 poweroff -f ends vmxlab-run with 0" ||
		echo "not ok 4 poweroff -f ends vmxlab-run with 0 (exit $rc)"
	linux_boot /tmp/linux-reboot.out --append vmxlab.guest=reboot
	rc=$?
	sed 's/^/# /' /tmp/linux-reboot.out
	[ "$rc" -eq 3 ] && echo "ok 5 reboot -f ends vmxlab-run with 3" ||
		echo "not ok 5 reboot -f ends vmxlab-run with 3 (exit $rc)"
	rmmod vmxlab
	head -c 4096 "$k" > /tmp/not-a-bzimage
	linux_refuses 6 "a truncated kernel" --kernel /tmp/not-a-bzimage
	linux_refuses 7 "64 MiB of RAM" --kernel "$k" --initrd "$i" --mem 64M
	linux_refuses 8 "a missing initrd" --kernel "$k" --initrd /nonexistent
	linux_refuses 9 "an over-long command line" --kernel "$k" \
		--cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
	linux_refuses 10 "a stray argument" --kernel "$k" stray
	linux_refuses 11 "an ELF file as the kernel" --kernel "$LINUX_RUN"
	# The same kernel with XLF_KERNEL_64 (xloadflags bit 0, at 0x236)
	# cleared: a kernel with only a 32-bit entry point.
	cp "$k" /tmp/kernel32
	printf '\176' | dd of=/tmp/kernel32 bs=1 seek=566 conv=notrunc 2>/dev/null
	linux_refuses 12 "a kernel without a 64-bit entry point" --kernel /tmp/kernel32
}

if [ "$mode" = linux-shell ]; then
	insmod "$VMXLAB_KO" timeslice_us=10000 || exit 1
	echo "run_in_vm: booting the Linux guest; poweroff -f in its shell ends both VMs"
	"$LINUX_RUN" --kernel "$LINUX_DIR/vmlinuz" --initrd "$LINUX_DIR/initrd.gz" \
		--append vmxlab.guest=shell --stats
	exit $?
fi

if [ "$mode" = linux ]; then
	echo "VMXLAB-TEST-BEGIN linux_guest"
	linux_guest | tee /tmp/linux.tap
	rc=0
	grep -q '^not ok' /tmp/linux.tap && rc=1
	echo "VMXLAB-TEST-END linux_guest rc=$rc"
	exit "$rc"
fi

# The fuzzer: each run framed like a test binary, with one TAP result.
# Seed 11 once found the real-mode/protected-mode #GP VMfail, now the
# irq test entry_event_survives_return_to_protected_mode (the fuzzer's op
# mix has changed since, so the seed no longer replays it); the others
# are plain.  Since the known-good guests (fuzz/guest.c) each seed's
# 1000 operations reach about 180 of vmxlab.ko's 250 functions.
FUZZ_SEEDS="11 1 2 3 42"
fuzz_one() {
	name=$1
	shift
	echo "VMXLAB-TEST-BEGIN $name"
	echo "1..1"
	"$VMXLAB_TESTS/vmxlab_fuzz" "$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then echo "ok 1 $name"; else echo "not ok 1 $name"; fi
	echo "VMXLAB-TEST-END $name rc=$rc"
	[ "$rc" -eq 0 ]
}
# The fixed seeds, then fresh ones for $fuzz_secs; extra arguments go to
# the campaign.  With KCOV (the debug kernel) the campaign is
# coverage-guided and must see vmxlab.ko.  Returns the number of failed runs.
# The debug kernel runs them about ten times slower: there each fixed seed
# runs 300 operations, so that make check stays under its 45 minutes.
fuzz_campaign() {
	local ops=1000

	fuzz_failed=0
	if [ -e /sys/kernel/debug/kcov ]; then
		set -- "$@" --require-coverage --uncovered
		ops=300
	fi
	for s in $FUZZ_SEEDS; do
		fuzz_one "vmxlab_fuzz_seed_$s" --seed "$s" --ops "$ops" ||
			fuzz_failed=$((fuzz_failed + 1))
	done
	fuzz_one vmxlab_fuzz_fresh_seeds --time "$fuzz_secs" "$@" ||
		fuzz_failed=$((fuzz_failed + 1))
	echo "run_in_vm: fuzz: $fuzz_failed failed"
	return "$fuzz_failed"
}

# The fuzzer's shadow VMs run under the same audit as the selftests'
# (VMXLAB_PARAMS, selftests/vmxlab_util.h): a shadow leaf that allows more
# than the guest's tables WARNs, and the verdict fails the lane.
if [ "$mode" = fuzz ] || [ "$mode" = replay ]; then
	# shellcheck disable=SC2086 # the parameters are words
	insmod "$VMXLAB_KO" ${VMXLAB_PARAMS-shadow_audit=1} ||
		{ echo "run_in_vm: insmod $VMXLAB_KO failed"; exit 1; }
	if [ -z "${VMXLAB_PARAMS+set}" ] &&
	   [ "$(cat /sys/module/vmxlab/parameters/shadow_audit)" != Y ]; then
		echo "run_in_vm: vmxlab loaded without shadow_audit"; exit 1
	fi
fi
if [ "$mode" = replay ]; then
	fuzz_one vmxlab_fuzz_replay --program "$fuzz_program"
	exit
fi
if [ "$mode" = fuzz ]; then
	fuzz_campaign
	exit
fi

# kmemleak, framed like a test: the objects leaked since the last clear
# whose allocation backtrace is in vmxlab.ko.  Two scans, because an
# object must look unreferenced twice in a row before kmemleak reports it.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_check() {
	echo "VMXLAB-TEST-BEGIN kmemleak"
	echo "1..1"
	if [ ! -e "$KMEMLEAK" ]; then
		echo "not ok 1 kmemleak # no $KMEMLEAK in this kernel"
		echo "VMXLAB-TEST-END kmemleak rc=1"
		return 1
	fi
	echo scan > "$KMEMLEAK"
	sleep 1
	echo scan > "$KMEMLEAK"
	cat "$KMEMLEAK" > /tmp/kmemleak.txt
	total=$(grep -c '^unreferenced object' /tmp/kmemleak.txt)
	# One report is the lines from "unreferenced object" to the next.
	ours=$(awk '/^unreferenced object/ { n++ } /vmxlab/ { hit[n] = 1 }
		END { c = 0; for (i in hit) c++; print c }' /tmp/kmemleak.txt)
	echo "# kmemleak: $total unreferenced object(s), $ours allocated in vmxlab.ko"
	rc=0
	if [ "$ours" -ne 0 ]; then
		sed 's/^/# /' /tmp/kmemleak.txt
		echo "not ok 1 kmemleak: no leak allocated in vmxlab.ko"
		rc=1
	else
		echo "ok 1 kmemleak: no leak allocated in vmxlab.ko"
	fi
	echo "VMXLAB-TEST-END kmemleak rc=$rc"
	return "$rc"
}

if [ "$mode" = novmx ]; then
	tests="$VMXLAB_TESTS/novmx_test"
elif [ "$mode" = only ]; then
	tests=
	for t in $only; do tests="$tests $VMXLAB_TESTS/$t"; done
else
	# vmxlab_test first, then any other *_test in name order; then the
	# guest tests again on shadow-paging VMs (NAME@shadow, below).  The
	# debug lane, four times slower, reruns only those that exercise
	# shadow paging's locking and memory most.
	tests="$VMXLAB_TESTS/vmxlab_test"
	for t in "$VMXLAB_TESTS"/*_test; do
		case ${t##*/} in
		vmxlab_test|novmx_test) ;;
		# A userspace tool's test: the kernel paths it runs are
		# guest_trace_test's, which the debug lane keeps.
		trace_tool_test) [ "$mode" = debug ] || tests="$tests $t" ;;
		*) tests="$tests $t" ;;
		esac
	done
	for t in "$VMXLAB_TESTS"/guest_*_test; do
		case ${t##*/} in
		guest_paging_test) ;;	# runs both kinds itself
		guest_memslot_test|guest_smp_test|guest_exits_test|guest_irq_test)
			tests="$tests $t@shadow" ;;
		*) [ "$mode" = debug ] || tests="$tests $t@shadow" ;;
		esac
	done
fi

failed=0
ran=0
for t in $tests; do
	name=${t##*/}
	# NAME@shadow: the same binary, its VMs shadow-paging ones.
	type=ept
	case $t in
	*@shadow) t=${t%@shadow} type=shadow ;;
	esac
	# NAME:T1,T2: only those tests of the binary (guest_paging_test).
	test_only=
	case $t in
	*:*) test_only=${t#*:} t=${t%%:*} ;;
	esac
	echo "VMXLAB-TEST-BEGIN $name"
	if [ -x "$t" ]; then
		VMXLAB_TEST_VM_TYPE=$type VMXLAB_TEST_ONLY=$test_only "$t"
		rc=$?
	else
		echo "run_in_vm: $t is missing or not executable"
		rc=127
	fi
	echo "VMXLAB-TEST-END $name rc=$rc"
	ran=$((ran + 1))
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
done

if [ "$mode" = debug ]; then
	# The module stays loaded from here to the scan, so that kmemleak
	# can name its functions in a backtrace (a test may have left it in).
	# shellcheck disable=SC2086 # the parameters are words
	grep -q '^vmxlab ' /proc/modules || insmod "$VMXLAB_KO" ${VMXLAB_PARAMS-shadow_audit=1} ||
		{ echo "run_in_vm: insmod $VMXLAB_KO failed"; exit 1; }
	fuzz_campaign --require-coverage || failed=$((failed + fuzz_failed))
	kmemleak_check || failed=$((failed + 1))
fi

echo "run_in_vm: $((ran - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
