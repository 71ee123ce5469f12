// SPDX-License-Identifier: GPL-2.0
/*
 * The 8259A pair driven the way Linux 6.1's arch/x86/kernel/i8259.c
 * drives it: the IMR probe, init_8259A(), mask_and_ack_8259A() with
 * specific EOIs, the ISR peek of i8259A_irq_real(), and the cascade.
 * Expected values come from the Intel 8259A datasheet and those sources.
 */
#include "vmm/i8259.h"
#include "tap.h"

#define MASTER_CMD	0x20
#define MASTER_IMR	0x21
#define SLAVE_CMD	0xa0
#define SLAVE_IMR	0xa1
#define ISA_VECTOR(irq)	(0x30 + (irq))	/* Linux's ISA_IRQ_VECTOR() */

static struct i8259_pair pic;

static void out(uint16_t port, uint8_t val)
{
	pic_io(&pic, port, false, &val);
}

static uint8_t in(uint16_t port)
{
	uint8_t val = 0;

	pic_io(&pic, port, true, &val);
	return val;
}

/* What OCW3 0x0b then a read of port A returns: the ISR. */
static uint8_t read_isr(uint16_t cmd)
{
	uint8_t isr;

	out(cmd, 0x0b);
	isr = in(cmd);
	out(cmd, 0x0a);
	return isr;
}

static uint8_t read_irr(uint16_t cmd)
{
	out(cmd, 0x0a);
	return in(cmd);
}

/* init_8259A(0): both masked, ICW1 0x11, ICW2, ICW3, ICW4 0x01. */
static void linux_init(uint8_t master_icw4)
{
	out(MASTER_IMR, 0xff);
	out(SLAVE_IMR, 0xff);
	out(MASTER_CMD, 0x11);
	out(MASTER_IMR, ISA_VECTOR(0));
	out(MASTER_IMR, 1U << 2);
	out(MASTER_IMR, master_icw4);
	out(SLAVE_CMD, 0x11);
	out(SLAVE_IMR, ISA_VECTOR(8));
	out(SLAVE_IMR, 2);
	out(SLAVE_IMR, 0x01);
	out(MASTER_IMR, 0xfb);		/* cached masks: the cascade open */
	out(SLAVE_IMR, 0xff);
}

static void edge(int irq)
{
	pic_set_irq(&pic, irq, true);
	pic_set_irq(&pic, irq, false);
}

static void test_ports(void)
{
	uint8_t v = 0;

	pic_init(&pic);
	tap_ok(pic_io(&pic, 0x20, true, &v) && pic_io(&pic, 0x21, true, &v) &&
	       pic_io(&pic, 0xa0, true, &v) && pic_io(&pic, 0xa1, true, &v) &&
	       pic_io(&pic, 0x4d0, true, &v) && pic_io(&pic, 0x4d1, true, &v),
	       "the PIC claims 0x20/0x21, 0xa0/0xa1 and the ELCR 0x4d0/0x4d1");
	tap_ok(!pic_io(&pic, 0x22, true, &v) && !pic_io(&pic, 0x40, true, &v) &&
	       !pic_io(&pic, 0x4d2, true, &v), "and no other port");
}

/* probe_8259A(): the master's IMR reads back what was written. */
static void test_probe(void)
{
	pic_init(&pic);
	out(SLAVE_IMR, 0xff);
	out(MASTER_IMR, 0xfb);
	tap_ok(in(MASTER_IMR) == 0xfb && in(SLAVE_IMR) == 0xff,
	       "IMR probe: 0xfb and 0xff read back");
	out(MASTER_CMD, 0x11);
	tap_ok(in(MASTER_IMR) == 0, "ICW1 clears the IMR (datasheet)");
}

static void test_irq0(void)
{
	pic_init(&pic);
	linux_init(0x01);
	tap_ok(!pic_has_interrupt(&pic), "after init_8259A, INTR is low");
	out(MASTER_IMR, 0xfa);
	edge(0);
	tap_ok(pic_has_interrupt(&pic), "an IRQ0 edge raises INTR");
	tap_ok(pic_ack(&pic) == 0x30, "INTA returns vector 0x30");
	tap_ok(read_isr(MASTER_CMD) == 0x01 && (read_irr(MASTER_CMD) & 1) == 0,
	       "IRQ0 moved from IRR to ISR");
	edge(0);
	tap_ok(!pic_has_interrupt(&pic),
	       "a second IRQ0 waits while IRQ0 is in service");
	out(MASTER_CMD, 0x60);
	tap_ok(read_isr(MASTER_CMD) == 0, "specific EOI 0x60 clears ISR bit 0");
	tap_ok(pic_has_interrupt(&pic) && pic_ack(&pic) == 0x30,
	       "then the latched IRQ0 is delivered");
	out(MASTER_CMD, 0x20);
	tap_ok(read_isr(MASTER_CMD) == 0 && !pic_has_interrupt(&pic),
	       "non-specific EOI 0x20 clears it too");
}

static void test_mask_and_priority(void)
{
	pic_init(&pic);
	linux_init(0x01);
	edge(1);
	tap_ok(!pic_has_interrupt(&pic) && (read_irr(MASTER_CMD) & 0x02),
	       "masked IRQ1: latched in IRR, INTR low");
	edge(3);
	out(MASTER_IMR, 0xf0);
	tap_ok(pic_ack(&pic) == 0x31, "unmasked: IRQ1 before IRQ3");
	tap_ok(!pic_has_interrupt(&pic), "IRQ3 waits while IRQ1 is in service");
	edge(0);
	tap_ok(pic_has_interrupt(&pic) && pic_ack(&pic) == 0x30,
	       "IRQ0 preempts IRQ1 in service (fully nested)");
	out(MASTER_CMD, 0x20);
	tap_ok(read_isr(MASTER_CMD) == 0x02,
	       "non-specific EOI clears the highest ISR bit (IRQ0)");
	out(MASTER_CMD, 0x20);
	tap_ok(pic_ack(&pic) == 0x33, "after IRQ1's EOI, IRQ3");
	out(MASTER_CMD, 0x63);
	/* OCW2 set priority: IR3 lowest, so IR4 is the highest. */
	out(MASTER_CMD, 0xc3);
	out(MASTER_IMR, 0xd8);
	edge(1);
	edge(5);
	tap_ok(pic_ack(&pic) == 0x35, "set priority 0xc3: IRQ5 before IRQ1");
	/* Rotate on non-specific EOI: IR5, just served, becomes the lowest. */
	out(MASTER_CMD, 0xa0);
	edge(5);
	tap_ok(pic_ack(&pic) == 0x31, "after EOI 0xa0, IRQ1 before IRQ5");
}

static void test_cascade(void)
{
	pic_init(&pic);
	linux_init(0x01);
	out(SLAVE_IMR, 0xef);
	edge(12);
	tap_ok(pic_has_interrupt(&pic), "IRQ12 raises INTR through IR2");
	tap_ok(pic_ack(&pic) == 0x3c, "INTA returns the slave's vector 0x3c");
	tap_ok(read_isr(SLAVE_CMD) == 0x10 && read_isr(MASTER_CMD) == 0x04,
	       "ISR: slave bit 4, master bit 2");
	edge(1);
	out(MASTER_IMR, 0xf9);
	tap_ok(pic_has_interrupt(&pic) && pic_ack(&pic) == 0x31,
	       "IRQ1 outranks the cascade in service");
	out(MASTER_CMD, 0x61);
	out(SLAVE_CMD, 0x64);
	out(MASTER_CMD, 0x62);
	tap_ok(read_isr(SLAVE_CMD) == 0 && read_isr(MASTER_CMD) == 0 &&
	       !pic_has_interrupt(&pic),
	       "mask_and_ack: EOI 0x64 to the slave, 0x62 to the master");
	out(SLAVE_IMR, 0xff);
	edge(12);
	tap_ok(!pic_has_interrupt(&pic), "masked at the slave: INTR low");
	out(SLAVE_IMR, 0xfe);
	out(MASTER_IMR, 0xf3);
	edge(3);
	edge(8);
	tap_ok(pic_ack(&pic) == 0x38, "IRQ8 (on IR2) before IRQ3");
}

static void test_spurious(void)
{
	pic_init(&pic);
	linux_init(0x01);
	out(MASTER_IMR, 0xe8);
	edge(4);
	out(MASTER_IMR, 0xf8);
	tap_ok(pic_ack(&pic) == 0x37 && read_isr(MASTER_CMD) == 0,
	       "request masked before INTA: vector 0x37, no ISR bit");
	out(0x4d0, 0x20);
	pic_set_irq(&pic, 5, true);
	out(MASTER_IMR, 0xd8);
	tap_ok(pic_has_interrupt(&pic), "level IRQ5 high raises INTR");
	pic_set_irq(&pic, 5, false);
	tap_ok(!pic_has_interrupt(&pic) && pic_ack(&pic) == 0x37 &&
	       read_isr(MASTER_CMD) == 0,
	       "level dropped before INTA: spurious 0x37");
}

static void test_elcr_level(void)
{
	pic_init(&pic);
	linux_init(0x01);
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	tap_ok(in(0x4d0) == 0xf8 && in(0x4d1) == 0xde,
	       "ELCR: IRQ0-2, 8 and 13 stay edge-triggered");
	out(0x4d1, 0x04);
	out(SLAVE_IMR, 0xfb);
	pic_set_irq(&pic, 10, true);
	tap_ok(pic_ack(&pic) == 0x3a, "level IRQ10: vector 0x3a");
	out(SLAVE_CMD, 0x20);
	out(MASTER_CMD, 0x20);
	tap_ok(pic_has_interrupt(&pic), "after EOI, a line still high requests again");
	pic_set_irq(&pic, 10, false);
	tap_ok(!pic_has_interrupt(&pic), "line low: no request");
}

static void test_aeoi_and_poll(void)
{
	pic_init(&pic);
	linux_init(0x03);
	out(MASTER_IMR, 0xfa);
	edge(0);
	tap_ok(pic_ack(&pic) == 0x30 && read_isr(MASTER_CMD) == 0,
	       "AEOI (ICW4 0x03): INTA leaves no ISR bit");
	edge(0);
	tap_ok(pic_has_interrupt(&pic), "AEOI: the next IRQ0 needs no EOI");
	pic_init(&pic);
	linux_init(0x01);
	out(MASTER_IMR, 0xf0);
	edge(3);
	out(MASTER_CMD, 0x0c);
	tap_ok(in(MASTER_CMD) == 0x83 && read_isr(MASTER_CMD) == 0x08,
	       "poll command: 0x83, IRQ3 in service");
	out(MASTER_CMD, 0x0c);
	tap_ok(in(MASTER_CMD) == 0x00, "poll with nothing pending: 0");
}

int main(void)
{
	tap_plan(38);
	test_ports();
	test_probe();
	test_irq0();
	test_mask_and_priority();
	test_cascade();
	test_spurious();
	test_elcr_level();
	test_aeoi_and_poll();
	return tap_done();
}
