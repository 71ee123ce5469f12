// SPDX-License-Identifier: GPL-2.0
/*
 * The run loop: VMXLAB_RUN ends up in vmx_vcpu_run(), which enters the
 * guest through vmenter.S, hands each exit to exits.c, and loops until an
 * exit needs userspace, a signal arrives, or an error occurs.  Also here:
 * moving a vCPU's VMCS between CPUs (load/put) and putting back the host
 * state a VM exit does not restore.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/entry-kvm.h>
#include <linux/kvm_host.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "fault_inject.h"
#include "vcpu.h"
#include "vmcs.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Runs on the vCPU's old CPU: VMCLEAR there (SDM 25.11.1). */
static void vmcs_clear_on_its_cpu(void *info)
{
	struct vmx_vcpu *vcpu = info;

	if (vcpu->vmcs.cpu != smp_processor_id())
		return;		/* the CPU went offline and cleared it */
	vmx_clear_loaded_vmcs(&vcpu->vmcs);
}

const u32 vmx_syscall_msrs[NR_SYSCALL_MSRS] = {
	[SYSCALL_STAR] = MSR_STAR,
	[SYSCALL_LSTAR] = MSR_LSTAR,
	[SYSCALL_CSTAR] = MSR_CSTAR,
	[SYSCALL_SFMASK] = MSR_SYSCALL_MASK,
};

/*
 * A guest's SYSCALL takes its target from STAR, LSTAR and SFMASK without
 * a VM exit, and neither VM entry nor VM exit switches them: the guest's
 * values must be in the CPU while it runs.  They are loaded with
 * KERNEL_GS_BASE when the vCPU gets on a CPU and the host's put back when
 * it gets off (vmx_vcpu_put() before any ioctl returns, the preempt
 * notifier before another task runs here).  Between the two this task
 * runs only kernel code, which never uses them: only SYSCALL and SYSRET
 * (the host's return to user mode) do.  KVM instead restores them lazily
 * with a user-return notifier, which saves the WRMSRs of ioctls that do
 * not run the guest; switching at load is simpler to follow.  WRMSR is
 * slow (it serialises): an MSR whose two values agree is not written.
 *
 * Two things keep the switch off the round trip when it is not needed,
 * both as KVM does: the host's values are read once per CPU (Linux sets
 * them when it brings a CPU up, syscall_init(), and never again), and a
 * guest that cannot execute SYSCALL or SYSRET -- outside long mode, or
 * with EFER.SCE clear, both raise #UD (SDM Vol. 2B) -- keeps the host's
 * in the CPU: its RDMSR and WRMSR of them exit and use the copy.
 */
struct host_syscall_msrs {
	u64 val[NR_SYSCALL_MSRS];
};

static DEFINE_PER_CPU(struct host_syscall_msrs, host_syscall_msrs);

/* On each CPU as VMX goes on there (vmxon.c); interrupts are off. */
void vmx_read_host_syscall_msrs(void)
{
	struct host_syscall_msrs *h = this_cpu_ptr(&host_syscall_msrs);
	int i;

	for (i = 0; i < NR_SYSCALL_MSRS; i++)
		rdmsrl(vmx_syscall_msrs[i], h->val[i]);
}

static void switch_syscall_msrs(const u64 *from, const u64 *to)
{
	int i;

	for (i = 0; i < NR_SYSCALL_MSRS; i++)
		if (from[i] != to[i])
			wrmsrl(vmx_syscall_msrs[i], to[i]);
}

static bool guest_syscall_usable(struct vmx_vcpu *vcpu)
{
	u64 efer = vmx_read_guest_efer(vcpu);

	return (efer & (EFER_LMA | EFER_SCE)) == (EFER_LMA | EFER_SCE);
}

/* Put the guest's values in this CPU, or the host's back; preempt off. */
static void load_guest_syscall_msrs(struct vmx_vcpu *vcpu, bool load)
{
	const u64 *host = this_cpu_ptr(&host_syscall_msrs)->val;

	if (load == vcpu->host.syscall_msrs_loaded)
		return;
	if (load)
		switch_syscall_msrs(host, vcpu->guest_syscall_msrs);
	else
		switch_syscall_msrs(vcpu->guest_syscall_msrs, host);
	vcpu->host.syscall_msrs_loaded = load;
}

/**
 * vmx_sync_syscall_msrs() - follow a change of the guest's EFER
 * @vcpu: the vCPU whose EFER was just written (vmx_write_guest_efer())
 *
 * While the vCPU is loaded, its SYSCALL MSRs go into the CPU when the
 * guest can use them and out when it no longer can.
 */
void vmx_sync_syscall_msrs(struct vmx_vcpu *vcpu)
{
	preempt_disable();
	if (vcpu->host.saved)
		load_guest_syscall_msrs(vcpu, guest_syscall_usable(vcpu));
	preempt_enable();
}

/**
 * vmx_set_syscall_msr() - a new guest value for one SYSCALL MSR
 * @vcpu: loaded on this CPU
 * @i:    SYSCALL_STAR .. SYSCALL_SFMASK
 * @data: validated by the caller
 *
 * The copy and the CPU change together, with preemption off: the preempt
 * notifier compares the copy with the host's value to decide whether to
 * write the MSR back, so it must never see one without the other.  While
 * the guest cannot use the MSR (vmx_sync_syscall_msrs()), only the copy
 * changes.
 */
void vmx_set_syscall_msr(struct vmx_vcpu *vcpu, int i, u64 data)
{
	preempt_disable();
	vcpu->guest_syscall_msrs[i] = data;
	if (vcpu->host.syscall_msrs_loaded)
		wrmsrl(vmx_syscall_msrs[i], data);
	preempt_enable();
}

/*
 * Host state that a VM exit overwrites with fixed values or leaves as the
 * guest had it: segment selectors, the LDT, the user GS base swapped by
 * SWAPGS, and the SYSCALL MSRs the guest uses without exits.  Saved when
 * the vCPU gets on a CPU, put back when it gets off.
 */
static void save_host_state(struct vmx_vcpu *vcpu, int cpu)
{
	struct vmx_host_state *h = &vcpu->host;

	if (h->saved)
		return;
	savesegment(ds, h->ds_sel);
	savesegment(es, h->es_sel);
	savesegment(fs, h->fs_sel);
	savesegment(gs, h->gs_sel);
	h->ldt_sel = 0;
	asm volatile("sldt %0" : "=g" (h->ldt_sel));
	current_save_fsgs();
	h->fs_base = current->thread.fsbase;
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	/* A CPU without DEBUGCTL has no branch tracing to lose. */
	if (rdmsrl_safe(MSR_IA32_DEBUGCTLMSR, &h->debugctl))
		h->debugctl = 0;
	vmcs_writel(VMCS_HOST_FS_BASE, h->fs_base);
	vmcs_writel(VMCS_HOST_GS_BASE, cpu_kernelmode_gs_base(cpu));
	/* WRMSR serialises: not when the CPU already holds the value. */
	if (vcpu->guest_kernel_gs_base != h->kernel_gs_base)
		wrmsrl(MSR_KERNEL_GS_BASE, vcpu->guest_kernel_gs_base);
	load_guest_syscall_msrs(vcpu, guest_syscall_usable(vcpu));
	h->saved = true;
}

static void restore_host_state(struct vmx_vcpu *vcpu)
{
	struct vmx_host_state *h = &vcpu->host;

	if (!h->saved)
		return;
	rdmsrl(MSR_KERNEL_GS_BASE, vcpu->guest_kernel_gs_base);
	if (h->ldt_sel || (h->gs_sel & 7)) {
		asm volatile("lldt %0" : : "rm" (h->ldt_sel));
		load_gs_index(h->gs_sel);
	}
	if (h->fs_sel & 7)
		loadsegment(fs, h->fs_sel);
	if (h->ds_sel | h->es_sel) {
		loadsegment(ds, h->ds_sel);
		loadsegment(es, h->es_sel);
	}
	/* VM exit set the TR limit to 0x67 and the GDT limit to 0xffff. */
	invalidate_tss_limit();
	if (vcpu->guest_kernel_gs_base != h->kernel_gs_base)
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	load_guest_syscall_msrs(vcpu, false);
	load_fixmap_gdt(raw_smp_processor_id());
	h->saved = false;
}

/* Forget what this CPU cached for @info's VPID (SDM 29.4.3.3). */
static void flush_vpid_this_cpu(void *info)
{
	u16 vpid = (unsigned long)info;

	if (vmx_caps.msr_ept_vpid_cap & VPID_CAP_INVVPID_SINGLE)
		vmx_invvpid(VMX_INVVPID_SINGLE_CONTEXT, vpid);
	else
		vmx_invvpid(VMX_INVVPID_ALL_CONTEXT, 0);
}

static void vcpu_load_on(struct vmx_vcpu *vcpu, int cpu)
{
	bool migrated = vcpu->vmcs.cpu != cpu;

	if (migrated && vcpu->vmcs.cpu >= 0)
		smp_call_function_single(vcpu->vmcs.cpu, vmcs_clear_on_its_cpu,
					 vcpu, 1);
	local_irq_disable();
	if (vmx_load_vmcs(&vcpu->vmcs))
		pr_err_ratelimited("VMPTRLD failed on CPU %d\n", cpu);
	local_irq_enable();
	if (migrated) {
		vmx_write_host_state_percpu(cpu);
		mmu_sync_before_entry(&vcpu->vm->mmu, cpu);
		/*
		 * The guest's INVLPG and MOV to CR3 flush only the CPU they
		 * run on.  This CPU may still hold translations tagged with
		 * our VPID from an earlier stay, made stale since by page
		 * table edits the guest flushed elsewhere: drop them.
		 */
		if (vcpu->vpid)
			flush_vpid_this_cpu((void *)(unsigned long)vcpu->vpid);
	}
	save_host_state(vcpu, cpu);
}

static struct vmx_vcpu *notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct vmx_vcpu, preempt_notifier);
}

static void vmx_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct vmx_vcpu *vcpu = notifier_to_vcpu(pn);

	vcpu->l1d_flush_wanted = true;	/* another task ran here */
	vcpu_load_on(vcpu, cpu);
}

static void vmx_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	restore_host_state(notifier_to_vcpu(pn));
}

static struct preempt_ops vmx_preempt_ops = {
	.sched_in = vmx_sched_in,
	.sched_out = vmx_sched_out,
};

/**
 * vmx_vcpu_load() - make @vcpu's VMCS current on this CPU
 * @vcpu: the vCPU; its mutex is held
 *
 * From here to vmx_vcpu_put() the task may be preempted and migrated: the
 * preempt notifiers put the host state back when it is switched out and
 * move the VMCS when it is switched in elsewhere.
 */
void vmx_vcpu_load(struct vmx_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_init(&vcpu->preempt_notifier, &vmx_preempt_ops);
	preempt_notifier_register(&vcpu->preempt_notifier);
	vcpu_load_on(vcpu, cpu);
	put_cpu();
}

/* T:200 Back to userspace
 * A VM exit restores only part of the host's state; the rest is still the
 * guest's or was set to fixed values (SDM 28.5).  The LDT, the DS, ES, FS
 * and GS selectors, IA32_KERNEL_GS_BASE and the SYSCALL MSRs (the guest's
 * are loaded once, not on every entry), the TR limit (VM exit sets it to
 * 0x67) and the GDT limit (0xffff) matter only in user mode, so they are
 * put back here, once per VMXLAB_RUN and not once per round trip.  The
 * preempt notifier does the same when the scheduler switches the task
 * out mid-run, as the next task may return to user mode on this CPU.
 * Once the vCPU is put the notifiers stop following the task, and the
 * ioctl returns.
 */
void vmx_vcpu_put(struct vmx_vcpu *vcpu)
{
	preempt_disable();
	restore_host_state(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

/* VMCLEAR wherever the VMCS is active, before it is freed. */
void vmx_vcpu_unload(struct vmx_vcpu *vcpu)
{
	int cpu = get_cpu();

	if (vcpu->vmcs.cpu == cpu) {
		local_irq_disable();
		vmcs_clear_on_its_cpu(vcpu);
		local_irq_enable();
	} else if (vcpu->vmcs.cpu >= 0)
		smp_call_function_single(vcpu->vmcs.cpu, vmcs_clear_on_its_cpu,
					 vcpu, 1);
	put_cpu();
}

/*
 * The performance-monitoring MSRs perf wants different while the guest
 * runs (PERF_GLOBAL_CTRL without the counters that exclude guests, PEBS
 * off so that it never writes into guest memory) are switched by the CPU
 * itself, in the VM-entry and VM-exit MSR-load areas, as KVM's
 * atomic_switch_perf_msrs() does.  Asked before every entry: perf may
 * have changed its mind since the last one.
 */
static void switch_perf_msrs(struct vmx_vcpu *vcpu)
{
	struct msr_autoload *m = &vcpu->msr_autoload;
	struct perf_guest_switch_msr *msrs;
	int i, nr;

	msrs = perf_guest_get_msrs(&nr, NULL);
	for (i = 0; msrs && i < nr; i++) {
		if (msrs[i].host == msrs[i].guest)
			msr_autoload_clear(m, msrs[i].msr);
		else if (msr_autoload_set(m, msrs[i].msr, msrs[i].guest,
					  msrs[i].host))
			pr_warn_once("more than %d MSRs to switch for perf\n",
				     MSR_AUTOLOAD_MAX);
	}
	if (m->nr != vcpu->msr_autoload_nr) {
		vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, m->nr);
		vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, m->nr);
		vcpu->msr_autoload_nr = m->nr;
	}
}

/*
 * Host state that may differ between entries: CR3 and CR4 change with the
 * task (PCID, TSD), XCR0 and CR2 are the guest's while it runs.  A host
 * without CR4.OSXSAVE has no XCR0 to switch: XSETBV would raise #UD.
 */
static void prepare_entry(struct vmx_vcpu *vcpu)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();

	/*
	 * After a context switch the kernel restores FPU registers lazily,
	 * on the way back to userspace; the guest's FPU state must be in the
	 * registers before it runs.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	switch_perf_msrs(vcpu);

	if (cr3 != vcpu->host.cr3) {
		vmcs_writel(VMCS_HOST_CR3, cr3);
		vcpu->host.cr3 = cr3;
	}
	if (cr4 != vcpu->host.cr4) {
		vmcs_writel(VMCS_HOST_CR4, cr4);
		vcpu->host.cr4 = cr4;
	}
	if (vmx_host_osxsave && vcpu->guest_xcr0 != vmx_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->guest_xcr0);
	if (native_read_cr2() != vcpu->guest_cr2)
		native_write_cr2(vcpu->guest_cr2);
}

/*
 * A VM exit set DR7 to 0x400 and cleared IA32_DEBUGCTL (SDM Vol. 3C,
 * "Loading Host State"): put back the host's breakpoints and branch
 * tracing, and its XCR0.
 */
static void finish_exit(struct vmx_vcpu *vcpu)
{
	vcpu->guest_cr2 = native_read_cr2();
	if (vmx_host_osxsave && vcpu->guest_xcr0 != vmx_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vmx_host_xcr0);
	if (vcpu->host.debugctl)
		update_debugctlmsr(vcpu->host.debugctl);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
}

/*
 * An NMI that arrived while the guest ran caused an exit (NMI exiting) and
 * is still blocked: give it to the host's NMI handler now, with interrupts
 * off, through the non-IST entry and an IRET frame whose IRET unblocks
 * NMIs again.
 */
static void handle_nmi_irqoff(void)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTR_INFO);

	if ((info & (INTR_INFO_VALID | INTR_TYPE_MASK)) ==
	    (INTR_INFO_VALID | INTR_TYPE_NMI))
		vmx_do_nmi_irqoff();
}

/* T:080 A host interrupt that arrived in the guest
 * Back in C, interrupts still off.  An interrupt for the host that
 * arrived while the guest ran caused the exit.  With the "acknowledge
 * interrupt on exit" VM-exit control (SDM 25.7.1) the CPU has already
 * taken it from the local APIC and put its vector in the exit
 * information: nothing will deliver it unless vmxlab does, so the host
 * IDT's handler for that vector is called with the frame the CPU would
 * have pushed (as KVM and bhyve do).  Without the control, the interrupt
 * is still pending in the APIC and the host takes it through its IDT as
 * soon as interrupts are enabled.  An NMI exit is handed to the host's NMI
 * handler the same way, just before (handle_nmi_irqoff()).  Only after
 * interrupts are back on does the task's guest time end, so that a timer
 * tick that landed in the guest counts as guest time.
 */
static void handle_external_interrupt_irqoff(void)
{
	u32 info = vmcs_read32(VMCS_EXIT_INTR_INFO);
	struct desc_ptr idt;
	gate_desc *gate;

	if (!(info & INTR_INFO_VALID))
		return;		/* not acknowledged: the IDT takes it later */
	store_idt(&idt);
	gate = (gate_desc *)idt.address + (info & INTR_INFO_VECTOR_MASK);
	vmx_do_interrupt_irqoff(gate_offset(gate));
}

/*
 * The exit log (exit_log.c) and the vmxlab_inject and vmxlab_decision
 * tracepoints get one record per round trip, built in three steps: what
 * the entry injected (after vmx_inject_events()), what the exit reported
 * (before the handler moves RIP), and what the handler decided.  Only
 * while someone looks: run.c calls these behind vmx_exit_log_key, so that
 * without a reader the round trip pays one patched-out jump per step.
 */
static bool exit_log_wanted(struct vmx_vcpu *vcpu)
{
	return vcpu->xlog.ring || trace_vmxlab_decision_enabled() ||
	       trace_vmxlab_inject_enabled();
}

static void exit_log_entry(struct vmx_vcpu *vcpu)
{
	struct vmxlab_exit_record *rec = &vcpu->xlog.rec;

	if (!exit_log_wanted(vcpu))
		return;
	memset(rec, 0, sizeof(*rec));
	rec->entry_intr_info = vmcs_read32(VMCS_ENTRY_INTR_INFO);
	rec->inject_why = vcpu->events.why;
	trace_vmxlab_inject(vcpu->id, rec->entry_intr_info, rec->inject_why);
}

/* Before the handler: RIP still on the instruction that exited. */
static void exit_log_exit(struct vmx_vcpu *vcpu, u32 exit_reason)
{
	struct vmxlab_exit_record *rec = &vcpu->xlog.rec;
	u16 basic = exit_reason & 0xffff;

	if (!exit_log_wanted(vcpu))
		return;
	rec->tsc = rdtsc();
	rec->exit_reason = exit_reason;
	if (exit_reason & EXIT_REASON_FAILED_VMENTRY)
		return;		/* only the reason and qualification are valid */
	rec->rip = vmcs_readl(VMCS_GUEST_RIP);
	rec->qualification = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	rec->intr_info = vmcs_read32(VMCS_EXIT_INTR_INFO);
	rec->idt_vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);
	if (basic == EXIT_REASON_EPT_VIOLATION ||
	    basic == EXIT_REASON_EPT_MISCONFIG)
		rec->gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	if (basic == EXIT_REASON_EPT_VIOLATION &&
	    (rec->qualification & EPT_VIOLATION_GLA_VALID))
		rec->gla = vmcs_readl(VMCS_GUEST_LINEAR_ADDRESS);
}

/* After the handler: @r is its verdict, as the run loop will act on it. */
static void exit_log_finish(struct vmx_vcpu *vcpu, int r)
{
	struct vmxlab_exit_record *rec = &vcpu->xlog.rec;

	if (!exit_log_wanted(vcpu))
		return;
	rec->outcome = r > 0 ? VMXLAB_OUTCOME_RESUMED :
		       r == 0 ? VMXLAB_OUTCOME_USERSPACE : VMXLAB_OUTCOME_ERROR;
	if (vcpu->xlog.ring)
		vmx_exit_log_commit(vcpu);
	trace_vmxlab_decision(vcpu->id, rec);
}

/*
 * The world switch, framed as KVM frames it: while the guest runs, the
 * task's time is guest time (PF_VCPU), and the CPU is in guest context for
 * context tracking and in a quiescent state for RCU, so a guest that runs
 * long stalls neither.
 */
static int world_switch(struct vmx_vcpu *vcpu)
{
	int fail;

	guest_timing_enter_irqoff();
	guest_state_enter_irqoff();
	/* The L1D flush as late as C can do it (vmenter.S does the VERW). */
	if (vmx_mitig_before_entry(vcpu->l1d_flush_wanted))
		vcpu->stats.l1d_flushes++;
	vcpu->l1d_flush_wanted = false;
	fail = __vmx_vcpu_run(vcpu->regs, vcpu->vmcs.launched);
	guest_state_exit_irqoff();
	vmx_mitig_after_exit();
	finish_exit(vcpu);
	return fail;
}

/*
 * Interrupts still pending after the exit (every one, without
 * acknowledge-on-exit) are taken while the task still counts as in the
 * guest, so that timer ticks that landed in the guest are guest time; then
 * guest time ends (as in KVM's vcpu_enter_guest()).
 */
static void end_guest_time(void)
{
	local_irq_enable();
	/* STI holds interrupts off for one more instruction: give them one. */
	asm volatile("nop");
	local_irq_disable();
	guest_timing_exit_irqoff();
	local_irq_enable();
}

/* T:030 One round trip, interrupts off
 * From the last check for work to the exit, interrupts stay off: a host
 * interrupt that arrives now must cause an external-interrupt exit (the
 * pin-based control, SDM 25.6.1) rather than run a host handler between
 * the check and the entry.  The host takes it through its own IDT once
 * interrupts are enabled again after the exit.
 *
 * Events are decided only here, when nothing can stop the entry any more:
 * an event left in the entry field by an early return to userspace could
 * meet a changed guest state and make the entry fail.  Then everything
 * the VMCS does not switch is put in place: the guest's FPU registers if
 * a context switch left them for later (switch_fpu_return()), the perf
 * MSRs that must differ while the guest runs (into the VM-entry and
 * VM-exit MSR-load areas), the host CR3 and CR4 if they changed, the
 * guest's XCR0 and CR2.  world_switch() calls the assembly framed as KVM
 * frames it: the task's time is guest time, and the CPU is in guest
 * context for RCU and context tracking, so a long-running guest stalls
 * neither.  On the way back finish_exit() restores what the exit took
 * from the host (Documentation/host-state.rst lists every piece).
 *
 * It returns 0 after a VM exit (the exit reason in @exit_reason), -EAGAIN
 * when work for the task (a signal, a reschedule, ...) came first, -EIO
 * when VMLAUNCH or VMRESUME failed (VMfail).
 */
static int enter_guest(struct vmx_vcpu *vcpu, u32 *exit_reason)
{
	bool break_entry;
	u32 pin = 0;
	int fail;

	local_irq_disable();
	if (xfer_to_guest_mode_work_pending()) {
		local_irq_enable();
		return -EAGAIN;
	}
	/*
	 * Decide on events only now that nothing can stop the entry: an
	 * event put in the entry field and then left there by an early
	 * return to userspace could meet a changed guest state (say, IF
	 * cleared by SET_REGS) and make the entry fail.
	 */
	vmx_inject_events(vcpu);
	/* A step that injects ends at the handler (singlestep.c). */
	if (unlikely(vcpu->step.flags))
		vcpu->step.delivering = vmcs_read32(VMCS_ENTRY_INTR_INFO) &
					INTR_INFO_VALID;
	/* The record of this round trip begins: what went in, and why. */
	if (static_branch_unlikely(&vmx_exit_log_key))
		exit_log_entry(vcpu);
	/* VMREADs are not free: only when someone is tracing. */
	if (trace_vmxlab_entry_enabled())
		trace_vmxlab_entry(vcpu->id, vmcs_readl(VMCS_GUEST_RIP));
	prepare_entry(vcpu);
	vmx_timeslice_before_entry(vcpu);
	break_entry = vmx_fault_take(VMX_FAULT_VMFAIL);
	if (break_entry)
		pin = vmx_fault_break_controls();
	fail = world_switch(vcpu);
	if (break_entry)
		vmcs_write32(VMCS_PIN_BASED_CTLS, pin);
	if (fail) {
		end_guest_time();
		return -EIO;
	}
	*exit_reason = vmcs_read32(VMCS_EXIT_REASON);
	/* The CPU marks the VMCS launched only when the entry succeeded. */
	if (!(*exit_reason & EXIT_REASON_FAILED_VMENTRY))
		vcpu->vmcs.launched = true;
	if (*exit_reason == EXIT_REASON_EXCEPTION_NMI)
		handle_nmi_irqoff();
	else if (*exit_reason == EXIT_REASON_EXTERNAL_INTERRUPT)
		handle_external_interrupt_irqoff();
	end_guest_time();
	return 0;
}

/*
 * xfer_to_guest_mode_handle_work() takes a struct kvm_vcpu only to note a
 * signal exit in it (kvm_handle_signal_exit(): run->exit_reason and
 * stat.signal_exits).  vmxlab has no kvm_vcpu; it lends this scratch one,
 * shared by every vCPU and never read, and reports the exit in its own
 * run page.
 */
static struct kvm_run xfer_scratch_run;
static struct kvm_vcpu xfer_scratch_vcpu = { .run = &xfer_scratch_run };

/*
 * Entry failed before the guest ran.  @reason is the VM-instruction error
 * after a VMfail (a small number, SDM 31.4), or the full exit reason, bit
 * 31 set, after an entry that failed on invalid guest state (SDM 27.8).
 */
static int report_failed_entry(struct vmx_vcpu *vcpu, u64 reason)
{
	struct vmxlab_run *run = vcpu->run;

	/* A VMfail has no exit reason: the record gets bit 31 alone. */
	if (static_branch_unlikely(&vmx_exit_log_key)) {
		exit_log_exit(vcpu, reason & EXIT_REASON_FAILED_VMENTRY ?
				    reason : EXIT_REASON_FAILED_VMENTRY);
		vmx_decide(vcpu, VMXLAB_DECISION_FAILED_ENTRY, reason, 0);
		exit_log_finish(vcpu, 0);
	}
	vcpu->stats.failed_entries++;
	if (!vcpu->unknown_exit_dumped) {
		vcpu->unknown_exit_dumped = true;
		vmx_dump_vmcs(vcpu);
	}
	run->exit_reason = VMXLAB_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = raw_smp_processor_id();
	return 0;
}

/* T:020 The run loop
 * Most exits never reach userspace: vmxlab handles them and goes straight
 * back in.  This loop is what makes that cheap.  Before every entry it
 * does what the task owes, exactly as a return to user mode would
 * (xfer_to_guest_mode_handle_work(): give the CPU away if the scheduler
 * wants it, run task work, update the rseq area), because a guest that
 * never exits to userspace must not starve the rest of the system.  A
 * pending signal ends the run with VMXLAB_EXIT_INTR.  The loop ends when
 * a handler returns 0 (the run page says why) or an error; on the way out
 * the run page also gets if_flag and ready_for_interrupt_injection, so
 * that the VMM knows whether an interrupt it queues now can go in at the
 * next entry (vmx_events_report()).
 */
/**
 * vmx_vcpu_run() - run the guest until an exit needs userspace
 * @vcpu: loaded, with any pending I/O or MMIO already completed
 *
 * Return: 0 with vcpu->run describing the exit, -EINTR when a signal
 * is pending (run->exit_reason = VMXLAB_EXIT_INTR), or -errno.
 */
int vmx_vcpu_run(struct vmx_vcpu *vcpu)
{
	u32 exit_reason;
	int r;

	vcpu->l1d_flush_wanted = true;	/* user space ran */
	/* Read once: userspace may rewrite the page while we run. */
	vcpu->events.window_requested =
		READ_ONCE(vcpu->run->request_interrupt_window);
	for (;;) {
		/*
		 * What the task owes before it may run the guest, done as for
		 * a return to user mode (KVM does the same): a reschedule,
		 * task work, the rseq CPU number, memcg throttling; a signal
		 * ends the run.
		 */
		if (__xfer_to_guest_mode_work_pending() &&
		    xfer_to_guest_mode_handle_work(&xfer_scratch_vcpu)) {
			vcpu->run->exit_reason = VMXLAB_EXIT_INTR;
			r = -EINTR;
			break;
		}
		if (unlikely(vcpu_is_shadow(vcpu)) && vmx_shadow_cannot_run(vcpu)) {
			r = 0;
			break;
		}

		r = enter_guest(vcpu, &exit_reason);
		if (r == -EAGAIN)
			continue;
		if (r == -EIO) {
			r = report_failed_entry(vcpu,
						vmcs_read32(VMCS_INSTRUCTION_ERROR));
			break;
		}
		if (exit_reason & EXIT_REASON_FAILED_VMENTRY) {
			r = report_failed_entry(vcpu, exit_reason);
			break;
		}
		if (static_branch_unlikely(&vmx_exit_log_key))
			exit_log_exit(vcpu, exit_reason);

		if (trace_vmxlab_exit_enabled())
			trace_vmxlab_exit(vcpu->id, exit_reason,
					  vmcs_readl(VMCS_GUEST_RIP),
					  vmcs_readl(VMCS_EXIT_QUALIFICATION));
		vmx_events_after_exit(vcpu, exit_reason & 0xffff);
		r = vmx_handle_exit(vcpu, exit_reason & 0xffff);
		/*
		 * Stepping: an instruction vmxlab emulated and resumed after
		 * is a step; one whose exit goes to userspace ends its step
		 * with that exit.
		 */
		if (unlikely(vcpu->step.retired)) {
			if (r > 0)
				r = vmx_step_end_emulated(vcpu);
			else
				vcpu->step.retired = false;
		}
		if (static_branch_unlikely(&vmx_exit_log_key))
			exit_log_finish(vcpu, r);
		if (r <= 0)
			break;
	}
	vmx_events_report(vcpu);
	return r;
}

/* A VPID is about to be reused: no CPU may keep its translations. */
void vmx_flush_vpid_all_cpus(u16 vpid)
{
	on_each_cpu(flush_vpid_this_cpu, (void *)(unsigned long)vpid, 1);
}
