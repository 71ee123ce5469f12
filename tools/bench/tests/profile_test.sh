#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vmxlab-bench's profile arithmetic on crafted traces, no VM
# (`vmxlab-bench segments`, the code behind `vmxlab-bench profile`): each
# segment loses the part of its first event's tracing after the
# timestamp and the part of its second event's before it, the segments
# add up to the untraced figure, and a profile whose segments are
# negative or whose sum is off is FLAGGED.  TAP; `make -C tools test`.
#
#   bench/tests/profile_test.sh out/vmxlab-bench

BENCH=${1:?usage: profile_test.sh VMXLAB_BENCH}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
n=0 failed=0

# The loop: vmxlab_exit, kprobes at vmx_a and vmx_b, vmxlab_entry, with
# 30, 10, 60 and 300 instructions of its own between them (400 in all).
# What tracing adds, chosen so that every kind of pair differs: the exit
# tracepoint costs 500, the entry one 400, 200 of each before the
# timestamp; a kprobe 700, 350 before its timestamp (150 more than a
# tracepoint).  Every fifth iteration a host tick adds 5000 in the guest:
# the medians must not see it.  Before and after the loop, other events
# (the timing baseline's and the routine's HLT exits).  With $BURST, a
# burst between vmx_b and vmxlab_entry: $BURST pairs of kprobes at vmx_c
# and vmx_b again, 5 instructions apart.
trace() {
	awk -v burst="${BURST:-0}" 'BEGIN {
		ts = 1000000
		line("vmxlab_entry", "vcpu 0 rip 0x10000")
		ts += 900; line("vmxlab_exit", "vcpu 0 reason 12 rip 0x10004 qualification 0x0")
		ts += 900
		for (i = 0; i < 60; i++) {
			line("vmxlab_entry", "vcpu 0 rip 0x10020")
			ts += 300 + 200 + 200 + (i % 5 == 4 ? 5000 : 0)
			line("vmxlab_exit", "vcpu 0 reason 10 rip 0x10022 qualification 0x0")
			ts += 30 + 300 + 350; kprobe("vmx_a")
			ts += 10 + 350 + 350; kprobe("vmx_b")
			for (k = 0; k < burst; k++) {
				ts += 5 + 350 + 350; kprobe("vmx_c")
				ts += 5 + 350 + 350; kprobe("vmx_b")
			}
			ts += 60 + 350 + 200
		}
		line("vmxlab_entry", "vcpu 0 rip 0x10020")
		ts += 700; line("vmxlab_exit", "vcpu 0 reason 12 rip 0x10030 qualification 0x0")
	}
	function line(name, args) {
		printf "    vmxlab-bench-87      [000] .....  %d: %s: %s\n", ts, name, args
	}
	function kprobe(f) {
		printf "    vmxlab-bench-87      [000] d....  %d: %s: (%s+0x0/0x40 [vmxlab])\n", ts, f, f
	}'
}

# profile NAME UNTRACED KPROBE_BEFORE [partial]: the trace with its
# figures, through `segments`; the output in $DIR/out, the status in $st.
profile() {
	{
		echo "# untraced $2"
		echo "# exit vmxlab_exit 500"
		echo "# entry vmxlab_entry 400"
		echo "# kprobe 700 $3"
		[ -z "$4" ] || echo "# partial"
		trace
	} > "$DIR/$1"
	st=0
	"$BENCH" segments "$DIR/$1" > "$DIR/out" 2>&1 || st=$?
}

# check NAME PATTERN [0]: the output matches the grep PATTERN (or, with
# 0, does not).
check() {
	n=$((n + 1))
	if grep -q -- "$2" "$DIR/out"; then hit=1; else hit=0; fi
	if [ "$hit" = "${3:-1}" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		sed 's/^/# /' "$DIR/out"
		failed=1
	fi
}

check_status() {
	n=$((n + 1))
	if [ "$st" = "$2" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1 (exit $st, $2 expected)"
		failed=1
	fi
}

echo "1..16"

profile right 400 150
check "each segment without its tracing: exit to kprobe" \
	'^    vmxlab_exit(10)  *vmx_a  *30$'
check "kprobe to kprobe" '^    vmx_a  *vmx_b  *10$'
check "kprobe to entry" '^    vmx_b  *vmxlab_entry  *60$'
check "entry to exit, the host tick left out" \
	'^    vmxlab_entry  *vmxlab_exit(10)  *300$'
check "the sum next to the untraced figure" \
	'the sum  *400 (timed without tracing: 400, +0\.0%)$'
check "says it adds up" 'non-negative and add up to the untraced figure'
check "not flagged" FLAGGED 0
check_status "exit 0" 0

# The sum is the same whatever the split; 5% off is too far.
profile off 425 150
check "a sum 5.9% off is FLAGGED" \
	'FLAGGED: the segments add up to 400, not within 5% of 425$'
check_status "exit 1" 1

# Taking a kprobe's cost out as a tracepoint's (nothing more before its
# timestamp) leaves kprobe to entry at 60 - 150.
profile split 400 0
check "a negative segment is FLAGGED" '^    vmx_b  *vmxlab_entry  *-90$'
check "... and so the profile" 'FLAGGED: 1 negative segment(s)'

# Interrupts time part of the iteration: the sum is not compared.
profile partial 100 150 partial
check "a partial workload's sum is not compared" \
	'the timed part of it: 100; not compared)$'
check_status "... nor flagged" 0

# A burst inside the iteration repeats too; the loop is the period that
# holds the exit.
BURST=20 profile burst 600 150
check "a burst is not the loop: entry to exit found" \
	'^    vmxlab_entry  *vmxlab_exit(10)  *300$'
check "... and the iteration adds up" \
	'the sum  *600 (timed without tracing: 600, +0\.0%)$'

exit $failed
