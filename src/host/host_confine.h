/*
 * The host process's own confinement, installed once the sandbox is running
 * (KVM: the VM is set up; process: the child is started) and kept for the
 * rest of the process.  If a request ever subverted the host, this is what
 * is left: serving the descriptors it holds, the few *at() calls the run
 * needs relative to the directories it holds, and exiting.
 *
 * Two layers (both installed when the kernel has them):
 *   seccomp  (seccomp_host.c): which system calls, and for the file ones
 *            which directory descriptor they may be relative to;
 *   Landlock (landlock_host.c): which files below which directories may be
 *            opened at all -- the part seccomp cannot check, as it cannot
 *            read a path (an absolute path ignores the directory fd).
 */
#ifndef CORDON_HOST_HOST_CONFINE_H
#define CORDON_HOST_HOST_CONFINE_H

#include <stdint.h>
#include <sys/types.h>

/* What the run still needs once confined. */
struct confine_plan {
	int proc_fd;          /* /proc/self/fd: reopening checked files, readlinkat */
	int out_dir_fd;       /* the output's directory: rename/unlink there; -1 */
	int out_device_fd;    /* O_PATH of a device output opened later; -1 */
	pid_t child;          /* the process sandbox's child (kill, wait); 0 */
	const int *read_dirs; /* backing files may be opened below these */
	uint32_t n_read_dirs;
};

/* A refused system call outside the table ends the process with this
 * status after printing which call it was (SIGSYS handler). */
#define SECCOMP_HOST_TRAP_STATUS 1

/* Landlock, then the write-behind worker (write_behind.h: made here so it
 * inherits Landlock's domain), then seccomp for every thread (TSYNC).  0, or
 * -errno when seccomp could not be installed (Landlock is best effort: a
 * kernel without it keeps the seccomp layer). */
int host_confine(const struct confine_plan *plan);

/* Each layer alone (host_confine calls both; tests call them apart). */
int seccomp_host_install(const struct confine_plan *plan);
/* The Landlock ABI version applied, 0 when the kernel has none, or -errno. */
int landlock_host_install(const struct confine_plan *plan);

#endif
