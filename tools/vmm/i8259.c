// SPDX-License-Identifier: GPL-2.0
/*
 * The 8259A pair, as the VMM's port I/O handler and its injection step
 * see it.  pic_has_interrupt() is the master's INTR pin; pic_ack() is the
 * CPU's INTA cycle, after which the vector goes to VMXLAB_INTERRUPT.
 * Section and figure names below are from Intel's 8259A datasheet
 * (order no. 231468); the ELCR is the PIIX/PIIX3's (order no. 290550).
 */
#include <stddef.h>

#include "vmm/i8259.h"

#define MASTER		0
#define SLAVE		1
#define CASCADE_IR	2	/* the slave's INT drives the master's IR2 */
#define SPURIOUS_IR	7	/* "default IR7" when a request goes away */

/* ICW1 (port A, D4 = 1), "Initialization Command Words". */
#define ICW1		0x10
#define ICW1_IC4	0x01
#define ICW1_SNGL	0x02
#define ICW1_LTIM	0x08
#define ICW4_AEOI	0x02
/* OCW3 (port A, D4 = 0, D3 = 1), "Operation Command Words". */
#define OCW3		0x08
#define OCW3_RIS	0x01
#define OCW3_RR		0x02
#define OCW3_P		0x04
#define OCW3_SMM	0x20
#define OCW3_ESMM	0x40

/*
 * The PIIX ELCR: IRQ0, 1, 2, 8 and 13 are wired edge-triggered on the
 * board, so their bits are reserved and read as 0.
 */
#define ELCR_PORT	0x4d0
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

static uint8_t level_mask(const struct i8259 *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/*
 * Priority rank of an IR input, 0 the highest.  After reset IR0 is the
 * highest and IR7 the lowest; the rotate commands of OCW2 only move which
 * IR is the lowest ("Automatic Rotation", "Specific Rotation").
 */
static unsigned int rank(const struct i8259 *c, unsigned int ir)
{
	return (ir - c->lowest - 1) & 7;
}

/* The IR of highest priority among the bits of @bits, or -1. */
static int highest(const struct i8259 *c, uint8_t bits)
{
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int ir = (c->lowest + 1 + i) & 7;

		if (bits & (1U << ir))
			return ir;
	}
	return -1;
}

/*
 * The priority resolver: the IR the next INTA would serve, or -1 when INT
 * stays low.  In the fully nested mode a request wins only over lower-
 * priority levels in service; special mask mode lets masked in-service
 * levels stop blocking ("Special Mask Mode").
 */
static int chip_request(const struct i8259 *c, uint8_t irr)
{
	uint8_t isr = c->special_mask ? c->isr & ~c->imr : c->isr;
	int req = highest(c, irr & ~c->imr);
	int serving = highest(c, isr);

	if (req < 0)
		return -1;
	if (serving >= 0 && rank(c, req) >= rank(c, serving))
		return -1;
	return req;
}

/*
 * The master's IRR as its resolver sees it.  IR2 is a wire from the
 * slave's INT pin, which the slave holds high until its own INTA; taking
 * it as a level here means the two chips can never disagree about a
 * cascaded request (the stored bit 2 is unused).
 */
static uint8_t master_irr(const struct i8259_pair *p)
{
	const struct i8259 *m = &p->chip[MASTER];
	uint8_t irr = m->irr & ~(1U << CASCADE_IR);

	if (chip_request(&p->chip[SLAVE], p->chip[SLAVE].irr) >= 0)
		irr |= 1U << CASCADE_IR;
	return irr;
}

static uint8_t chip_irr(const struct i8259_pair *p, const struct i8259 *c)
{
	return c == &p->chip[MASTER] ? master_irr(p) : c->irr;
}

/*
 * The INTA cycle on one chip: the request moves from IRR to ISR (or, in
 * AEOI mode, the ISR bit is reset at once, at the end of the second INTA
 * pulse).  A level-triggered input that is still high requests again.
 */
static void chip_accept(struct i8259 *c, unsigned int ir)
{
	uint8_t bit = 1U << ir;

	c->irr &= ~bit;
	if (level_mask(c) & c->lines & bit)
		c->irr |= bit;
	if (!c->aeoi)
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = ir;
}

void pic_init(struct i8259_pair *p)
{
	*p = (struct i8259_pair) { 0 };
	for (int n = MASTER; n <= SLAVE; n++)
		p->chip[n].lowest = 7;
}

/*
 * ICW1 starts the initialization sequence.  The datasheet lists what it
 * resets: the edge sense circuit (an input already high must go low and
 * high again), the IMR, IR7 as the lowest priority, special mask mode,
 * and the status read to IRR; with IC4 = 0 all ICW4 functions are zero.
 */
static void write_icw1(struct i8259 *c, uint8_t val)
{
	c->icw4_needed = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	c->ltim = val & ICW1_LTIM;
	c->imr = 0;
	c->isr = 0;
	c->irr = c->lines & level_mask(c);
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->aeoi = false;
	c->rotate_aeoi = false;
	c->init_step = 2;
}

/* ICW2..ICW4 arrive on port B, in the order of the datasheet's Figure 6. */
static void write_icw(struct i8259 *c, uint8_t val)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = val & 0xf8;	/* x86 mode: T7-T3 */
		c->init_step = c->single ? 4 : 3;
		break;
	case 3:
		c->icw3 = val;
		c->init_step = 4;
		break;
	case 4:
		c->aeoi = val & ICW4_AEOI;
		c->init_step = 0;
		return;
	}
	if (c->init_step == 4 && !c->icw4_needed)
		c->init_step = 0;
}

/*
 * OCW2: R, SL and EOI in bits 7:5, the level L in bits 2:0.  Non-specific
 * EOI clears the highest-priority ISR bit, which in fully nested mode is
 * the one being served; the rotate forms also make that level the lowest.
 */
static void write_ocw2(struct i8259 *c, uint8_t val)
{
	unsigned int level = val & 7;
	int ir;

	switch (val >> 5) {
	case 1:				/* non-specific EOI */
	case 5:				/* rotate on non-specific EOI */
		ir = highest(c, c->isr);
		if (ir < 0)
			return;
		c->isr &= ~(1U << ir);
		if (val >> 5 == 5)
			c->lowest = ir;
		return;
	case 3:				/* specific EOI */
	case 7:				/* rotate on specific EOI */
		c->isr &= ~(1U << level);
		if (val >> 5 == 7)
			c->lowest = level;
		return;
	case 6:				/* set priority */
		c->lowest = level;
		return;
	case 4:				/* rotate in AEOI mode (set) */
	case 0:				/* rotate in AEOI mode (clear) */
		c->rotate_aeoi = val >> 5 == 4;
		return;
	}
	/* 2: no operation */
}

static void write_ocw3(struct i8259 *c, uint8_t val)
{
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
	if (val & OCW3_ESMM)
		c->special_mask = val & OCW3_SMM;
	c->poll = val & OCW3_P;
}

/*
 * The poll command: the read that follows OCW3 with P = 1 is an INTA of
 * its own, returning I (bit 7) and the level W2-W0 ("The Poll Command").
 */
static uint8_t read_poll(struct i8259_pair *p, struct i8259 *c)
{
	int ir = chip_request(c, chip_irr(p, c));

	c->poll = false;
	if (ir < 0)
		return 0;
	chip_accept(c, ir);
	return 0x80 | ir;
}

static void chip_io(struct i8259_pair *p, struct i8259 *c, bool port_b,
		    bool in, uint8_t *val)
{
	if (in) {
		if (port_b)
			*val = c->imr;
		else if (c->poll)
			*val = read_poll(p, c);
		else
			*val = c->read_isr ? c->isr : chip_irr(p, c);
		return;
	}
	if (!port_b && (*val & ICW1))
		write_icw1(c, *val);
	else if (port_b && c->init_step)
		write_icw(c, *val);
	else if (port_b)
		c->imr = *val;			/* OCW1 */
	else if (*val & OCW3)
		write_ocw3(c, *val);
	else
		write_ocw2(c, *val);
}

/* The ELCR: a newly level-triggered input's IRR follows its line. */
static void elcr_io(struct i8259 *c, int n, bool in, uint8_t *val)
{
	if (in) {
		*val = c->elcr;
		return;
	}
	c->elcr = *val & elcr_writable[n];
	c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
}

bool pic_io(struct i8259_pair *p, uint16_t port, bool in, uint8_t *val)
{
	switch (port) {
	case 0x20:
	case 0x21:
		chip_io(p, &p->chip[MASTER], port & 1, in, val);
		return true;
	case 0xa0:
	case 0xa1:
		chip_io(p, &p->chip[SLAVE], port & 1, in, val);
		return true;
	case ELCR_PORT:
	case ELCR_PORT + 1:
		elcr_io(&p->chip[port & 1], port & 1, in, val);
		return true;
	}
	return false;
}

/*
 * An IR input changes level.  Edge-triggered, a low-to-high transition
 * sets IRR and the bit stays set until INTA, whatever the line does then
 * (the VMM pulses IRQ0 high and low at once); level-triggered, IRR is the
 * line ("Edge and Level Triggered Modes").
 */
void pic_set_irq(struct i8259_pair *p, int irq, bool level)
{
	struct i8259 *c;
	uint8_t bit;

	if (irq < 0 || irq > 15)
		return;
	c = &p->chip[irq >> 3];
	bit = 1U << (irq & 7);
	if (level && !(c->lines & bit))
		c->irr |= bit;
	if (!level && (level_mask(c) & bit))
		c->irr &= ~bit;
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
}

bool pic_has_interrupt(const struct i8259_pair *p)
{
	return chip_request(&p->chip[MASTER], master_irr(p)) >= 0;
}

/*
 * The two INTA pulses.  The master resolves; if it picks the cascade
 * input, the slave resolves and supplies the vector.  A chip whose request
 * went away since INTR was sampled answers with its IR7 vector and sets
 * no ISR bit, which is why Linux checks the ISR before it trusts IRQ7/15.
 */
int pic_ack(struct i8259_pair *p)
{
	struct i8259 *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
	int ir = chip_request(m, master_irr(p));

	if (ir < 0)
		return m->vector_base + SPURIOUS_IR;
	chip_accept(m, ir);
	if (ir != CASCADE_IR || m->single)
		return m->vector_base + ir;
	ir = chip_request(s, s->irr);
	if (ir < 0)
		return s->vector_base + SPURIOUS_IR;
	chip_accept(s, ir);
	return s->vector_base + ir;
}
