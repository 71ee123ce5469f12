/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMs and vCPUs as the VMX backend sees them.  The ioctl layer (vm.c,
 * vcpu.c) creates them and calls the vmx_vcpu_*() functions below; only
 * those touch the VMCS.  The exit path is run.c -> vmenter.S -> run.c ->
 * exits.c.
 */
#ifndef VMXLAB_VCPU_H
#define VMXLAB_VCPU_H

#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/types.h>
#include <asm/fpu/api.h>
#include <uapi/linux/vmxlab.h>

#include "../mmu/mmu.h"
#include "decode.h"
#include "msr_autoload.h"
#include "vmxlab.h"

struct vmxlab_vm {
	struct vmxlab_mmu mmu;			/* mmu.shadow: VMXLAB_VM_SHADOW */
	struct mutex lock;			/* vcpus[] */
	struct vmx_vcpu *vcpus[VMXLAB_MAX_VCPUS];
	struct dentry *debugfs;			/* stats.c; NULL or error: none */
};

/* Guest GPRs in the hardware's encoding order; RSP lives in the VMCS. */
enum vcpu_reg {
	VCPU_RAX, VCPU_RCX, VCPU_RDX, VCPU_RBX, VCPU_RSP, VCPU_RBP,
	VCPU_RSI, VCPU_RDI, VCPU_R8, VCPU_R9, VCPU_R10, VCPU_R11,
	VCPU_R12, VCPU_R13, VCPU_R14, VCPU_R15, VCPU_NR_REGS
};

/*
 * The SYSCALL MSRs (SDM Vol. 3A, 5.8.8): not in the VMCS, so run.c puts
 * the guest's in the CPU while the vCPU is loaded (switch_syscall_msrs()).
 * vmx_syscall_msrs[] holds their numbers, in this order.
 */
enum {
	SYSCALL_STAR, SYSCALL_LSTAR, SYSCALL_CSTAR, SYSCALL_SFMASK,
	NR_SYSCALL_MSRS
};

extern const u32 vmx_syscall_msrs[NR_SYSCALL_MSRS];

/* Host state the VM exit does not restore; put back by vmx_vcpu_put(). */
struct vmx_host_state {
	bool saved;
	u16 ds_sel, es_sel, fs_sel, gs_sel, ldt_sel;
	unsigned long fs_base, kernel_gs_base;
	bool syscall_msrs_loaded;		/* the guest's are in the CPU */
	u64 debugctl;				/* 0: nothing to restore */
	unsigned long cr3, cr4;			/* last values in the VMCS */
};

/* What userspace must complete before the guest runs again. */
struct vmx_pending_completion {
	enum {
		COMPLETE_NONE,
		COMPLETE_IO_IN,			/* IN: data -> RAX */
		COMPLETE_IO_INS,		/* INS: data -> guest memory */
		COMPLETE_MMIO_LOAD,		/* MOV/MOVZX from MMIO */
	} kind;
	u8 size;				/* I/O element size */
	u8 insn_len;				/* to step over the instruction */
	bool rep;				/* REP INS/OUTS */
	bool backward;				/* RFLAGS.DF = 1 */
	u8 addr_size;				/* 2, 4 or 8: SI/DI and CX width */
	u32 count;				/* string I/O elements */
	u64 gla;				/* INS destination */
	struct mmio_insn insn;			/* the decoded MMIO load */
};

/* Events waiting for the guest (vmx/events.c). */
struct vmx_events {
	u8 irq_queue[VMXLAB_IRQ_QUEUE_LEN];	/* vectors, delivered in order */
	u8 irq_head, irq_count;
	bool nmi_queued;
	bool exception_queued;
	bool window_requested;			/* copied from the run page */
	bool windows_armed;			/* interrupt/NMI-window exiting on */
	struct vmxlab_exception exception;
	u32 reinject_info;			/* IDT-vectoring info to redo */
	u32 reinject_error_code;
	u32 reinject_insn_len;
	u8 why;					/* inject_decide()'s, for the log */
};

/*
 * The exit log (exit_log.c): @ring holds @mask + 1 records, or is NULL
 * when the log is off.  Records numbered [@read_seq, @next_seq) are
 * unread.  @rec is the record of the round trip under way, filled by
 * run.c and vmx_decide().  All under the vCPU's mutex.
 */
struct vmx_exit_log {
	struct vmxlab_exit_record *ring;
	u32 mask;
	u32 lost;				/* since the last READ */
	u64 next_seq;
	u64 read_seq;
	struct vmxlab_exit_record rec;
};

struct vmx_vcpu {
	unsigned long regs[VCPU_NR_REGS];	/* read and written by vmenter.S */
	struct vmxlab_vm *vm;
	struct file *vm_file;			/* reference held */
	u32 id;
	u16 vpid;				/* 0: VPID not used */
	struct loaded_vmcs vmcs;
	struct vmx_host_state host;
	struct preempt_notifier preempt_notifier;
	struct fpu_guest guest_fpu;
	u64 guest_xcr0;
	unsigned long guest_cr2;		/* not in the VMCS (SDM 27.3.1) */
	/*
	 * EPT VMs under PAE paging: the CPU's PDPTE registers, which a VM exit
	 * stores in the VMCS; copied here for vmxlab's own walks (MMIO).
	 */
	u64 exit_pdptes[4];
	u64 guest_kernel_gs_base;
	u64 guest_syscall_msrs[NR_SYSCALL_MSRS];	/* in the CPU while loaded */
	u64 guest_pat;
	u8 guest_cr8;
	unsigned long guest_dr[4];		/* DR0-3: kept, not loaded */
	unsigned long guest_dr6;
	unsigned int msr_autoload_nr;		/* the count now in the VMCS */
	/*
	 * MSRs the CPU switches for perf (run.c), in the vCPU rather than
	 * a kmalloc object of their own.  The VMCS holds the areas' physical
	 * addresses, whose bits 3:0 must be zero (SDM Vol. 3C, 25.7.2 and
	 * 25.8.2, checked at entry: 27.2.1.2, 27.2.1.3).  kmalloc aligns
	 * the vCPU to the power of two it rounds the size up to.
	 */
	struct msr_autoload msr_autoload __aligned(16);

	struct mutex mutex;			/* one ioctl at a time */
	struct vmxlab_run *run;			/* the page shared with userspace */
	struct vmx_pending_completion pending;
	struct vmx_events events;
	struct vmxlab_vcpu_stats stats;
	struct vmx_exit_log xlog;		/* exit_log.c */
	bool unknown_exit_dumped;		/* dump the VMCS only once */
	/*
	 * The host ran code since the last entry that may have left data
	 * in L1D (user space, another task, emulation): flush before the
	 * next entry where the host's L1TF choice is "conditional".
	 */
	bool l1d_flush_wanted;
	bool timeslice_armed;			/* preemption timer on (timeslice.c) */
	struct {
		u32 flags;			/* VMXLAB_SINGLESTEP_*, 0: off */
		bool retired;			/* vmxlab retired an instruction */
		bool delivering;		/* the last entry injected an event */
	} step;					/* singlestep.c */

	struct vmxlab_cpuid_entry *cpuid;	/* NULL: the default table */
	u32 cpuid_nent;
	/* What the table says about paging: vmx_guest_maxphyaddr() (cpuid.c). */
	struct {
		bool known;			/* false again at SET_CPUID */
		u8 maxphyaddr;
		u8 features;			/* GWALK_FEAT_* */
	} paging_cpuid;

	/*
	 * Shadow paging (paging.c, mmu/shadow.c): the CPU runs on vmxlab's
	 * tables, so the VMCS holds the hardware's CR3 and EFER, and the
	 * guest's own live here.
	 */
	struct {
		struct shadow_tree *tree;	/* NULL: an EPT VM */
		u64 cr3;			/* the guest's CR3 */
		u64 efer;			/* the guest's IA32_EFER */
		u64 pdptes[4];			/* PAE: loaded with CR3 */
		bool real_mode;			/* CR0.PE = 0: cannot run */
	} shadow;
};

/* A vCPU of a VMXLAB_VM_SHADOW VM? */
static inline bool vcpu_is_shadow(const struct vmx_vcpu *vcpu)
{
	return vcpu->shadow.tree;
}

/* vmcs.c: building the VMCS and moving state in and out of it. */
int vmx_vcpu_setup(struct vmx_vcpu *vcpu);
void vmx_vcpu_free(struct vmx_vcpu *vcpu);
void vmx_get_regs(struct vmx_vcpu *vcpu, struct vmxlab_regs *regs);
int vmx_set_regs(struct vmx_vcpu *vcpu, const struct vmxlab_regs *regs);
void vmx_get_sregs(struct vmx_vcpu *vcpu, struct vmxlab_sregs *sregs);
int vmx_set_sregs(struct vmx_vcpu *vcpu, const struct vmxlab_sregs *sregs);
void vmx_dump_vmcs(struct vmx_vcpu *vcpu);
void vmx_write_host_state_percpu(int cpu);
void vmx_write_guest_cr0(struct vmx_vcpu *vcpu, u64 cr0);
void vmx_write_guest_cr4(struct vmx_vcpu *vcpu, u64 cr4);
u64 vmx_read_guest_cr0(void);
u64 vmx_read_guest_cr4(void);
u64 vmx_guest_cr4_allowed(struct vmx_vcpu *vcpu);
void vmx_write_guest_efer(struct vmx_vcpu *vcpu, u64 efer);
u64 vmx_read_guest_efer(struct vmx_vcpu *vcpu);
u64 vmx_read_guest_cr3(struct vmx_vcpu *vcpu);

/* paging.c: shadow paging's exits and its guest registers; PDPTEs. */
int vmx_handle_page_fault(struct vmx_vcpu *vcpu);
int vmx_handle_invlpg(struct vmx_vcpu *vcpu);
bool vmx_shadow_set_cr3(struct vmx_vcpu *vcpu, u64 cr3);
int vmx_read_pdptes(struct vmx_vcpu *vcpu, u64 cr0, u64 cr3, u64 cr4,
		    u64 efer, u64 pdptes[4]);
int vmx_shadow_load_pdptes(struct vmx_vcpu *vcpu, u64 cr0, u64 cr3, u64 cr4,
			   u64 efer);
void vmx_shadow_flush(struct vmx_vcpu *vcpu);
int vmx_shadow_cannot_run(struct vmx_vcpu *vcpu);
int vmx_shadow_vcpu_init(struct vmx_vcpu *vcpu);
void vmx_shadow_vcpu_register(struct vmx_vcpu *vcpu);
void vmx_shadow_vcpu_free(struct vmx_vcpu *vcpu);

/* vm.c, vcpu.c: the ioctl layer. */
int vmxlab_create_vcpu(struct vmxlab_vm *vm, struct file *vm_file,
		       unsigned long id);

/* vmenter.S: the world switch and the NMI trampoline. */
int __vmx_vcpu_run(unsigned long *regs, bool launched);
void vmx_do_nmi_irqoff(void);
void vmx_do_interrupt_irqoff(unsigned long handler);
extern const char vmx_vmexit[];

/* run.c: getting on and off a CPU, and the run loop. */
void vmx_vcpu_load(struct vmx_vcpu *vcpu);
void vmx_vcpu_put(struct vmx_vcpu *vcpu);
void vmx_vcpu_unload(struct vmx_vcpu *vcpu);
void vmx_flush_vpid_all_cpus(u16 vpid);
void vmx_set_syscall_msr(struct vmx_vcpu *vcpu, int i, u64 data);
void vmx_sync_syscall_msrs(struct vmx_vcpu *vcpu);
int vmx_vcpu_run(struct vmx_vcpu *vcpu);

/* exits.c: the exit dispatcher. */
int vmx_handle_exit(struct vmx_vcpu *vcpu, u32 exit_reason);
int vmx_unexpected_exit(struct vmx_vcpu *vcpu, u32 exit_reason);

/* vcpu_regs.c: what every handler does to the vCPU. */
int vmx_exit_internal_error(struct vmx_vcpu *vcpu, u32 suberror, u64 data);
unsigned long vmx_read_gpr(struct vmx_vcpu *vcpu, int reg);
void vmx_write_gpr(struct vmx_vcpu *vcpu, int reg, unsigned long value);
void vmx_skip_instruction(struct vmx_vcpu *vcpu);
void vmx_advance_rip(struct vmx_vcpu *vcpu, unsigned int len);
void vmx_inject_exception(struct vmx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code);

/* cpuid.c, msr.c, cr.c, mmio.c: what the handlers emulate. */
void vmx_cpuid(struct vmx_vcpu *vcpu, u32 function, u32 index, u32 out[4]);
int vmx_set_cpuid(struct vmx_vcpu *vcpu, struct vmxlab_cpuid_entry *entries,
		  u32 nent);
int vmx_get_msr(struct vmx_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct vmx_vcpu *vcpu, u32 index, u64 data);
int vmx_handle_cr_access(struct vmx_vcpu *vcpu);
int vmx_handle_dr_access(struct vmx_vcpu *vcpu);
int vmx_handle_string_io(struct vmx_vcpu *vcpu, unsigned long qual);
struct gwalk_regs;
int vmx_emulate_mmio(struct vmx_vcpu *vcpu, u64 gpa,
		     const struct gwalk_regs *regs);
void vmx_guest_paging_regs(struct vmx_vcpu *vcpu, struct gwalk_regs *r);
unsigned int vmx_guest_maxphyaddr(struct vmx_vcpu *vcpu);
unsigned int vmx_guest_paging_features(struct vmx_vcpu *vcpu);
void vmx_complete_userspace_exit(struct vmx_vcpu *vcpu);
unsigned int vmx_fetch_insn(struct vmx_vcpu *vcpu, u8 *bytes, unsigned int max);

/* singlestep.c: the monitor trap flag. */
int vmx_set_singlestep(struct vmx_vcpu *vcpu, const struct vmxlab_singlestep *s);
int vmx_handle_monitor_trap_flag(struct vmx_vcpu *vcpu);
int vmx_step_end_emulated(struct vmx_vcpu *vcpu);

/* vmxlab, not the guest, retired an instruction (or a REP iteration). */
static inline void vmx_step_retired(struct vmx_vcpu *vcpu)
{
	if (unlikely(vcpu->step.flags))
		vcpu->step.retired = true;
}

/* timeslice.c: the VMX-preemption timer as a time slice per entry. */
DECLARE_STATIC_KEY_FALSE(vmx_timeslice_used);
void __vmx_timeslice_before_entry(struct vmx_vcpu *vcpu);

static inline void vmx_timeslice_before_entry(struct vmx_vcpu *vcpu)
{
	if (static_branch_unlikely(&vmx_timeslice_used))
		__vmx_timeslice_before_entry(vcpu);
}

/*
 * exit_log.c: one record per round trip, for VMXLAB_READ_EXIT_LOG and the
 * vmxlab_decision tracepoint.  The key is on while any vCPU's log or the
 * tracepoint is; off, vmx_decide() and run.c's record building are a
 * no-op jump.
 */
DECLARE_STATIC_KEY_FALSE(vmx_exit_log_key);
int vmx_set_exit_log(struct vmx_vcpu *vcpu,
		     const struct vmxlab_exit_log_config *c);
u32 vmx_exit_log_take(struct vmx_vcpu *vcpu, struct vmxlab_exit_log *hdr,
		      struct vmxlab_exit_record *out, u32 room);
void vmx_exit_log_free(struct vmx_vcpu *vcpu);
void vmx_exit_log_commit(struct vmx_vcpu *vcpu);
int vmx_exit_log_key_get(void);
void vmx_exit_log_key_put(void);

/**
 * vmx_decide() - note what an exit handler decided, for the exit log
 * @vcpu:     the vCPU in its exit handler
 * @decision: VMXLAB_DECISION_*
 * @a0:       first argument (see enum vmxlab_decision)
 * @a1:       second argument
 *
 * Every path of every handler calls it once, or again to say more (the
 * last call wins).  Costs a patched-out jump while nobody logs.
 */
static inline void vmx_decide(struct vmx_vcpu *vcpu,
			      enum vmxlab_decision decision, u64 a0, u64 a1)
{
	if (static_branch_unlikely(&vmx_exit_log_key)) {
		vcpu->xlog.rec.decision = decision;
		vcpu->xlog.rec.arg[0] = a0;
		vcpu->xlog.rec.arg[1] = a1;
	}
}

/* stats.c: the per-VM debugfs directory. */
void vmx_stats_vm_add(struct vmxlab_vm *vm, int fd);
void vmx_stats_vm_remove(struct vmxlab_vm *vm);

/* events.c: interrupts, NMIs and exceptions for the guest. */
int vmx_queue_interrupt(struct vmx_vcpu *vcpu, u32 vector);
int vmx_queue_nmi(struct vmx_vcpu *vcpu);
int vmx_queue_exception(struct vmx_vcpu *vcpu,
			const struct vmxlab_exception *e);
void vmx_events_after_exit(struct vmx_vcpu *vcpu, u32 exit_reason);
void vmx_inject_events(struct vmx_vcpu *vcpu);
void vmx_events_report(struct vmx_vcpu *vcpu);
int vmx_handle_interrupt_window(struct vmx_vcpu *vcpu);
int vmx_handle_nmi_window(struct vmx_vcpu *vcpu);
int vmx_reflect_exception(struct vmx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code);

#endif /* VMXLAB_VCPU_H */
