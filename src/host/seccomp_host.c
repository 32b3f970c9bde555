/*
 * The host process's seccomp-bpf policy, installed after KVM setup.
 *
 * If a guest request ever subverted the host (a bug in hostcall_server.c or
 * in KVM's exit handling), this is what the attacker is left with: running
 * the vCPU, I/O on descriptors already open, creating a *new* file (the
 * output's temporary), opening an existing file write-only (an output that
 * is a block device), renaming/removing, and exiting.  No new sockets,
 * processes, executable memory, or reading of files not already open.
 *
 * Default action: SECCOMP_RET_TRAP.  The SIGSYS handler names the refused
 * call on stderr and exits with status 1, so an unforeseen call in a rare
 * host path is a clear error rather than a silent death (the handler cannot
 * be replaced afterwards: rt_sigaction is not allowed).  Calls that libc
 * makes on its own and that can fail harmlessly (a terminal probe ioctl,
 * an executable mapping) get an errno instead.
 */
#include "seccomp_host.h"

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

#define X32_SYSCALL_BIT 0x40000000u

enum rule {
	ALLOW,        /* any arguments */
	IOCTL_KVM,    /* KVM_RUN, KVM_GET_REGS, BLKGETSIZE64; others ENOTTY */
	NO_EXEC,      /* mmap/mprotect without PROT_EXEC; else EPERM */
	OPEN_FILES,   /* openat: a new file, write-only, or read-only without
		       * O_CREAT; else EACCES */
	FCNTL_LOCK,   /* fcntl F_OFD_GETLK/F_OFD_SETLK only; else EPERM */
};

static const struct {
	int nr;
	enum rule rule;
} policy[] = {
	/* Running the guest: KVM_RUN on the vCPU fd, and KVM_GET_REGS to read
	 * a guest exception report.  BLKGETSIZE64 sizes a block-device input
	 * or output (host_io.c). */
	{ SYS_ioctl, IOCTL_KVM },
	/* Serving hostcalls on descriptors already held (host_io.c). */
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
	/* The output is created lazily on the first truncate hostcall, in this
	 * process (devices.c): mkostemp beside the target, fchmod/fchown to
	 * the old file's owner and mode, rename over the target on success,
	 * unlink on failure.  getrandom names the temporary file. */
	{ SYS_openat, OPEN_FILES },
	{ SYS_getrandom, ALLOW },
	{ SYS_fchmod, ALLOW },
	{ SYS_fchown, ALLOW },
	{ SYS_geteuid, ALLOW },
	{ SYS_rename, ALLOW },
	{ SYS_renameat, ALLOW },
	{ SYS_renameat2, ALLOW },
	{ SYS_unlink, ALLOW },
	{ SYS_unlinkat, ALLOW },
	/* Backing files are attached when the guest names them, after
	 * confinement: backing_policy.c opens them read-only and resolves
	 * /proc/self/fd/N to check where the opened file really is. */
	{ SYS_readlink, ALLOW },
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
	/* The watchdog (sandbox_kvm.c): its signal, and deleting its timer. */
	{ SYS_rt_sigreturn, ALLOW },
	{ SYS_rt_sigprocmask, ALLOW },
	{ SYS_timer_settime, ALLOW },
	{ SYS_timer_delete, ALLOW },
	{ SYS_clock_gettime, ALLOW },
	{ SYS_futex, ALLOW },            /* libc locks (stdio) */
	{ SYS_exit, ALLOW },
	{ SYS_exit_group, ALLOW },
};

#define POLICY_LEN (sizeof(policy) / sizeof(policy[0]))
/* Worst case: 6 header + 9 per rule + 1 default. */
#define PROG_MAX (7 + 9 * POLICY_LEN)

#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET(action) STMT(BPF_RET | BPF_K, action)
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

struct prog {
	struct sock_filter ins[PROG_MAX];
	unsigned short len;
};

static void emit(struct prog *p, struct sock_filter ins)
{
	p->ins[p->len++] = ins;
}

/*
 * Each rule is a self-contained block entered with the syscall number in
 * the accumulator: on a mismatch it jumps over itself; on a match it ends
 * in a return.  Blocks that load an argument reload nothing afterwards, as
 * every path inside them returns.
 */
static void emit_rule(struct prog *p, int nr, enum rule r)
{
	switch (r) {
	case ALLOW:
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case IOCTL_KVM: /* the request is an unsigned int: low word only */
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 6));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, KVM_RUN, 3, 0));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)KVM_GET_REGS, 2, 0));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)BLKGETSIZE64, 1, 0));
		emit(p, RET(SECCOMP_RET_ERRNO | ENOTTY));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case NO_EXEC:
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
		emit(p, JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case OPEN_FILES: /* O_CREAT|O_EXCL, or O_WRONLY, or O_RDONLY without O_CREAT */
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 11));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
		emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, O_CREAT | O_EXCL));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_CREAT | O_EXCL, 7, 0));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
		emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_WRONLY, 4, 0));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
		emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, O_ACCMODE | O_CREAT));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY, 1, 0));
		emit(p, RET(SECCOMP_RET_ERRNO | EACCES));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	case FCNTL_LOCK: /* the command is an int: low word only */
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 5));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_GETLK, 2, 0));
		emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK, 1, 0));
		emit(p, RET(SECCOMP_RET_ERRNO | EPERM));
		emit(p, RET(SECCOMP_RET_ALLOW));
		break;
	}
}

static void build(struct prog *p)
{
	p->len = 0;
	/* Only native x86-64 calls: another ABI would renumber everything. */
	emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(p, RET(SECCOMP_RET_KILL_PROCESS));
	emit(p, LOAD_NR);
	emit(p, JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
	emit(p, RET(SECCOMP_RET_KILL_PROCESS));
	for (size_t i = 0; i < POLICY_LEN; i++)
		emit_rule(p, policy[i].nr, policy[i].rule);
	emit(p, RET(SECCOMP_RET_TRAP));
}

/* Async-signal-safe: formats by hand, then raw write and exit_group (no
 * libc or sanitizer exit path that could make calls the filter refuses). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
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

int seccomp_host_install(void)
{
	static struct prog p; /* built once per process; ~2 KiB, off the stack */
	build(&p);
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
