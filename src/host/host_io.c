/* File I/O for the hostcall server. */
#include "host_io.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fallback copy buffer: static so the copy path never allocates (the host
 * may be under a seccomp filter by then). */
#define BOUNCE_LEN (1u << 20)
/* Pieces of a host-side copy after which writeback is started. */
#define WRITEBACK_STEP (64ull << 20)
static uint8_t bounce[BOUNCE_LEN];

#define AT_POSITION -1 /* off for read()/write() at the descriptor's position */

/* The loop of the four below: len bytes from or to buf, at off or (a pipe)
 * at the descriptor's position.  A read stops at end of file; a write
 * that makes no progress is EIO. */
static int64_t transfer_full(int fd, uint8_t *buf, uint64_t len, int64_t off, bool writing)
{
	uint64_t done = 0;
	while (done < len) {
		size_t want = (size_t)(len - done);
		off_t at = (off_t)(off + (int64_t)done);
		ssize_t n = writing ? (off < 0 ? write(fd, buf + done, want)
					       : pwrite(fd, buf + done, want, at))
				    : (off < 0 ? read(fd, buf + done, want)
					       : pread(fd, buf + done, want, at));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return writing ? -EIO : (int64_t)done;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

int64_t host_pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	return transfer_full(fd, buf, len, (int64_t)off, false);
}

int64_t host_read_full(int fd, void *buf, uint64_t len)
{
	return transfer_full(fd, buf, len, AT_POSITION, false);
}

int64_t host_write_full(int fd, const void *buf, uint64_t len)
{
	return transfer_full(fd, (uint8_t *)buf, len, AT_POSITION, true);
}

int64_t host_pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off)
{
	return transfer_full(fd, (uint8_t *)buf, len, (int64_t)off, true);
}

static int64_t copy_bounce(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
			   uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t want = len - done < BOUNCE_LEN ? len - done : BOUNCE_LEN;
		int64_t n = host_pread_full(in_fd, bounce, want, in_off + done);
		if (n <= 0)
			return n < 0 ? n : (int64_t)done;
		int64_t w = host_pwrite_full(out_fd, bounce, (uint64_t)n, out_off + done);
		if (w < 0)
			return w;
		done += (uint64_t)n;
		if ((uint64_t)n < want)
			break;
	}
	return (int64_t)done;
}

int64_t host_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
			uint64_t len, bool writeback)
{
	uint64_t done = 0;
	while (done < len) {
		off64_t ri = (off64_t)(in_off + done), ro = (off64_t)(out_off + done);
		uint64_t piece = len - done < WRITEBACK_STEP ? len - done : WRITEBACK_STEP;
		ssize_t n = copy_file_range(in_fd, &ri, out_fd, &ro, piece, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			    errno == EOPNOTSUPP || errno == EBADF) {
				int64_t r = copy_bounce(in_fd, in_off + done, out_fd,
							out_off + done, len - done);
				return r < 0 ? r : (int64_t)(done + (uint64_t)r);
			}
			return -errno;
		}
		if (n == 0)
			break;
		/* Start writing this piece to disk while the next is copied, so
		 * the final flush waits for the tail only.  Advisory: errors show
		 * up at the flush. */
		if (writeback)
			sync_file_range(out_fd, (off64_t)(out_off + done), n,
					SYNC_FILE_RANGE_WRITE);
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

int64_t host_copy_data(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
		       uint64_t len, bool writeback)
{
	uint64_t done = 0;
	while (done < len) {
		bool is_data;
		int64_t run = host_extent(in_fd, in_off + done, len - done, &is_data);
		if (run <= 0)
			return run < 0 ? run : -EIO;
		if (is_data) {
			int64_t n = host_copy_range(in_fd, in_off + done, out_fd, out_off + done,
						    (uint64_t)run, writeback);
			if (n < 0)
				return n;
			if (n < run) /* the source ends here: the rest is past it */
				break;
		}
		done += (uint64_t)run;
	}
	return (int64_t)len;
}

int64_t host_fd_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		return (int64_t)bytes;
	}
	if (S_ISREG(st.st_mode))
		return st.st_size;
	return 0; /* character devices and pipes have no size */
}

int64_t host_set_size(int fd, uint64_t size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	int64_t have = host_fd_size(fd);
	if (have < 0)
		return have;
	return (uint64_t)have >= size ? 0 : -ENOSPC;
}

int64_t host_extent(int fd, uint64_t off, uint64_t len, bool *is_data)
{
	*is_data = true;
	off_t data = lseek(fd, (off_t)off, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO) { /* only a hole from here to end of file */
			*is_data = false;
			return (int64_t)len;
		}
		return (int64_t)len; /* no hole support: all data */
	}
	if ((uint64_t)data > off) {
		*is_data = false;
		uint64_t run = (uint64_t)data - off;
		return (int64_t)(run < len ? run : len);
	}
	off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
	if (hole < 0 || (uint64_t)hole <= off)
		return (int64_t)len;
	uint64_t run = (uint64_t)hole - off;
	return (int64_t)(run < len ? run : len);
}
