/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the guest_irq*_test selftests: the log a guest's IDT handlers
 * append each event they take to, host helpers that queue events and look
 * at the run page and counters, and pinning threads to host CPUs.
 */
#ifndef VMXLAB_SELFTEST_IRQ_UTIL_H
#define VMXLAB_SELFTEST_IRQ_UTIL_H

#include <sched.h>

#include "vmxlab_lib.h"

/* VMX basic exit reasons the library does not name (SDM Vol. 3D, App. C). */
#define VMX_EXIT_EXTERNAL_INTERRUPT	1
#define VMX_EXIT_INTERRUPT_WINDOW	7
#define VMX_EXIT_NMI_WINDOW		8

/* --- the guest's event log ------------------------------------------------ */

#define EVLOG_MAX		64

struct ev_record {
	__u64 vector;
	__u64 error_code;
	__u64 rip;		/* where the event interrupted the guest */
	__u64 cr2;		/* the guest's CR2 in the handler */
	__u64 marker;		/* guest_marker when the handler ran */
	__u64 depth;		/* handlers running, this one included */
};

struct ev_log {
	__u64 n;		/* events taken; may exceed EVLOG_MAX */
	__u64 depth;
	struct ev_record rec[EVLOG_MAX];
};

/*
 * In the image, so each VM has its own copy.  guest_marker is what the
 * guest code writes as it goes, so a handler can tell how far it had got.
 * The host reads both only while the vCPU is stopped.
 */
static struct ev_log guest_evlog;
static __u64 guest_marker;

/* Guest side: append one record; usable as a handler for any vector. */
static inline void guest_record_event(struct ex_regs *regs)
{
	struct ev_log *log = &guest_evlog;
	__u64 i = log->n;

	log->depth++;
	if (i < EVLOG_MAX) {
		log->rec[i].vector = regs->vector;
		log->rec[i].error_code = regs->error_code;
		log->rec[i].rip = regs->rip;
		log->rec[i].cr2 = guest_read_cr2();
		log->rec[i].marker = guest_marker;
		log->rec[i].depth = log->depth;
	}
	log->n = i + 1;
	log->depth--;
}

/* Host side: the guest's copy of the log and of the marker. */
static inline struct ev_log *vm_evlog(struct vm *vm)
{
	return addr_gva2hva(vm, &guest_evlog);
}

static inline __u64 *vm_marker(struct vm *vm)
{
	return addr_gva2hva(vm, &guest_marker);
}

/* --- queueing events ------------------------------------------------------ */

static inline int vcpu_queue_irq(struct vcpu *vcpu, __u32 vector)
{
	struct vmxlab_interrupt irq = { .vector = vector };

	return __vcpu_ioctl(vcpu, VMXLAB_INTERRUPT, &irq);
}

static inline int vcpu_queue_nmi(struct vcpu *vcpu)
{
	return __vcpu_ioctl(vcpu, VMXLAB_NMI, NULL);
}

static inline int vcpu_queue_exception(struct vcpu *vcpu, __u32 vector,
				       __u32 flags, __u32 error_code,
				       __u64 cr2)
{
	struct vmxlab_exception e = {
		.vector = vector, .flags = flags, .error_code = error_code,
		.cr2 = cr2,
	};

	return __vcpu_ioctl(vcpu, VMXLAB_INJECT_EXCEPTION, &e);
}

/* How many exits for VMX exit reason @reason between two samples. */
static inline __u64 exits_since(const struct vmxlab_vcpu_stats *before,
				const struct vmxlab_vcpu_stats *after, int reason)
{
	return after->exits[reason] - before->exits[reason];
}

/* --- ucalls --------------------------------------------------------------- */

/*
 * Run to the next ucall and fail the test unless it is GUEST_SYNC(@stage,
 * ...); the ucall is left in @uc.
 */
#define vcpu_run_to_sync(vcpu, uc, stage)				\
	__vcpu_run_to_sync(vcpu, uc, stage, __FILE__, __LINE__)

static inline void __vcpu_run_to_sync(struct vcpu *vcpu, struct ucall *uc,
				      __u64 stage, const char *file, int line)
{
	__u64 cmd = vcpu_run_to_ucall(vcpu, uc);
	char buf[512];

	if (cmd == UCALL_SYNC && uc->args[0] == stage)
		return;
	test_fail_header(file, line, "vcpu_run_to_sync");
	fprintf(stderr, "#   expected GUEST_SYNC(%llu), got %s\n",
		(unsigned long long)stage, ucall_str(uc, buf, sizeof(buf)));
	test_fail_exit();
}

static inline __u64 vcpu_rip(struct vcpu *vcpu)
{
	struct vmxlab_regs regs;

	vcpu_regs_get(vcpu, &regs);
	return regs.rip;
}

/* --- host CPUs -------------------------------------------------------------- */

static inline int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

#endif /* VMXLAB_SELFTEST_IRQ_UTIL_H */
