/* glibc's strerror() texts for the errors core can report, so that messages
 * read exactly like qemu-img's on the same failure. */
#include "errno_codes.h"
#include "rt.h"

struct errtext {
	int num;
	const char *text;
};

static const struct errtext errtexts[] = {
	{ CD_EPERM, "Operation not permitted" },
	{ CD_ENOENT, "No such file or directory" },
	{ CD_EIO, "Input/output error" },
	{ CD_EBADF, "Bad file descriptor" },
	{ CD_EAGAIN, "Resource temporarily unavailable" },
	{ CD_ENOMEM, "Cannot allocate memory" },
	{ CD_EACCES, "Permission denied" },
	{ CD_EFAULT, "Bad address" },
	{ CD_EBUSY, "Device or resource busy" },
	{ CD_EEXIST, "File exists" },
	{ CD_EXDEV, "Invalid cross-device link" },
	{ CD_ENODEV, "No such device" },
	{ CD_ENOTDIR, "Not a directory" },
	{ CD_EISDIR, "Is a directory" },
	{ CD_EINVAL, "Invalid argument" },
	{ CD_EFBIG, "File too large" },
	{ CD_ENOSPC, "No space left on device" },
	{ CD_ESPIPE, "Illegal seek" },
	{ CD_EPIPE, "Broken pipe" },
	{ CD_EROFS, "Read-only file system" },
	{ CD_ERANGE, "Numerical result out of range" },
	{ CD_ENAMETOOLONG, "File name too long" },
	{ CD_ENOSYS, "Function not implemented" },
	{ CD_ELOOP, "Too many levels of symbolic links" },
	{ CD_ENOTSUP, "Operation not supported" },
};

const char *cd_strerror(int errnum)
{
	if (errnum < 0)
		errnum = -errnum;
	for (size_t i = 0; i < sizeof(errtexts) / sizeof(errtexts[0]); i++)
		if (errtexts[i].num == errnum)
			return errtexts[i].text;
	return "Unknown error";
}
