/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmxlab userspace API: the ioctls of /dev/vmxlab and the structures they
 * carry.  Modelled on /dev/kvm: the system fd answers questions about the
 * hypervisor; later API versions add a VM fd and vCPU fds.
 *
 * Everything here is fixed-size and padded so that the same layout works
 * for 32- and 64-bit callers and can grow without a new ioctl number.
 */
#ifndef _UAPI_LINUX_VMXLAB_H
#define _UAPI_LINUX_VMXLAB_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Bumped whenever an existing ioctl changes meaning.  It is not the
 * release version: that is the top-level VERSION file of the source
 * (MODULE_VERSION, DKMS, the Debian packages), which also moves when
 * ioctls are only added.
 */
#define VMXLAB_API_VERSION	1

#define VMXLAB_IO		0xAF

/* System ioctls (on the /dev/vmxlab fd). */

/* Returns VMXLAB_API_VERSION as the ioctl's return value; no argument. */
#define VMXLAB_GET_API_VERSION	_IO(VMXLAB_IO, 0x00)
/* Fills struct vmxlab_caps with what this CPU's VMX offers. */
#define VMXLAB_GET_CAPS		_IOR(VMXLAB_IO, 0x01, struct vmxlab_caps)
/* Creates a VM; the argument is VMXLAB_VM_*; returns a VM fd. */
#define VMXLAB_CREATE_VM	_IO(VMXLAB_IO, 0x02)
/* Size to mmap() on a vCPU fd for its struct vmxlab_run. */
#define VMXLAB_GET_VCPU_MMAP_SIZE _IO(VMXLAB_IO, 0x03)
/*
 * Fills a struct vmxlab_cpuid (nent: room on input, entries on output)
 * with the CPUID table a vCPU gets without VMXLAB_SET_CPUID, APIC ids and
 * OSXSAVE aside; -E2BIG, with nent set to the size needed, if it does not
 * fit.  KVM_GET_SUPPORTED_CPUID's counterpart.
 */
#define VMXLAB_GET_SUPPORTED_CPUID _IOWR(VMXLAB_IO, 0x04, struct vmxlab_cpuid)

/* VMXLAB_CREATE_VM argument: how guest-physical memory is translated. */
#define VMXLAB_VM_EPT		0	/* extended page tables */
#define VMXLAB_VM_SHADOW	1	/* shadow paging (paging.rst) */

/* VM ioctls (on a VM fd). */

/* Adds, moves (same slot and size, new address) or deletes (size 0). */
#define VMXLAB_SET_MEMORY_REGION _IOW(VMXLAB_IO, 0x10, struct vmxlab_memory_region)
/* Creates vCPU number arg (0 .. VMXLAB_MAX_VCPUS - 1); returns a vCPU fd. */
#define VMXLAB_CREATE_VCPU	_IO(VMXLAB_IO, 0x11)

/* vCPU ioctls (on a vCPU fd). */
#define VMXLAB_RUN		_IO(VMXLAB_IO, 0x20)
#define VMXLAB_GET_REGS		_IOR(VMXLAB_IO, 0x21, struct vmxlab_regs)
#define VMXLAB_SET_REGS		_IOW(VMXLAB_IO, 0x22, struct vmxlab_regs)
#define VMXLAB_GET_SREGS	_IOR(VMXLAB_IO, 0x23, struct vmxlab_sregs)
#define VMXLAB_SET_SREGS	_IOW(VMXLAB_IO, 0x24, struct vmxlab_sregs)
#define VMXLAB_SET_CPUID	_IOW(VMXLAB_IO, 0x25, struct vmxlab_cpuid)
#define VMXLAB_GET_MSRS		_IOWR(VMXLAB_IO, 0x26, struct vmxlab_msrs)
#define VMXLAB_SET_MSRS		_IOW(VMXLAB_IO, 0x27, struct vmxlab_msrs)
#define VMXLAB_GET_STATS	_IOR(VMXLAB_IO, 0x28, struct vmxlab_vcpu_stats)
/* Queue an external interrupt (vector 32-255); -EBUSY when the queue is full. */
#define VMXLAB_INTERRUPT	_IOW(VMXLAB_IO, 0x29, struct vmxlab_interrupt)
/* Queue an NMI; NMIs queued before the first is delivered coalesce. */
#define VMXLAB_NMI		_IO(VMXLAB_IO, 0x2a)
/* Queue a hardware exception (vector 0-31 but 2); -EBUSY if one is queued. */
#define VMXLAB_INJECT_EXCEPTION	_IOW(VMXLAB_IO, 0x2b, struct vmxlab_exception)
/* Single-step the guest with the monitor trap flag (VMXLAB_CAP_MTF). */
#define VMXLAB_SET_SINGLESTEP	_IOW(VMXLAB_IO, 0x2c, struct vmxlab_singlestep)
/* Start (nr_records > 0), restart or stop (0) the vCPU's exit log. */
#define VMXLAB_SET_EXIT_LOG	_IOW(VMXLAB_IO, 0x2d, struct vmxlab_exit_log_config)
/* Take the oldest unread records of the exit log; returns how many. */
#define VMXLAB_READ_EXIT_LOG	_IOWR(VMXLAB_IO, 0x2e, struct vmxlab_exit_log)

#define VMXLAB_MAX_VCPUS	64
#define VMXLAB_MAX_MEM_SLOTS	32

/* vmxlab_memory_region.flags */
#define VMXLAB_MEM_READONLY	(1U << 0)	/* guest writes exit as MMIO */

struct vmxlab_memory_region {
	__u32 slot;			/* 0 .. VMXLAB_MAX_MEM_SLOTS - 1 */
	__u32 flags;			/* VMXLAB_MEM_* */
	__u64 guest_phys_addr;		/* page aligned */
	__u64 memory_size;		/* page aligned; 0 deletes the slot */
	__u64 userspace_addr;		/* page aligned, the caller's memory */
};

/* General-purpose registers, RIP and RFLAGS (same order as KVM's). */
struct vmxlab_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct vmxlab_segment {
	__u64 base;
	__u32 limit;			/* in bytes, whatever g says: 0xffffffff is flat */
	__u16 selector;
	__u8 type, present, dpl, db, s, l, g, avl;
	__u8 unusable;
	__u8 padding;
};

struct vmxlab_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

/* Segments, descriptor tables and control registers. */
struct vmxlab_sregs {
	struct vmxlab_segment cs, ds, es, fs, gs, ss;
	struct vmxlab_segment tr, ldt;
	struct vmxlab_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, efer;
	__u64 reserved[4];		/* zero */
};

/*
 * The CPUID table the guest sees.  Without VMXLAB_SET_CPUID the guest sees
 * the host's leaves with VMX hidden and the hypervisor bit set.  A leaf
 * not in the table reads as zeros.
 */
#define VMXLAB_MAX_CPUID_ENTRIES	256
#define VMXLAB_CPUID_FLAG_INDEXED	(1U << 0)	/* index (ECX) matters */

struct vmxlab_cpuid_entry {
	__u32 function;			/* EAX on input */
	__u32 index;			/* ECX on input, if INDEXED */
	__u32 flags;			/* VMXLAB_CPUID_FLAG_* */
	__u32 eax, ebx, ecx, edx;
	__u32 padding;
};

struct vmxlab_cpuid {
	__u32 nent;
	__u32 padding;
	struct vmxlab_cpuid_entry entries[];
};

/*
 * MSRs for VMXLAB_GET_MSRS / VMXLAB_SET_MSRS.  Both return the number of
 * entries processed; they stop at the first MSR outside the supported set
 * (see Documentation/api.rst).
 */
#define VMXLAB_MAX_MSR_ENTRIES		64

struct vmxlab_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

struct vmxlab_msrs {
	__u32 nmsrs;
	__u32 padding;
	struct vmxlab_msr_entry entries[];
};

/*
 * Queued interrupts are delivered in order, one per VM entry, each when
 * the guest can take it (RFLAGS.IF = 1, no STI or MOV-SS shadow).
 */
#define VMXLAB_IRQ_QUEUE_LEN		16

struct vmxlab_interrupt {
	__u32 vector;
};

/* vmxlab_exception.flags */
#define VMXLAB_EXCEPTION_HAS_ERROR_CODE	(1U << 0)
#define VMXLAB_EXCEPTION_HAS_CR2	(1U << 1)	/* #PF: set CR2 first */

struct vmxlab_exception {
	__u32 vector;
	__u32 flags;			/* VMXLAB_EXCEPTION_* */
	__u32 error_code;
	__u32 padding;
	__u64 cr2;
};

#define VMXLAB_SINGLESTEP_ENABLE	(1U << 0)	/* 0: stepping off */
#define VMXLAB_SINGLESTEP_FETCH_INSN	(1U << 1)	/* debug.insn[] filled */

struct vmxlab_singlestep {
	__u32 flags;			/* VMXLAB_SINGLESTEP_* */
	__u32 padding;			/* zero */
	__u64 reserved[3];		/* zero */
};

/*
 * The exit log (Documentation/tracing.rst): one record per round trip
 * into the guest, kept in a ring per vCPU while it is on.
 */
#define VMXLAB_MAX_EXIT_LOG		4096	/* records in the ring, at most */
#define VMXLAB_MAX_EXIT_LOG_READ	4096	/* records per READ, at most */

struct vmxlab_exit_log_config {
	__u32 nr_records;		/* 0: off; else a power of two */
	__u32 flags;			/* zero */
	__u64 reserved[3];		/* zero */
};

/*
 * What the exit handler decided (vmxlab_exit_record.decision).  arg[0]
 * and arg[1] of the record say more, as listed after each value.
 */
enum vmxlab_decision {
	VMXLAB_DECISION_NONE = 0,		/* never in a record */
	VMXLAB_DECISION_RESUMED_EMULATED,	/* insn emulated, guest goes on */
	VMXLAB_DECISION_RESUMED,		/* nothing to do: host IRQ, NMI, timer */
	VMXLAB_DECISION_NULL_EXIT,		/* null_exit_reason benchmark */
	VMXLAB_DECISION_TO_USERSPACE_IO,	/* port, size | in << 8 | count << 16 */
	VMXLAB_DECISION_TO_USERSPACE_MMIO,	/* gpa, len | write << 8 */
	VMXLAB_DECISION_TO_USERSPACE_HLT,
	VMXLAB_DECISION_TO_USERSPACE_SHUTDOWN,	/* triple fault, #DF during #DF */
	VMXLAB_DECISION_TO_USERSPACE_IRQ_WINDOW, /* the window userspace wanted */
	VMXLAB_DECISION_WINDOW_OPEN,		/* queued event goes in next entry */
	VMXLAB_DECISION_EPT_MAPPED,		/* gpa, slot */
	VMXLAB_DECISION_EPT_ALREADY_MAPPED,	/* gpa, slot: another vCPU did */
	VMXLAB_DECISION_EPT_READONLY_WRITE,	/* gpa, slot: MMIO for userspace */
	VMXLAB_DECISION_PF_RESOLVED,		/* gva, error code: shadow leaf */
	VMXLAB_DECISION_PF_REFLECTED,		/* gva, error code: guest's #PF */
	VMXLAB_DECISION_INJECTED_EXCEPTION,	/* vector, error code */
	VMXLAB_DECISION_INTERNAL_ERROR,		/* suberror, data[0] */
	VMXLAB_DECISION_UNKNOWN_EXIT,		/* exit reason */
	VMXLAB_DECISION_FAILED_ENTRY,		/* VM-instruction error or reason */
	VMXLAB_DECISION_STEP,			/* MTF exit: step cause */
	VMXLAB_DECISION_ERROR,			/* -errno for VMXLAB_RUN */
	VMXLAB_NR_DECISIONS
};

/*
 * Why an event waits instead of going in at this entry
 * (vmxlab_exit_record.inject_why); what did go in is entry_intr_info.
 */
enum vmxlab_inject_why {
	VMXLAB_INJECT_NONE = 0,			/* nothing waits */
	VMXLAB_INJECT_HELD_IF,			/* interrupt: RFLAGS.IF = 0 */
	VMXLAB_INJECT_HELD_STI,			/* the instruction after STI */
	VMXLAB_INJECT_HELD_MOV_SS,		/* the instruction after MOV SS */
	VMXLAB_INJECT_HELD_NMI_BLOCKED,		/* an NMI handler runs */
	VMXLAB_INJECT_HELD_BUSY,		/* the entry field holds another */
	VMXLAB_INJECT_WINDOW_REQUESTED,		/* userspace asked for a window */
	VMXLAB_NR_INJECT_WHY
};

/* vmxlab_exit_record.outcome: how the round trip ended. */
#define VMXLAB_OUTCOME_RESUMED		1	/* back into the guest */
#define VMXLAB_OUTCOME_USERSPACE	2	/* VMXLAB_RUN returned 0 */
#define VMXLAB_OUTCOME_ERROR		3	/* VMXLAB_RUN failed */

/* One round trip: the entry, the exit, and what vmxlab did.  128 bytes. */
struct vmxlab_exit_record {
	__u64 seq;			/* 0, 1, ... since the log was set */
	__u64 tsc;			/* host TSC at the exit */
	__u64 rip;			/* guest RIP at the exit */
	__u64 qualification;		/* exit qualification */
	__u64 gpa;			/* EPT violation/misconfig, else 0 */
	__u64 gla;			/* EPT violation with a valid one, else 0 */
	__u64 arg[2];			/* per decision, see enum vmxlab_decision */
	__u32 exit_reason;		/* full VMX exit reason */
	__u32 intr_info;		/* VM-exit interruption information */
	__u32 idt_vectoring;		/* IDT-vectoring information */
	__u32 entry_intr_info;		/* the event the entry injected */
	__u16 decision;			/* enum vmxlab_decision */
	__u8 inject_why;		/* enum vmxlab_inject_why */
	__u8 outcome;			/* VMXLAB_OUTCOME_* */
	__u32 padding;			/* zero */
	__u64 reserved[5];		/* zero */
};

/*
 * nrecords: in, room in records[]; out, records filled, oldest first.
 * next_seq: the seq the next record will get.  lost: records overwritten
 * before they were read, since the previous READ.
 */
struct vmxlab_exit_log {
	__u64 next_seq;
	__u32 nrecords;
	__u32 lost;
	__u64 reserved[2];		/* zero on output */
	struct vmxlab_exit_record records[];
};

/*
 * Exit reasons reported in vmxlab_run.exit_reason.  The numbers are the
 * same as KVM's KVM_EXIT_* for the reasons both have.
 */
#define VMXLAB_EXIT_UNKNOWN		0
#define VMXLAB_EXIT_IO			2
#define VMXLAB_EXIT_DEBUG		4
#define VMXLAB_EXIT_HLT			5
#define VMXLAB_EXIT_MMIO		6
#define VMXLAB_EXIT_IRQ_WINDOW_OPEN	7
#define VMXLAB_EXIT_SHUTDOWN		8
#define VMXLAB_EXIT_FAIL_ENTRY		9
#define VMXLAB_EXIT_INTR		10
#define VMXLAB_EXIT_INTERNAL_ERROR	17

/* Where VMXLAB_EXIT_IO data sits in the run page (io.data_offset). */
#define VMXLAB_RUN_IO_DATA_OFFSET	2048
#define VMXLAB_RUN_IO_DATA_SIZE		2048

#define VMXLAB_EXIT_IO_IN		0
#define VMXLAB_EXIT_IO_OUT		1

/*
 * vmxlab_run.debug.cause: why this VMXLAB_EXIT_DEBUG ends a step (SDM
 * Vol. 3C, 26.5.2, "Monitor Trap Flag").
 */
#define VMXLAB_STEP_MTF		1	/* the guest retired an instruction */
#define VMXLAB_STEP_EMULATED	2	/* vmxlab retired an exiting one */
#define VMXLAB_STEP_DELIVERED	3	/* an event went in: at its handler */

/* vmxlab_run.internal.suberror */
#define VMXLAB_INTERNAL_UNKNOWN_EXIT	1	/* data[0]: VMX exit reason */
#define VMXLAB_INTERNAL_EPT_MISCONFIG	2	/* data[0]: guest-physical addr */
#define VMXLAB_INTERNAL_EMULATION	3	/* data[0..1]: insn bytes */
/*
 * Unbacked memory touched by something other than an instruction's data
 * access -- an instruction fetch, a guest page-table walk, or event
 * delivery (IDT, stack) -- which cannot become an MMIO exit.
 * data[0]: guest-physical address, data[1]: EPT-violation qualification.
 * A shadow-paging VM gives the same access bits (2:0) in data[1], the
 * linear address in data[2], and in data[0] the guest's CR3 when one of
 * its page tables is not backed.
 */
#define VMXLAB_INTERNAL_UNBACKED_ACCESS	4
/*
 * A shadow-paging vCPU with CR0.PE = 0: without unrestricted guest the
 * CPU cannot run real mode.  data[0]: the guest's CR0.
 */
#define VMXLAB_INTERNAL_SHADOW_REAL_MODE	5

/*
 * The page shared with userspace through mmap() on the vCPU fd.  Fields
 * marked "in" are read by VMXLAB_RUN (once, into a private copy), fields
 * marked "out" are written when it returns.
 */
struct vmxlab_run {
	__u8 request_interrupt_window;	/* in: exit when the guest can take one */
	__u8 immediate_exit;		/* in: return -EINTR before entering */
	__u8 padding1[6];

	__u32 exit_reason;		/* out: VMXLAB_EXIT_* */
	__u8 ready_for_interrupt_injection; /* out: an interrupt queued now goes in */
	__u8 if_flag;			/* out: guest RFLAGS.IF */
	__u16 padding2;

	union {
		/* VMXLAB_EXIT_UNKNOWN */
		struct {
			__u64 hardware_exit_reason;
		} hw;
		/*
		 * VMXLAB_EXIT_FAIL_ENTRY: the VM-instruction error when
		 * VMLAUNCH/VMRESUME failed (< 32), or the VMX exit reason
		 * with bit 31 set when the guest state was invalid (33).
		 */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 padding;
		} fail_entry;
		/* VMXLAB_EXIT_IO: data at (char *)run + data_offset */
		struct {
			__u8 direction;		/* VMXLAB_EXIT_IO_IN/OUT */
			__u8 size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;		/* > 1 for REP string forms */
			__u64 data_offset;
		} io;
		/* VMXLAB_EXIT_MMIO */
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
			__u8 padding[3];
		} mmio;
		/*
		 * VMXLAB_EXIT_DEBUG: one step done; the guest is at @rip.
		 * @pending_dbg is the guest's pending debug exceptions (a
		 * TF trap waiting: bit 14, BS).  With
		 * VMXLAB_SINGLESTEP_FETCH_INSN, @insn holds the @insn_len
		 * readable bytes at @rip (at most 15: bytes, not a decoded
		 * instruction length).
		 */
		struct {
			__u64 rip;
			__u64 pending_dbg;
			__u32 cause;		/* VMXLAB_STEP_* */
			__u8 insn_len;
			__u8 insn[15];
			__u64 reserved;
		} debug;
		/* VMXLAB_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		char padding[256];
	};
};

/* VMX basic exit reasons are below 80 (SDM Vol. 3D, Appendix C). */
#define VMXLAB_NR_VMX_EXIT_REASONS	80

/* Per-vCPU exit counters, indexed by VMX basic exit reason. */
struct vmxlab_vcpu_stats {
	__u64 exits[VMXLAB_NR_VMX_EXIT_REASONS];
	__u64 exits_to_userspace;
	__u64 failed_entries;
	__u64 injected_irqs;		/* virtual interrupts delivered */
	__u64 l1d_flushes;		/* L1D flushed before an entry (L1TF) */
	/* Shadow paging: how each intercepted guest #PF ended. */
	__u64 pf_resolved;		/* a shadow leaf filled in */
	__u64 pf_reflected;		/* the guest's own #PF, vector 14 */
	__u64 pf_mmio;			/* an MMIO access */
	__u64 reserved[1];
};

/*
 * Feature bits of vmxlab_caps.features, decoded from the VMX capability
 * MSRs (SDM Vol. 3D, Appendix A).  A bit is set when the CPU allows the
 * corresponding control to be 1 (or reports the capability), whether or not
 * vmxlab uses it yet.
 */
#define VMXLAB_CAP_TRUE_CTLS		(1ULL << 0)  /* IA32_VMX_TRUE_*_CTLS exist */
#define VMXLAB_CAP_SECONDARY_CTLS	(1ULL << 1)  /* secondary proc-based controls */
#define VMXLAB_CAP_EPT			(1ULL << 2)  /* enable EPT */
#define VMXLAB_CAP_VPID			(1ULL << 3)  /* enable VPID */
#define VMXLAB_CAP_UNRESTRICTED_GUEST	(1ULL << 4)  /* real mode/unpaged guests */
#define VMXLAB_CAP_MTF			(1ULL << 5)  /* monitor trap flag */
#define VMXLAB_CAP_ACK_INTR_ON_EXIT	(1ULL << 6)  /* exit acknowledges interrupt */
#define VMXLAB_CAP_VIRTUAL_NMIS		(1ULL << 7)  /* virtual NMIs */
#define VMXLAB_CAP_PREEMPTION_TIMER	(1ULL << 8)  /* VMX-preemption timer */
#define VMXLAB_CAP_TPR_SHADOW		(1ULL << 9)  /* use TPR shadow */
#define VMXLAB_CAP_MSR_BITMAPS		(1ULL << 10) /* use MSR bitmaps */
#define VMXLAB_CAP_IO_BITMAPS		(1ULL << 11) /* use I/O bitmaps */
#define VMXLAB_CAP_EPT_AD		(1ULL << 12) /* EPT accessed/dirty flags */
#define VMXLAB_CAP_EPT_4LEVEL		(1ULL << 13) /* 4-level EPT walks */
#define VMXLAB_CAP_EPT_WB		(1ULL << 14) /* write-back EPT paging structs */
#define VMXLAB_CAP_EPT_2M		(1ULL << 15) /* 2 MiB EPT pages */
#define VMXLAB_CAP_EPT_1G		(1ULL << 16) /* 1 GiB EPT pages */
#define VMXLAB_CAP_INVEPT		(1ULL << 17) /* INVEPT instruction */
#define VMXLAB_CAP_INVVPID		(1ULL << 18) /* INVVPID instruction */
#define VMXLAB_CAP_NMI_EXITING		(1ULL << 19) /* NMI exiting */
#define VMXLAB_CAP_INTR_WINDOW		(1ULL << 20) /* interrupt-window exiting */
#define VMXLAB_CAP_NMI_WINDOW		(1ULL << 21) /* NMI-window exiting */
#define VMXLAB_CAP_LOAD_EFER		(1ULL << 22) /* load IA32_EFER on entry */
#define VMXLAB_CAP_SAVE_EFER		(1ULL << 23) /* save IA32_EFER on exit */
#define VMXLAB_CAP_LOAD_PAT		(1ULL << 24) /* load IA32_PAT on entry */
#define VMXLAB_CAP_CR8_EXITING		(1ULL << 25) /* CR8 load and store exiting */
#define VMXLAB_CAP_MOV_DR_EXITING	(1ULL << 26) /* MOV-DR exiting */
#define VMXLAB_CAP_HOST_LONG_MODE	(1ULL << 27) /* host address-space size */
#define VMXLAB_CAP_IA32E_GUEST		(1ULL << 28) /* IA-32e mode guest */
#define VMXLAB_CAP_VIRT_APIC_ACCESSES	(1ULL << 29) /* virtualize APIC accesses */

/*
 * The answer to VMXLAB_GET_CAPS: decoded features plus the raw MSRs they
 * came from, so a reader (or a test) can check the decoding.  A control
 * MSR's low 32 bits are its allowed-0 settings (a 1 there means "must be
 * 1"), its high 32 bits the allowed-1 settings ("may be 1").
 */
struct vmxlab_caps {
	__u64 features;			/* VMXLAB_CAP_* */
	__u32 vmcs_revision;		/* IA32_VMX_BASIC[30:0] */
	__u32 vmcs_size;		/* IA32_VMX_BASIC[44:32], bytes */
	__u64 msr_basic;		/* 0x480 IA32_VMX_BASIC */
	__u64 msr_pinbased;		/* 0x481 or 0x48d when TRUE_CTLS */
	__u64 msr_procbased;		/* 0x482 or 0x48e when TRUE_CTLS */
	__u64 msr_exit;			/* 0x483 or 0x48f when TRUE_CTLS */
	__u64 msr_entry;		/* 0x484 or 0x490 when TRUE_CTLS */
	__u64 msr_misc;			/* 0x485 IA32_VMX_MISC */
	__u64 msr_cr0_fixed0;		/* 0x486 */
	__u64 msr_cr0_fixed1;		/* 0x487 */
	__u64 msr_cr4_fixed0;		/* 0x488 */
	__u64 msr_cr4_fixed1;		/* 0x489 */
	__u64 msr_procbased2;		/* 0x48b, 0 without secondary controls */
	__u64 msr_ept_vpid_cap;		/* 0x48c, 0 without EPT and VPID */
	/*
	 * The host's TSC frequency in kHz, as the host kernel measured it (0:
	 * unknown).  A guest's RDTSC runs at this rate with no offset; a
	 * guest cannot calibrate it, so the VMM tells it (CPUID 0x15/0x16).
	 */
	__u64 tsc_khz;
	__u64 reserved[7];		/* zero; room to grow */
};

#endif /* _UAPI_LINUX_VMXLAB_H */
