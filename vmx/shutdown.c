// SPDX-License-Identifier: GPL-2.0
/*
 * Leaving VMX operation when the machine goes down.  A CPU in VMX operation
 * blocks INIT, so a reboot, a kexec or a crash dump kernel would hang if
 * vmxlab left VMX on.  Orderly reboots get a reboot notifier; crashes and
 * emergency reboots call the kernel's "emergency virtualisation" callback
 * on every CPU (in NMI context) -- see vmx_emergency_disable().
 *
 * The emergency callback is a single slot, and kvm_intel takes it when it
 * loads; registering over an owner WARNs.  So vmxlab holds the slot only
 * while kvm_intel is not loaded, hands it over when kvm_intel arrives and
 * takes it back when kvm_intel leaves.  While kvm_intel owns it, its own
 * callback does VMXOFF on any CPU with CR4.VMXE set, which covers vmxlab's
 * VMX operation as well.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <asm/reboot.h>

#include "vmxlab.h"

#define EMERGENCY_SLOT_RIVAL "kvm_intel"

static DEFINE_MUTEX(emergency_slot_lock);
static bool emergency_slot_held;
static bool emergency_slot_closed;	/* vmxlab is unloading */

static void emergency_slot_take(void)
{
	lockdep_assert_held(&emergency_slot_lock);
	if (emergency_slot_held || emergency_slot_closed)
		return;
	cpu_emergency_register_virt_callback(vmx_emergency_disable);
	emergency_slot_held = true;
}

static void emergency_slot_release(void)
{
	lockdep_assert_held(&emergency_slot_lock);
	if (!emergency_slot_held)
		return;
	cpu_emergency_unregister_virt_callback(vmx_emergency_disable);
	emergency_slot_held = false;
}

/*
 * MODULE_STATE_COMING is announced before the module's init function runs
 * (where kvm_intel registers its callback) and MODULE_STATE_GOING after its
 * exit function (where it unregisters) or after a failed init.
 */
static int vmx_module_event(struct notifier_block *nb, unsigned long state,
			    void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, EMERGENCY_SLOT_RIVAL))
		return NOTIFY_DONE;

	mutex_lock(&emergency_slot_lock);
	if (state == MODULE_STATE_COMING)
		emergency_slot_release();
	else if (state == MODULE_STATE_GOING)
		emergency_slot_take();
	mutex_unlock(&emergency_slot_lock);
	return NOTIFY_OK;
}

static struct notifier_block vmx_module_nb = {
	.notifier_call = vmx_module_event,
};

/*
 * Is the rival already loaded?  Every module has a kobject in the same
 * kset as ours (/sys/module), from before its init runs until after its
 * exit, so look it up there.
 */
static bool rival_loaded(void)
{
	struct kobject *kobj;

	kobj = kset_find_obj(THIS_MODULE->mkobj.kobj.kset, EMERGENCY_SLOT_RIVAL);
	if (!kobj)
		return false;
	kobject_put(kobj);
	return true;
}

/*
 * Give the slot up for good.  It is closed before the module notifier goes,
 * so a rival leaving in between cannot make us take it back.
 */
static void emergency_slot_close(void)
{
	mutex_lock(&emergency_slot_lock);
	emergency_slot_release();
	emergency_slot_closed = true;
	mutex_unlock(&emergency_slot_lock);
	unregister_module_notifier(&vmx_module_nb);
}

static int vmx_reboot_event(struct notifier_block *nb, unsigned long code,
			    void *unused)
{
	vmx_reboot_disable();
	/* The test VM's verdict looks for this line when it powers off. */
	pr_info("VMX off on every CPU for %s\n",
		code == SYS_POWER_OFF ? "power-off" :
		code == SYS_HALT ? "halt" : "restart");
	return NOTIFY_OK;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot_event,
};

/**
 * vmx_shutdown_hooks_init() - install the reboot and emergency hooks
 *
 * Called before the first VMXON, so that no CPU is ever in VMX operation
 * without a way out.
 *
 * Return: 0 or -errno; nothing is left installed on failure.
 */
int vmx_shutdown_hooks_init(void)
{
	int r;

	emergency_slot_closed = false;
	r = register_module_notifier(&vmx_module_nb);
	if (r)
		return r;

	/*
	 * The notifier is registered first, so a rival that loads from now
	 * on is seen by vmx_module_event(); the lock orders the two.
	 */
	mutex_lock(&emergency_slot_lock);
	if (!rival_loaded())
		emergency_slot_take();
	mutex_unlock(&emergency_slot_lock);

	r = register_reboot_notifier(&vmx_reboot_nb);
	if (r)
		goto release_slot;
	return 0;

release_slot:
	emergency_slot_close();
	return r;
}

/* Called after the last VMXOFF. */
void vmx_shutdown_hooks_exit(void)
{
	unregister_reboot_notifier(&vmx_reboot_nb);
	emergency_slot_close();
}
