// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlab module load and unload: check the CPU, hook the shutdown paths,
 * turn VMX on everywhere, then open /dev/vmxlab -- and undo it in reverse.
 * Documentation/bringup.rst walks through these steps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/preempt.h>

#include "vmxlab.h"

static int __init vmxlab_init(void)
{
	int r;

	r = vmx_check_support();
	if (r)
		return r;
	r = vmx_mitig_init();
	if (r)
		return r;
	r = vmx_read_caps(&vmx_caps);
	if (r)
		goto exit_mitigations;
	vmx_setup_vmcs_config();
	r = vmx_msr_bitmap_init();
	if (r)
		goto exit_mitigations;
	r = vmx_shutdown_hooks_init();
	if (r)
		goto free_msr_bitmap;
	r = vmx_enable_all_cpus();
	if (r)
		goto remove_shutdown_hooks;
	/* Preempt notifiers (vCPU load/put) never fire without this. */
	preempt_notifier_inc();
	vmx_stats_init();
	r = vmxlab_dev_register();
	if (r)
		goto remove_stats;

	pr_info("VMX on, %u CPUs, VMCS revision %#x, features %#llx\n",
		num_online_cpus(), vmx_caps.vmcs_revision, vmx_caps.features);
	return 0;

remove_stats:
	vmx_stats_exit();
	preempt_notifier_dec();
	vmx_disable_all_cpus();
remove_shutdown_hooks:
	vmx_shutdown_hooks_exit();
free_msr_bitmap:
	vmx_msr_bitmap_exit();
exit_mitigations:
	vmx_mitig_exit();
	return r;
}

static void __exit vmxlab_exit(void)
{
	vmxlab_dev_unregister();
	vmx_stats_exit();
	preempt_notifier_dec();
	vmx_disable_all_cpus();
	vmx_shutdown_hooks_exit();
	vmx_msr_bitmap_exit();
	vmx_mitig_exit();
	pr_info("VMX off\n");
}

module_init(vmxlab_init);
module_exit(vmxlab_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMXLAB_VERSION);
MODULE_AUTHOR("The vmxlab developers");
MODULE_DESCRIPTION("vmxlab: a small Intel VT-x hypervisor for learning and research");
