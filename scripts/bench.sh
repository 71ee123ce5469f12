#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: set up (cached), build vmxlab.ko and tools/, boot the test
# VM with one CPU and run there the same guest through /dev/vmxlab and
# through Debian's kvm_intel, timed with RDTSC in the guest
# (scripts/bench-vm.sh).  Prints the table, keeps the results in
# build/bench/ and compares them with the previous run's.
# Documentation/performance.rst explains the figures.
#
#   scripts/bench.sh [--json] [--quick | --profile]
#     --json       print the results as JSON too (always written to
#                  build/bench/results.json)
#     --quick      2000 iterations, 1024 pages, one pass: a smoke test
#     --profile    instead of the table: where the instructions go, from
#                  the entry/exit tracepoints and kprobes on the hot paths
#   VMXLAB_EMULATOR=E   emulator (default auto; see scripts/vm-run.sh --help)
#   VMXLAB_VM_IDLE=S    a VM silent for S seconds has hung (default 120)

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${VMXLAB_CACHE:-$HOME/.cache/vmxlab}
OUT=build/bench
BENCH=tools/out/vmxlab-bench

json=0 mode=bench
args=()
for arg in "$@"; do
	case $arg in
	--json) json=1 ;;
	--quick) args=(2000 1024 1) ;;
	--profile) mode=profile ;;
	-h|--help) sed -n '4,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument '$arg' (see --help)" >&2; exit 1 ;;
	esac
done

step() { echo "==> bench: $*"; }

step "set up (cached)"
scripts/setup.sh
KVER=$(cat "$CACHE/kernel-version")
step "build vmxlab.ko against $KVER"
make module KDIR="/usr/src/linux-headers-$KVER"
step "build tools (make -C tools)"
make -C tools

mkdir -p "$OUT"
raw=$OUT/vm-output.txt
# Bochs 3.0 can deadlock in its own logging (its once-a-second SIGALRM
# handler logs while the interrupted code holds the log lock), more often
# the more the guest makes it log -- and KVM's exits make it log a lot.
# The VM then falls silent: a silent console for VM_IDLE seconds is a hang,
# and the run is tried again, up to three times.
VM_IDLE=${VMXLAB_VM_IDLE:-120}
for attempt in 1 2 3; do
	step "boot the VM and run the $mode (attempt $attempt; a minute or two under Bochs)"
	# The raw results travel between markers on the serial console: kept
	# in $raw, left out of what is shown.
	status=0
	scripts/vm-run.sh --emulator "${VMXLAB_EMULATOR:-auto}" --cpus 1 \
		--timeout 1800 --idle-timeout "$VM_IDLE" \
		--log build/vm/bench-serial.log --add vmxlab.ko --add "$BENCH" \
		scripts/bench-vm.sh "$mode" ${args[@]+"${args[@]}"} |
		tee "$raw" |
		sed '/^VMXLAB-BENCH-RESULTS-BEGIN/,/^VMXLAB-BENCH-RESULTS-END/d' ||
		status=$?
	grep -q 'vm-run: FAILED: the VM hung' "$raw" || break
done
[ "$status" = 0 ] || exit "$status"
[ "$mode" = bench ] || exit 0

for b in vmxlab kvm; do
	sed -n "/^VMXLAB-BENCH-RESULTS-BEGIN $b\$/,/^VMXLAB-BENCH-RESULTS-END\$/{/^VMXLAB-BENCH-RESULTS-/d;p}" \
		"$raw" > "$OUT/$b.new"
	[ -s "$OUT/$b.new" ] || { echo "bench: no $b results in the VM's output ($raw)" >&2; exit 1; }
	[ ! -f "$OUT/$b.txt" ] || mv "$OUT/$b.txt" "$OUT/previous-$b.txt"
	mv "$OUT/$b.new" "$OUT/$b.txt"
done
"$BENCH" report --json "$OUT/vmxlab.txt" "$OUT/kvm.txt" > "$OUT/results.json"
[ "$json" = 0 ] || cat "$OUT/results.json"
step "results in $OUT/ (vmxlab.txt, kvm.txt, results.json)"
if [ -f "$OUT/previous-vmxlab.txt" ] && [ -f "$OUT/previous-kvm.txt" ]; then
	# Informational: emulated time repeats, so a difference means a change.
	"$BENCH" compare "$OUT/previous-vmxlab.txt" "$OUT/previous-kvm.txt" \
		"$OUT/vmxlab.txt" "$OUT/kvm.txt" || true
fi
