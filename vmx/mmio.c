// SPDX-License-Identifier: GPL-2.0
/*
 * Exits that userspace completes: port I/O (plain and string forms) and
 * MMIO.  The exit hands the access to userspace in the run page; for a
 * read, the next VMXLAB_RUN calls vmx_complete_userspace_exit() to put the
 * data where the guest instruction wanted it and step over it.  MMIO needs
 * the instruction itself: its bytes are fetched through the guest's page
 * tables (mmu/gwalk.c) and decoded (decode.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include <vmxlab/vmx_arch.h>
#include "../mmu/gwalk.h"
#include "decode.h"
#include "vcpu.h"
#include "vmcs.h"

static int read_guest_phys(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	struct vmx_vcpu *vcpu = ctx;

	vcpu->l1d_flush_wanted = true;	/* guest memory in L1D, for L1TF */
	return mmu_read_guest(&vcpu->vm->mmu, gpa, buf, len);
}

/* The same, for a walk between mmu_read_begin() and mmu_read_end(). */
static int read_guest_phys_locked(void *ctx, u64 gpa, void *buf,
				  unsigned int len)
{
	struct vmx_vcpu *vcpu = ctx;

	vcpu->l1d_flush_wanted = true;
	return mmu_read_guest_locked(&vcpu->vm->mmu, gpa, buf, len);
}

/**
 * vmx_guest_paging_regs() - the paging state the walker needs
 * @vcpu: loaded
 * @r:    out
 *
 * Under EPT the CPU itself walks the guest's tables, with the registers
 * in the VMCS, its own MAXPHYADDR and 1 GiB page support: read as they
 * are, on the MMIO exit path.  Under PAE paging that includes the PDPTE
 * registers, which a VM exit stores in the VMCS (SDM Vol. 3C, VM exits,
 * "Saving Non-Register State"): the guest may have edited its PDPT in
 * memory since it last loaded them, and the CPU went on with the
 * registers.  Under shadow paging vmxlab does, as the guest sees it: CR0
 * and CR4 through their read shadows, CR3 and EFER from the vCPU,
 * MAXPHYADDR and 1 GiB pages from the guest's CPUID, and the PAE PDPTE
 * registers vmxlab keeps.
 */
void vmx_guest_paging_regs(struct vmx_vcpu *vcpu, struct gwalk_regs *r)
{
	int i;

	if (!vcpu_is_shadow(vcpu)) {
		r->cr0 = vmcs_readl(VMCS_GUEST_CR0);
		r->cr3 = vmcs_readl(VMCS_GUEST_CR3);
		r->cr4 = vmcs_readl(VMCS_GUEST_CR4);
		r->efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
		r->maxphyaddr = boot_cpu_data.x86_phys_bits;
		r->features = boot_cpu_has(X86_FEATURE_GBPAGES) ?
			      GWALK_FEAT_1G_PAGES : 0;
		r->pdptes = NULL;
		if (gwalk_paging_mode(r) == GWALK_MODE_PAE) {
			for (i = 0; i < 4; i++)
				vcpu->exit_pdptes[i] =
					vmcs_read64(VMCS_GUEST_PDPTE0 + 2 * i);
			r->pdptes = vcpu->exit_pdptes;
		}
		return;
	}
	r->cr0 = vmx_read_guest_cr0();
	r->cr3 = vcpu->shadow.cr3;
	r->cr4 = vmx_read_guest_cr4();
	r->efer = vcpu->shadow.efer;
	r->maxphyaddr = vmx_guest_maxphyaddr(vcpu);
	r->features = vmx_guest_paging_features(vcpu);
	r->pdptes = vcpu->shadow.pdptes;
}

/* CPL is SS.DPL (SDM Vol. 3A, 5.5); user accesses are checked as such. */
static unsigned int guest_access(unsigned int access)
{
	u32 ss_ar = vmcs_read32(VMCS_GUEST_SS_AR);

	return ((ss_ar >> 5) & 3) == 3 ? access | GWALK_ACC_USER : access;
}

/* 16, 32 or 64: the default operand size of the guest's code segment. */
static unsigned int guest_code_size(void)
{
	u32 cs_ar = vmcs_read32(VMCS_GUEST_CS_AR);

	if ((vmcs_read64(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (cs_ar & BIT(13)))
		return 64;
	return cs_ar & BIT(14) ? 32 : 16;
}

/* The linear address of RIP: CS base added, 32-bit wrap, outside 64-bit code. */
static u64 guest_rip_linear(void)
{
	u64 rip = vmcs_readl(VMCS_GUEST_RIP);

	if (guest_code_size() != 64)
		rip = (u32)(rip + vmcs_readl(VMCS_GUEST_CS_BASE));
	return rip;
}

static int emulation_failed(struct vmx_vcpu *vcpu, const u8 *bytes,
			    unsigned int n)
{
	struct vmxlab_run *run = vcpu->run;

	run->exit_reason = VMXLAB_EXIT_INTERNAL_ERROR;
	run->internal.suberror = VMXLAB_INTERNAL_EMULATION;
	run->internal.ndata = 2;
	run->internal.data[0] = 0;
	run->internal.data[1] = 0;
	if (bytes)
		memcpy(run->internal.data, bytes, min_t(unsigned int, n, 16));
	vmx_decide(vcpu, VMXLAB_DECISION_INTERNAL_ERROR,
		   VMXLAB_INTERNAL_EMULATION, run->internal.data[0]);
	return 0;
}

/*
 * Fetch and decode the instruction at guest RIP.  Only the bytes the
 * decoder consumes are needed: first what is left of RIP's page, and the
 * next page only if the instruction goes on there -- an instruction at the
 * end of guest RAM, before unbacked memory, must still decode.  The walks
 * read the guest's tables under one hold of the slots (mmu_read_begin()).
 *
 * Return: the number of bytes fetched, with @insn decoded, or minus the
 * number fetched when fetching or decoding failed.
 */
static int fetch_and_decode(struct vmx_vcpu *vcpu,
			    const struct gwalk_regs *regs, u8 *bytes,
			    struct mmio_insn *insn)
{
	unsigned int mode = guest_code_size(), first;
	struct vmxlab_mmu *mmu = &vcpu->vm->mmu;
	unsigned int access = guest_access(GWALK_ACC_FETCH);
	struct gwalk_result res;
	u64 rip;
	int n, r;

	rip = guest_rip_linear();
	first = min_t(unsigned int, MMIO_INSN_MAX_LEN,
		      PAGE_SIZE - (rip & ~PAGE_MASK));
	mmu_read_begin(mmu);
	n = gwalk_read_virt(regs, rip, access, read_guest_phys_locked, vcpu,
			    bytes, first, &res);
	r = n > 0 ? mmio_decode(bytes, n, mode, insn) : 0;
	if (n > 0 && r == -EINVAL && n == first && first < MMIO_INSN_MAX_LEN) {
		/* It goes on past the page: fetch the rest, decode again. */
		r = gwalk_read_virt(regs, rip + first, access,
				    read_guest_phys_locked, vcpu, bytes + first,
				    MMIO_INSN_MAX_LEN - first, &res);
		if (r > 0)
			n += r;
		r = mmio_decode(bytes, n, mode, insn);
	}
	mmu_read_end(mmu);
	if (n <= 0)
		return 0;
	return r ? -n : n;
}

/**
 * vmx_fetch_insn() - copy the bytes at the guest's RIP
 * @vcpu:  loaded
 * @bytes: room for @max bytes
 * @max:   at most this many (an instruction is at most 15)
 *
 * Through the guest's page tables, as an instruction fetch at the
 * guest's CPL, each page with its own rights (gwalk_read_virt()); stops
 * at the first byte that cannot be read.
 *
 * Return: the number of bytes copied.
 */
unsigned int vmx_fetch_insn(struct vmx_vcpu *vcpu, u8 *bytes, unsigned int max)
{
	struct gwalk_result res;
	struct gwalk_regs regs;
	int n;

	vmx_guest_paging_regs(vcpu, &regs);
	n = gwalk_read_virt(&regs, guest_rip_linear(), guest_access(GWALK_ACC_FETCH),
			    read_guest_phys, vcpu, bytes, max, &res);
	return max(n, 0);
}

/* T:160 MMIO: decoding what the guest did
 * An EPT violation gives the address but not the access: not its size,
 * not which register the data comes from or goes to.  For that the
 * instruction is fetched from guest memory through the guest's own page
 * tables and decoded.  A store carries its data to userspace in the run
 * page and the guest steps over it now; a load waits, like an IN, until
 * the next VMXLAB_RUN brings the data.  An instruction that cannot be
 * fetched or decoded ends the run with an internal-error exit that
 * carries its bytes, so that the VMM can report what the guest tried.
 */
/**
 * vmx_emulate_mmio() - turn an access to unbacked memory into an MMIO exit
 * @vcpu: the vCPU, stopped on the accessing instruction
 * @gpa:  the guest-physical address it touched
 * @regs: the guest's paging registers (vmx_guest_paging_regs()), when the
 *        caller has them already (the shadow #PF handler), else NULL
 *
 * Return: 0 (an MMIO exit, or an internal-error exit carrying the
 * instruction bytes when they cannot be fetched or decoded).
 */
int vmx_emulate_mmio(struct vmx_vcpu *vcpu, u64 gpa,
		     const struct gwalk_regs *regs)
{
	struct vmxlab_run *run = vcpu->run;
	u8 bytes[MMIO_INSN_MAX_LEN] = {};
	struct gwalk_regs own;
	struct mmio_insn insn;
	u64 data;
	int n;

	if (!regs) {
		vmx_guest_paging_regs(vcpu, &own);
		regs = &own;
	}
	n = fetch_and_decode(vcpu, regs, bytes, &insn);
	if (n <= 0)
		return emulation_failed(vcpu, bytes, -n);

	run->exit_reason = VMXLAB_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = insn.size;
	run->mmio.is_write = insn.is_write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_MMIO, gpa,
		   insn.size | (insn.is_write ? 1 << 8 : 0));
	if (insn.is_write) {
		data = mmio_store_data(&insn, vmx_read_gpr(vcpu, insn.reg));
		memcpy(run->mmio.data, &data, insn.size);
		vmx_advance_rip(vcpu, insn.len);
		return 0;
	}
	vcpu->pending.kind = COMPLETE_MMIO_LOAD;
	vcpu->pending.insn = insn;
	return 0;
}

/*
 * INS/OUTS use SI/DI and CX, ESI/EDI and ECX, or RSI/RDI and RCX, by the
 * instruction's address size (SDM Vol. 2B, INS and REP): the CPU reports
 * it in the VM-exit instruction information when IA32_VMX_BASIC[54] says
 * so (SDM Vol. 3C, Table 28-8); older CPUs get the code segment's size,
 * which misses a 0x67 prefix.
 */
static unsigned int string_io_addr_size(void)
{
	if (vmx_caps.msr_basic & IA32_VMX_BASIC_INS_OUTS_INFO)
		return 2 << ((vmcs_read32(VMCS_EXIT_INSTRUCTION_INFO) >> 7) & 3);
	return guest_code_size() / 8;
}

static u64 addr_mask(unsigned int addr_size)
{
	return addr_size == 8 ? ~0ULL : BIT_ULL(8 * addr_size) - 1;
}

/*
 * Write the low @addr_size bytes of a register as the CPU does: a 16-bit
 * write keeps the rest, a 32-bit one clears the upper half.
 */
static void write_index_reg(struct vmx_vcpu *vcpu, int reg, u64 value,
			    unsigned int addr_size)
{
	u64 mask = addr_mask(addr_size);

	if (addr_size == 2)
		value = (vcpu->regs[reg] & ~mask) | (value & mask);
	else
		value &= mask;
	vcpu->regs[reg] = value;
}

/*
 * How many elements this exit moves: one without REP, else the count
 * register by the address size, at most a run page's worth, and never
 * past the point where SI/DI wraps (the elements after it are elsewhere).
 * Backwards (DF = 1) one per exit, so the data stays in memory order;
 * one per exit too while single-stepping, one step per iteration.  A
 * REP form with more to do is not skipped: the CPU executes it again and
 * exits for the next chunk.  The VMCS gives the linear address of the
 * first element (SDM 28.2.5).
 */
static unsigned int string_io_count(struct vmx_vcpu *vcpu, unsigned long qual,
				    unsigned int size, unsigned int addr_size,
				    int index_reg)
{
	u64 mask = addr_mask(addr_size);
	u64 count = qual & IO_QUAL_REP ? vcpu->regs[VCPU_RCX] & mask : 1;
	u64 index = vcpu->regs[index_reg] & mask;

	if ((vmcs_readl(VMCS_GUEST_RFLAGS) & X86_EFLAGS_DF) || vcpu->step.flags)
		return min_t(u64, count, 1);
	count = min_t(u64, count, VMXLAB_RUN_IO_DATA_SIZE / size);
	if (addr_size != 8)
		count = min_t(u64, count, max_t(u64, (mask - index + 1) / size, 1));
	return count;
}

/*
 * After @count elements: move the index register (RSI for OUTS, RDI for
 * INS) and count CX down for REP, both by the address size, and step
 * over the instruction when done.
 */
static void finish_string_io(struct vmx_vcpu *vcpu, int index_reg)
{
	struct vmx_pending_completion *p = &vcpu->pending;
	u64 bytes = (u64)p->count * p->size;
	u64 index = vcpu->regs[index_reg];

	index = p->backward ? index - bytes : index + bytes;
	write_index_reg(vcpu, index_reg, index, p->addr_size);
	if (p->rep) {
		write_index_reg(vcpu, VCPU_RCX, vcpu->regs[VCPU_RCX] - p->count,
				p->addr_size);
		if (vcpu->regs[VCPU_RCX] & addr_mask(p->addr_size)) {
			/* One iteration retired; the CPU runs it again. */
			vmx_step_retired(vcpu);
			return;
		}
	}
	vmx_advance_rip(vcpu, p->insn_len);
}

int vmx_handle_string_io(struct vmx_vcpu *vcpu, unsigned long qual)
{
	struct vmxlab_run *run = vcpu->run;
	unsigned int size = (qual & IO_QUAL_SIZE_MASK) + 1;
	unsigned int addr_size = string_io_addr_size();
	int index_reg = qual & IO_QUAL_IN ? VCPU_RDI : VCPU_RSI;
	unsigned int count = string_io_count(vcpu, qual, size, addr_size,
					     index_reg);
	u64 gla = vmcs_readl(VMCS_GUEST_LINEAR_ADDRESS);
	u8 *data = (u8 *)run + VMXLAB_RUN_IO_DATA_OFFSET;
	struct gwalk_result res;
	struct gwalk_regs regs;

	/* REP with a zero count (by the address size) moves nothing. */
	if (!count) {
		vmx_decide(vcpu, VMXLAB_DECISION_RESUMED_EMULATED,
			   qual >> IO_QUAL_PORT_SHIFT, 0);
		vmx_skip_instruction(vcpu);
		return 1;
	}

	run->exit_reason = VMXLAB_EXIT_IO;
	run->io.size = size;
	run->io.port = qual >> IO_QUAL_PORT_SHIFT;
	run->io.count = count;
	run->io.data_offset = VMXLAB_RUN_IO_DATA_OFFSET;
	vcpu->pending.size = size;
	vcpu->pending.count = count;
	vcpu->pending.rep = qual & IO_QUAL_REP;
	vcpu->pending.backward = vmcs_readl(VMCS_GUEST_RFLAGS) & X86_EFLAGS_DF;
	vcpu->pending.addr_size = addr_size;
	vcpu->pending.gla = gla;
	vcpu->pending.insn_len = vmcs_read32(VMCS_EXIT_INSTRUCTION_LEN);
	vmx_decide(vcpu, VMXLAB_DECISION_TO_USERSPACE_IO, run->io.port,
		   size | (qual & IO_QUAL_IN ? 1 << 8 : 0) | (u64)count << 16);
	if (qual & IO_QUAL_IN) {
		run->io.direction = VMXLAB_EXIT_IO_IN;
		vcpu->pending.kind = COMPLETE_IO_INS;
		return 0;
	}
	run->io.direction = VMXLAB_EXIT_IO_OUT;
	vmx_guest_paging_regs(vcpu, &regs);
	if (gwalk_read_virt(&regs, gla, guest_access(0), read_guest_phys, vcpu,
			    data, count * size, &res) != count * size)
		return emulation_failed(vcpu, NULL, 0);
	finish_string_io(vcpu, VCPU_RSI);
	return 0;
}

/* Copy @len bytes to guest-virtual @gla, page by page, as a write access. */
static int write_guest_virt(struct vmx_vcpu *vcpu, u64 gla, const u8 *buf,
			    unsigned int len)
{
	struct gwalk_result res;
	struct gwalk_regs regs;

	vcpu->l1d_flush_wanted = true;	/* guest memory in L1D, for L1TF */
	vmx_guest_paging_regs(vcpu, &regs);
	while (len) {
		unsigned int chunk = min_t(unsigned int, len,
					   PAGE_SIZE - (gla & ~PAGE_MASK));

		if (gwalk_translate(&regs, gla, guest_access(GWALK_ACC_WRITE),
				    read_guest_phys, vcpu, &res) ||
		    res.fault != GWALK_FAULT_NONE ||
		    mmu_write_guest(&vcpu->vm->mmu, res.gpa, buf, chunk))
			return -EFAULT;
		gla += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

/* Write a completed load into its register, as an IN or a MOV would. */
static void write_gpr_sized(struct vmx_vcpu *vcpu, int reg, u64 value,
			    unsigned int size)
{
	unsigned long old = vmx_read_gpr(vcpu, reg);

	switch (size) {
	case 1:
		value = (old & ~0xffUL) | (u8)value;
		break;
	case 2:
		value = (old & ~0xffffUL) | (u16)value;
		break;
	case 4:
		value = (u32)value;	/* 32-bit writes zero-extend */
		break;
	}
	vmx_write_gpr(vcpu, reg, value);
}

/**
 * vmx_complete_userspace_exit() - finish an IN, INS or MMIO load
 * @vcpu: loaded; called at the start of every VMXLAB_RUN
 *
 * The data userspace left in the run page goes where the instruction
 * wanted it, and the guest steps over the instruction.
 */
void vmx_complete_userspace_exit(struct vmx_vcpu *vcpu)
{
	struct vmx_pending_completion *p = &vcpu->pending;
	struct vmxlab_run *run = vcpu->run;
	u8 *io_data = (u8 *)run + VMXLAB_RUN_IO_DATA_OFFSET;
	u64 data = 0;

	switch (p->kind) {
	case COMPLETE_IO_IN:
		memcpy(&data, io_data, p->size);
		write_gpr_sized(vcpu, VCPU_RAX, data, p->size);
		vmx_advance_rip(vcpu, p->insn_len);
		break;
	case COMPLETE_IO_INS:
		if (write_guest_virt(vcpu, p->gla, io_data, p->count * p->size))
			vmx_inject_exception(vcpu, X86_TRAP_GP, true, 0);
		else
			finish_string_io(vcpu, VCPU_RDI);
		break;
	case COMPLETE_MMIO_LOAD:
		memcpy(&data, run->mmio.data, p->insn.size);
		data = mmio_load_result(&p->insn,
					vmx_read_gpr(vcpu, p->insn.reg), data);
		vmx_write_gpr(vcpu, p->insn.reg, data);
		vmx_advance_rip(vcpu, p->insn.len);
		break;
	case COMPLETE_NONE:
		return;
	}
	p->kind = COMPLETE_NONE;
}
