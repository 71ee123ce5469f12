// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of irq/inject.c, the decision taken before every VM entry:
 * inject an event now, or ask for an interrupt- or NMI-window exit.
 * Expected outcomes follow SDM Vol. 3A 6.8.3 / 6.9 and Vol. 3C 26.7.5.
 */
#include <stdbool.h>
#include <string.h>
#include <linux/types.h>

#include "kselftest_harness.h"

typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;
#include "../../irq/inject.h"

/* A guest that can take anything: IF=1, no shadow, no NMI handler running. */
static struct inject_state open_guest(void)
{
	struct inject_state s;

	memset(&s, 0, sizeof(s));
	s.rflags_if = true;
	s.nmi_window_supported = true;
	return s;
}

static struct inject_decision decide(const struct inject_state *s)
{
	struct inject_decision d;

	memset(&d, 0xa5, sizeof(d));	/* the decision must set every field */
	inject_decide(s, &d);
	return d;
}

TEST(nothing_queued_does_nothing)
{
	struct inject_state s = open_guest();
	struct inject_decision d = decide(&s);

	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_FALSE(d.irq_window);
	EXPECT_FALSE(d.nmi_window);
}

TEST(irq_goes_in_when_guest_interruptible)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	d = decide(&s);
	EXPECT_EQ(INJECT_IRQ, d.inject);
	EXPECT_FALSE(d.irq_window);
}

/* The next of several queued goes in as soon as the guest can take it. */
TEST(irq_behind_injected_one_asks_for_window)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 3;
	d = decide(&s);
	EXPECT_EQ(INJECT_IRQ, d.inject);
	EXPECT_TRUE(d.irq_window);
}

TEST(irq_waits_for_window_when_if_clear)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	s.rflags_if = false;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.irq_window);
}

TEST(irq_waits_in_sti_shadow)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	s.sti_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.irq_window);
}

TEST(irq_waits_in_mov_ss_shadow)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	s.mov_ss_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.irq_window);
}

/* NMI blocking does not hold off maskable interrupts. */
TEST(irq_not_blocked_by_nmi_blocking)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	s.nmi_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_IRQ, d.inject);
}

/* A re-injected event owns the entry: the interrupt waits for a window. */
TEST(irq_waits_behind_reinjected_event)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.irqs_queued = 1;
	s.event_pending = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.irq_window);
}

TEST(exception_before_nmi_before_irq)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.exception_queued = true;
	s.nmi_queued = true;
	s.irqs_queued = 1;
	d = decide(&s);
	EXPECT_EQ(INJECT_EXCEPTION, d.inject);
	EXPECT_TRUE(d.nmi_window);
	EXPECT_TRUE(d.irq_window);

	s.exception_queued = false;
	d = decide(&s);
	EXPECT_EQ(INJECT_NMI, d.inject);
	EXPECT_FALSE(d.nmi_window);
	EXPECT_TRUE(d.irq_window);
}

/* Exceptions are not maskable: IF=0 and the shadows do not delay them. */
TEST(exception_ignores_if_and_shadows)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.exception_queued = true;
	s.rflags_if = false;
	s.sti_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_EXCEPTION, d.inject);
}

TEST(exception_waits_behind_reinjected_event)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.exception_queued = true;
	s.event_pending = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
}

TEST(nmi_ignores_if)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.nmi_queued = true;
	s.rflags_if = false;
	d = decide(&s);
	EXPECT_EQ(INJECT_NMI, d.inject);
}

TEST(nmi_waits_while_blocked)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.nmi_queued = true;
	s.nmi_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.nmi_window);
	EXPECT_FALSE(d.irq_window);
}

TEST(nmi_waits_in_shadows)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.nmi_queued = true;
	s.mov_ss_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.nmi_window);
	s.mov_ss_blocking = false;
	s.sti_blocking = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.nmi_window);
}

/* Without virtual NMIs there is no NMI window to ask for. */
TEST(nmi_without_window_support)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.nmi_queued = true;
	s.nmi_blocking = true;
	s.nmi_window_supported = false;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_FALSE(d.nmi_window);
}

TEST(window_requested_with_nothing_queued)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.window_requested = true;
	d = decide(&s);
	EXPECT_EQ(INJECT_NOTHING, d.inject);
	EXPECT_TRUE(d.irq_window);
	s.rflags_if = false;
	d = decide(&s);
	EXPECT_TRUE(d.irq_window);
}

/* why: the reason the first event that waits does, for the exit log. */
TEST(why_nothing_waits)
{
	struct inject_state s = open_guest();

	EXPECT_EQ(VMXLAB_INJECT_NONE, decide(&s).why);
	s.irqs_queued = 1;
	EXPECT_EQ(VMXLAB_INJECT_NONE, decide(&s).why);
	s.irqs_queued = 0;
	s.exception_queued = true;
	EXPECT_EQ(VMXLAB_INJECT_NONE, decide(&s).why);
}

TEST(why_irq_held_by_if)
{
	struct inject_state s = open_guest();

	s.irqs_queued = 1;
	s.rflags_if = false;
	EXPECT_EQ(VMXLAB_INJECT_HELD_IF, decide(&s).why);
}

TEST(why_irq_held_by_shadows)
{
	struct inject_state s = open_guest();

	s.irqs_queued = 1;
	s.sti_blocking = true;
	EXPECT_EQ(VMXLAB_INJECT_HELD_STI, decide(&s).why);
	s.sti_blocking = false;
	s.mov_ss_blocking = true;
	EXPECT_EQ(VMXLAB_INJECT_HELD_MOV_SS, decide(&s).why);
}

TEST(why_nmi_blocked)
{
	struct inject_state s = open_guest();
	struct inject_decision d;

	s.nmi_queued = true;
	s.nmi_blocking = true;
	s.irqs_queued = 1;
	d = decide(&s);
	/* The NMI comes first: its reason, though the interrupt goes in. */
	EXPECT_EQ(INJECT_IRQ, d.inject);
	EXPECT_EQ(VMXLAB_INJECT_HELD_NMI_BLOCKED, d.why);
	s.nmi_blocking = false;
	s.sti_blocking = true;
	EXPECT_EQ(VMXLAB_INJECT_HELD_STI, decide(&s).why);
}

TEST(why_entry_field_busy)
{
	struct inject_state s = open_guest();

	/* Re-injection of an interrupted event holds an exception... */
	s.event_pending = true;
	s.exception_queued = true;
	EXPECT_EQ(VMXLAB_INJECT_HELD_BUSY, decide(&s).why);
	/* ...an exception going in holds an NMI and an interrupt... */
	s.event_pending = false;
	s.nmi_queued = true;
	s.irqs_queued = 1;
	EXPECT_EQ(VMXLAB_INJECT_HELD_BUSY, decide(&s).why);
	/* ...and an interrupt going in holds the ones behind it. */
	s.exception_queued = false;
	s.nmi_queued = false;
	s.irqs_queued = 2;
	EXPECT_EQ(INJECT_IRQ, decide(&s).inject);
	EXPECT_EQ(VMXLAB_INJECT_HELD_BUSY, decide(&s).why);
}

TEST(why_window_requested)
{
	struct inject_state s = open_guest();

	s.window_requested = true;
	EXPECT_EQ(VMXLAB_INJECT_WINDOW_REQUESTED, decide(&s).why);
	/* An interrupt that waits says why, not that a window was asked for. */
	s.irqs_queued = 1;
	s.rflags_if = false;
	EXPECT_EQ(VMXLAB_INJECT_HELD_IF, decide(&s).why);
}

TEST(irq_allowed_predicate)
{
	struct inject_state s = open_guest();

	EXPECT_TRUE(inject_irq_allowed(&s));
	s.rflags_if = false;
	EXPECT_FALSE(inject_irq_allowed(&s));
	s.rflags_if = true;
	s.sti_blocking = true;
	EXPECT_FALSE(inject_irq_allowed(&s));
	s.sti_blocking = false;
	s.mov_ss_blocking = true;
	EXPECT_FALSE(inject_irq_allowed(&s));
}

/*
 * Which injected exceptions carry an error code (SDM Vol. 3A, Table 6-1;
 * VM entry's check, SDM Vol. 3C): #DF, #TS, #NP, #SS, #GP, #PF, #AC, and
 * #CP exactly when VM entry can load CET state.
 */
TEST(exception_error_codes_without_cet)
{
	static const unsigned int with[] = { 8, 10, 11, 12, 13, 14, 17 };
	unsigned int v, i;

	for (v = 0; v < 32; v++) {
		bool expect = false;

		for (i = 0; i < ARRAY_SIZE(with); i++)
			expect |= v == with[i];
		EXPECT_EQ(expect, inject_exception_has_error_code(v, false))
			TH_LOG("vector %u", v);
	}
}

TEST(cp_error_code_follows_load_cet_state)
{
	EXPECT_FALSE(inject_exception_has_error_code(21, false));
	EXPECT_TRUE(inject_exception_has_error_code(21, true));
	/* The control changes nothing else. */
	EXPECT_TRUE(inject_exception_has_error_code(13, true));
	EXPECT_FALSE(inject_exception_has_error_code(6, true));
	EXPECT_FALSE(inject_exception_has_error_code(2, true));
}

/*
 * SDM Vol. 3A, 6.15 (Interrupt 8), Table 6-5, with Table 6-4's classes:
 * benign (1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19), contributory (0, 10,
 * 11, 12, 13) and #PF (14).  Rows: first exception; columns: second.
 */
#define HW	INJECT_TYPE_HARD_EXC

TEST(combine_nothing_being_delivered)
{
	EXPECT_EQ(COMBINE_SECOND, inject_combine(false, HW, 14, 14));
}

TEST(combine_pf_during_pf_is_double_fault)
{
	EXPECT_EQ(COMBINE_DOUBLE_FAULT, inject_combine(true, HW, 14, 14));
	/* A contributory exception during #PF too. */
	EXPECT_EQ(COMBINE_DOUBLE_FAULT, inject_combine(true, HW, 14, 13));
	EXPECT_EQ(COMBINE_DOUBLE_FAULT, inject_combine(true, HW, 14, 0));
	/* A benign one is handled serially. */
	EXPECT_EQ(COMBINE_SECOND, inject_combine(true, HW, 14, 6));
}

TEST(combine_contributory_first)
{
	static const unsigned int contributory[] = { 0, 10, 11, 12, 13 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(contributory); i++) {
		unsigned int v = contributory[i];

		EXPECT_EQ(COMBINE_DOUBLE_FAULT, inject_combine(true, HW, v, 13))
			TH_LOG("first %u", v);
		/* #PF after a contributory exception: serially. */
		EXPECT_EQ(COMBINE_SECOND, inject_combine(true, HW, v, 14))
			TH_LOG("first %u", v);
	}
}

TEST(combine_benign_first)
{
	static const unsigned int benign[] = { 1, 2, 3, 4, 5, 6, 7, 9, 16, 17,
					       18, 19 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(benign); i++)
		EXPECT_EQ(COMBINE_SECOND, inject_combine(true, HW, benign[i], 14))
			TH_LOG("first %u", benign[i]);
}

/* "If another exception occurs while ... the double-fault handler": shutdown. */
TEST(combine_fault_during_double_fault)
{
	EXPECT_EQ(COMBINE_SHUTDOWN, inject_combine(true, HW, 8, 14));
	EXPECT_EQ(COMBINE_SHUTDOWN, inject_combine(true, HW, 8, 13));
	EXPECT_EQ(COMBINE_SECOND, inject_combine(true, HW, 8, 6));
}

/*
 * An interrupt or NMI interrupted by a fault is delivered after it: the
 * CPU does not raise it again.  A software interrupt comes back with its
 * instruction.
 */
TEST(combine_interrupts_are_requeued)
{
	EXPECT_EQ(COMBINE_SECOND_REQUEUE,
		  inject_combine(true, INJECT_TYPE_EXT_INTR, 0x20, 14));
	EXPECT_EQ(COMBINE_SECOND_REQUEUE,
		  inject_combine(true, INJECT_TYPE_NMI, 2, 14));
	EXPECT_EQ(COMBINE_SECOND, inject_combine(true, 4, 0x80, 14));
	EXPECT_EQ(COMBINE_SECOND, inject_combine(true, 6, 3, 14));
}

TEST_HARNESS_MAIN
