/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the default CPUID table may tell a guest: pure logic, used by
 * vmx/cpuid.c and by the userspace unit tests
 * (selftests/unit/cpuid_policy_test.c).
 */
#ifndef VMXLAB_CPUID_POLICY_H
#define VMXLAB_CPUID_POLICY_H

#include <linux/types.h>

/* What the host gives the guest to work with. */
struct cpuid_host {
	u64 xcr0;		/* the host's XCR0; 0: no XSAVE (no CR4.OSXSAVE) */
};

void cpuid_policy_filter(u32 function, u32 index, u32 regs[4],
			 const struct cpuid_host *host);

#endif /* VMXLAB_CPUID_POLICY_H */
