/*
 * Decompression for image formats, over the distribution's zlib and libzstd
 * (linked statically into the KVM guest, dynamically into the host binary
 * that runs the process sandbox).  Format code includes only this header,
 * never zlib.h or zstd.h.  Both libraries allocate through core_alloc(), so
 * they work where malloc() cannot (the strict-seccomp child) and stay inside
 * the sandbox's memory cap.
 */
#ifndef CORDON_CORE_COMPRESS_H
#define CORDON_CORE_COMPRESS_H

#include "core.h"

/*
 * Inflates raw deflate data (no zlib header, 4 KiB window: qcow2's windowBits
 * -12) until out is full.  As in qemu, input may carry trailing bytes past
 * the end of the stream (qcow2 stores compressed lengths in 512-byte
 * sectors), but the output must be filled exactly.  0, -CD_EIO when the data
 * is not valid, -CD_ENOMEM.
 */
int cd_inflate_raw(struct core_ctx *ctx, const void *in, size_t in_len,
		   void *out, size_t out_len);

/*
 * A zlib-format (RFC 1950) stream inflated piece by piece, so that a grain
 * of any size is read through fixed buffers.  cd_inflate_new() makes one,
 * cd_inflate_reset() starts a new stream on it.
 */
struct cd_inflate;

struct cd_inflate *cd_inflate_new(struct core_ctx *ctx);
void cd_inflate_free(struct core_ctx *ctx, struct cd_inflate *z);
int cd_inflate_reset(struct cd_inflate *z);
/*
 * Inflates from in (in_len bytes) into out (out_len bytes, perhaps 0: the
 * end of the stream may still be found).  *in_used and *out_made say how
 * much was taken and given.  1 at the end of the stream; 0 when more input
 * or room is wanted (no progress at all when both ran out); -CD_EIO for
 * data that is not a valid stream; -CD_ENOMEM.
 */
int cd_inflate_step(struct cd_inflate *z, const void *in, size_t in_len, size_t *in_used,
		    void *out, size_t out_len, size_t *out_made);

/* A reusable zstd decoder; created on first use by cd_zstd_decompress. */
struct cd_zstd;

/*
 * Decodes zstd frames one after another until out is full, as qemu's
 * qcow2_zstd_decompress does; bytes after the last needed frame are ignored.
 * Only standard (v1.x) and skippable frames are accepted.  *dec is created
 * on first use and kept for later calls; free it with cd_zstd_free().
 */
int cd_zstd_decompress(struct core_ctx *ctx, struct cd_zstd **dec,
		       const void *in, size_t in_len, void *out, size_t out_len);
void cd_zstd_free(struct core_ctx *ctx, struct cd_zstd *dec);

#endif
