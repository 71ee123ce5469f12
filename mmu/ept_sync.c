// SPDX-License-Identifier: GPL-2.0
/*
 * Which CPUs must INVEPT an EPT pointer, and when.  A logical processor
 * may cache translations and paging-structure entries for any EPTP it has
 * used, and keeps them across VM exits, VMCLEAR and even VMXOFF, until an
 * INVEPT (SDM Vol. 3C, 29.4.3).  Three moments matter:
 *
 *  - before a CPU first runs a guest on the EPTP: the root page may have
 *    been another VM's root (ours or another hypervisor's) whose entries
 *    that CPU still caches;
 *  - after leaves were made not-present: every CPU that used the EPTP,
 *    before the pages they pointed at are unpinned;
 *  - before the tables are freed: every CPU that used the EPTP, so that
 *    nothing cached points into freed pages when the root is reused.
 *
 * A CPU that comes back online does a global INVEPT after VMXON (vmxon.c),
 * so it may stay in @used.
 */
#include "ept_sync.h"

/**
 * ept_sync_before_entry() - must this CPU INVEPT before it runs the guest?
 * @used: CPUs that may cache the EPTP's translations; updated
 * @cpu:  the CPU about to enter a vCPU of the VM
 *
 * Return: true on the first entry on @cpu since the tables were allocated.
 */
bool ept_sync_before_entry(struct cpumask *used, unsigned int cpu)
{
	/* Tested first: entries on a known CPU need no atomic operation. */
	if (cpumask_test_cpu(cpu, used))
		return false;
	cpumask_set_cpu(cpu, used);
	return true;
}

/**
 * ept_sync_after_unmap() - the CPUs that must INVEPT after leaves went away
 * @used:    CPUs that may cache the EPTP's translations; forgotten when
 *	     @freeing, since the EPTP will not be used again
 * @freeing: the tables themselves are about to be freed
 * @flush:   filled with the CPUs that must INVEPT the EPTP now
 */
void ept_sync_after_unmap(struct cpumask *used, bool freeing,
			  struct cpumask *flush)
{
	cpumask_copy(flush, used);
	if (freeing)
		cpumask_clear(used);
}
