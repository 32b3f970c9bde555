/*
 * The process sandbox, for hosts without a usable /dev/kvm.  A forked child
 * keeps only two pipe ends, enters SECCOMP_MODE_STRICT (read, write, exit,
 * sigreturn: nothing else, not even mmap) and only then runs core.  Buffers
 * live in a MAP_SHARED region mapped before the fork, so the parent serves
 * reads and writes straight into it; the child asks by writing one byte on
 * a pipe after filling the mailbox, exactly as the KVM guest rings its
 * doorbell, and the parent validates each request with the same server.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "../guest/sandbox_entry.h"
#include "hostcall_server.h"
#include "sandbox_misbehave.h"

/* The child's two descriptors after it drops everything else. */
#define CHILD_REPLY_FD 0
#define CHILD_REQUEST_FD 1

static _Noreturn void child_exit(int status)
{
	/* exit_group is not allowed in strict mode; exit is. */
	for (;;)
		syscall(SYS_exit, status);
}

/* Strict mode already forbids mmap and brk, so the child can use only what
 * is mapped at the fork: the shared region and its stack.  RLIMIT_AS caps
 * the stack's growth too, at what is mapped now plus STACK_SLACK. */
#define STACK_SLACK (8ull << 20)

static void cap_address_space(void)
{
	char buf[64] = { 0 };
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unsigned long long pages = n > 0 ? strtoull(buf, NULL, 10) : 0;
	if (pages == 0)
		return;
	uint64_t cap = pages * (uint64_t)sysconf(_SC_PAGESIZE) + STACK_SLACK;
	struct rlimit rl = { cap, cap };
	setrlimit(RLIMIT_AS, &rl);
}

static void child_ring(void *unused)
{
	(void)unused;
	char b = 1;
	if (write(CHILD_REQUEST_FD, &b, 1) != 1 || read(CHILD_REPLY_FD, &b, 1) != 1)
		child_exit(1);
}

static _Noreturn void child_main(uint8_t *region, uint64_t len, int reply_rd,
				 int request_wr, int misbehave)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	/* Move the pipe ends out of the way, then onto 0 and 1, and close
	 * every other descriptor: the input files must not be reachable. */
	int r = fcntl(reply_rd, F_DUPFD, 10), w = fcntl(request_wr, F_DUPFD, 10);
	if (r < 0 || w < 0 || dup2(r, CHILD_REPLY_FD) < 0 || dup2(w, CHILD_REQUEST_FD) < 0)
		child_exit(1);
	cap_address_space();
	if (syscall(SYS_close_range, 2, ~0U, 0) < 0)
		child_exit(1);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) < 0)
		child_exit(1);

	struct hc_client client;
	hc_client_init(&client, region, len, child_ring, NULL);
	if (misbehave)
		sandbox_misbehave(&client, misbehave);
	sandbox_entry(&client, region + HC_REGION_FREE_OFF, len - HC_REGION_FREE_OFF);
	child_exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int child_gone(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		report_error("the sandbox stopped: the sandboxed process was killed "
			     "(a forbidden system call)");
	else if (WIFSIGNALED(st))
		report_error("the sandbox stopped: the sandboxed process crashed "
			     "(signal %d, %s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		report_error("the sandbox stopped: the sandboxed process exited "
			     "without a result");
	return 1;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int serve(struct hc_server *srv, pid_t pid, int request_rd, int reply_wr,
		 uint32_t timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = request_rd, .events = POLLIN };
		int n = left > 0 ? poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			kill_child(pid);
			report_error("the sandbox stopped: timed out after %u s",
				     (timeout_ms + 999) / 1000);
			return 1;
		}
		char b;
		ssize_t got = read(request_rd, &b, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != 1)
			return child_gone(pid);
		switch (hc_server_handle(srv)) {
		case HC_SERVE_CONTINUE:
			if (write(reply_wr, &b, 1) != 1)
				return child_gone(pid);
			break;
		case HC_SERVE_EXIT:
			kill_child(pid);
			return srv->exit_status;
		case HC_SERVE_VIOLATION:
			kill_child(pid);
			report_error("the sandbox stopped: invalid request: %s",
				     srv->violation);
			return 1;
		}
	}
}

int sandbox_process_run(const struct sandbox_limits *lim,
			const struct cordon_job *job, struct host_devices *devs)
{
	uint64_t len = lim->mem_bytes;
	int misbehave = sandbox_misbehave_from_env();
	uint8_t *region = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		report_error("the sandbox could not start: %s", strerror(errno));
		return 1;
	}
	memcpy(region + HC_REGION_JOB_OFF, job, sizeof(*job));

	int request[2], reply[2];
	if (pipe2(request, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0) {
		report_error("the sandbox could not start: %s", strerror(errno));
		munmap(region, len);
		return 1;
	}
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0)
		child_main(region, len, reply[0], request[1], misbehave);
	close(request[1]);
	close(reply[0]);
	int status = 1;
	if (pid < 0) {
		report_error("the sandbox could not start: %s", strerror(errno));
	} else {
		struct hc_server srv;
		hc_server_init(&srv, devs, region, len);
		signal(SIGPIPE, SIG_IGN); /* a dead child is seen as EOF/EPIPE */
		status = serve(&srv, pid, request[0], reply[1], lim->timeout_ms);
	}
	close(request[0]);
	close(reply[1]);
	munmap(region, len);
	return status;
}
