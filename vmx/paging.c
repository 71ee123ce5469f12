// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow paging, the VMX side (Documentation/paging.rst).  In a
 * VMXLAB_VM_SHADOW VM every guest #PF, MOV to or from CR3 and INVLPG
 * exits; exits.c and cr.c hand them here, and mmu/shadow.c does the
 * paging work without looking at the VMCS.  This file keeps the guest's
 * view of CR3, EFER and the PAE PDPTEs, and points the VMCS at the
 * vCPU's shadow tree.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include "../mmu/shadow.h"
#include "trace.h"
#include "vcpu.h"
#include "vmcs.h"

/* PAE paging is on: the CPU uses PDPTE registers (SDM Vol. 3A, 4.4.1). */
static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/* Reserved bits of a present PDPTE: 2:1, 8:5, 63:MAXPHYADDR (Table 4-8). */
static bool pdpte_reserved(u64 pdpte, unsigned int maxphyaddr)
{
	u64 rsvd = GENMASK_ULL(2, 1) | GENMASK_ULL(8, 5) |
		   GENMASK_ULL(63, maxphyaddr);

	return (pdpte & _PAGE_PRESENT) && (pdpte & rsvd);
}

/**
 * vmx_read_pdptes() - the four PDPTEs that PAE paging takes from CR3
 * @vcpu:   the vCPU, of either kind of VM
 * @cr0:    the guest's CR0, CR3, CR4 and EFER that are to hold
 * @cr3:    ...
 * @cr4:    ...
 * @efer:   ...
 * @pdptes: filled when PAE paging is on
 *
 * The one reader of the PDPTEs: vmx_shadow_load_pdptes() for shadow
 * paging, and SET_SREGS under EPT, where the VMM fills the VMCS's PDPTE
 * fields (vmcs.c).  Bits 31:5 of CR3 locate the table (SDM Vol. 3A, 4.4.1).
 *
 * Return: 1 with @pdptes filled, 0 when PAE paging is off (nothing to
 * load), -EINVAL when no slot backs the table.
 */
int vmx_read_pdptes(struct vmx_vcpu *vcpu, u64 cr0, u64 cr3, u64 cr4,
		    u64 efer, u64 pdptes[4])
{
	if (!pae_paging(cr0, cr4, efer))
		return 0;
	if (mmu_read_guest(&vcpu->vm->mmu, cr3 & GENMASK_ULL(31, 5), pdptes,
			   4 * sizeof(*pdptes)))
		return -EINVAL;
	return 1;
}

/**
 * vmx_shadow_load_pdptes() - load the PDPTE registers, as the CPU would
 * @vcpu: a shadow-paging vCPU
 * @cr0:  the guest's CR0, CR3, CR4 and EFER after the instruction
 * @cr3:  ...
 * @cr4:  ...
 * @efer: ...
 *
 * With PAE paging the CPU loads the four PDPTEs from CR3 at every MOV to
 * CR3, and at a MOV to CR0 or CR4 that changes one of the bits cr.c lists
 * in CR0_PDPTE_BITS and CR4_PDPTE_BITS and leaves PAE paging on; a reserved bit
 * in one of them makes the instruction raise #GP(0) and change nothing
 * (SDM Vol. 3A, 4.4.1).  Outside PAE paging, nothing to do.
 *
 * Return: 0, or -EINVAL (the caller's #GP, or SET_SREGS's error).
 */
int vmx_shadow_load_pdptes(struct vmx_vcpu *vcpu, u64 cr0, u64 cr3, u64 cr4,
			   u64 efer)
{
	unsigned int maxphyaddr;
	u64 pdptes[4];
	int i, r;

	r = vmx_read_pdptes(vcpu, cr0, cr3, cr4, efer, pdptes);
	if (r <= 0)
		return r;
	maxphyaddr = vmx_guest_maxphyaddr(vcpu);
	for (i = 0; i < 4; i++)
		if (pdpte_reserved(pdptes[i], maxphyaddr))
			return -EINVAL;
	memcpy(vcpu->shadow.pdptes, pdptes, sizeof(pdptes));
	return 0;
}

/**
 * vmx_shadow_flush() - empty the vCPU's roots and point the VMCS at one
 * @vcpu: a loaded shadow-paging vCPU
 *
 * After a change of CR0.PG/WP, CR4.PAE/PSE/PGE/SMEP/SMAP or EFER.NXE, or
 * SET_SREGS: every translation may have other rights now.  The root's
 * format follows EFER.LMA.
 */
void vmx_shadow_flush(struct vmx_vcpu *vcpu)
{
	u64 root = shadow_reset(&vcpu->vm->mmu, vcpu->shadow.tree,
				vcpu->shadow.cr3, vcpu->shadow.efer & EFER_LMA);

	vmcs_writel(VMCS_GUEST_CR3, root);
}

/*
 * MOV to CR3 (SDM Vol. 2B): bits above MAXPHYADDR are reserved in long
 * mode (bit 63 too: shadow guests have no PCIDs); PAE paging loads the
 * PDPTEs.  The vCPU goes on with the root of that address space, cached
 * if nothing it was built from changed (mmu/shadow_tree.c).  Return:
 * false for #GP(0).
 */
bool vmx_shadow_set_cr3(struct vmx_vcpu *vcpu, u64 cr3)
{
	u64 efer = vcpu->shadow.efer;
	bool hit;
	u64 root;

	if (efer & EFER_LMA) {
		/* No PDPTEs in long mode: CR0 and CR4 need not be read. */
		if (cr3 & GENMASK_ULL(63, vmx_guest_maxphyaddr(vcpu)))
			return false;
	} else {
		cr3 = (u32)cr3;
		if (vmx_shadow_load_pdptes(vcpu, vmx_read_guest_cr0(), cr3,
					   vmx_read_guest_cr4(), efer))
			return false;
	}
	vcpu->shadow.cr3 = cr3;
	root = shadow_switch(&vcpu->vm->mmu, vcpu->shadow.tree, cr3,
			     efer & EFER_LMA, &hit);
	vmcs_writel(VMCS_GUEST_CR3, root);
	trace_vmxlab_shadow_cr3(vcpu->id, cr3, hit);
	return true;
}

/*
 * INVLPG: drop the page's translations (SDM Vol. 2A, INVLPG), and fill
 * the page's leaf again from the guest's tables if that sets no flag in
 * them (shadow_prefetch()): the guest usually touches the page next.
 */
int vmx_handle_invlpg(struct vmx_vcpu *vcpu)
{
	u64 gva = vmcs_readl(VMCS_EXIT_QUALIFICATION);
	struct gwalk_regs regs;

	if (!vcpu_is_shadow(vcpu))
		return vmx_unexpected_exit(vcpu, EXIT_REASON_INVLPG);
	if (!(vcpu->shadow.efer & EFER_LMA))
		gva = (u32)gva;
	shadow_invlpg(&vcpu->vm->mmu, vcpu->shadow.tree, gva);
	vmx_guest_paging_regs(vcpu, &regs);
	shadow_prefetch(&vcpu->vm->mmu, vcpu->shadow.tree, &regs, gva);
	vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED, gva, 0);
	vmx_skip_instruction(vcpu);
	return 1;
}

/*
 * What the guest was doing, from the hardware's error code (SDM Vol. 3A,
 * 4.7): W/R, U/S and I/D describe the access.  SMAP lets an explicit
 * supervisor access with RFLAGS.AC = 1 through; during event delivery
 * every access is implicit.
 */
static unsigned int fault_access(u32 hw_error)
{
	unsigned int access = 0;

	if (hw_error & GWALK_PF_WRITE)
		access |= GWALK_ACC_WRITE;
	if (hw_error & GWALK_PF_USER)
		access |= GWALK_ACC_USER;
	if (hw_error & GWALK_PF_FETCH)
		access |= GWALK_ACC_FETCH;
	if (!(access & GWALK_ACC_USER) &&
	    (vmcs_readl(VMCS_GUEST_RFLAGS) & X86_EFLAGS_AC) &&
	    !(vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
		access |= GWALK_ACC_AC;
	return access;
}

/*
 * As the EPT-violation exit reports it (api.rst), so that both kinds of
 * VM read alike: data[1] has the access in the qualification's bits 2:0
 * (read, write, fetch: SDM Vol. 3C, Table 28-7); data[2] the linear
 * address.
 */
static int unbacked_access(struct vmx_vcpu *vcpu, const struct shadow_pf *pf)
{
	struct vmxlab_run *run = vcpu->run;
	u64 access = EPT_VIOLATION_READ;

	if (pf->access & GWALK_ACC_WRITE)
		access = EPT_VIOLATION_WRITE;
	else if (pf->access & GWALK_ACC_FETCH)
		access = EPT_VIOLATION_FETCH;
	vmx_exit_internal_error(vcpu, VMXLAB_INTERNAL_UNBACKED_ACCESS, pf->gpa);
	run->internal.ndata = 3;
	run->internal.data[1] = access;
	run->internal.data[2] = pf->gva;
	return 0;
}

/**
 * vmx_handle_page_fault() - a guest #PF in a shadow-paging VM
 * @vcpu: the vCPU that exited with vector 14
 *
 * The exit qualification holds the linear address (the CPU did not write
 * CR2, SDM Vol. 3C, 28.1), the exit's error code the access.  The walk
 * of the guest's tables decides: resolved (the tree gained a leaf),
 * reflected (the guest's own #PF goes in, with its error code and CR2),
 * MMIO (a data access outside every slot), or an unbacked access.
 *
 * Return: the exit-handler contract (exits.c).
 */
int vmx_handle_page_fault(struct vmx_vcpu *vcpu)
{
	struct shadow_pf pf = {
		.gva = vmcs_readl(VMCS_EXIT_QUALIFICATION),
		.hw_error = vmcs_read32(VMCS_EXIT_INTR_ERROR_CODE),
	};
	enum shadow_pf_result result;
	struct gwalk_regs regs;
	int r;

	if (!vcpu_is_shadow(vcpu))
		return vmx_unexpected_exit(vcpu, EXIT_REASON_EXCEPTION_NMI);
	/* vmxlab never sets a reserved bit: that would be its own bug. */
	if (pf.hw_error & GWALK_PF_RSVD) {
		pr_err_ratelimited("vCPU %u: reserved bit in a shadow entry for %#llx\n",
				   vcpu->id, pf.gva);
		return vmx_unexpected_exit(vcpu, EXIT_REASON_EXCEPTION_NMI);
	}
	pf.access = fault_access(pf.hw_error);
	vmx_guest_paging_regs(vcpu, &regs);
	vcpu->l1d_flush_wanted = true;	/* guest tables read into L1D */
	r = shadow_page_fault(&vcpu->vm->mmu, vcpu->shadow.tree, &regs, &pf,
			      &result);
	if (r)
		return r;
	trace_vmxlab_shadow_pf(vcpu->id, pf.gva, pf.hw_error, result,
			       pf.error_code);
	switch (result) {
	case SHADOW_PF_RESOLVED:
		vcpu->stats.pf_resolved++;
		vmx_decide(vcpu, VMXLAB_DECISION_PF_RESOLVED, pf.gva,
			   pf.hw_error);
		return 1;
	case SHADOW_PF_REFLECT:
		vcpu->stats.pf_reflected++;
		vcpu->guest_cr2 = pf.cr2;
		r = vmx_reflect_exception(vcpu, X86_TRAP_PF, true,
					  pf.error_code);
		/* Unless it combined into a shutdown (a #PF during #DF). */
		if (r)
			vmx_decide(vcpu, VMXLAB_DECISION_PF_REFLECTED, pf.gva,
				   pf.error_code);
		return r;
	case SHADOW_PF_MMIO:
		/* Only an instruction's own data access can be MMIO. */
		if ((pf.access & GWALK_ACC_FETCH) ||
		    (vmcs_read32(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
			return unbacked_access(vcpu, &pf);
		vcpu->stats.pf_mmio++;
		/* CR0, CR3, CR4 and EFER are as the walk found them. */
		return vmx_emulate_mmio(vcpu, pf.gpa, &regs);
	case SHADOW_PF_UNBACKED:
	default:
		return unbacked_access(vcpu, &pf);
	}
}

static bool shadow_audit_on;
module_param_named(shadow_audit, shadow_audit_on, bool, 0444);
MODULE_PARM_DESC(shadow_audit,
		 "Before each entry, check shadow leaves against the guest's tables (slow: for tests)");

/* Set with the first shadow vCPU when shadow_audit=1: free when off. */
static DEFINE_STATIC_KEY_FALSE(shadow_audit_key);

static noinline void audit_root(struct vmx_vcpu *vcpu)
{
	struct gwalk_regs regs;

	vmx_guest_paging_regs(vcpu, &regs);
	shadow_audit(&vcpu->vm->mmu, vcpu->shadow.tree, &regs);
}

/**
 * vmx_shadow_cannot_run() - checked before each entry of a shadow vCPU
 * @vcpu: a shadow-paging vCPU
 *
 * Without unrestricted guest the CPU cannot run a guest with CR0.PE = 0
 * (real mode would need virtual-8086 emulation, which vmxlab does not
 * do): the run ends with an internal error instead.  With shadow_audit=1
 * the leaves of the vCPU's root are checked here too (mmu/shadow_audit.c).
 *
 * Return: 0 to enter; 1 when the run must end, with vcpu->run filled in.
 */
int vmx_shadow_cannot_run(struct vmx_vcpu *vcpu)
{
	if (static_branch_unlikely(&shadow_audit_key))
		audit_root(vcpu);
	if (!vcpu->shadow.real_mode)
		return 0;
	vmx_exit_internal_error(vcpu, VMXLAB_INTERNAL_SHADOW_REAL_MODE,
				vmx_read_guest_cr0());
	return 1;
}

/* The tree lives as long as the vCPU (vcpu.c). */
int vmx_shadow_vcpu_init(struct vmx_vcpu *vcpu)
{
	if (shadow_audit_on)
		static_branch_enable(&shadow_audit_key);
	vcpu->shadow.tree = shadow_tree_create();
	return vcpu->shadow.tree ? 0 : -ENOMEM;
}

void vmx_shadow_vcpu_register(struct vmx_vcpu *vcpu)
{
	if (vcpu->shadow.tree)
		shadow_tree_register(&vcpu->vm->mmu, vcpu->id, vcpu->shadow.tree);
}

void vmx_shadow_vcpu_free(struct vmx_vcpu *vcpu)
{
	if (vcpu->shadow.tree)
		shadow_tree_destroy(&vcpu->vm->mmu, vcpu->id, vcpu->shadow.tree);
	vcpu->shadow.tree = NULL;
}
