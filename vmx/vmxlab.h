/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module-internal interfaces between the files of vmx/: what main.c calls
 * to bring VMX up and down, and the per-CPU bookkeeping of loaded VMCSs.
 */
#ifndef VMXLAB_VMXLAB_H
#define VMXLAB_VMXLAB_H

#include <linux/list.h>
#include <linux/jump_label.h>
#include <linux/types.h>
#include <uapi/linux/vmxlab.h>

/* Capabilities of the boot CPU, read once at load (vmxon.c). */
extern struct vmxlab_caps vmx_caps;
/*
 * XCR0 of the host, restored after each exit of a guest with its own; only
 * when the host runs with CR4.OSXSAVE (vmx_host_osxsave) is there an XCR0.
 */
extern u64 vmx_host_xcr0;
extern bool vmx_host_osxsave;

/*
 * A VMCS that may be active on some CPU.  Whoever VMPTRLDs it records the
 * CPU here and puts it on that CPU's list with vmx_track_loaded_vmcs(), so
 * that a CPU going offline (or an emergency shutdown) can VMCLEAR every
 * VMCS still active on it before VMXOFF (SDM Vol. 3C, 25.11.1).
 */
struct loaded_vmcs {
	void *vmcs;			/* the VMCS region, one page */
	int cpu;			/* CPU it is active on, or -1 */
	bool launched;			/* VMLAUNCH done since the last VMCLEAR */
	struct list_head cpu_link;	/* on that CPU's loaded list */
};

/* vmxon.c: VMX operation on every CPU. */
int vmx_check_support(void);

/*
 * spec.c: speculation mitigations for guests.  The entry and exit steps
 * sit behind static keys: on a host with nothing to mitigate they cost
 * no instruction at all.
 */
int vmx_mitig_init(void);
void vmx_mitig_exit(void);
void vmx_mitig_vmcs_switched(void);
DECLARE_STATIC_KEY_FALSE(vmx_mitig_entry_work);
DECLARE_STATIC_KEY_FALSE(vmx_mitig_exit_work);
bool __vmx_mitig_before_entry(bool l1d_flush_wanted);
void __vmx_mitig_after_exit(void);

/*
 * With interrupts off, just before __vmx_vcpu_run().  Return: true when
 * L1D was flushed.
 */
static inline bool vmx_mitig_before_entry(bool l1d_flush_wanted)
{
	return static_branch_unlikely(&vmx_mitig_entry_work) &&
	       __vmx_mitig_before_entry(l1d_flush_wanted);
}

/* With interrupts off, right after the VM exit. */
static inline void vmx_mitig_after_exit(void)
{
	if (static_branch_unlikely(&vmx_mitig_exit_work))
		__vmx_mitig_after_exit();
}

/* stats.c: /sys/kernel/debug/vmxlab */
void vmx_stats_init(void);
void vmx_stats_exit(void);

int vmx_read_caps(struct vmxlab_caps *caps);
int vmx_enable_all_cpus(void);
void vmx_disable_all_cpus(void);
int vmx_load_vmcs(struct loaded_vmcs *lv);
void vmx_clear_loaded_vmcs(struct loaded_vmcs *lv);
int vmx_emergency_disable(void);
void vmx_reboot_disable(void);

/* run.c: the host's SYSCALL MSRs, read as each CPU enters VMX. */
void vmx_read_host_syscall_msrs(void);

/* shutdown.c: reboot, kexec and crash must never leave VMX on. */
int vmx_shutdown_hooks_init(void);
void vmx_shutdown_hooks_exit(void);

/* vmcs.c: the VMCS controls, from the capabilities. */
void vmx_setup_vmcs_config(void);
int vmx_msr_bitmap_init(void);
void vmx_msr_bitmap_exit(void);
int vmx_vm_features_ok(bool shadow);

/* cpuid.c: the CPUID table vmxlab supports (no vCPU needed). */
struct vmxlab_cpuid_entry;
u32 vmx_supported_cpuid(struct vmxlab_cpuid_entry *e, u32 max);

/* vm.c: VMXLAB_CREATE_VM. */
int vmxlab_create_vm(unsigned long type);

/* dev.c: /dev/vmxlab. */
int vmxlab_dev_register(void);
void vmxlab_dev_unregister(void);

#endif /* VMXLAB_VMXLAB_H */
