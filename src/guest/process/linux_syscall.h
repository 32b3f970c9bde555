/*
 * Raw Linux system calls for the process sandbox's helper, which has no
 * libc: the handful it makes before SECCOMP_MODE_STRICT, and the three it
 * may make after (read, write, exit).  x86-64 numbers and calling
 * convention.
 */
#ifndef CORDON_GUEST_PROCESS_LINUX_SYSCALL_H
#define CORDON_GUEST_PROCESS_LINUX_SYSCALL_H

#include <stdint.h>

#define LSYS_read 0
#define LSYS_write 1
#define LSYS_close 3
#define LSYS_fstat 5
#define LSYS_mmap 9
#define LSYS_exit 60
#define LSYS_prctl 157
#define LSYS_arch_prctl 158
#define LSYS_openat 257

#define L_PROT_RW 3          /* PROT_READ | PROT_WRITE */
#define L_MAP_SHARED 1
#define L_ARCH_SET_FS 0x1002
#define L_PR_SET_SECCOMP 22
#define L_SECCOMP_MODE_STRICT 1
#define L_AT_RANDOM 25       /* auxv: 16 random bytes from the kernel */
#define L_AT_FDCWD (-100)

static inline long lsys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long lsys3(long nr, long a, long b, long c)
{
	return lsys6(nr, a, b, c, 0, 0, 0);
}

static inline __attribute__((noreturn)) void lsys_exit(int status)
{
	for (;;)
		lsys3(LSYS_exit, status, 0, 0);
}

#endif
