/*
 * The KVM sandbox: a one-vCPU microVM running the guest image (core plus a
 * bare-metal runtime, src/guest/kvm) with all of guest memory shared as the
 * hostcall region.  This file owns the VM's lifetime and the one exit-reason
 * switch; kvm_boot.c lays out memory and the vCPU's entry state.
 *
 * A run ends in exactly one of three ways: the guest's exit hostcall (its
 * status is the result), a hostcall violation, or a stop (guest exception,
 * triple fault, watchdog, unexpected exit), each printed as
 * "cordon: the sandbox stopped: <reason>" with exit status 1.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../guest/kvm/kvm_layout.h"
#include "hostcall_server.h"
#include "kvm_vm.h"
#include "report.h"

#define KVM_API_VERSION_WANTED 12
#define KVM_TSS_ADDR 0xfffbd000ul /* VMX needs 3 pages for real-mode TSS;
				     above guest memory, never used by us */

/* The image built from src/guest by the Makefile (guest_blob.S).  Weak so
 * that unit tests, which link the host objects without it, still link;
 * without an image the KVM sandbox is simply not usable. */
extern const uint8_t cordon_guest_image[] __attribute__((weak));
extern const uint8_t cordon_guest_image_end[] __attribute__((weak));

enum run_state { RUN_ON, RUN_DONE, RUN_STOPPED };

struct vmm {
	struct kvm_vm vm;
	struct hc_server server;
	timer_t timer;
	bool timer_armed;
	uint32_t timeout_ms;
	char reason[KVM_ERR_MAX + 64];
};

/* ---- watchdog ------------------------------------------------------------
 * A POSIX timer signals this thread when the time is up.  The signal makes a
 * running KVM_RUN return EINTR; immediate_exit covers a signal that lands
 * just before the ioctl, so even a guest spinning without exits stops. */

static volatile sig_atomic_t watchdog_fired;
static struct kvm_run *volatile watchdog_run;

static void on_watchdog(int sig)
{
	(void)sig;
	watchdog_fired = 1;
	struct kvm_run *run = watchdog_run;
	if (run)
		run->immediate_exit = 1;
}

static int watchdog_arm(struct vmm *v)
{
	watchdog_fired = 0;
	watchdog_run = v->vm.run;
	if (v->timeout_ms == 0)
		return 0;
	struct sigaction sa = { .sa_handler = on_watchdog, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };
	sev._sigev_un._tid = gettid();
	struct itimerspec its = {
		.it_value = { .tv_sec = v->timeout_ms / 1000,
			      .tv_nsec = (long)(v->timeout_ms % 1000) * 1000000 },
	};
	if (sigaction(SIGALRM, &sa, NULL) < 0 ||
	    sigprocmask(SIG_UNBLOCK, &alrm, NULL) < 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &v->timer) < 0)
		return -errno;
	v->timer_armed = true;
	if (timer_settime(v->timer, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void watchdog_disarm(struct vmm *v)
{
	if (v->timer_armed)
		timer_delete(v->timer);
	v->timer_armed = false;
	watchdog_run = NULL;
}

/* ---- VM lifetime ---------------------------------------------------------- */

static void vm_init(struct kvm_vm *vm)
{
	*vm = (struct kvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
}

static void vm_destroy(struct kvm_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_len);
	if (vm->mem)
		munmap(vm->mem, vm->mem_len);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm_init(vm);
}

static int kvm_open(struct kvm_vm *vm, const char **step)
{
	*step = "open /dev/kvm";
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -errno;
	*step = "KVM_GET_API_VERSION";
	int ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION_WANTED)
		return ver < 0 ? -errno : -ENOTSUP;
	*step = "KVM_CREATE_VM";
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	return vm->vm_fd < 0 ? -errno : 0;
}

/* Guest memory: reserved, not touched.  Pages are materialised only as the
 * guest (or the host's preads into guest buffers) touch them. */
static int vm_add_memory(struct kvm_vm *vm, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	vm->mem = p;
	vm->mem_len = len;
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = len,
		.userspace_addr = (uint64_t)(uintptr_t)p,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

static int vm_add_vcpu(struct kvm_vm *vm)
{
	/* Only VMX uses it (real-mode emulation); harmless elsewhere. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return -errno;
	int n = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (n < (int)sizeof(struct kvm_run))
		return n < 0 ? -errno : -EINVAL;
	void *p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	vm->run = p;
	vm->run_len = (size_t)n;
	return 0;
}

/* Guest memory size: the limit rounded down to whole 2 MiB pages. */
static uint64_t guest_mem_len(const struct sandbox_limits *lim)
{
	uint64_t len = lim->mem_bytes - lim->mem_bytes % KVM_MEM_ALIGN;
	if (len < SANDBOX_MIN_MEM || len > SANDBOX_MAX_MEM || len > KVM_MEM_MAX)
		return 0;
	return len;
}

/*
 * The probe's VM is kept for the run that normally follows it: creating
 * and destroying a VM costs milliseconds on some hosts (tearing one down
 * is the slow part), several times the whole run of a small job.  The
 * probe can run on a thread of its own while the host opens the run's
 * files (sandbox_kvm_prewarm), together with the CPUID query, which is as
 * slow where KVM is nested; it is joined before the VM is used.
 */
static struct kvm_vm probed = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
static struct kvm_cpuid_table probed_cpuid;
static int probed_usable = -1;
static pthread_t prewarm_thread;
static bool prewarm_started;

static void probe(void)
{
	const char *step;
	probed_usable = 0;
	if (!cordon_guest_image)
		return; /* unit tests: no image, no KVM sandbox */
	if (kvm_open(&probed, &step) < 0) {
		vm_destroy(&probed);
		return;
	}
	kvm_supported_cpuid(probed.kvm_fd, &probed_cpuid);
	probed_usable = 1;
}

static void *prewarm_main(void *unused)
{
	(void)unused;
	probe();
	return NULL;
}

void sandbox_kvm_prewarm(void)
{
	pthread_attr_t attr;
	if (prewarm_started || probed_usable >= 0 || pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setstacksize(&attr, 64 << 10);
	prewarm_started = pthread_create(&prewarm_thread, &attr, prewarm_main, NULL) == 0;
	pthread_attr_destroy(&attr);
}

int sandbox_kvm_usable(void)
{
	if (prewarm_started) {
		pthread_join(prewarm_thread, NULL);
		prewarm_started = false;
	}
	if (probed_usable < 0)
		probe();
	return probed_usable == 1;
}

/* The probed VM if there is one, else a new one. */
static int kvm_take(struct kvm_vm *vm, const char **step)
{
	if (probed.vm_fd < 0)
		return kvm_open(vm, step);
	vm->kvm_fd = probed.kvm_fd;
	vm->vm_fd = probed.vm_fd;
	vm_init(&probed);
	return 0;
}

static int vm_create(struct vmm *v, const struct sandbox_limits *lim,
		     struct kvm_image *img, const struct cordon_job *job)
{
	uint64_t len = guest_mem_len(lim);
	const char *step = "KVM";
	int err;
	if (!len) {
		snprintf(v->reason, sizeof(v->reason), "guest memory of %llu bytes is "
			 "out of range", (unsigned long long)lim->mem_bytes);
		return -1;
	}
	if (kvm_image_check(img, len, v->reason, sizeof(v->reason)) < 0)
		return -1;
	if ((err = kvm_take(&v->vm, &step)) < 0)
		goto fail;
	step = "guest memory";
	if ((err = vm_add_memory(&v->vm, len)) < 0)
		goto fail;
	kvm_boot_load(&v->vm, img, job);
	step = "KVM_CREATE_VCPU";
	if ((err = vm_add_vcpu(&v->vm)) < 0)
		goto fail;
	step = "vCPU registers";
	if (!probed_cpuid.valid)
		kvm_supported_cpuid(v->vm.kvm_fd, &probed_cpuid);
	if ((err = kvm_boot_vcpu(&v->vm, &probed_cpuid)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(v->reason, sizeof(v->reason), "%s: %s", step, strerror(-err));
	return -1;
}

/* ---- exits -------------------------------------------------------------- */

static const char *const vector_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range exceeded", "invalid opcode", "device not available",
	"double fault", "coprocessor segment overrun", "invalid TSS",
	"segment not present", "stack-segment fault", "general protection",
	"page fault", "reserved", "x87 floating-point error",
	"alignment check", "machine check", "SIMD floating-point error",
	"virtualization exception", "control protection", "reserved",
	"reserved", "reserved", "reserved", "reserved", "reserved",
	"hypervisor injection", "VMM communication", "security exception",
	"reserved",
};

static enum run_state stop(struct vmm *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum run_state stop(struct vmm *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	return RUN_STOPPED;
}

/* The guest's exception handler (boot.S) left the details in r8..r11.  They
 * are the guest's word, so only printed, and the vector is range-checked. */
static enum run_state guest_fault(struct vmm *v)
{
	struct kvm_regs r;
	if (ioctl(v->vm.vcpu_fd, KVM_GET_REGS, &r) < 0)
		return stop(v, "guest exception (registers unreadable: %s)", strerror(errno));
	const char *name = r.r8 < 32 ? vector_names[r.r8] : "unknown";
	char extra[64] = "";
	if (r.r8 == 14)
		snprintf(extra, sizeof(extra), " address 0x%llx error code 0x%llx",
			 r.r11, r.r9);
	else if (r.r9)
		snprintf(extra, sizeof(extra), " error code 0x%llx", r.r9);
	return stop(v, "guest exception %llu (%s) at rip 0x%llx%s", r.r8, name,
		    r.r10, extra);
}

static enum run_state doorbell(struct vmm *v)
{
	switch (hc_server_handle(&v->server)) {
	case HC_SERVE_CONTINUE:
		return RUN_ON;
	case HC_SERVE_EXIT:
		return RUN_DONE;
	default:
		return stop(v, "%s", v->server.violation);
	}
}

static enum run_state exit_io(struct vmm *v)
{
	const struct kvm_run *run = v->vm.run;
	bool plain_out = run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1 &&
			 run->io.count == 1;
	if (plain_out && run->io.port == HC_KVM_DOORBELL_PORT)
		return doorbell(v);
	if (plain_out && run->io.port == KVM_FAULT_PORT)
		return guest_fault(v);
	return stop(v, "unexpected port I/O: %s of %u byte(s) x%u at port 0x%x",
		    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
		    run->io.size, run->io.count, run->io.port);
}

/* Usually an instruction KVM had to emulate and could not: say where. */
static enum run_state internal_error(struct vmm *v)
{
	struct kvm_regs r;
	unsigned long long rip = 0;
	if (ioctl(v->vm.vcpu_fd, KVM_GET_REGS, &r) == 0)
		rip = r.rip;
	return stop(v, "KVM internal error %u at rip 0x%llx", v->vm.run->internal.suberror,
		    rip);
}

static enum run_state vm_exit(struct vmm *v)
{
	const struct kvm_run *run = v->vm.run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return exit_io(v);
	case KVM_EXIT_MMIO:
		return stop(v, "access to guest-physical 0x%llx outside guest memory",
			    (unsigned long long)run->mmio.phys_addr);
	case KVM_EXIT_SHUTDOWN:
		return stop(v, "triple fault");
	case KVM_EXIT_HLT:
		return stop(v, "the guest halted without finishing");
	case KVM_EXIT_FAIL_ENTRY:
		return stop(v, "KVM could not enter the guest (reason 0x%llx)",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return internal_error(v);
	default:
		return stop(v, "unexpected VM exit %u", run->exit_reason);
	}
}

static enum run_state timed_out(struct vmm *v)
{
	uint32_t ms = v->timeout_ms;
	if (ms % 1000)
		return stop(v, "timed out after %u.%03u s", ms / 1000, ms % 1000);
	return stop(v, "timed out after %u s", ms / 1000);
}

static enum run_state run_once(struct vmm *v)
{
	if (ioctl(v->vm.vcpu_fd, KVM_RUN, 0) < 0) {
		if (watchdog_fired)
			return timed_out(v);
		if (errno == EINTR || errno == EAGAIN)
			return RUN_ON; /* some other signal: go back in */
		return stop(v, "KVM_RUN: %s", strerror(errno));
	}
	enum run_state st = vm_exit(v);
	/* A guest that keeps exiting still meets the deadline here. */
	if (st == RUN_ON && watchdog_fired)
		return timed_out(v);
	return st;
}

static enum run_state vmm_loop(struct vmm *v)
{
	enum run_state st;
	do
		st = run_once(v);
	while (st == RUN_ON);
	return st;
}

/* ---- the image, and the test build's hooks ------------------------------- */

#ifdef CORDON_TEST_HOOKS
/*
 * Only in build/cordon-test (-DCORDON_TEST_HOOKS), never in build/cordon:
 *   CORDON_TEST_GUEST=path   run this guest image instead of the embedded one
 *   CORDON_TEST_TIMEOUT_MS=n override the watchdog
 *   CORDON_TEST_TIMING=1     print setup and run times on stderr
 */
#define TEST_IMAGE_MAX (16u << 20)

static void *test_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	uint8_t *buf = malloc(TEST_IMAGE_MAX);
	ssize_t n = 0, got = 0;
	while (buf && got < (ssize_t)TEST_IMAGE_MAX &&
	       (n = read(fd, buf + got, TEST_IMAGE_MAX - (size_t)got)) > 0)
		got += n;
	close(fd);
	if (!buf || n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

static int test_hooks(struct kvm_image *img, struct sandbox_limits *lim,
		      void **owned)
{
	const char *t = getenv("CORDON_TEST_TIMEOUT_MS");
	if (t)
		lim->timeout_ms = (uint32_t)strtoul(t, NULL, 10);
	const char *path = getenv("CORDON_TEST_GUEST");
	if (!path)
		return 0;
	*owned = test_read_file(path, &img->len);
	if (!*owned) {
		report_error("cannot read test guest '%s'", path);
		return -1;
	}
	img->data = *owned;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_timing(const char *what, uint64_t since)
{
	if (getenv("CORDON_TEST_TIMING"))
		fprintf(stderr, "cordon-test: kvm %s %llu us\n", what,
			(unsigned long long)(now_us() - since));
}

/* CORDON_TEST_CR4=1: the hardening bits CPUID offered and those CR4 holds,
 * read back from KVM, so a test can see that every one offered is on. */
static void test_cr4(const struct kvm_vm *vm)
{
	struct kvm_sregs s;
	if (!getenv("CORDON_TEST_CR4") || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return;
	const uint64_t umip = 1ull << 11, smep = 1ull << 20, smap = 1ull << 21;
	fprintf(stderr, "cordon-test: kvm offered umip=%d smep=%d smap=%d; "
		"cr4 umip=%d smep=%d smap=%d\n",
		!!(vm->cr4_hardening & umip), !!(vm->cr4_hardening & smep),
		!!(vm->cr4_hardening & smap), !!(s.cr4 & umip), !!(s.cr4 & smep),
		!!(s.cr4 & smap));
}
#else
static void test_cr4(const struct kvm_vm *vm) { (void)vm; }
static int test_hooks(struct kvm_image *img, struct sandbox_limits *lim,
		      void **owned)
{
	(void)img, (void)lim, (void)owned;
	return 0;
}
static uint64_t now_us(void) { return 0; }
static void test_timing(const char *what, uint64_t since) { (void)what, (void)since; }
#endif

static int guest_image(struct kvm_image *img, struct sandbox_limits *lim,
		       void **owned)
{
	*owned = NULL;
	*img = (struct kvm_image){ 0 };
	if (cordon_guest_image) {
		img->data = cordon_guest_image;
		img->len = (size_t)(cordon_guest_image_end - cordon_guest_image);
	}
	if (test_hooks(img, lim, owned) < 0)
		return -1;
	if (!img->data) {
		report_error("the sandbox could not start: no guest image in this build");
		return -1;
	}
	return 0;
}

/* ---- a run -------------------------------------------------------------- */

/* Everything up to the first KVM_RUN; on failure the reason is printed. */
static int vmm_setup(struct vmm *v, const struct sandbox_limits *lim,
		     struct kvm_image *img, const struct cordon_job *job,
		     struct host_devices *devs, const struct hc_sinks *sinks)
{
	v->timeout_ms = lim->timeout_ms;
	if (vm_create(v, lim, img, job) < 0) {
		report_error("the sandbox could not start: %s", v->reason);
		return -1;
	}
	test_cr4(&v->vm);
	hc_server_init(&v->server, devs, sinks, v->vm.mem, v->vm.mem_len);
	v->server.buf_floor = img->end; /* the guest's heap; checked by vm_create */
	int err = watchdog_arm(v);
	if (err < 0) {
		report_error("the sandbox could not start: watchdog: %s",
			strerror(-err));
		return -1;
	}
	/* From here on this process can only serve the guest. */
	err = devices_confine(devs, 0);
	if (err < 0) {
		report_error("the sandbox could not start: confining the host: %s",
			strerror(-err));
		return -1;
	}
	return 0;
}

int sandbox_kvm_run(const struct sandbox_limits *lim, const struct cordon_job *job,
		    struct host_devices *devs, const struct hc_sinks *sinks)
{
	struct sandbox_limits l = *lim;
	struct kvm_image img;
	void *owned;
	if (guest_image(&img, &l, &owned) < 0)
		return 1;

	struct vmm v = { 0 };
	vm_init(&v.vm);
	uint64_t t0 = now_us();
	enum run_state st = RUN_STOPPED;
	bool started = vmm_setup(&v, &l, &img, job, devs, sinks) == 0;
	test_timing("setup", t0);
	if (started)
		st = vmm_loop(&v);
	test_timing("setup+run", t0);
	watchdog_disarm(&v);
	hc_server_fini(&v.server); /* before guest memory goes: a write behind reads it */
	vm_destroy(&v.vm);
	free(owned);

	if (!started)
		return 1;
	if (st == RUN_STOPPED) {
		report_error("the sandbox stopped: %s", v.reason);
		return 1;
	}
	return v.server.exit_status == 0 ? 0 : 1;
}
