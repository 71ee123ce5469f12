/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's MC146818 real-time clock and CMOS RAM: index port 0x70, data
 * port 0x71.  Pure: the time comes in as unix_seconds (UTC) with every
 * access, so the guest's clock is the host's and a test can pick any.
 */
#ifndef VMM_RTC_H
#define VMM_RTC_H

#include <stdbool.h>
#include <stdint.h>

struct rtc {
	uint8_t index;		/* the register port 0x71 reaches */
	uint8_t ram[128];	/* also holds registers A and B */
};

void rtc_init(struct rtc *r);
bool rtc_io(struct rtc *r, uint16_t port, bool in, uint8_t *val,
	    int64_t unix_seconds);

#endif
