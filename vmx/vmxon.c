// SPDX-License-Identifier: GPL-2.0
/*
 * VMX operation on every CPU: the first and last thing vmxlab does.
 * Before any VM exit can happen a CPU must be in VMX root operation
 * (VMXON); before it goes offline, reboots or unloads us it must leave it
 * (VMCLEAR what is loaded, then VMXOFF).  SDM Vol. 3C, 24.7 and 24.8.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "caps.h"
#include "vmxlab.h"

struct vmxlab_caps vmx_caps;
u64 vmx_host_xcr0;
bool vmx_host_osxsave;

struct vmx_cpu {
	void *vmxon_region;		/* 4 KiB, revision id in its first word */
	bool in_vmx_operation;		/* VMXON succeeded, no VMXOFF yet */
	struct list_head loaded_vmcss;	/* struct loaded_vmcs, active here */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);
static enum cpuhp_state vmx_cpuhp_state;

/*
 * IA32_FEATURE_CONTROL gates VMXON (SDM Vol. 3C, 24.7): once firmware has
 * locked it, only the bits it left set count.  Linux locks it at boot, so
 * an unlocked register means VMX was never enabled for us either.
 */
static int vmx_feature_control_ok(void)
{
	u64 fc;

	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc))
		return -EACCES;
	if (!(fc & IA32_FEATURE_CONTROL_LOCKED) ||
	    !(fc & IA32_FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("VMX is disabled by firmware on CPU %d (IA32_FEATURE_CONTROL=%#llx); enable VT-x in the BIOS setup\n",
		       raw_smp_processor_id(), fc);
		return -EACCES;
	}
	return 0;
}

/**
 * vmx_check_support() - can this machine run vmxlab at all?
 *
 * Return: 0, -ENODEV without VMX, -EACCES when firmware disabled it,
 * -EOPNOTSUPP when VMX lacks what every vmxlab configuration needs.
 */
int vmx_check_support(void)
{
	if (!(cpuid_ecx(1) & BIT(X86_FEATURE_VMX & 31))) {
		pr_err("CPU has no VMX (Intel VT-x); nothing to do\n");
		return -ENODEV;
	}
	return vmx_feature_control_ok();
}

/**
 * vmx_read_caps() - read the VMX capability MSRs and decode them
 * @caps: filled in
 *
 * The TRUE_* control MSRs are used when IA32_VMX_BASIC[55] says they exist
 * (SDM Vol. 3D, A.2).  Secondary controls and the EPT/VPID MSR only exist
 * when the control enabling them may be 1.
 *
 * Return: 0, -EIO when an MSR cannot be read, -EOPNOTSUPP when the VMCS
 * must live below 4 GiB or in uncached memory (neither is supported).
 */
int vmx_read_caps(struct vmxlab_caps *caps)
{
	bool true_ctls;
	int err = 0;

	memset(caps, 0, sizeof(*caps));
	err |= rdmsrl_safe(MSR_IA32_VMX_BASIC, &caps->msr_basic);
	true_ctls = caps->msr_basic & IA32_VMX_BASIC_TRUE_CTLS;
	err |= rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			   MSR_IA32_VMX_PINBASED_CTLS, &caps->msr_pinbased);
	err |= rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			   MSR_IA32_VMX_PROCBASED_CTLS, &caps->msr_procbased);
	err |= rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
			   MSR_IA32_VMX_EXIT_CTLS, &caps->msr_exit);
	err |= rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
			   MSR_IA32_VMX_ENTRY_CTLS, &caps->msr_entry);
	err |= rdmsrl_safe(MSR_IA32_VMX_MISC, &caps->msr_misc);
	err |= rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED0, &caps->msr_cr0_fixed0);
	err |= rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED1, &caps->msr_cr0_fixed1);
	err |= rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED0, &caps->msr_cr4_fixed0);
	err |= rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED1, &caps->msr_cr4_fixed1);
	if (caps->msr_procbased & ((u64)PROC_CTL_ACTIVATE_SECONDARY << 32))
		err |= rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2,
				   &caps->msr_procbased2);
	if (caps->msr_procbased2 & ((u64)(PROC2_CTL_ENABLE_EPT |
					  PROC2_CTL_ENABLE_VPID) << 32))
		err |= rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP,
				   &caps->msr_ept_vpid_cap);
	if (err) {
		pr_err("cannot read the VMX capability MSRs\n");
		return -EIO;
	}
	vmx_caps_decode(caps);
	/*
	 * XGETBV/XSETBV raise #UD while CR4.OSXSAVE is 0 (a CPU without
	 * XSAVE, or a kernel booted with "noxsave"): then XCR0 is never
	 * switched and the guest is never offered XSAVE.
	 */
	vmx_host_osxsave = cr4_read_shadow() & X86_CR4_OSXSAVE;
	if (vmx_host_osxsave)
		vmx_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);

	if (((caps->msr_basic >> IA32_VMX_BASIC_MEM_TYPE_SHIFT) &
	     IA32_VMX_BASIC_MEM_TYPE_MASK) != IA32_VMX_BASIC_MEM_TYPE_WB ||
	    caps->vmcs_size > PAGE_SIZE || caps->vmcs_size == 0) {
		pr_err("unsupported VMCS memory type or size (IA32_VMX_BASIC=%#llx)\n",
		       caps->msr_basic);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The VMCS that is current on each CPU, so VMPTRLD is done only when needed. */
static DEFINE_PER_CPU(struct loaded_vmcs *, current_vmcs);

/**
 * vmx_load_vmcs() - make @lv the current VMCS on this CPU
 * @lv: a VMCS that is active on this CPU or on none (cpu == -1)
 *
 * Interrupts are off.  The VMCS goes on this CPU's list, so that
 * vmx_cpu_off() and the emergency path find it.
 *
 * Return: 0, or -EIO when VMPTRLD failed.
 */
int vmx_load_vmcs(struct loaded_vmcs *lv)
{
	int r;

	lockdep_assert_irqs_disabled();
	if (this_cpu_read(current_vmcs) == lv)
		return 0;
	r = vmx_vmptrld(virt_to_phys(lv->vmcs));
	if (r)
		return r;
	vmx_mitig_vmcs_switched();
	if (lv->cpu != smp_processor_id()) {
		lv->cpu = smp_processor_id();
		list_add(&lv->cpu_link, this_cpu_ptr(&vmx_cpu.loaded_vmcss));
	}
	this_cpu_write(current_vmcs, lv);
	return 0;
}

/**
 * vmx_clear_loaded_vmcs() - VMCLEAR @lv on the CPU it is active on
 * @lv: active on this CPU; interrupts are off
 *
 * Afterwards it may be loaded on any CPU, and must be VMLAUNCHed again.
 */
void vmx_clear_loaded_vmcs(struct loaded_vmcs *lv)
{
	vmx_vmclear(virt_to_phys(lv->vmcs));
	list_del(&lv->cpu_link);
	if (this_cpu_read(current_vmcs) == lv)
		this_cpu_write(current_vmcs, NULL);
	lv->cpu = -1;
	lv->launched = false;
}

/* Returns how many VMCSs it cleared. */
static int vmx_clear_all_loaded_vmcss(struct vmx_cpu *vc)
{
	struct loaded_vmcs *lv, *tmp;
	int cleared = 0;

	list_for_each_entry_safe(lv, tmp, &vc->loaded_vmcss, cpu_link) {
		vmx_clear_loaded_vmcs(lv);
		cleared++;
	}
	return cleared;
}

/* Enter VMX root operation on this CPU; interrupts are off. */
static int vmx_cpu_on(struct vmx_cpu *vc)
{
	int cpu = smp_processor_id();
	u64 basic;
	int r;

	if (cr4_read_shadow() & X86_CR4_VMXE) {
		pr_err("VMX is already in use on CPU %d (another hypervisor such as kvm_intel holds it); close its VMs or unload it first\n",
		       cpu);
		return -EBUSY;
	}
	r = vmx_feature_control_ok();
	if (r)
		return r;
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic) || basic != vmx_caps.msr_basic) {
		pr_err("CPU %d reports a different IA32_VMX_BASIC than the boot CPU\n",
		       cpu);
		return -EIO;
	}

	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_cr_fixed_ok(read_cr0(), vmx_caps.msr_cr0_fixed0,
			     vmx_caps.msr_cr0_fixed1) ||
	    !vmx_cr_fixed_ok(__read_cr4(), vmx_caps.msr_cr4_fixed0,
			     vmx_caps.msr_cr4_fixed1)) {
		pr_err("CPU %d: CR0/CR4 do not meet the VMX fixed bits\n", cpu);
		r = -EIO;
		goto clear_vmxe;
	}

	*(u32 *)vc->vmxon_region = vmx_caps.vmcs_revision;
	r = vmx_vmxon(virt_to_phys(vc->vmxon_region));
	if (r) {
		pr_err("VMXON failed on CPU %d (%d)\n", cpu, r);
		goto clear_vmxe;
	}
	vc->in_vmx_operation = true;
	vmx_read_host_syscall_msrs();
	/*
	 * EPT translations cached before VMXOFF (ours, or another
	 * hypervisor's) may survive it (SDM Vol. 3C, 29.4.3): start clean, so
	 * that a CPU coming back online needs no per-VM flush.
	 */
	if (vmx_caps.msr_ept_vpid_cap & EPT_CAP_INVEPT_GLOBAL)
		vmx_invept(VMX_INVEPT_GLOBAL, 0);
	return 0;

clear_vmxe:
	cr4_clear_bits(X86_CR4_VMXE);
	return r;
}

/*
 * Leave VMX operation on this CPU; interrupts are off.  Returns how many
 * VMCSs were active here and had to be cleared first.
 */
static int vmx_cpu_off(struct vmx_cpu *vc)
{
	int cleared;

	if (!vc->in_vmx_operation)
		return 0;
	cleared = vmx_clear_all_loaded_vmcss(vc);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	vc->in_vmx_operation = false;
	return cleared;
}

/*
 * The cpuhp callbacks run on the CPU concerned: for every online CPU when
 * the state is installed or removed, and for each CPU that is hotplugged
 * later.  A failing "online" callback makes cpuhp undo the CPUs done so
 * far, which is how a partial VMXON is rolled back.
 */
static int vmx_cpuhp_online(unsigned int cpu)
{
	unsigned long flags;
	int r;

	local_irq_save(flags);
	r = vmx_cpu_on(this_cpu_ptr(&vmx_cpu));
	local_irq_restore(flags);
	return r;
}

static int vmx_cpuhp_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	vmx_cpu_off(this_cpu_ptr(&vmx_cpu));
	local_irq_restore(flags);
	return 0;
}

/**
 * vmx_emergency_disable() - leave VMX operation on this CPU, in an emergency
 *
 * Called from the emergency path (crash, kexec, emergency reboot) in NMI
 * or interrupts-off context on each CPU.  Nothing here may sleep or trust
 * the bookkeeping to be consistent: CR4.VMXE says whether to act, and a
 * VMXOFF fault is ignored.
 *
 * Return: how many VMCSs were cleared, or -1 when this CPU was not in VMX
 * operation (nothing was done).
 */
int vmx_emergency_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (!(__read_cr4() & X86_CR4_VMXE) || !vc->in_vmx_operation)
		return -1;
	return vmx_cpu_off(vc);
}

static void vmx_free_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		free_page((unsigned long)per_cpu(vmx_cpu, cpu).vmxon_region);
		per_cpu(vmx_cpu, cpu).vmxon_region = NULL;
	}
}

/**
 * vmx_enable_all_cpus() - VMXON on every online CPU, and on each one that
 * comes online later
 *
 * Return: 0, -ENOMEM, or the first CPU's failure (-EBUSY when another
 * hypervisor is in VMX operation); on failure no CPU is left in VMX
 * operation.
 */
int vmx_enable_all_cpus(void)
{
	int cpu, r;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = &per_cpu(vmx_cpu, cpu);
		struct page *page;

		INIT_LIST_HEAD(&vc->loaded_vmcss);
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			r = -ENOMEM;
			goto free_regions;
		}
		vc->vmxon_region = page_address(page);
	}

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "vmxlab:online",
			      vmx_cpuhp_online, vmx_cpuhp_offline);
	if (r < 0)
		goto free_regions;
	vmx_cpuhp_state = r;
	return 0;

free_regions:
	vmx_free_regions();
	return r;
}

/* VMXOFF on every online CPU; stop reacting to hotplug. */
void vmx_disable_all_cpus(void)
{
	cpuhp_remove_state(vmx_cpuhp_state);
	vmx_free_regions();
}

/* For the reboot notifier: VMXOFF everywhere, leave hotplug as it is. */
static void vmx_cpu_off_ipi(void *unused)
{
	vmx_cpu_off(this_cpu_ptr(&vmx_cpu));
}

void vmx_reboot_disable(void)
{
	on_each_cpu(vmx_cpu_off_ipi, NULL, 1);
}
