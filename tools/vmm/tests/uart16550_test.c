// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A through the probes of Linux 6.1's 8250 driver (autoconfig():
 * the IER test, the FIFO bits of IIR, the loopback MSR test, the 16750
 * test; serial8250_do_startup(): the THRE re-assertion and TXEN tests),
 * start_tx()'s IER 0x05 -> 0x07, and the datasheet's IIR priorities.
 */
#include <string.h>

#include "vmm/uart16550.h"
#include "tap.h"

#define THR	0
#define IER	1
#define IIR	2
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

static struct uart16550 uart;
static uint8_t sent[64];
static unsigned int nsent;

static void record_tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	if (nsent < sizeof(sent))
		sent[nsent] = byte;
	nsent++;
}

static void out(unsigned int reg, uint8_t val)
{
	uart_io(&uart, reg, false, &val);
}

static uint8_t in(unsigned int reg)
{
	uint8_t val = 0;

	uart_io(&uart, reg, true, &val);
	return val;
}

static void reset(void)
{
	uart_init(&uart, record_tx, NULL);
	nsent = 0;
}

static void test_autoconfig(void)
{
	reset();
	tap_ok(in(LSR) == 0x60 && in(IIR) == 0x01,
	       "after reset: LSR THRE|TEMT, IIR no interrupt, no FIFOs");
	out(IER, 0);
	tap_ok((in(IER) & 0x0f) == 0, "IER test: 0 reads 0");
	out(IER, 0x0f);
	tap_ok((in(IER) & 0x0f) == 0x0f, "IER test: 0x0f reads 0x0f");
	out(IER, 0xff);
	tap_ok(in(IER) == 0x0f, "IER bits 7:4 read 0 (no XScale UUE bit)");
	out(IER, 0);
	out(FCR, 0x01);
	tap_ok(in(IIR) >> 6 == 3, "FIFO enabled: IIR bits 7:6 = 11, a 16550A");
	out(FCR, 0x21);
	tap_ok(in(IIR) >> 5 == 6, "FCR bit 5 does not show in IIR: not a 16750");
	out(MCR, 0x10 | 0x0a);
	tap_ok((in(MSR) & 0xf0) == 0x90, "loopback with RTS|OUT2: MSR 0x90");
	out(MCR, 0x1f);
	tap_ok((in(MSR) & 0xf0) == 0xf0, "loopback with all four: MSR 0xf0");
	out(MCR, 0x10 | 0x01);
	tap_ok((in(MSR) & 0xf0) == 0x20, "loopback with DTR only: DSR");
	out(MCR, 0x00);
	out(SCR, 0xa5);
	tap_ok(in(SCR) == 0xa5, "scratch register");
}

static void test_dlab(void)
{
	reset();
	out(IER, 0x05);
	out(LCR, 0x83);
	out(THR, 0x01);
	out(IER, 0x00);
	tap_ok(in(THR) == 0x01 && in(IER) == 0x00, "DLAB: offsets 0/1 are DLL/DLM");
	out(LCR, 0x03);
	tap_ok(nsent == 0 && in(IER) == 0x05 && in(LCR) == 0x03,
	       "DLAB writes neither transmit nor touch IER");
}

/* The THRE interrupt as Linux uses it. */
static void test_thre(void)
{
	reset();
	out(FCR, 0x01);
	out(MCR, 0x0b);
	out(IER, 0x05);
	tap_ok(in(IIR) == 0xc1 && !uart_irq_level(&uart), "IER 0x05: no interrupt");
	out(IER, 0x07);
	tap_ok(uart_irq_level(&uart), "IER 0x05 -> 0x07 with THR empty: IRQ4 high");
	tap_ok(in(IIR) == 0xc2, "IIR reports THRE (0xc2)");
	tap_ok(in(IIR) == 0xc1 && !uart_irq_level(&uart),
	       "reading IIR cleared it: 0xc1, IRQ4 low");
	out(THR, 'x');
	tap_ok(nsent == 1 && sent[0] == 'x', "THR byte goes to the tx callback");
	tap_ok(in(LSR) == 0x60 && in(IIR) == 0xc2,
	       "THR empty again at once: LSR 0x60, THRE pending");
	out(THR, 'y');
	out(IER, 0x05);
	out(THR, 'z');
	tap_ok(in(IIR) == 0xc1, "ETBEI off: THRE not reported");
	out(IER, 0x07);
	in(IIR);
	out(THR, 'w');
	out(IER, 0x05);
	out(IER, 0x07);
	tap_ok(in(IIR) == 0xc2 && in(IIR) == 0xc1,
	       "write THR clears, re-enabling ETBEI raises it once more");
	/* serial8250_do_startup(): the UART_BUG_THRE test, from IER 0. */
	out(IER, 0);
	out(IER, 0x02);
	tap_ok(!(in(IIR) & 0x01), "startup: iir1 has an interrupt");
	out(IER, 0);
	out(IER, 0x02);
	tap_ok(!(in(IIR) & 0x01), "startup: re-asserted after IER 0 -> 0x02");
	out(IER, 0);
	out(IER, 0x02);
	tap_ok((in(LSR) & 0x40) && !(in(IIR) & 0x01), "startup: TXEN test passes");
	out(MCR, 0x03);
	out(IER, 0);
	out(IER, 0x02);
	tap_ok(!uart_irq_level(&uart) && in(IIR) == 0xc2,
	       "OUT2 clear: pending, but IRQ4 stays low");
}

static void test_rx(void)
{
	uint8_t buf[20], got[16];
	unsigned int i;

	reset();
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 'a' + i;
	tap_ok(uart_rx(&uart, buf, 3) == 1, "no FIFOs: one byte of room");
	tap_ok(in(LSR) == 0x61 && in(THR) == 'a' && in(LSR) == 0x60,
	       "LSR DR while it waits, cleared by reading it");
	out(FCR, 0x81);			/* FIFOs, trigger level 8 */
	out(MCR, 0x08);
	out(IER, 0x01);
	tap_ok(uart_rx(&uart, buf, 20) == 16, "FIFO: 16 of 20 bytes taken");
	tap_ok(in(IIR) == 0xc4 && uart_irq_level(&uart),
	       "16 >= trigger 8: received data available (0xc4)");
	for (i = 0; i < 9; i++)
		got[i] = in(THR);
	tap_ok(in(IIR) == 0xcc, "7 left, below the trigger: character timeout (0xcc)");
	for (; i < 16; i++)
		got[i] = in(THR);
	tap_ok(!memcmp(got, buf, 16), "bytes come out in order");
	tap_ok(in(IIR) == 0xc1 && !(in(LSR) & 0x01) && !uart_irq_level(&uart),
	       "FIFO empty: no interrupt, DR clear");
	uart_rx(&uart, buf, 5);
	out(FCR, 0x83);
	tap_ok(!(in(LSR) & 0x01), "FCR bit 1 clears the RX FIFO");
}

/* Every source at once, in loopback; each cleared in turn (Table V). */
static void test_priorities(void)
{
	uint8_t buf[2] = { 1, 2 };
	unsigned int i;

	reset();
	out(FCR, 0x81);
	out(IER, 0x0f);
	out(MCR, 0x10);			/* loopback: CTS, DSR, DCD go low */
	tap_ok(uart_rx(&uart, buf, 2) == 0, "loopback: host input not taken");
	for (i = 0; i < 17; i++)
		out(THR, i);
	tap_ok(nsent == 0, "loopback: nothing transmitted");
	tap_ok(!uart_irq_level(&uart), "loopback: IRQ4 low (OUT2 pin forced off)");
	tap_ok(in(IIR) == 0xc6, "overrun first: receiver line status (0xc6)");
	tap_ok(in(LSR) == 0x63, "LSR: DR|OE|THRE|TEMT, reading clears OE");
	tap_ok(in(IIR) == 0xc4, "then received data (0xc4)");
	for (i = 0; i < 16; i++)
		in(THR);
	tap_ok(in(IIR) == 0xc2, "then THR empty (0xc2)");
	tap_ok(in(IIR) == 0xc0, "then modem status (0xc0)");
	tap_ok(in(MSR) == 0x0b && in(IIR) == 0xc1,
	       "MSR deltas DCTS|DDSR|DDCD, cleared by reading MSR");
}

/* When the VMM may hand over host input (uart_rx_open()). */
static void test_rx_open(void)
{
	reset();
	tap_ok(!uart_rx_open(&uart), "after reset no driver listens");
	out(IER, 0x05);		/* RLSI | RDI: serial8250_do_startup() */
	tap_ok(uart_rx_open(&uart), "IER.ERBFI set: host input may go in");
	out(MCR, 0x10);
	tap_ok(!uart_rx_open(&uart), "not while looping back (the probe)");
	out(MCR, 0x0b);
	out(IER, 0x04);
	tap_ok(!uart_rx_open(&uart), "not with the RX interrupt disabled");
}

int main(void)
{
	tap_plan(45);
	test_autoconfig();
	test_dlab();
	test_thre();
	test_rx();
	test_priorities();
	test_rx_open();
	return tap_done();
}
