/*
 * vhdx writer: a dynamic VHDX laid out as qemu-img creates one (file
 * identifier, two headers, two region tables, a 1 MiB log left empty, the
 * BAT, the metadata, blocks from 5 MiB past the BAT), with blocks
 * allocated as dd's data arrives at increasing offsets:
 *
 *   - a block is allocated (at the end of the file, fully present) when
 *     its first non-zero byte arrives; its zeros are holes in a fresh file;
 *   - every other block keeps qemu's default state, "zero".
 *
 * qemu-img dd allocates every block it writes, zeros too; the content is
 * the same.  Memory is O(1): one BAT window and the metadata buffers.
 */
#include "vhdx.h"

#include "../block_append.h"
#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

#define XW_BAT_WIN 4096u           /* BAT entries per window */
#define XW_GAP (5ull * VHDX_MiB)   /* qemu's room between metadata and data */

uint32_t vhdx_default_block_size(uint64_t size)
{
	if (size > (32ull << 40))
		return 64u * VHDX_MiB;
	if (size > (100ull << 30))
		return 32u * VHDX_MiB;
	if (size > (1ull << 30))
		return 16u * VHDX_MiB;
	return 8u * VHDX_MiB;
}

static uint64_t round_mib(uint64_t v)
{
	return (v + VHDX_MiB - 1) & ~(uint64_t)(VHDX_MiB - 1);
}

int vhdx_create_layout(uint64_t size, struct vhdx_create_layout *l)
{
	*l = (struct vhdx_create_layout){ 0 };
	if (size > VHDX_MAX_IMAGE_SIZE)
		return -CD_EINVAL;
	l->block_size = vhdx_default_block_size(size);
	int ret = vhdx_geometry(l->block_size, 512, size, &l->g);
	if (ret < 0)
		return ret;
	l->bat_off = round_mib(VHDX_MiB + VHDX_LOG_DEFAULT);
	l->bat_len = round_mib((uint64_t)l->g.bat_entries * 8);
	l->meta_off = round_mib(l->bat_off + l->bat_len);
	l->data_start = l->bat_off + l->bat_len + XW_GAP;
	return 0;
}

struct xw {
	struct block_append a;  /* the blocks, as data arrives; first:
				 * block_append_op_write() finds it */
	struct vhdx_create_layout l;
	uint64_t data_blocks;   /* payload blocks of the disk */
	uint64_t next_free;     /* where the next block goes */
	uint8_t *bat;           /* XW_BAT_WIN little-endian entries */
	uint64_t bat_win;
	uint8_t *buf;           /* VHDX_HEADER_BLOCK bytes for the metadata */
	uint8_t ids[64];        /* the job's random bytes: GUIDs, sequence */
	uint64_t size;
};

static void xw_release(struct image_writer *w)
{
	struct xw *s = w->priv;
	if (!s)
		return;
	core_free(w->ctx, s->bat);
	core_free(w->ctx, s->buf);
	block_append_free(w, &s->a);
	core_free(w->ctx, s);
	w->priv = NULL;
}

static int release_on_error(struct image_writer *w, int ret)
{
	if (ret < 0)
		xw_release(w);
	return ret;
}

static uint64_t bat_index(const struct xw *s, uint64_t block)
{
	return block + (block >> s->l.g.chunk_ratio_bits);
}

/* What qemu's create leaves in BAT entry i: "zero" for the disk's payload
 * blocks, 0 for sector bitmap entries and past the disk. */
static uint64_t default_entry(const struct xw *s, uint64_t i)
{
	uint64_t ratio = s->l.g.chunk_ratio;
	if ((i + 1) % (ratio + 1) == 0)
		return 0;
	uint64_t block = i - i / (ratio + 1);
	return block < s->data_blocks ? VHDX_PAYLOAD_ZERO : 0;
}

static void fill_window(struct xw *s)
{
	for (uint32_t k = 0; k < XW_BAT_WIN; k++)
		store_le64(s->bat + 8 * k, default_entry(s, s->bat_win * XW_BAT_WIN + k));
}

/* Writes BAT windows up to `to` (exclusive); a window of nothing but zeros
 * stays a hole on a fresh file. */
static int bat_advance(struct image_writer *w, struct xw *s, uint64_t to)
{
	uint64_t last = (s->l.g.bat_entries + XW_BAT_WIN - 1) / XW_BAT_WIN;
	while (s->bat_win < to && s->bat_win < last) {
		uint64_t first = s->bat_win * XW_BAT_WIN;
		uint64_t n = s->l.g.bat_entries - first < XW_BAT_WIN ? s->l.g.bat_entries - first
								       : XW_BAT_WIN;
		bool empty = true;
		for (uint64_t k = 0; k < n * 8 && empty; k++)
			empty = s->bat[k] == 0;
		if (!empty || !w->zeroed) {
			int ret = io_write(w->ctx, w->dev, s->l.bat_off + first * 8, s->bat, n * 8);
			if (ret < 0)
				return ret;
		}
		s->bat_win++;
		/* past the disk's blocks every entry is 0: skip the rest */
		if (w->zeroed && default_entry(s, s->bat_win * XW_BAT_WIN) == 0 &&
		    s->bat_win * XW_BAT_WIN >= bat_index(s, s->data_blocks))
			s->bat_win = to < last ? to : last;
		fill_window(s);
	}
	return 0;
}

/* Block b gets the place at the end of the file, fully present. */
static int xw_allocate(struct image_writer *w, uint64_t b, uint64_t *data_off)
{
	struct xw *s = w->priv;
	uint64_t i = bat_index(s, b), end;
	int ret = bat_advance(w, s, i / XW_BAT_WIN);
	if (ret < 0)
		return ret;
	if (ADD_OVERFLOW(s->next_free, (uint64_t)s->l.block_size, &end) || end > (uint64_t)INT64_MAX)
		return -CD_EFBIG;
	store_le64(s->bat + 8 * (i % XW_BAT_WIN), s->next_free | VHDX_PAYLOAD_FULLY_PRESENT);
	*data_off = s->next_free;
	s->next_free = end;
	return 0;
}

/* ---- the structures, written last ------------------------------------- */

static void put_guid(uint8_t *p, const uint8_t *random16)
{
	memcpy(p, random16, 16);
	p[7] = (uint8_t)((p[7] & 0x0f) | 0x40); /* version 4, as stored */
	p[8] = (uint8_t)((p[8] & 0x3f) | 0x80);
}

static void crc_at4(uint8_t *p, size_t len)
{
	store_le32(p + 4, vhdx_crc32c(0, p, len, 4));
}

static int write_headers(struct image_writer *w, struct xw *s)
{
	uint8_t *b = s->buf;
	memset(b, 0, VHDX_HEADER_BLOCK);
	memcpy(b, "vhdxfile", 8);
	static const char creator[] = "cordon";
	for (size_t i = 0; i < sizeof(creator) - 1; i++)
		b[8 + 2 * i] = (uint8_t)creator[i];
	int ret = io_write(w->ctx, w->dev, 0, b, 8 + 2 * (sizeof(creator) - 1));
	uint32_t seq = load_le32(s->ids + 48);
	for (int k = 0; k < 2 && ret == 0; k++) {
		memset(b, 0, VHDX_HEADER_LEN);
		store_le32(b, 0x64616568);
		store_le64(b + 8, (uint64_t)seq + (uint64_t)k);
		put_guid(b + 16, s->ids);      /* file write guid */
		put_guid(b + 32, s->ids + 16); /* data write guid */
		store_le16(b + 66, 1);
		store_le32(b + 68, VHDX_LOG_DEFAULT);
		store_le64(b + 72, VHDX_MiB);
		crc_at4(b, VHDX_HEADER_LEN);
		ret = io_write(w->ctx, w->dev, k == 0 ? VHDX_HEADER1_OFF : VHDX_HEADER2_OFF, b,
			       VHDX_HEADER_LEN);
	}
	return ret;
}

static int write_regions(struct image_writer *w, struct xw *s)
{
	uint8_t *b = s->buf;
	memset(b, 0, VHDX_HEADER_BLOCK);
	store_le32(b, 0x69676572);
	store_le32(b + 8, 2);
	memcpy(b + 16, vhdx_guid_bat, 16);
	store_le64(b + 32, s->l.bat_off);
	store_le32(b + 40, (uint32_t)s->l.bat_len);
	memcpy(b + 48, vhdx_guid_metadata, 16);
	store_le64(b + 64, s->l.meta_off);
	store_le32(b + 72, VHDX_MiB);
	crc_at4(b, VHDX_HEADER_BLOCK);
	int ret = io_write(w->ctx, w->dev, VHDX_REGION_TABLE_OFF, b, VHDX_HEADER_BLOCK);
	if (ret == 0)
		ret = io_write(w->ctx, w->dev, VHDX_REGION_TABLE_OFF + VHDX_HEADER_BLOCK, b,
			       VHDX_HEADER_BLOCK);
	return ret;
}

static int write_metadata(struct image_writer *w, struct xw *s)
{
	/* the five items qemu writes: required, and all but the file
	 * parameters about the virtual disk */
	static const struct { const uint8_t *guid; uint32_t len, flags; } items[5] = {
		{ vhdx_guid_file_params, 8, 4 },
		{ vhdx_guid_virtual_size, 8, 6 },
		{ vhdx_guid_page83, 16, 6 },
		{ vhdx_guid_logical_sector, 4, 6 },
		{ vhdx_guid_physical_sector, 4, 6 },
	};
	uint8_t *b = s->buf;
	memset(b, 0, VHDX_HEADER_BLOCK);
	memcpy(b, "metadata", 8);
	store_le16(b + 10, 5);
	uint32_t at = 64 * 1024;
	for (int i = 0; i < 5; i++) {
		uint8_t *e = b + 32 + 32 * i;
		memcpy(e, items[i].guid, 16);
		store_le32(e + 16, at);
		store_le32(e + 20, items[i].len);
		store_le32(e + 24, items[i].flags);
		at += items[i].len;
	}
	int ret = io_write(w->ctx, w->dev, s->l.meta_off, b, VHDX_HEADER_BLOCK);
	uint8_t *v = b; /* the items, after the table: hostcall buffers live in the heap */
	memset(v, 0, 40);
	store_le32(v, s->l.block_size);       /* file parameters: dynamic */
	store_le64(v + 8, s->size);            /* virtual disk size */
	put_guid(v + 16, s->ids + 32);         /* page 83 data */
	store_le32(v + 32, 512);               /* logical sector size */
	store_le32(v + 36, 512);               /* physical sector size */
	if (ret == 0)
		ret = io_write(w->ctx, w->dev, s->l.meta_off + 64 * 1024, v, 40);
	return ret;
}

static int xw_finish(struct image_writer *w)
{
	struct xw *s = w->priv;
	if (!s)
		return -CD_EINVAL;
	const struct hostcalls *hc = w->ctx->env->hc;
	int ret = block_append_close_block(w, &s->a);
	if (ret == 0)
		ret = bat_advance(w, s, UINT64_MAX);
	if (ret == 0 && !w->zeroed) { /* the rest of the BAT region reads zeros */
		uint64_t used = (uint64_t)s->l.g.bat_entries * 8;
		ret = block_append_write_zeros(w, &s->a, s->l.bat_off + used,
					       s->l.bat_len - used);
	}
	if (ret == 0)
		ret = write_metadata(w, s);
	if (ret == 0)
		ret = write_regions(w, s);
	if (ret == 0)
		ret = write_headers(w, s);
	if (ret == 0) {
		int64_t r = hc->truncate(hc->ctx, w->dev, s->next_free);
		ret = r < 0 ? (int)r : 0;
	}
	xw_release(w);
	return ret;
}

static int xw_create(struct image_writer *w, const struct writer_opts *o)
{
	struct core_ctx *ctx = w->ctx;
	int ret = writer_check_opts(w, "vhdx", o, 0);
	if (ret < 0)
		return ret;
	struct xw *s = core_alloc(ctx, sizeof(*s), 8);
	if (!s)
		return -CD_ENOMEM;
	*s = (struct xw){ .size = w->size };
	w->priv = s;
	if (vhdx_create_layout(w->size, &s->l) < 0)
		return release_on_error(w, core_fail(ctx, -CD_EINVAL, "Image size too large; "
						     "max of 64TB"));
	w->zero_unit = 512;
	s->data_blocks = (w->size + s->l.block_size - 1) / s->l.block_size;
	s->next_free = s->l.data_start;
	if (o->entropy)
		memcpy(s->ids, o->entropy, sizeof(s->ids));
	s->bat = core_alloc(ctx, XW_BAT_WIN * 8, 64);
	s->buf = core_alloc(ctx, VHDX_HEADER_BLOCK, 64);
	if (!s->bat || !s->buf ||
	    block_append_init(w, &s->a, s->l.block_size, xw_allocate, xw_release) < 0)
		return release_on_error(w, -CD_ENOMEM);
	fill_window(s);
	ret = writer_create_output(w);
	if (ret == 0) {
		/* Creates the output now, so errors come in qemu-img's order. */
		const struct hostcalls *hc = ctx->env->hc;
		int64_t r = hc->truncate(hc->ctx, w->dev, s->l.data_start);
		ret = r < 0 ? (int)r : 0;
	}
	return release_on_error(w, ret);
}

const struct writer_ops vhdx_writer_ops = {
	.create = xw_create,
	.abort = xw_release,
	.write = block_append_op_write,
	/* No host-side copy: data passes through so that zero blocks are
	 * found and left in the zero state. */
	.copy = NULL,
	.zero = block_append_op_zero,
	.finish = xw_finish,
};
