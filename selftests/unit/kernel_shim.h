/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's type vocabulary for vmx/caps.c to build as
 * plain userspace C: the unit tests compile and link the very file the
 * module does, force-included ahead of it with "-include".
 */
#ifndef VMXLAB_UNIT_KERNEL_SHIM_H
#define VMXLAB_UNIT_KERNEL_SHIM_H

#include <stdbool.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#endif /* VMXLAB_UNIT_KERNEL_SHIM_H */
