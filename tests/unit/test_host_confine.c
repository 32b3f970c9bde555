/*
 * The host's confinement (src/host/host_confine.h): in a forked child, set
 * up what a run holds (an input directory, an allowed directory, the
 * output's directory with its temporary file, /proc/self/fd), confine, and
 * show for each rule a call it allows and one it refuses -- including what
 * only Landlock can refuse (seccomp cannot read a path).  Refused calls of a
 * kind the table does not list end the process with the filter's message.
 * After confining, the child makes raw system calls only, down to
 * exit_group: the sanitizer runtime's own exit path makes calls the filter
 * refuses.
 *
 *   root/in/base.raw     a backing file may be read from here
 *   root/allow/a.raw     and from here (--backing-allow)
 *   root/out/            the output's directory: .tmp, then out.raw
 *   root/other/          nothing here may be read, written, made or removed
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/host/host_confine.h"
#include "../../src/host/host_signals.h"

static char root[PATH_MAX];

struct dirs {
	int in, allow, out, proc;
};

struct child {
	int status;
	char out[128]; /* what the child reported on its pipe */
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

static void path(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/%s", root, rel);
}

static void write_file(const char *rel, const char *content)
{
	char p[PATH_MAX + 64];
	path(p, sizeof(p), rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *slurp(const char *rel)
{
	static char buf[64];
	char p[PATH_MAX + 64];
	path(p, sizeof(p), rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int open_dir(const char *rel)
{
	char p[PATH_MAX + 64];
	path(p, sizeof(p), rel);
	return open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/cordon-confine-XXXXXX");
	assert_non_null(mkdtemp(root));
	static const char *const dirs[] = { "in", "allow", "out", "other" };
	for (size_t i = 0; i < 4; i++) {
		char p[PATH_MAX + 64];
		path(p, sizeof(p), dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	write_file("in/base.raw", "base");
	write_file("allow/a.raw", "allowed");
	write_file("out/.tmp", "temporary");
	write_file("out/.tmp2", "temporary 2");
	write_file("other/secret", "secret");
	write_file("other/victim", "precious");
	write_file("other/victim2", "precious");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static long openat2_path(int dirfd, const char *rel)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	return syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

/* Reopens an O_PATH descriptor through /proc/self/fd, as the host does. */
static long reopen(const struct dirs *d, long pfd, int flags)
{
	char num[16];
	snprintf(num, sizeof(num), "%ld", pfd);
	return syscall(SYS_openat, d->proc, num, flags);
}

static bool refused_with(long ret, int err)
{
	return ret == -1 && errno == err;
}

/* Runs body(d, fd) confined in a child; fd is the report pipe. */
static void run_confined(void (*body)(const struct dirs *d, int fd), struct child *c)
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
		struct dirs d = { open_dir("in"), open_dir("allow"), open_dir("out"),
				  open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC) };
		int read_dirs[] = { d.in, d.allow };
		struct confine_plan plan = {
			.proc_fd = d.proc, .out_dir_fd = d.out, .out_device_fd = -1,
			.read_dirs = read_dirs, .n_read_dirs = 2,
		};
		if (host_confine(&plan) != 0)
			_exit(99);
		body(&d, out[1]);
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

static void seccomp_rules(const struct dirs *d, int fd)
{
	/* write on a held descriptor */
	put(fd, 'w');
	/* ioctl: only KVM_RUN, KVM_GET_REGS, BLKGETSIZE64 */
	struct termios t;
	if (refused_with(syscall(SYS_ioctl, fd, TCGETS, &t), ENOTTY))
		put(fd, 'i');
	/* openat2 beneath a held directory, not relative to the cwd */
	long pfd = openat2_path(d->in, "base.raw");
	if (pfd >= 0)
		put(fd, 'p');
	if (refused_with(openat2_path(AT_FDCWD, "/etc/passwd"), EACCES))
		put(fd, 'P');
	/* openat: only reopening through /proc/self/fd, read-only or
	 * write-only, never creating or truncating */
	if (pfd >= 0 && reopen(d, pfd, O_RDONLY) >= 0)
		put(fd, 'r');
	if (refused_with(syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY), EACCES))
		put(fd, 'o');
	if (pfd >= 0 && refused_with(reopen(d, pfd, O_RDWR), EACCES) &&
	    refused_with(reopen(d, pfd, O_WRONLY | O_TRUNC), EACCES))
		put(fd, 'W');
	if (refused_with(syscall(SYS_openat, d->out, "new", O_WRONLY | O_CREAT | O_EXCL, 0644),
			 EACCES))
		put(fd, 'c');
	/* readlinkat: /proc/self/fd only */
	char buf[PATH_MAX];
	char num[16];
	snprintf(num, sizeof(num), "%ld", pfd);
	if (syscall(SYS_readlinkat, d->proc, num, buf, sizeof(buf)) > 0)
		put(fd, 'k');
	if (refused_with(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, sizeof(buf)),
			 EACCES))
		put(fd, 'K');
	/* rename and unlink: in the output's directory only */
	if (syscall(SYS_renameat, d->out, ".tmp", d->out, "out.raw") == 0)
		put(fd, 'R');
	if (refused_with(syscall(SYS_renameat, d->out, ".tmp2", AT_FDCWD, "/tmp/x"), EACCES))
		put(fd, 'n');
	if (syscall(SYS_unlinkat, d->out, ".tmp2", 0) == 0)
		put(fd, 'U');
	if (refused_with(syscall(SYS_unlinkat, AT_FDCWD, "/tmp/cordon-no-such", 0), EACCES))
		put(fd, 'u');
	/* memory: never executable */
	if (refused_with(syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EPERM))
		put(fd, 'x');
	long p = syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != -1 && syscall(SYS_munmap, p, 4096) == 0)
		put(fd, 'm');
	/* signals: the sandbox child only (none here), ourselves only */
	if (refused_with(syscall(SYS_kill, 1, SIGKILL), EPERM))
		put(fd, '!');
	if (refused_with(syscall(SYS_tgkill, 1, 1, SIGTERM), EPERM))
		put(fd, 'g');
}

static void test_seccomp_allows_and_refuses(void **state)
{
	(void)state;
	struct child c;
	run_confined(seccomp_rules, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 0);
	assert_string_equal(c.out, "wipProWckKRnUuxm!g");
	assert_string_equal(c.err, "");
	assert_string_equal(slurp("out/out.raw"), "temporary");
	assert_null(slurp("out/.tmp2"));
}

/* What seccomp cannot see (a path) Landlock refuses: the dirfd is a held
 * directory, the path leads elsewhere. */
static void landlock_rules(const struct dirs *d, int fd)
{
	long ok = openat2_path(d->allow, "a.raw");
	if (ok >= 0 && reopen(d, ok, O_RDONLY) >= 0)
		put(fd, 'a');
	long out = openat2_path(d->in, "../other/secret");
	if (out >= 0 && refused_with(reopen(d, out, O_RDONLY), EACCES))
		put(fd, 's');
	long abs = openat2_path(d->in, "/etc/passwd");
	if (abs >= 0 && refused_with(reopen(d, abs, O_RDONLY), EACCES))
		put(fd, 'e');
	long victim = openat2_path(d->in, "../other/victim");
	if (victim >= 0 && refused_with(reopen(d, victim, O_WRONLY), EACCES))
		put(fd, 'v');
	/* The output's directory: names may be moved and removed there, but
	 * nothing else may be done to its files. */
	long tmp = openat2_path(d->out, ".tmp");
	if (tmp >= 0 && refused_with(reopen(d, tmp, O_RDONLY), EACCES))
		put(fd, 't');
}

static void test_landlock_fences_paths(void **state)
{
	(void)state;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1u);
	if (abi < 1)
		skip(); /* this kernel has no Landlock: seccomp alone holds */
	struct child c;
	run_confined(landlock_rules, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 0);
	assert_string_equal(c.out, "asevt");
	assert_string_equal(slurp("other/victim"), "precious");
}

static void socket_call(const struct dirs *d, int fd)
{
	(void)d;
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

/* Path-based calls are not in the table at all. */
static void path_calls(const struct dirs *d, int fd)
{
	(void)d;
	put(fd, 'a');
	syscall(SYS_unlink, "/tmp/cordon-no-such");
	put(fd, 'b');
}

static void test_path_calls_refused(void **state)
{
	(void)state;
	struct child c;
	run_confined(path_calls, &c);
	assert_int_equal(WEXITSTATUS(c.status), SECCOMP_HOST_TRAP_STATUS);
	assert_string_equal(c.out, "a");
	assert_non_null(strstr(c.err, "the host's seccomp filter refused system call"));
}

/* The trap removes the temporary output before it exits. */
static void trap_with_temp(const struct dirs *d, int fd)
{
	host_signals_track(d->out, ".tmp");
	put(fd, 'a');
	char *argv[] = { "/bin/true", NULL };
	syscall(SYS_execve, "/bin/true", argv, argv + 1);
	put(fd, 'b');
}

static void test_trap_removes_the_temporary_output(void **state)
{
	(void)state;
	struct child c;
	run_confined(trap_with_temp, &c);
	assert_int_equal(WEXITSTATUS(c.status), SECCOMP_HOST_TRAP_STATUS);
	assert_string_equal(c.out, "a");
	assert_null(slurp("out/.tmp"));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_seccomp_allows_and_refuses),
		T(test_landlock_fences_paths),
		T(test_socket_refused),
		T(test_path_calls_refused),
		T(test_trap_removes_the_temporary_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
