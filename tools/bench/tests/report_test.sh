#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vmxlab-bench's report on crafted results files, no VM: a ratio only
# where both backends took the same exits per iteration, files from
# before exit counts still load, row 6 never has a ratio, 5a is also
# shown without KVM's forced immediate exit; the "how cost grows" table
# (report-scale) judges each spread against its target.  TAP; `make -C
# tools test`.
#
#   bench/tests/report_test.sh out/vmxlab-bench

BENCH=${1:?usage: report_test.sh VMXLAB_BENCH}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
n=0 failed=0

# results FILE BACKEND OUT_EXITS IRQ_EXITS: "exits" columns after the key
# (ITERATIONS EXTINT IO MMIO HLT IRQ_WINDOW OTHER KERNEL), or "" for none.
# OUT costs 1000 on vmxlab, 2000 on KVM; CPUID $CPUID (vmxlab) and 1600;
# row 5b 1000 (vmxlab's window through the VMM) and 3000, one window
# exit to userspace each and KVM's forced exit; the rest the same.
results() {
	out=1000 cpuid=${CPUID:-450}
	[ "$2" = vmxlab ] || out=2000 cpuid=1600
	{
		printf 'backend %s\nconfig 100 100 1\n' "$2"
		echo 'stat loop5 100 5000 5000 5000 5000 5000'
		echo "stat out 100 $out $out $out $out $out"
		echo "stat cpuid 100 $cpuid $cpuid $cpuid $cpuid $cpuid"
		echo 'stat irq_open 100 3000 3000 3000 3000 3000'
		echo 'stat irq_sti_window 100 1000 1000 1000 1000 1000'
		echo 'stat irq_sti 100 3000 3000 3000 3000 3000'
		echo 'stat wbinvd 100 800 800 800 800 800'
		echo 'stat null 100 400 400 400 400 400'
		if [ -n "$3" ] && [ "$2" = vmxlab ]; then
			echo 'exits irq_sti_window 100 0 100 0 0 100 0 0'
		elif [ -n "$3" ]; then
			echo 'exits irq_sti 100 0 100 0 0 100 0 100'
		fi
		if [ -n "$3" ]; then
			echo 'host emulator bochs'
			echo 'host cpu Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz'
			echo 'host cmdline mitigations=off'
			echo "exits out $3"
			echo "exits irq_open $4"
		fi
	} > "$1"
}

# check NAME PATTERN [!]: the report's line of row PATTERN's grep matches
# (or with !, does not).
check() {
	n=$((n + 1))
	if grep -q -- "$2" "$DIR/report"; then hit=1; else hit=0; fi
	if [ "$hit" = "${3:-1}" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		sed 's/^/# /' "$DIR/report"
		failed=1
	fi
}

echo "1..22"

# The same exits: 2a's ratio, 1000 / 2000.
results "$DIR/v" vmxlab "100 0 100 0 0 0 0 0" "100 0 100 0 0 0 0 0"
results "$DIR/k" kvm "100 3 100 0 0 0 0 0" "100 0 100 0 0 0 0 100"
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "same exits: ratio printed" '^2a .* 0\.50  <= 0\.5 x KVM: met$'
check "row 1: 0.28 x KVM, 1.125 x null: met" \
	'^1 .* 0\.28  <= 0\.3 x KVM, <= 1\.15 x null: met'
check "host in the header" '^Emulator: bochs; CPU: Intel'
check "5a refused: KVM's extra exit in the kernel" \
	'^5a .*ratio refused: vmxlab 1 exit/iteration (IO 1), KVM 2 (IO 1, in the kernel 1)'
check "5a without KVM's immediate exit: 3000 / 2200" \
	'KVM without its forced immediate exit .* 2200\.0 .* 1\.36  <= 0\.4 x KVM: MISSED'
check "5b judged without KVM's forced exit: 1000 / 2200" \
	'KVM without its forced immediate exit .* 2200\.0 .* 0\.45  <= 0\.3 x KVM: MISSED'
check "row 6: no ratio, an instruction target" '^6 .* -  <= 220: MISSED$'

# KVM took an HLT more per OUT: no ratio, the difference named.
results "$DIR/k" kvm "100 0 100 0 100 0 0 0" "100 0 100 0 0 0 0 100"
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "different exits: ratio refused and named" \
	'^2a .*  -  ratio refused: vmxlab 1 exit/iteration (IO 1), KVM 2 (IO 1, HLT 1)$'

# Files from before exit counts: they load, the ratio stays, and it says so.
results "$DIR/v" vmxlab "" ""
results "$DIR/k" kvm "" ""
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "old files: ratio printed" '^2a .* 0\.50  <= 0\.5 x KVM: met$'
check "old files: exit counts not recorded" '^Exit counts: not recorded'

# Row 1 over 1.15 null exits (470 / 400): missed although 0.29 x KVM.
CPUID=470 results "$DIR/v" vmxlab "" ""
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "row 1: 1.175 x null: missed" '^1 .* 0\.29  <= 0\.3 x KVM, <= 1\.15 x null: MISSED'

# scale FILE BACKEND GROWTH LEFT PINNED: "scale" rows (tools/bench/scaling.h)
# whose costs are 1000 at the smallest size and 1000 + GROWTH at the
# largest, one exit per operation; LEFT bytes not back after destruction,
# PINNED pages left pinned (-1: no counter).
scale() {
	top=$((1000 + $3))
	{
		printf 'backend %s\n' "$2"
		# vcpus: wall ticks, exits, CPUs kept busy, CPUIDs, extint,
		# guest median, vCPU threads' CPU ns (0.2 ticks each); the
		# wall ticks x CPUs differ from the CPU time on purpose
		echo "scale vcpus 1 1000000 1000 2 1000 0 0 ${6:-5000000}"
		echo "scale vcpus 16 $((top * 400)) 1000 2 1000 0 0 $((top * 5000))"
		# fault and mmio: operations, mean, exits, extint, -
		echo 'scale fault 16 100 1000 100 0 0'
		echo "scale fault 256 100 $top 100 0 0"
		echo 'scale mmio 1 100 1000 100 0 0'
		echo "scale mmio 32 100 $top 100 0 0"
		# life: create, destroy, bytes not back, pinned before, after
		before=65600
		[ "$5" -ge 0 ] || before=-1
		echo "scale life 0 5000 6000 $4 0 $5"
		echo "scale life 256 5000 90000 $4 $before $5"
	} > "$1"
}

check_scale() {
	"$BENCH" report-scale "$DIR/vs" "$DIR/ks" > "$DIR/report"
}

# 12% from 1 to 16 vCPUs misses 10%; 5% meets it, and misses 10c's 5%
# only above it.
scale "$DIR/vs" vmxlab 120 0 0
scale "$DIR/ks" kvm 20 0 -1
check_scale
check "scale: 12% spread over vCPUs MISSED" \
	'^10a    spread, 1 to 16 vCPU threads .* 12\.00% .* 2\.00% .*<= 10%: MISSED$'
check "scale: per-exit cost is the threads' CPU ticks / exits, exits/s the wall's" \
	'^10a  CPUID exits, 16 vCPU thread(s): per exit .* 1120\.0 (446\.4k/s)'
check "scale: 12% spread over fault-in MISSED" '^10b .*spread.*<= 10%: MISSED$'
scale "$DIR/vs" vmxlab 50 0 0
check_scale
check "scale: 5% spread over vCPUs met" '^10a .*spread.* 5\.00% .*<= 10%: met$'
check "scale: 5% spread over slots met" '^10c .*spread.* 5\.00% .*<= 5%: met$'
scale "$DIR/vs" vmxlab 60 0 0
check_scale
check "scale: 6% spread over slots MISSED" '^10c .*spread.*<= 5%: MISSED$'

# Memory: back within 1 MiB and nothing pinned, or MISSED.
check "scale: memory back, none pinned: met" \
	'^10d    host memory not back after it, KiB  *0 / 0 .*none pinned: met$'
scale "$DIR/vs" vmxlab 50 0 3
check_scale
check "scale: pages left pinned MISSED" \
	'^10d    pinned pages before / after it, 256 MiB  *65600 / 3  *n/a (no counter)$'
check "scale: ... and so the verdict" 'none pinned: MISSED$'
scale "$DIR/vs" vmxlab 50 2097152 0
check_scale
check "scale: 2 MiB not back MISSED" '^10d .* 2048 / 2048 .*none pinned: MISSED$'

# A vcpus row without the threads' CPU time (older files) has no cost:
# 10a is n/a rather than judged on the wall clock.
scale "$DIR/vs" vmxlab 50 0 0 0
check_scale
check "scale: no CPU time, 10a n/a" '^10a .*spread.* n/a .*<= 10%: n/a$'

exit $failed
