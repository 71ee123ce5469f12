/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's two 8259A programmable interrupt controllers: the master at
 * 0x20/0x21, the slave at 0xa0/0xa1 cascaded on the master's IR2, and the
 * edge/level control registers (ELCR) at 0x4d0/0x4d1.  Pure: the VMM
 * feeds port accesses and IRQ line levels in, and asks for INTR and the
 * INTA cycle's vector when it may inject.
 */
#ifndef VMM_I8259_H
#define VMM_I8259_H

#include <stdbool.h>
#include <stdint.h>

/* One 8259A; field names follow the Intel 8259A datasheet's blocks. */
struct i8259 {
	uint8_t irr;		/* interrupt request register */
	uint8_t isr;		/* in-service register */
	uint8_t imr;		/* interrupt mask register (OCW1) */
	uint8_t lines;		/* IR input levels, for edge detection */
	uint8_t elcr;		/* 1 = level-triggered input (PIIX ELCR) */
	uint8_t vector_base;	/* ICW2, low three bits zero */
	uint8_t icw3;
	uint8_t lowest;		/* IR with the lowest priority (rotation) */
	uint8_t init_step;	/* next ICW expected: 0 = none, 2, 3, 4 */
	bool icw4_needed;	/* ICW1 IC4 */
	bool single;		/* ICW1 SNGL: no ICW3 */
	bool ltim;		/* ICW1 LTIM: all inputs level-triggered */
	bool aeoi;		/* ICW4 AEOI */
	bool rotate_aeoi;	/* OCW2 "rotate in automatic EOI mode" */
	bool read_isr;		/* OCW3 RIS: port A reads the ISR */
	bool poll;		/* OCW3 P: the next port A read polls */
	bool special_mask;	/* OCW3 SMM */
};

struct i8259_pair {
	struct i8259 chip[2];	/* [0] master, [1] slave */
};

void pic_init(struct i8259_pair *p);
bool pic_io(struct i8259_pair *p, uint16_t port, bool in, uint8_t *val);
void pic_set_irq(struct i8259_pair *p, int irq, bool level);
bool pic_has_interrupt(const struct i8259_pair *p);
int pic_ack(struct i8259_pair *p);

#endif
