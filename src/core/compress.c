/*
 * zlib and libzstd behind core's allocator; see compress.h.  Z_SOLO keeps
 * zlib.h from pulling in <sys/types.h> and <unistd.h>, which the guest's
 * tiny libc does not have; the stream structure is the same either way.
 */
#define Z_SOLO
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced, ZSTD_customMem */
#include "compress.h"

#include <zlib.h>
#include <zstd.h>

#include "overflow.h"

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t total;
	if (MUL_OVERFLOW((size_t)items, (size_t)size, &total))
		return Z_NULL;
	return core_alloc(opaque, total, 16);
}

static void z_free(voidpf opaque, voidpf ptr)
{
	core_free(opaque, ptr);
}

int cd_inflate_raw(struct core_ctx *ctx, const void *in, size_t in_len,
		   void *out, size_t out_len)
{
	if (in_len > UINT_MAX || out_len > UINT_MAX)
		return -CD_EINVAL;
	z_stream s = {
		.next_in = (Bytef *)(uintptr_t)in,
		.avail_in = (uInt)in_len,
		.next_out = out,
		.avail_out = (uInt)out_len,
		.zalloc = z_alloc,
		.zfree = z_free,
		.opaque = ctx,
	};
	int ret = inflateInit2(&s, -12);
	if (ret != Z_OK)
		return ret == Z_MEM_ERROR ? -CD_ENOMEM : -CD_EIO;
	ret = inflate(&s, Z_FINISH);
	bool full = s.avail_out == 0;
	inflateEnd(&s);
	if (ret == Z_MEM_ERROR)
		return -CD_ENOMEM;
	/* Z_BUF_ERROR: out filled before the input ended, which qemu accepts
	 * because compressed lengths are only known to the sector. */
	if ((ret == Z_STREAM_END || ret == Z_BUF_ERROR) && full)
		return 0;
	return -CD_EIO;
}

struct cd_inflate {
	z_stream s;
	bool ready;
	uint8_t no_room; /* next_out when there is no room: zlib wants one */
};

struct cd_inflate *cd_inflate_new(struct core_ctx *ctx)
{
	struct cd_inflate *z = core_alloc(ctx, sizeof(*z), 16);
	if (!z)
		return NULL;
	*z = (struct cd_inflate){ .s = { .zalloc = z_alloc, .zfree = z_free, .opaque = ctx } };
	if (inflateInit(&z->s) != Z_OK) {
		core_free(ctx, z);
		return NULL;
	}
	z->ready = true;
	return z;
}

void cd_inflate_free(struct core_ctx *ctx, struct cd_inflate *z)
{
	if (!z)
		return;
	if (z->ready)
		inflateEnd(&z->s);
	core_free(ctx, z);
}

int cd_inflate_reset(struct cd_inflate *z)
{
	return inflateReset(&z->s) == Z_OK ? 0 : -CD_EIO;
}

int cd_inflate_step(struct cd_inflate *z, const void *in, size_t in_len, size_t *in_used,
		    void *out, size_t out_len, size_t *out_made)
{
	if (in_len > UINT_MAX)
		in_len = UINT_MAX;
	if (out_len > UINT_MAX)
		out_len = UINT_MAX;
	z->s.next_in = (Bytef *)(uintptr_t)in;
	z->s.avail_in = (uInt)in_len;
	z->s.next_out = out_len ? out : &z->no_room;
	z->s.avail_out = (uInt)out_len;
	int ret = inflate(&z->s, Z_NO_FLUSH);
	*in_used = in_len - z->s.avail_in;
	*out_made = out_len - z->s.avail_out;
	switch (ret) {
	case Z_STREAM_END:
		return 1;
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible: the caller sees why */
		return 0;
	case Z_MEM_ERROR:
		return -CD_ENOMEM;
	default: /* Z_DATA_ERROR, Z_NEED_DICT (uncompress() fails on it too) */
		return -CD_EIO;
	}
}

struct cd_zstd {
	ZSTD_DCtx *dctx;
};

static void *zs_alloc(void *opaque, size_t size)
{
	return core_alloc(opaque, size, 64);
}

static void zs_free(void *opaque, void *ptr)
{
	core_free(opaque, ptr);
}

static struct cd_zstd *zstd_new(struct core_ctx *ctx)
{
	struct cd_zstd *dec = core_alloc(ctx, sizeof(*dec), 8);
	if (!dec)
		return NULL;
	ZSTD_customMem mem = { zs_alloc, zs_free, ctx };
	dec->dctx = ZSTD_createDCtx_advanced(mem);
	/* One-shot decoding writes straight into the caller's buffer: no
	 * window is allocated, whatever size a frame declares. */
	if (!dec->dctx) {
		cd_zstd_free(ctx, dec);
		return NULL;
	}
	return dec;
}

void cd_zstd_free(struct core_ctx *ctx, struct cd_zstd *dec)
{
	if (!dec)
		return;
	if (dec->dctx)
		ZSTD_freeDCtx(dec->dctx);
	core_free(ctx, dec);
}

/* Legacy (pre-1.0) frames are decoded by code that calls malloc() itself;
 * qemu never writes them, so they are refused before libzstd sees them. */
static bool frame_allowed(const uint8_t *p, size_t len)
{
	if (len < 4)
		return false;
	uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return magic == ZSTD_MAGICNUMBER ||
	       (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

int cd_zstd_decompress(struct core_ctx *ctx, struct cd_zstd **dec,
		       const void *in, size_t in_len, void *out, size_t out_len)
{
	if (!*dec && !(*dec = zstd_new(ctx)))
		return -CD_ENOMEM;
	const uint8_t *src = in;
	uint8_t *dst = out;
	size_t in_pos = 0, out_pos = 0;
	while (out_pos < out_len) {
		if (!frame_allowed(src + in_pos, in_len - in_pos))
			return -CD_EIO;
		size_t flen = ZSTD_findFrameCompressedSize(src + in_pos,
							   in_len - in_pos);
		if (ZSTD_isError(flen) || flen == 0)
			return -CD_EIO;
		size_t n = ZSTD_decompressDCtx((*dec)->dctx, dst + out_pos,
					       out_len - out_pos, src + in_pos, flen);
		if (ZSTD_isError(n)) /* one-shot decoding allocates nothing */
			return -CD_EIO;
		in_pos += flen;
		out_pos += n;
	}
	return 0;
}
