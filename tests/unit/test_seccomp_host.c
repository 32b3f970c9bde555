/*
 * The host's seccomp policy (src/host/seccomp_host.c): in a forked child,
 * install it, show that allowed calls work and argument-filtered ones get
 * their errno, then that a forbidden call ends the process with the
 * filter's message.  After installing, the child makes raw system calls
 * only, down to exit_group: the sanitizer runtime's own exit path makes
 * calls (sigaltstack) the filter refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/host/seccomp_host.h"

struct child {
	int status;
	char out[64];  /* what the child reported on its pipe */
	char err[256]; /* its stderr */
};

static void put(int fd, char c)
{
	syscall(SYS_write, fd, &c, 1);
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Runs body(fd) confined in a child; fd is the report pipe. */
static void run_confined(void (*body)(int fd), struct child *c)
{
	int out[2], err[2];
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(err[0]);
		dup2(err[1], STDERR_FILENO);
		if (seccomp_host_install() != 0)
			_exit(99);
		body(out[1]);
		syscall(SYS_exit_group, 0);
	}
	close(out[1]);
	close(err[1]);
	read_all(out[0], c->out, sizeof(c->out));
	read_all(err[0], c->err, sizeof(c->err));
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

static void allowed_calls(int fd)
{
	/* write on a held descriptor: allowed. */
	put(fd, 'w');
	/* An ioctl other than KVM_RUN/KVM_GET_REGS/BLKGETSIZE64: ENOTTY. */
	struct termios t;
	if (syscall(SYS_ioctl, fd, TCGETS, &t) == -1 && errno == ENOTTY)
		put(fd, 'i');
	/* Opening an existing file read-write, or creating without O_EXCL:
	 * EACCES.  Read-only (backing files) is allowed. */
	if (syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDWR) == -1 && errno == EACCES &&
	    syscall(SYS_openat, AT_FDCWD, "/tmp/cordon-seccomp-test", O_RDONLY | O_CREAT, 0600) == -1 &&
	    errno == EACCES)
		put(fd, 'o');
	long ro = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	if (ro >= 0 && syscall(SYS_close, ro) == 0)
		put(fd, 'r');
	/* Executable memory: EPERM. */
	if (syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1 && errno == EPERM)
		put(fd, 'x');
	/* Plain anonymous memory (malloc's way): allowed. */
	long p = syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != -1 && syscall(SYS_munmap, p, 4096) == 0)
		put(fd, 'm');
}

static void test_allowed_and_errno(void **state)
{
	(void)state;
	struct child c;
	run_confined(allowed_calls, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 0);
	assert_string_equal(c.out, "wiorxm");
	assert_string_equal(c.err, "");
}

static void socket_call(int fd)
{
	put(fd, 'a');
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	put(fd, 'b'); /* never reached */
}

static void test_socket_refused(void **state)
{
	(void)state;
	struct child c;
	run_confined(socket_call, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), SECCOMP_HOST_TRAP_STATUS);
	assert_string_equal(c.out, "a");
	char want[96];
	snprintf(want, sizeof(want), "refused system call %d\n", SYS_socket);
	assert_non_null(strstr(c.err, want));
}

static void execve_call(int fd)
{
	char *argv[] = { "/bin/true", NULL };
	put(fd, 'a');
	syscall(SYS_execve, "/bin/true", argv, argv + 1);
	put(fd, 'b');
}

static void test_execve_refused(void **state)
{
	(void)state;
	struct child c;
	run_confined(execve_call, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), SECCOMP_HOST_TRAP_STATUS);
	assert_string_equal(c.out, "a");
	assert_non_null(strstr(c.err, "the host's seccomp filter refused system call"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_and_errno),
		cmocka_unit_test(test_socket_refused),
		cmocka_unit_test(test_execve_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
