/*
 * The process sandbox, for hosts without a usable /dev/kvm.  The child is a
 * fresh program, not a fork of this one: a small static helper
 * (src/guest/process, embedded in this binary like the KVM guest image) is
 * exec'd from a sealed memfd with an empty environment, so nothing of the
 * host's memory, environment or argv exists in it.  It is given only the two
 * pipe ends and the shared region (a memfd), maps the region, enters
 * SECCOMP_MODE_STRICT (read, write, exit, sigreturn: nothing else, not even
 * mmap) and only then runs core.  It asks by writing one byte on a pipe after
 * filling the mailbox, exactly as the KVM guest rings its doorbell, and the
 * parent validates each request with the same server.  Every wait of the
 * parent -- for a request, for room to reply -- keeps the watchdog's
 * deadline.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
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

#include "host_signals.h"
#include "hostcall_server.h"
#include "report.h"

/* The helper (helper_blob.S).  Weak so that unit tests, which link the host
 * objects without it, still link. */
extern const uint8_t cordon_sandbox_helper[] __attribute__((weak));
extern const uint8_t cordon_sandbox_helper_end[] __attribute__((weak));

/* The child's descriptors (src/guest/process/process_main.c). */
#define CHILD_REPLY_FD 0
#define CHILD_REQUEST_FD 1
#define CHILD_REGION_FD 3
#define CHILD_HELPER_FD 4  /* close-on-exec: gone once the helper runs */

/* Strict mode forbids mmap and brk, so the child can use only what is
 * mapped once it starts: its image, its stack and the region.  RLIMIT_AS
 * caps the stack's growth too. */
#define CHILD_AS_SLACK (32ull << 20)

struct child_fds {
	int region, helper, reply_rd, request_wr;
};

static _Noreturn void child_main(const struct child_fds *f, uint64_t region_len,
				 const char *misbehave)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	struct rlimit as = { region_len + CHILD_AS_SLACK, region_len + CHILD_AS_SLACK };
	/* Out of the way first, then onto their numbers; everything else,
	 * stderr included, is closed: the helper can reach nothing but the
	 * host's server. */
	int r = fcntl(f->reply_rd, F_DUPFD, 10), w = fcntl(f->request_wr, F_DUPFD, 10);
	int m = fcntl(f->region, F_DUPFD, 10), h = fcntl(f->helper, F_DUPFD_CLOEXEC, 10);
	if (r < 0 || w < 0 || m < 0 || h < 0 || dup2(r, CHILD_REPLY_FD) < 0 ||
	    dup2(w, CHILD_REQUEST_FD) < 0 || dup2(m, CHILD_REGION_FD) < 0 ||
	    dup3(h, CHILD_HELPER_FD, O_CLOEXEC) < 0 ||
	    syscall(SYS_close_range, CHILD_HELPER_FD + 1, ~0U, 0) < 0 ||
	    close(2) < 0 || setrlimit(RLIMIT_AS, &as) < 0)
		_exit(127);
	char *argv[] = { "cordon-sandbox", (char *)misbehave, NULL };
	char *envp[] = { NULL };
	syscall(SYS_execveat, CHILD_HELPER_FD, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

/* vfork: the child only rearranges descriptors and limits, then executes
 * the helper; copying this process's page tables for that would be
 * wasted.  A function of its own, so no caller's variable lives in the
 * frame the child borrows; the fatal signals are blocked meanwhile, so
 * host_signals.c's handler never runs in the child (the helper starts with
 * them blocked, and is killed with the host anyway: PR_SET_PDEATHSIG). */
static __attribute__((noinline)) pid_t spawn_child(const struct child_fds *f,
						   uint64_t region_len,
						   const char *misbehave)
{
	sigset_t saved;
	host_signals_block(&saved);
	pid_t pid = vfork();
	if (pid == 0)
		child_main(f, region_len, misbehave);
	int err = errno;
	host_signals_restore(&saved);
	errno = err;
	return pid;
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
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		report_error("the sandbox could not start: the sandbox helper did not run");
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

static int timed_out(pid_t pid, uint32_t timeout_ms)
{
	kill_child(pid);
	report_error("the sandbox stopped: timed out after %u s", (timeout_ms + 999) / 1000);
	return 1;
}

static int stopped(pid_t pid, const char *why)
{
	kill_child(pid);
	report_error("the sandbox stopped: invalid request: %s", why);
	return 1;
}

/* Waits for fd to be ready for `events` until the deadline: 1 ready,
 * 0 time is up. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 1; /* let the read or write report it */
	}
}

/*
 * One byte per request, one byte per reply.  The reply pipe does not block:
 * a well-behaved child reads each reply before it asks again, so a reply
 * that finds no room means it rings without listening.
 */
static int serve(struct hc_server *srv, pid_t pid, int request_rd, int reply_wr,
		 uint32_t timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (!wait_fd(request_rd, POLLIN, deadline))
			return timed_out(pid, timeout_ms);
		char b;
		ssize_t got = read(request_rd, &b, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != 1)
			return child_gone(pid);
		switch (hc_server_handle(srv)) {
		case HC_SERVE_CONTINUE:
			break;
		case HC_SERVE_EXIT:
			kill_child(pid);
			return srv->exit_status;
		case HC_SERVE_VIOLATION:
			return stopped(pid, srv->violation);
		}
		ssize_t put;
		while ((put = write(reply_wr, &b, 1)) < 0 && errno == EINTR)
			;
		if (put < 0 && errno == EAGAIN)
			return stopped(pid, "the sandbox rings without reading its replies");
		if (put != 1)
			return child_gone(pid);
	}
}

#ifdef CORDON_TEST_HOOKS
/* build/cordon-test only: CORDON_TEST_MISBEHAVE=<kind> is handed to the
 * test build of the helper (src/guest/process/process_misbehave.c). */
static const char *misbehaviour(void)
{
	return getenv("CORDON_TEST_MISBEHAVE");
}
#else
static const char *misbehaviour(void)
{
	return NULL;
}
#endif

/* A sealed memfd holding the helper: what the child executes. */
static int helper_memfd(void)
{
	size_t len = (size_t)(cordon_sandbox_helper_end - cordon_sandbox_helper);
	int fd = memfd_create("cordon-sandbox", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, cordon_sandbox_helper + done, len - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sizes the region's memfd.  A file size limit (ulimit -f) covers a memfd
 * too, though it holds memory, not a file: the soft limit is lifted as far
 * as the hard one allows for this one call. */
static int size_region(int fd, uint64_t len)
{
	if (ftruncate(fd, (off_t)len) == 0)
		return 0;
	struct rlimit old;
	if (errno != EFBIG || getrlimit(RLIMIT_FSIZE, &old) < 0)
		return -1;
	struct rlimit lifted = { .rlim_cur = old.rlim_max, .rlim_max = old.rlim_max };
	if (setrlimit(RLIMIT_FSIZE, &lifted) < 0)
		return -1;
	int ret = ftruncate(fd, (off_t)len);
	int err = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	errno = err;
	return ret;
}

/* The region, the helper and the pipes; -1 with errno on failure. */
static int make_fds(struct child_fds *f, int parent[2], uint64_t len, uint8_t **region)
{
	int request[2] = { -1, -1 }, reply[2] = { -1, -1 };
	f->region = memfd_create("cordon-region", MFD_CLOEXEC);
	f->helper = helper_memfd();
	if (f->region < 0 || f->helper < 0 || size_region(f->region, len) < 0 ||
	    pipe2(request, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0 ||
	    fcntl(reply[1], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	f->reply_rd = reply[0];
	f->request_wr = request[1];
	parent[0] = request[0];
	parent[1] = reply[1];
	*region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f->region, 0);
	return *region == MAP_FAILED ? -1 : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int sandbox_process_run(const struct sandbox_limits *lim, const struct cordon_job *job,
			struct host_devices *devs, const struct hc_sinks *sinks)
{
	uint64_t len = lim->mem_bytes;
	struct child_fds f = { -1, -1, -1, -1 };
	int parent[2] = { -1, -1 };
	uint8_t *region = MAP_FAILED;
	int status = 1;
	if (!cordon_sandbox_helper) {
		report_error("the sandbox could not start: no sandbox helper in this build");
		return 1;
	}
	if (make_fds(&f, parent, len, &region) < 0) {
		report_error("the sandbox could not start: %s", strerror(errno));
		goto out;
	}
	memcpy(region + HC_REGION_JOB_OFF, job, sizeof(*job));
	fflush(stderr);
	pid_t pid = spawn_child(&f, len, misbehaviour());
	if (pid < 0) {
		report_error("the sandbox could not start: %s", strerror(errno));
		goto out;
	}
	close_fd(&f.reply_rd);
	close_fd(&f.request_wr);
	close_fd(&f.region);
	close_fd(&f.helper);
	signal(SIGPIPE, SIG_IGN); /* a dead child is seen as EOF/EPIPE */
	/* From here on this process can only serve the child. */
	int err = devices_confine(devs, pid);
	if (err < 0) {
		kill_child(pid);
		report_error("the sandbox could not start: confining the host: %s",
			     strerror(-err));
		goto out;
	}
	struct hc_server srv;
	hc_server_init(&srv, devs, sinks, region, len);
	status = serve(&srv, pid, parent[0], parent[1], lim->timeout_ms);
	hc_server_fini(&srv);
out:
	close_fd(&f.reply_rd);
	close_fd(&f.request_wr);
	close_fd(&f.region);
	close_fd(&f.helper);
	close_fd(&parent[0]);
	close_fd(&parent[1]);
	if (region != MAP_FAILED)
		munmap(region, len);
	return status;
}
