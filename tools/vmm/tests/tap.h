/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A TAP producer for the VMM's unit tests: the plan first (the project's
 * tap-summary.py starts a new test at each plan line), then one line per
 * check, exit status 1 if any failed.
 */
#ifndef VMM_TESTS_TAP_H
#define VMM_TESTS_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define tap_plan(n)	printf("1..%d\n", (n))
#define tap_ok(cond, ...) do {						\
	int tap_pass_ = !!(cond);					\
									\
	tap_n++;							\
	if (!tap_pass_)							\
		tap_failed++;						\
	printf("%sok %d - ", tap_pass_ ? "" : "not ", tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)
#define tap_skip(...) do {						\
	tap_n++;							\
	printf("ok %d - # SKIP ", tap_n);				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)
#define tap_done()	(tap_failed ? 1 : 0)

#endif
