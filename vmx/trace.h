/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints on the exit path: one before each VM entry, one after each
 * VM exit, visible to trace-cmd and perf as vmxlab:vmxlab_entry and
 * vmxlab:vmxlab_exit.  run.c fires them around __vmx_vcpu_run().  And one
 * per INVEPT of a VM's EPT pointer (mmu/ept.c), on the CPU that does it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmxlab

#if !defined(VMXLAB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VMXLAB_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vmxlab_entry,
	    TP_PROTO(u32 vcpu_id, unsigned long rip),
	    TP_ARGS(vcpu_id, rip),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(unsigned long, rip)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->rip = rip;),
	    TP_printk("vcpu %u rip 0x%lx", __entry->vcpu_id, __entry->rip)
);

TRACE_EVENT(vmxlab_exit,
	    TP_PROTO(u32 vcpu_id, u32 exit_reason, unsigned long rip,
		     unsigned long qualification),
	    TP_ARGS(vcpu_id, exit_reason, rip, qualification),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u32, exit_reason)
			     __field(unsigned long, rip)
			     __field(unsigned long, qualification)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->exit_reason = exit_reason;
			   __entry->rip = rip;
			   __entry->qualification = qualification;),
	    TP_printk("vcpu %u reason %u rip 0x%lx qualification 0x%lx",
		      __entry->vcpu_id, __entry->exit_reason, __entry->rip,
		      __entry->qualification)
);

TRACE_EVENT(vmxlab_invept,
	    TP_PROTO(u64 eptp, bool single_context),
	    TP_ARGS(eptp, single_context),
	    TP_STRUCT__entry(__field(u64, eptp)
			     __field(bool, single_context)),
	    TP_fast_assign(__entry->eptp = eptp;
			   __entry->single_context = single_context;),
	    TP_printk("eptp 0x%llx %s", __entry->eptp,
		      __entry->single_context ? "single-context" : "global")
);

#endif /* VMXLAB_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
