// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 PIT.  The guest programs it by port I/O; the run loop turns
 * channel 0's rising OUT edges into IRQ0 at the PIC and sleeps until the
 * next one.  Nothing ticks: every counter value and every edge is worked
 * out from the time the count was loaded, so a VMM that was descheduled
 * catches up exactly.  Mode and command names are those of Intel's 8254
 * datasheet (order no. 231164).
 */
#include "vmm/i8254.h"

#define NSEC_PER_SEC	1000000000ULL
#define PORT_CH0	0x40
#define PORT_CONTROL	0x43

/* Control word fields ("Control Word Format"). */
#define CW_SC(v)	((v) >> 6)
#define CW_RW(v)	(((v) >> 4) & 3)
#define CW_M(v)		(((v) >> 1) & 7)
#define CW_BCD		0x01
#define SC_READ_BACK	3
/* Read-back command: the bits are active low ("Read-Back Command"). */
#define RB_NOT_COUNT	0x20
#define RB_NOT_STATUS	0x10
#define STATUS_OUT	0x80
#define STATUS_NULL	0x40

/*
 * How a channel behaves.  M2 is "don't care" for modes 2 and 3 (6 and 7
 * are the same modes); modes 1 and 5 wait for a rising GATE edge, which
 * channel 0, its gate tied high, never sees after the first one, so they
 * are run as modes 0 and 4.
 */
static unsigned int behaviour(const struct i8254_channel *c)
{
	static const uint8_t as[8] = { 0, 0, 2, 3, 4, 4, 2, 3 };

	return as[c->mode];
}

/* Input clock periods since the count was loaded, rounded down. */
static uint64_t ticks_since_load(const struct i8254_channel *c, uint64_t now)
{
	uint64_t d = now > c->load_ns ? now - c->load_ns : 0;

	return d / NSEC_PER_SEC * PIT_HZ + d % NSEC_PER_SEC * PIT_HZ / NSEC_PER_SEC;
}

/* The first nanosecond after the load at which @ticks have passed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / PIT_HZ * NSEC_PER_SEC +
	       (ticks % PIT_HZ * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

/*
 * The counting element.  Modes 0 and 4 count down once and wrap to 0xffff
 * after zero; mode 2 reloads when it reaches 1 -> N; mode 3 counts by two
 * through each half period, an odd count first losing its low bit.
 */
static uint16_t counter_value(const struct i8254_channel *c, uint64_t now)
{
	uint64_t t, n = c->count, p, half;

	if (!c->counting)
		return c->frozen;
	t = ticks_since_load(c, now);
	switch (behaviour(c)) {
	case 2:
		return n - t % n;
	case 3:
		p = t % n;
		half = (n + 1) / 2;
		if (p >= half)
			p -= half;
		return 2 * p > (n & ~1ULL) ? 0 : (n & ~1ULL) - 2 * p;
	default:
		return n - t;		/* modulo 2^16 */
	}
}

/*
 * The OUT pin (the "Mode" waveforms): mode 0 low until terminal count;
 * mode 2 low for the one clock at count 1; mode 3 high for the first
 * (N + 1) / 2 clocks of each period; mode 4 low for the clock at zero.
 */
static bool out_high(const struct i8254_channel *c, uint64_t now)
{
	uint64_t t, n = c->count;

	if (!c->counting)
		return behaviour(c) != 0;
	t = ticks_since_load(c, now);
	switch (behaviour(c)) {
	case 0:
		return t >= n;
	case 2:
		return t % n != n - 1;
	case 3:
		return t % n < (n + 1) / 2;
	default:
		return t != n;
	}
}

/*
 * The clock at which OUT rises for the @k-th time since the load (k >= 1),
 * or UINT64_MAX: once in modes 0 (terminal count) and 4 (the clock after
 * the strobe), at every reload in modes 2 and 3.
 */
static uint64_t edge_tick(const struct i8254_channel *c, uint64_t k)
{
	if (!c->counting)
		return UINT64_MAX;
	switch (behaviour(c)) {
	case 0:
		return k == 1 ? c->count : UINT64_MAX;
	case 4:
		return k == 1 ? c->count + 1 : UINT64_MAX;
	default:
		return k * c->count;
	}
}

static uint64_t edges_until(const struct i8254_channel *c, uint64_t now)
{
	uint64_t t = ticks_since_load(c, now);

	if (!c->counting)
		return 0;
	switch (behaviour(c)) {
	case 0:
		return t >= c->count;
	case 4:
		return t >= c->count + 1;
	default:
		return t / c->count;
	}
}

void pit_init(struct i8254 *t)
{
	*t = (struct i8254) { 0 };
	for (int i = 0; i < 3; i++)
		t->ch[i].access = 3;
}

/*
 * A new count starts counting at once, in every mode.  (The datasheet
 * lets modes 2 and 3 finish the current period first; Linux always writes
 * a control word before a new count, which stops the counter anyway.)
 */
static void load_count(struct i8254_channel *c, uint16_t count, uint64_t now)
{
	c->count = count ? count : 65536;
	c->load_ns = now;
	c->counting = true;
	c->edges_reported = 0;
}

static void write_count(struct i8254_channel *c, uint8_t val, uint64_t now)
{
	switch (c->access) {
	case 1:
		load_count(c, val, now);
		return;
	case 2:
		load_count(c, val << 8, now);
		return;
	}
	if (!c->write_msb) {
		/* Mode 0: "writing the first byte disables counting". */
		if (behaviour(c) == 0) {
			c->frozen = counter_value(c, now);
			c->counting = false;
		}
		c->write_lsb = val;
		c->write_msb = true;
		return;
	}
	c->write_msb = false;
	load_count(c, c->write_lsb | val << 8, now);
}

/* The counter latch command, and the count half of read-back. */
static void latch_count(struct i8254_channel *c, uint64_t now)
{
	if (c->latched)
		return;		/* a second latch is ignored until read */
	c->latch = counter_value(c, now);
	c->latch_bytes = c->access == 3 ? 2 : 1;
	c->latched = true;
}

static void latch_status(struct i8254_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = (out_high(c, now) ? STATUS_OUT : 0) |
		    (c->counting ? 0 : STATUS_NULL) |
		    c->access << 4 | c->mode << 1 | (c->bcd ? CW_BCD : 0);
	c->status_latched = true;
}

static void read_back(struct i8254 *t, uint8_t val, uint64_t now)
{
	for (int i = 0; i < 3; i++) {
		if (!(val & (2U << i)))
			continue;
		if (!(val & RB_NOT_COUNT))
			latch_count(&t->ch[i], now);
		if (!(val & RB_NOT_STATUS))
			latch_status(&t->ch[i], now);
	}
}

/*
 * A control word either latches (RW = 00), reads back (SC = 11), or
 * programs a channel: its mode and access, which stops the counter until
 * a new count arrives (the status byte's "null count").
 */
static void write_control(struct i8254 *t, uint8_t val, uint64_t now)
{
	struct i8254_channel *c;

	if (CW_SC(val) == SC_READ_BACK) {
		read_back(t, val, now);
		return;
	}
	c = &t->ch[CW_SC(val)];
	if (CW_RW(val) == 0) {
		latch_count(c, now);
		return;
	}
	c->frozen = counter_value(c, now);
	c->counting = false;
	c->edges_reported = 0;
	c->mode = CW_M(val);
	c->access = CW_RW(val);
	c->bcd = val & CW_BCD;
	c->write_msb = false;
	c->read_msb = false;
	c->latched = false;
	c->status_latched = false;
}

/* The byte of @v that the access mode (and, for LSB/MSB, the toggle) picks. */
static uint8_t pick_byte(struct i8254_channel *c, uint16_t v)
{
	bool msb = c->access == 2 || (c->access == 3 && c->read_msb);

	if (c->access == 3)
		c->read_msb = !c->read_msb;
	return msb ? v >> 8 : v & 0xff;
}

/* A latched status comes first, then a latched count, else the live one. */
static uint8_t read_channel(struct i8254_channel *c, uint64_t now)
{
	uint8_t byte;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (!c->latched)
		return pick_byte(c, counter_value(c, now));
	byte = pick_byte(c, c->latch);
	if (--c->latch_bytes == 0)
		c->latched = false;
	return byte;
}

bool pit_io(struct i8254 *t, uint16_t port, bool in, uint8_t *val,
	    uint64_t now_ns)
{
	if (port < PORT_CH0 || port > PORT_CONTROL)
		return false;
	if (port == PORT_CONTROL) {
		if (in)
			*val = 0xff;	/* the control register cannot be read */
		else
			write_control(t, *val, now_ns);
		return true;
	}
	if (in)
		*val = read_channel(&t->ch[port - PORT_CH0], now_ns);
	else
		write_count(&t->ch[port - PORT_CH0], *val, now_ns);
	return true;
}

unsigned int pit_irq0_edges(struct i8254 *t, uint64_t now_ns)
{
	struct i8254_channel *c = &t->ch[0];
	uint64_t total = edges_until(c, now_ns);
	uint64_t n = total - c->edges_reported;

	c->edges_reported = total;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned int)n;
}

/*
 * When OUT0 rises next, for the host timer.  An edge pit_irq0_edges() has
 * not reported yet is due now, so the answer is never before @now_ns.
 */
uint64_t pit_next_edge_ns(const struct i8254 *t, uint64_t now_ns)
{
	const struct i8254_channel *c = &t->ch[0];
	uint64_t tick = edge_tick(c, c->edges_reported + 1);
	uint64_t at;

	if (tick == UINT64_MAX)
		return UINT64_MAX;
	at = c->load_ns + ticks_to_ns(tick);
	return at < now_ns ? now_ns : at;
}
