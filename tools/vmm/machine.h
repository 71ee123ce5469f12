/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmxlab-run's machine: the VM, its legacy devices, time, and the run
 * loop (tools/vmm/machine.c).  tools/vmxlab-run.c is the command line
 * around it.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vmm/backend.h"
#include "vmm/bzimage.h"
#include "vmm/i8254.h"
#include "vmm/i8259.h"
#include "vmm/rtc.h"
#include "vmm/uart16550.h"

/* vmxlab-run's exit status. */
#define EXIT_POWEROFF	0	/* HLT with interrupts off: Linux's power-off */
#define EXIT_USAGE	2	/* bad input, nothing was run */
#define EXIT_RESET	3	/* triple fault, or 0xfe to port 0x64 */
#define EXIT_VMM_ERROR	4	/* vmxlab (or KVM) reported an error */
#define EXIT_TIMEOUT	124	/* --timeout expired */

struct vmm {
	struct vcpu_handle h;		/* the VM on /dev/vmxlab or /dev/kvm */
	struct vmxlab_run *run;		/* its run page's header */
	uint8_t *ram;
	uint64_t ram_size;
	struct i8259_pair pic;
	struct i8254 pit;
	struct uart16550 uart;
	struct rtc rtc;
	struct timespec start;
	uint64_t deadline_ns;		/* --timeout, from start; 0: none */
	timer_t timer;
	uint64_t timer_armed_ns;	/* what the timer is set to */
	bool stdin_open;
	uint8_t in_buf[16];		/* read from stdin, not yet received */
	size_t in_have, in_off;
	bool verbose;
	unsigned long long unhandled_ports, injected;
	unsigned long long user_exits[VMXLAB_EXIT_INTERNAL_ERROR + 1];
	const char *time_to;		/* --time-to: a marker in the output */
	size_t time_to_matched;		/* its bytes seen so far */
	uint64_t start_tsc;
};

void vmm_create(struct vmm *v, const struct backend *be, int vm_type);
void vmm_set_cpuid(struct vmm *v);
void vmm_set_boot_state(struct vmm *v, const struct boot_entry *b);
void vmm_start(struct vmm *v);
int vmm_run(struct vmm *v);
void vmm_print_stats(struct vmm *v);

#endif
