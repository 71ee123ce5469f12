// SPDX-License-Identifier: GPL-2.0
/*
 * Building a vCPU's VMCS: the control fields (from the capability MSRs,
 * adjusted by vmx_adjust_controls()), the host-state fields the CPU loads
 * on every VM exit, and the guest-state fields userspace sets through
 * VMXLAB_SET_REGS / VMXLAB_SET_SREGS.  SDM Vol. 3C, chapter 25.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "caps.h"
#include "vcpu.h"
#include "vmcs.h"

/*
 * How external interrupts reach the host (Documentation/interrupts.rst):
 * acknowledged by the exit and handed to the host IDT's handler, or left
 * pending in the local APIC until interrupts are enabled again.
 */
static bool ack_intr_on_exit = true;
module_param(ack_intr_on_exit, bool, 0444);
MODULE_PARM_DESC(ack_intr_on_exit,
		 "VM exits acknowledge external interrupts (default: yes)");

/*
 * The MSR bitmap every vCPU uses: one page of ones, so that every RDMSR
 * and WRMSR exits (SDM Vol. 3C, 25.6.9).  The CPU only reads it, and
 * nothing writes it after load, so one page serves every VMCS.
 */
static void *msr_bitmap_all_exit;

int vmx_msr_bitmap_init(void)
{
	msr_bitmap_all_exit = (void *)__get_free_page(GFP_KERNEL);
	if (!msr_bitmap_all_exit)
		return -ENOMEM;
	memset(msr_bitmap_all_exit, 0xff, PAGE_SIZE);
	return 0;
}

void vmx_msr_bitmap_exit(void)
{
	free_page((unsigned long)msr_bitmap_all_exit);
	msr_bitmap_all_exit = NULL;
}

/* The control words every vCPU uses, computed once at module load. */
static struct vmx_vmcs_config vmcs_config;

/**
 * vmx_setup_vmcs_config() - compute the control words every VMCS will use
 *
 * Called once at module load (the decision is vmx_vmcs_config_build(),
 * caps.c).  A CPU without a required control still loads the module (its
 * capability report is useful) but cannot create VMs of that type; the
 * log says so once, here.
 */
void vmx_setup_vmcs_config(void)
{
	vmx_vmcs_config_build(&vmx_caps, ack_intr_on_exit, &vmcs_config);
	if (!vmcs_config.usable)
		pr_err("this CPU lacks a VMX control vmxlab needs (EPT, unrestricted guest, I/O/MSR/CR8/DR/RDPMC/MONITOR/MWAIT/interrupt-window exiting, EFER switching or debug-control loading); EPT VMs cannot be created%s\n",
		       vmcs_config.usable_shadow ? ", shadow-paging VMs can" : "");
}

/* Return: 0 when VMs of this kind can run here, else -EOPNOTSUPP. */
int vmx_vm_features_ok(bool shadow)
{
	return (shadow ? vmcs_config.usable_shadow : vmcs_config.usable) ?
	       0 : -EOPNOTSUPP;
}

/* Per-CPU host state: rewritten whenever the vCPU moves to another CPU. */
void vmx_write_host_state_percpu(int cpu)
{
	u64 sysenter_esp = (unsigned long)(cpu_entry_stack(cpu) + 1);

	vmcs_writel(VMCS_HOST_TR_BASE,
		    (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_writel(VMCS_HOST_GDTR_BASE, (unsigned long)get_cpu_gdt_ro(cpu));
	vmcs_writel(VMCS_HOST_SYSENTER_ESP, sysenter_esp);
}

/* Host state that is the same on every CPU (SDM 25.5). */
static void vmx_write_host_state_constant(void)
{
	struct desc_ptr idt;
	u64 msr;

	vmcs_writel(VMCS_HOST_CR0, read_cr0());
	vmcs_writel(VMCS_HOST_CR3, __read_cr3());
	vmcs_writel(VMCS_HOST_CR4, cr4_read_shadow());
	vmcs_write16(VMCS_HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(VMCS_HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write16(VMCS_HOST_DS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_ES_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write16(VMCS_HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_writel(VMCS_HOST_IDTR_BASE, idt.address);
	vmcs_writel(VMCS_HOST_RIP, (unsigned long)vmx_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, msr);
	vmcs_write32(VMCS_HOST_IA32_SYSENTER_CS, msr);
	rdmsrl(MSR_IA32_SYSENTER_EIP, msr);
	vmcs_writel(VMCS_HOST_SYSENTER_EIP, msr);
	rdmsrl(MSR_EFER, msr);
	vmcs_write64(VMCS_HOST_IA32_EFER, msr);
}

/*
 * Segment access rights: the VMCS packs them like the high dword of a
 * descriptor, bits 8-15 and 20-23, plus an "unusable" bit 16 (SDM 25.4.1).
 */
static u32 segment_to_ar(const struct vmxlab_segment *seg)
{
	if (seg->unusable || !seg->present)
		return VMX_AR_UNUSABLE;
	return (seg->type & 15) | (seg->s & 1) << 4 | (seg->dpl & 3) << 5 |
	       (seg->present & 1) << 7 | (seg->avl & 1) << 12 |
	       (seg->l & 1) << 13 | (seg->db & 1) << 14 | (seg->g & 1) << 15;
}

static void ar_to_segment(u32 ar, struct vmxlab_segment *seg)
{
	seg->unusable = !!(ar & VMX_AR_UNUSABLE);
	seg->type = ar & 15;
	seg->s = (ar >> 4) & 1;
	seg->dpl = (ar >> 5) & 3;
	seg->present = (ar >> 7) & 1;
	seg->avl = (ar >> 12) & 1;
	seg->l = (ar >> 13) & 1;
	seg->db = (ar >> 14) & 1;
	seg->g = (ar >> 15) & 1;
}

/* The four VMCS fields of one segment register, by position in sregs. */
struct segment_fields {
	u32 selector, base, limit, ar;
};

#define SEGMENT_FIELDS(seg) {						\
	VMCS_GUEST_##seg##_SELECTOR, VMCS_GUEST_##seg##_BASE,		\
	VMCS_GUEST_##seg##_LIMIT, VMCS_GUEST_##seg##_AR }

static const struct segment_fields segment_fields[] = {
	SEGMENT_FIELDS(CS), SEGMENT_FIELDS(DS), SEGMENT_FIELDS(ES),
	SEGMENT_FIELDS(FS), SEGMENT_FIELDS(GS), SEGMENT_FIELDS(SS),
	SEGMENT_FIELDS(TR), SEGMENT_FIELDS(LDTR),
};

/* sregs->cs ... sregs->ldt in the order of segment_fields[]. */
static struct vmxlab_segment *sregs_segment(struct vmxlab_sregs *sregs, int i)
{
	struct vmxlab_segment *segs[] = {
		&sregs->cs, &sregs->ds, &sregs->es, &sregs->fs,
		&sregs->gs, &sregs->ss, &sregs->tr, &sregs->ldt,
	};

	return segs[i];
}

static void write_segment(int i, const struct vmxlab_segment *seg)
{
	const struct segment_fields *f = &segment_fields[i];

	vmcs_write16(f->selector, seg->selector);
	vmcs_writel(f->base, seg->base);
	vmcs_write32(f->limit, seg->limit);
	vmcs_write32(f->ar, segment_to_ar(seg));
}

static void read_segment(int i, struct vmxlab_segment *seg)
{
	const struct segment_fields *f = &segment_fields[i];

	memset(seg, 0, sizeof(*seg));
	seg->selector = vmcs_read16(f->selector);
	seg->base = vmcs_readl(f->base);
	seg->limit = vmcs_read32(f->limit);
	ar_to_segment(vmcs_read32(f->ar), seg);
}

/*
 * Bits of CR0 and CR4 the guest may not own: reads of them return the
 * read shadow, writes that would change them exit (SDM 25.6.6).  CR0.NE
 * and CR4.VMXE must be 1 in VMX non-root operation whatever the guest
 * believes; CR0.PE/PG may be 0 thanks to unrestricted guest in EPT VMs
 * (shadow-paging VMs own them, CR0_SHADOW_OWNED below).  CR4.OSXSAVE
 * is the host's too when the host runs without it: the guest then never
 * gets it (there is no XCR0 to switch), so setting it must exit.
 */
#define CR0_HOST_OWNED	X86_CR0_NE

/*
 * CR4 bits of features a guest does not get (vmx/cpuid_policy.c hides
 * them): SMX (GETSEC), protection keys (PKRU and IA32_PKRS would be the
 * host's), CET (the host's CET MSRs).  Owned by the host, so that setting
 * one exits and is refused.
 */
#define CR4_NOT_FOR_GUESTS	(X86_CR4_SMXE | X86_CR4_PKE | X86_CR4_CET | \
				 BIT(24))	/* PKS */

/*
 * Shadow paging owns every bit that changes how the guest's tables are
 * walked, so that a change exits and the shadow tree is emptied; and the
 * cache-disable bits, since the hardware always runs write-back.  PCIDs
 * and 5-level paging are not offered to shadow guests (paging.rst).
 */
#define CR0_SHADOW_OWNED	(X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | \
				 X86_CR0_CD | X86_CR0_NW)
#define CR4_SHADOW_OWNED	(X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE | \
				 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PCIDE | \
				 X86_CR4_LA57)
#define CR4_NOT_FOR_SHADOW	(X86_CR4_PCIDE | X86_CR4_LA57)

static u64 cr4_host_owned(void)
{
	return X86_CR4_VMXE | CR4_NOT_FOR_GUESTS |
	       (vmx_host_osxsave ? 0 : X86_CR4_OSXSAVE);
}

/**
 * vmx_guest_cr4_allowed() - CR4 bits a guest may set
 * @vcpu: the vCPU
 *
 * What the CPU allows in VMX operation (IA32_VMX_CR4_FIXED1), minus VMXE
 * (no nested VMX), OSXSAVE on a host without it, the bits of features
 * the guest is not offered, and for shadow paging PCIDE and LA57.  MOV
 * to CR4 and VMXLAB_SET_SREGS both obey it.
 */
u64 vmx_guest_cr4_allowed(struct vmx_vcpu *vcpu)
{
	u64 refused = cr4_host_owned() |
		      (vcpu_is_shadow(vcpu) ? CR4_NOT_FOR_SHADOW : 0);

	return vmx_caps.msr_cr4_fixed1 & ~refused;
}

static u64 cr0_fixed_for_guest(u64 cr0)
{
	u64 fixed0 = vmx_caps.msr_cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);

	return (cr0 | fixed0) & vmx_caps.msr_cr0_fixed1;
}

static u64 cr4_fixed_for_guest(u64 cr4)
{
	return (cr4 | vmx_caps.msr_cr4_fixed0) & vmx_caps.msr_cr4_fixed1;
}

/* EFER bits a guest may set: SCE, LME, LMA, NXE. */
#define EFER_GUEST_BITS	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/* Would this CR0/CR4/EFER combination be architecturally valid? */
static int check_control_regs(struct vmx_vcpu *vcpu, u64 cr0, u64 cr4,
			      u64 efer)
{
	if (cr0 >> 32 || cr4 >> 32 || (efer & ~EFER_GUEST_BITS))
		return -EINVAL;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return -EINVAL;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return -EINVAL;
	if (cr4 & ~vmx_guest_cr4_allowed(vcpu))
		return -EINVAL;
	if (!!(efer & EFER_LMA) != ((efer & EFER_LME) && (cr0 & X86_CR0_PG)))
		return -EINVAL;
	if ((efer & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return -EINVAL;
	return 0;
}

/*
 * CR0/CR4 as the guest sees them: the bits the guest owns from the
 * register the CPU runs, the others from the read shadow (SDM Vol. 3C,
 * 25.6.6).  The shadow alone is stale for every bit the guest changed
 * without an exit.
 */
u64 vmx_read_guest_cr0(void)
{
	unsigned long mask = vmcs_readl(VMCS_CR0_GUEST_HOST_MASK);

	return (vmcs_readl(VMCS_GUEST_CR0) & ~mask) |
	       (vmcs_readl(VMCS_CR0_READ_SHADOW) & mask);
}

u64 vmx_read_guest_cr4(void)
{
	unsigned long mask = vmcs_readl(VMCS_CR4_GUEST_HOST_MASK);

	return (vmcs_readl(VMCS_GUEST_CR4) & ~mask) |
	       (vmcs_readl(VMCS_CR4_READ_SHADOW) & mask);
}

/*
 * Shadow paging: the hardware always pages, in PAE or 4-level form, with
 * CR0.WP so that read-only leaves hold in supervisor mode too, and with
 * EFER.NXE so that leaves can forbid fetches (spte.c).  SMEP and SMAP
 * apply only while the guest itself pages: an unpaged guest's leaves
 * are all user pages.
 */
static u64 shadow_hw_cr0(u64 cr0)
{
	cr0 = (cr0 | X86_CR0_PE | X86_CR0_PG | X86_CR0_WP) &
	      ~(u64)(X86_CR0_CD | X86_CR0_NW);
	return (cr0 | vmx_caps.msr_cr0_fixed0) & vmx_caps.msr_cr0_fixed1;
}

static u64 shadow_hw_cr4(u64 cr4, bool guest_paging)
{
	cr4 |= X86_CR4_PAE;
	if (!guest_paging)
		cr4 &= ~(u64)(X86_CR4_SMEP | X86_CR4_SMAP);
	return cr4_fixed_for_guest(cr4);
}

/* Guest CR0/CR4 as the guest sees them, and as the CPU runs them. */
void vmx_write_guest_cr0(struct vmx_vcpu *vcpu, u64 cr0)
{
	vmcs_writel(VMCS_CR0_READ_SHADOW, cr0);
	if (!vcpu_is_shadow(vcpu)) {
		vmcs_writel(VMCS_GUEST_CR0, cr0_fixed_for_guest(cr0));
		return;
	}
	vcpu->shadow.real_mode = !(cr0 & X86_CR0_PE);
	vmcs_writel(VMCS_GUEST_CR0, shadow_hw_cr0(cr0));
	/* SMEP and SMAP follow the guest's CR0.PG. */
	vmcs_writel(VMCS_GUEST_CR4, shadow_hw_cr4(vmx_read_guest_cr4(),
						  cr0 & X86_CR0_PG));
}

void vmx_write_guest_cr4(struct vmx_vcpu *vcpu, u64 cr4)
{
	vmcs_writel(VMCS_CR4_READ_SHADOW, cr4);
	if (!vcpu_is_shadow(vcpu)) {
		vmcs_writel(VMCS_GUEST_CR4, cr4_fixed_for_guest(cr4));
		return;
	}
	vmcs_writel(VMCS_GUEST_CR4, shadow_hw_cr4(cr4, vmx_read_guest_cr0() &
						  X86_CR0_PG));
}

/*
 * EFER.LMA and the "IA-32e mode guest" entry control go together.  Under
 * shadow paging the hardware always pages, so its LME must equal LMA
 * (SDM Vol. 3C, 27.3.1.1), and NXE is on.
 */
void vmx_write_guest_efer(struct vmx_vcpu *vcpu, u64 efer)
{
	u32 entry = vmcs_read32(VMCS_ENTRY_CTLS);
	u64 hw = efer;

	if (efer & EFER_LMA)
		entry |= ENTRY_CTL_IA32E_MODE_GUEST;
	else
		entry &= ~ENTRY_CTL_IA32E_MODE_GUEST;
	vmcs_write32(VMCS_ENTRY_CTLS, entry);
	if (vcpu_is_shadow(vcpu)) {
		vcpu->shadow.efer = efer;
		hw = (efer & ~(u64)EFER_LME) | EFER_NX |
		     ((efer & EFER_LMA) ? EFER_LME : 0);
	}
	vmcs_write64(VMCS_GUEST_IA32_EFER, hw);
	/* LMA and SCE decide whether the guest's SYSCALL MSRs are live. */
	vmx_sync_syscall_msrs(vcpu);
}

/* IA32_EFER and CR3 as the guest sees them. */
u64 vmx_read_guest_efer(struct vmx_vcpu *vcpu)
{
	if (vcpu_is_shadow(vcpu))
		return vcpu->shadow.efer;
	return vmcs_read64(VMCS_GUEST_IA32_EFER);
}

u64 vmx_read_guest_cr3(struct vmx_vcpu *vcpu)
{
	if (vcpu_is_shadow(vcpu))
		return vcpu->shadow.cr3;
	return vmcs_readl(VMCS_GUEST_CR3);
}

/*
 * A PAE guest (paging on, not in long mode) in EPT mode: the CPU does not
 * load the four PDPTEs from guest memory on VM entry, the VMM does
 * (SDM 28.3.2.4).
 */
static int load_pdptes(struct vmx_vcpu *vcpu, u64 cr0, u64 cr3, u64 cr4,
		       u64 efer)
{
	u64 pdpte[4];
	int i, r;

	r = vmx_read_pdptes(vcpu, cr0, cr3, cr4, efer, pdpte);
	if (r <= 0)
		return r;
	for (i = 0; i < 4; i++)
		vmcs_write64(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return 0;
}

void vmx_get_sregs(struct vmx_vcpu *vcpu, struct vmxlab_sregs *sregs)
{
	int i;

	memset(sregs, 0, sizeof(*sregs));
	for (i = 0; i < ARRAY_SIZE(segment_fields); i++)
		read_segment(i, sregs_segment(sregs, i));
	sregs->gdt.base = vmcs_readl(VMCS_GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read32(VMCS_GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_readl(VMCS_GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read32(VMCS_GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_read_guest_cr0();
	sregs->cr2 = vcpu->guest_cr2;
	sregs->cr3 = vmx_read_guest_cr3(vcpu);
	sregs->cr4 = vmx_read_guest_cr4();
	sregs->efer = vmx_read_guest_efer(vcpu);
}

/**
 * vmx_set_sregs() - load segments, descriptor tables and control registers
 * @vcpu:  loaded vCPU
 * @sregs: validated here: reserved bits and impossible combinations give
 *	   -EINVAL and change nothing
 *
 * Segment contents are not checked against the VM-entry rules: a state
 * that passes here but not there makes the next run a FAIL_ENTRY exit.
 */
int vmx_set_sregs(struct vmx_vcpu *vcpu, const struct vmxlab_sregs *sregs)
{
	int i, r;

	for (i = 0; i < ARRAY_SIZE(sregs->reserved); i++)
		if (sregs->reserved[i])
			return -EINVAL;
	r = check_control_regs(vcpu, sregs->cr0, sregs->cr4, sregs->efer);
	if (r)
		return r;
	if (vcpu_is_shadow(vcpu))
		r = vmx_shadow_load_pdptes(vcpu, sregs->cr0, sregs->cr3,
					   sregs->cr4, sregs->efer);
	else
		r = load_pdptes(vcpu, sregs->cr0, sregs->cr3, sregs->cr4,
				sregs->efer);
	if (r)
		return r;

	for (i = 0; i < ARRAY_SIZE(segment_fields); i++)
		write_segment(i, sregs_segment((struct vmxlab_sregs *)sregs, i));
	vmcs_writel(VMCS_GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write32(VMCS_GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_writel(VMCS_GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write32(VMCS_GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmx_write_guest_cr0(vcpu, sregs->cr0);
	vcpu->guest_cr2 = sregs->cr2;
	vmx_write_guest_cr4(vcpu, sregs->cr4);
	vmx_write_guest_efer(vcpu, sregs->efer);
	if (vcpu_is_shadow(vcpu)) {
		vcpu->shadow.cr3 = sregs->cr3;
		vmx_shadow_flush(vcpu);
	} else {
		vmcs_writel(VMCS_GUEST_CR3, sregs->cr3);
	}
	return 0;
}

void vmx_get_regs(struct vmx_vcpu *vcpu, struct vmxlab_regs *regs)
{
	unsigned long *r = vcpu->regs;

	*regs = (struct vmxlab_regs) {
		.rax = r[VCPU_RAX], .rbx = r[VCPU_RBX], .rcx = r[VCPU_RCX],
		.rdx = r[VCPU_RDX], .rsi = r[VCPU_RSI], .rdi = r[VCPU_RDI],
		.rbp = r[VCPU_RBP], .r8 = r[VCPU_R8], .r9 = r[VCPU_R9],
		.r10 = r[VCPU_R10], .r11 = r[VCPU_R11], .r12 = r[VCPU_R12],
		.r13 = r[VCPU_R13], .r14 = r[VCPU_R14], .r15 = r[VCPU_R15],
		.rsp = vmcs_readl(VMCS_GUEST_RSP),
		.rip = vmcs_readl(VMCS_GUEST_RIP),
		.rflags = vmcs_readl(VMCS_GUEST_RFLAGS),
	};
}

/*
 * VM entry fails if the guest is in an STI or MOV-SS shadow with RFLAGS.TF
 * set and no single-step pending (SDM 27.3.1.5; Xen's XSA-308).  The CPU
 * never leaves that state behind, but SET_REGS can create it: make the
 * pending #DB explicit.
 */
static void fix_pending_single_step(unsigned long rflags)
{
	u32 shadow = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY) &
		     (GUEST_INTR_STI_BLOCKING | GUEST_INTR_MOV_SS_BLOCKING);

	if (shadow && (rflags & X86_EFLAGS_TF))
		vmcs_writel(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) |
			    PENDING_DBG_BS);
}

/* RFLAGS bits that are reserved: 1 must be set, 3, 5, 15, 22-63 clear. */
#define RFLAGS_RESERVED_ZERO	(BIT(3) | BIT(5) | BIT(15) | GENMASK_ULL(63, 22))

int vmx_set_regs(struct vmx_vcpu *vcpu, const struct vmxlab_regs *regs)
{
	unsigned long *r = vcpu->regs;

	if (regs->rflags & RFLAGS_RESERVED_ZERO || !(regs->rflags & X86_EFLAGS_FIXED))
		return -EINVAL;
	r[VCPU_RAX] = regs->rax;
	r[VCPU_RBX] = regs->rbx;
	r[VCPU_RCX] = regs->rcx;
	r[VCPU_RDX] = regs->rdx;
	r[VCPU_RSI] = regs->rsi;
	r[VCPU_RDI] = regs->rdi;
	r[VCPU_RBP] = regs->rbp;
	r[VCPU_R8] = regs->r8;
	r[VCPU_R9] = regs->r9;
	r[VCPU_R10] = regs->r10;
	r[VCPU_R11] = regs->r11;
	r[VCPU_R12] = regs->r12;
	r[VCPU_R13] = regs->r13;
	r[VCPU_R14] = regs->r14;
	r[VCPU_R15] = regs->r15;
	vmcs_writel(VMCS_GUEST_RSP, regs->rsp);
	vmcs_writel(VMCS_GUEST_RIP, regs->rip);
	vmcs_writel(VMCS_GUEST_RFLAGS, regs->rflags);
	fix_pending_single_step(regs->rflags);
	return 0;
}

/*
 * The architectural reset state (SDM Vol. 3A, 10.1.1), as KVM gives it to
 * a new vCPU: real mode, CS.base 0xffff0000, RIP 0xfff0.
 */
static void vmx_reset_guest_state(struct vmx_vcpu *vcpu)
{
	struct vmxlab_sregs sregs = {};
	/* RDX holds the processor signature after RESET. */
	struct vmxlab_regs regs = {
		.rip = 0xfff0, .rflags = X86_EFLAGS_FIXED, .rdx = 0x600,
	};
	struct vmxlab_segment data = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	int i;

	sregs.cs = data;
	sregs.cs.type = 11;
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xffff0000;
	sregs.ds = data;
	sregs.es = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.ss = data;
	sregs.tr = (struct vmxlab_segment) { .limit = 0xffff, .type = 11,
					     .present = 1 };
	sregs.ldt = (struct vmxlab_segment) { .limit = 0xffff, .type = 2,
					      .present = 1 };
	sregs.gdt.limit = 0xffff;
	sregs.idt.limit = 0xffff;
	sregs.cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	for (i = 0; i < ARRAY_SIZE(segment_fields); i++)
		write_segment(i, sregs_segment(&sregs, i));
	vmcs_write32(VMCS_GUEST_GDTR_LIMIT, sregs.gdt.limit);
	vmcs_write32(VMCS_GUEST_IDTR_LIMIT, sregs.idt.limit);
	vmx_write_guest_cr0(vcpu, sregs.cr0);
	vmx_write_guest_cr4(vcpu, 0);
	vmx_write_guest_efer(vcpu, 0);
	if (vcpu_is_shadow(vcpu))
		vmx_shadow_flush(vcpu);
	vmx_set_regs(vcpu, &regs);
}

/* Everything in the guest-state area that userspace does not set. */
static void vmx_write_guest_state_misc(void)
{
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);	/* no shadow VMCS */
	vmcs_writel(VMCS_GUEST_DR7, 0x400);
	vmcs_write64(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_writel(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_writel(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_writel(VMCS_GUEST_SYSENTER_EIP, 0);
}

/*
 * #AC and #DB are always intercepted: a guest can otherwise make them
 * recur forever inside event delivery and livelock the host CPU
 * (CVE-2015-5307, CVE-2015-8104).
 */
#define EXCEPTION_BITMAP	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC))

static void vmx_write_controls(struct vmx_vcpu *vcpu)
{
	bool shadow = vcpu_is_shadow(vcpu);
	u32 proc2 = shadow ? vmcs_config.proc2_shadow : vmcs_config.proc2;
	u32 exceptions = EXCEPTION_BITMAP;
	u64 cr0_mask = CR0_HOST_OWNED, cr4_mask = cr4_host_owned();

	if (!vcpu->vpid)
		proc2 &= ~PROC2_CTL_ENABLE_VPID;
	/*
	 * Shadow paging takes every guest #PF: with error-code mask and
	 * match both 0, bit 14 of the bitmap alone decides (SDM 26.2).
	 */
	if (shadow) {
		exceptions |= BIT(X86_TRAP_PF);
		cr0_mask |= CR0_SHADOW_OWNED;
		cr4_mask |= CR4_SHADOW_OWNED;
	}
	vmcs_write32(VMCS_PIN_BASED_CTLS, vmcs_config.pin);
	vmcs_write32(VMCS_PROC_BASED_CTLS, shadow ? vmcs_config.proc_shadow :
			vmcs_config.proc);
	vmcs_write32(VMCS_PROC_BASED_CTLS2, proc2);
	vmcs_write32(VMCS_EXIT_CTLS, vmcs_config.exit);
	vmcs_write32(VMCS_ENTRY_CTLS, vmcs_config.entry);
	vmcs_write32(VMCS_EXCEPTION_BITMAP, exceptions);
	vmcs_write32(VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_write32(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write64(VMCS_ENTRY_MSR_LOAD_ADDR, __pa(vcpu->msr_autoload.guest));
	vmcs_write64(VMCS_EXIT_MSR_LOAD_ADDR, __pa(vcpu->msr_autoload.host));
	vmcs_write32(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_writel(VMCS_CR0_GUEST_HOST_MASK, cr0_mask);
	vmcs_writel(VMCS_CR4_GUEST_HOST_MASK, cr4_mask);
	vmcs_write64(VMCS_MSR_BITMAP, virt_to_phys(msr_bitmap_all_exit));
	if (!shadow)
		vmcs_write64(VMCS_EPT_POINTER, vcpu->vm->mmu.eptp);
	if (vcpu->vpid)
		vmcs_write16(VMCS_VPID, vcpu->vpid);
}

/**
 * vmx_vcpu_setup() - fill a fresh VMCS
 * @vcpu: loaded (its VMCS is current on this CPU)
 *
 * Return: 0
 */
int vmx_vcpu_setup(struct vmx_vcpu *vcpu)
{
	vmx_write_controls(vcpu);
	vmx_write_host_state_constant();
	vmx_write_guest_state_misc();
	vmx_reset_guest_state(vcpu);
	return 0;
}

/* Logged once per vCPU on an unknown exit or a failed entry. */
void vmx_dump_vmcs(struct vmx_vcpu *vcpu)
{
	pr_err("vCPU %u VMCS: exit reason %#x qualification %#lx instruction error %u\n",
	       vcpu->id, vmcs_read32(VMCS_EXIT_REASON),
	       vmcs_readl(VMCS_EXIT_QUALIFICATION),
	       vmcs_read32(VMCS_INSTRUCTION_ERROR));
	pr_err("  RIP %#lx RSP %#lx RFLAGS %#lx CR0 %#lx CR3 %#lx CR4 %#lx EFER %#llx\n",
	       vmcs_readl(VMCS_GUEST_RIP), vmcs_readl(VMCS_GUEST_RSP),
	       vmcs_readl(VMCS_GUEST_RFLAGS), vmcs_readl(VMCS_GUEST_CR0),
	       vmcs_readl(VMCS_GUEST_CR3), vmcs_readl(VMCS_GUEST_CR4),
	       vmcs_read64(VMCS_GUEST_IA32_EFER));
	pr_err("  CS %#x base %#lx limit %#x ar %#x; SS %#x ar %#x; TR %#x ar %#x\n",
	       vmcs_read16(VMCS_GUEST_CS_SELECTOR), vmcs_readl(VMCS_GUEST_CS_BASE),
	       vmcs_read32(VMCS_GUEST_CS_LIMIT), vmcs_read32(VMCS_GUEST_CS_AR),
	       vmcs_read16(VMCS_GUEST_SS_SELECTOR), vmcs_read32(VMCS_GUEST_SS_AR),
	       vmcs_read16(VMCS_GUEST_TR_SELECTOR), vmcs_read32(VMCS_GUEST_TR_AR));
	pr_err("  controls pin %#x proc %#x proc2 %#x exit %#x entry %#x\n",
	       vmcs_read32(VMCS_PIN_BASED_CTLS), vmcs_read32(VMCS_PROC_BASED_CTLS),
	       vmcs_read32(VMCS_PROC_BASED_CTLS2), vmcs_read32(VMCS_EXIT_CTLS),
	       vmcs_read32(VMCS_ENTRY_CTLS));
	pr_err("  entry event %#x error code %#x length %u; interruptibility %#x activity %u\n",
	       vmcs_read32(VMCS_ENTRY_INTR_INFO),
	       vmcs_read32(VMCS_ENTRY_EXCEPTION_ERROR_CODE),
	       vmcs_read32(VMCS_ENTRY_INSTRUCTION_LEN),
	       vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY),
	       vmcs_read32(VMCS_GUEST_ACTIVITY_STATE));
}

/**
 * vmcs_op_failed() - the one place a failed VMREAD/VMWRITE is reported
 * @insn:  "vmread" or "vmwrite"
 * @field: the VMCS encoding
 * @value: what was written
 *
 * A failure here is a vmxlab bug (wrong field, no current VMCS), never
 * the guest's doing: log it, rate-limited, and carry on.
 */
void vmcs_op_failed(const char *insn, unsigned long field, unsigned long value)
{
	pr_err_ratelimited("%s of field %#lx (value %#lx) failed\n",
			   insn, field, value);
}
