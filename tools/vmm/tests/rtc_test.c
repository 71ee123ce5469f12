// SPDX-License-Identifier: GPL-2.0
/*
 * The MC146818 read the way Linux's mc146818_get_time() reads it, at
 * times whose calendar fields come from `date -u -d ... +%s` and whose
 * encodings are the datasheet's (BCD or binary, 12-hour with bit 7 = PM,
 * weekday 1 = Sunday).
 */
#include "vmm/rtc.h"
#include "tap.h"

#define T_2026_12_05_16_44_19	1796489059	/* a Saturday */
#define T_2000_02_29_00_05_09	951782709	/* a Tuesday */
#define T_1999_12_31_23_59_59	946684799	/* a Friday */
#define T_2024_03_01_12_30_00	1709296200	/* a Friday */

static struct rtc rtc;

static uint8_t cmos_read(uint8_t reg, int64_t now)
{
	uint8_t val = reg;

	rtc_io(&rtc, 0x70, false, &val, now);
	rtc_io(&rtc, 0x71, true, &val, now);
	return val;
}

static void cmos_write(uint8_t reg, uint8_t val)
{
	rtc_io(&rtc, 0x70, false, &reg, 0);
	rtc_io(&rtc, 0x71, false, &val, 0);
}

static void test_registers(void)
{
	uint8_t v;

	rtc_init(&rtc);
	tap_ok(rtc_io(&rtc, 0x70, false, &v, 0) && rtc_io(&rtc, 0x71, true, &v, 0) &&
	       !rtc_io(&rtc, 0x72, true, &v, 0) && !rtc_io(&rtc, 0x74, true, &v, 0),
	       "the RTC claims 0x70 and 0x71 only");
	tap_ok(cmos_read(0x0a, 0) == 0x26 && cmos_read(0x0b, 0) == 0x02 &&
	       cmos_read(0x0c, 0) == 0x00 && cmos_read(0x0d, 0) == 0x80,
	       "A 0x26 (UIP 0), B 0x02, C 0, D 0x80 (VRT)");
	cmos_write(0x0a, 0xa6);
	tap_ok(cmos_read(0x0a, 0) == 0x26, "UIP reads 0 whatever was written");
	cmos_write(0x0c, 0xff);
	cmos_write(0x0d, 0x00);
	tap_ok(cmos_read(0x0c, 0) == 0 && cmos_read(0x0d, 0) == 0x80,
	       "C and D are read-only");
	cmos_write(0x10, 0x5a);
	cmos_write(0x7f, 0xa5);
	tap_ok(cmos_read(0x10, 0) == 0x5a && cmos_read(0x7f, 0) == 0xa5,
	       "CMOS RAM reads back what was written");
	cmos_write(0x8f, 0x33);		/* bit 7 of the index: NMI mask */
	tap_ok(cmos_read(0x0f, 0) == 0x33, "index bit 7 is not part of the address");
	cmos_write(0x00, 0x59);
	tap_ok(cmos_read(0x00, T_2026_12_05_16_44_19) == 0x19,
	       "writes to the time registers are ignored");
}

static void test_bcd_24h(void)
{
	int64_t t = T_2026_12_05_16_44_19;

	rtc_init(&rtc);
	tap_ok(cmos_read(0x00, t) == 0x19 && cmos_read(0x02, t) == 0x44 &&
	       cmos_read(0x04, t) == 0x16, "2026-12-05 16:44:19: BCD 0x19 0x44 0x16");
	tap_ok(cmos_read(0x07, t) == 0x05 && cmos_read(0x08, t) == 0x12 &&
	       cmos_read(0x09, t) == 0x26 && cmos_read(0x32, t) == 0x20,
	       "day 0x05, month 0x12, year 0x26, century 0x20");
	tap_ok(cmos_read(0x06, t) == 0x07, "Saturday is weekday 7");
	t = T_2000_02_29_00_05_09;
	tap_ok(cmos_read(0x07, t) == 0x29 && cmos_read(0x08, t) == 0x02 &&
	       cmos_read(0x09, t) == 0x00 && cmos_read(0x32, t) == 0x20 &&
	       cmos_read(0x06, t) == 0x03 && cmos_read(0x04, t) == 0x00,
	       "2000-02-29 00:05:09: leap day, Tuesday (3), hour 0");
	t = T_1999_12_31_23_59_59;
	tap_ok(cmos_read(0x09, t) == 0x99 && cmos_read(0x32, t) == 0x19 &&
	       cmos_read(0x07, t) == 0x31 && cmos_read(0x06, t) == 0x06 &&
	       cmos_read(0x00, t) == 0x59, "1999-12-31 23:59:59: century 0x19, Friday");
	t = T_2024_03_01_12_30_00;
	tap_ok(cmos_read(0x08, t) == 0x03 && cmos_read(0x07, t) == 0x01 &&
	       cmos_read(0x06, t) == 0x06, "2024-03-01 after a leap February: Friday");
	tap_ok(cmos_read(0x00, 0) == 0x00 && cmos_read(0x09, 0) == 0x70 &&
	       cmos_read(0x32, 0) == 0x19 && cmos_read(0x06, 0) == 0x05,
	       "the epoch: 1970, a Thursday (5)");
}

static void test_binary_12h(void)
{
	int64_t t = T_2026_12_05_16_44_19;

	rtc_init(&rtc);
	cmos_write(0x0b, 0x06);		/* DM = binary, 24-hour */
	tap_ok(cmos_read(0x00, t) == 19 && cmos_read(0x02, t) == 44 &&
	       cmos_read(0x04, t) == 16 && cmos_read(0x07, t) == 5 &&
	       cmos_read(0x08, t) == 12 && cmos_read(0x09, t) == 26 &&
	       cmos_read(0x32, t) == 20, "binary mode: 19 44 16, 5 12 26, 20");
	cmos_write(0x0b, 0x00);		/* BCD, 12-hour */
	tap_ok(cmos_read(0x04, t) == 0x84, "12-hour BCD: 16h is 0x84 (4 PM)");
	tap_ok(cmos_read(0x04, T_2000_02_29_00_05_09) == 0x12,
	       "12-hour: midnight is 12 AM (0x12)");
	tap_ok(cmos_read(0x04, T_2024_03_01_12_30_00) == 0x92,
	       "12-hour: noon is 12 PM (0x92)");
	tap_ok(cmos_read(0x04, T_1999_12_31_23_59_59) == 0x91,
	       "12-hour: 23h is 11 PM (0x91)");
	cmos_write(0x0b, 0x04);		/* binary, 12-hour */
	tap_ok(cmos_read(0x04, T_1999_12_31_23_59_59) == (0x80 | 11),
	       "12-hour binary: 11 | PM");
}

int main(void)
{
	tap_plan(20);
	test_registers();
	test_bcd_24h();
	test_binary_12h();
	return tap_done();
}
