// SPDX-License-Identifier: GPL-2.0
/*
 * The rule of the default CPUID table: a feature is advertised only if
 * vmxlab makes it work in the guest.  Instructions that run natively in
 * VMX non-root operation pass through; so do features behind control
 * bits the guest owns (CR4.SMEP, SMAP, FSGSBASE, UMIP) and MSRs vmxlab
 * emulates (SYSENTER, PAT, EFER).  Everything that needs an exit vmxlab
 * does not enable, a device it does not have (APIC, PMU, MCA, thermal),
 * or an MSR that raises #GP is hidden.  Documentation/api.rst lists it.
 *
 * Leaves not named here pass through (vendor, cache and topology leaves,
 * brand string); leaves of hidden features read as zeros.
 */
#include <linux/bits.h>

#include "cpuid_policy.h"
#include "xsave.h"

enum { EAX, EBX, ECX, EDX };

/* Leaf 1 (SDM Vol. 2A, CPUID, Tables 3-10 and 3-11). */
/*
 * SSE3 PCLMULQDQ SSSE3 FMA CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES XSAVE AVX
 * F16C RDRAND; OSXSAVE and the hypervisor bit are set by vmx/cpuid.c from
 * the guest's CR4
 */
#define L1_ECX_ALLOWED	(BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | \
			 BIT(19) | BIT(20) | BIT(22) | BIT(23) | BIT(25) | \
			 BIT(26) | BIT(28) | BIT(29) | BIT(30))
/*
 * FPU VME DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE36 CLFSH MMX FXSR SSE
 * SSE2 SS HTT; not MCE, APIC, MTRR, MCA, PSN, DS, ACPI, TM, PBE
 */
#define L1_EDX_ALLOWED	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | \
			 BIT(5) | BIT(6) | BIT(8) | BIT(11) | BIT(13) | \
			 BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | \
			 BIT(24) | BIT(25) | BIT(26) | BIT(27) | BIT(28))
/* Leaf 1 bits that are VEX-encoded: they need the AVX state in XCR0. */
#define L1_ECX_NEED_YMM	(BIT(12) | BIT(28) | BIT(29))

/* Leaf 7, subleaf 0 (SDM Vol. 2A, Table 3-8). */
/*
 * FSGSBASE BMI1 HLE AVX2 FDP_EXCPTN_ONLY SMEP BMI2 ERMS RTM
 * FPU_CSDS_DEPRECATED AVX512F/DQ RDSEED ADX SMAP AVX512_IFMA CLFLUSHOPT
 * CLWB AVX512PF/ER/CD SHA AVX512BW/VL; not TSC_ADJUST, SGX, INVPCID, RDT,
 * MPX, Intel PT
 */
#define L7_EBX_ALLOWED	(BIT(0) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | \
			 BIT(7) | BIT(8) | BIT(9) | BIT(11) | BIT(13) | \
			 BIT(16) | BIT(17) | BIT(18) | BIT(19) | BIT(20) | \
			 BIT(21) | BIT(23) | BIT(24) | BIT(26) | BIT(27) | \
			 BIT(28) | BIT(29) | BIT(30) | BIT(31))
#define L7_EBX_NEED_YMM	BIT(5)
#define L7_EBX_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | \
			 BIT(28) | BIT(30) | BIT(31))
/*
 * PREFETCHWT1 AVX512_VBMI UMIP AVX512_VBMI2 GFNI VAES VPCLMULQDQ
 * AVX512_VNNI AVX512_BITALG AVX512_VPOPCNTDQ MOVDIRI MOVDIR64B; not
 * PKU/OSPKE, WAITPKG, CET, LA57, RDPID, SGX_LC, PKS
 */
#define L7_ECX_ALLOWED	(BIT(0) | BIT(1) | BIT(2) | BIT(6) | BIT(8) | \
			 BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(14) | \
			 BIT(27) | BIT(28))
#define L7_ECX_AVX512	(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_NEED_YMM	(BIT(9) | BIT(10))
/*
 * AVX512_4VNNIW AVX512_4FMAPS FSRM MD_CLEAR SERIALIZE; not
 * TSX_FORCE_ABORT, hybrid, PCONFIG, CET_IBT, AMX, SPEC_CTRL, STIBP,
 * L1D_FLUSH, ARCH_CAPABILITIES, CORE_CAPABILITIES, SSBD
 */
#define L7_EDX_ALLOWED	(BIT(2) | BIT(3) | BIT(4) | BIT(10) | BIT(14))
#define L7_EDX_AVX512	(BIT(2) | BIT(3))

/* Leaf 0x80000001 (SDM Vol. 2A, Table 3-8). */
#define LX1_ECX_ALLOWED	(BIT(0) | BIT(5) | BIT(8))	/* LAHF LZCNT PREFETCHW */
/* SYSCALL NX 1G-pages LM; not RDTSCP (TSC_AUX is not switched) */
#define LX1_EDX_ALLOWED	(BIT(11) | BIT(20) | BIT(26) | BIT(29))

/* Leaf 0xD, subleaf 1: XSAVEOPT, XSAVEC, XGETBV with ECX=1; not XSAVES. */
#define LD1_EAX_ALLOWED	(BIT(0) | BIT(1) | BIT(2))

/* Whole leaves of features a guest does not get. */
static bool leaf_hidden(u32 function)
{
	switch (function) {
	case 0x5:	/* MONITOR/MWAIT */
	case 0x6:	/* thermal and power management */
	case 0xa:	/* architectural performance monitoring */
	case 0xf:	/* RDT monitoring */
	case 0x10:	/* RDT allocation */
	case 0x12:	/* SGX */
	case 0x14:	/* Intel PT */
	case 0x1b:	/* PCONFIG */
	case 0x1d:	/* AMX tiles */
	case 0x1e:	/* AMX TMUL */
		return true;
	default:
		return false;
	}
}

static void clear(u32 regs[4])
{
	regs[EAX] = 0;
	regs[EBX] = 0;
	regs[ECX] = 0;
	regs[EDX] = 0;
}

static void filter_leaf7(u32 index, u32 regs[4], u64 xcr0)
{
	bool ymm = xcr0 & XCR0_YMM;
	bool avx512 = (xcr0 & XCR0_AVX512) == XCR0_AVX512;

	if (index != 0) {
		clear(regs);
		return;
	}
	regs[EAX] = 0;		/* no further subleaves */
	regs[EBX] &= L7_EBX_ALLOWED;
	regs[ECX] &= L7_ECX_ALLOWED;
	regs[EDX] &= L7_EDX_ALLOWED;
	if (!ymm) {
		regs[EBX] &= ~L7_EBX_NEED_YMM;
		regs[ECX] &= ~L7_ECX_NEED_YMM;
	}
	if (!avx512) {
		regs[EBX] &= ~L7_EBX_AVX512;
		regs[ECX] &= ~L7_ECX_AVX512;
		regs[EDX] &= ~L7_EDX_AVX512;
	}
}

/* XSAVE components: only those the host enables in XCR0. */
static void filter_leaf_d(u32 index, u32 regs[4], u64 xcr0)
{
	if (!xcr0) {
		clear(regs);
		return;
	}
	switch (index) {
	case 0:
		regs[EAX] &= (u32)xcr0;
		regs[EDX] &= (u32)(xcr0 >> 32);
		return;
	case 1:
		regs[EAX] &= LD1_EAX_ALLOWED;
		regs[ECX] = 0;		/* no IA32_XSS components */
		regs[EDX] = 0;
		return;
	default:
		if (index >= 64 || !(xcr0 & BIT_ULL(index)))
			clear(regs);
		return;
	}
}

/**
 * cpuid_policy_filter() - reduce the host's CPUID to what a guest gets
 * @function: leaf (EAX)
 * @index:    subleaf (ECX)
 * @regs:     EAX, EBX, ECX, EDX as the host's CPUID returned them
 * @host:     what the host gives guests
 */
void cpuid_policy_filter(u32 function, u32 index, u32 regs[4],
			 const struct cpuid_host *host)
{
	bool ymm = host->xcr0 & XCR0_YMM;

	if (leaf_hidden(function)) {
		clear(regs);
		return;
	}
	switch (function) {
	case 1:
		regs[ECX] &= L1_ECX_ALLOWED;
		if (!host->xcr0)
			regs[ECX] &= ~BIT(26);		/* XSAVE */
		if (!ymm)
			regs[ECX] &= ~L1_ECX_NEED_YMM;
		regs[EDX] &= L1_EDX_ALLOWED;
		break;
	case 7:
		filter_leaf7(index, regs, host->xcr0);
		break;
	case 0xd:
		filter_leaf_d(index, regs, host->xcr0);
		break;
	case 0x80000001:
		regs[ECX] &= LX1_ECX_ALLOWED;
		regs[EDX] &= LX1_EDX_ALLOWED;
		break;
	case 0x80000007:
		clear(regs);	/* power management, invariant TSC */
		break;
	case 0x80000008:
		regs[EBX] = 0;	/* WBNOINVD, IBPB and friends */
		break;
	}
}
