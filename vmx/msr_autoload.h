/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSRs the CPU switches itself on VM entry and VM exit, through the
 * VM-entry and VM-exit MSR-load areas (SDM Vol. 3C, 25.7.2 and 25.8.2):
 * pure bookkeeping of the two areas, used by vmx/run.c for the MSRs perf
 * wants switched, and by the userspace unit tests
 * (selftests/unit/msr_autoload_test.c).
 */
#ifndef VMXLAB_MSR_AUTOLOAD_H
#define VMXLAB_MSR_AUTOLOAD_H

#include <linux/types.h>

#define MSR_AUTOLOAD_MAX	8

/* One entry of an MSR-load area (SDM Vol. 3C, Table 25-15). */
struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
};

/*
 * guest[i] is loaded on VM entry and host[i] on VM exit, for the same
 * MSR; the first nr entries of each are in use.  The areas must be
 * 16-byte aligned: place this structure on a 16-byte boundary (struct
 * vmx_vcpu holds it so).
 */
struct msr_autoload {
	struct vmx_msr_entry guest[MSR_AUTOLOAD_MAX];
	struct vmx_msr_entry host[MSR_AUTOLOAD_MAX];
	unsigned int nr;
};

int msr_autoload_set(struct msr_autoload *m, u32 msr, u64 guest, u64 host);
void msr_autoload_clear(struct msr_autoload *m, u32 msr);

#endif /* VMXLAB_MSR_AUTOLOAD_H */
