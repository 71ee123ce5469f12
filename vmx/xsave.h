/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XCR0 as a guest's XSETBV may set it: pure logic, used by the XSETBV exit
 * handler (vmx/exits.c) and by the userspace unit tests
 * (selftests/unit/xsave_test.c).  A value this rejects gets #GP(0) in the
 * guest; a value it accepts is loaded into the real XCR0 before the next
 * VM entry, where an invalid one would fault in the host instead.
 */
#ifndef VMXLAB_XSAVE_H
#define VMXLAB_XSAVE_H

#include <linux/bits.h>
#include <linux/types.h>

/* XCR0 state-component bits (SDM Vol. 1, 13.1 and 13.3). */
#define XCR0_X87		BIT_ULL(0)
#define XCR0_SSE		BIT_ULL(1)
#define XCR0_YMM		BIT_ULL(2)	/* AVX */
#define XCR0_BNDREGS		BIT_ULL(3)	/* MPX */
#define XCR0_BNDCSR		BIT_ULL(4)	/* MPX */
#define XCR0_OPMASK		BIT_ULL(5)	/* AVX-512 */
#define XCR0_ZMM_HI256		BIT_ULL(6)	/* AVX-512 */
#define XCR0_HI16_ZMM		BIT_ULL(7)	/* AVX-512 */
#define XCR0_PKRU		BIT_ULL(9)
#define XCR0_TILECFG		BIT_ULL(17)	/* AMX */
#define XCR0_TILEDATA		BIT_ULL(18)	/* AMX */

#define XCR0_MPX		(XCR0_BNDREGS | XCR0_BNDCSR)
#define XCR0_AVX512		(XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XCR0_AMX		(XCR0_TILECFG | XCR0_TILEDATA)

/*
 * Supervisor state components (PT, PASID, CET user and supervisor, HDC,
 * UINTR, LBR, HWP): managed through IA32_XSS, never through XCR0, where
 * their bits are reserved (SDM Vol. 1, 13.2).
 */
#define XCR0_SUPERVISOR_BITS	(BIT_ULL(8) | (0x1fULL << 10) | BIT_ULL(15) | \
				 BIT_ULL(16))

bool xcr0_valid(u64 xcr0, u64 allowed);

#endif /* VMXLAB_XSAVE_H */
