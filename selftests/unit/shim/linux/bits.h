/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for the kernel-internal <linux/bits.h>, which
 * include/vmxlab/vmx_arch.h uses: BIT() and BIT_ULL() with the kernel's
 * types.  The unit-test build searches this directory after the system's.
 */
#ifndef VMXLAB_UNIT_SHIM_LINUX_BITS_H
#define VMXLAB_UNIT_SHIM_LINUX_BITS_H

#define BIT(nr)		(1UL << (nr))
#define BIT_ULL(nr)	(1ULL << (nr))

#endif /* VMXLAB_UNIT_SHIM_LINUX_BITS_H */
