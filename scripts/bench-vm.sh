#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM for `make bench` (busybox sh, cwd /vmxlab): the
# benchmark through vmxlab.ko, then through Debian's kvm_intel (the two
# cannot both hold VMX), each with EPT and with shadow paging, the table,
# and the raw results between markers for scripts/bench.sh.  With
# "profile", the instruction profiles instead; with "scale", the "how cost
# grows" table (in a VM with two CPUs).

# shellcheck disable=SC3040 # busybox sh has pipefail
set -euo pipefail

BENCH=/vmxlab/vmxlab-bench
mode=${1:-bench}
shift || true

# A results file for a backend that could not run: the report says n/a.
unavailable() {
	echo "bench-vm: $1: n/a: $2"
	printf 'backend %s\nunavailable %s\n' "$1" "$2" > "/tmp/$1.txt"
}

# All backends with the same options: ITERATIONS PAGES PASSES.  After
# vmxlab and kvm (EPT) come their shadow-paging twins: vmxlab with
# VMXLAB_VM_SHADOW, and kvm_intel loaded again with ept=0.
bench() {
	opts="--iterations ${1:-10000} --pages ${2:-4096} --passes ${3:-2}"
	insmod /vmxlab/vmxlab.ko
	# shellcheck disable=SC2086 # $opts is a list of options
	$BENCH run --backend vmxlab --out /tmp/vmxlab.txt $opts
	# shellcheck disable=SC2086
	$BENCH run --backend vmxlab-shadow --out /tmp/vmxlab-shadow.txt $opts ||
		unavailable vmxlab-shadow "the run failed (exit $?)"
	rmmod vmxlab
	modprobe kvm_intel
	# shellcheck disable=SC2086
	$BENCH run --backend kvm --out /tmp/kvm.txt $opts
	rmmod kvm_intel
	if modprobe kvm_intel ept=0; then
		# shellcheck disable=SC2086
		$BENCH run --backend kvm-shadow --out /tmp/kvm-shadow.txt $opts ||
			unavailable kvm-shadow "kvm_intel ept=0 could not run the guest (exit $?)"
		rmmod kvm_intel
	else
		unavailable kvm-shadow "modprobe kvm_intel ept=0 failed"
	fi
	linux_row
	echo
	$BENCH report /tmp/vmxlab.txt /tmp/kvm.txt /tmp/vmxlab-shadow.txt \
		/tmp/kvm-shadow.txt
	for b in vmxlab kvm vmxlab-shadow kvm-shadow; do
		echo "VMXLAB-BENCH-RESULTS-BEGIN $b"
		cat "/tmp/$b.txt"
		echo "VMXLAB-BENCH-RESULTS-END"
	done
}

# "Linux to /init" (Documentation/linux-guest.rst): vmxlab-run boots the
# VM's own kernel on each backend, the same VMM, guest and devices; the
# row is the TSC ticks from the first entry to the guest's marker, which
# scripts/bench.sh reads from the VMXLAB-BENCH-LINUX lines.  Both without
# a time slice: vmxlab is loaded as for the table above.
LINUX=/vmxlab/linux
linux_boot() {
	ticks=
	echo | /vmxlab/vmxlab-run --backend "$1" --kernel "$LINUX/vmlinuz" \
		--initrd "$LINUX/initrd.gz" --timeout 600 --stats \
		--time-to LINUX-GUEST-INIT > "/tmp/linux-$1.txt" 2>&1 ||
		echo "bench-vm: the Linux guest on $1 did not power off (exit $?)"
	grep '^vmxlab-run: ' "/tmp/linux-$1.txt" || true
	ticks=$(sed -n 's/^vmxlab-run: "LINUX-GUEST-INIT" after \([0-9]*\) TSC ticks.*/\1/p' \
		"/tmp/linux-$1.txt")
	echo "VMXLAB-BENCH-LINUX $1 ${ticks:-0}"
	grep '^LINUX-GUEST-CPU' "/tmp/linux-$1.txt" > "/tmp/linux-$1.cpu" || true
}

linux_row() {
	[ -f "$LINUX/vmlinuz" ] || return 0
	echo "bench-vm: Linux to /init through vmxlab"
	insmod /vmxlab/vmxlab.ko
	linux_boot vmxlab
	rmmod vmxlab
	echo "bench-vm: Linux to /init through kvm_intel"
	modprobe kvm_intel
	linux_boot kvm
	rmmod kvm_intel
	# Like with like: the guest must have seen the same CPU on both.
	for b in vmxlab kvm; do
		sed 's/^LINUX-GUEST-CPU //' "/tmp/linux-$b.cpu" | tr -d '\r' | tr ' ' '\n' |
			grep . | sort > "/tmp/linux-$b.flags"
	done
	if [ -s /tmp/linux-vmxlab.flags ] &&
	   cmp -s /tmp/linux-vmxlab.flags /tmp/linux-kvm.flags; then
		echo "bench-vm: the Linux guest saw the same CPU flags on both"
	else
		echo "bench-vm: the Linux guest saw different CPU flags:"
		echo "  only on vmxlab: $(grep -vxFf /tmp/linux-kvm.flags /tmp/linux-vmxlab.flags | tr '\n' ' ')"
		echo "  only on kvm: $(grep -vxFf /tmp/linux-vmxlab.flags /tmp/linux-kvm.flags | tr '\n' ' ')"
		echo "VMXLAB-BENCH-LINUX-UNLIKE"
	fi
}

# "How cost grows" (Documentation/performance.rst): vmxlab, then KVM, in a
# VM with two CPUs (scripts/bench.sh boots one for it), the table, and the
# raw results between markers as above.
scale() {
	insmod /vmxlab/vmxlab.ko
	$BENCH scale --backend vmxlab --out /tmp/vmxlab-scale.txt
	rmmod vmxlab
	modprobe kvm_intel
	$BENCH scale --backend kvm --out /tmp/kvm-scale.txt
	rmmod kvm_intel
	echo
	$BENCH report-scale /tmp/vmxlab-scale.txt /tmp/kvm-scale.txt
	for b in vmxlab-scale kvm-scale; do
		echo "VMXLAB-BENCH-RESULTS-BEGIN $b"
		cat "/tmp/$b.txt"
		echo "VMXLAB-BENCH-RESULTS-END"
	done
}

# Where the instructions go: tracepoints, and kprobes along the hot paths
# (Documentation/performance.rst, "Where the instructions go"): the
# round trip in the kernel, the ioctl, the MMIO emulation.
loop=vmxlab:vmx_events_after_exit,vmxlab:vmx_handle_exit,vmxlab:vmx_inject_events
ioctl=__x64_sys_ioctl,vmxlab:vcpu_ioctl,vmxlab:vmx_vcpu_load,fpu_swap_kvm_fpstate,vmxlab:vmx_vcpu_run,vmxlab:vmx_events_report,vmxlab:vmx_vcpu_put
mmio=vmxlab:vmx_emulate_mmio,vmxlab:mmu_read_begin,vmxlab:gwalk_read_virt,vmxlab:mmu_read_guest_locked,vmxlab:mmio_decode
profile() {
	p="$BENCH profile --backend vmxlab"
	insmod /vmxlab/vmxlab.ko
	$p --only null --probes "$loop"
	$p --only cpuid --probes "$loop,vmxlab:handle_cpuid,vmxlab:vmx_cpuid,vmxlab:vmx_skip_instruction"
	$p --only out --probes "$ioctl,vmxlab:handle_io,vmxlab:vmx_complete_userspace_exit"
	$p --only in --probes "$ioctl,vmxlab:handle_io,vmxlab:vmx_complete_userspace_exit"
	$p --only step --probes "$ioctl,vmxlab:vmx_handle_monitor_trap_flag"
	$p --only mmio_write --probes "$ioctl,vmxlab:mmu_handle_ept_violation,$mmio,vmxlab:mmio_store_data"
	$p --only mmio_read --probes "$ioctl,vmxlab:mmu_handle_ept_violation,$mmio,vmxlab:vmx_complete_userspace_exit"
	$p --only ept --probes vmxlab:vmx_handle_exit,vmxlab:mmu_handle_ept_violation,vmxlab:ept_map_page,pin_user_pages_fast,mutex_unlock,vmxlab:vmx_inject_events
	$p --only ept_alloc_off --probes vmxlab:vmx_handle_exit,vmxlab:ept_map_page,pin_user_pages_fast,__gup_longterm_locked,handle_mm_fault,__alloc_pages,mutex_unlock
	$p --only irq_open --probes "$ioctl,vmxlab:vmx_queue_interrupt"
	$p --only irq_sti_window --probes "$ioctl,vmxlab:vmx_queue_interrupt,vmxlab:vmx_handle_interrupt_window"
	$p --only irq_sti
	profile_shadow
	rmmod vmxlab
	modprobe kvm_intel
	p="$BENCH profile --backend kvm"
	for w in cpuid wbinvd out in step mmio_write mmio_read ept ept_alloc irq_open irq_sti; do
		$p --only "$w"
	done
	rmmod kvm_intel
	if modprobe kvm_intel ept=0; then
		for w in cr3 remap mmio_write; do
			$BENCH profile --backend kvm-shadow --only "$w" || true
		done
		rmmod kvm_intel
	fi
}

# Shadow paging's rows 9a, 9c and 9d and its MMIO store on vmxlab
# (loaded).  A profile that finds no repeating pattern only loses its
# own lines.
profile_shadow() {
	p="$BENCH profile --backend vmxlab-shadow"
	pf=vmxlab:vmx_handle_page_fault,vmxlab:vmx_guest_paging_regs,vmxlab:shadow_page_fault,vmxlab:gwalk_translate
	$p --only ept --probes "vmxlab:vmx_handle_exit,$pf,vmxlab:mmu_pin_page,pin_user_pages_fast,vmxlab:shadow_make_pte,vmxlab:vmx_inject_events" || true
	$p --only cr3 --probes "vmxlab:vmx_handle_exit,vmxlab:vmx_shadow_set_cr3,vmxlab:shadow_switch,vmxlab:deps_hold,vmxlab:vmx_skip_instruction,vmxlab:vmx_inject_events" || true
	$p --only remap --probes "vmxlab:vmx_handle_exit,vmxlab:vmx_handle_invlpg,vmxlab:shadow_invlpg,vmxlab:vmx_guest_paging_regs,vmxlab:shadow_prefetch,vmxlab:gwalk_translate,vmxlab:mmu_pin_page,vmxlab:ept_map_page,vmxlab:ept_pinned_page,vmxlab:vmx_skip_instruction" || true
	$p --only mmio_write --probes "$ioctl,$pf,$mmio" || true
}

case $mode in
bench) bench "$@" ;;
linux) linux_row ;;
scale) scale ;;
profile) profile ;;
profile-shadow) insmod /vmxlab/vmxlab.ko; profile_shadow; rmmod vmxlab ;;
*) echo "bench-vm: unknown mode '$mode' (bench, linux, scale, profile or profile-shadow)" >&2; exit 1 ;;
esac
