/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmxlab-trace's words for the exit log: the name of each VMX exit
 * reason, and for each VMXLAB_DECISION_* why vmxlab decided it and what
 * it did.  Pure: it formats records into buffers.
 */
#ifndef VMXLAB_TRACE_EXPLAIN_H
#define VMXLAB_TRACE_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <uapi/linux/vmxlab.h>

/* VMX basic exit reasons the tool names (SDM Vol. 3D, Appendix C). */
#define EXIT_EXCEPTION_NMI	0
#define EXIT_EXTERNAL_INTERRUPT	1
#define EXIT_INTERRUPT_WINDOW	7
#define EXIT_CPUID		10
#define EXIT_HLT		12
#define EXIT_IO_INSTRUCTION	30
#define EXIT_MONITOR_TRAP_FLAG	37
#define EXIT_EPT_VIOLATION	48
#define EXIT_PREEMPTION_TIMER	52

const char *explain_reason(unsigned int basic_reason);
const char *explain_decision(unsigned int decision);
const char *explain_inject_why(unsigned int why);
const char *explain_outcome(unsigned int outcome);
int explain_check_tables(void);

/*
 * One record as a line of text ("#12 EPT_VIOLATION rip ...") or as a
 * JSON object, without the newline.  @next is the record after it in the
 * same run, or NULL: what the next entry injected.
 */
void explain_text(char *buf, size_t len, const struct vmxlab_exit_record *r,
		  const struct vmxlab_exit_record *next);
void explain_json(char *buf, size_t len, const struct vmxlab_exit_record *r,
		  const struct vmxlab_exit_record *next);

#endif
