/*
 * vpc writer: a dynamic VHD laid out as qemu-img creates one, with blocks
 * allocated as data arrives (dd writes at increasing offsets):
 *
 *   0            footer copy
 *   512          dynamic disk header
 *   1536         BAT (one entry per 2 MiB block, rounded up to a sector)
 *   then         per allocated block: sector bitmap (all set, as qemu
 *                writes it), 2 MiB of data
 *   end          footer
 *
 * A block is allocated when its first non-zero byte arrives, so all-zero
 * blocks stay unallocated (qemu-img dd allocates them; the content is the
 * same).  Memory is O(1): one BAT window, one bitmap, the footer.
 */
#include "vpc.h"

#include "../block_append.h"
#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

#define VW_BLOCK (2u << 20)
#define VW_BITMAP 512u             /* 2 MiB / 512 / 8, rounded to a sector */
#define VW_BAT_OFF 1536u
#define VW_BAT_WIN 4096u           /* entries per BAT window: 8 GiB of disk */

struct vw {
	struct block_append a;  /* the blocks, as data arrives; first:
				 * block_append_op_write() finds it */
	uint64_t entries;       /* BAT entries */
	uint64_t data_start;    /* first block's bitmap */
	uint64_t next_free;     /* where the next block goes; then the footer */
	uint32_t *bat;          /* VW_BAT_WIN big-endian entries */
	uint64_t bat_win;       /* the window bat holds */
	uint8_t *footer;        /* VPC_FOOTER_LEN, then the header's 1024 */
	uint8_t *bitmap;        /* VW_BITMAP bytes, all set */
};

static void vw_release(struct image_writer *w)
{
	struct vw *s = w->priv;
	if (!s)
		return;
	core_free(w->ctx, s->bat);
	core_free(w->ctx, s->footer);
	block_append_free(w, &s->a);
	core_free(w->ctx, s->bitmap);
	core_free(w->ctx, s);
	w->priv = NULL;
}

static int release_on_error(struct image_writer *w, int ret)
{
	if (ret < 0)
		vw_release(w);
	return ret;
}

static uint64_t bat_win_len(const struct vw *s, uint64_t win)
{
	uint64_t first = win * VW_BAT_WIN;
	return s->entries - first < VW_BAT_WIN ? s->entries - first : VW_BAT_WIN;
}

/* Writes the BAT window out (every entry, set or not: unused is all ones,
 * never a hole) and moves on to window `to`. */
static int bat_advance(struct image_writer *w, struct vw *s, uint64_t to)
{
	uint64_t last = (s->entries + VW_BAT_WIN - 1) / VW_BAT_WIN;
	while (s->bat_win < to && s->bat_win < last) {
		uint64_t n = bat_win_len(s, s->bat_win);
		int ret = io_write(w->ctx, w->dev, VW_BAT_OFF + s->bat_win * VW_BAT_WIN * 4,
				   s->bat, n * 4);
		if (ret < 0)
			return ret;
		memset(s->bat, 0xff, VW_BAT_WIN * 4);
		s->bat_win++;
	}
	return 0;
}

/* Block b gets the next place in the file: its bitmap now, its BAT entry
 * in the window; its data follows the bitmap. */
static int vw_allocate(struct image_writer *w, uint64_t b, uint64_t *data_off)
{
	struct vw *s = w->priv;
	int ret = bat_advance(w, s, b / VW_BAT_WIN);
	if (ret < 0)
		return ret;
	uint64_t at = s->next_free, end;
	if (ADD_OVERFLOW(at, (uint64_t)VW_BITMAP + VW_BLOCK, &end) || end > (uint64_t)INT64_MAX ||
	    at / VPC_SECTOR > 0xfffffffeull)
		return -CD_EFBIG;
	ret = io_write(w->ctx, w->dev, at, s->bitmap, VW_BITMAP);
	if (ret < 0)
		return ret;
	store_be32((uint8_t *)&s->bat[b % VW_BAT_WIN], (uint32_t)(at / VPC_SECTOR));
	s->next_free = end;
	*data_off = at + VW_BITMAP;
	return 0;
}

static int vw_finish(struct image_writer *w)
{
	struct vw *s = w->priv;
	if (!s)
		return -CD_EINVAL;
	int ret = block_append_close_block(w, &s->a);
	if (ret == 0)
		ret = bat_advance(w, s, UINT64_MAX);
	/* the header, the footer copy at 0 and the footer at the end */
	if (ret == 0)
		ret = io_write(w->ctx, w->dev, VPC_FOOTER_LEN, s->footer + VPC_FOOTER_LEN,
			       VPC_DYN_HEADER_LEN);
	if (ret == 0)
		ret = io_write(w->ctx, w->dev, 0, s->footer, VPC_FOOTER_LEN);
	if (ret == 0)
		ret = io_write(w->ctx, w->dev, s->next_free, s->footer, VPC_FOOTER_LEN);
	vw_release(w);
	return ret;
}

/* The footer and dynamic header qemu writes (vpc_co_create). */
static void make_headers(const struct image_writer *w, const struct writer_opts *o,
			 const struct vw *s, const struct vpc_chs *g, uint8_t *f)
{
	memset(f, 0, VPC_FOOTER_LEN + VPC_DYN_HEADER_LEN);
	memcpy(f, "conectix", 8);
	store_be32(f + 8, 0x02);
	store_be32(f + 12, 0x00010000);
	store_be64(f + 16, VPC_FOOTER_LEN);
	uint64_t now = o->now > VPC_TIMESTAMP_BASE ? o->now - VPC_TIMESTAMP_BASE : 0;
	store_be32(f + 24, (uint32_t)now);
	memcpy(f + 28, "qemu", 4);
	store_be16(f + 32, 0x0005); /* Virtual PC 2007 */
	store_be16(f + 34, 0x0003);
	memcpy(f + 36, "Wi2k", 4);
	store_be64(f + 40, w->size);
	store_be64(f + 48, w->size);
	store_be16(f + 56, g->cyls);
	f[58] = g->heads;
	f[59] = g->secs;
	store_be32(f + 60, VPC_DYNAMIC);
	/* a random (version 4) UUID, as qemu_uuid_generate() makes */
	if (o->entropy)
		memcpy(f + 68, o->entropy, 16);
	f[68 + 6] = (uint8_t)((f[68 + 6] & 0x0f) | 0x40);
	f[68 + 8] = (uint8_t)((f[68 + 8] & 0x3f) | 0x80);
	store_be32(f + 64, vpc_checksum(f, VPC_FOOTER_LEN, 64));

	uint8_t *h = f + VPC_FOOTER_LEN;
	memcpy(h, "cxsparse", 8);
	store_be64(h + 8, UINT64_MAX); /* what Microsoft's tools expect */
	store_be64(h + 16, VW_BAT_OFF);
	store_be32(h + 24, 0x00010000);
	store_be32(h + 28, (uint32_t)s->entries);
	store_be32(h + 32, VW_BLOCK);
	store_be32(h + 36, vpc_checksum(h, VPC_DYN_HEADER_LEN, 36));
}

static int vw_create(struct image_writer *w, const struct writer_opts *o)
{
	struct core_ctx *ctx = w->ctx;
	int ret = writer_check_opts(w, "vpc", o, 0);
	if (ret < 0)
		return ret;
	uint64_t size;
	struct vpc_chs g;
	ret = chs_rounded_size(w->size, false, &size, &g);
	if (ret == -CD_EFBIG)
		return core_fail(ctx, ret, "Disk size is too large, max size is 2040 GiB");
	if (ret < 0) {
		char hint[160];
		snprintf(hint, sizeof(hint), "Try size=%llu or force-size=on (the latter "
			 "makes the image incompatible with Virtual PC)",
			 (unsigned long long)size);
		return core_fail_hint(ctx, ret, hint, "The requested image size cannot be "
				      "represented in CHS geometry");
	}
	w->size = size;
	/* zero runs of a sector are left out by the copy engine */
	w->zero_unit = VPC_SECTOR;
	struct vw *s = core_alloc(ctx, sizeof(*s), 8);
	if (!s)
		return -CD_ENOMEM;
	*s = (struct vw){ 0 };
	w->priv = s;
	s->entries = (size / VPC_SECTOR + VW_BLOCK / VPC_SECTOR - 1) / (VW_BLOCK / VPC_SECTOR);
	s->data_start = VW_BAT_OFF + ((s->entries * 4 + 511) & ~511ull);
	s->next_free = s->data_start;
	s->bat = core_alloc(ctx, VW_BAT_WIN * 4, 64);
	s->footer = core_alloc(ctx, VPC_FOOTER_LEN + VPC_DYN_HEADER_LEN, 64);
	s->bitmap = core_alloc(ctx, VW_BITMAP, 64);
	if (!s->bat || !s->footer || !s->bitmap ||
	    block_append_init(w, &s->a, VW_BLOCK, vw_allocate, vw_release) < 0)
		return release_on_error(w, -CD_ENOMEM);
	memset(s->bat, 0xff, VW_BAT_WIN * 4);
	memset(s->bitmap, 0xff, VW_BITMAP);
	make_headers(w, o, s, &g, s->footer);
	ret = writer_create_output(w);
	if (ret == 0) {
		/* Creates the output now, so errors come in qemu-img's order. */
		const struct hostcalls *hc = ctx->env->hc;
		int64_t r = hc->truncate(hc->ctx, w->dev, s->data_start);
		ret = r < 0 ? (int)r : 0;
	}
	return release_on_error(w, ret);
}

const struct writer_ops vpc_writer_ops = {
	.create = vw_create,
	.abort = vw_release,
	.write = block_append_op_write,
	/* No host-side copy: data passes through so that zero blocks are
	 * found and left unallocated. */
	.copy = NULL,
	.zero = block_append_op_zero,
	.finish = vw_finish,
};
