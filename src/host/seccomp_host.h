/*
 * The host's own confinement while it serves a KVM guest.  Installed once
 * the VM is set up (memory mapped, vCPU created, image loaded), for the rest
 * of the process: from then on cordon can run the vCPU, do I/O on the
 * descriptors it holds, create/rename/remove the output, and exit.  The
 * policy table and its reasons are in seccomp_host.c.
 */
#ifndef CORDON_HOST_SECCOMP_HOST_H
#define CORDON_HOST_SECCOMP_HOST_H

/* A refused system call outside the table ends the process with this
 * status after printing which call it was (SIGSYS handler). */
#define SECCOMP_HOST_TRAP_STATUS 1

/* Sets no_new_privs and installs the filter on every thread.  0 or -errno. */
int seccomp_host_install(void);

#endif
