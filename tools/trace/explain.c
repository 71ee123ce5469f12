// SPDX-License-Identifier: GPL-2.0
/*
 * The exit log in words.  decisions[] is indexed by the uapi enum
 * vmxlab_decision: a value added there without a line here shortens the
 * array (a build error, below) or leaves a hole (explain_check_tables(),
 * which the build runs, fails).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/explain.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define INTR_INFO_VALID		0x80000000U
#define INTR_INFO_VECTOR(i)	((i) & 0xff)
#define INTR_INFO_TYPE(i)	(((i) >> 8) & 7)
#define INTR_TYPE_NMI		2

static const char *const reasons[] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT",
	[2] = "TRIPLE_FAULT", [3] = "INIT_SIGNAL", [4] = "SIPI",
	[5] = "IO_SMI", [6] = "OTHER_SMI", [7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID",
	[11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG",
	[15] = "RDPMC", [16] = "RDTSC", [17] = "RSM", [18] = "VMCALL",
	[19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD",
	[22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON",
	[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION",
	[31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_STATE",
	[34] = "MSR_LOAD_FAIL", [36] = "MWAIT", [37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR", [40] = "PAUSE", [41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR",
	[48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT",
	[51] = "RDTSCP", [52] = "PREEMPTION_TIMER", [53] = "INVVPID",
	[54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE",
	[57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC",
	[60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL",
	[63] = "XSAVES", [64] = "XRSTORS",
};

const char *explain_reason(unsigned int basic_reason)
{
	if (basic_reason < ARRAY_SIZE(reasons) && reasons[basic_reason])
		return reasons[basic_reason];
	return "UNNAMED_REASON";
}

/*
 * What vmxlab decided: its uapi name, why (what it saw), and what it did.
 * In why and then, {0x} and {1x} are arg[0] and arg[1] in hex, {0d} and
 * {1d} in decimal (the record's arguments, listed in the uapi header).
 */
struct decision_text {
	const char *name;
	const char *why;
	const char *then;
};

static const struct decision_text decisions[] = {
	[VMXLAB_DECISION_NONE] = {
		"NONE", "no decision recorded", "a vmxlab bug",
	},
	[VMXLAB_DECISION_RESUMED_EMULATED] = {
		"RESUMED_EMULATED",
		"the instruction exits, vmxlab does its work (args {0x} {1x})",
		"emulated, guest goes on after it",
	},
	[VMXLAB_DECISION_RESUMED] = {
		"RESUMED", "for the host, not the guest (interrupt, NMI, time slice)",
		"host took it",
	},
	[VMXLAB_DECISION_NULL_EXIT] = {
		"NULL_EXIT", "the null_exit_reason benchmark aid",
		"skipped the instruction",
	},
	[VMXLAB_DECISION_TO_USERSPACE_IO] = {
		"TO_USERSPACE_IO", "no device in the kernel for port {0x}",
		"port I/O for the VMM",
	},
	[VMXLAB_DECISION_TO_USERSPACE_MMIO] = {
		"TO_USERSPACE_MMIO", "address {0x} is in no memory slot",
		"MMIO for the VMM",
	},
	[VMXLAB_DECISION_TO_USERSPACE_HLT] = {
		"TO_USERSPACE_HLT", "the guest halts, vmxlab does not wait",
		"HLT for the VMM",
	},
	[VMXLAB_DECISION_TO_USERSPACE_SHUTDOWN] = {
		"TO_USERSPACE_SHUTDOWN",
		"triple fault, or a fault while delivering #DF",
		"shutdown for the VMM",
	},
	[VMXLAB_DECISION_TO_USERSPACE_IRQ_WINDOW] = {
		"TO_USERSPACE_IRQ_WINDOW",
		"guest can take interrupts, as the VMM asked",
		"window open for the VMM",
	},
	[VMXLAB_DECISION_WINDOW_OPEN] = {
		"WINDOW_OPEN", "guest can take interrupts ({0d} queued)",
		"queued event goes in at the next entry",
	},
	[VMXLAB_DECISION_EPT_MAPPED] = {
		"EPT_MAPPED", "address in slot {1d}, page not yet mapped",
		"mapped host page",
	},
	[VMXLAB_DECISION_EPT_ALREADY_MAPPED] = {
		"EPT_ALREADY_MAPPED",
		"address in slot {1d}, another vCPU mapped it first",
		"nothing to map",
	},
	[VMXLAB_DECISION_EPT_READONLY_WRITE] = {
		"EPT_READONLY_WRITE", "a write to read-only slot {1d}",
		"MMIO for the VMM",
	},
	[VMXLAB_DECISION_PF_RESOLVED] = {
		"PF_RESOLVED", "guest PTE allows it, shadow entry missing",
		"filled the shadow entry",
	},
	[VMXLAB_DECISION_PF_REFLECTED] = {
		"PF_REFLECTED", "guest PTE not present or forbids the access",
		"reflected vector 14, error code {1x}",
	},
	[VMXLAB_DECISION_INJECTED_EXCEPTION] = {
		"INJECTED_EXCEPTION", "the guest gets an exception",
		"injected vector {0d}, error code {1x}",
	},
	[VMXLAB_DECISION_INTERNAL_ERROR] = {
		"INTERNAL_ERROR", "vmxlab cannot go on (suberror {0d}, {1x})",
		"internal error for the VMM",
	},
	[VMXLAB_DECISION_UNKNOWN_EXIT] = {
		"UNKNOWN_EXIT", "an exit vmxlab did not ask for (reason {0d})",
		"internal error for the VMM",
	},
	[VMXLAB_DECISION_FAILED_ENTRY] = {
		"FAILED_ENTRY", "VM entry failed (error or reason {0x})",
		"failed entry for the VMM",
	},
	[VMXLAB_DECISION_STEP] = {
		"STEP", "single-stepping: one step done (cause {0d})",
		"debug exit for the VMM",
	},
	[VMXLAB_DECISION_ERROR] = {
		"ERROR", "the handler failed (errno {0d})",
		"VMXLAB_RUN fails",
	},
};

static_assert(ARRAY_SIZE(decisions) == VMXLAB_NR_DECISIONS,
	      "decisions[] must have a line for every VMXLAB_DECISION_*");

static const char *const inject_whys[] = {
	[VMXLAB_INJECT_NONE] = "nothing waits",
	[VMXLAB_INJECT_HELD_IF] = "an interrupt waits: RFLAGS.IF = 0",
	[VMXLAB_INJECT_HELD_STI] = "an interrupt waits: STI shadow",
	[VMXLAB_INJECT_HELD_MOV_SS] = "an event waits: MOV SS shadow",
	[VMXLAB_INJECT_HELD_NMI_BLOCKED] = "an NMI waits: NMIs blocked",
	[VMXLAB_INJECT_HELD_BUSY] = "an event waits: entry field busy",
	[VMXLAB_INJECT_WINDOW_REQUESTED] = "the VMM asked for a window",
};

static_assert(ARRAY_SIZE(inject_whys) == VMXLAB_NR_INJECT_WHY,
	      "inject_whys[] must have a line for every VMXLAB_INJECT_*");

static const char *const outcomes[] = {
	[0] = "none", [VMXLAB_OUTCOME_RESUMED] = "resumed",
	[VMXLAB_OUTCOME_USERSPACE] = "to userspace",
	[VMXLAB_OUTCOME_ERROR] = "error",
};

const char *explain_decision(unsigned int decision)
{
	return decision < ARRAY_SIZE(decisions) ? decisions[decision].name :
						  "UNNAMED_DECISION";
}

const char *explain_inject_why(unsigned int why)
{
	return why < ARRAY_SIZE(inject_whys) ? inject_whys[why] : "?";
}

const char *explain_outcome(unsigned int outcome)
{
	return outcome < ARRAY_SIZE(outcomes) ? outcomes[outcome] : "?";
}

/* Every decision has its three texts: 0, or -1 with the hole named. */
int explain_check_tables(void)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(decisions); i++) {
		if (!decisions[i].name || !decisions[i].why ||
		    !decisions[i].then) {
			fprintf(stderr, "vmxlab-trace: no text for decision %u\n", i);
			r = -1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(inject_whys); i++) {
		if (!inject_whys[i]) {
			fprintf(stderr, "vmxlab-trace: no text for inject_why %u\n", i);
			r = -1;
		}
	}
	return r;
}

/* Appends to @buf of @len bytes, never past its end. */
static void put(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* @tmpl with {0x} {1x} {0d} {1d} replaced by the record's arguments. */
static void put_template(char *buf, size_t len, const char *tmpl,
			 const struct vmxlab_exit_record *r)
{
	const char *p;

	for (p = tmpl; *p; p++) {
		if (p[0] == '{' && (p[1] == '0' || p[1] == '1') &&
		    (p[2] == 'x' || p[2] == 'd') && p[3] == '}') {
			unsigned long long a = r->arg[p[1] - '0'];

			if (p[2] == 'x')
				put(buf, len, "%#llx", a);
			else
				put(buf, len, "%llu", a);
			p += 3;
		} else {
			put(buf, len, "%c", *p);
		}
	}
}

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL,
	"#TS", "#NP", "#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP",
};

/* What the exit itself says: the vector, the address, the port. */
static void put_exit_detail(char *buf, size_t len,
			    const struct vmxlab_exit_record *r)
{
	unsigned int basic = r->exit_reason & 0xffff;
	unsigned long long q = r->qualification;
	unsigned int v = INTR_INFO_VECTOR(r->intr_info);

	if (basic == EXIT_EXCEPTION_NMI && (r->intr_info & INTR_INFO_VALID)) {
		if (INTR_INFO_TYPE(r->intr_info) == INTR_TYPE_NMI)
			put(buf, len, " NMI");
		else if (v < 32 && exception_names[v])
			put(buf, len, " %s", exception_names[v]);
		else
			put(buf, len, " vector %u", v);
	}
	put(buf, len, " rip %#llx", (unsigned long long)r->rip);
	switch (basic) {
	case EXIT_EXCEPTION_NMI:
		if ((r->intr_info & INTR_INFO_VALID) && v == 14)
			put(buf, len, " cr2 %#llx", q);
		break;
	case EXIT_EPT_VIOLATION:
		put(buf, len, " gpa %#llx %s", (unsigned long long)r->gpa,
		    q & 4 ? "fetch" : q & 2 ? "write" : "read");
		break;
	case EXIT_IO_INSTRUCTION:
		/* SDM Table 28-5; the count is the decision's (arg[1]). */
		put(buf, len, " port %#llx %s%s%s size %llu", q >> 16,
		    q & 32 ? "rep " : "", q & 8 ? "in" : "out",
		    q & 16 ? "s" : "", (q & 7) + 1);
		if (r->decision == VMXLAB_DECISION_TO_USERSPACE_IO &&
		    r->arg[1] >> 16 > 1)
			put(buf, len, " count %llu",
			    (unsigned long long)r->arg[1] >> 16);
		break;
	}
}

static const char *const step_causes[] = {
	[VMXLAB_STEP_MTF] = "the guest retired one instruction",
	[VMXLAB_STEP_EMULATED] = "vmxlab emulated one instruction",
	[VMXLAB_STEP_DELIVERED] = "an event went in, the guest is at its handler",
};

/* The decision's why and then, as "why -> then, outcome". */
static void put_decision(char *buf, size_t len,
			 const struct vmxlab_exit_record *r,
			 const struct vmxlab_exit_record *next)
{
	const struct decision_text *d = r->decision < ARRAY_SIZE(decisions) ?
					&decisions[r->decision] : NULL;

	if (!d) {
		put(buf, len, "decision %u, unknown to this tool", r->decision);
		return;
	}
	/* Two decisions whose why is in an argument's bits or value. */
	if (r->decision == VMXLAB_DECISION_PF_REFLECTED)
		put(buf, len, r->arg[1] & 1 ? "guest PTE forbids the access" :
		    "guest PTE not present");
	else if (r->decision == VMXLAB_DECISION_STEP &&
		 r->arg[0] < ARRAY_SIZE(step_causes) && step_causes[r->arg[0]])
		put(buf, len, "single-stepping: %s", step_causes[r->arg[0]]);
	else
		put_template(buf, len, d->why, r);
	put(buf, len, " -> ");
	/* What the decision let in is the next entry's event. */
	if (r->decision == VMXLAB_DECISION_WINDOW_OPEN && next &&
	    (next->entry_intr_info & INTR_INFO_VALID))
		put(buf, len, "injected vector %#x",
		    INTR_INFO_VECTOR(next->entry_intr_info));
	else
		put_template(buf, len, d->then, r);
	if (r->outcome == VMXLAB_OUTCOME_RESUMED)
		put(buf, len, ", resumed");
}

/* What the entry before this exit did with events, if anything. */
static void put_entry(char *buf, size_t len, const struct vmxlab_exit_record *r)
{
	if (r->entry_intr_info & INTR_INFO_VALID)
		put(buf, len, " [entry injected vector %#x]",
		    INTR_INFO_VECTOR(r->entry_intr_info));
	if (r->inject_why != VMXLAB_INJECT_NONE)
		put(buf, len, " [entry: %s]", explain_inject_why(r->inject_why));
}

void explain_text(char *buf, size_t len, const struct vmxlab_exit_record *r,
		  const struct vmxlab_exit_record *next)
{
	buf[0] = '\0';
	put(buf, len, "#%llu %s", (unsigned long long)r->seq,
	    explain_reason(r->exit_reason & 0xffff));
	if (r->exit_reason & (1U << 31))
		put(buf, len, " (entry failed)");
	put_exit_detail(buf, len, r);
	put_entry(buf, len, r);
	put(buf, len, ": ");
	put_decision(buf, len, r, next);
}

void explain_json(char *buf, size_t len, const struct vmxlab_exit_record *r,
		  const struct vmxlab_exit_record *next)
{
	char text[512] = "";

	put_decision(text, sizeof(text), r, next);
	buf[0] = '\0';
	/* Field by field: the texts hold no quote or backslash to escape. */
	put(buf, len, "{\"type\":\"record\",\"seq\":%llu",
	    (unsigned long long)r->seq);
	put(buf, len, ",\"reason\":\"%s\",\"exit_reason\":%u",
	    explain_reason(r->exit_reason & 0xffff), r->exit_reason);
	put(buf, len, ",\"rip\":%llu,\"qualification\":%llu",
	    (unsigned long long)r->rip, (unsigned long long)r->qualification);
	put(buf, len, ",\"gpa\":%llu,\"gla\":%llu", (unsigned long long)r->gpa,
	    (unsigned long long)r->gla);
	put(buf, len, ",\"decision\":\"%s\",\"arg0\":%llu,\"arg1\":%llu",
	    explain_decision(r->decision), (unsigned long long)r->arg[0],
	    (unsigned long long)r->arg[1]);
	put(buf, len, ",\"intr_info\":%u,\"idt_vectoring\":%u", r->intr_info,
	    r->idt_vectoring);
	put(buf, len, ",\"entry_intr_info\":%u,\"inject_why\":%u",
	    r->entry_intr_info, r->inject_why);
	put(buf, len, ",\"outcome\":\"%s\",\"text\":\"%s\"}",
	    explain_outcome(r->outcome), text);
}
