/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When cached EPT translations must go, and on which CPUs: pure logic on
 * cpumasks, used by mmu/ept.c and vmx/run.c and by the userspace unit
 * tests (selftests/unit/ept_sync_test.c).
 */
#ifndef VMXLAB_EPT_SYNC_H
#define VMXLAB_EPT_SYNC_H

#include <linux/cpumask.h>
#include <linux/types.h>

bool ept_sync_before_entry(struct cpumask *used, unsigned int cpu);
void ept_sync_after_unmap(struct cpumask *used, bool freeing,
			  struct cpumask *flush);

#endif /* VMXLAB_EPT_SYNC_H */
