/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints on the exit path: one before each VM entry, one after each
 * VM exit, visible to trace-cmd and perf as vmxlab:vmxlab_entry and
 * vmxlab:vmxlab_exit.  run.c fires them around __vmx_vcpu_run().  And one
 * per INVEPT of a VM's EPT pointer (mmu/ept.c), on the CPU that does it.
 * vmxlab_inject and vmxlab_decision carry the exit log's record
 * (exit_log.c): while either has a probe, run.c builds it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmxlab

#if !defined(VMXLAB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VMXLAB_TRACE_H

#include <linux/tracepoint.h>
#include <uapi/linux/vmxlab.h>

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

/* Registering a probe turns the record building on (exit_log.c). */
int vmx_exit_log_key_get(void);
void vmx_exit_log_key_put(void);

/* What the entry injected, and why the rest waits (VMXLAB_INJECT_*). */
TRACE_EVENT_FN(vmxlab_inject,
	       TP_PROTO(u32 vcpu_id, u32 entry_intr_info, u8 why),
	       TP_ARGS(vcpu_id, entry_intr_info, why),
	       TP_STRUCT__entry(__field(u32, vcpu_id)
				__field(u32, entry_intr_info)
				__field(u8, why)),
	       TP_fast_assign(__entry->vcpu_id = vcpu_id;
			      __entry->entry_intr_info = entry_intr_info;
			      __entry->why = why;),
	       TP_printk("vcpu %u entry_intr_info 0x%x why %u",
			 __entry->vcpu_id, __entry->entry_intr_info,
			 __entry->why),
	       vmx_exit_log_key_get, vmx_exit_log_key_put
);

/* One round trip's record, once its exit is handled (tracing.rst). */
TRACE_EVENT_FN(vmxlab_decision,
	       TP_PROTO(u32 vcpu_id, const struct vmxlab_exit_record *r),
	       TP_ARGS(vcpu_id, r),
	       TP_STRUCT__entry(__field(u32, vcpu_id)
				__field(u32, exit_reason)
				__field(u64, rip)
				__field(u16, decision)
				__field(u8, outcome)
				__field(u64, arg0)
				__field(u64, arg1)),
	       TP_fast_assign(__entry->vcpu_id = vcpu_id;
			      __entry->exit_reason = r->exit_reason;
			      __entry->rip = r->rip;
			      __entry->decision = r->decision;
			      __entry->outcome = r->outcome;
			      __entry->arg0 = r->arg[0];
			      __entry->arg1 = r->arg[1];),
	       TP_printk("vcpu %u reason %u rip 0x%llx decision %u outcome %u args 0x%llx 0x%llx",
			 __entry->vcpu_id, __entry->exit_reason, __entry->rip,
			 __entry->decision, __entry->outcome, __entry->arg0,
			 __entry->arg1),
	       vmx_exit_log_key_get, vmx_exit_log_key_put
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

/* What became of one guest #PF under shadow paging (paging.rst). */
TRACE_EVENT(vmxlab_shadow_pf,
	    TP_PROTO(u32 vcpu_id, u64 gva, u32 hw_error, int result,
		     u32 guest_error),
	    TP_ARGS(vcpu_id, gva, hw_error, result, guest_error),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u64, gva)
			     __field(u32, hw_error)
			     __field(int, result)
			     __field(u32, guest_error)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->gva = gva;
			   __entry->hw_error = hw_error;
			   __entry->result = result;
			   __entry->guest_error = guest_error;),
	    TP_printk("vcpu %u gva 0x%llx error 0x%x: %s (guest's error code 0x%x)",
		      __entry->vcpu_id, __entry->gva, __entry->hw_error,
		      __print_symbolic(__entry->result,
				       { 0, "resolved" }, { 1, "reflected" },
				       { 2, "mmio" }, { 3, "unbacked" }),
		      __entry->guest_error)
);

/* A guest MOV to CR3 under shadow paging: its cached root, or a new one. */
TRACE_EVENT(vmxlab_shadow_cr3,
	    TP_PROTO(u32 vcpu_id, u64 cr3, bool hit),
	    TP_ARGS(vcpu_id, cr3, hit),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u64, cr3)
			     __field(bool, hit)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->cr3 = cr3;
			   __entry->hit = hit;),
	    TP_printk("vcpu %u cr3 0x%llx: %s", __entry->vcpu_id, __entry->cr3,
		      __entry->hit ? "cached root still valid" :
				     "root emptied, refilled by faults")
);

#endif /* VMXLAB_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
