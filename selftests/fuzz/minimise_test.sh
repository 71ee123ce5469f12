#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer's reproducer minimiser, on the host (no vmxlab needed): with
# the hidden --test-finding OP:M the M-th operation OP of a program is a
# finding, so the minimal reproducer is exactly M operations.  For each
# case: the program finds it after many more operations than M, the
# minimiser prints a program of M operations, and replaying that program
# finds it again.  Usage: minimise_test.sh PATH-TO-vmxlab_fuzz
fuzz=${1:?usage: minimise_test.sh PATH-TO-vmxlab_fuzz}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
n=0

# The plan first, as kselftest prints it: scripts/tap-summary.py starts a
# new test at each plan line.
echo "TAP version 13"
echo "1..4"

fail() {
	echo "not ok $n $1"
	failed=$((failed + 1))
}

for case in "5 cpuid 3" "7 run 2" "9 buffer 4" "11 create_vcpu 1"; do
	# shellcheck disable=SC2086 # word splitting wanted
	set -- $case
	n=$((n + 1))
	name="seed $1, finding at $2 number $3"
	"$fuzz" --seed "$1" --ops 1000 --test-finding "$2:$3" >"$out" 2>&1
	rc=$?
	at=$(sed -n 's/^FINDING: program [^ ]* op \([0-9]*\):.*/\1/p' "$out" | head -n 1)
	prog=$(sed -n 's/^MINIMISED: [0-9]* operation(s): --program //p' "$out")
	ops=$(sed -n 's/^MINIMISED: \([0-9]*\) operation(s).*/\1/p' "$out")
	if [ "$rc" -ne 1 ] || [ -z "$at" ]; then
		fail "$name: no finding (rc=$rc)"
	elif [ "$at" -lt "$3" ]; then
		fail "$name: found at operation $at, nothing to minimise"
	elif [ "$ops" != "$3" ]; then
		fail "$name: minimised from $((at + 1)) to '${ops}' operation(s), not $3"
	else
		"$fuzz" --program "$prog" --test-finding "$2:$3" --no-minimise \
			>"$out" 2>&1
		if [ $? -ne 1 ] || ! grep -q '^FINDING: ' "$out"; then
			fail "$name: the minimised program $prog does not find it"
		else
			echo "ok $n $name: $((at + 1)) operations minimised to $ops"
		fi
	fi
done
[ "$failed" -eq 0 ]
