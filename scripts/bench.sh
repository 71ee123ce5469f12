#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: set up (cached), build vmxlab.ko and tools/, boot the test
# VM with one CPU and run there the same guest through /dev/vmxlab and
# through Debian's kvm_intel, timed with RDTSC in the guest
# (scripts/bench-vm.sh).  Prints the table, keeps the results in
# build/bench/ and compares them with the previous run's; then the "how
# cost grows" table in a 2-CPU VM (not with --quick); then the main table
# again with the VM's kernel booted mitigations=auto
# (build/bench/mitigations-on/).
# Documentation/performance.rst explains the figures.
#
#   scripts/bench.sh [--json] [--quick | --profile]
#     --json       print the results as JSON too (always written to
#                  build/bench/results.json)
#     --quick      2000 iterations, 1024 pages, one pass: a smoke test
#     --profile    instead of the table: where the instructions go, from
#                  the entry/exit tracepoints and kprobes on the hot paths
#   VMXLAB_EMULATOR=E   bochs (the default) or bochs27; never auto: on
#                       qemu-kvm the TSC is not an instruction count, and
#                       the figures are not comparable with any table
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

# Bochs, whatever the machine offers: the figures are emulated
# instructions (clock: sync=none), the same from one boot to the next.
EMULATOR=${VMXLAB_EMULATOR:-bochs}
case $EMULATOR in
bochs|bochs27) ;;
*) echo "bench: VMXLAB_EMULATOR=$EMULATOR: the benchmark runs under Bochs only (bochs or bochs27)" >&2
   exit 1 ;;
esac

step "set up (cached)"
scripts/setup.sh
KVER=$(cat "$CACHE/kernel-version")
step "build vmxlab.ko against $KVER"
make module KDIR="/usr/src/linux-headers-$KVER"
step "build tools (make -C tools)"
make -C tools
step "the Linux guest's initramfs (scripts/linux-guest-initrd.sh)"
scripts/linux-guest-initrd.sh build/linux-guest/initrd.gz

# One configuration of the test VM's kernel: NAME (a subdirectory of $OUT,
# or "." for the main table) and its extra kernel arguments.
run_config() {
	local name=$1 append=$2 dir=$OUT/$1 raw status b attempt shadow
	mkdir -p "$dir"
	raw=$dir/vm-output.txt
	# Bochs 3.0 can deadlock in its own logging (its once-a-second SIGALRM
	# handler logs while the interrupted code holds the log lock), more
	# often the more the guest makes it log -- and KVM's exits make it log
	# a lot.  The VM then falls silent: a silent console for VM_IDLE
	# seconds is a hang, and the run is tried again, up to three times.
	for attempt in 1 2 3; do
		step "boot the VM${append:+ ($append)} and run the $mode (attempt $attempt; a minute or two under Bochs)"
		# The raw results travel between markers on the serial console:
		# kept in $raw, left out of what is shown.
		status=0
		scripts/vm-run.sh --emulator "$EMULATOR" --cpus 1 \
			--timeout 1800 --idle-timeout "$VM_IDLE" \
			${append:+--append "$append"} \
			--log "build/vm/bench-$name-serial.log" --add vmxlab.ko \
			--add "$BENCH" --add tools/out/vmxlab-run \
			--add "$CACHE/kernel-$KVER/vmlinuz:/vmxlab/linux/vmlinuz" \
			--add build/linux-guest/initrd.gz:/vmxlab/linux/initrd.gz \
			scripts/bench-vm.sh "$mode" ${args[@]+"${args[@]}"} |
			tee "$raw" |
			sed '/^VMXLAB-BENCH-RESULTS-BEGIN/,/^VMXLAB-BENCH-RESULTS-END/d' ||
			status=$?
		grep -q 'vm-run: FAILED: the VM hung' "$raw" || break
	done
	[ "$status" = 0 ] || exit "$status"
	if [ "$mode" = profile ]; then
		# A profile whose segments are negative or do not add up says so.
		echo "bench: $(grep -c '^profile: FLAGGED' "$raw" || true) line(s) of the profiles above FLAGGED"
		return 0
	fi

	# vmxlab and kvm must be there; the shadow-paging pair may not.
	shadow=("$dir/vmxlab-shadow.txt" "$dir/kvm-shadow.txt")
	for b in vmxlab kvm vmxlab-shadow kvm-shadow; do
		sed -n "/^VMXLAB-BENCH-RESULTS-BEGIN $b\$/,/^VMXLAB-BENCH-RESULTS-END\$/{/^VMXLAB-BENCH-RESULTS-/d;p}" \
			"$raw" > "$dir/$b.new"
		if [ ! -s "$dir/$b.new" ]; then
			rm -f "$dir/$b.new"
			case $b in
			*-shadow) echo "bench: no $b results in the VM's output: no shadow rows"
				  [ ! -f "$dir/$b.txt" ] || mv "$dir/$b.txt" "$dir/previous-$b.txt"
				  shadow=(); continue ;;
			esac
			echo "bench: no $b results in the VM's output ($raw)" >&2
			exit 1
		fi
		[ ! -f "$dir/$b.txt" ] || mv "$dir/$b.txt" "$dir/previous-$b.txt"
		mv "$dir/$b.new" "$dir/$b.txt"
	done
	linux_row "$raw" "$dir"
	"$BENCH" report --json "$dir/vmxlab.txt" "$dir/kvm.txt" ${shadow[@]+"${shadow[@]}"} \
		> "$dir/results.json"
	[ "$json" = 0 ] || cat "$dir/results.json"
	step "results in $dir/ (vmxlab.txt, kvm.txt, vmxlab-shadow.txt, kvm-shadow.txt, results.json)"
	# Informational: emulated time repeats, so a difference means a change.
	compare_pair "$dir" vmxlab kvm
	compare_pair "$dir" vmxlab-shadow kvm-shadow
}

# This run's results of two backends ($2, $3) in $1 against the previous
# run's, if there are both.
compare_pair() {
	local dir=$1 a=$2 k=$3
	[ -f "$dir/$a.txt" ] && [ -f "$dir/$k.txt" ] &&
		[ -f "$dir/previous-$a.txt" ] && [ -f "$dir/previous-$k.txt" ] ||
		return 0
	"$BENCH" compare "$dir/previous-$a.txt" "$dir/previous-$k.txt" \
		"$dir/$a.txt" "$dir/$k.txt" || true
}

# The "Linux to /init" row from the VM's VMXLAB-BENCH-LINUX lines (raw
# output $1) into $2/linux.txt, with the previous run's figures beside it:
# emulated time repeats, so they should agree within 1%.
linux_row() {
	local raw=$1 dir=$2
	grep '^VMXLAB-BENCH-LINUX ' "$raw" | cut -d' ' -f2,3 > "$dir/linux.new" || true
	[ -s "$dir/linux.new" ] || { echo "bench: no Linux row in the VM's output" >&2; return 0; }
	[ ! -f "$dir/linux.txt" ] || mv "$dir/linux.txt" "$dir/previous-linux.txt"
	mv "$dir/linux.new" "$dir/linux.txt"
	if grep -q '^VMXLAB-BENCH-LINUX-UNLIKE' "$raw"; then
		echo "Linux to /init: the guest saw a different CPU on each backend (above): no ratio"
		return 0
	fi
	awk -v prev="$dir/previous-linux.txt" '
		BEGIN { while ((getline line < prev) > 0) { split(line, f, " "); old[f[1]] = f[2] } }
		{ t[$1] = $2 }
		END {
			if (!t["vmxlab"] || !t["kvm"]) {
				print "Linux to /init: a boot did not reach the marker"
				exit
			}
			r = t["vmxlab"] / t["kvm"]
			printf "Linux to /init (vmxlab-run, TSC ticks): vmxlab %.4g, kvm %.4g, %.3f x KVM (target <= 1.0: %s)\n",
				t["vmxlab"], t["kvm"], r, r <= 1.0 ? "met" : "NOT met"
			for (b in t)
				if (old[b])
					printf "  %s: %+.2f%% from the previous run\n", b, 100 * (t[b] - old[b]) / old[b]
		}' "$dir/linux.txt"
}

# "How cost grows": a VM of its own with two CPUs, so that 10a's vCPU
# threads can run side by side (Documentation/performance.rst), after the
# main table.  Its results land in $OUT/vmxlab-scale.txt, kvm-scale.txt.
# One guest run faults in 256 MiB without a word on the console: on a
# loaded machine that took minutes, so the VM may be silent for 600 s.
run_scale() {
	local raw=$OUT/scale-vm-output.txt status b attempt
	local idle=$((VM_IDLE > 600 ? VM_IDLE : 600))
	for attempt in 1 2 3; do
		step "boot a 2-CPU VM and measure how cost grows (attempt $attempt; 5-20 minutes under Bochs)"
		status=0
		scripts/vm-run.sh --emulator "$EMULATOR" --cpus 2 \
			--timeout 2400 --idle-timeout "$idle" \
			--log build/vm/bench-scale-serial.log --add vmxlab.ko \
			--add "$BENCH" scripts/bench-vm.sh scale |
			tee "$raw" |
			sed '/^VMXLAB-BENCH-RESULTS-BEGIN/,/^VMXLAB-BENCH-RESULTS-END/d' ||
			status=$?
		grep -q 'vm-run: FAILED: the VM hung' "$raw" || break
	done
	[ "$status" = 0 ] || exit "$status"
	for b in vmxlab-scale kvm-scale; do
		sed -n "/^VMXLAB-BENCH-RESULTS-BEGIN $b\$/,/^VMXLAB-BENCH-RESULTS-END\$/{/^VMXLAB-BENCH-RESULTS-/d;p}" \
			"$raw" > "$OUT/$b.txt"
	done
	step "results in $OUT/ (vmxlab-scale.txt, kvm-scale.txt)"
}

VM_IDLE=${VMXLAB_VM_IDLE:-120}
# The main table: the test VM's kernel as every lane boots it
# (mitigations=off, so neither hypervisor has a speculation step to take).
step "main table: host mitigations off"
run_config . ""
if [ "$mode" = bench ] && [ "${args[*]:-}" = "" ]; then
	step "how cost grows"
	run_scale
fi
# Then the same with the host's mitigations on, where both hypervisors do
# what the host kernel chose (vmxlab: VERW, the L1D flush; see
# Documentation/performance.rst).  Not for a smoke test or a profile.
if [ "$mode" = bench ] && [ "${args[*]:-}" = "" ]; then
	step "second table: host mitigations on (mitigations=auto)"
	run_config mitigations-on mitigations=auto
fi
