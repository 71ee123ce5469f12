/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for the kernel-internal <linux/cpumask.h>, for
 * mmu/ept_sync.c: a 64-CPU mask and the operations that file uses, with
 * the kernel's names and meanings.
 */
#ifndef VMXLAB_UNIT_SHIM_LINUX_CPUMASK_H
#define VMXLAB_UNIT_SHIM_LINUX_CPUMASK_H

#include <stdbool.h>
#include <linux/types.h>

#define NR_CPUS		64

struct cpumask {
	__u64 bits;
};

static inline void cpumask_clear(struct cpumask *m)
{
	m->bits = 0;
}

static inline void cpumask_set_cpu(unsigned int cpu, struct cpumask *m)
{
	m->bits |= 1ULL << cpu;
}

static inline bool cpumask_test_cpu(int cpu, const struct cpumask *m)
{
	return m->bits >> cpu & 1;
}

static inline void cpumask_copy(struct cpumask *dst, const struct cpumask *src)
{
	dst->bits = src->bits;
}

#endif /* VMXLAB_UNIT_SHIM_LINUX_CPUMASK_H */
