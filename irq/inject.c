// SPDX-License-Identifier: GPL-2.0
/*
 * When may a virtual interrupt be injected?  The question this project
 * started from, answered the way KVM and bhyve answer it: inject when the
 * guest could take the interrupt right now; otherwise ask the CPU for an
 * interrupt-window exit, which comes the moment the guest can (SDM Vol. 3C,
 * 26.7.5), and inject then.  Documentation/interrupts.rst walks through it.
 *
 * Pure logic: vmx/events.c fills struct inject_state from the VMCS before
 * each entry and applies the decision; unit tests drive it directly.
 */
#include "inject.h"

/*
 * An external interrupt is delivered only with RFLAGS.IF = 1 and no
 * STI or MOV-SS blocking (SDM Vol. 3A, 6.8.3; Vol. 3C, 25.4.2).
 */
bool inject_irq_allowed(const struct inject_state *s)
{
	return s->rflags_if && !s->sti_blocking && !s->mov_ss_blocking;
}

/*
 * An NMI is held off while an NMI handler runs (until IRET) and, to keep
 * VM entry's consistency checks happy, in the STI and MOV-SS shadows
 * (SDM Vol. 3C, 27.3.1.5).
 */
bool inject_nmi_allowed(const struct inject_state *s)
{
	return !s->nmi_blocking && !s->sti_blocking && !s->mov_ss_blocking;
}

/* Why an interrupt the guest cannot take now waits. */
static enum vmxlab_inject_why irq_held_why(const struct inject_state *s,
					   bool busy)
{
	if (busy)
		return VMXLAB_INJECT_HELD_BUSY;
	if (!s->rflags_if)
		return VMXLAB_INJECT_HELD_IF;
	if (s->sti_blocking)
		return VMXLAB_INJECT_HELD_STI;
	return VMXLAB_INJECT_HELD_MOV_SS;
}

/* Why an NMI the guest cannot take now waits. */
static enum vmxlab_inject_why nmi_held_why(const struct inject_state *s,
					   bool busy)
{
	if (busy)
		return VMXLAB_INJECT_HELD_BUSY;
	if (s->nmi_blocking)
		return VMXLAB_INJECT_HELD_NMI_BLOCKED;
	if (s->sti_blocking)
		return VMXLAB_INJECT_HELD_STI;
	return VMXLAB_INJECT_HELD_MOV_SS;
}

/* T:050 Which event goes in, and which window opens
 * The priority of events is the architecture's (SDM Vol. 3A, 6.9), and
 * whether the guest can take one depends on RFLAGS.IF, the STI and MOV-SS
 * shadows and NMI blocking (the interruptibility state, SDM Table 25-3).
 * An event the guest cannot take now is not dropped and not forced: the
 * interrupt-window or NMI-window exiting control makes the CPU exit at
 * the first instruction boundary where it could (SDM 26.7.5, 26.7.6), and
 * the next entry injects it.  This file knows nothing of the VMCS, so the
 * same code is compiled into the userspace unit tests.
 */
/**
 * inject_decide() - what to inject on this VM entry, and which windows
 * @s: the guest's state and what is queued
 * @d: out: the decision
 *
 * One event per entry, in the architectural priority order: an event
 * already in the entry field (re-injection after an exit during
 * delivery), then an exception, an NMI, an external interrupt.  Whatever
 * cannot go now makes the CPU exit as soon as it could: interrupt-window
 * exiting for an interrupt (or when userspace asked for a window),
 * NMI-window exiting for an NMI.  That includes the interrupts queued
 * behind the one injected now: the next goes in as soon as the guest can
 * take it again (usually at the IRET of the first one's handler), not at
 * whatever exit happens to come next.  @d->why says why the first event
 * that waits does (the exit log shows it): the entry field is taken,
 * RFLAGS.IF is 0, a shadow, NMI blocking; VMXLAB_INJECT_NONE when nothing
 * waits.
 */
void inject_decide(const struct inject_state *s, struct inject_decision *d)
{
	bool busy = s->event_pending;

	d->inject = INJECT_NOTHING;
	d->irq_window = false;
	d->nmi_window = false;
	d->why = VMXLAB_INJECT_NONE;

	if (s->exception_queued) {
		if (!busy) {
			d->inject = INJECT_EXCEPTION;
			busy = true;
		} else {
			d->why = VMXLAB_INJECT_HELD_BUSY;
		}
	}
	if (s->nmi_queued) {
		if (!busy && inject_nmi_allowed(s)) {
			d->inject = INJECT_NMI;
			busy = true;
		} else {
			if (!d->why)
				d->why = nmi_held_why(s, busy);
			d->nmi_window = s->nmi_window_supported;
		}
	}
	if (s->irqs_queued) {
		if (!busy && inject_irq_allowed(s)) {
			d->inject = INJECT_IRQ;
			d->irq_window = s->irqs_queued > 1;
			if (d->irq_window && !d->why)
				d->why = VMXLAB_INJECT_HELD_BUSY;
		} else {
			d->irq_window = true;
			if (!d->why)
				d->why = irq_held_why(s, busy);
		}
	} else if (s->window_requested) {
		d->irq_window = true;
		if (!d->why)
			d->why = VMXLAB_INJECT_WINDOW_REQUESTED;
	}
}

/**
 * inject_exception_has_error_code() - must an injected exception carry one?
 * @vector:       exception vector, 0-31
 * @cet_loadable: the CPU allows the "load CET state" VM-entry control
 *
 * The exceptions that push an error code (SDM Vol. 3A, Table 6-1), as VM
 * entry checks them (SDM Vol. 3C, checks on VM-entry event injection):
 * #DF, #TS, #NP, #SS, #GP, #PF, #AC, and #CP only on a processor whose
 * VM entry can load CET state -- elsewhere an error code for vector 21
 * fails the entry.
 *
 * Return: true if the exception delivers an error code.
 */
bool inject_exception_has_error_code(unsigned int vector, bool cet_loadable)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17:
		return true;
	case 21:
		return cet_loadable;
	default:
		return false;
	}
}

/* #DE, #TS, #NP, #SS, #GP: the contributory exceptions (Table 6-4). */
static bool contributory(unsigned int vector)
{
	return vector == 0 || (vector >= 10 && vector <= 13);
}

/**
 * inject_combine() - a fault raised during the delivery of another event
 * @first_valid:   an event was being delivered (IDT-vectoring info valid)
 * @first_type:    its type: INJECT_TYPE_* or a software event
 * @first_vector:  its vector
 * @second_vector: the exception its delivery raised
 *
 * SDM Vol. 3A, Table 6-5: a contributory exception or #PF during a #PF,
 * or a contributory one during a contributory one, is a double fault; any
 * of those during #DF shuts the processor down.  Everything else is
 * delivered serially: the new exception first.  An external interrupt or
 * NMI would be lost by that, as nothing re-creates it: it goes back to
 * the queue, to be delivered once the exception's handler can take it.  A
 * software interrupt or an exception the instruction raises comes back
 * when the instruction runs again.
 *
 * Return: what to deliver.
 */
enum inject_combination inject_combine(bool first_valid,
				       unsigned int first_type,
				       unsigned int first_vector,
				       unsigned int second_vector)
{
	bool second_bad = contributory(second_vector) || second_vector == 14;

	if (!first_valid)
		return COMBINE_SECOND;
	if (first_type == INJECT_TYPE_EXT_INTR || first_type == INJECT_TYPE_NMI)
		return COMBINE_SECOND_REQUEUE;
	if (first_type != INJECT_TYPE_HARD_EXC)
		return COMBINE_SECOND;
	if (first_vector == 8 && second_bad)
		return COMBINE_SHUTDOWN;
	if (first_vector == 14 && second_bad)
		return COMBINE_DOUBLE_FAULT;
	if (contributory(first_vector) && contributory(second_vector))
		return COMBINE_DOUBLE_FAULT;
	return COMBINE_SECOND;
}
