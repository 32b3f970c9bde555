/*
 * Error numbers core uses: Linux's values, so a -errno from the host passes
 * through unchanged.  The host build checks them against <errno.h>
 * (src/host/hostcall_server.c).
 */
#ifndef CORDON_CORE_ERRNO_CODES_H
#define CORDON_CORE_ERRNO_CODES_H

#define CD_EPERM 1
#define CD_ENOENT 2
#define CD_EIO 5
#define CD_EAGAIN 11
#define CD_EBADF 9
#define CD_ENOMEM 12
#define CD_EACCES 13
#define CD_EFAULT 14
#define CD_EBUSY 16
#define CD_EEXIST 17
#define CD_EXDEV 18
#define CD_ENODEV 19
#define CD_ENOTDIR 20
#define CD_EISDIR 21
#define CD_EINVAL 22
#define CD_EFBIG 27
#define CD_ENOSPC 28
#define CD_ESPIPE 29
#define CD_EROFS 30
#define CD_EPIPE 32
#define CD_ERANGE 34
#define CD_ENAMETOOLONG 36
#define CD_ENOSYS 38
#define CD_ELOOP 40
#define CD_ENOTSUP 95

/* The text glibc's strerror() gives, so messages match qemu-img's. */
const char *cd_strerror(int errnum);

#endif
