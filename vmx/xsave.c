// SPDX-License-Identifier: GPL-2.0
/*
 * Which XCR0 values XSETBV accepts.  The guest's XSETBV always exits
 * (SDM Vol. 3C, 26.1.2); vmx/exits.c asks xcr0_valid() before it keeps the
 * value, because run.c loads the guest's XCR0 with the host's own XSETBV
 * before the next entry, and a value the CPU refuses would take #GP there,
 * in the host, with interrupts off.
 */
#include "xsave.h"

/* Both bits of a pair, or neither. */
static bool all_or_none(u64 xcr0, u64 bits)
{
	return (xcr0 & bits) == 0 || (xcr0 & bits) == bits;
}

/**
 * xcr0_valid() - would XSETBV load @xcr0 into XCR0 without #GP(0)?
 * @xcr0:    the value the guest wrote (EDX:EAX)
 * @allowed: the state components the guest may enable: the host's own
 *	     XCR0, since the guest's state is kept in a buffer sized for it
 *
 * The #GP(0) conditions of XSETBV (SDM Vol. 2D, "XSETBV") and the
 * dependencies of SDM Vol. 1, 13.3, for a processor that supports the
 * components in @allowed.
 *
 * Return: true if XSETBV would load @xcr0.
 */
bool xcr0_valid(u64 xcr0, u64 allowed)
{
	/* x87 state can never be disabled. */
	if (!(xcr0 & XCR0_X87))
		return false;
	/* Reserved bits, supervisor components, and what is not offered. */
	if (xcr0 & (XCR0_SUPERVISOR_BITS | BIT_ULL(63) | ~allowed))
		return false;
	/* AVX state extends SSE state. */
	if ((xcr0 & XCR0_YMM) && !(xcr0 & XCR0_SSE))
		return false;
	/* MPX: the bounds registers and their configuration together. */
	if (!all_or_none(xcr0, XCR0_MPX))
		return false;
	/* AVX-512: the three components together, and only with AVX. */
	if (!all_or_none(xcr0, XCR0_AVX512) ||
	    ((xcr0 & XCR0_AVX512) && !(xcr0 & XCR0_YMM)))
		return false;
	/* AMX: the tile configuration and the tile data together. */
	return all_or_none(xcr0, XCR0_AMX);
}
