// SPDX-License-Identifier: GPL-2.0
/*
 * The run loop of vmxlab-run and the machine around it, as QEMU does it
 * with KVM when the interrupt controller stays in userspace
 * (kernel_irqchip=off): vmxlab (or KVM, tools/vmm/backend_kvm.c) runs
 * the CPU, this file owns the PC's legacy devices and time.
 *
 * One timer tick travels PIT -> PIC -> VMXLAB_INTERRUPT: the PIT model
 * says when its output rises, a POSIX timer wakes the loop then (its
 * signal makes VMXLAB_RUN return -EINTR), the PIC latches IRQ0, and the
 * vector goes in when the guest can take it, or the loop asks for an
 * interrupt-window exit.  Documentation/linux-guest.rst walks one boot.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "guest.h"
#include "vmm/cpuid.h"
#include "vmm/machine.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define PIT_IRQ		0
#define KBC_CMD		0x64	/* 8042: 0xfe pulses the CPU's reset line */
#define KBC_RESET	0xfe

/* The run page, for the timer's signal handler (set before it can run). */
static struct vmxlab_run *signal_run;

static void die(const char *what)
{
	fprintf(stderr, "vmxlab-run: %s: %s\n", what, strerror(errno));
	exit(EXIT_VMM_ERROR);
}

static uint64_t now_ns(const struct vmm *v)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - v->start.tv_sec) * 1000000000ULL +
	       t.tv_nsec - v->start.tv_nsec;
}

/*
 * The timer's signal only has to make VMXLAB_RUN come back: it arrives
 * either while the vCPU runs (vmxlab returns -EINTR) or just before the
 * ioctl, where immediate_exit makes vmxlab return -EINTR at once.
 */
static void on_timer(int sig)
{
	(void)sig;
	if (signal_run)
		signal_run->immediate_exit = 1;
}

static void arm_timer(struct vmm *v, uint64_t at_ns)
{
	struct itimerspec its = { 0 };

	if (v->deadline_ns && at_ns > v->deadline_ns)
		at_ns = v->deadline_ns;
	if (at_ns == v->timer_armed_ns)
		return;
	v->timer_armed_ns = at_ns;
	if (at_ns != UINT64_MAX) {
		its.it_value.tv_sec = v->start.tv_sec + at_ns / 1000000000ULL;
		its.it_value.tv_nsec = v->start.tv_nsec + at_ns % 1000000000ULL;
		if (its.it_value.tv_nsec >= 1000000000L) {
			its.it_value.tv_sec++;
			its.it_value.tv_nsec -= 1000000000L;
		}
	}
	if (timer_settime(v->timer, TIMER_ABSTIME, &its, NULL))
		die("timer_settime");
}

static void setup_timer(struct vmm *v)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM,
	};
	struct sigaction sa = { .sa_handler = on_timer };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		die("sigaction");
	if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer))
		die("timer_create");
	v->timer_armed_ns = 0;
	arm_timer(v, UINT64_MAX);
}

/*
 * --time-to: the TSC ticks from the first entry to the moment the guest
 * has written @marker to its console.  Under Bochs with sync=none the TSC
 * counts emulated instructions, so the figure repeats run to run.
 */
static void match_marker(struct vmm *v, uint8_t byte)
{
	const char *m = v->time_to;

	if (!m || !m[v->time_to_matched])
		return;
	if (byte != (uint8_t)m[v->time_to_matched])
		v->time_to_matched = byte == (uint8_t)m[0];
	else if (!m[++v->time_to_matched])
		fprintf(stderr, "\nvmxlab-run: \"%s\" after %llu TSC ticks on %s\n",
			m, (unsigned long long)(__rdtsc() - v->start_tsc),
			v->h.be->name);
}

/* The serial port's transmitter: the guest's console goes to stdout. */
static void uart_tx(void *opaque, uint8_t byte)
{
	putchar(byte);
	if (byte == '\n')
		fflush(stdout);
	match_marker(opaque, byte);
}

/* Raise the IRQ lines the devices drive now; called before every entry. */
static void update_irq_lines(struct vmm *v, uint64_t now)
{
	if (pit_irq0_edges(&v->pit, now)) {
		/* Edge-triggered: ticks the guest missed collapse into one. */
		pic_set_irq(&v->pic, PIT_IRQ, true);
		pic_set_irq(&v->pic, PIT_IRQ, false);
	}
	pic_set_irq(&v->pic, COM1_IRQ, uart_irq_level(&v->uart));
}

/* One byte of port I/O; ports no device claims read all-ones. */
static void port_io(struct vmm *v, uint16_t port, bool in, uint8_t *val)
{
	uint64_t now = now_ns(v);

	if (port >= COM1_BASE && port < COM1_BASE + 8) {
		uart_io(&v->uart, port - COM1_BASE, in, val);
		return;
	}
	if (pic_io(&v->pic, port, in, val) ||
	    pit_io(&v->pit, port, in, val, now) ||
	    rtc_io(&v->rtc, port, in, val, time(NULL)))
		return;
	if (port == KBC_CMD && !in && *val == KBC_RESET) {
		fprintf(stderr, "vmxlab-run: the guest reset the machine (port 0x64)\n");
		exit(EXIT_RESET);
	}
	if (in)
		*val = 0xff;
	v->unhandled_ports++;
	if (v->verbose)
		fprintf(stderr, "vmxlab-run: %s port %#x\n", in ? "in" : "out",
			port);
}

/*
 * An I/O exit: @count accesses of @size bytes at (char *)run +
 * data_offset.  A wider access to an 8-bit device reaches consecutive
 * ports, as on the ISA bus.
 */
static void handle_io(struct vmm *v)
{
	struct vmxlab_run *run = v->h.exit;
	uint8_t *data = (uint8_t *)v->run + run->io.data_offset;
	bool in = run->io.direction == VMXLAB_EXIT_IO_IN;

	for (uint32_t i = 0; i < run->io.count; i++)
		for (unsigned int b = 0; b < run->io.size; b++)
			port_io(v, run->io.port + b, in,
				&data[i * run->io.size + b]);
}

/* No MMIO device: loads read all-ones, stores are dropped (user_exits counts them). */
static void handle_mmio(struct vmm *v)
{
	struct vmxlab_run *run = v->h.exit;

	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (v->verbose)
		fprintf(stderr, "vmxlab-run: MMIO %s %#llx\n",
			run->mmio.is_write ? "store" : "load",
			(unsigned long long)run->mmio.phys_addr);
}

/* Host input for the guest's serial port, as much as its FIFO takes. */
static void pump_stdin(struct vmm *v)
{
	ssize_t n;

	while (v->stdin_open && uart_rx_open(&v->uart)) {
		if (v->in_off == v->in_have) {
			n = read(STDIN_FILENO, v->in_buf, sizeof(v->in_buf));
			if (n <= 0) {
				if (n == 0 || (errno != EAGAIN && errno != EINTR))
					v->stdin_open = false;
				return;
			}
			v->in_have = n;
			v->in_off = 0;
		}
		n = uart_rx(&v->uart, v->in_buf + v->in_off,
			    v->in_have - v->in_off);
		v->in_off += n;
		if (!n)
			return;
	}
}

/* Worth waking up for stdin: the guest listens and nothing is held back. */
static bool waiting_for_stdin(const struct vmm *v)
{
	return v->stdin_open && uart_rx_open(&v->uart) &&
	       v->in_off == v->in_have;
}

/*
 * The PIC's INTR line, as the CPU's INTA cycle would see it.  A vector is
 * handed to vmxlab only when vmxlab says the guest takes it on the next
 * entry: once queued it cannot be taken back, and the guest may mask its
 * line in the meantime.  Otherwise ask for an interrupt-window exit.
 */
static void inject_interrupts(struct vmm *v)
{
	struct vmxlab_run *run = v->run;
	unsigned int vector;

	run->request_interrupt_window = 0;
	if (!pic_has_interrupt(&v->pic))
		return;
	if (!run->ready_for_interrupt_injection) {
		run->request_interrupt_window = 1;
		return;
	}
	vector = pic_ack(&v->pic);
	if (v->h.be->interrupt(&v->h, vector))
		die("queueing an interrupt");
	v->injected++;
}

static void check_timeout(struct vmm *v, uint64_t now)
{
	if (v->deadline_ns && now >= v->deadline_ns) {
		fprintf(stderr, "vmxlab-run: --timeout expired\n");
		exit(EXIT_TIMEOUT);
	}
}

/*
 * HLT with interrupts enabled: the guest waits for an interrupt, and so
 * does the VMM, for the PIT's next edge or input on stdin.  Re-entering
 * earlier would only run the guest's idle loop into HLT again.
 */
static void wait_for_interrupt(struct vmm *v)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	uint64_t now = now_ns(v), next;
	struct timespec ts;
	bool poll_stdin;

	for (;;) {
		check_timeout(v, now);
		pump_stdin(v);
		update_irq_lines(v, now);
		if (pic_has_interrupt(&v->pic))
			return;
		next = pit_next_edge_ns(&v->pit, now);
		if (v->deadline_ns && next > v->deadline_ns)
			next = v->deadline_ns;
		poll_stdin = waiting_for_stdin(v);
		if (next == UINT64_MAX && !poll_stdin) {
			fprintf(stderr,
				"vmxlab-run: the guest halted; nothing can wake it\n");
			exit(EXIT_VMM_ERROR);
		}
		if (next != UINT64_MAX) {
			ts.tv_sec = (next - now) / 1000000000ULL;
			ts.tv_nsec = (next - now) % 1000000000ULL;
		}
		ppoll(poll_stdin ? &pfd : NULL, poll_stdin,
		      next == UINT64_MAX ? NULL : &ts, NULL);
		now = now_ns(v);
	}
}

static void dump_vcpu(struct vmm *v, const char *why)
{
	struct vmxlab_regs r;
	struct vmxlab_sregs s;

	fprintf(stderr, "vmxlab-run: %s\n", why);
	if (v->h.be->get_regs(&v->h, &r) || v->h.be->get_sregs(&v->h, &s))
		return;
	fprintf(stderr,
		"  rip %016llx rflags %08llx rsp %016llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx\n"
		"  cr0 %08llx cr2 %016llx cr3 %016llx cr4 %08llx efer %llx\n"
		"  cs %04x ss %04x\n",
		r.rip, r.rflags, r.rsp, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rbp, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.cs.selector, s.ss.selector);
}

static void internal_error(struct vmm *v)
{
	struct vmxlab_run *run = v->h.exit;
	char why[128];

	switch (run->exit_reason) {
	case VMXLAB_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case VMXLAB_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why),
			 "internal error, suberror %u, data %#llx %#llx",
			 run->internal.suberror,
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1]);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected exit %u",
			 run->exit_reason);
	}
	dump_vcpu(v, why);
	exit(EXIT_VMM_ERROR);
}

/* Long mode at startup_64, as boot.rst's 64-bit protocol asks. */
void vmm_set_boot_state(struct vmm *v, const struct boot_entry *b)
{
	struct vmxlab_regs regs = {
		.rip = b->rip, .rsi = b->rsi, .rsp = b->rsp, .rflags = 2,
	};
	struct vmxlab_sregs s;

	if (v->h.be->get_sregs(&v->h, &s))
		die("reading the sregs");
	s.cs = guest_flat_segment(BOOT_CS, 11, true);
	s.ds = guest_flat_segment(BOOT_DS, 3, false);
	s.es = s.ds;
	s.fs = s.ds;
	s.gs = s.ds;
	s.ss = s.ds;
	/* VM entry wants a usable TR; the kernel loads its own soon. */
	s.tr = (struct vmxlab_segment) { .limit = 0x67, .type = 11,
					 .present = 1 };
	s.ldt = (struct vmxlab_segment) { .unusable = 1 };
	s.gdt.base = b->gdt_base;
	s.gdt.limit = b->gdt_limit;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x80000031;		/* PG, NE, ET, PE */
	s.cr3 = b->cr3;
	s.cr4 = 0x20;			/* PAE */
	s.efer = 0x500;			/* LME, LMA */
	if (v->h.be->set_sregs(&v->h, &s))
		die("setting the sregs");
	if (v->h.be->set_regs(&v->h, &regs))
		die("setting the registers");
}

void vmm_set_cpuid(struct vmm *v)
{
	uint32_t max = VMXLAB_MAX_CPUID_ENTRIES;
	struct vmxlab_cpuid *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	uint32_t tsc_khz;

	if (!c)
		die("calloc");
	if (v->h.be->tsc_khz(&v->h, &tsc_khz))
		die("reading the TSC frequency");
	c->nent = max;
	if (v->h.be->supported_cpuid(&v->h, c))
		die("reading the supported CPUID table");
	if (vmm_cpuid_policy(c->entries, &c->nent, max, tsc_khz)) {
		fprintf(stderr, "vmxlab-run: the supported CPUID table has no leaf 0 or no room\n");
		exit(EXIT_VMM_ERROR);
	}
	if (v->h.be->set_cpuid(&v->h, c))
		die("setting the CPUID table");
	free(c);
}

void vmm_create(struct vmm *v, const struct backend *be, int vm_type)
{
	/* 4 KiB host pages: see "Bochs' limits" in linux-guest.rst. */
	v->ram = mmap(NULL, v->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->ram == MAP_FAILED)
		die("mmap guest RAM");
	madvise(v->ram, v->ram_size, MADV_NOHUGEPAGE);
	v->h.be = be;
	if (be->create(&v->h, vm_type, v->ram, v->ram_size)) {
		fprintf(stderr, "vmxlab-run: creating the VM on %s: %s\n",
			be->name, strerror(errno));
		if (errno == ENOENT)
			fprintf(stderr, "vmxlab-run: is %s loaded?\n",
				be == &backend_kvm ? "kvm_intel" : "vmxlab.ko");
		exit(EXIT_VMM_ERROR);
	}
	v->run = v->h.run;
	signal_run = v->run;
}

/* The devices at power-on, the clock and the PIT's timer started. */
void vmm_start(struct vmm *v)
{
	pic_init(&v->pic);
	pit_init(&v->pit);
	uart_init(&v->uart, uart_tx, v);
	rtc_init(&v->rtc);
	clock_gettime(CLOCK_MONOTONIC, &v->start);
	setup_timer(v);
	v->start_tsc = __rdtsc();
}

/* Returns the exit status when the guest powers off or resets. */
int vmm_run(struct vmm *v)
{
	struct vmxlab_run *run = v->run;
	uint64_t now;

	for (;;) {
		now = now_ns(v);
		check_timeout(v, now);
		update_irq_lines(v, now);
		inject_interrupts(v);
		arm_timer(v, pit_next_edge_ns(&v->pit, now));
		if (v->h.be->run(&v->h)) {
			if (errno != EINTR)
				die("running the vCPU");
			/* The timer (or another signal): look at stdin too. */
			run->immediate_exit = 0;
			pump_stdin(v);
			continue;
		}
		if (run->exit_reason < ARRAY_SIZE(v->user_exits))
			v->user_exits[run->exit_reason]++;
		switch (run->exit_reason) {
		case VMXLAB_EXIT_IO:
			handle_io(v);
			break;
		case VMXLAB_EXIT_MMIO:
			handle_mmio(v);
			break;
		case VMXLAB_EXIT_IRQ_WINDOW_OPEN:
			break;
		case VMXLAB_EXIT_HLT:
			/* Linux's "poweroff -f" without ACPI ends in cli; hlt. */
			if (!run->if_flag)
				return EXIT_POWEROFF;
			wait_for_interrupt(v);
			break;
		case VMXLAB_EXIT_SHUTDOWN:
			fprintf(stderr, "vmxlab-run: the guest reset the machine (triple fault)\n");
			return EXIT_RESET;
		default:
			internal_error(v);
		}
	}
}

void vmm_print_stats(struct vmm *v)
{
	struct vmxlab_vcpu_stats st;
	const unsigned long long *u = v->user_exits;

	fprintf(stderr, "vmxlab-run: %.3f s, %llu interrupts injected, ",
		now_ns(v) / 1e9, v->injected);
	fprintf(stderr, "%llu unclaimed port accesses\n", v->unhandled_ports);
	fprintf(stderr, "vmxlab-run: exits to vmxlab-run: ");
	fprintf(stderr, "I/O %llu, HLT %llu, MMIO %llu, window %llu\n",
		u[VMXLAB_EXIT_IO], u[VMXLAB_EXIT_HLT], u[VMXLAB_EXIT_MMIO],
		u[VMXLAB_EXIT_IRQ_WINDOW_OPEN]);
	if (v->h.be->exit_counts(&v->h, &st))
		return;		/* KVM keeps its counts in debugfs */
	fprintf(stderr, "vmxlab-run: VM exits by VMX exit reason:");
	for (int i = 0; i < VMXLAB_NR_VMX_EXIT_REASONS; i++)
		if (st.exits[i])
			fprintf(stderr, " %d:%llu", i, st.exits[i]);
	fprintf(stderr, "\n");
}
