/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Known-good guests for vmxlab_fuzz (guest.c): memory with page tables,
 * descriptor tables and exception handlers, a valid register state in
 * real, 32-bit protected (paging off, 32-bit or PAE paging) or long mode,
 * and code made of exiting instructions with their operands set up.
 */
#ifndef VMXLAB_FUZZ_GUEST_H
#define VMXLAB_FUZZ_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <uapi/linux/vmxlab.h>

/*
 * One slot per VM at 512 KiB: below 1 MiB for real mode, and above the
 * 256 KiB where the fuzzer's random slots go (op_memory_region).
 */
#define GUEST_SLOT		12
#define GUEST_GPA		0x80000ULL
#define GUEST_SIZE		0x40000ULL
#define GUEST_CODE_OFF		0x10000ULL	/* 64 KiB of code ... */
#define GUEST_CODE_SIZE		0x10000ULL
#define GUEST_DATA_OFF		0x20000ULL	/* ... then 128 KiB of data */

enum guest_mode {
	GUEST_REAL,		/* EPT VMs only: unrestricted guest */
	GUEST_PROT32,		/* flat 32-bit segments, paging off */
	GUEST_PAGED32,		/* 32-bit paging, 4 MiB pages but the first 4 */
	GUEST_PAE,		/* PAE paging: the PDPTEs */
	GUEST_LONG,		/* 4-level paging, 64-bit code */
	GUEST_NR_MODES
};

/* The fuzzer's generator (vmxlab_fuzz.c): the same program, the same guest. */
__u64 fuzz_rnd(void);

/* Page tables, GDT, IDT, handlers and code for @mode in @mem (GUEST_SIZE). */
void guest_build(__u8 *mem, enum guest_mode mode);
/*
 * The registers that start @mode's code, from the reset state in @s
 * (GET_SREGS of a vCPU): valid for VM entry as they are.
 */
void guest_state(enum guest_mode mode, struct vmxlab_sregs *s,
		 struct vmxlab_regs *r);
/* @n bytes of exiting instructions at offset @off of the code region. */
void guest_plant(__u8 *mem, enum guest_mode mode, size_t off, size_t n);

#endif
