// SPDX-License-Identifier: GPL-2.0
/*
 * Control- and debug-register exits.  Only the CR0/CR4 bits vmxlab owns
 * (CR0.NE, CR4.VMXE, and CR4.OSXSAVE on a host without it; in shadow-paging
 * VMs also the paging bits, CR0_SHADOW_OWNED and CR4_SHADOW_OWNED in
 * vmcs.c), CR3 in shadow-paging VMs, CR8 and every MOV DR exit; exits.c
 * dispatches
 * EXIT_REASON_CR_ACCESS and EXIT_REASON_DR_ACCESS here.  SDM Vol. 3C,
 * 26.1.3 and Table 28-3 (the exit qualification).
 */
#include <linux/bitfield.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include "vcpu.h"
#include "vmcs.h"

#define CR_QUAL_NUMBER		GENMASK(3, 0)
#define CR_QUAL_ACCESS		GENMASK(5, 4)
#define CR_QUAL_GPR		GENMASK(11, 8)
#define CR_ACCESS_MOV_TO_CR	0
#define CR_ACCESS_MOV_FROM_CR	1

#define DR_QUAL_NUMBER		GENMASK(2, 0)
#define DR_QUAL_FROM_DR		BIT(4)
#define DR_QUAL_GPR		GENMASK(11, 8)

static bool in_long_mode(struct vmx_vcpu *vcpu)
{
	return vmx_read_guest_efer(vcpu) & EFER_LMA;
}

/*
 * The CR0 and CR4 bits whose change makes a MOV to CR0 or CR4 load the
 * PDPTE registers, when PAE paging is in use after it (SDM Vol. 3A,
 * 4.4.1).  A MOV that changes only other bits (CR0.WP, say) keeps the
 * registers, even if the guest has edited its PDPT since.
 */
#define CR0_PDPTE_BITS	(X86_CR0_CD | X86_CR0_NW | X86_CR0_PG)
#define CR4_PDPTE_BITS	(X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | \
			 X86_CR4_SMEP)

/*
 * MOV to CR0, as the CPU would do it (SDM Vol. 3A, 9.8.5 and 2.5):
 * returns false for a value that must raise #GP.  Turning paging on with
 * EFER.LME set activates long mode (EFER.LMA and the IA-32e entry control).
 */
static bool set_cr0(struct vmx_vcpu *vcpu, u64 cr0)
{
	u64 efer = vmx_read_guest_efer(vcpu);
	u64 cr4 = vmx_read_guest_cr4();

	if (cr0 >> 32 || ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)) ||
	    ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)))
		return false;
	if ((cr0 & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & X86_CR4_PAE))
			return false;
		efer |= EFER_LMA;
	} else {
		efer &= ~(u64)EFER_LMA;
	}
	if (vcpu_is_shadow(vcpu) &&
	    ((cr0 ^ vmx_read_guest_cr0()) & CR0_PDPTE_BITS) &&
	    vmx_shadow_load_pdptes(vcpu, cr0, vcpu->shadow.cr3, cr4, efer))
		return false;
	vmx_write_guest_efer(vcpu, efer);
	vmx_write_guest_cr0(vcpu, cr0);
	if (vcpu_is_shadow(vcpu))
		vmx_shadow_flush(vcpu);
	return true;
}

static bool set_cr4(struct vmx_vcpu *vcpu, u64 cr4)
{
	if (cr4 >> 32 || (cr4 & ~vmx_guest_cr4_allowed(vcpu)) ||
	    (in_long_mode(vcpu) && !(cr4 & X86_CR4_PAE)))
		return false;
	if (vcpu_is_shadow(vcpu) &&
	    ((cr4 ^ vmx_read_guest_cr4()) & CR4_PDPTE_BITS) &&
	    vmx_shadow_load_pdptes(vcpu, vmx_read_guest_cr0(), vcpu->shadow.cr3,
				   cr4, vcpu->shadow.efer))
		return false;
	vmx_write_guest_cr4(vcpu, cr4);
	if (vcpu_is_shadow(vcpu))
		vmx_shadow_flush(vcpu);
	return true;
}

/* CR8 holds the task priority in bits 3:0; the rest is reserved. */
static bool set_cr8(struct vmx_vcpu *vcpu, u64 cr8)
{
	if (cr8 & ~15ULL)
		return false;
	vcpu->guest_cr8 = cr8;
	return true;
}

/*
 * Which CR accesses exit (SDM Vol. 3C, 26.1.3), and so what this handler
 * sees:
 *  - MOV to CR0/CR4 only when it changes a bit vmxlab owns (CR0.NE and the
 *    CR4 bits of cr4_host_owned(), vmcs.c); never MOV from CR0/CR4, which
 *    reads the read shadow without exiting;
 *  - MOV to and from CR8 always (CR8-load and CR8-store exiting);
 *  - CR3 only in shadow-paging VMs (paging.c); in EPT VMs CR3-load and
 *    CR3-store exiting are off, which every CPU vmxlab runs EPT guests on
 *    allows (EPT implies the TRUE_* control MSRs, whose allowed-0 settings
 *    let them be cleared; SDM Vol. 3D, A.3.2);
 *  - never CLTS or LMSW: CLTS exits only when CR0.TS is host-owned, LMSW
 *    only when it would change a host-owned bit among PE, MP, EM and TS.
 *    vmxlab owns none of them in EPT VMs and only PE in shadow-paging VMs,
 *    which never run with PE = 0, and LMSW cannot clear PE.
 * Anything else is a vmxlab bug, reported as an exit it did not expect.
 */
int vmx_handle_cr_access(struct vmx_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	int cr = FIELD_GET(CR_QUAL_NUMBER, qual);
	int reg = FIELD_GET(CR_QUAL_GPR, qual);
	bool ok;

	switch (FIELD_GET(CR_QUAL_ACCESS, qual) << 4 | cr) {
	case CR_ACCESS_MOV_TO_CR << 4 | 0:
		ok = set_cr0(vcpu, vmx_read_gpr(vcpu, reg));
		break;
	case CR_ACCESS_MOV_TO_CR << 4 | 3:
		if (!vcpu_is_shadow(vcpu))
			return vmx_unexpected_exit(vcpu, EXIT_REASON_CR_ACCESS);
		ok = vmx_shadow_set_cr3(vcpu, vmx_read_gpr(vcpu, reg));
		break;
	case CR_ACCESS_MOV_TO_CR << 4 | 4:
		ok = set_cr4(vcpu, vmx_read_gpr(vcpu, reg));
		break;
	case CR_ACCESS_MOV_TO_CR << 4 | 8:
		ok = set_cr8(vcpu, vmx_read_gpr(vcpu, reg));
		break;
	case CR_ACCESS_MOV_FROM_CR << 4 | 3:
		if (!vcpu_is_shadow(vcpu))
			return vmx_unexpected_exit(vcpu, EXIT_REASON_CR_ACCESS);
		vmx_write_gpr(vcpu, reg, vcpu->shadow.cr3);
		ok = true;
		break;
	case CR_ACCESS_MOV_FROM_CR << 4 | 8:
		vmx_write_gpr(vcpu, reg, vcpu->guest_cr8);
		ok = true;
		break;
	default:
		return vmx_unexpected_exit(vcpu, EXIT_REASON_CR_ACCESS);
	}
	if (!ok) {
		vmx_inject_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED, cr, qual);
	vmx_skip_instruction(vcpu);
	return 1;
}

/*
 * MOV DR always exits, so the guest can never program the host's debug
 * registers.  DR0-3 and DR6 are kept in software and DR7 in the VMCS:
 * the guest reads back what it wrote, but its breakpoints do not fire.
 */
int vmx_handle_dr_access(struct vmx_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	int dr = FIELD_GET(DR_QUAL_NUMBER, qual);
	int reg = FIELD_GET(DR_QUAL_GPR, qual);
	unsigned long *slot = dr < 4 ? &vcpu->guest_dr[dr] :
			      (dr == 6 || dr == 4) ? &vcpu->guest_dr6 : NULL;

	if (qual & DR_QUAL_FROM_DR) {
		if (slot)
			vmx_write_gpr(vcpu, reg, *slot);
		else
			vmx_write_gpr(vcpu, reg, vmcs_readl(VMCS_GUEST_DR7));
	} else {
		unsigned long value = vmx_read_gpr(vcpu, reg);

		if (in_long_mode(vcpu) && value >> 32 && dr >= 6) {
			vmx_inject_exception(vcpu, X86_TRAP_GP, true, 0);
			return 1;
		}
		if (slot)
			*slot = value;
		else
			vmcs_writel(VMCS_GUEST_DR7, value | 0x400);
	}
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED, dr, qual);
	vmx_skip_instruction(vcpu);
	return 1;
}
