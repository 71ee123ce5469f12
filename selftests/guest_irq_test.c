// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual interrupts, NMIs and exceptions that userspace queues, as the
 * guest sees them: order, IF and the STI/MOV-SS shadows, HLT, the run-page
 * window fields, re-injection after an exit during delivery, bad requests.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "vmxlab_lib.h"
#include "irq_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_S		300

#define DB_VECTOR		1
#define NMI_VECTOR		2
#define BP_VECTOR		3
#define UD_VECTOR		6
#define DF_VECTOR		8
#define GP_VECTOR		13
#define PF_VECTOR		14
#define AC_VECTOR		17
#define CP_VECTOR		21

#define EXC_EC			VMXLAB_EXCEPTION_HAS_ERROR_CODE
#define EXC_CR2			VMXLAB_EXCEPTION_HAS_CR2

/* Entry control "load CET state" (SDM Vol. 3D, A.5). */
#define ENTRY_CTL_LOAD_CET	0x00100000ULL

/* How long the guest runs with IF = 0 before it enables interrupts. */
#define IF0_SPIN		2000

/* GUEST_SYNC(stage, ...): where the guest is. */
enum {
	ST_QUEUE = 1,		/* the host queues what the test needs */
	ST_WAIT,		/* an exit, so that the next entry can inject */
	ST_REPORT,		/* the host reads the guest's log */
	ST_IN_NMI,		/* inside the guest's NMI handler */
	ST_CASE,		/* re-injection: one case is set up */
};

/* Ports of the IN instructions that stop in an interrupt shadow. */
#define PORT_MOVSS		0x71
#define PORT_STI		0x72
#define PORT_PLAIN		0x73

/*
 * Code addresses in the guest's asm that the host compares RIPs with: the
 * guest stores them in guest_at[] (GUEST_AT) before it gets there.
 */
enum {
	AT_B2B,			/* after STI; NOP */
	AT_STI_SHADOW,		/* after STI and one more instruction */
	AT_MOVSS_IN,		/* after MOV SS; IN */
	AT_STI_IN,		/* after STI; IN */
	AT_PLAIN_IN,		/* after NOP; IN */
	AT_WINDOW,		/* after STI; NOP */
	AT_HLT,			/* after STI; HLT */
	AT_HLT_IF0_STI,		/* after CLI; HLT; ...; STI; NOP */
	AT_IF0_RELEASE,		/* after STI; NOP */
	AT_INT,			/* after INT $0x81 */
	AT_INT3,		/* after INT3 */
	AT_UD2,			/* the UD2 */
	AT_UNBACKED_STORE,	/* the store after OUT $0xe0 */
	AT_NR,
};

static __u64 guest_at[AT_NR];

/* Guest asm: guest_at[operand at<n>] = address of local label <n> ahead. */
#define GUEST_AT(n)	"lea " #n "f(%%rip), %%r11\n\tmov %%r11, %[at" #n "]\n\t"

static __u64 vm_at(struct vm *vm, int slot)
{
	return ((__u64 *)addr_gva2hva(vm, guest_at))[slot];
}

FIXTURE(irq) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct ucall uc;
};

FIXTURE_SETUP(irq)
{
	self->vm = NULL;
}

FIXTURE_TEARDOWN(irq)
{
	if (self->vm)
		vm_free(self->vm);
}

/* A VM in *@vmp whose vectors @first..@last go to guest_record_event(). */
static struct vcpu *irq_vm_create(struct vm **vmp, void *guest_code, int first,
				  int last)
{
	int v;

	*vmp = vm_create();
	for (v = first; v <= last; v++)
		vm_install_exception_handler(*vmp, v, guest_record_event);
	return vm_vcpu_add(*vmp, 0, guest_code);
}

#define EXPECT_ERRNO(err, call) do {					\
	errno = 0;							\
	EXPECT_EQ(-1, (long)(call));					\
	EXPECT_EQ(err, errno);						\
} while (0)

/* Guest: vm_vcpu_add() starts guests with IF = 1; these tests want IF = 0. */
static void guest_cli(void)
{
	asm volatile("cli" : : : "memory");
}

/* Guest: IF0_SPIN stores to guest_marker, one by one. */
static void guest_spin_if0(void)
{
	int i;

	for (i = 0; i < IF0_SPIN; i++) {
		guest_marker++;
		asm volatile("" : : : "memory");
	}
}

/* --- order and exactly-once ----------------------------------------------- */

static const __u32 order_vectors[] = { 0x41, 0x20, 0xff, 0x80, 0x30, 0xfe, 0x55, 0x21 };
#define NR_ORDER	VMXLAB_ARRAY_SIZE(order_vectors)

static void guest_irq_order(void)
{
	int i;

	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	guest_spin_if0();
	GUEST_ASSERT_EQ(guest_evlog.n, 0);
	asm volatile("sti; nop" : : : "memory");
	for (i = 0; guest_evlog.n < NR_ORDER && i < 64; i++)
		GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
	/* With IF = 1 and more entries, nothing else may arrive. */
	asm volatile("sti; nop" : : : "memory");
	for (i = 0; i < 4; i++)
		GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, delivered_once_in_order, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	size_t i;

	self->vcpu = irq_vm_create(&self->vm, guest_irq_order, 32, 255);
	log = vm_evlog(self->vm);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	EXPECT_EQ(0, self->vcpu->run->if_flag);
	EXPECT_EQ(0, self->vcpu->run->ready_for_interrupt_injection);
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < NR_ORDER; i++)
		ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, order_vectors[i]));

	do {
		vcpu_run(self->vcpu);
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	} while (self->uc.args[0] == ST_WAIT);
	ASSERT_EQ(ST_REPORT, self->uc.args[0]);
	ASSERT_EQ(NR_ORDER, self->uc.args[1]) TH_LOG("interrupts taken");
	for (i = 0; i < NR_ORDER; i++) {
		EXPECT_EQ(order_vectors[i], log->rec[i].vector)
			TH_LOG("interrupt %zu out of order", i);
		/* Nothing came while the guest spun with IF = 0. */
		EXPECT_EQ(IF0_SPIN, log->rec[i].marker);
		EXPECT_EQ(1, log->rec[i].depth);
	}
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(NR_ORDER, after.injected_irqs - before.injected_irqs);

	/* More entries with IF = 1: no interrupt comes twice. */
	do {
		vcpu_run(self->vcpu);
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	} while (self->uc.args[0] == ST_WAIT);
	EXPECT_EQ(NR_ORDER, self->uc.args[1]);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(NR_ORDER, after.injected_irqs - before.injected_irqs);
}

/*
 * Interrupts queued together are delivered back to back: when a handler's
 * IRET makes the guest interruptible again, the next one goes in before
 * the guest runs another instruction (SDM Vol. 3C, 26.7.5), as on a real
 * interrupt controller with several requests pending.
 */
#define NR_B2B		4

static void guest_irq_back_to_back(void)
{
	int i;

	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	asm volatile(GUEST_AT(1)
		     "sti\n\t"
		     "nop\n"
		     "1:\tincq %[m]\n\t"
		     "cli"
		     : [m] "+m"(guest_marker), [at1] "=m"(guest_at[AT_B2B])
		     : : "r11", "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
	/* Let whatever is left in, so the test ends cleanly. */
	asm volatile("sti; nop" : : : "memory");
	for (i = 0; guest_evlog.n < NR_B2B && i < 64; i++)
		GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, queued_burst_back_to_back, TIMEOUT_S)
{
	struct ev_log *log;
	__u64 i, n;

	self->vcpu = irq_vm_create(&self->vm, guest_irq_back_to_back, 32, 255);
	log = vm_evlog(self->vm);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	for (i = 0; i < NR_B2B; i++)
		ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x60 + i));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	n = self->uc.args[1];
	EXPECT_EQ(NR_B2B, n)
		TH_LOG("%llu of %d went in back to back; the rest waited for some other exit",
		       n, NR_B2B);
	for (i = 0; i < n && i < NR_B2B; i++) {
		EXPECT_EQ(0x60 + i, log->rec[i].vector);
		EXPECT_EQ(vm_at(self->vm, AT_B2B), log->rec[i].rip)
			TH_LOG("interrupt %llu at %#llx", i, log->rec[i].rip);
		EXPECT_EQ(0, log->rec[i].marker);
	}
	do {
		vcpu_run(self->vcpu);
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	} while (self->uc.args[0] == ST_WAIT);
	EXPECT_EQ(NR_B2B, self->uc.args[1]) TH_LOG("queued interrupts lost");
	for (i = 0; i < NR_B2B; i++)
		EXPECT_EQ(0x60 + i, log->rec[i].vector);
}

/* --- IF, STI and MOV SS ------------------------------------------------------ */

/*
 * An interrupt queued while IF = 0 waits; STI lets it in after the next
 * instruction, not before and not later (SDM Vol. 3A, 6.8.3).
 */
static void guest_sti_shadow(void)
{
	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	guest_spin_if0();
	asm volatile(GUEST_AT(1)
		     "sti\n\t"
		     "movq $1, %[m]\n"
		     "1:\tmovq $2, %[m]\n\t"
		     "cli"
		     : [m] "=m"(guest_marker), [at1] "=m"(guest_at[AT_STI_SHADOW])
		     : : "r11", "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, sti_lets_it_in_one_instruction_later, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;

	self->vcpu = irq_vm_create(&self->vm, guest_sti_shadow, 0x90, 0x90);
	log = vm_evlog(self->vm);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x90));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	vcpu_stats_get(self->vcpu, &after);

	ASSERT_EQ(1, self->uc.args[1]);
	EXPECT_EQ(0x90, log->rec[0].vector);
	EXPECT_EQ(vm_at(self->vm, AT_STI_SHADOW), log->rec[0].rip)
		TH_LOG("taken at %#llx, marker %llu", log->rec[0].rip,
		       log->rec[0].marker);
	EXPECT_EQ(1, log->rec[0].marker) TH_LOG("not right after STI + 1");
	EXPECT_EQ(1, exits_since(&before, &after, VMX_EXIT_INTERRUPT_WINDOW))
		TH_LOG("interrupt-window exits");
	EXPECT_EQ(1, after.injected_irqs - before.injected_irqs);
}

/*
 * An IN that exits in a STI or MOV-SS shadow: the guest cannot take an
 * interrupt there (ready_for_interrupt_injection is 0 though IF is 1).
 * One queued now comes once the IN has completed, right after it.
 */
static void guest_shadow_in(void)
{
	__u32 movss = 0, sti = 0, plain = 0;

	asm volatile("sti" : : : "memory");
	GUEST_SYNC(ST_QUEUE);
	asm volatile(GUEST_AT(1)
		     "mov %%ss, %%eax\n\t"
		     "mov %%eax, %%ss\n\t"
		     "inb $" VMXLAB_STR(PORT_MOVSS) ", %%al\n"
		     "1:\tmovq $1, %[m]"
		     : "+a"(movss), [m] "=m"(guest_marker),
		       [at1] "=m"(guest_at[AT_MOVSS_IN])
		     : : "r11", "memory");
	asm volatile(GUEST_AT(1)
		     "cli\n\t"
		     "sti\n\t"
		     "inb $" VMXLAB_STR(PORT_STI) ", %%al\n"
		     "1:\tmovq $2, %[m]"
		     : "+a"(sti), [m] "=m"(guest_marker),
		       [at1] "=m"(guest_at[AT_STI_IN])
		     : : "r11", "memory");
	asm volatile(GUEST_AT(1)
		     "nop\n\t"
		     "inb $" VMXLAB_STR(PORT_PLAIN) ", %%al\n"
		     "1:\tmovq $3, %[m]"
		     : "+a"(plain), [m] "=m"(guest_marker),
		       [at1] "=m"(guest_at[AT_PLAIN_IN])
		     : : "r11", "memory");
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n, movss & 0xff, sti & 0xff,
		   plain & 0xff);
}

TEST_F_TIMEOUT(irq, movss_and_sti_shadow_at_an_exit, TIMEOUT_S)
{
	static const struct {
		__u16 port;
		bool ready;
		int at;
	} in[] = {
		{ PORT_MOVSS, false, AT_MOVSS_IN },
		{ PORT_STI, false, AT_STI_IN },
		{ PORT_PLAIN, true, AT_PLAIN_IN },
	};
	struct ev_log *log;
	struct vmxlab_run *run;
	size_t i;

	self->vcpu = irq_vm_create(&self->vm, guest_shadow_in, 0xa0, 0xa2);
	log = vm_evlog(self->vm);
	run = self->vcpu->run;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(in); i++) {
		vcpu_run_expect_in(self->vcpu, in[i].port, 1, 0xc0 + i);
		EXPECT_EQ(1, run->if_flag) TH_LOG("IN %#x", in[i].port);
		EXPECT_EQ(in[i].ready, run->ready_for_interrupt_injection)
			TH_LOG("IN %#x: ready_for_interrupt_injection", in[i].port);
		ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0xa0 + i));
	}
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	ASSERT_EQ(3, self->uc.args[1]);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(in); i++) {
		EXPECT_EQ(0xc0 + i, self->uc.args[2 + i]) TH_LOG("IN %#x data", in[i].port);
		EXPECT_EQ(0xa0 + i, log->rec[i].vector);
		EXPECT_EQ(vm_at(self->vm, in[i].at), log->rec[i].rip)
			TH_LOG("IN %#x: interrupt taken at %#llx", in[i].port,
			       log->rec[i].rip);
		EXPECT_EQ(i, log->rec[i].marker);
	}
}

/* --- the interrupt window, HLT ------------------------------------------------ */

static void guest_window(void)
{
	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	guest_spin_if0();
	asm volatile(GUEST_AT(1)
		     "sti\n\t"
		     "nop\n"
		     "1:\tmovq $1, %[m]"
		     : [m] "=m"(guest_marker), [at1] "=m"(guest_at[AT_WINDOW])
		     : : "r11", "memory");
	GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, window_exit_to_userspace, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	struct vmxlab_run *run;
	__u64 rip;

	self->vcpu = irq_vm_create(&self->vm, guest_window, 0xb0, 0xb0);
	log = vm_evlog(self->vm);
	run = self->vcpu->run;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	vcpu_stats_get(self->vcpu, &before);

	/* Nothing queued, IF = 0: the exit comes when the guest does STI. */
	run->request_interrupt_window = 1;
	vcpu_run(self->vcpu);
	vcpu_assert_exit(self->vcpu, VMXLAB_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(vm_at(self->vm, AT_WINDOW), vcpu_rip(self->vcpu));
	EXPECT_EQ(IF0_SPIN, *vm_marker(self->vm));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	EXPECT_EQ(0, log->n);

	/* Now queue one: it goes in on entry, before the guest moves on. */
	run->request_interrupt_window = 0;
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0xb0));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_EQ(1, log->n);
	EXPECT_EQ(0xb0, log->rec[0].vector);
	EXPECT_EQ(vm_at(self->vm, AT_WINDOW), log->rec[0].rip);
	EXPECT_EQ(IF0_SPIN, log->rec[0].marker);

	/* The window is already open: the exit comes before any instruction. */
	rip = vcpu_rip(self->vcpu);
	run->request_interrupt_window = 1;
	vcpu_run(self->vcpu);
	vcpu_assert_exit(self->vcpu, VMXLAB_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(rip, vcpu_rip(self->vcpu));

	run->request_interrupt_window = 0;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	EXPECT_EQ(1, self->uc.args[1]);
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(2, exits_since(&before, &after, VMX_EXIT_INTERRUPT_WINDOW))
		TH_LOG("window exits");
	EXPECT_EQ(1, after.injected_irqs - before.injected_irqs);
}

static void guest_hlt_wakeup(void)
{
	asm volatile(GUEST_AT(1) GUEST_AT(2)
		     "sti\n\t"
		     "hlt\n"
		     "1:\tmovq $1, %[m]\n\t"
		     "cli\n\t"
		     "hlt\n\t"
		     "movq $2, %[m]\n\t"
		     "sti\n\t"
		     "nop\n"
		     "2:\tmovq $3, %[m]\n\t"
		     "cli"
		     : [m] "=m"(guest_marker), [at1] "=m"(guest_at[AT_HLT]),
		       [at2] "=m"(guest_at[AT_HLT_IF0_STI])
		     : : "r11", "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, hlt_wakes_up_on_interrupt, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, mid, after;
	struct ev_log *log;
	struct vmxlab_run *run;

	self->vcpu = irq_vm_create(&self->vm, guest_hlt_wakeup, 0xc0, 0xc1);
	log = vm_evlog(self->vm);
	run = self->vcpu->run;
	vcpu_stats_get(self->vcpu, &before);

	/* STI; HLT: halted, interruptible; the queued vector wakes it. */
	vcpu_run_expect_hlt(self->vcpu);
	EXPECT_EQ(vm_at(self->vm, AT_HLT), vcpu_rip(self->vcpu));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0xc0));

	/* CLI; HLT: the next one waits for STI. */
	vcpu_run_expect_hlt(self->vcpu);
	vcpu_stats_get(self->vcpu, &mid);
	ASSERT_EQ(1, log->n) TH_LOG("the first HLT was not woken up");
	EXPECT_EQ(0xc0, log->rec[0].vector);
	EXPECT_EQ(vm_at(self->vm, AT_HLT), log->rec[0].rip);
	EXPECT_EQ(0, log->rec[0].marker);
	EXPECT_EQ(0, exits_since(&before, &mid, VMX_EXIT_INTERRUPT_WINDOW))
		TH_LOG("a wake-up from STI; HLT needed an interrupt window");
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0xc1));

	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	vcpu_stats_get(self->vcpu, &after);
	ASSERT_EQ(2, self->uc.args[1]);
	EXPECT_EQ(0xc1, log->rec[1].vector);
	EXPECT_EQ(vm_at(self->vm, AT_HLT_IF0_STI), log->rec[1].rip);
	EXPECT_EQ(2, log->rec[1].marker);
	EXPECT_EQ(2, after.injected_irqs - before.injected_irqs);
	EXPECT_EQ(2, exits_since(&before, &after, VMX_EXIT_HLT)) TH_LOG("HLT exits");
}

/* --- a guest that never enables interrupts ------------------------------------ */

static __u64 guest_release;

static void on_signal(int sig)
{
	(void)sig;
}

/*
 * IF = 0 until the host releases it.  The CPUIDs are VM exits that never
 * reach userspace: every one is another entry at which vmxlab must not
 * inject.  They also let the host's timer in on Bochs, which takes no
 * external-interrupt exit while the guest has IF = 0 (against SDM Vol. 3C,
 * 25.4.1: with external-interrupt exiting, RFLAGS.IF blocks nothing).
 */
static void guest_if0_forever(void)
{
	__u32 regs[4];

	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	while (!__atomic_load_n(&guest_release, __ATOMIC_RELAXED)) {
		if (!(__atomic_add_fetch(&guest_marker, 1, __ATOMIC_RELAXED) & 1023))
			guest_cpuid(0, 0, regs);
	}
	asm volatile(GUEST_AT(1)
		     "sti\n\t"
		     "nop\n"
		     "1:\tcli"
		     : [at1] "=m"(guest_at[AT_IF0_RELEASE]) : : "r11", "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, if0_guest_interrupted_by_signal, TIMEOUT_S)
{
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	struct sigaction sa = { .sa_handler = on_signal };
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	__u64 *marker;
	__u64 seen = 0;
	char buf[256];
	int i, r;

	self->vcpu = irq_vm_create(&self->vm, guest_if0_forever, 0xd0, 0xd0);
	log = vm_evlog(self->vm);
	marker = vm_marker(self->vm);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0xd0));
	vcpu_stats_get(self->vcpu, &before);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		errno = 0;
		r = __vcpu_run(self->vcpu);
		EXPECT_EQ(-1, r)
			TH_LOG("exit %s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
		EXPECT_EQ(EINTR, errno);
		EXPECT_EQ(VMXLAB_EXIT_INTR, self->vcpu->run->exit_reason);
		EXPECT_EQ(0, self->vcpu->run->if_flag);
		EXPECT_EQ(0, self->vcpu->run->ready_for_interrupt_injection);
		EXPECT_EQ(0, log->n) TH_LOG("taken with IF = 0");
		EXPECT_LT(seen, *marker) TH_LOG("the guest did not run");
		seen = *marker;
	}
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_LT(0, exits_since(&before, &after, VMX_EXIT_CPUID)) TH_LOG("CPUID exits");
	EXPECT_EQ(0, after.injected_irqs - before.injected_irqs);
	*(__u64 *)addr_gva2hva(self->vm, &guest_release) = 1;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	ASSERT_EQ(1, self->uc.args[1]) TH_LOG("the queued interrupt was lost");
	EXPECT_EQ(0xd0, log->rec[0].vector);
	EXPECT_EQ(vm_at(self->vm, AT_IF0_RELEASE), log->rec[0].rip);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(1, after.injected_irqs - before.injected_irqs);
}

/* --- exceptions --------------------------------------------------------------- */

#define GUEST_CR2	0x5a5a5000ULL

static void guest_exception_target(void)
{
	int i;

	guest_cli();
	asm volatile("mov %0, %%cr2" : : "r"(GUEST_CR2) : "memory");
	/* IF stays 0: exceptions are not masked by it. */
	for (i = 0; i < 64; i++)
		GUEST_SYNC(ST_WAIT, guest_evlog.n);
	GUEST_FAIL("too many rounds");
}

struct exc_case {
	__u32 vector, flags, error_code;
	__u64 cr2;		/* with EXC_CR2 */
	__u64 expect_cr2;	/* what the handler must read */
};

TEST_F_TIMEOUT(irq, exceptions_delivered, TIMEOUT_S)
{
	static const struct exc_case cases[] = {
		{ 0, 0, 0, 0, GUEST_CR2 },			/* #DE */
		{ DB_VECTOR, 0, 0, 0, GUEST_CR2 },
		{ BP_VECTOR, 0, 0, 0, GUEST_CR2 },
		{ UD_VECTOR, 0, 0, 0, GUEST_CR2 },
		{ DF_VECTOR, EXC_EC, 0, 0, GUEST_CR2 },
		{ 10, EXC_EC, 0x44, 0, GUEST_CR2 },		/* #TS */
		{ 11, EXC_EC, 0x4a, 0, GUEST_CR2 },		/* #NP */
		{ 12, EXC_EC, 0, 0, GUEST_CR2 },		/* #SS */
		{ GP_VECTOR, EXC_EC, 0x1238, 0, GUEST_CR2 },
		/* #PF without CR2 leaves the guest's CR2 alone. */
		{ PF_VECTOR, EXC_EC, 0x1b, 0, GUEST_CR2 },
		{ PF_VECTOR, EXC_EC | EXC_CR2, 0x6, 0xdead0000beefULL,
		  0xdead0000beefULL },
		{ PF_VECTOR, EXC_EC, 0x4, 0, 0xdead0000beefULL },
		{ 16, 0, 0, 0, 0xdead0000beefULL },		/* #MF */
		{ AC_VECTOR, EXC_EC, 0, 0, 0xdead0000beefULL },
		{ 19, 0, 0, 0, 0xdead0000beefULL },		/* #XM */
	};
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	__u64 rip;
	size_t i;

	self->vcpu = irq_vm_create(&self->vm, guest_exception_target, 0, 31);
	log = vm_evlog(self->vm);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(cases); i++) {
		const struct exc_case *c = &cases[i];
		struct ev_record *r = &log->rec[i];

		rip = vcpu_rip(self->vcpu);
		ASSERT_EQ(0, vcpu_queue_exception(self->vcpu, c->vector, c->flags,
						  c->error_code, c->cr2))
			TH_LOG("vector %u", c->vector);
		vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
		ASSERT_EQ(i + 1, self->uc.args[1])
			TH_LOG("vector %u: not taken exactly once", c->vector);
		EXPECT_EQ(c->vector, r->vector);
		EXPECT_EQ(c->error_code, r->error_code) TH_LOG("vector %u", c->vector);
		EXPECT_EQ(rip, r->rip) TH_LOG("vector %u", c->vector);
		EXPECT_EQ(c->expect_cr2, r->cr2) TH_LOG("vector %u: CR2", c->vector);
	}
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(0, after.injected_irqs - before.injected_irqs);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

/*
 * An error code VM entry would refuse (any of bits 31:16 set, SDM Vol. 3C,
 * the checks on VM-entry event injection) is refused by the ioctl: queued,
 * it would fail every following entry.  The largest one entry accepts is
 * delivered, and the VM stays usable.
 */
TEST_F_TIMEOUT(irq, injected_error_code_bounds, TIMEOUT_S)
{
	static const __u32 refused[] = { 0x10000, 0x1fffc, 0xffffffff, 0x80000000 };
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	size_t i;

	self->vcpu = irq_vm_create(&self->vm, guest_exception_target, 0, 31);
	log = vm_evlog(self->vm);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	vcpu_stats_get(self->vcpu, &before);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(refused); i++)
		EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, GP_VECTOR,
							  EXC_EC, refused[i], 0));
	/* Nothing was queued: the guest runs on, no failed entry. */
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	EXPECT_EQ(0, self->uc.args[1]) TH_LOG("an exception was delivered");
	ASSERT_EQ(0, vcpu_queue_exception(self->vcpu, GP_VECTOR, EXC_EC, 0xfffc, 0));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	ASSERT_EQ(1, self->uc.args[1]);
	EXPECT_EQ(GP_VECTOR, log->rec[0].vector);
	EXPECT_EQ(0xfffc, log->rec[0].error_code);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

/*
 * #CP pushes an error code, and VM entry accepts one for it only on CPUs
 * that can load CET state (SDM Vol. 3C, 26.2.1.3): elsewhere the request
 * must be refused, not turned into a VM entry that fails.
 */
TEST_F_TIMEOUT(irq, exception_cp_error_code, TIMEOUT_S)
{
	struct vmxlab_caps caps;
	struct vmxlab_run *run;
	bool cet;
	char buf[256];
	int r;

	self->vcpu = irq_vm_create(&self->vm, guest_exception_target, 0, 31);
	ASSERT_EQ(0, ioctl(self->vm->sys_fd, VMXLAB_GET_CAPS, &caps));
	cet = (caps.msr_entry >> 32) & ENTRY_CTL_LOAD_CET;
	TH_LOG("load CET state %s", cet ? "supported" : "not supported");
	run = self->vcpu->run;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	errno = 0;
	r = vcpu_queue_exception(self->vcpu, CP_VECTOR, EXC_EC, 3, 0);
	if (r) {
		EXPECT_FALSE(cet) TH_LOG("#CP refused: %s", strerror(errno));
		EXPECT_EQ(EINVAL, errno);
		return;
	}
	vcpu_run(self->vcpu);
	EXPECT_NE(VMXLAB_EXIT_FAIL_ENTRY, run->exit_reason)
		TH_LOG("#CP with an error code accepted, then VM entry failed: %s",
		       vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	if (run->exit_reason == VMXLAB_EXIT_FAIL_ENTRY) {
		/* Is the vCPU stuck with it? */
		vcpu_run(self->vcpu);
		TH_LOG("next run: %s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
		return;
	}
	ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	EXPECT_EQ(1, self->uc.args[1]);
	EXPECT_EQ(CP_VECTOR, vm_evlog(self->vm)->rec[0].vector);
	EXPECT_EQ(3, vm_evlog(self->vm)->rec[0].error_code);
}

/* --- requests that must be refused -------------------------------------------- */

/* Takes whatever is queued at ST_QUEUE: exceptions at once, interrupts after STI. */
static void guest_take_all(void)
{
	int i;

	guest_cli();
	GUEST_SYNC(ST_QUEUE);
	asm volatile("sti; nop" : : : "memory");
	for (i = 0; guest_evlog.n < 1 + VMXLAB_IRQ_QUEUE_LEN && i < 64; i++)
		GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, bad_requests_refused, TIMEOUT_S)
{
	static const __u32 bad_vectors[] = { 0, 2, 31, 256, 0xffffffff };
	struct ev_log *log;
	struct vmxlab_exception e;
	__u64 i, n;

	self->vcpu = irq_vm_create(&self->vm, guest_take_all, 0, 255);
	log = vm_evlog(self->vm);
	for (i = 0; i < VMXLAB_ARRAY_SIZE(bad_vectors); i++)
		EXPECT_ERRNO(EINVAL, vcpu_queue_irq(self->vcpu, bad_vectors[i]));

	/* Exceptions: vector, error-code flag, CR2 flag, unknown bits. */
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, NMI_VECTOR, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, 32, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, 255, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, GP_VECTOR, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, PF_VECTOR, EXC_CR2, 0, 1));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, UD_VECTOR, EXC_EC, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, BP_VECTOR, EXC_EC, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, GP_VECTOR,
						  EXC_EC | EXC_CR2, 0, 0));
	EXPECT_ERRNO(EINVAL, vcpu_queue_exception(self->vcpu, UD_VECTOR, 4, 0, 0));
	e = (struct vmxlab_exception) { .vector = UD_VECTOR, .padding = 1 };
	EXPECT_ERRNO(EINVAL, __vcpu_ioctl(self->vcpu, VMXLAB_INJECT_EXCEPTION, &e));

	/* One exception at a time; the first one stays. */
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	ASSERT_EQ(0, vcpu_queue_exception(self->vcpu, UD_VECTOR, 0, 0, 0));
	EXPECT_ERRNO(EBUSY, vcpu_queue_exception(self->vcpu, BP_VECTOR, 0, 0, 0));
	EXPECT_ERRNO(EBUSY, vcpu_queue_exception(self->vcpu, UD_VECTOR, 0, 0, 0));

	/* A full queue: 16 go in, the 17th does not. */
	for (i = 0; i < VMXLAB_IRQ_QUEUE_LEN; i++)
		ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x40 + i));
	EXPECT_ERRNO(EBUSY, vcpu_queue_irq(self->vcpu, 0x80));

	/* The #UD comes at once (IF does not mask it), the rest after STI. */
	do {
		vcpu_run(self->vcpu);
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	} while (self->uc.args[0] == ST_WAIT);
	ASSERT_EQ(ST_REPORT, self->uc.args[0]);
	n = log->n;
	ASSERT_EQ(1 + VMXLAB_IRQ_QUEUE_LEN, n)
		TH_LOG("events taken (guest counted %llu)", self->uc.args[1]);
	EXPECT_EQ(UD_VECTOR, log->rec[0].vector);
	for (i = 0; i < VMXLAB_IRQ_QUEUE_LEN; i++)
		EXPECT_EQ(0x40 + i, log->rec[1 + i].vector);
	EXPECT_EQ(0, vcpu_queue_irq(self->vcpu, 0x80)) TH_LOG("queue not drained");
	EXPECT_EQ(0, vcpu_queue_exception(self->vcpu, BP_VECTOR, 0, 0, 0));
}

/* --- NMIs --------------------------------------------------------------------- */

static __u64 guest_nmi_sync_once;

/* Records the NMI; the first time, reports from inside the handler. */
static void guest_nmi_handler(struct ex_regs *regs)
{
	struct ev_log *log = &guest_evlog;
	__u64 i = log->n;

	log->depth++;
	if (i < EVLOG_MAX) {
		log->rec[i].vector = regs->vector;
		log->rec[i].rip = regs->rip;
		log->rec[i].marker = guest_marker;
		log->rec[i].depth = log->depth;
	}
	log->n = i + 1;
	if (guest_nmi_sync_once) {
		guest_nmi_sync_once = 0;
		GUEST_SYNC(ST_IN_NMI, log->n);
	}
	log->depth--;
}

static void guest_nmi_target(void)
{
	int i;

	guest_cli();
	guest_nmi_sync_once = 1;
	for (i = 0; i < 16; i++)
		GUEST_SYNC(ST_WAIT, guest_evlog.n);
	GUEST_FAIL("too many rounds");
}

TEST_F_TIMEOUT(irq, nmi_delivered_and_blocked_until_iret, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct ev_log *log;
	struct vmxlab_caps caps;
	bool vnmi;
	__u64 rip;

	self->vm = vm_create();
	vm_install_exception_handler(self->vm, NMI_VECTOR, guest_nmi_handler);
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_nmi_target);
	log = vm_evlog(self->vm);
	ASSERT_EQ(0, ioctl(self->vm->sys_fd, VMXLAB_GET_CAPS, &caps));
	vnmi = (caps.features & VMXLAB_CAP_VIRTUAL_NMIS) &&
	       (caps.features & VMXLAB_CAP_NMI_WINDOW);

	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	EXPECT_EQ(0, self->vcpu->run->if_flag);
	vcpu_stats_get(self->vcpu, &before);
	rip = vcpu_rip(self->vcpu);

	/* IF = 0 does not hold an NMI back. */
	ASSERT_EQ(0, vcpu_queue_nmi(self->vcpu));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_IN_NMI);
	ASSERT_EQ(1, log->n);
	EXPECT_EQ(NMI_VECTOR, log->rec[0].vector);
	EXPECT_EQ(rip, log->rec[0].rip);

	/* Inside the handler: a second NMI waits for its IRET. */
	ASSERT_EQ(0, vcpu_queue_nmi(self->vcpu));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	ASSERT_EQ(2, self->uc.args[1]) TH_LOG("the second NMI did not come");
	EXPECT_EQ(NMI_VECTOR, log->rec[1].vector);
	EXPECT_EQ(1, log->rec[1].depth) TH_LOG("NMI nested in the NMI handler");
	if (vnmi) {
		/* NMI-window exit: right after the IRET, before anything else. */
		EXPECT_EQ(rip, log->rec[1].rip);
	}
	vcpu_stats_get(self->vcpu, &after);
	if (vnmi) {
		EXPECT_EQ(1, exits_since(&before, &after, VMX_EXIT_NMI_WINDOW))
			TH_LOG("NMI-window exits");
	}

	/* Two NMIs queued before the first is delivered make one. */
	ASSERT_EQ(0, vcpu_queue_nmi(self->vcpu));
	ASSERT_EQ(0, vcpu_queue_nmi(self->vcpu));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	EXPECT_EQ(3, self->uc.args[1]) TH_LOG("queued NMIs did not coalesce");
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(0, after.injected_irqs - before.injected_irqs);
}

/*
 * Exception, NMI and interrupt queued at once.  The exception goes in
 * first; the NMI-window exit then comes before the exception handler's
 * first instruction, so the NMI interrupts the handler's entry stub
 * (it runs on a stack of its own, IST2, for that); the interrupt waits
 * for the exception handler's IRET.
 */
#define NMI_STACK_GPA		(GUEST_DATA_GPA + 0x100000)
#define NMI_STACK_SIZE		0x4000

static void use_ist2_for_nmi(struct vm *vm, struct vcpu *vcpu)
{
	struct vmxlab_sregs sregs;
	__u64 *gate, *ist2;

	vm_add_region(vm, SLOT_TEST + 1, NMI_STACK_GPA, NMI_STACK_SIZE, 0);
	vcpu_sregs_get(vcpu, &sregs);
	gate = addr_gpa2hva(vm, sregs.idt.base + NMI_VECTOR * 16);
	ist2 = addr_gpa2hva(vm, sregs.tr.base + 0x2c);
	TEST_ASSERT(gate && ist2, "IDT or TSS not in guest memory");
	*gate = (*gate & ~(7ULL << 32)) | 2ULL << 32;
	*ist2 = NMI_STACK_GPA + NMI_STACK_SIZE;
}

static void guest_priority(void)
{
	asm volatile("sti" : : : "memory");
	GUEST_SYNC(ST_QUEUE);
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, exception_nmi_irq_priority, TIMEOUT_S)
{
	struct ev_log *log;
	struct vmxlab_caps caps;
	__u64 rip;

	self->vcpu = irq_vm_create(&self->vm, guest_priority, 0, 255);
	use_ist2_for_nmi(self->vm, self->vcpu);
	log = vm_evlog(self->vm);
	ASSERT_EQ(0, ioctl(self->vm->sys_fd, VMXLAB_GET_CAPS, &caps));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	rip = vcpu_rip(self->vcpu);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x50));
	ASSERT_EQ(0, vcpu_queue_nmi(self->vcpu));
	ASSERT_EQ(0, vcpu_queue_exception(self->vcpu, UD_VECTOR, 0, 0, 0));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	ASSERT_EQ(3, self->uc.args[1]) TH_LOG("events taken");
	EXPECT_EQ(NMI_VECTOR, log->rec[0].vector);
	EXPECT_EQ(UD_VECTOR, log->rec[1].vector);
	EXPECT_EQ(0x50, log->rec[2].vector);
	if ((caps.features & VMXLAB_CAP_VIRTUAL_NMIS) &&
	    (caps.features & VMXLAB_CAP_NMI_WINDOW)) {
		EXPECT_EQ((__u64)vmxlab_idt_stubs + 16 * UD_VECTOR, log->rec[0].rip)
			TH_LOG("the NMI did not come right after the #UD went in");
	}
	EXPECT_EQ(rip, log->rec[1].rip);
	EXPECT_EQ(rip, log->rec[2].rip) TH_LOG("the interrupt not right after IRET");
}

/* --- re-injection after an exit during delivery ------------------------------- */

/*
 * Pages of this slot are written by the host only: the guest touches each
 * for the first time during an event delivery, which then exits with an
 * EPT violation.  vmxlab maps the page and delivers the same event again.
 */
#define FRESH_GPA		GUEST_DATA_GPA
#define FRESH_PAGES		16
#define FRESH(i)		(FRESH_GPA + (i) * GUEST_PAGE_SIZE)

enum {
	RI_IRQ_IDT,		/* interrupt; IDT on a fresh page */
	RI_GP_STACK,		/* #GP + error code; IST stack on a fresh page */
	RI_NMI_IDT,		/* NMI; IDT on a fresh page */
	RI_INT_IDT,		/* INT $0x81; IDT on a fresh page */
	RI_INT3_IDT,		/* INT3; IDT on a fresh page */
	RI_UD2_IDT,		/* UD2 (a fault); IDT on a fresh page */
	RI_PF_IDT,		/* #PF + CR2; IDT on a fresh page */
	RI_IRQ_BOTH,		/* interrupt; IDT and stack on fresh pages */
	RI_NR,
};

/* Which fresh page holds case @c's IDT copy, and which its stack. */
#define RI_IDT_PAGE(c)		(2 * (c))
#define RI_STACK_PAGE(c)	(2 * (c) + 1)

static void reinject_ud_handler(struct ex_regs *regs)
{
	guest_record_event(regs);
	if (((__u8 *)regs->rip)[0] == 0x0f && ((__u8 *)regs->rip)[1] == 0x0b)
		regs->rip += 2;
}

static void guest_reinject(void)
{
	/* SIDT stores 10 bytes: put the limit right before the base. */
	struct {
		__u16 pad[3];
		__u16 limit;
		__u64 base;
	} idtr;
	int c;

	asm volatile("sidt (%0)" : : "r"(&idtr.limit) : "memory");
	asm volatile("sti" : : : "memory");
	/* Warm-up: the handlers' code, data and stack get mapped. */
	GUEST_SYNC(ST_WAIT);
	asm volatile("int3; ud2" : : : "memory");
	GUEST_SYNC(ST_WAIT);

	for (c = 0; c < RI_NR; c++) {
		if (c != RI_GP_STACK)
			guest_lidt(FRESH(RI_IDT_PAGE(c)), idtr.limit);
		switch (c) {
		case RI_INT_IDT:
			asm volatile(GUEST_AT(1)
				     "int $0x81\n"
				     "1:"
				     : [at1] "=m"(guest_at[AT_INT]) : : "r11", "memory");
			break;
		case RI_INT3_IDT:
			asm volatile(GUEST_AT(1)
				     "int3\n"
				     "1:"
				     : [at1] "=m"(guest_at[AT_INT3]) : : "r11", "memory");
			break;
		case RI_UD2_IDT:
			asm volatile(GUEST_AT(1)
				     "1:\tud2"
				     : [at1] "=m"(guest_at[AT_UD2]) : : "r11", "memory");
			break;
		default:
			/* The host queues the event. */
			GUEST_SYNC(ST_CASE, c);
			break;
		}
		guest_lidt(idtr.base, idtr.limit);
		GUEST_SYNC(ST_REPORT, c, guest_evlog.n);
	}
}

struct reinject_case {
	const char *name;
	__u32 vector;
	__u32 error_code;
	__u64 cr2;
	int min_ept_exits;	/* fresh pages the delivery touches */
};

static const struct reinject_case reinject_cases[RI_NR] = {
	[RI_IRQ_IDT] = { "interrupt, IDT", 0x61, 0, 0, 1 },
	[RI_GP_STACK] = { "#GP, stack", GP_VECTOR, 0xabc0, 0, 1 },
	[RI_NMI_IDT] = { "NMI, IDT", NMI_VECTOR, 0, 0, 1 },
	[RI_INT_IDT] = { "INT 0x81, IDT", 0x81, 0, 0, 1 },
	[RI_INT3_IDT] = { "INT3, IDT", BP_VECTOR, 0, 0, 1 },
	[RI_UD2_IDT] = { "UD2, IDT", UD_VECTOR, 0, 0, 1 },
	[RI_PF_IDT] = { "#PF, IDT", PF_VECTOR, 0x2, 0xfeed000, 1 },
	[RI_IRQ_BOTH] = { "interrupt, IDT and stack", 0x62, 0, 0, 2 },
};

/* Host side of one case, at its ST_CASE exit: point the IST or queue. */
static void reinject_queue(struct vcpu *vcpu, int c, __u64 *ist1)
{
	const struct reinject_case *rc = &reinject_cases[c];

	if (c == RI_GP_STACK || c == RI_IRQ_BOTH)
		*ist1 = FRESH(RI_STACK_PAGE(c) + 1);
	switch (c) {
	case RI_NMI_IDT:
		TEST_ASSERT(!vcpu_queue_nmi(vcpu), "VMXLAB_NMI");
		break;
	case RI_GP_STACK:
		TEST_ASSERT(!vcpu_queue_exception(vcpu, GP_VECTOR, EXC_EC,
						  rc->error_code, 0), "#GP");
		break;
	case RI_PF_IDT:
		TEST_ASSERT(!vcpu_queue_exception(vcpu, PF_VECTOR, EXC_EC | EXC_CR2,
						  rc->error_code, rc->cr2), "#PF");
		break;
	default:
		TEST_ASSERT(!vcpu_queue_irq(vcpu, rc->vector), "interrupt");
		break;
	}
}

static __u64 reinject_expected_rip(struct vm *vm, int c, __u64 case_rip)
{
	switch (c) {
	case RI_INT_IDT:
		return vm_at(vm, AT_INT);
	case RI_INT3_IDT:
		return vm_at(vm, AT_INT3);
	case RI_UD2_IDT:
		return vm_at(vm, AT_UD2);
	default:
		return case_rip;
	}
}

TEST_F_TIMEOUT(irq, reinjected_once_after_ept_violation, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_sregs sregs;
	struct ev_log *log;
	__u64 *ist1, saved_ist1, n, case_rip;
	char *fresh;
	int c, i;

	if (shadow_rerun())
		SKIP(return, "shadow paging: counts EPT violations");
	self->vcpu = irq_vm_create(&self->vm, guest_reinject, 0, 255);
	vm_install_exception_handler(self->vm, UD_VECTOR, reinject_ud_handler);
	log = vm_evlog(self->vm);
	fresh = vm_add_region(self->vm, SLOT_TEST, FRESH_GPA,
			      FRESH_PAGES * GUEST_PAGE_SIZE, 0);
	vcpu_sregs_get(self->vcpu, &sregs);
	for (c = 0; c < RI_NR; c++)
		memcpy(fresh + RI_IDT_PAGE(c) * GUEST_PAGE_SIZE,
		       addr_gpa2hva(self->vm, sregs.idt.base), sregs.idt.limit + 1);
	ist1 = addr_gpa2hva(self->vm, sregs.tr.base + 0x24);
	saved_ist1 = *ist1;

	/* Warm-up: an interrupt, INT3 and UD2 through the usual IDT. */
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x60));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_WAIT);
	ASSERT_EQ(3, log->n) TH_LOG("warm-up events");

	for (c = 0; c < RI_NR; c++) {
		const struct reinject_case *rc = &reinject_cases[c];

		n = log->n;
		case_rip = 0;
		vcpu_stats_get(self->vcpu, &before);
		vcpu_run(self->vcpu);
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc)) TH_LOG("%s", rc->name);
		if (self->uc.args[0] == ST_CASE) {
			ASSERT_EQ(c, self->uc.args[1]);
			case_rip = vcpu_rip(self->vcpu);
			reinject_queue(self->vcpu, c, ist1);
			vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
		}
		ASSERT_EQ(ST_REPORT, self->uc.args[0]);
		ASSERT_EQ(c, self->uc.args[1]);
		*ist1 = saved_ist1;
		vcpu_stats_get(self->vcpu, &after);

		EXPECT_EQ(n + 1, self->uc.args[2])
			TH_LOG("%s: handler ran %llu times", rc->name,
			       self->uc.args[2] - n);
		EXPECT_LE(rc->min_ept_exits, exits_since(&before, &after, VMX_EXIT_EPT_VIOLATION))
			TH_LOG("%s: the delivery did not exit", rc->name);
		EXPECT_EQ(rc->vector, log->rec[n].vector) TH_LOG("%s", rc->name);
		EXPECT_EQ(rc->error_code, log->rec[n].error_code) TH_LOG("%s", rc->name);
		EXPECT_EQ(reinject_expected_rip(self->vm, c, case_rip), log->rec[n].rip)
			TH_LOG("%s", rc->name);
		if (c == RI_PF_IDT)
			EXPECT_EQ(rc->cr2, log->rec[n].cr2);
		EXPECT_EQ(0, after.failed_entries - before.failed_entries);
	}
	/* Nothing was left to come again. */
	n = log->n;
	for (i = 0; i < 2; i++)
		vcpu_run(self->vcpu);
	EXPECT_EQ(n, log->n);
}

/*
 * Delivery into an IDT that no memory backs cannot complete.  Whatever
 * vmxlab reports, it must not emulate the guest's next instruction (a
 * store here) as if that instruction had touched the IDT.
 */
#define UNBACKED_IDT		(GUEST_MMIO_GPA + 0x20000)

static __u32 unbacked_var;

static void guest_unbacked_idt_store(void)
{
	guest_lidt(UNBACKED_IDT, 0xfff);
	asm volatile(GUEST_AT(1)
		     "sti\n\t"
		     "nop\n\t"
		     "outb %%al, $0xe0\n"
		     "1:\tmovl %[v], (%[p])\n\t"
		     "outb %%al, $0xe1"
		     : [at1] "=m"(guest_at[AT_UNBACKED_STORE])
		     : [p] "r"(&unbacked_var), [v] "r"(0x1234) : "r11", "memory");
}

TEST_F_TIMEOUT(irq, delivery_into_unbacked_idt_emulates_nothing, TIMEOUT_S)
{
	struct vmxlab_run *run;
	char buf[256];

	self->vm = vm_create();
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_unbacked_idt_store);
	run = self->vcpu->run;
	vcpu_run_expect_out(self->vcpu, 0xe0, 1);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x70));
	vcpu_run(self->vcpu);
	TH_LOG("exit: %s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	/*
	 * The delivery read the gate of vector 0x70 from unbacked memory:
	 * an internal error (api.rst), never an MMIO exit for the store at
	 * RIP.  The qualification is a read, not a fetch or a write (SDM
	 * Vol. 3C Table 28-7).
	 */
	ASSERT_EQ(VMXLAB_EXIT_INTERNAL_ERROR, run->exit_reason);
	EXPECT_EQ(VMXLAB_INTERNAL_UNBACKED_ACCESS, run->internal.suberror);
	/* Shadow paging adds the linear address (api.rst). */
	EXPECT_EQ(vm_is_shadow(self->vm) ? 3 : 2, run->internal.ndata);
	EXPECT_EQ(UNBACKED_IDT + 0x70 * 16, run->internal.data[0] & ~0xfULL);
	EXPECT_EQ(1, run->internal.data[1] & 7);
	EXPECT_EQ(vm_at(self->vm, AT_UNBACKED_STORE), vcpu_rip(self->vcpu))
		TH_LOG("RIP moved past an instruction that never ran");
	EXPECT_EQ(0, *(__u32 *)addr_gva2hva(self->vm, &unbacked_var));
}

/* --- real mode ------------------------------------------------------------------ */

/*
 * The same events through a real-mode IVT.  The handlers sit at fixed
 * offsets in the blob, so the host can point IVT entries at them; each
 * counts its calls in a word of LOW_DATA_GPA.  Real mode pushes no error
 * code: vmxlab must leave out the one userspace asked for, or VM entry
 * fails.
 */
#define RM_IRQ_VECTOR		0x40
#define RM_IRQ_HANDLER		0x10	/* offsets in the blob */
#define RM_GP_HANDLER		0x20
#define RM_IRQ_COUNT		LOW_DATA_GPA
#define RM_GP_COUNT		(LOW_DATA_GPA + 2)

GUEST_CODE_BLOB(rm_events_code, 16,
		"	jmp 1f\n"
		"	.org rm_events_code + " VMXLAB_STR(RM_IRQ_HANDLER) "\n"
		"	incw " VMXLAB_STR(RM_IRQ_COUNT) "\n"
		"	iret\n"
		"	.org rm_events_code + " VMXLAB_STR(RM_GP_HANDLER) "\n"
		"	incw " VMXLAB_STR(RM_GP_COUNT) "\n"
		"	iret\n"
		"1:	sti\n"
		"	out %al, $0x20\n"		/* the host queues an interrupt */
		"	mov " VMXLAB_STR(RM_IRQ_COUNT) ", %ax\n"
		"	out %ax, $0x21\n"		/* the host queues a #GP */
		"	mov " VMXLAB_STR(RM_GP_COUNT) ", %ax\n"
		"	out %ax, $0x22\n"
		"	cli\n"
		"	out %al, $0x23\n"		/* an interrupt with IF = 0 */
		"	mov " VMXLAB_STR(RM_IRQ_COUNT) ", %ax\n"
		"	out %ax, $0x24\n"
		"	sti\n"
		"	nop\n"
		"	mov " VMXLAB_STR(RM_IRQ_COUNT) ", %ax\n"
		"	out %ax, $0x25\n"
		"	hlt\n");

static void ivt_set(char *low, int vector, __u16 offset)
{
	__u32 entry = offset;		/* segment 0 */

	memcpy(low + vector * 4, &entry, sizeof(entry));
}

TEST_F_TIMEOUT(irq, real_mode_interrupt_and_exception, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_run *run;
	char *low;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_events_code, rm_events_code_end);
	ivt_set(low, RM_IRQ_VECTOR, LOW_CODE_GPA + RM_IRQ_HANDLER);
	ivt_set(low, GP_VECTOR, LOW_CODE_GPA + RM_GP_HANDLER);
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(self->vcpu, LOW_CODE_GPA);
	run = self->vcpu->run;
	vcpu_stats_get(self->vcpu, &before);

	vcpu_run_expect_out(self->vcpu, 0x20, 1);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection) TH_LOG("STI shadow left set");
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, RM_IRQ_VECTOR));
	EXPECT_EQ(1, vcpu_run_expect_out(self->vcpu, 0x21, 2)) TH_LOG("IVT handler calls");

	ASSERT_EQ(0, vcpu_queue_exception(self->vcpu, GP_VECTOR, EXC_EC, 0x1238, 0));
	EXPECT_EQ(1, vcpu_run_expect_out(self->vcpu, 0x22, 2)) TH_LOG("#GP handler calls");

	vcpu_run_expect_out(self->vcpu, 0x23, 1);
	EXPECT_EQ(0, run->if_flag);
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, RM_IRQ_VECTOR));
	EXPECT_EQ(1, vcpu_run_expect_out(self->vcpu, 0x24, 2)) TH_LOG("taken with IF = 0");
	EXPECT_EQ(2, vcpu_run_expect_out(self->vcpu, 0x25, 2)) TH_LOG("not taken after STI");
	vcpu_run_expect_hlt(self->vcpu);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(2, after.injected_irqs - before.injected_irqs);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

/*
 * An event an exit handler put in the VM-entry field, when the run then
 * returns to userspace before the entry: here the completion of an INS
 * whose destination is not mapped raises #GP (with an error code, the
 * guest being in long mode) and immediate_exit ends the run.  Userspace
 * then puts the guest in real mode, where VM entry refuses an error code:
 * the #GP must be delivered there, without one, never fail the entry.
 */
#define UNMAPPED_GVA		0x100000000000ULL	/* beyond the identity map */
#define RM_HANDLER_OFFSET	0x10

static void guest_ins_unmapped(void)
{
	asm volatile("rep insb"
		     : : "D"(UNMAPPED_GVA), "c"(1UL), "d"(0x66) : "memory");
	GUEST_FAIL("the INS completed");
}

GUEST_CODE_BLOB(rm_gp_code, 16,
		"	out %al, $0x77\n"		/* the #GP did not come */
		"	hlt\n"
		"	.org rm_gp_code + " VMXLAB_STR(RM_HANDLER_OFFSET) "\n"
		"	hlt\n");

/* From any mode straight to real mode, as a VMM's SET_SREGS may do. */
static void force_real_mode(struct vcpu *vcpu, __u64 entry)
{
	const struct vmxlab_segment rm_data = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = rm_data;
	sregs.cs.type = 11;
	sregs.ds = rm_data;
	sregs.es = rm_data;
	sregs.fs = rm_data;
	sregs.gs = rm_data;
	sregs.ss = rm_data;
	sregs.idt.base = 0;		/* the interrupt vector table */
	sregs.idt.limit = 0x3ff;
	sregs.cr0 = 0x10;		/* ET: protection and paging off */
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_sregs_set(vcpu, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = LOW_STACK_TOP;
	regs.rflags = 2;
	vcpu_regs_set(vcpu, &regs);
}

TEST_F_TIMEOUT(irq, entry_event_survives_return_and_mode_change, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_run *run;
	struct vmxlab_regs regs;
	char buf[256], *low;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create();
	low = vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_gp_code, rm_gp_code_end);
	ivt_set(low, GP_VECTOR, LOW_CODE_GPA + RM_HANDLER_OFFSET);
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_ins_unmapped);
	run = self->vcpu->run;

	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_IO, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(VMXLAB_EXIT_IO_IN, run->io.direction);
	vcpu_stats_get(self->vcpu, &before);

	/* The completion fails (#GP goes in), then no entry happens. */
	run->immediate_exit = 1;
	EXPECT_EQ(-1, __vcpu_run(self->vcpu));
	EXPECT_EQ(EINTR, errno);
	run->immediate_exit = 0;

	force_real_mode(self->vcpu, LOW_CODE_GPA);
	vcpu_run(self->vcpu);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
	ASSERT_EQ(VMXLAB_EXIT_HLT, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	vcpu_regs_get(self->vcpu, &regs);
	/* HLT exits with RIP after the HLT: the handler's. */
	EXPECT_EQ(LOW_CODE_GPA + RM_HANDLER_OFFSET + 1, regs.rip)
		TH_LOG("the #GP was not delivered");
}

/*
 * The other way round: the #GP an exit left in the VM-entry field was
 * chosen in real mode (no error code), and userspace then puts the guest
 * in protected mode, where VM entry insists on one for #GP (SDM Vol. 3C,
 * checks on VM-entry event injection).  Found by vmxlab_fuzz (seed 11,
 * op 151): VM-instruction error 7.  The #GP must arrive with an error
 * code (0: the real-mode event had none to keep).
 */
#define PM_IDT_GPA		0x6000
#define PM_HANDLER_OFFSET	0x10

GUEST_CODE_BLOB(rm_ins_code, 16,
		"	mov $0x66, %dx\n"
		"	mov $1, %cx\n"
		"	xor %di, %di\n"
		"	rep insb\n"			/* ES.base: unbacked */
		"	hlt\n"
		"	.org rm_ins_code + " VMXLAB_STR(PM_HANDLER_OFFSET) "\n"
		"	hlt\n");			/* the #GP handler */

TEST_F_TIMEOUT(irq, entry_event_survives_return_to_protected_mode, TIMEOUT_S)
{
	const __u32 handler = LOW_CODE_GPA + PM_HANDLER_OFFSET;
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_sregs sregs;
	struct vmxlab_regs regs;
	struct vmxlab_run *run;
	char buf[256], *low;
	__u64 gate;

	if (shadow_rerun())
		SKIP(return, "shadow paging: no real mode (paging.real_mode)");
	self->vm = vm_create_bare();
	low = vm_add_low_memory(self->vm);
	vm_load_blob(self->vm, LOW_CODE_GPA, rm_ins_code, rm_ins_code_end);
	/* A 32-bit interrupt gate for #GP: present, DPL 0, type 0xe. */
	gate = (handler & 0xffffULL) | (__u64)LOW_SEL_CODE32 << 16 |
	       0x8eULL << 40 | (__u64)(handler >> 16) << 48;
	memcpy(low + PM_IDT_GPA + GP_VECTOR * 8, &gate, sizeof(gate));
	self->vcpu = vm_vcpu_add_bare(self->vm, 0);
	vcpu_setup_real_mode(self->vcpu, LOW_CODE_GPA);
	vcpu_sregs_get(self->vcpu, &sregs);
	sregs.es.base = GUEST_MMIO_GPA;
	vcpu_sregs_set(self->vcpu, &sregs);
	run = self->vcpu->run;

	vcpu_run(self->vcpu);
	ASSERT_EQ(VMXLAB_EXIT_IO, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	vcpu_stats_get(self->vcpu, &before);
	run->immediate_exit = 1;
	EXPECT_EQ(-1, __vcpu_run(self->vcpu));
	EXPECT_EQ(EINTR, errno);
	run->immediate_exit = 0;

	vcpu_setup_protected32(self->vcpu, LOW_CODE_GPA + 0x40);
	vcpu_sregs_get(self->vcpu, &sregs);
	sregs.idt.base = PM_IDT_GPA;
	sregs.idt.limit = 0x7ff;
	vcpu_sregs_set(self->vcpu, &sregs);
	vcpu_run(self->vcpu);
	vcpu_stats_get(self->vcpu, &after);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
	ASSERT_EQ(VMXLAB_EXIT_HLT, run->exit_reason)
		TH_LOG("%s", vcpu_exit_str(self->vcpu, buf, sizeof(buf)));
	vcpu_regs_get(self->vcpu, &regs);
	EXPECT_EQ(handler + 1, regs.rip) TH_LOG("the #GP was not delivered");
	/* EIP, CS, EFLAGS and the error code: four dwords on the stack. */
	EXPECT_EQ(LOW_STACK_TOP - 16, regs.rsp) TH_LOG("no error code pushed");
}

/* --- counters ----------------------------------------------------------------- */

static void guest_counters(void)
{
	int i;

	guest_cli();
	for (i = 0; i < 3; i++) {
		GUEST_SYNC(ST_QUEUE, i);
		asm volatile("sti; nop; cli" : : : "memory");
	}
	asm volatile("sti" : : : "memory");
	GUEST_SYNC(ST_WAIT);
	asm volatile("cli" : : : "memory");
	GUEST_SYNC(ST_QUEUE, 3);
	asm volatile("sti; nop; cli" : : : "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, window_and_injection_counters, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	int i, runs = 0;

	self->vcpu = irq_vm_create(&self->vm, guest_counters, 32, 255);
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	vcpu_stats_get(self->vcpu, &before);

	/* Three with IF = 0: each waits for a window after STI. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x70 + i));
		/* Refused requests count nowhere. */
		EXPECT_ERRNO(EINVAL, vcpu_queue_irq(self->vcpu, 7));
		vcpu_run(self->vcpu);
		runs++;
		ASSERT_EQ(UCALL_SYNC, get_ucall(self->vcpu, &self->uc));
	}
	ASSERT_EQ(ST_WAIT, self->uc.args[0]);
	/* One with IF = 1: it goes in at the next entry, no window. */
	ASSERT_EQ(0, vcpu_queue_irq(self->vcpu, 0x73));
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_QUEUE);
	runs++;
	/* A window asked for, nothing queued: an exit, no injection. */
	self->vcpu->run->request_interrupt_window = 1;
	vcpu_run(self->vcpu);
	runs++;
	vcpu_assert_exit(self->vcpu, VMXLAB_EXIT_IRQ_WINDOW_OPEN);
	self->vcpu->run->request_interrupt_window = 0;
	vcpu_run_to_sync(self->vcpu, &self->uc, ST_REPORT);
	runs++;
	EXPECT_EQ(4, self->uc.args[1]);
	vcpu_stats_get(self->vcpu, &after);

	EXPECT_EQ(4, exits_since(&before, &after, VMX_EXIT_INTERRUPT_WINDOW))
		TH_LOG("window exits");
	EXPECT_EQ(4, after.injected_irqs - before.injected_irqs);
	EXPECT_EQ(0, exits_since(&before, &after, VMX_EXIT_NMI_WINDOW)) TH_LOG("NMI-window exits");
	EXPECT_EQ(runs, after.exits_to_userspace - before.exits_to_userspace);
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

/*
 * ICEBP (INT1, F1) raises a trap-like #DB: the handler sees the address
 * after the instruction, once (SDM Vol. 3A, "Debug Exception (#DB)";
 * Vol. 2B, INT1).  The second ICEBP goes through a copy of the IDT on a
 * page the guest never touched, so its delivery exits on an EPT violation
 * and must be re-injected with the instruction's length as well.
 */
#define ICEBP_IDT		FRESH(0)
#define ICEBP_NR		3

static __u64 icebp_next[ICEBP_NR];

/* A #DB that comes back means the handler returned onto the ICEBP. */
static void guest_icebp_handler(struct ex_regs *regs)
{
	guest_record_event(regs);
	if (guest_evlog.n > ICEBP_NR)
		GUEST_FAIL("ICEBP's #DB again: the handler returned onto it");
}

static void guest_icebp(__u64 fresh_idt, __u64 idt_limit)
{
	asm volatile("lea 1f(%%rip), %%r11\n\t"
		     "mov %%r11, %[n0]\n\t"
		     ".byte 0xf1\n"
		     "1:"
		     : [n0] "=m"(icebp_next[0]) : : "r11", "memory");
	guest_lidt(fresh_idt, idt_limit);
	asm volatile("lea 1f(%%rip), %%r11\n\t"
		     "mov %%r11, %[n1]\n\t"
		     ".byte 0xf1\n"
		     "1:\n\t"
		     "lea 2f(%%rip), %%r11\n\t"
		     "mov %%r11, %[n2]\n\t"
		     ".byte 0xf1\n"
		     "2:"
		     : [n1] "=m"(icebp_next[1]), [n2] "=m"(icebp_next[2])
		     : : "r11", "memory");
	GUEST_SYNC(ST_REPORT, guest_evlog.n);
}

TEST_F_TIMEOUT(irq, icebp_db_after_the_instruction, TIMEOUT_S)
{
	struct vmxlab_vcpu_stats before, after;
	struct vmxlab_sregs sregs;
	struct ev_log *log;
	__u64 *next;
	char *fresh;
	int i;

	if (shadow_rerun())
		SKIP(return, "shadow paging: counts EPT violations");
	self->vm = vm_create();
	vm_install_exception_handler(self->vm, DB_VECTOR, guest_icebp_handler);
	self->vcpu = vm_vcpu_add(self->vm, 0, guest_icebp);
	log = vm_evlog(self->vm);
	fresh = vm_add_region(self->vm, SLOT_TEST, FRESH_GPA,
			      FRESH_PAGES * GUEST_PAGE_SIZE, 0);
	vcpu_sregs_get(self->vcpu, &sregs);
	memcpy(fresh, addr_gpa2hva(self->vm, sregs.idt.base), sregs.idt.limit + 1);
	vcpu_args_set(self->vcpu, 2, ICEBP_IDT, (__u64)sregs.idt.limit);

	vcpu_stats_get(self->vcpu, &before);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_to_ucall(self->vcpu, &self->uc))
		TH_LOG("the guest never got past its ICEBPs");
	vcpu_stats_get(self->vcpu, &after);
	ASSERT_EQ(ST_REPORT, self->uc.args[0]);

	EXPECT_EQ(ICEBP_NR, self->uc.args[1]) TH_LOG("#DB handler runs");
	next = addr_gva2hva(self->vm, icebp_next);
	for (i = 0; i < ICEBP_NR && i < (int)log->n; i++) {
		EXPECT_EQ(DB_VECTOR, log->rec[i].vector);
		EXPECT_EQ(next[i], log->rec[i].rip) TH_LOG("ICEBP %d", i);
	}
	EXPECT_LE(1, exits_since(&before, &after, VMX_EXIT_EPT_VIOLATION))
		TH_LOG("the delivery through the fresh IDT did not exit");
	EXPECT_EQ(ICEBP_NR, exits_since(&before, &after, VMX_EXIT_EXCEPTION_NMI));
	EXPECT_EQ(0, after.failed_entries - before.failed_entries);
}

TEST_HARNESS_MAIN
