// SPDX-License-Identifier: GPL-2.0
/*
 * The VM fd: VMXLAB_CREATE_VM on /dev/vmxlab returns one.  Like the rest
 * of the ioctl layer it only copies arguments, checks them and takes
 * locks; memory goes to mmu/, vCPUs to vcpu.c.
 *
 * Lifetimes: the VM fd pins the module (.owner); each vCPU fd holds a
 * reference to the VM's file, so the VM outlives all its vCPUs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcpu.h"

static int vm_ioctl_set_memory_region(struct vmxlab_vm *vm, void __user *argp)
{
	struct vmxlab_memory_region region;

	if (copy_from_user(&region, argp, sizeof(region)))
		return -EFAULT;
	return mmu_set_memory_region(&vm->mmu, &region);
}

static long vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmxlab_vm *vm = file->private_data;

	/* Memory is pinned from the creator's address space, and only there. */
	if (current->mm != vm->mmu.mm)
		return -EIO;

	switch (cmd) {
	case VMXLAB_SET_MEMORY_REGION:
		return vm_ioctl_set_memory_region(vm, (void __user *)arg);
	case VMXLAB_CREATE_VCPU:
		return vmxlab_create_vcpu(vm, file, arg);
	default:
		return -ENOTTY;
	}
}

static int vm_release(struct inode *inode, struct file *file)
{
	struct vmxlab_vm *vm = file->private_data;

	vmx_stats_vm_remove(vm);
	mmu_destroy(&vm->mmu);
	kfree(vm);
	return 0;
}

static const struct file_operations vm_fops = {
	.owner		= THIS_MODULE,
	.release	= vm_release,
	.unlocked_ioctl	= vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * vmxlab_create_vm() - VMXLAB_CREATE_VM
 * @type: VMXLAB_VM_EPT or VMXLAB_VM_SHADOW (Documentation/paging.rst)
 *
 * Return: a new VM fd, or -EINVAL (unknown type), -EOPNOTSUPP (a CPU
 * without what VMs of that type need), -ENOMEM.
 */
int vmxlab_create_vm(unsigned long type)
{
	struct vmxlab_vm *vm;
	struct file *file;
	int r, fd;

	if (type != VMXLAB_VM_EPT && type != VMXLAB_VM_SHADOW)
		return -EINVAL;
	r = vmx_vm_features_ok(type == VMXLAB_VM_SHADOW);
	if (r)
		return r;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	r = mmu_init(&vm->mmu, type == VMXLAB_VM_SHADOW);
	if (r)
		goto free_vm;
	/*
	 * As KVM does: the fd number first, then the debugfs directory named
	 * after it, and only then the fd in the table, where another thread
	 * could close it at once.
	 */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto destroy_mmu;
	}
	file = anon_inode_getfile("vmxlab-vm", &vm_fops, vm, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		r = PTR_ERR(file);
		goto destroy_mmu;
	}
	vmx_stats_vm_add(vm, fd);
	fd_install(fd, file);
	return fd;

destroy_mmu:
	mmu_destroy(&vm->mmu);
free_vm:
	kfree(vm);
	return r;
}
