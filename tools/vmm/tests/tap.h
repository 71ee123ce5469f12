/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A TAP producer for the VMM's unit tests: the plan first (the project's
 * tap-summary.py starts a new test at each plan line), then one line per
 * check, exit status 1 if any failed.
 */
#ifndef VMM_TESTS_TAP_H
#define VMM_TESTS_TAP_H

#include <stdio.h>

static int tap_n, tap_failed, tap_planned;

#define tap_plan(n)	printf("1..%d\n", (tap_planned = (n)))
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
/* A plan that does not match the checks made is a failure too. */
static inline int tap_done(void)
{
	if (tap_n != tap_planned) {
		printf("# planned %d checks, made %d\n", tap_planned, tap_n);
		return 1;
	}
	return tap_failed ? 1 : 0;
}

#endif
