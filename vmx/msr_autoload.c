// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping the VM-entry and VM-exit MSR-load areas: an MSR whose guest
 * and host values differ is in both (guest value loaded on entry, host
 * value on exit), one whose values agree is in neither, so the CPU does
 * no work for it.
 */
#include <linux/errno.h>

#include "msr_autoload.h"

static int find(const struct msr_autoload *m, u32 msr)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->guest[i].index == msr)
			return i;
	return -1;
}

/**
 * msr_autoload_set() - switch @msr to @guest on entry and @host on exit
 * @m:     the vCPU's areas
 * @msr:   MSR index
 * @guest: value while the guest runs
 * @host:  value after the exit
 *
 * Return: 0, or -ENOSPC when both areas are full.
 */
int msr_autoload_set(struct msr_autoload *m, u32 msr, u64 guest, u64 host)
{
	int i = find(m, msr);

	if (i < 0) {
		if (m->nr == MSR_AUTOLOAD_MAX)
			return -ENOSPC;
		i = m->nr++;
		m->guest[i] = (struct vmx_msr_entry) { .index = msr };
		m->host[i] = (struct vmx_msr_entry) { .index = msr };
	}
	m->guest[i].value = guest;
	m->host[i].value = host;
	return 0;
}

/**
 * msr_autoload_clear() - stop switching @msr
 * @m:   the vCPU's areas
 * @msr: MSR index; nothing happens if it is not switched
 *
 * The last entry moves into the hole, so the areas stay dense.
 */
void msr_autoload_clear(struct msr_autoload *m, u32 msr)
{
	int i = find(m, msr);

	if (i < 0)
		return;
	m->nr--;
	m->guest[i] = m->guest[m->nr];
	m->host[i] = m->host[m->nr];
}
