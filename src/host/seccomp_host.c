/*
 * The host's seccomp-bpf policy (see host_confine.h), one commented table.
 * The filter is built per run: the file calls that remain are checked
 * against the descriptors this run holds.
 *
 * Default action: SECCOMP_RET_TRAP.  The SIGSYS handler removes the
 * temporary output, names the refused call on stderr and exits with status
 * 1, so an unforeseen call in a rare host path is a clear error rather than
 * a silent death (the handler cannot be replaced afterwards: rt_sigaction is
 * not allowed).  Calls that libc makes on its own and that can fail
 * harmlessly (a terminal probe ioctl, an executable mapping), and file calls
 * with the wrong directory, get an errno instead.
 */
#include "host_confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host_signals.h"
#include "write_behind.h"

#define X32_SYSCALL_BIT 0x40000000u

enum rule {
	ALLOW,        /* any arguments */
	IOCTL_KVM,    /* KVM_RUN, KVM_GET_REGS, BLKGETSIZE64; others ENOTTY */
	NO_EXEC,      /* mmap/mprotect without PROT_EXEC; else EPERM */
	FCNTL_LOCK,   /* fcntl F_OFD_GETLK/F_OFD_SETLK only; else EPERM */
	REOPEN,       /* openat(proc_fd, "N", O_RDONLY or O_WRONLY, no O_CREAT) */
	AT_PROC,      /* arg 0 is proc_fd; else EACCES */
	AT_OUT_DIR,   /* arg 0 is out_dir_fd; else EACCES */
	RENAME_OUT,   /* args 0 and 2 are out_dir_fd; else EACCES */
	AT_DIR_FD,    /* arg 0 is a descriptor, not AT_FDCWD; else EACCES */
	KILL_CHILD,   /* kill(child, SIGKILL) only; else EPERM */
	TGKILL_SELF,  /* tgkill(our pid, any, SIGINT/SIGTERM/SIGHUP); else EPERM */
};

static const struct {
	int nr;
	enum rule rule;
} policy[] = {
	/* Running the guest: KVM_RUN on the vCPU fd, and KVM_GET_REGS to read
	 * a guest exception report.  BLKGETSIZE64 sizes a block-device input
	 * or output (host_io.c). */
	{ SYS_ioctl, IOCTL_KVM },
	/* Serving hostcalls on descriptors already held (host_io.c), and the
	 * process sandbox's pipes. */
	{ SYS_read, ALLOW },
	{ SYS_write, ALLOW },            /* also messages on stderr */
	{ SYS_pread64, ALLOW },
	{ SYS_pwrite64, ALLOW },
	{ SYS_lseek, ALLOW },            /* SEEK_DATA/SEEK_HOLE extents */
	{ SYS_fstat, ALLOW },
	{ SYS_newfstatat, ALLOW },       /* glibc's fstat(); metadata only */
	{ SYS_copy_file_range, ALLOW },
	{ SYS_ftruncate, ALLOW },
	{ SYS_fallocate, ALLOW },
	{ SYS_fdatasync, ALLOW },        /* committing the output */
	{ SYS_sync_file_range, ALLOW },  /* starting writeback early (host_io.c) */
	{ SYS_fsync, ALLOW },
	{ SYS_close, ALLOW },
	{ SYS_poll, ALLOW },             /* the process sandbox's doorbell */
	{ SYS_ppoll, ALLOW },
	/* Backing files are attached when the sandbox names them
	 * (backing_policy.c): resolved beneath a held directory with openat2
	 * (O_PATH; Landlock decides what may then be opened), placed with
	 * readlinkat on /proc/self/fd, reopened through /proc/self/fd.  A
	 * device output is reopened the same way (output.c). */
	{ SYS_openat2, AT_DIR_FD },
	{ SYS_openat, REOPEN },
	{ SYS_readlinkat, AT_PROC },
	/* Publishing or removing the temporary output, in its directory. */
	{ SYS_renameat, RENAME_OUT },
	{ SYS_renameat2, RENAME_OUT },
	{ SYS_unlinkat, AT_OUT_DIR },
	/* QEMU's image locks on the output and on backing files, taken as
	 * they are created or attached (image_lock.c). */
	{ SYS_fcntl, FCNTL_LOCK },
	/* malloc/free in the host's own paths. */
	{ SYS_brk, ALLOW },
	{ SYS_mmap, NO_EXEC },
	{ SYS_mprotect, NO_EXEC },
	{ SYS_munmap, ALLOW },           /* also tearing down guest memory */
	{ SYS_mremap, ALLOW },
	{ SYS_madvise, ALLOW },
	/* The watchdog (sandbox_kvm.c), the signal handler's re-raise
	 * (host_signals.c), blocking those signals around a rename. */
	{ SYS_rt_sigreturn, ALLOW },
	{ SYS_rt_sigprocmask, ALLOW },
	{ SYS_timer_settime, ALLOW },
	{ SYS_timer_delete, ALLOW },
	{ SYS_getpid, ALLOW },
	{ SYS_gettid, ALLOW },
	{ SYS_tgkill, TGKILL_SELF },
	/* The process sandbox's child: stopped and reaped. */
	{ SYS_kill, KILL_CHILD },
	{ SYS_wait4, ALLOW },
	{ SYS_clock_gettime, ALLOW },
	{ SYS_futex, ALLOW },            /* libc locks (stdio), the write-behind
					  * worker's hand-over (write_behind.c) */
	{ SYS_exit, ALLOW },
	{ SYS_exit_group, ALLOW },
};

#define POLICY_LEN (sizeof(policy) / sizeof(policy[0]))
/* Worst case: 6 header + 12 per rule + 1 default. */
#define PROG_MAX (7 + 12 * POLICY_LEN)

#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET(action) STMT(BPF_RET | BPF_K, action)
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARG(n) STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(n))
#define IF_EQ(k, jt, jf) JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(k), jt, jf)

struct prog {
	struct sock_filter ins[PROG_MAX];
	unsigned short len;
};

static void emit(struct prog *p, struct sock_filter ins)
{
	p->ins[p->len++] = ins;
}

/* An int argument that must equal fd (a descriptor that does not exist,
 * -1, matches nothing a valid call could pass: such calls fail anyway). */
static unsigned fd_arg(int fd)
{
	return fd < 0 ? 0x7fffffffu : (unsigned)fd;
}

/*
 * Each rule is a self-contained block entered with the syscall number in
 * the accumulator: on a mismatch it jumps over itself; on a match it ends
 * in a return.  Blocks that load an argument reload nothing afterwards, as
 * every path inside them returns.  Arguments that are ints are compared in
 * their low 32 bits, which is all the kernel uses of them.
 */
static void emit_rule(struct prog *p, int nr, enum rule r, const struct confine_plan *c)
{
	const unsigned deny = SECCOMP_RET_ERRNO | EACCES;
	switch (r) {
	case ALLOW:
		emit(p, IF_EQ(nr, 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case IOCTL_KVM:
		emit(p, IF_EQ(nr, 0, 6));
		emit(p, LOAD_ARG(1));
		emit(p, IF_EQ(KVM_RUN, 3, 0));
		emit(p, IF_EQ(KVM_GET_REGS, 2, 0));
		emit(p, IF_EQ(BLKGETSIZE64, 1, 0));
		emit(p, RET(SECCOMP_RET_ERRNO | ENOTTY));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case NO_EXEC:
		emit(p, IF_EQ(nr, 0, 4));
		emit(p, LOAD_ARG(2));
		emit(p, JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case FCNTL_LOCK:
		emit(p, IF_EQ(nr, 0, 5));
		emit(p, LOAD_ARG(1));
		emit(p, IF_EQ(F_OFD_GETLK, 2, 0));
		emit(p, IF_EQ(F_OFD_SETLK, 1, 0));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case REOPEN: /* dirfd == proc_fd, no O_CREAT, read-only or write-only */
		emit(p, IF_EQ(nr, 0, 9));
		emit(p, LOAD_ARG(0));
		emit(p, IF_EQ(fd_arg(c->proc_fd), 1, 0));
		emit(p, RET(deny));
		emit(p, LOAD_ARG(2));
		emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE));
		emit(p, IF_EQ(O_RDONLY, 1, 0));
		emit(p, IF_EQ(O_WRONLY, 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(deny));
		break;
	case AT_PROC:
	case AT_OUT_DIR:
		emit(p, IF_EQ(nr, 0, 4));
		emit(p, LOAD_ARG(0));
		emit(p, IF_EQ(fd_arg(r == AT_PROC ? c->proc_fd : c->out_dir_fd), 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(deny));
		break;
	case RENAME_OUT:
		emit(p, IF_EQ(nr, 0, 6));
		emit(p, LOAD_ARG(0));
		emit(p, IF_EQ(fd_arg(c->out_dir_fd), 0, 3));
		emit(p, LOAD_ARG(2));
		emit(p, IF_EQ(fd_arg(c->out_dir_fd), 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(deny));
		break;
	case AT_DIR_FD: /* a descriptor is >= 0: AT_FDCWD (-100) is not */
		emit(p, IF_EQ(nr, 0, 4));
		emit(p, LOAD_ARG(0));
		emit(p, JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 1, 0));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(deny));
		break;
	case KILL_CHILD:
		emit(p, IF_EQ(nr, 0, 6));
		emit(p, LOAD_ARG(0));
		emit(p, IF_EQ(c->child > 0 ? (unsigned)c->child : 0x7fffffffu, 0, 3));
		emit(p, LOAD_ARG(1));
		emit(p, IF_EQ(SIGKILL, 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		break;
	case TGKILL_SELF:
		emit(p, IF_EQ(nr, 0, 8));
		emit(p, LOAD_ARG(0));
		emit(p, IF_EQ((unsigned)getpid(), 0, 5));
		emit(p, LOAD_ARG(2));
		emit(p, IF_EQ(SIGINT, 2, 0));
		emit(p, IF_EQ(SIGTERM, 1, 0));
		emit(p, IF_EQ(SIGHUP, 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		break;
	}
}

static void build(struct prog *p, const struct confine_plan *c)
{
	p->len = 0;
	/* Only native x86-64 calls: another ABI would renumber everything. */
	emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(p, IF_EQ(AUDIT_ARCH_X86_64, 1, 0));
	emit(p, RET(SECCOMP_RET_KILL_PROCESS));
	emit(p, LOAD_NR);
	emit(p, JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
	emit(p, RET(SECCOMP_RET_KILL_PROCESS));
	for (size_t i = 0; i < POLICY_LEN; i++)
		emit_rule(p, policy[i].nr, policy[i].rule, c);
	emit(p, RET(SECCOMP_RET_TRAP));
}

/* Async-signal-safe: formats by hand, then raw write and exit_group (no
 * libc or sanitizer exit path that could make calls the filter refuses). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	host_signals_cleanup();
	char msg[96] = "cordon: internal error: the host's seccomp filter refused system call ";
	size_t n = strlen(msg);
	char digits[12];
	int d = 0;
	unsigned v = (unsigned)si->si_syscall;
	do
		digits[d++] = (char)('0' + v % 10);
	while ((v /= 10) && d < (int)sizeof(digits));
	while (d > 0 && n < sizeof(msg) - 1)
		msg[n++] = digits[--d];
	msg[n++] = '\n';
	syscall(SYS_write, STDERR_FILENO, msg, n);
	syscall(SYS_exit_group, SECCOMP_HOST_TRAP_STATUS);
}

int seccomp_host_install(const struct confine_plan *plan)
{
	static struct prog p; /* built once per process; ~4 KiB, off the stack */
	build(&p, plan);
	struct sock_fprog fprog = { .len = p.len, .filter = p.ins };
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
		    &fprog) != 0)
		return errno ? -errno : -ESRCH;
	return 0;
}

int host_confine(const struct confine_plan *plan)
{
	int ll = landlock_host_install(plan);
	(void)ll; /* best effort: what holds without it is in docs/sandbox.md */
	/* Here, so that it inherits Landlock's domain and gets the filter by
	 * TSYNC; without it writes are made in this thread (write_behind.h). */
	(void)write_behind_start();
	return seccomp_host_install(plan);
}
