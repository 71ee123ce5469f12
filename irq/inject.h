/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The injection decision: before every VM entry, given what is queued for
 * the guest and whether the guest can take it, what to inject now and
 * which window exits to ask for.  Pure logic, used by vmx/events.c and by
 * the userspace unit tests (selftests/unit/inject_test.c).
 */
#ifndef VMXLAB_INJECT_H
#define VMXLAB_INJECT_H

#include <linux/types.h>
#include <uapi/linux/vmxlab.h>

/* What the decision depends on, read from the VMCS and the vCPU. */
struct inject_state {
	bool rflags_if;			/* guest RFLAGS.IF */
	bool sti_blocking;		/* the instruction after STI */
	bool mov_ss_blocking;		/* the instruction after MOV SS/POP SS */
	bool nmi_blocking;		/* an NMI handler is running */
	bool event_pending;		/* an event already fills the entry field */
	bool exception_queued;		/* from VMXLAB_INJECT_EXCEPTION */
	bool nmi_queued;		/* from VMXLAB_NMI */
	unsigned int irqs_queued;	/* from VMXLAB_INTERRUPT */
	bool window_requested;		/* run->request_interrupt_window */
	bool nmi_window_supported;	/* virtual NMIs and NMI-window exiting */
};

enum inject_event {
	INJECT_NOTHING,
	INJECT_EXCEPTION,
	INJECT_NMI,
	INJECT_IRQ,
};

struct inject_decision {
	enum inject_event inject;	/* at most one event per entry */
	bool irq_window;		/* set interrupt-window exiting */
	bool nmi_window;		/* set NMI-window exiting */
	/* Why the first event that waits does: VMXLAB_INJECT_* (the log). */
	enum vmxlab_inject_why why;
};

/*
 * An exception raised while the CPU delivered an earlier event (SDM Vol.
 * 3A, 6.15, "Interrupt 8", Table 6-5): what the guest gets.
 */
enum inject_combination {
	COMBINE_SECOND,		/* deliver the new exception */
	COMBINE_SECOND_REQUEUE,	/* the same, then the earlier event again */
	COMBINE_DOUBLE_FAULT,	/* #DF(0) instead of both */
	COMBINE_SHUTDOWN,	/* a fault while delivering #DF: triple fault */
};

/* Event types of the IDT-vectoring information field (SDM Table 25-17). */
#define INJECT_TYPE_EXT_INTR	0
#define INJECT_TYPE_NMI		2
#define INJECT_TYPE_HARD_EXC	3

enum inject_combination inject_combine(bool first_valid,
				       unsigned int first_type,
				       unsigned int first_vector,
				       unsigned int second_vector);
void inject_decide(const struct inject_state *s, struct inject_decision *d);
bool inject_irq_allowed(const struct inject_state *s);
bool inject_nmi_allowed(const struct inject_state *s);
bool inject_exception_has_error_code(unsigned int vector, bool cet_loadable);

#endif /* VMXLAB_INJECT_H */
