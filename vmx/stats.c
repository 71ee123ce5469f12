// SPDX-License-Identifier: GPL-2.0
/*
 * Live statistics, readable without the VMM's help (as KVM's debugfs
 * files are, which kvm_stat reads): one directory per VM,
 * /sys/kernel/debug/vmxlab/<pid>-<vm fd>/, with
 *
 *   stats   the VM's totals: one "name value" line each -- exits to user
 *           space, failed entries, injected interrupts, L1D flushes,
 *           pinned pages, vCPUs -- then "exit_<reason> <count>" for every
 *           VMX basic exit reason seen;
 *   vcpus   one line per vCPU: its id, then the same counters.
 *
 * The numbers are the ones VMXLAB_GET_STATS returns, read while the vCPUs
 * run (each is a single u64, so a value is never torn).  tools/vmxlab-stat
 * shows them.  Without debugfs there is simply no directory.
 */
#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "vcpu.h"

static struct dentry *vmxlab_debugfs;

void vmx_stats_init(void)
{
	vmxlab_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void vmx_stats_exit(void)
{
	debugfs_remove_recursive(vmxlab_debugfs);
	vmxlab_debugfs = NULL;
}

static void stats_add(struct vmxlab_vcpu_stats *sum,
		      const struct vmxlab_vcpu_stats *s)
{
	int i;

	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		sum->exits[i] += READ_ONCE(s->exits[i]);
	sum->exits_to_userspace += READ_ONCE(s->exits_to_userspace);
	sum->failed_entries += READ_ONCE(s->failed_entries);
	sum->injected_irqs += READ_ONCE(s->injected_irqs);
	sum->l1d_flushes += READ_ONCE(s->l1d_flushes);
	sum->pf_resolved += READ_ONCE(s->pf_resolved);
	sum->pf_reflected += READ_ONCE(s->pf_reflected);
	sum->pf_mmio += READ_ONCE(s->pf_mmio);
}

static void stats_show(struct seq_file *m, const struct vmxlab_vcpu_stats *s,
		       const char *sep)
{
	int i;

	seq_printf(m, "exits_to_userspace %llu%sfailed_entries %llu%s",
		   s->exits_to_userspace, sep, s->failed_entries, sep);
	seq_printf(m, "injected_irqs %llu%sl1d_flushes %llu%s",
		   s->injected_irqs, sep, s->l1d_flushes, sep);
	seq_printf(m, "pf_resolved %llu%spf_reflected %llu%spf_mmio %llu",
		   s->pf_resolved, sep, s->pf_reflected, sep, s->pf_mmio);
	for (i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		if (s->exits[i])
			seq_printf(m, "%sexit_%d %llu", sep, i, s->exits[i]);
	seq_puts(m, "\n");
}

/* vm->lock keeps every vCPU in vm->vcpus[] from being freed meanwhile. */
static int vm_stats_show(struct seq_file *m, void *unused)
{
	struct vmxlab_vm *vm = m->private;
	struct vmxlab_vcpu_stats sum = {};
	int i, n = 0;

	mutex_lock(&vm->lock);
	for (i = 0; i < VMXLAB_MAX_VCPUS; i++) {
		if (vm->vcpus[i]) {
			stats_add(&sum, &vm->vcpus[i]->stats);
			n++;
		}
	}
	mutex_unlock(&vm->lock);
	seq_printf(m, "vcpus %d\npinned_pages %lu\n", n,
		   READ_ONCE(vm->mmu.pinned_pages));
	stats_show(m, &sum, "\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm_stats);

static int vm_vcpus_show(struct seq_file *m, void *unused)
{
	struct vmxlab_vm *vm = m->private;
	struct vmxlab_vcpu_stats s;
	int i;

	mutex_lock(&vm->lock);
	for (i = 0; i < VMXLAB_MAX_VCPUS; i++) {
		if (!vm->vcpus[i])
			continue;
		memset(&s, 0, sizeof(s));
		stats_add(&s, &vm->vcpus[i]->stats);
		seq_printf(m, "vcpu %d ", i);
		stats_show(m, &s, " ");
	}
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm_vcpus);

/**
 * vmx_stats_vm_add() - the VM's directory, before its fd is installed
 * @vm: the new VM
 * @fd: the fd number it is about to get
 *
 * Named after the creating process and that fd, as KVM names its
 * per-VM directories; failures leave the VM without one.
 */
void vmx_stats_vm_add(struct vmxlab_vm *vm, int fd)
{
	struct dentry *old;
	char name[32];

	if (IS_ERR_OR_NULL(vmxlab_debugfs))
		return;
	snprintf(name, sizeof(name), "%d-%d", task_tgid_nr(current), fd);
	/*
	 * The fd number is free again while vCPUs still hold the old VM:
	 * that VM keeps the name, this one goes without (as in KVM).
	 */
	old = debugfs_lookup(name, vmxlab_debugfs);
	if (old) {
		dput(old);
		return;
	}
	vm->debugfs = debugfs_create_dir(name, vmxlab_debugfs);
	debugfs_create_file("stats", 0444, vm->debugfs, vm, &vm_stats_fops);
	debugfs_create_file("vcpus", 0444, vm->debugfs, vm, &vm_vcpus_fops);
}

/* Before the VM is freed; waits for readers still in its files. */
void vmx_stats_vm_remove(struct vmxlab_vm *vm)
{
	debugfs_remove_recursive(vm->debugfs);
	vm->debugfs = NULL;
}
