#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vmxlab-bench's report on crafted results files, no VM: a ratio only
# where both backends took the same exits per iteration, files from
# before exit counts still load, row 6 never has a ratio, 5a is also
# shown without KVM's forced immediate exit.  TAP; `make -C tools test`.
#
#   bench/tests/report_test.sh out/vmxlab-bench

BENCH=${1:?usage: report_test.sh VMXLAB_BENCH}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
n=0 failed=0

# results FILE BACKEND OUT_EXITS IRQ_EXITS: "exits" columns after the key
# (ITERATIONS EXTINT IO MMIO HLT IRQ_WINDOW OTHER KERNEL), or "" for none.
# OUT costs 1000 on vmxlab, 2000 on KVM; the rest the same on both.
results() {
	out=1000
	[ "$2" = vmxlab ] || out=2000
	{
		printf 'backend %s\nconfig 100 100 1\n' "$2"
		echo 'stat loop5 100 5000 5000 5000 5000 5000'
		echo "stat out 100 $out $out $out $out $out"
		echo 'stat irq_open 100 3000 3000 3000 3000 3000'
		echo 'stat wbinvd 100 800 800 800 800 800'
		echo 'stat null 100 400 400 400 400 400'
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

echo "1..8"

# The same exits: 2a's ratio, 1000 / 2000.
results "$DIR/v" vmxlab "100 0 100 0 0 0 0 0" "100 0 100 0 0 0 0 0"
results "$DIR/k" kvm "100 3 100 0 0 0 0 0" "100 0 100 0 0 0 0 100"
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "same exits: ratio printed" '^2a .* 0\.50  <= 0\.8 x KVM: met$'
check "host in the header" '^Emulator: bochs; CPU: Intel'
check "5a refused: KVM's extra exit in the kernel" \
	'^5a .*ratio refused: vmxlab 1 exit/iteration (IO 1), KVM 2 (IO 1, in the kernel 1)'
check "5a without KVM's immediate exit: 3000 / 2200" \
	'KVM without its forced immediate exit .* 2200\.0 .* 1\.36  '
check "row 6: no ratio" '^6 .* -$'

# KVM took an HLT more per OUT: no ratio, the difference named.
results "$DIR/k" kvm "100 0 100 0 100 0 0 0" "100 0 100 0 0 0 0 100"
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "different exits: ratio refused and named" \
	'^2a .*  -  ratio refused: vmxlab 1 exit/iteration (IO 1), KVM 2 (IO 1, HLT 1)$'

# Files from before exit counts: they load, the ratio stays, and it says so.
results "$DIR/v" vmxlab "" ""
results "$DIR/k" kvm "" ""
"$BENCH" report "$DIR/v" "$DIR/k" > "$DIR/report"
check "old files: ratio printed" '^2a .* 0\.50  <= 0\.8 x KVM: met$'
check "old files: exit counts not recorded" '^Exit counts: not recorded'

exit $failed
