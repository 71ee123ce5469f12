// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmxlab, the system fd: the userspace door into vmxlab, like
 * /dev/kvm.  This layer only copies arguments in and out; it never touches
 * VMX state itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/tsc.h>

#include "vmxlab.h"

/*
 * The capabilities read at load, plus the TSC frequency read now: the
 * kernel may refine its calibration after boot (tsc_refine_calibration).
 */
static int get_caps(void __user *argp)
{
	struct vmxlab_caps caps = vmx_caps;

	caps.tsc_khz = READ_ONCE(tsc_khz);
	return copy_to_user(argp, &caps, sizeof(caps)) ? -EFAULT : 0;
}

/* VMXLAB_GET_SUPPORTED_CPUID: the ioctl side of vmx_supported_cpuid(). */
static long get_supported_cpuid(void __user *argp)
{
	struct vmxlab_cpuid __user *ucpuid = argp;
	struct vmxlab_cpuid_entry *entries;
	u32 room, n;
	long r = 0;

	if (get_user(room, &ucpuid->nent))
		return -EFAULT;
	room = min_t(u32, room, VMXLAB_MAX_CPUID_ENTRIES);
	entries = kcalloc(VMXLAB_MAX_CPUID_ENTRIES, sizeof(*entries),
			  GFP_KERNEL);
	if (!entries)
		return -ENOMEM;
	n = vmx_supported_cpuid(entries, VMXLAB_MAX_CPUID_ENTRIES);
	if (n > room)
		r = -E2BIG;
	else if (copy_to_user(ucpuid->entries, entries, n * sizeof(*entries)))
		r = -EFAULT;
	if (!r || r == -E2BIG)
		if (put_user(n, &ucpuid->nent))
			r = -EFAULT;
	kfree(entries);
	return r;
}

static long vmxlab_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VMXLAB_GET_API_VERSION:
		return VMXLAB_API_VERSION;
	case VMXLAB_GET_CAPS:
		return get_caps(argp);
	case VMXLAB_CREATE_VM:
		return vmxlab_create_vm(arg);
	case VMXLAB_GET_VCPU_MMAP_SIZE:
		return PAGE_SIZE;
	case VMXLAB_GET_SUPPORTED_CPUID:
		return get_supported_cpuid(argp);
	default:
		return -ENOTTY;
	}
}

/*
 * .owner pins the module while the device is open: delete_module() then
 * fails with -EWOULDBLOCK instead of pulling the code out from under us.
 */
static const struct file_operations vmxlab_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= vmxlab_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vmxlab_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vmxlab",
	.fops	= &vmxlab_dev_fops,
	.mode	= 0600,
};

int vmxlab_dev_register(void)
{
	return misc_register(&vmxlab_dev);
}

void vmxlab_dev_unregister(void)
{
	misc_deregister(&vmxlab_dev);
}
