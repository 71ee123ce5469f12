# SPDX-License-Identifier: GPL-2.0
#
# vmxlab top-level Makefile.  The module itself is built by Kbuild (see the
# Kbuild file); this file picks the kernel tree, checks that it exports what
# vmxlab needs, and holds the project's entry points:
#
#   make            build vmxlab.ko
#   make demo       set up, boot the test VM, show the capability report
#                   and vmxlab-trace's cpuid and ept demos
#   make trace GUEST=my.S|my.bin|my.elf [ARGS=--step]
#                   your guest in the test VM, each exit explained
#   make check      the whole test suite (unit tests + selftests in a VM)
#   make lint       W=1, sparse (C=1) and checkpatch --strict
#   make tour       Documentation/tour.rst from the code's T:NNN comments
#   make check-docs make check's docs layer alone: tour.rst up to date,
#                   no reference to code that is gone, their self-test
#   make bench      vmxlab next to KVM in the test VM (performance.rst)
#   make check-debug   make check's debug-kernel lane alone (KASAN, lockdep...)
#   make check-linux   make check's vm-linux lane alone: Debian's kernel
#                   booted by tools/vmxlab-run in the test VM
#   make linux      that Linux guest with its shell on this terminal
#   make debug-kernel  build the test VM's debug kernel into the cache
#   make fuzz       the ioctl fuzzer in the test VM (PROGRAM=P replays;
#                   DEBUG=1: on the debug kernel, coverage-guided)
#   make deb        Debian packages vmxlab-dkms and vmxlab-tools (build/deb/)
#   make check-packaging   make check's packaging layer alone
#   make dkms-install / dkms-remove   the module through DKMS, from here
#
# KDIR: the running kernel's build tree when it exists, otherwise the
# headers of Debian's linux-headers-amd64 (the kernel the test VM boots).

VMXLAB_CACHE ?= $(HOME)/.cache/vmxlab
export VMXLAB_CACHE

RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
DEBIAN_KVER := $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		 sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')

ifeq ($(origin KDIR),undefined)
  ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
    KDIR := $(RUNNING_KDIR)
    KDIR_WHY := running kernel's build tree
  else
    KDIR := /usr/src/linux-headers-$(DEBIAN_KVER)
    KDIR_WHY := Debian linux-headers-amd64 ($(DEBIAN_KVER))
  endif
else
  KDIR_WHY := set by KDIR
endif

# Symbols vmxlab.ko links against that Debian's 6.1 ABI has not always
# exported; checked up front so a missing one is named, not a modpost error.
REQUIRED_SYMBOLS := cr4_update_irqsoff cr4_read_shadow __cpuhp_setup_state \
	__cpuhp_remove_state register_reboot_notifier register_module_notifier \
	kset_find_obj cpu_emergency_register_virt_callback \
	cpu_emergency_unregister_virt_callback asm_exc_nmi_noist \
	preempt_notifier_inc preempt_notifier_register fpu_swap_kvm_fpstate \
	fpu_alloc_guest_fpstate fpu_free_guest_fpstate current_save_fsgs \
	load_fixmap_gdt get_cpu_entry_area gdt_page __tss_limit_invalid \
	fixed_percpu_data pin_user_pages_fast unpin_user_pages_dirty_lock \
	switch_fpu_return hw_breakpoint_restore cpu_dr7 __ct_user_enter \
	__ct_user_exit context_tracking context_tracking_key \
	rcu_note_context_switch vtime_guest_enter vtime_guest_exit \
	perf_guest_get_msrs x86_verw_sel clear_bhb_loop l1tf_vmx_mitigation \
	mmio_stale_data_clear x86_pred_cmd l1tf_mitigation \
	xfer_to_guest_mode_handle_work x86_ibpb_exit_to_user irq_stat tsc_khz

.PHONY: all module symcheck clean demo check unit selftests lint setup

all: module

module: symcheck
	@echo "vmxlab: building against $(KDIR) ($(KDIR_WHY))"
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

symcheck:
	@test -f $(KDIR)/Makefile || { echo "vmxlab: no kernel build tree at $(KDIR); run scripts/setup.sh or set KDIR" >&2; exit 1; }
	@for s in $(REQUIRED_SYMBOLS); do \
		grep -q "[[:space:]]$$s[[:space:]]" $(KDIR)/Module.symvers || { \
		echo "vmxlab: kernel at $(KDIR) does not export $$s, which vmxlab needs" >&2; exit 1; }; \
	done

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C selftests clean

setup:
	scripts/setup.sh

demo: setup
	scripts/demo.sh

# Your guest, traced by tools/vmxlab-trace in the test VM (README, "Watch
# your own guest"): GUEST is a .S, a flat binary or a static ELF.
.PHONY: trace
trace: setup
	@test -n "$(GUEST)" || { echo "usage: make trace GUEST=my.S|my.bin|my.elf [ARGS=--step]" >&2; exit 2; }
	scripts/trace.sh $(GUEST) $(ARGS)

check:
	scripts/check.sh

unit:
	$(MAKE) -C selftests unit

selftests:
	$(MAKE) -C selftests

lint:
	scripts/lint.sh

# The guided tour of one VM exit, stitched from the "/* T:NNN" comments
# (scripts/tour.py --check: is it up to date?).
.PHONY: tour check-docs
tour:
	scripts/tour.py

check-docs:
	scripts/docs-check.sh

# Installing from a clone with DKMS: the module source goes to
# /usr/src/vmxlab-VERSION and DKMS builds it for every kernel with headers.
VERSION := $(strip $(file <VERSION))
DKMS_SRC := /usr/src/vmxlab-$(VERSION)
MODULE_SOURCES := Kbuild VERSION vmx mmu irq include
.PHONY: dkms-install dkms-remove deb check-packaging
# KVER=... builds for that kernel (default: the running one).  A source
# tree owned by the vmxlab-dkms package is left to apt.
DKMS_MODULE := vmxlab/$(VERSION)
define dkms_not_packaged
	@! dpkg-query -W -f='$${Status}' vmxlab-dkms 2>/dev/null | grep -q ' installed' || { \
		echo "vmxlab: the vmxlab-dkms package is installed: use apt-get purge vmxlab-dkms" >&2; exit 1; }
endef
dkms-install:
	$(dkms_not_packaged)
	if dkms status $(DKMS_MODULE) | grep -q .; then dkms remove $(DKMS_MODULE) --all; fi
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)
	git ls-files -co --exclude-standard -- $(MODULE_SOURCES) | \
		tar -cf - -T - | tar -xf - -C $(DKMS_SRC)
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DKMS_SRC)/dkms.conf
	dkms add $(DKMS_MODULE)
	dkms build $(DKMS_MODULE) $(if $(KVER),-k $(KVER))
	dkms install $(DKMS_MODULE) $(if $(KVER),-k $(KVER))

dkms-remove:
	$(dkms_not_packaged)
	if dkms status $(DKMS_MODULE) | grep -q .; then dkms remove $(DKMS_MODULE) --all; fi
	rm -rf $(DKMS_SRC)

# Debian packages (vmxlab-dkms, vmxlab-tools) into build/deb/, built with
# Debian's own tools from a copy of the tree's files.
deb:
	scripts/deb.sh

# make check's packaging layer alone (about two minutes; root or sudo).
check-packaging:
	scripts/packaging-check.sh

# The ioctl fuzzer in the test VM: a campaign of FUZZ_SECONDS of the VM's
# time (default 600; Bochs' clock runs at about a quarter of the wall
# clock's pace, so about 50 minutes with the boot and the fixed seeds;
# Documentation/testing.rst), or one program again:
# make fuzz PROGRAM=S1:N1,... (printed by a finding; SEED=S OPS=N is the
# program S:N).  DEBUG=1 runs it on the debug kernel, where KCOV guides it
# and it prints the coverage of vmxlab.ko's functions at the end.
FUZZ_SECONDS ?= 600
FUZZ_PROGRAM = $(or $(PROGRAM),$(if $(SEED),$(SEED):$(or $(OPS),300)))
.PHONY: fuzz debug-kernel debug-module check-debug
fuzz:
	scripts/setup.sh
	$(MAKE) -C selftests
ifeq ($(DEBUG),1)
	scripts/debug-kernel.sh
	$(MAKE) debug-module
	scripts/vm-run.sh --emulator bochs --cpus 2 --timeout $$(( $(FUZZ_SECONDS) * 6 + 600 )) \
		--idle-timeout 900 --log build/vm/fuzz-serial.log \
		--kernel $(VMXLAB_CACHE)/kernel-debug \
		--add build/debug/src/vmxlab.ko:/vmxlab/vmxlab.ko \
		--add selftests/out selftests/run_in_vm.sh \
		$(if $(FUZZ_PROGRAM),--fuzz-replay $(FUZZ_PROGRAM),--fuzz $(FUZZ_SECONDS))
else
	$(MAKE) module KDIR=/usr/src/linux-headers-$$(cat $(VMXLAB_CACHE)/kernel-version)
	scripts/vm-run.sh --emulator bochs --cpus 2 --timeout $$(( $(FUZZ_SECONDS) * 4 + 300 )) \
		--idle-timeout 600 --log build/vm/fuzz-serial.log --add vmxlab.ko \
		--add selftests/out selftests/run_in_vm.sh \
		$(if $(FUZZ_PROGRAM),--fuzz-replay $(FUZZ_PROGRAM),--fuzz $(FUZZ_SECONDS))
endif

# The test VM's debug kernel (about 20 minutes once on 2 cores; cached).
debug-kernel:
	scripts/debug-kernel.sh

# vmxlab.ko for the debug kernel (already built), in build/debug/src from
# a copy of the module's sources, so that the tree's own build stays.
debug-module:
	rm -rf build/debug && mkdir -p build/debug/src
	git ls-files -co --exclude-standard -- $(MODULE_SOURCES) Makefile | \
		tar -cf - -T - | tar -xf - -C build/debug/src
	$(MAKE) -C build/debug/src module KDIR=$(VMXLAB_CACHE)/kernel-debug/build

# make check's debug lane alone: the whole VM suite, the fuzzer and a
# kmemleak scan on the debug kernel.
check-debug:
	scripts/check.sh --debug-only

# make check's vm-linux lane alone: vmxlab-run boots Debian's 6.1 kernel
# in the test VM (Documentation/linux-guest.rst).
.PHONY: check-linux linux
check-linux:
	scripts/check.sh --linux-only

# The same guest with a busybox shell on this terminal: type into it,
# `poweroff -f` ends the guest and then the test VM (Ctrl-] leaves early).
linux:
	scripts/linux-guest.sh

.PHONY: bench
bench:
	scripts/bench.sh
