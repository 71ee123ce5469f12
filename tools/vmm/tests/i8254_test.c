// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 PIT as Linux 6.1 programs it: drivers/clocksource/i8253.c's
 * periodic mode 2 (control word 0x34, count PIT_LATCH = 4773 at HZ=250),
 * its oneshot mode 4 (0x38), shutdown (0x30, count 0), the counter latch
 * (0x00) of the i8253 clocksource, and a mode 0 countdown read the way
 * the calibration loops read it.  Expected counts are the datasheet's
 * arithmetic at 1193182 Hz, worked out by hand in the comments.
 */
#include "vmm/i8254.h"
#include "tap.h"

#define MS	1000000ULL
#define SEC	1000000000ULL

static struct i8254 pit;

static void out(uint16_t port, uint8_t val, uint64_t now)
{
	pit_io(&pit, port, false, &val, now);
}

static uint8_t in(uint16_t port, uint64_t now)
{
	uint8_t val = 0;

	pit_io(&pit, port, true, &val, now);
	return val;
}

static unsigned int read16(uint64_t now)
{
	unsigned int lo = in(0x40, now);

	return lo | in(0x40, now) << 8;
}

static void program(uint8_t cw, unsigned int count, uint64_t now)
{
	out(0x43, cw, now);
	out(0x40, count & 0xff, now);
	out(0x40, count >> 8, now);
}

static void test_ports(void)
{
	uint8_t v;

	pit_init(&pit);
	tap_ok(pit_io(&pit, 0x40, true, &v, 0) && pit_io(&pit, 0x43, true, &v, 0) &&
	       !pit_io(&pit, 0x44, true, &v, 0) && !pit_io(&pit, 0x3f, true, &v, 0),
	       "the PIT claims 0x40-0x43 only");
	tap_ok(pit_next_edge_ns(&pit, 0) == UINT64_MAX && pit_irq0_edges(&pit, SEC) == 0,
	       "unprogrammed: no edge, ever");
}

static void test_periodic(void)
{
	uint64_t t0 = 7 * SEC;

	pit_init(&pit);
	program(0x34, 4773, t0);
	/* 1193182 / 4773 = 249.99: 249 whole periods in the first second. */
	tap_ok(pit_irq0_edges(&pit, t0 + SEC) == 249, "mode 2, 4773: 249 edges in 1 s");
	/* 2 * 1193182 / 4773 = 499.98: 250 more in the next one. */
	tap_ok(pit_irq0_edges(&pit, t0 + 2 * SEC) == 250, "and 250 more by 2 s");
	tap_ok(pit_irq0_edges(&pit, t0 + 2 * SEC) == 0, "each edge is reported once");
	pit_init(&pit);
	program(0x34, 4773, t0);
	/* 4773 / 1193182 Hz = 4000227.96 ns. */
	tap_ok(pit_next_edge_ns(&pit, t0) == t0 + 4000228, "first edge at 4000228 ns");
	tap_ok(pit_irq0_edges(&pit, t0 + 4000227) == 0 &&
	       pit_irq0_edges(&pit, t0 + 4000228) == 1, "it comes then, not before");
	/* 2 * 4773 / 1193182 Hz = 8000455.92 ns. */
	tap_ok(pit_next_edge_ns(&pit, t0 + 4000228) == t0 + 8000456,
	       "the next one a period later");
	tap_ok(pit_next_edge_ns(&pit, t0 + 9 * MS) == t0 + 9 * MS,
	       "an edge not yet reported is due now");
}

/* The i8253 clocksource: latch command 0x00, then LSB and MSB. */
static void test_latch(void)
{
	pit_init(&pit);
	program(0x34, 4773, 0);
	/* 1 ms = 1193.182 clocks: 4773 - 1193 = 3580. */
	out(0x43, 0x00, 1 * MS);
	tap_ok(read16(3 * MS) == 3580, "latched at 1 ms, read later: 3580");
	/* 2 ms = 2386 clocks: 4773 - 2386 = 2387, unlatched. */
	tap_ok(read16(2 * MS) == 2387, "unlatched read at 2 ms: 2387");
	out(0x43, 0x00, 1 * MS);
	out(0x43, 0x00, 2 * MS);
	tap_ok(read16(3 * MS) == 3580, "a second latch before the read is ignored");
	/* 5 ms = 5965 clocks = 4773 + 1192: mode 2 reloaded, 4773 - 1192. */
	out(0x43, 0x00, 5 * MS);
	tap_ok(read16(5 * MS) == 3581, "mode 2 reloads: 3581 at 5 ms");
}

/* The read-back command (0xc2: count and status of counter 0). */
static void test_read_back(void)
{
	pit_init(&pit);
	out(0x43, 0x34, 0);
	out(0x43, 0xe2, 0);
	/* OUT high (mode 2 sets it), null count, RW 11, mode 010, binary. */
	tap_ok(in(0x40, 0) == 0xf4, "status after the control word: 0xf4 (null count)");
	out(0x40, 4773 & 0xff, 0);
	out(0x40, 4773 >> 8, 0);
	out(0x43, 0xc2, 1 * MS);
	tap_ok(in(0x40, 2 * MS) == 0xb4, "read-back: status 0xb4 first");
	tap_ok(read16(2 * MS) == 3580, "then the count latched at 1 ms");
	pit_init(&pit);
	program(0x30, 1000, 0);
	out(0x43, 0xe2, 0);
	tap_ok(in(0x40, 0) == 0x30, "mode 0 before terminal count: OUT low (0x30)");
	out(0x43, 0xe2, 1 * MS);
	tap_ok(in(0x40, 1 * MS) == 0xb0, "after it: OUT high (0xb0)");
}

static void test_oneshot(void)
{
	pit_init(&pit);
	/* Mode 0 from 0xffff, read like a calibration loop: LSB, MSB. */
	program(0x30, 0xffff, 0);
	/* 10 ms = 11931 clocks: 65535 - 11931 = 53604. */
	tap_ok(read16(10 * MS) == 53604, "mode 0 countdown: 53604 after 10 ms");
	pit_init(&pit);
	program(0x30, 1000, 1 * SEC);
	/* 1000 / 1193182 Hz = 838095.8 ns. */
	tap_ok(pit_next_edge_ns(&pit, 1 * SEC) == 1 * SEC + 838096,
	       "mode 0, 1000: edge at 838096 ns");
	tap_ok(pit_irq0_edges(&pit, 2 * SEC) == 1 &&
	       pit_irq0_edges(&pit, 3 * SEC) == 0 &&
	       pit_next_edge_ns(&pit, 3 * SEC) == UINT64_MAX,
	       "mode 0: exactly one edge, then none");
	/* 1.838096 ms = 2193 clocks: 1000 - 2193 = -1193, modulo 2^16. */
	tap_ok(read16(1 * SEC + 838096 + 1 * MS) == 0x10000 - 1193,
	       "mode 0 wraps to 0xffff after zero");
	pit_init(&pit);
	/* Linux's oneshot: 0x38, then the delta; the strobe ends a clock later. */
	out(0x43, 0x38, 0);
	out(0x40, 1193 & 0xff, 5 * MS);
	out(0x40, 1193 >> 8, 5 * MS);
	/* 1194 / 1193182 Hz = 1000685.6 ns. */
	tap_ok(pit_next_edge_ns(&pit, 5 * MS) == 5 * MS + 1000686,
	       "mode 4, 1193: rising edge after 1194 clocks");
	tap_ok(pit_irq0_edges(&pit, 1 * SEC) == 1 && pit_irq0_edges(&pit, 2 * SEC) == 0,
	       "mode 4: one edge");
	/* pit_shutdown(): 0x30 stops the counter until a count comes. */
	out(0x43, 0x30, 2 * SEC);
	tap_ok(pit_next_edge_ns(&pit, 2 * SEC) == UINT64_MAX,
	       "control word alone: counting stops");
}

static void test_count_zero_and_access(void)
{
	pit_init(&pit);
	program(0x34, 0, 0);
	/* 0 is 65536: 1193182 / 65536 = 18.2 periods in a second. */
	/* 65536 / 1193182 Hz = 54925401.9 ns. */
	tap_ok(pit_next_edge_ns(&pit, 0) == 54925402,
	       "count 0 means 65536: a period of 54925402 ns");
	tap_ok(pit_irq0_edges(&pit, SEC) == 18, "18 edges in 1 s");
	pit_init(&pit);
	out(0x43, 0x14, 0);		/* LSB only, mode 2 */
	out(0x40, 100, 0);
	/* 50 clocks = 41904.6 ns: 100 - 50. */
	tap_ok(in(0x40, 41905) == 50 && in(0x40, 41905) == 50,
	       "LSB-only access: every read is the LSB");
	out(0x43, 0x24, 0);		/* MSB only, mode 2 */
	out(0x40, 0x12, 0);
	tap_ok(in(0x40, 0) == 0x12, "MSB-only access: count 0x1200 reads 0x12");
	pit_init(&pit);
	program(0x36, 4772, 0);		/* mode 3, square wave */
	/* 2386 clocks = half of 4772: OUT falls, the count restarts at 4772. */
	out(0x43, 0xe2, 1 * MS);
	tap_ok((in(0x40, 1 * MS) & 0x80) == 0x80, "mode 3: OUT high in the first half");
	out(0x43, 0xe2, 3 * MS);
	tap_ok((in(0x40, 3 * MS) & 0x80) == 0, "and low in the second");
	tap_ok(pit_irq0_edges(&pit, SEC) == 250, "mode 3, 4772: 250 edges in 1 s");
	pit_init(&pit);
	out(0x43, 0xb4, 0);		/* counter 2, LSB/MSB, mode 2 */
	out(0x42, 1000 & 0xff, 0);
	out(0x42, 1000 >> 8, 0);
	/* 1 ms = 1193 clocks: one period of 1000 and 193 into the next. */
	out(0x43, 0x80, 1 * MS);
	tap_ok((in(0x42, 1 * MS) | in(0x42, 1 * MS) << 8) == 807,
	       "counter 2 counts too: 807 at 1 ms");
	tap_ok(pit_irq0_edges(&pit, SEC) == 0, "but does not drive IRQ0");
}

int main(void)
{
	tap_plan(34);
	test_ports();
	test_periodic();
	test_latch();
	test_read_back();
	test_oneshot();
	test_count_zero_and_access();
	return tap_done();
}
