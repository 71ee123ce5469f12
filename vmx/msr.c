// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs a guest may use.  Every RDMSR/WRMSR exits (the MSR bitmap is
 * all ones), and exits.c asks vmx_get_msr()/vmx_set_msr(); the
 * VMXLAB_GET_MSRS/SET_MSRS ioctls use the same two functions.  An MSR
 * outside this set is a #GP in the guest and an error for the ioctl.
 */
#include <linux/errno.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "vcpu.h"
#include "vmcs.h"

/* Canonical for 48-bit linear addresses (SDM Vol. 1, 3.3.7.1). */
static bool is_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

/*
 * IA32_KERNEL_GS_BASE is not part of the VMCS: while the vCPU is loaded
 * the guest's value sits in the real MSR (run.c switches it), so that the
 * guest's SWAPGS works without an exit.  The SYSCALL MSRs are in the CPU
 * as well while the vCPU is loaded, but their copy in the vCPU is the one
 * to read (vmx_set_syscall_msr() keeps both equal).
 */
static int syscall_msr(u32 index)
{
	int i;

	for (i = 0; i < NR_SYSCALL_MSRS; i++)
		if (vmx_syscall_msrs[i] == index)
			return i;
	return -1;
}

/*
 * IA32_MISC_ENABLE (SDM Vol. 4, Table 2-2), read by Linux's early Intel
 * set-up without a _safe accessor: fast strings on (REP MOVS/STOS run
 * natively), and branch trace store and PEBS unavailable (CPUID hides the
 * debug store).  Everything else reads 0, which also says: no performance
 * monitoring (bit 7), no MONITOR/MWAIT (bit 18, as CPUID says), CPUID not
 * limited (bit 22).  None of it can change in a guest: a WRMSR must write
 * this same value.
 */
#define GUEST_MISC_ENABLE	(MSR_IA32_MISC_ENABLE_FAST_STRING | \
				 MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | \
				 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)

/*
 * IA32_BIOS_SIGN_ID: the microcode revision is in bits 63:32 after a
 * WRMSR of 0 and a CPUID (SDM Vol. 3A, 10.11.7.1).  The guest cannot load
 * microcode; it reads a fixed revision 1 and its writes are ignored.
 */
#define GUEST_UCODE_REV		BIT_ULL(32)

/* MSRs that are natural-width address fields of the guest-state area. */
static u32 vmcs_address_field(u32 index)
{
	switch (index) {
	case MSR_IA32_SYSENTER_ESP:
		return VMCS_GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:
		return VMCS_GUEST_SYSENTER_EIP;
	case MSR_FS_BASE:
		return VMCS_GUEST_FS_BASE;
	case MSR_GS_BASE:
		return VMCS_GUEST_GS_BASE;
	default:
		return 0;
	}
}

int vmx_get_msr(struct vmx_vcpu *vcpu, u32 index, u64 *data)
{
	int syscall = syscall_msr(index);
	u32 field = vmcs_address_field(index);

	if (syscall >= 0) {
		*data = vcpu->guest_syscall_msrs[syscall];
		return 0;
	}
	if (field) {
		*data = vmcs_readl(field);
		return 0;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read32(VMCS_GUEST_SYSENTER_CS);
		return 0;
	case MSR_IA32_CR_PAT:
		*data = vcpu->guest_pat;
		return 0;
	case MSR_KERNEL_GS_BASE:
		rdmsrl(MSR_KERNEL_GS_BASE, *data);
		return 0;
	case MSR_EFER:
		*data = vmx_read_guest_efer(vcpu);
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc();
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = GUEST_MISC_ENABLE;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = GUEST_UCODE_REV;
		return 0;
	default:
		return -EINVAL;
	}
}

/* WRMSR to EFER: LME may not change while paging is on (SDM Vol. 3A, 9.8.5). */
static int set_efer(struct vmx_vcpu *vcpu, u64 efer)
{
	u64 old = vmx_read_guest_efer(vcpu);
	bool paging = vmx_read_guest_cr0() & X86_CR0_PG;

	if (efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return -EINVAL;
	if (paging && ((efer ^ old) & EFER_LME))
		return -EINVAL;
	/* LMA is read-only: the CPU sets it when paging is enabled. */
	efer = (efer & ~(u64)EFER_LMA) | (old & EFER_LMA);
	vmx_write_guest_efer(vcpu, efer);
	/* NXE decides what XD means in the guest's tables. */
	if (vcpu_is_shadow(vcpu) && ((efer ^ old) & EFER_NX))
		vmx_shadow_flush(vcpu);
	return 0;
}

/* Each PAT entry must name a memory type: 0, 1, 4, 5, 6 or 7 (SDM 13.12.2). */
static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (8 * i);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* What WRMSR accepts for the SYSCALL MSRs; STAR takes any value. */
static bool syscall_msr_valid(u32 index, u64 data)
{
	switch (index) {
	case MSR_LSTAR:
	case MSR_CSTAR:
		return is_canonical(data);
	case MSR_SYSCALL_MASK:
		return !(data >> 32);
	default:
		return true;
	}
}

int vmx_set_msr(struct vmx_vcpu *vcpu, u32 index, u64 data)
{
	int syscall = syscall_msr(index);
	u32 field = vmcs_address_field(index);

	if (syscall >= 0) {
		if (!syscall_msr_valid(index, data))
			return -EINVAL;
		vmx_set_syscall_msr(vcpu, syscall, data);
		return 0;
	}
	if (field || index == MSR_KERNEL_GS_BASE) {
		if (!is_canonical(data))
			return -EINVAL;
		if (field)
			vmcs_writel(field, data);
		else
			wrmsrl(MSR_KERNEL_GS_BASE, data);
		return 0;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		vmcs_write32(VMCS_GUEST_SYSENTER_CS, data);
		return 0;
	case MSR_EFER:
		return set_efer(vcpu, data);
	case MSR_IA32_CR_PAT:
		if (!pat_valid(data))
			return -EINVAL;
		vcpu->guest_pat = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		return data == GUEST_MISC_ENABLE ? 0 : -EINVAL;
	case MSR_IA32_UCODE_REV:
		return 0;
	default:
		return -EINVAL;
	}
}
