/*
 * vpc: open, map and read VHD images.  Open follows qemu 7.2's vpc_open()
 * step by step (which footer it trusts, its checks, their order and
 * words).  Reading follows qemu's too, except for differencing images,
 * which qemu reads as dynamic ones without their parent; cordon reads them
 * with the parent (docs/vpc.md).
 *
 * The BAT is never held whole (a hostile header may ask for 2 GiB of it):
 * open scans it once in chunks, as qemu's check needs every entry, and
 * map() reads it one page at a time.
 */
#include "vpc.h"

#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

#define BAT_PAGE_ENTRIES 4096u
#define BAT_SCAN_ENTRIES (256u * 1024u)
/* Longest parent locator read: a path of up to 4 KiB in UTF-16. */
#define LOCATOR_MAX 8192u
#define PARENT_NAME_MAX 4096u
/* Unallocated blocks one map() call may cover. */
#define MAP_BLOCKS_MAX 4096u

struct vpc {
	struct vpc_footer f;
	bool footer_at_end;      /* no copy at 0: a fixed disk */
	bool fixed_reads;        /* footer type 2: reads go to the file as is */
	bool differencing;       /* type 4: bitmaps and a parent */
	struct image file;       /* the file as raw (its size: qemu's length of
				  * it, rounded up to a sector) */
	struct vpc_layout l;
	uint32_t *bat_page;      /* BAT_PAGE_ENTRIES entries, host order */
	uint64_t bat_page_no;    /* which page bat_page holds; UINT64_MAX: none */
	uint8_t *bitmap;         /* one block's sector bitmap (differencing) */
	uint64_t bitmap_block;   /* whose; UINT64_MAX: none */
};

static void vpc_release(struct image *img, struct vpc *p)
{
	if (!p)
		return;
	raw_close_file(&p->file);
	core_free(img->ctx, p->bat_page);
	core_free(img->ctx, p->bitmap);
	core_free(img->ctx, p);
	img->priv = NULL;
}

static void vpc_close(struct image *img)
{
	vpc_release(img, img->priv);
}

/* qemu's vpc_open() up to the dynamic header: which footer, its checksum
 * and the virtual size. */
static int read_footer(struct image *img, struct vpc *p, uint8_t *buf)
{
	struct core_ctx *ctx = img->ctx;
	int ret = io_read(ctx, img->dev, 0, buf, VPC_FOOTER_LEN);
	if (ret < 0)
		return core_fail(ctx, ret, "Unable to read VHD header");
	vpc_footer_decode(buf, &p->f);
	if (!p->f.cookie_ok) {
		/* A fixed disk has its footer at the end only. */
		if (p->file.size < VPC_FOOTER_LEN)
			return core_fail(ctx, -CD_EINVAL, "File too small for a VHD header");
		ret = io_read(ctx, img->dev, p->file.size - VPC_FOOTER_LEN, buf, VPC_FOOTER_LEN);
		if (ret < 0)
			return core_fail(ctx, ret, "%s", cd_strerror(ret));
		vpc_footer_decode(buf, &p->f);
		if (!p->f.cookie_ok || p->f.type != VPC_FIXED)
			return core_fail(ctx, -CD_EINVAL, "invalid VPC image");
		p->footer_at_end = true;
	}
	if (!p->f.checksum_ok)
		return core_fail(ctx, -CD_EINVAL, "Incorrect header checksum");
	uint64_t sectors = vpc_virtual_sectors(&p->f);
	if (sectors > VPC_MAX_SECTORS)
		return core_fail(ctx, -CD_EFBIG, "Could not open '%s': %s", img->name,
				 cd_strerror(CD_EFBIG));
	img->size = sectors * VPC_SECTOR;
	p->fixed_reads = p->f.type == VPC_FIXED;
	return 0;
}

static int load_bat_page(struct image *img, struct vpc *p, uint64_t page)
{
	uint64_t first = page * BAT_PAGE_ENTRIES;
	uint64_t n = p->l.entries - first < BAT_PAGE_ENTRIES ? p->l.entries - first
							       : BAT_PAGE_ENTRIES;
	p->bat_page_no = UINT64_MAX;
	/* Open checked that the BAT ends inside the (rounded) file: io_read
	 * zero-fills the last partial sector as qemu does. */
	int ret = io_read(img->ctx, img->dev, p->l.bat_offset + first * 4, p->bat_page, n * 4);
	if (ret < 0)
		return ret;
	const uint8_t *raw = (const uint8_t *)p->bat_page;
	for (uint64_t i = 0; i < n; i++)
		p->bat_page[i] = load_be32(raw + 4 * i);
	p->bat_page_no = page;
	return 0;
}

/* The BAT entry for block b (VPC_BAT_UNUSED past the table). */
static int bat_entry(struct image *img, struct vpc *p, uint64_t b, uint32_t *e)
{
	if (b >= p->l.entries) {
		*e = VPC_BAT_UNUSED;
		return 0;
	}
	uint64_t page = b / BAT_PAGE_ENTRIES;
	if (page != p->bat_page_no) {
		int ret = load_bat_page(img, p, page);
		if (ret < 0)
			return ret;
	}
	*e = p->bat_page[b % BAT_PAGE_ENTRIES];
	return 0;
}

/* qemu's free_data_block_offset check: every block the BAT names must end
 * inside the file ("The image has been truncated"). */
static int scan_bat(struct image *img, struct vpc *p)
{
	struct core_ctx *ctx = img->ctx;
	uint64_t end = (p->l.bat_offset + p->l.bat_bytes + 511) & ~511ull;
	if (end <= p->file.size && p->l.entries > 0) {
		uint8_t *chunk = core_alloc(ctx, BAT_SCAN_ENTRIES * 4, 64);
		if (!chunk)
			return core_fail(ctx, -CD_ENOMEM, "Unable to allocate memory for page table");
		for (uint64_t i = 0; i < p->l.entries && end <= p->file.size; i += BAT_SCAN_ENTRIES) {
			uint64_t n = p->l.entries - i < BAT_SCAN_ENTRIES ? p->l.entries - i
									 : BAT_SCAN_ENTRIES;
			int ret = io_read(ctx, img->dev, p->l.bat_offset + i * 4, chunk, n * 4);
			if (ret < 0) {
				core_free(ctx, chunk);
				return core_fail(ctx, ret, "Error reading pagetable");
			}
			for (uint64_t j = 0; j < n; j++) {
				uint32_t e = load_be32(chunk + 4 * j);
				uint64_t next = (uint64_t)e * VPC_SECTOR + p->l.bitmap_size +
						p->l.block_size;
				if (e != VPC_BAT_UNUSED && next > end)
					end = next;
			}
		}
		core_free(ctx, chunk);
	}
	if (end > p->file.size)
		return core_fail(ctx, -CD_EINVAL, "block-vpc: free_data_block_offset points "
				 "after the end of file. The image has been truncated.");
	return 0;
}

/* A differencing image's parent: named by a locator (or the header's
 * parent name), attached through the host's backing policy, and checked to
 * be the image this one was made against. */
static int open_parent(struct image *img, struct vpc *p, const struct vpc_dyn_header *h)
{
	struct core_ctx *ctx = img->ctx;
	char *name = core_alloc(ctx, PARENT_NAME_MAX, 1);
	uint8_t *blob = NULL;
	int n, loc = vpc_locator_pick(h);
	if (!name)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	if (loc < 0) {
		n = vpc_parent_name(h->parent_name, name, PARENT_NAME_MAX);
	} else {
		const struct vpc_locator *l = &h->loc[loc];
		uint64_t end;
		n = -CD_EINVAL;
		if (l->data_length <= LOCATOR_MAX &&
		    !ADD_OVERFLOW(l->data_offset, (uint64_t)l->data_length, &end) &&
		    end <= p->file.size && (blob = core_alloc(ctx, l->data_length, 8)) &&
		    io_read(ctx, img->dev, l->data_offset, blob, l->data_length) == 0)
			n = vpc_locator_name(l->platform, blob, l->data_length, name,
					     PARENT_NAME_MAX);
		core_free(ctx, blob);
	}
	int ret;
	if (n < 0)
		ret = core_fail(ctx, -CD_EINVAL, "Differencing image has no valid parent "
				"locator");
	else
		ret = image_open_backing(img, name, (size_t)n, "vpc");
	core_free(ctx, name);
	if (ret < 0 || !img->backing) /* not opened for info */
		return ret;
	const struct vpc *parent = img->backing->priv;
	if (memcmp(parent->f.uuid, h->parent_uuid, 16) != 0)
		return core_fail(ctx, -CD_EINVAL, "Could not open backing file: '%s' is not "
				 "the parent of this differencing image (unique id differs)",
				 img->backing->name);
	return 0;
}

/* The dynamic header, BAT checks and, for a differencing image, its parent. */
static int open_dynamic(struct image *img, struct vpc *p, uint8_t *buf)
{
	struct core_ctx *ctx = img->ctx;
	struct vpc_dyn_header *h = core_alloc(ctx, sizeof(*h), 8);
	if (!h)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	int ret = 0;
	if (p->f.data_offset > VPC_QEMU_MAX_LENGTH - VPC_DYN_HEADER_LEN ||
	    io_read(ctx, img->dev, p->f.data_offset, buf, VPC_DYN_HEADER_LEN) < 0)
		ret = core_fail(ctx, -CD_EIO, "Error reading dynamic VHD header");
	if (ret == 0) {
		vpc_dyn_decode(buf, h);
		if (!h->magic_ok)
			ret = core_fail(ctx, -CD_EINVAL, "Invalid header magic");
	}
	char why[128];
	if (ret == 0 && (ret = vpc_check_layout(h, img->size / VPC_SECTOR, &p->l, why,
						sizeof(why))) < 0)
		core_fail(ctx, ret, "%s", why);
	if (ret == 0)
		ret = scan_bat(img, p);
	if (ret == 0) {
		p->bat_page = core_alloc(ctx, BAT_PAGE_ENTRIES * 4, 64);
		if (!p->bat_page)
			ret = core_fail(ctx, -CD_ENOMEM, "Unable to allocate memory for page table");
	}
	p->differencing = p->f.type == VPC_DIFFERENCING;
	/* qemu's vpc driver reads no parent: for info there is none to name
	 * (nor a locator to refuse). */
	if (ret == 0 && p->differencing && !img->ctx->open_no_backing) {
		p->bitmap = core_alloc(ctx, p->l.bitmap_size, 64);
		ret = p->bitmap ? open_parent(img, p, h)
				: core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	}
	core_free(ctx, h);
	return ret;
}

static int vpc_open(struct image *img)
{
	struct core_ctx *ctx = img->ctx;
	struct vpc *p = core_alloc(ctx, sizeof(*p), 8);
	uint8_t *buf = core_alloc(ctx, VPC_DYN_HEADER_LEN, 64);
	if (!p || !buf) {
		core_free(ctx, p);
		core_free(ctx, buf);
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	}
	*p = (struct vpc){ .bat_page_no = UINT64_MAX, .bitmap_block = UINT64_MAX };
	img->priv = p;
	int ret = raw_open_file(img, &p->file);
	if (ret < 0)
		core_fail(ctx, ret, "Invalid file size");
	else
		ret = read_footer(img, p, buf);
	/* qemu parses a dynamic header whenever the footer came from offset 0,
	 * even one that says "fixed" (whose reads still go to the file). */
	if (ret == 0 && !p->footer_at_end)
		ret = open_dynamic(img, p, buf);
	core_free(ctx, buf);
	if (ret < 0)
		vpc_release(img, p);
	return ret;
}

/* The file's bytes at file_off as the run's extent: data, or zeros for a
 * hole or past the end of the file (qemu zero-fills its rounded tail). */
static int64_t file_run(struct vpc *p, uint64_t file_off, uint64_t len, struct extent *ext)
{
	return format_raw.map(&p->file, file_off, len, ext);
}

static int load_bitmap(struct image *img, struct vpc *p, uint64_t block, uint32_t e)
{
	if (p->bitmap_block == block)
		return 0;
	p->bitmap_block = UINT64_MAX;
	int ret = io_read(img->ctx, img->dev, (uint64_t)e * VPC_SECTOR, p->bitmap,
			  p->l.bitmap_size);
	if (ret == 0)
		p->bitmap_block = block;
	return ret;
}

static bool sector_present(const struct vpc *p, uint64_t s)
{
	return (p->bitmap[s / 8] >> (7 - s % 8)) & 1;
}

/* In an allocated block of a differencing image: how far from `in` the
 * sectors stay on the same side (this image, or the parent). */
static uint64_t bitmap_run(const struct vpc *p, uint64_t in, uint64_t n, bool *present)
{
	uint64_t s = in / VPC_SECTOR, end = in + n;
	*present = sector_present(p, s);
	uint64_t stop = (s + 1) * VPC_SECTOR;
	while (stop < end && sector_present(p, stop / VPC_SECTOR) == *present)
		stop += VPC_SECTOR;
	return (stop < end ? stop : end) - in;
}

static int64_t vpc_map(struct image *img, uint64_t off, uint64_t len, struct extent *ext)
{
	struct vpc *p = img->priv;
	if (p->fixed_reads)
		return file_run(p, off, len, ext);
	uint64_t bs = p->l.block_size, block = off / bs, in = off % bs;
	uint64_t n = bs - in < len ? bs - in : len;
	uint32_t e;
	int ret = bat_entry(img, p, block, &e);
	if (ret < 0)
		return ret;
	if (e == VPC_BAT_UNUSED) {
		/* Unallocated: zeros, or the parent's; consecutive ones together. */
		for (uint32_t k = 1; k < MAP_BLOCKS_MAX && n < len; k++) {
			uint32_t next;
			if ((ret = bat_entry(img, p, block + k, &next)) < 0)
				return ret;
			if (next != VPC_BAT_UNUSED)
				break;
			n = len - n > bs ? n + bs : len;
		}
		*ext = (struct extent){ .kind = p->differencing ? EXT_BACKING : EXT_ZERO };
		return (int64_t)n;
	}
	uint64_t data = (uint64_t)e * VPC_SECTOR + p->l.bitmap_size;
	if (p->differencing) {
		bool present;
		if ((ret = load_bitmap(img, p, block, e)) < 0)
			return ret;
		n = bitmap_run(p, in, n, &present);
		if (!present) {
			*ext = (struct extent){ .kind = EXT_BACKING };
			return (int64_t)n;
		}
	}
	/* Open checked that the block lies inside the (rounded) file. */
	return file_run(p, data + in, n, ext);
}

/* qemu's vpc_get_info(): a block size unless the footer says fixed. */
static void vpc_about(struct image *img, struct image_about *a)
{
	const struct vpc *p = img->priv;
	a->cluster_size = p->f.type == VPC_FIXED ? 0 : p->l.block_size;
}

const struct format_ops format_vpc = {
	.name = "vpc",
	.flags = FORMAT_HAS_METADATA,
	.open = vpc_open,
	.close = vpc_close,
	.map = vpc_map,
	.read = NULL, /* every run is zeros, the file's bytes, or the parent's */
	.writer = &vpc_writer_ops,
	.about = vpc_about,
};
