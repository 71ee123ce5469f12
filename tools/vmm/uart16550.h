/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART, the PC's COM1 at 0x3f8 on IRQ4.  Pure: the VMM passes
 * the register offset (0..7) of each guest access, hands over host input
 * with uart_rx(), samples the IRQ line with uart_irq_level(), and gets
 * the guest's output one byte at a time through the tx callback.
 */
#ifndef VMM_UART16550_H
#define VMM_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_FIFO_SIZE	16

struct uart16550 {
	uint8_t rx_fifo[UART_FIFO_SIZE];
	uint8_t rx_head;	/* index of the oldest byte */
	uint8_t rx_count;
	uint8_t rbr;		/* the last byte read, read again if empty */
	uint8_t ier;
	uint8_t fcr;		/* as last written; FIFOs on if bit 0 */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors;	/* OE (and BI, FE, PE) until LSR is read */
	uint8_t msr_delta;	/* MSR bits 3:0 until MSR is read */
	uint8_t scr;
	uint8_t dll, dlm;
	bool thre_pending;	/* the THRE interrupt, before IER masks it */
	void (*tx)(void *opaque, uint8_t byte);
	void *opaque;
};

void uart_init(struct uart16550 *u, void (*tx)(void *, uint8_t),
	       void *opaque);
void uart_io(struct uart16550 *u, unsigned int offset, bool in,
	     uint8_t *val);
size_t uart_rx(struct uart16550 *u, const uint8_t *buf, size_t len);
bool uart_irq_level(const struct uart16550 *u);
bool uart_rx_open(const struct uart16550 *u);

#endif
