// SPDX-License-Identifier: GPL-2.0
/*
 * The MC146818 RTC as Linux's mc146818_get_time() reads it: wait for UIP
 * to clear in register A, read the time registers, look at register B for
 * BCD and 12/24-hour, and the century at 0x32 (the PC's convention).
 * Register names follow Motorola's MC146818A datasheet.
 */
#include "vmm/rtc.h"

#define PORT_INDEX	0x70
#define PORT_DATA	0x71
#define INDEX_MASK	0x7f	/* bit 7 is the board's NMI mask, not ours */

#define REG_SECONDS	0x00
#define REG_MINUTES	0x02
#define REG_HOURS	0x04
#define REG_WEEKDAY	0x06
#define REG_DAY		0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

/*
 * Register A: UIP (bit 7) is always 0, since the time is never halfway
 * through an update here; DV2-0 = 010 (32.768 kHz time base) and RS3-0 =
 * 0110 (1024 Hz), what a PC BIOS leaves.
 */
#define A_UIP		0x80
#define A_DEFAULT	0x26
#define B_24H		0x02
#define B_DM		0x04	/* data mode: 1 binary, 0 BCD */
#define B_DEFAULT	B_24H
#define D_VRT		0x80	/* valid RAM and time: the battery is fine */
#define HOUR_PM		0x80

#define SECS_PER_DAY	86400

/* The calendar fields, as the registers hold them before encoding. */
struct rtc_time {
	unsigned int sec, min, hour, weekday, day, month, year;
};

static bool leap(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int month_days(unsigned int y, unsigned int m)
{
	static const uint8_t days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return days[m - 1] + (m == 2 && leap(y));
}

/*
 * UTC calendar time from seconds since 1970-01-01 (a Thursday).  The
 * weekday register counts 1 = Sunday to 7 = Saturday.  Times before 1970
 * read as the epoch: no host clock is set that far back.
 */
static struct rtc_time to_calendar(int64_t unix_seconds)
{
	struct rtc_time t;
	uint64_t s = unix_seconds > 0 ? (uint64_t)unix_seconds : 0;
	uint64_t days = s / SECS_PER_DAY;

	t.sec = s % 60;
	t.min = s / 60 % 60;
	t.hour = s / 3600 % 24;
	t.weekday = (days + 4) % 7 + 1;
	t.year = 1970;
	while (days >= (leap(t.year) ? 366U : 365U))
		days -= leap(t.year++) ? 366 : 365;
	t.month = 1;
	while (days >= month_days(t.year, t.month))
		days -= month_days(t.year, t.month++);
	t.day = days + 1;
	return t;
}

static uint8_t encode(const struct rtc *r, unsigned int v)
{
	if (r->ram[REG_B] & B_DM)
		return v;
	return (v / 10) << 4 | v % 10;
}

/* 12-hour mode: 12 AM, 1-11 AM, 12 PM, 1-11 PM; bit 7 is PM. */
static uint8_t encode_hour(const struct rtc *r, unsigned int hour)
{
	unsigned int h12 = hour % 12 ? hour % 12 : 12;

	if (r->ram[REG_B] & B_24H)
		return encode(r, hour);
	return encode(r, h12) | (hour >= 12 ? HOUR_PM : 0);
}

/* The time registers, or -1 for a plain CMOS byte. */
static int read_time(const struct rtc *r, uint8_t reg, int64_t unix_seconds)
{
	struct rtc_time t = to_calendar(unix_seconds);

	switch (reg) {
	case REG_SECONDS:
		return encode(r, t.sec);
	case REG_MINUTES:
		return encode(r, t.min);
	case REG_HOURS:
		return encode_hour(r, t.hour);
	case REG_WEEKDAY:
		return encode(r, t.weekday);
	case REG_DAY:
		return encode(r, t.day);
	case REG_MONTH:
		return encode(r, t.month);
	case REG_YEAR:
		return encode(r, t.year % 100);
	case REG_CENTURY:
		return encode(r, t.year / 100);
	}
	return -1;
}

static uint8_t read_data(const struct rtc *r, int64_t unix_seconds)
{
	int v = read_time(r, r->index, unix_seconds);

	if (v >= 0)
		return v;
	switch (r->index) {
	case REG_A:
		return r->ram[REG_A] & ~A_UIP;
	case REG_C:
		return 0;	/* no interrupt flags: IRQ8 is never raised */
	case REG_D:
		return D_VRT;
	}
	return r->ram[r->index];
}

/*
 * Writes to the time registers are dropped: the guest's clock is the
 * host's, so setting it (hwclock --systohc) changes nothing.  Registers
 * C and D are read-only; A and B keep what is written, and B's DM and
 * 24/12 bits change how the time reads from then on.
 */
static void write_data(struct rtc *r, uint8_t val)
{
	if (read_time(r, r->index, 0) >= 0 ||
	    r->index == REG_C || r->index == REG_D)
		return;
	r->ram[r->index] = val;
}

void rtc_init(struct rtc *r)
{
	*r = (struct rtc) { 0 };
	r->ram[REG_A] = A_DEFAULT;
	r->ram[REG_B] = B_DEFAULT;
}

/* Port 0x70 is write-only on the PC; reading it gives the bus's 0xff. */
bool rtc_io(struct rtc *r, uint16_t port, bool in, uint8_t *val,
	    int64_t unix_seconds)
{
	if (port == PORT_INDEX) {
		if (in)
			*val = 0xff;
		else
			r->index = *val & INDEX_MASK;
		return true;
	}
	if (port != PORT_DATA)
		return false;
	if (in)
		*val = read_data(r, unix_seconds);
	else
		write_data(r, *val);
	return true;
}
