/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's 8254 programmable interval timer at 0x40-0x43.  Channel 0's
 * OUT drives IRQ0; channels 1 and 2 count the same way but drive nothing
 * (no speaker, no gate on port 0x61).  Pure: time comes in as now_ns, and
 * the VMM asks when OUT0 next rises so that it can arm a host timer.
 */
#ifndef VMM_I8254_H
#define VMM_I8254_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ		1193182ULL	/* the PC's 14.31818 MHz / 12 */

struct i8254_channel {
	uint8_t mode;		/* M2-M0 as written, 0..7 */
	uint8_t access;		/* RW1-RW0: 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;		/* kept for the status byte; counting is binary */
	bool counting;		/* a count is loaded: the counter runs */
	uint32_t count;		/* initial count, 1..65536 (0 means 65536) */
	uint64_t load_ns;	/* when it was loaded */
	uint16_t frozen;	/* what reads return while not counting */
	bool write_msb;		/* access 3: the next write is the MSB */
	uint8_t write_lsb;
	bool read_msb;		/* access 3: the next read is the MSB */
	bool latched;		/* counter latch or read-back holds @latch */
	uint8_t latch_bytes;	/* bytes of @latch still to read */
	uint16_t latch;
	bool status_latched;
	uint8_t status;
	uint64_t edges_reported;	/* OUT rising edges since the load */
};

struct i8254 {
	struct i8254_channel ch[3];
};

void pit_init(struct i8254 *t);
bool pit_io(struct i8254 *t, uint16_t port, bool in, uint8_t *val,
	    uint64_t now_ns);
unsigned int pit_irq0_edges(struct i8254 *t, uint64_t now_ns);
uint64_t pit_next_edge_ns(const struct i8254 *t, uint64_t now_ns);

#endif
