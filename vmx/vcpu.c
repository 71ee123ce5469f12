// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU fd: VMXLAB_CREATE_VCPU on a VM fd returns one.  Its ioctls copy
 * arguments in and out, take the vCPU's mutex, load the vCPU on this CPU
 * and call the VMX backend (vmcs.c, run.c) -- this file never touches the
 * VMCS itself.  VMXLAB_RUN is where every trip into the guest starts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xstate.h>

#include <vmxlab/vmx_arch.h>
#include <vmxlab/vmx_ops.h>
#include "fpstate.h"
#include "vcpu.h"

static DEFINE_IDA(vpid_ida);

/* T:010 Userspace asks to run the guest
 * Every trip into a guest starts with ioctl(vcpu_fd, VMXLAB_RUN).
 * vcpu_ioctl() has checked that the caller owns the VM's memory and holds
 * the vCPU's mutex, so nothing else touches this VMCS.  vmx_vcpu_load()
 * makes the VMCS current on this CPU with VMPTRLD: VMREAD, VMWRITE and
 * VMRESUME all act on the current VMCS only (SDM 25.1).  If the VMCS was
 * last active on another CPU it is VMCLEARed there first, and the host
 * fields that differ per CPU (TR, GDT, SYSENTER stack) are rewritten; on
 * a CPU where this VM never ran, INVEPT first drops translations cached
 * for an EPT root that may have been another VM's (mmu/ept_sync.c).
 *
 * What the previous exit left to userspace is finished before anything
 * else: the data of an IN goes into RAX, an MMIO load into its register,
 * and the guest steps over that instruction.  The guest must never see an
 * instruction half done, even when no entry follows.  The guest's FPU
 * registers are not part of the VMCS, so fpu_swap_kvm_fpstate() swaps
 * them in by hand around the run.
 */
static int vcpu_ioctl_run(struct vmx_vcpu *vcpu)
{
	int r;

	vmx_vcpu_load(vcpu);
	/* Pending I/O completes first, even when no entry follows. */
	vmx_complete_userspace_exit(vcpu);
	/* Completing an IN, INS or MMIO load retires it: a whole step. */
	if (unlikely(vcpu->step.retired)) {
		vmx_step_end_emulated(vcpu);
		vmx_events_report(vcpu);
		vmx_vcpu_put(vcpu);
		return 0;
	}
	/* Read once: userspace may rewrite the page while we run. */
	if (READ_ONCE(vcpu->run->immediate_exit)) {
		vcpu->run->exit_reason = VMXLAB_EXIT_INTR;
		vmx_events_report(vcpu);
		vmx_vcpu_put(vcpu);
		return -EINTR;
	}
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	r = vmx_vcpu_run(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
	vmx_vcpu_put(vcpu);
	return r;
}

static int vcpu_ioctl_get_regs(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_regs regs;

	vmx_vcpu_load(vcpu);
	vmx_get_regs(vcpu, &regs);
	vmx_vcpu_put(vcpu);
	return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
}

static int vcpu_ioctl_set_regs(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_regs regs;
	int r;

	if (copy_from_user(&regs, argp, sizeof(regs)))
		return -EFAULT;
	vmx_vcpu_load(vcpu);
	r = vmx_set_regs(vcpu, &regs);
	vmx_vcpu_put(vcpu);
	return r;
}

static int vcpu_ioctl_get_sregs(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_sregs sregs;

	vmx_vcpu_load(vcpu);
	vmx_get_sregs(vcpu, &sregs);
	vmx_vcpu_put(vcpu);
	return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
}

static int vcpu_ioctl_set_sregs(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_sregs sregs;
	int r;

	if (copy_from_user(&sregs, argp, sizeof(sregs)))
		return -EFAULT;
	vmx_vcpu_load(vcpu);
	r = vmx_set_sregs(vcpu, &sregs);
	vmx_vcpu_put(vcpu);
	return r;
}

static int vcpu_ioctl_set_cpuid(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_cpuid __user *ucpuid = argp;
	struct vmxlab_cpuid_entry *entries;
	u32 nent, i;

	if (get_user(nent, &ucpuid->nent))
		return -EFAULT;
	if (nent > VMXLAB_MAX_CPUID_ENTRIES)
		return -E2BIG;
	entries = memdup_user(ucpuid->entries, nent * sizeof(*entries));
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	for (i = 0; i < nent; i++) {
		if (entries[i].flags & ~VMXLAB_CPUID_FLAG_INDEXED ||
		    entries[i].padding) {
			kfree(entries);
			return -EINVAL;
		}
	}
	return vmx_set_cpuid(vcpu, entries, nent);
}

/*
 * GET/SET_MSRS: like KVM's, they process entries in order and return how
 * many succeeded, stopping at the first MSR outside the supported set.
 */
static int vcpu_ioctl_msrs(struct vmx_vcpu *vcpu, void __user *argp, bool set)
{
	struct vmxlab_msrs __user *umsrs = argp;
	struct vmxlab_msr_entry *entries;
	u32 n, i;
	int r = 0;

	if (get_user(n, &umsrs->nmsrs))
		return -EFAULT;
	if (n > VMXLAB_MAX_MSR_ENTRIES)
		return -E2BIG;
	entries = memdup_user(umsrs->entries, n * sizeof(*entries));
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	vmx_vcpu_load(vcpu);
	for (i = 0; i < n; i++) {
		if (set)
			r = vmx_set_msr(vcpu, entries[i].index, entries[i].data);
		else
			r = vmx_get_msr(vcpu, entries[i].index, &entries[i].data);
		if (r)
			break;
	}
	vmx_vcpu_put(vcpu);
	if (!set && copy_to_user(umsrs->entries, entries, i * sizeof(*entries)))
		i = -EFAULT;
	kfree(entries);
	return i;
}

static int vcpu_ioctl_interrupt(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	return vmx_queue_interrupt(vcpu, irq.vector);
}

static int vcpu_ioctl_inject_exception(struct vmx_vcpu *vcpu,
				       void __user *argp)
{
	struct vmxlab_exception e;

	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	return vmx_queue_exception(vcpu, &e);
}

static int vcpu_ioctl_set_singlestep(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_singlestep s;
	int r;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	vmx_vcpu_load(vcpu);
	r = vmx_set_singlestep(vcpu, &s);
	vmx_vcpu_put(vcpu);
	return r;
}

static int vcpu_ioctl_set_exit_log(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_exit_log_config c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	return vmx_set_exit_log(vcpu, &c);
}

/*
 * READ_EXIT_LOG, shaped like GET_MSRS: nrecords is the room on input and
 * the count on output, which is also the return value.  The records are
 * taken into a kernel buffer first, so that exit_log.c never touches
 * userspace memory.  Records taken are gone even if the copy faults.
 */
static int vcpu_ioctl_read_exit_log(struct vmx_vcpu *vcpu, void __user *argp)
{
	struct vmxlab_exit_log __user *ulog = argp;
	struct vmxlab_exit_record *recs;
	struct vmxlab_exit_log hdr = {};
	u32 room, n;

	if (get_user(room, &ulog->nrecords))
		return -EFAULT;
	if (room > VMXLAB_MAX_EXIT_LOG_READ)
		return -E2BIG;
	if (!vcpu->xlog.ring)
		return -ENOENT;
	recs = kvmalloc_array(max(room, 1U), sizeof(*recs), GFP_KERNEL_ACCOUNT);
	if (!recs)
		return -ENOMEM;
	n = vmx_exit_log_take(vcpu, &hdr, recs, room);
	if (copy_to_user(ulog, &hdr, sizeof(hdr)) ||
	    copy_to_user(ulog->records, recs, n * sizeof(*recs)))
		n = -EFAULT;
	kvfree(recs);
	return n;
}

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmx_vcpu *vcpu = file->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	/* A vCPU runs only in the process that owns the VM's memory. */
	if (current->mm != vcpu->vm->mmu.mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	switch (cmd) {
	case VMXLAB_RUN:
		r = arg ? -EINVAL : vcpu_ioctl_run(vcpu);
		break;
	case VMXLAB_GET_REGS:
		r = vcpu_ioctl_get_regs(vcpu, argp);
		break;
	case VMXLAB_SET_REGS:
		r = vcpu_ioctl_set_regs(vcpu, argp);
		break;
	case VMXLAB_GET_SREGS:
		r = vcpu_ioctl_get_sregs(vcpu, argp);
		break;
	case VMXLAB_SET_SREGS:
		r = vcpu_ioctl_set_sregs(vcpu, argp);
		break;
	case VMXLAB_SET_CPUID:
		r = vcpu_ioctl_set_cpuid(vcpu, argp);
		break;
	case VMXLAB_GET_MSRS:
		r = vcpu_ioctl_msrs(vcpu, argp, false);
		break;
	case VMXLAB_SET_MSRS:
		r = vcpu_ioctl_msrs(vcpu, argp, true);
		break;
	case VMXLAB_INTERRUPT:
		r = vcpu_ioctl_interrupt(vcpu, argp);
		break;
	case VMXLAB_NMI:
		r = vmx_queue_nmi(vcpu);
		break;
	case VMXLAB_INJECT_EXCEPTION:
		r = vcpu_ioctl_inject_exception(vcpu, argp);
		break;
	case VMXLAB_SET_SINGLESTEP:
		r = vcpu_ioctl_set_singlestep(vcpu, argp);
		break;
	case VMXLAB_SET_EXIT_LOG:
		r = vcpu_ioctl_set_exit_log(vcpu, argp);
		break;
	case VMXLAB_READ_EXIT_LOG:
		r = vcpu_ioctl_read_exit_log(vcpu, argp);
		break;
	case VMXLAB_GET_STATS:
		r = copy_to_user(argp, &vcpu->stats, sizeof(vcpu->stats)) ?
		    -EFAULT : 0;
		break;
	default:
		r = -ENOTTY;
		break;
	}
	mutex_unlock(&vcpu->mutex);
	return r;
}

/* The run page is mapped by fault, like KVM's. */
static vm_fault_t vcpu_mmap_fault(struct vm_fault *vmf)
{
	struct vmx_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff != 0)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(vcpu->run);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct vcpu_vm_ops = {
	.fault = vcpu_mmap_fault,
};

static int vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff != 0 || vma_pages(vma) != 1)
		return -EINVAL;
	vma->vm_ops = &vcpu_vm_ops;
	return 0;
}

static void vcpu_free(struct vmx_vcpu *vcpu)
{
	vmx_vcpu_unload(vcpu);
	vmx_shadow_vcpu_free(vcpu);
	if (vcpu->vpid) {
		vmx_flush_vpid_all_cpus(vcpu->vpid);
		ida_free(&vpid_ida, vcpu->vpid);
	}
	vmx_guest_fpstate_free(&vcpu->guest_fpu);
	kfree(vcpu->cpuid);
	vmx_exit_log_free(vcpu);
	free_page((unsigned long)vcpu->vmcs.vmcs);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

static int vcpu_release(struct inode *inode, struct file *file)
{
	struct vmx_vcpu *vcpu = file->private_data;
	struct vmxlab_vm *vm = vcpu->vm;

	struct file *vm_file = vcpu->vm_file;

	mutex_lock(&vm->lock);
	vm->vcpus[vcpu->id] = NULL;
	mutex_unlock(&vm->lock);
	vcpu_free(vcpu);
	fput(vm_file);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= vcpu_release,
	.unlocked_ioctl	= vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vcpu_mmap,
	.llseek		= noop_llseek,
};

/*
 * Pages and ids a vCPU owns; everything else is zero-initialised.  A
 * shadow-paging vCPU gets no VPID (caps.c says why) but a shadow tree.
 */
static struct vmx_vcpu *vcpu_alloc(bool shadow)
{
	struct vmx_vcpu *vcpu;
	int vpid;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->vmcs.cpu = -1;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->vmcs.vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run || !vcpu->vmcs.vmcs ||
	    vmx_guest_fpstate_alloc(&vcpu->guest_fpu))
		goto free;
	*(u32 *)vcpu->vmcs.vmcs = vmx_caps.vmcs_revision;
	if (shadow) {
		if (vmx_shadow_vcpu_init(vcpu))
			goto free_fpu;
	} else if ((vmx_caps.features & (VMXLAB_CAP_VPID | VMXLAB_CAP_INVVPID)) ==
		   (VMXLAB_CAP_VPID | VMXLAB_CAP_INVVPID)) {
		vpid = ida_alloc_range(&vpid_ida, 1, 0xffff, GFP_KERNEL);
		if (vpid > 0)
			vcpu->vpid = vpid;
	}
	return vcpu;
free_fpu:
	vmx_guest_fpstate_free(&vcpu->guest_fpu);
free:
	free_page((unsigned long)vcpu->vmcs.vmcs);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	return NULL;
}

/**
 * vmxlab_create_vcpu() - VMXLAB_CREATE_VCPU
 * @vm:      the VM
 * @vm_file: its file; the vCPU holds a reference to it
 * @id:      0 .. VMXLAB_MAX_VCPUS - 1, unique in the VM
 *
 * Return: a vCPU fd, -EINVAL (id out of range), -EEXIST (id taken),
 * -ENOMEM.  Nothing is left behind on failure.
 */
int vmxlab_create_vcpu(struct vmxlab_vm *vm, struct file *vm_file,
		       unsigned long id)
{
	struct vmx_vcpu *vcpu;
	int r;

	if (id >= VMXLAB_MAX_VCPUS)
		return -EINVAL;
	vcpu = vcpu_alloc(vm->mmu.shadow);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->guest_xcr0 = XFEATURE_MASK_FP;
	vcpu->guest_pat = 0x0007040600070406ULL;	/* power-on value */
	vcpu->guest_dr6 = 0xffff0ff0;			/* reserved bits set */
	mutex_init(&vcpu->mutex);

	/* A fresh VMCS must be VMCLEARed before its first VMPTRLD. */
	vmx_vmclear(virt_to_phys(vcpu->vmcs.vmcs));
	vmx_vcpu_load(vcpu);
	vmx_vcpu_setup(vcpu);
	vmx_vcpu_put(vcpu);

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->vcpus[id])
		goto unlock_free;
	vcpu->vm_file = get_file(vm_file);
	r = anon_inode_getfd("vmxlab-vcpu", &vcpu_fops, vcpu,
			     O_RDWR | O_CLOEXEC);
	if (r < 0) {
		fput(vm_file);
		goto unlock_free;
	}
	vm->vcpus[id] = vcpu;
	vmx_shadow_vcpu_register(vcpu);
	mutex_unlock(&vm->lock);
	return r;

unlock_free:
	mutex_unlock(&vm->lock);
	vcpu_free(vcpu);
	return r;
}
