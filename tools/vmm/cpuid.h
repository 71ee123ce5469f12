/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID table vmxlab-run gives its guest: vmxlab's supported table
 * with every feature taken away that this VMM has no device or MSR for.
 * Pure, so that a unit test can check it against the SDM's bit numbers.
 */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stdint.h>

#include <uapi/linux/vmxlab.h>

int vmm_cpuid_policy(struct vmxlab_cpuid_entry *e, uint32_t *nent,
		     uint32_t max, uint32_t tsc_khz);

#endif
