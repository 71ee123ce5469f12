// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A behind COM1: the guest's console and its serial input.
 * Transmission is instantaneous (the byte goes to the tx callback and the
 * transmitter is empty again at once), so what is left to get right is
 * what Linux's 8250 driver probes and relies on: the register file with
 * DLAB, the FIFO bits of IIR, loopback, and when the THRE interrupt is
 * pending.  Register and bit names follow National's PC16550D datasheet.
 */
#include "vmm/uart16550.h"

/* Register offsets (Table II). */
#define UART_RBR	0	/* read, DLAB = 0; THR on write; DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR	2	/* read; FCR on write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* transmitter holding register empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f	/* bits 7:4 are always 0 */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_CTI		0x0c	/* character timeout, FIFO mode only */
#define IIR_FIFOS	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_TRIGGER(v)	((v) >> 6)

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x9e	/* OE, PE, FE, BI, error in RX FIFO */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
/* What the host side of the line shows: a modem that is there and ready. */
#define MSR_HOST_LINES	(MSR_DCD | MSR_DSR | MSR_CTS)

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

static bool loopback(const struct uart16550 *u)
{
	return u->mcr & MCR_LOOP;
}

/* Without FIFOs the receiver buffer holds one character. */
static unsigned int rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6: the RX FIFO trigger level of Table IV. */
static unsigned int rx_trigger(const struct uart16550 *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return fifo_on(u) ? level[FCR_TRIGGER(u->fcr)] : 1;
}

/*
 * MSR bits 7:4.  In loopback the modem inputs are disconnected and wired
 * to the MCR instead: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 (the
 * datasheet's MCR bit 4) -- the test Linux's autoconfig() makes.
 */
static uint8_t msr_lines(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!loopback(u))
		return MSR_HOST_LINES;
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

/* The delta bits: any change of CTS, DSR, DCD; RI only going inactive. */
static uint8_t msr_deltas(uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after, d = 0;

	if (changed & MSR_CTS)
		d |= MSR_DCTS;
	if (changed & MSR_DSR)
		d |= MSR_DDSR;
	if (changed & MSR_DCD)
		d |= MSR_DDCD;
	if ((before & MSR_RI) && !(after & MSR_RI))
		d |= MSR_TERI;
	return d;
}

/*
 * The interrupt identification, in the datasheet's priority order (Table
 * V): line status, received data, THR empty, modem status.  Received
 * data below the trigger level is reported as a character timeout at
 * once: the VMM hands host input over in batches, so the four character
 * times without a new byte have always passed by the time anyone looks.
 */
static uint8_t pending_id(const struct uart16550 *u)
{
	if ((u->ier & IER_ELSI) && u->lsr_errors)
		return IIR_RLSI;
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRI;
	if ((u->ier & IER_EDSSI) && u->msr_delta)
		return IIR_MSI;
	return IIR_NO_INT;
}

void uart_init(struct uart16550 *u, void (*tx)(void *, uint8_t),
	       void *opaque)
{
	*u = (struct uart16550) { .tx = tx, .opaque = opaque };
}

static void rx_push(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count == rx_capacity(u)) {
		u->lsr_errors |= LSR_OE;	/* the new character is lost */
		return;
	}
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static uint8_t rx_pop(struct uart16550 *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
	}
	return u->rbr;
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/*
 * A byte written to THR leaves at once, to the host or, in loopback, to
 * the receiver; THR is empty again, which is the THRE interrupt's cause.
 */
static void write_thr(struct uart16550 *u, uint8_t byte)
{
	if (loopback(u))
		rx_push(u, byte);
	else if (u->tx)
		u->tx(u->opaque, byte);
	u->thre_pending = true;
}

/*
 * Setting ETBEI while THR is empty raises the THRE interrupt even though
 * THR did not just become empty: Linux's start_tx() sets IER 0x05 -> 0x07
 * and waits for exactly that, and serial8250_do_startup() tests it.
 */
static void write_ier(struct uart16550 *u, uint8_t val)
{
	val &= IER_MASK;
	if ((val & IER_ETBEI) && !(u->ier & IER_ETBEI))
		u->thre_pending = true;
	u->ier = val;
}

/* FCR: bit 0 must be set for the others to count; toggling it clears. */
static void write_fcr(struct uart16550 *u, uint8_t val)
{
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	u->fcr = val & FCR_ENABLE ? val & 0xc9 : 0;
	if ((val & FCR_ENABLE) && (val & FCR_CLEAR_RX))
		rx_clear(u);
}

static void write_mcr(struct uart16550 *u, uint8_t val)
{
	uint8_t before = msr_lines(u);

	u->mcr = val & MCR_MASK;
	u->msr_delta |= msr_deltas(before, msr_lines(u));
}

/* Reading IIR while it reports THRE is what clears THRE (Table V). */
static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t id = pending_id(u);

	if (id == IIR_THRI)
		u->thre_pending = false;
	return (fifo_on(u) ? IIR_FIFOS : 0) | id;
}

/* Transmission is instantaneous: THR and the shift register are empty. */
static uint8_t read_lsr(struct uart16550 *u)
{
	uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_errors;

	if (u->rx_count)
		lsr |= LSR_DR;
	u->lsr_errors = 0;
	return lsr;
}

static uint8_t read_msr(struct uart16550 *u)
{
	uint8_t msr = msr_lines(u) | u->msr_delta;

	u->msr_delta = 0;
	return msr;
}

static uint8_t uart_read(struct uart16550 *u, unsigned int offset)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case UART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

/* LSR and MSR writes (factory test only) are dropped. */
static void uart_write(struct uart16550 *u, unsigned int offset, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case UART_RBR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case UART_IIR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		write_mcr(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	}
}

void uart_io(struct uart16550 *u, unsigned int offset, bool in, uint8_t *val)
{
	offset &= 7;
	if (in)
		*val = uart_read(u, offset);
	else
		uart_write(u, offset, *val);
}

/* Host input; in loopback the serial input is disconnected (MCR bit 4). */
size_t uart_rx(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	if (loopback(u))
		return 0;
	while (n < len && u->rx_count < rx_capacity(u))
		rx_push(u, buf[n++]);
	return n;
}

/*
 * The IRQ4 line.  On the PC the UART's INTR reaches the PIC through a
 * buffer enabled by the OUT2 pin; loopback forces OUT2 inactive, so a
 * UART in loopback interrupts nobody.
 */
bool uart_irq_level(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_OUT2) || loopback(u))
		return false;
	return pending_id(u) != IIR_NO_INT;
}

/*
 * Whether a driver listens: the received-data interrupt is enabled and
 * the port is not looping back.  Bytes the host sends before that would
 * be thrown away by the driver's start-up, which clears the FIFOs, so the
 * VMM holds them until then, as a terminal user waits for a prompt.
 */
bool uart_rx_open(const struct uart16550 *u)
{
	return (u->ier & IER_ERBFI) && !(u->mcr & MCR_LOOP);
}
