// SPDX-License-Identifier: GPL-2.0
/*
 * Leaving VMX operation when the machine goes down.  A CPU in VMX operation
 * blocks INIT, so a reboot, a kexec or a crash dump kernel would hang if
 * vmxlab left VMX on.  Orderly reboots get a reboot notifier; crashes and
 * emergency reboots call the kernel's "emergency virtualisation" callback
 * on every CPU (in NMI context) -- see vmx_emergency_callback().
 *
 * The emergency callback is a single slot, and kvm_intel takes it when it
 * loads; registering over an owner WARNs.  So vmxlab holds the slot only
 * while kvm_intel is not loaded, hands it over when kvm_intel arrives and
 * takes it back when kvm_intel leaves.  While kvm_intel owns it, its own
 * callback does VMXOFF on any CPU with CR4.VMXE set, which covers vmxlab's
 * VMX operation as well.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/console.h>
#include <linux/delay.h>
#include <linux/hardirq.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <asm/reboot.h>

#include "vmxlab.h"

#define EMERGENCY_SLOT_RIVAL "kvm_intel"

/*
 * How long a CPU in the emergency NMI waits for the console lock when
 * another CPU is printing: well under the second the rebooting CPU waits
 * for all of them.
 */
#define EMERGENCY_CONSOLE_WAIT_MS	100

/*
 * Print the ring buffer on the consoles from NMI context, where printk()
 * only stores a line.  Taking the console lock once, after our line is
 * stored, is enough: console_unlock() prints every stored line, and a CPU
 * that held the lock before us looks for lines stored meanwhile when it
 * lets go.  If the code this NMI interrupted holds a lock that printing
 * needs (the console semaphore's spinlock, the UART's port lock), this
 * CPU spins here for good: its VMXOFF is done, and the rebooting CPU
 * waits at most a second for the other CPUs before it resets anyway.
 */
static void emergency_console_flush(void)
{
	unsigned int ms;

	for (ms = 0; ms < EMERGENCY_CONSOLE_WAIT_MS; ms++) {
		if (console_trylock()) {
			console_unlock();
			return;
		}
		mdelay(1);
	}
}

/*
 * The emergency callback.  It runs on every CPU when the machine goes down
 * in a hurry: in an emergency reboot first on the CPU that reboots, with
 * interrupts off, then on each of the others in the NMI that stops it for
 * good (a crash dump does the others first).  Each CPU that had VMX on
 * says so: the vm-reboot lane (Documentation/testing.rst) looks for these
 * lines, and so does anyone reading a console after a reset.
 *
 * The rebooting CPU's line reaches the console at once.  In NMI context
 * printk() only stores the line and leaves the console to an irq_work of
 * this CPU, which never runs: the CPU halts after this callback, and the
 * rebooting CPU resets the machine as soon as every CPU has checked in,
 * printing nothing that would flush the buffer.  (Seen in Bochs: only the
 * rebooting CPU's line reached the serial console.)  So in an emergency
 * restart, which emergency_restart() announces as SYSTEM_RESTART before
 * it sends the NMIs, the NMI'd CPU prints the buffer itself.  A crash dump
 * keeps the buffer (the kdump kernel reads it from the vmcore): there the
 * line is only stored.
 */
static void vmx_emergency_callback(void)
{
	int cleared = vmx_emergency_disable();

	if (cleared < 0)
		return;
	pr_notice("emergency: VMX off on CPU %d (%d VMCS%s cleared)\n",
		  raw_smp_processor_id(), cleared, cleared == 1 ? "" : "s");
	if (in_nmi() && system_state == SYSTEM_RESTART)
		emergency_console_flush();
}

static DEFINE_MUTEX(emergency_slot_lock);
static bool emergency_slot_held;
static bool emergency_slot_closed;	/* vmxlab is unloading */

static void emergency_slot_take(void)
{
	lockdep_assert_held(&emergency_slot_lock);
	if (emergency_slot_held || emergency_slot_closed)
		return;
	cpu_emergency_register_virt_callback(vmx_emergency_callback);
	emergency_slot_held = true;
}

static void emergency_slot_release(void)
{
	lockdep_assert_held(&emergency_slot_lock);
	if (!emergency_slot_held)
		return;
	cpu_emergency_unregister_virt_callback(vmx_emergency_callback);
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
