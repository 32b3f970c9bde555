/*
 * Whole-range device I/O over the hostcall table: each call loops until the
 * range is done, in pieces the host accepts (HC_MAX_IO_LEN, HC_MAX_COPY_LEN),
 * so formats never write their own loops.
 */
#ifndef CORDON_CORE_IO_H
#define CORDON_CORE_IO_H

#include "core.h"

/* Reads [off, off+len); what lies past end of file reads as zeros.
 * 0 or -errno. */
int io_read(struct core_ctx *ctx, uint32_t dev, uint64_t off, void *buf, uint64_t len);
/* Reads [off, off+len) that must exist: a short file is -CD_EIO.
 * 0 or -errno. */
int io_read_exact(struct core_ctx *ctx, uint32_t dev, uint64_t off, void *buf,
		  uint64_t len);
/* Writes all of buf.  0 or -errno. */
int io_write(struct core_ctx *ctx, uint32_t dev, uint64_t off, const void *buf,
	     uint64_t len);
/*
 * Write-behind.  A caller whose data sits in buffers it leaves alone until
 * it says so (the copy engine's two) opens a window over them: io_write of
 * a piece inside it may return while the host still writes it
 * (HC_WRITE_BEHIND), and the caller reads its next piece meanwhile, as
 * qemu-img overlaps them.  Before it changes a buffer again it calls
 * io_behind_reuse(); io_behind_close() waits for the last write and closes
 * the window.  A failure reported then, or by a later io_write, may be an
 * earlier write's: io_behind_failed() says whose.
 */
void io_behind_open(struct core_ctx *ctx, const void *buf, uint64_t len);
/* Waits for the write behind if it reads from [buf, buf+len).  0 or -errno. */
int io_behind_reuse(struct core_ctx *ctx, const void *buf, uint64_t len);
/* Waits for the write behind; no window after.  0 or -errno. */
int io_behind_close(struct core_ctx *ctx);
/* The buffer of the write behind whose failure was the last one reported
 * (by io_write, io_behind_reuse or io_behind_close), or NULL when that
 * failure was the call's own. */
const void *io_behind_failed(const struct core_ctx *ctx);

/* Host-side copy of all of [src_off, src_off+len).  0 or -errno (a source
 * that ends early is -CD_EIO: extents never run past end of file).  With
 * HC_COPY_SKIP_HOLES in flags the source's holes are left unwritten. */
int io_copy(struct core_ctx *ctx, uint32_t src, uint64_t src_off, uint32_t dst,
	    uint64_t dst_off, uint64_t len, uint32_t flags);

/* The device's display name (HC_OP_DEV_INFO), NUL-terminated, from
 * core_alloc; NULL when it cannot be had (out of memory). */
char *io_dev_name(struct core_ctx *ctx, uint32_t dev);
/* An existing image's length as qemu's block layer sees a file: in whole
 * sectors (-n's targets).  0, or -errno (nothing recorded). */
int io_size_in_sectors(struct core_ctx *ctx, uint32_t dev, uint64_t *size);
/* What kind of file the device is (enum hc_file_type); HC_FILE_NONE for an
 * output not created yet. */
uint32_t io_dev_type(struct core_ctx *ctx, uint32_t dev);

#endif
