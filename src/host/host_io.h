/* File operations the hostcall server performs: whole-length loops over
 * EINTR and short transfers, returning a count or -errno.  No image bytes
 * are interpreted here. */
#ifndef CORDON_HOST_HOST_IO_H
#define CORDON_HOST_HOST_IO_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes read; short only at end of file. */
int64_t host_pread_full(int fd, void *buf, uint64_t len, uint64_t off);
int64_t host_pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off);
/* The same at the descriptor's position (a pipe): read() until len bytes or
 * end of input, write() until all of buf.  Bytes done, or -errno. */
int64_t host_read_full(int fd, void *buf, uint64_t len);
int64_t host_write_full(int fd, const void *buf, uint64_t len);
/* copy_file_range, falling back to pread/pwrite where the kernel can't
 * (other filesystems, devices).  Short only at end of the source.  With
 * writeback, each piece is started to disk as the next is copied (for an
 * output flushed at the end). */
int64_t host_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
			uint64_t len, bool writeback);
/* Size of a regular file or a block device. */
int64_t host_fd_size(int fd);
/* Regular file: ftruncate.  Device: it must already be large enough
 * (-ENOSPC otherwise), as devices cannot grow. */
int64_t host_set_size(int fd, uint64_t size);
/* Length of the data or hole run at off, at most len (SEEK_DATA/SEEK_HOLE);
 * everything is data where the file system cannot tell. */
int64_t host_extent(int fd, uint64_t off, uint64_t len, bool *is_data);
/* host_copy_range() of the data runs in [in_off, in_off+len) only: holes
 * and whatever lies past the source's end are left unwritten.  len, or
 * -errno. */
int64_t host_copy_data(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
		       uint64_t len, bool writeback);

#endif
