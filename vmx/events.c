// SPDX-License-Identifier: GPL-2.0
/*
 * Events for the guest: what userspace queues (interrupts, NMIs,
 * exceptions), what the CPU was delivering when an exit cut in (the
 * IDT-vectoring information), and -- just before every VM entry -- which
 * one goes into the VM-entry interruption-information field.  The decision
 * itself is irq/inject.c; this file moves state between it and the VMCS.
 * SDM Vol. 3C, 26.6 (event injection) and 28.2.4 (IDT-vectoring info).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/errno.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include "../irq/inject.h"
#include "vcpu.h"
#include "vmcs.h"

/* #CP's error code depends on what VM entry can do (irq/inject.c). */
static bool exception_has_error_code(u32 vector)
{
	return inject_exception_has_error_code(vector,
			(vmx_caps.msr_entry >> 32) & ENTRY_CTL_LOAD_CET_STATE);
}

int vmx_queue_interrupt(struct vmx_vcpu *vcpu, u32 vector)
{
	struct vmx_events *ev = &vcpu->events;

	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (ev->irq_count == VMXLAB_IRQ_QUEUE_LEN)
		return -EBUSY;
	ev->irq_queue[(ev->irq_head + ev->irq_count) % VMXLAB_IRQ_QUEUE_LEN] =
		vector;
	ev->irq_count++;
	return 0;
}

int vmx_queue_nmi(struct vmx_vcpu *vcpu)
{
	vcpu->events.nmi_queued = true;
	return 0;
}

/*
 * Error-code bits VM entry refuses: the SDM's checks on VM-entry event
 * injection (Vol. 3C, "Checks on VM-Execution Control Fields") require
 * bits 31:16 of the error code to be 0.  Refused here, where the caller
 * hears about it, rather than at every following entry.
 */
#define INJECT_ERROR_CODE_BAD_BITS	GENMASK(31, 16)

int vmx_queue_exception(struct vmx_vcpu *vcpu, const struct vmxlab_exception *e)
{
	struct vmx_events *ev = &vcpu->events;
	bool has_error = e->flags & VMXLAB_EXCEPTION_HAS_ERROR_CODE;

	if (e->vector > 31 || e->vector == X86_TRAP_NMI || e->padding ||
	    (e->flags & ~(VMXLAB_EXCEPTION_HAS_ERROR_CODE |
			  VMXLAB_EXCEPTION_HAS_CR2)) ||
	    has_error != exception_has_error_code(e->vector) ||
	    (has_error && (e->error_code & INJECT_ERROR_CODE_BAD_BITS)) ||
	    ((e->flags & VMXLAB_EXCEPTION_HAS_CR2) && e->vector != X86_TRAP_PF))
		return -EINVAL;
	if (ev->exception_queued)
		return -EBUSY;
	ev->exception = *e;
	ev->exception_queued = true;
	return 0;
}

/*
 * Software interrupts and exceptions, and ICEBP's #DB, are delivered
 * after their instruction: injecting one again needs its length.
 */
static bool event_after_insn(u32 type)
{
	return type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
	       type == INTR_TYPE_PRIV_SW_EXCEPTION;
}

/*
 * An exit interrupted the delivery of an event (say, an EPT violation on
 * the guest's IDT or stack): the CPU reports it in the IDT-vectoring
 * field, and it must be delivered again on the next entry, exactly once.
 */
static void save_interrupted_event(struct vmx_vcpu *vcpu, u32 info)
{
	struct vmx_events *ev = &vcpu->events;
	u32 type = info & INTR_TYPE_MASK;

	ev->reinject_info = info & (INTR_INFO_VALID | INTR_TYPE_MASK |
				    INTR_INFO_VECTOR_MASK |
				    INTR_INFO_DELIVER_ERROR_CODE);
	ev->reinject_error_code = vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE);
	/*
	 * Delivering the NMI had begun, so the CPU blocked NMIs; VM entry
	 * refuses to inject an NMI while they are blocked (SDM 27.3.1.5), and
	 * the re-injected delivery will block them again.
	 */
	if (type == INTR_TYPE_NMI)
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY,
			     vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) &
			     ~GUEST_INTR_NMI_BLOCKING);
	ev->reinject_insn_len = event_after_insn(type) ?
				vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN) : 0;
}

/*
 * With virtual NMIs, an IRET that unblocked NMIs and then faulted (an EPT
 * violation, an intercepted exception) did not complete: block NMIs again
 * before it runs a second time (SDM Vol. 3C, 28.2.3).  Only when the exit
 * interrupted no event delivery: the bit is undefined then.
 */
static void restore_nmi_blocking(u32 exit_reason)
{
	bool unblocked = false;

	if (exit_reason != EXIT_REASON_EPT_VIOLATION &&
	    exit_reason != EXIT_REASON_EXCEPTION_NMI)
		return;
	if (!(vmcs_read32(VMCS_PIN_BASED_CTLS) & PIN_CTL_VIRTUAL_NMIS))
		return;
	if (exit_reason == EXIT_REASON_EPT_VIOLATION)
		unblocked = vmcs_readl(VMCS_EXIT_QUALIFICATION) &
			    EPT_VIOLATION_NMI_UNBLOCKING;
	else if (exit_reason == EXIT_REASON_EXCEPTION_NMI)
		unblocked = vmcs_read32(VMCS_EXIT_INTR_INFO) &
			    INTR_INFO_NMI_UNBLOCK_IRET;
	if (unblocked)
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY,
			     vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) |
			     GUEST_INTR_NMI_BLOCKING);
}

/* T:090 What the exit interrupted
 * Called after every VM exit, before the exit handler.  An exit can cut
 * into the delivery of an event: the guest's IDT entry sits on a page the
 * EPT does not map yet, say.  The CPU then reports the event in the
 * IDT-vectoring information (SDM 28.2.4), and the guest never saw it: it
 * is saved here to be injected again at the next entry, whatever the
 * handler does.  With virtual NMIs, an IRET that unblocked NMIs and then
 * faulted did not complete, so NMI blocking is restored before it runs a
 * second time.
 */
void vmx_events_after_exit(struct vmx_vcpu *vcpu, u32 exit_reason)
{
	u32 info = vmcs_read32(VMCS_IDT_VECTORING_INFO);

	if (info & INTR_INFO_VALID)
		save_interrupted_event(vcpu, info);
	else
		restore_nmi_blocking(exit_reason);
}

static void write_entry_event(u32 info, u32 error_code, u32 insn_len)
{
	/*
	 * A hardware exception pushes an error code if its vector does and
	 * the guest is in protected mode, and VM entry insists on exactly
	 * that (SDM Vol. 3C, checks on VM-entry event injection).  The mode
	 * may have changed since the event was chosen (SET_SREGS while it
	 * waited in userspace), either way: decide again here.  An error
	 * code dropped in real mode is not known any more: 0.
	 */
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION) {
		bool push = (vmcs_readl(VMCS_GUEST_CR0) & X86_CR0_PE) &&
			    exception_has_error_code(info & INTR_INFO_VECTOR_MASK);

		if (push && !(info & INTR_INFO_DELIVER_ERROR_CODE))
			error_code = 0;
		info = push ? info | INTR_INFO_DELIVER_ERROR_CODE :
			      info & ~INTR_INFO_DELIVER_ERROR_CODE;
	}
	if (info & INTR_INFO_DELIVER_ERROR_CODE)
		vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	if (insn_len)
		vmcs_write32(VMCS_ENTRY_INSTRUCTION_LEN, insn_len);
	vmcs_write32(VMCS_ENTRY_INTR_INFO, info);
}

static void inject_queued_exception(struct vmx_vcpu *vcpu)
{
	struct vmx_events *ev = &vcpu->events;

	if (ev->exception.flags & VMXLAB_EXCEPTION_HAS_CR2)
		vcpu->guest_cr2 = ev->exception.cr2;
	vmx_inject_exception(vcpu, ev->exception.vector,
			     ev->exception.flags & VMXLAB_EXCEPTION_HAS_ERROR_CODE,
			     ev->exception.error_code);
	ev->exception_queued = false;
}

static void inject_queued_irq(struct vmx_vcpu *vcpu)
{
	struct vmx_events *ev = &vcpu->events;
	u8 vector = ev->irq_queue[ev->irq_head];

	ev->irq_head = (ev->irq_head + 1) % VMXLAB_IRQ_QUEUE_LEN;
	ev->irq_count--;
	write_entry_event(vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID, 0, 0);
	vcpu->stats.injected_irqs++;
}

static void read_inject_state(struct vmx_vcpu *vcpu, struct inject_state *s)
{
	u32 intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
	struct vmx_events *ev = &vcpu->events;

	*s = (struct inject_state) {
		.rflags_if = vmcs_readl(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF,
		.sti_blocking = intr & GUEST_INTR_STI_BLOCKING,
		.mov_ss_blocking = intr & GUEST_INTR_MOV_SS_BLOCKING,
		.nmi_blocking = intr & GUEST_INTR_NMI_BLOCKING,
		.event_pending = vmcs_read32(VMCS_ENTRY_INTR_INFO) &
				 INTR_INFO_VALID,
		.exception_queued = ev->exception_queued,
		.nmi_queued = ev->nmi_queued,
		.irqs_queued = ev->irq_count,
		.window_requested = ev->window_requested,
		.nmi_window_supported = vmcs_read32(VMCS_PIN_BASED_CTLS) &
					PIN_CTL_VIRTUAL_NMIS,
	};
}

static void set_window_exiting(struct vmx_events *ev, bool irq_window,
			       bool nmi_window)
{
	u32 proc = vmcs_read32(VMCS_PROC_BASED_CTLS);
	u32 want = proc & ~(PROC_CTL_INTR_WINDOW_EXITING |
			    PROC_CTL_NMI_WINDOW_EXITING);

	if (irq_window)
		want |= PROC_CTL_INTR_WINDOW_EXITING;
	if (nmi_window)
		want |= PROC_CTL_NMI_WINDOW_EXITING;
	if (want != proc)
		vmcs_write32(VMCS_PROC_BASED_CTLS, want);
	ev->windows_armed = irq_window || nmi_window;
}

/* Nothing queued, nothing to redo, no window to open or close. */
static bool nothing_to_inject(const struct vmx_events *ev)
{
	return !ev->reinject_info && !ev->exception_queued &&
	       !ev->nmi_queued && !ev->irq_count && !ev->window_requested &&
	       !ev->windows_armed;
}

/*
 * The work of vmx_inject_events() when there is some.  Out of line: its
 * locals are zeroed on entry (CONFIG_INIT_STACK_ALL_ZERO) and need the
 * stack protector, which every entry with nothing queued would pay for.
 */
static noinline void inject_pending_events(struct vmx_vcpu *vcpu)
{
	struct vmx_events *ev = &vcpu->events;
	struct inject_decision d;
	struct inject_state s;

	if (ev->reinject_info &&
	    !(vmcs_read32(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID))
		write_entry_event(ev->reinject_info, ev->reinject_error_code,
				  ev->reinject_insn_len);
	ev->reinject_info = 0;

	read_inject_state(vcpu, &s);
	inject_decide(&s, &d);
	ev->why = d.why;
	switch (d.inject) {
	case INJECT_EXCEPTION:
		inject_queued_exception(vcpu);
		break;
	case INJECT_NMI:
		write_entry_event(X86_TRAP_NMI | INTR_TYPE_NMI | INTR_INFO_VALID,
				  0, 0);
		ev->nmi_queued = false;
		break;
	case INJECT_IRQ:
		inject_queued_irq(vcpu);
		break;
	case INJECT_NOTHING:
		break;
	}
	set_window_exiting(ev, d.irq_window, d.nmi_window);
}

/* T:040 Events for the guest
 * The guest cannot be interrupted by the physical CPU's devices: vmxlab
 * delivers what userspace queued (interrupts, NMIs, exceptions) by
 * writing the VM-entry interruption-information field, and the CPU
 * delivers the event through the guest's IDT as part of the entry (SDM
 * chapter 27, event injection).  One event fits per entry.  An event
 * whose delivery an exit interrupted (the IDT-vectoring information saved
 * after the last exit) goes first, because the guest never saw it
 * happen.  The rest is decided by a pure function, so that the unit
 * tests can check the rules without a CPU: Documentation/interrupts.rst
 * tells the whole story.
 */
/**
 * vmx_inject_events() - fill the VM-entry event field for the next entry
 * @vcpu: loaded
 *
 * First an event whose delivery an exit interrupted; then what
 * inject_decide() picks from the queues.  Most entries have nothing to
 * do, and return at once: this runs on every round trip.
 */
void vmx_inject_events(struct vmx_vcpu *vcpu)
{
	if (!nothing_to_inject(&vcpu->events))
		inject_pending_events(vcpu);
}

/*
 * An exit handler (or the completion of an IN/INS) may have put an event
 * in the VM-entry field, and then the run returned to userspace before
 * the entry (a signal, immediate_exit).  Userspace may change the guest
 * state before the next run, so the event goes back to the queue and is
 * written again -- checked against the state then -- by the next
 * vmx_inject_events().
 */
static void requeue_entry_event(struct vmx_vcpu *vcpu)
{
	u32 info = vmcs_read32(VMCS_ENTRY_INTR_INFO);
	struct vmx_events *ev = &vcpu->events;
	u32 type = info & INTR_TYPE_MASK;

	if (!(info & INTR_INFO_VALID))
		return;
	ev->reinject_info = info;
	ev->reinject_error_code = vmcs_read32(VMCS_ENTRY_EXCEPTION_ERROR_CODE);
	ev->reinject_insn_len = event_after_insn(type) ?
				vmcs_read32(VMCS_ENTRY_INSTRUCTION_LEN) : 0;
	vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
}

/*
 * Put an interrupted external interrupt or NMI back in its queue: at the
 * front, since it came before everything queued after it.
 */
static void requeue_interrupted(struct vmx_vcpu *vcpu, u32 info)
{
	struct vmx_events *ev = &vcpu->events;

	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		ev->nmi_queued = true;
		return;
	}
	if (ev->irq_count == VMXLAB_IRQ_QUEUE_LEN)
		return;		/* cannot happen: it left this queue */
	ev->irq_head = (ev->irq_head + VMXLAB_IRQ_QUEUE_LEN - 1) %
		       VMXLAB_IRQ_QUEUE_LEN;
	ev->irq_queue[ev->irq_head] = info & INTR_INFO_VECTOR_MASK;
	ev->irq_count++;
}

/**
 * vmx_reflect_exception() - give the guest an exception its access raised
 * @vcpu:       the vCPU, in an exit handler
 * @vector:     the exception (a reflected #PF, say)
 * @has_error:  it pushes an error code
 * @error_code: the error code
 *
 * If the exit interrupted the delivery of another event, the two combine
 * as the CPU would combine them (irq/inject.c: inject_combine()).
 *
 * Return: the exit-handler contract: 1, or 0 with a shutdown exit.
 */
int vmx_reflect_exception(struct vmx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code)
{
	struct vmx_events *ev = &vcpu->events;
	u32 first = ev->reinject_info;

	switch (inject_combine(first & INTR_INFO_VALID,
			       (first & INTR_TYPE_MASK) >> 8,
			       first & INTR_INFO_VECTOR_MASK, vector)) {
	case COMBINE_SHUTDOWN:
		ev->reinject_info = 0;
		vcpu->run->exit_reason = VMXLAB_EXIT_SHUTDOWN;
		vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_SHUTDOWN, vector, 0);
		return 0;
	case COMBINE_DOUBLE_FAULT:
		vector = X86_TRAP_DF;
		has_error = true;
		error_code = 0;
		break;
	case COMBINE_SECOND_REQUEUE:
		requeue_interrupted(vcpu, first);
		break;
	case COMBINE_SECOND:
		break;
	}
	ev->reinject_info = 0;
	vmx_inject_exception(vcpu, vector, has_error, error_code);
	return 1;
}

/* What userspace learns on the way out of VMXLAB_RUN (KVM's meaning). */
void vmx_events_report(struct vmx_vcpu *vcpu)
{
	struct inject_state s;

	requeue_entry_event(vcpu);
	read_inject_state(vcpu, &s);
	vcpu->run->if_flag = s.rflags_if;
	vcpu->run->ready_for_interrupt_injection =
		inject_irq_allowed(&s) && !s.irqs_queued;
}

/*
 * The guest can take an interrupt now.  Whatever is queued goes in on the
 * next entry; if userspace asked for the window, tell it.
 */
int vmx_handle_interrupt_window(struct vmx_vcpu *vcpu)
{
	if (!vcpu->events.irq_count && vcpu->events.window_requested) {
		vcpu->run->exit_reason = VMXLAB_EXIT_IRQ_WINDOW_OPEN;
		vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_IRQ_WINDOW, 0, 0);
		return 0;
	}
	vmx_decide(vcpu, VMXLAB_DECISION_WINDOW_OPEN, vcpu->events.irq_count, 0);
	return 1;
}

/* NMIs are unblocked: the queued NMI goes in on the next entry. */
int vmx_handle_nmi_window(struct vmx_vcpu *vcpu)
{
	vmx_decide(vcpu, VMXLAB_DECISION_WINDOW_OPEN, 0, 1);
	return 1;
}
