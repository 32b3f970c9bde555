/*
 * vhdx: open, map and read.  Open follows qemu 7.2's vhdx_open() step by
 * step: the file identifier, the two headers, the log (replayed in memory
 * where qemu would refuse a read-only open, vhdx_log.c), the region table,
 * the metadata, the BAT and qemu's checks of every present block, with
 * qemu's messages.  Every read after the log goes through the replayed
 * view of the file.
 *
 * The BAT is never held whole (its region may be 4 GiB): open scans it in
 * pages, map() reads the page it needs.
 */
#include "vhdx.h"

#include "../endian.h"
#include "../io.h"
#include "../overflow.h"
#include "vhdx_log.h"

#define BAT_PAGE_ENTRIES 4096u
#define QEMU_MAX_LENGTH 0x7fffffffc0000000ull
#define QEMU_MAX_REQUEST 0x7ffffe00ull

struct vhdx {
	struct vhdx_view view;   /* the file, with the log replayed */
	struct image file;       /* the file as raw: holes read as zeros */
	struct vhdx_header h;    /* the header in use */
	struct vhdx_geometry g;
	uint32_t logical;        /* logical sector size */
	bool differencing;       /* has a parent: sector bitmaps, EXT_BACKING */
	struct vhdx_meta_item locator; /* its parent locator (in the metadata region) */
	uint8_t *sb_page;        /* one page of a sector bitmap block */
	uint64_t sb_page_off;    /* its file offset; UINT64_MAX: none */
	uint64_t bat_off;
	uint64_t *bat_page;      /* host order */
	uint64_t bat_page_no;    /* UINT64_MAX: none */
	struct vhdx_regions regions;
};

static void vhdx_release(struct image *img, struct vhdx *p)
{
	if (!p)
		return;
	raw_close_file(&p->file);
	vhdx_view_free(&p->view);
	core_free(img->ctx, p->bat_page);
	core_free(img->ctx, p->sb_page);
	core_free(img->ctx, p);
	img->priv = NULL;
}

static void vhdx_close(struct image *img)
{
	vhdx_release(img, img->priv);
}

/* qemu's failure without a message of its own: bdrv_open's words. */
static int plain_fail(struct image *img, int err)
{
	return core_fail(img->ctx, err, "Could not open '%s': %s", img->name, cd_strerror(err));
}

static int bat_entry(struct vhdx *p, uint64_t i, uint64_t *e)
{
	uint64_t page = i / BAT_PAGE_ENTRIES;
	if (page != p->bat_page_no) {
		uint64_t first = page * BAT_PAGE_ENTRIES;
		uint64_t n = p->g.bat_entries - first < BAT_PAGE_ENTRIES
				     ? p->g.bat_entries - first : BAT_PAGE_ENTRIES;
		p->bat_page_no = UINT64_MAX;
		int ret = vhdx_view_read(&p->view, p->bat_off + first * 8, p->bat_page, n * 8);
		if (ret < 0)
			return ret;
		for (uint64_t k = 0; k < n; k++)
			p->bat_page[k] = load_le64((const uint8_t *)&p->bat_page[k]);
		p->bat_page_no = page;
	}
	*e = p->bat_page[i % BAT_PAGE_ENTRIES];
	return 0;
}

static void say_overlap(struct image *img, const struct vhdx_regions *rs, int at,
			uint64_t start, uint64_t len)
{
	/* qemu's format ends in "%.lu": a region ending at 0 prints nothing */
	char end[24] = "";
	if (rs->r[at].end)
		snprintf(end, sizeof(end), "%llu", (unsigned long long)rs->r[at].end);
	core_say(img->ctx, HC_LEVEL_ERROR, "VHDX region %llu-%llu overlaps with region %llu-%s",
		 (unsigned long long)start, (unsigned long long)(start + len),
		 (unsigned long long)rs->r[at].start, end);
}

/* qemu's vhdx_check_bat_entries: every fully present block inside the
 * file and clear of the log, the BAT and the metadata. */
static int check_bat(struct image *img, struct vhdx *p)
{
	uint64_t file_len = p->view.len, payblocks = p->g.chunk_ratio;
	uint64_t bs = p->g.block_size, virt = p->g.sectors * 512;
	for (uint64_t i = 0; i < p->g.bat_entries; i++) {
		uint64_t e;
		int ret = bat_entry(p, i, &e);
		if (ret < 0)
			return plain_fail(img, ret);
		uint64_t state = e & VHDX_BAT_STATE_MASK;
		if (state != VHDX_PAYLOAD_FULLY_PRESENT &&
		    !(p->differencing && state == VHDX_PAYLOAD_PARTIALLY_PRESENT))
			continue;
		uint64_t off = e & VHDX_BAT_OFF_MASK;
		/* qemu's arithmetic: i counts bitmap entries too, and wraps */
		uint64_t rest = virt - i * bs, block_len = rest < bs ? rest : bs;
		const char *why = NULL;
		if (off > (uint64_t)INT64_MAX - bs) {
			core_say(img->ctx, HC_LEVEL_ERROR, "VHDX BAT entry %llu offset overflow.",
				 (unsigned long long)i);
			return plain_fail(img, -CD_EINVAL);
		}
		if (off >= file_len)
			why = "start";
		else if (off + block_len > file_len)
			why = "end";
		if (why) {
			core_say(img->ctx, HC_LEVEL_ERROR, "VHDX BAT entry %llu %s offset %llu points "
				 "after end of file (%lld). Image has probably been truncated.",
				 (unsigned long long)i, why,
				 (unsigned long long)(why[0] == 's' ? off : off + block_len - 1),
				 (long long)file_len);
			return plain_fail(img, -CD_EINVAL);
		}
		if (payblocks--) {
			int at = vhdx_region_overlap(&p->regions, off, bs);
			if (at >= 0) {
				say_overlap(img, &p->regions, at, off, bs);
				return plain_fail(img, -CD_EINVAL);
			}
			if (off == 0)
				return core_fail(img->ctx, -CD_EINVAL, "Could not open '%s': BAT entry "
						 "%llu places a block at offset 0, in the header "
						 "section: cordon refuses it", img->name,
						 (unsigned long long)i);
		} else {
			payblocks = p->g.chunk_ratio;
		}
	}
	return 0;
}

static int read_headers(struct image *img, struct vhdx *p, uint8_t *buf,
			struct vhdx_header *h)
{
	struct vhdx_header h1, h2;
	int ret = vhdx_view_read(&p->view, VHDX_HEADER1_OFF, buf, VHDX_HEADER_LEN);
	if (ret == 0) {
		vhdx_header_decode(buf, &h1);
		ret = vhdx_view_read(&p->view, VHDX_HEADER2_OFF, buf, VHDX_HEADER_LEN);
	}
	if (ret < 0)
		return plain_fail(img, ret);
	vhdx_header_decode(buf, &h2);
	int which = vhdx_pick_header(&h1, &h2);
	if (which < 0)
		return core_fail(img->ctx, -CD_EINVAL, "No valid VHDX header found");
	*h = which == 0 ? h1 : h2;
	vhdx_region_add(&p->regions, h->log_offset, h->log_length);
	return 0;
}

/* Reads a little-endian metadata value qemu reads without checking the
 * item's length: `len` bytes at the item's offset. */
static int meta_value(struct vhdx *p, uint64_t region, const struct vhdx_meta_item *it,
		      uint8_t *buf, uint32_t len, uint64_t *v)
{
	int ret = vhdx_view_read(&p->view, region + it->offset, buf, len);
	*v = ret < 0 ? 0 : len == 8 ? load_le64(buf) : load_le32(buf);
	return ret;
}

static int read_metadata(struct image *img, struct vhdx *p, uint8_t *buf,
			 const struct vhdx_region_entry *meta)
{
	struct vhdx_metadata m;
	int ret = vhdx_view_read(&p->view, meta->offset, buf, VHDX_METADATA_TABLE_LEN);
	if (ret == 0)
		ret = vhdx_metadata_decode(buf, &m);
	uint64_t params = 0, vsize = 0, logical = 0, physical = 0;
	if (ret == 0)
		ret = meta_value(p, meta->offset, &m.file_params, buf, 8, &params);
	bool has_parent = ret == 0 && ((params >> 32) & VHDX_PARAMS_HAS_PARENT);
	bool has_locator = ret == 0 && (m.present & VHDX_META_PARENT_LOCATOR);
	if (has_parent && !has_locator)
		ret = -CD_EINVAL; /* has a parent, but no locator */
	if (has_locator && !has_parent)
		ret = -CD_ENOTSUP; /* qemu's answer to any locator */
	/* A differencing image: qemu refuses it (ENOTSUP), cordon reads it
	 * with its parent (docs/vhdx.md). */
	p->differencing = has_parent && has_locator;
	p->locator = m.parent_locator;
	if (ret == 0)
		ret = meta_value(p, meta->offset, &m.virtual_size, buf, 8, &vsize);
	if (ret == 0)
		ret = meta_value(p, meta->offset, &m.logical_sector, buf, 4, &logical);
	if (ret == 0)
		ret = meta_value(p, meta->offset, &m.physical_sector, buf, 4, &physical);
	if (ret == 0)
		ret = vhdx_geometry((uint32_t)params, (uint32_t)logical, vsize, &p->g);
	p->logical = (uint32_t)logical;
	if (ret == 0 && p->differencing) {
		/* every chunk has its sector bitmap entry (MS-VHDX 2.5) */
		uint64_t blocks = (vsize + p->g.block_size - 1) / p->g.block_size;
		uint64_t chunks = (blocks + p->g.chunk_ratio - 1) / p->g.chunk_ratio;
		uint64_t entries = chunks * ((uint64_t)p->g.chunk_ratio + 1);
		if (entries > UINT32_MAX)
			ret = -CD_EINVAL;
		p->g.bat_entries = (uint32_t)entries;
	}
	return ret < 0 ? plain_fail(img, ret) : 0;
}

static int read_bat_region(struct image *img, struct vhdx *p, const struct vhdx_region_entry *bat)
{
	if (p->g.bat_entries > bat->length / 8)
		return plain_fail(img, -CD_EINVAL); /* the region is too small */
	if (bat->length > QEMU_MAX_REQUEST || bat->offset > QEMU_MAX_LENGTH - bat->length)
		return plain_fail(img, -CD_EIO); /* qemu cannot read it */
	p->bat_off = bat->offset;
	p->bat_page = core_alloc(img->ctx, BAT_PAGE_ENTRIES * 8, 64);
	if (!p->bat_page)
		return plain_fail(img, -CD_ENOMEM);
	return check_bat(img, p);
}

static bool same_text_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
		char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* A differencing image's parent: named by its locator, attached through
 * the backing policy, opened as vhdx, and the one whose data write GUID
 * the locator's parent_linkage (or parent_linkage2) records. */
static int open_parent(struct image *img, struct vhdx *p, const struct vhdx_region_entry *meta)
{
	struct core_ctx *ctx = img->ctx;
	uint32_t len = p->locator.length;
	struct vhdx_parent *par = core_alloc(ctx, sizeof(*par), 8);
	uint8_t *buf = len && len <= VHDX_LOCATOR_MAX ? core_alloc(ctx, len, 8) : NULL;
	const char *why = "its parent locator is empty or over 64 KiB";
	int ret = par ? 0 : -CD_ENOMEM;
	if (ret == 0 && buf)
		ret = vhdx_view_read(&p->view, meta->offset + p->locator.offset, buf, len);
	if (ret == 0)
		ret = buf ? vhdx_parent_locator_decode(buf, len, par, &why) : -CD_EINVAL;
	if (ret == -CD_EINVAL)
		core_fail(ctx, ret, "cannot follow the parent of this differencing image: %s",
			  why);
	if (ret == 0)
		ret = image_open_backing(img, par->name, par->name_len, "vhdx");
	if (ret == 0 && img->backing) { /* not opened for info */
		const struct vhdx *parent = img->backing->priv;
		char want[39];
		vhdx_guid_text(parent->h.data_write_guid, want);
		if (!same_text_nocase(par->linkage, want) && !same_text_nocase(par->linkage2, want))
			ret = core_fail(ctx, -CD_EINVAL, "Could not open backing file: '%s' is not "
					"the parent of this differencing image (data write GUID "
					"%s, the child names %s)", img->backing->name, want,
					par->linkage);
	}
	core_free(ctx, buf);
	core_free(ctx, par);
	return ret < 0 ? core_fail(ctx, ret, "%s", cd_strerror(ret)) : 0;
}

static int open_all(struct image *img, struct vhdx *p, uint8_t *buf)
{
	struct vhdx_header h;
	int ret = vhdx_view_read(&p->view, 0, buf, 8);
	if (ret == 0 && memcmp(buf, "vhdxfile", 8) != 0)
		ret = -CD_EINVAL;
	if (ret < 0)
		return plain_fail(img, ret);
	if ((ret = read_headers(img, p, buf, &h)) < 0)
		return ret;
	p->h = h;
	if ((ret = vhdx_log_replay(&p->view, &h, img->name)) < 0)
		return ret;
	struct vhdx_region_result rt;
	ret = vhdx_view_read(&p->view, VHDX_REGION_TABLE_OFF, buf, VHDX_HEADER_BLOCK);
	if (ret == 0 && (ret = vhdx_region_table_decode(buf, &p->regions, &rt)) < 0 &&
	    rt.overlap_at >= 0)
		say_overlap(img, &p->regions, rt.overlap_at, rt.overlap_start, rt.overlap_len);
	if (ret < 0)
		return plain_fail(img, ret);
	if ((ret = read_metadata(img, p, buf, &rt.metadata)) < 0)
		return ret;
	if ((ret = read_bat_region(img, p, &rt.bat)) < 0)
		return ret;
	img->size = p->g.sectors * 512;
	return p->differencing ? open_parent(img, p, &rt.metadata) : 0;
}

static int vhdx_open(struct image *img)
{
	struct core_ctx *ctx = img->ctx;
	struct vhdx *p = core_alloc(ctx, sizeof(*p), 8);
	uint8_t *buf = core_alloc(ctx, VHDX_HEADER_BLOCK, 64);
	if (!p || !buf) {
		core_free(ctx, p);
		core_free(ctx, buf);
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	}
	*p = (struct vhdx){ .bat_page_no = UINT64_MAX, .sb_page_off = UINT64_MAX };
	img->priv = p;
	int ret = raw_open_file(img, &p->file);
	if (ret < 0) {
		plain_fail(img, ret);
	} else {
		p->view = (struct vhdx_view){ .ctx = ctx, .dev = img->dev, .len = p->file.size,
					      .window_off = UINT64_MAX };
		ret = open_all(img, p, buf);
	}
	core_free(ctx, buf);
	if (ret < 0)
		vhdx_release(img, p);
	return ret;
}

/* The block holding off: its BAT entry, the offset in it, the run's length. */
static int locate(struct vhdx *p, uint64_t off, uint64_t len, uint64_t *e,
		  uint64_t *in, uint64_t *n)
{
	uint64_t bs = p->g.block_size, block = off / bs;
	*in = off % bs;
	*n = bs - *in < len ? bs - *in : len;
	return bat_entry(p, block + (block >> p->g.chunk_ratio_bits), e);
}

static bool reads_as_zero(uint64_t e)
{
	switch (e & VHDX_BAT_STATE_MASK) {
	case VHDX_PAYLOAD_NOT_PRESENT:
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_ZERO:
	case VHDX_PAYLOAD_UNMAPPED:
	case VHDX_PAYLOAD_UNMAPPED_V095:
		return true;
	default:
		return false;
	}
}

/* A bit of the sector bitmap at file offset sb: whether sector s of its
 * chunk is in this file (1) or the parent's (0). */
static int sector_bit(struct image *img, struct vhdx *p, uint64_t sb, uint64_t s, bool *bit)
{
	uint64_t at = sb + s / 8, page = at & ~(uint64_t)(VHDX_SB_PAGE - 1);
	if (page != p->sb_page_off) {
		if (!p->sb_page && !(p->sb_page = core_alloc(img->ctx, VHDX_SB_PAGE, 64)))
			return -CD_ENOMEM;
		p->sb_page_off = UINT64_MAX;
		int ret = vhdx_view_read(&p->view, page, p->sb_page, VHDX_SB_PAGE);
		if (ret < 0)
			return ret;
		p->sb_page_off = page;
	}
	*bit = p->sb_page[at - page] >> (s % 8) & 1;
	return 0;
}

/* Of a partially present block's run [in, in + n): how much from `in` on
 * is all in this file (*present) or all the parent's. */
static int64_t partial_run(struct image *img, struct vhdx *p, uint64_t block, uint64_t in,
			   uint64_t n, bool *present)
{
	uint64_t cr = p->g.chunk_ratio, chunk = block >> p->g.chunk_ratio_bits, sbe;
	int ret = bat_entry(p, chunk * (cr + 1) + cr, &sbe);
	if (ret < 0)
		return ret;
	if ((sbe & VHDX_BAT_STATE_MASK) != VHDX_SB_BLOCK_PRESENT)
		return -CD_EIO; /* a partially present block needs its bitmap */
	uint64_t sb = sbe & VHDX_BAT_OFF_MASK;
	uint64_t pos = (block & (cr - 1)) * p->g.block_size + in, end = pos + n;
	uint64_t s = pos / p->logical;
	bool first;
	if ((ret = sector_bit(img, p, sb, s, &first)) < 0)
		return ret;
	uint64_t run_end = (s + 1) * p->logical;
	while (run_end < end) {
		bool b;
		if ((ret = sector_bit(img, p, sb, run_end / p->logical, &b)) < 0)
			return ret;
		if (b != first)
			break;
		run_end += p->logical;
	}
	*present = first;
	return (int64_t)((run_end < end ? run_end : end) - pos);
}

/* A stretch of this file's block data at fo: EXT_OTHER where the log
 * replay wrote, else the file's own data and holes. */
static int64_t file_run(struct vhdx *p, uint64_t fo, uint64_t n, struct extent *ext)
{
	if (vhdx_view_touched(&p->view, fo, n)) {
		*ext = (struct extent){ .kind = EXT_OTHER };
		return (int64_t)n;
	}
	return format_raw.map(&p->file, fo, n, ext);
}

/* A differencing image's block states (MS-VHDX 2.5.1.1): not present is
 * the parent's; zero is zeros, and so are undefined and unmapped (their
 * content is the file's to choose, and zeros are what qemu reads for them
 * elsewhere); present is here; partially present per sector by the chunk's
 * bitmap. */
static int64_t map_differencing(struct image *img, struct vhdx *p, uint64_t off, uint64_t e,
				uint64_t in, uint64_t n, struct extent *ext)
{
	switch (e & VHDX_BAT_STATE_MASK) {
	case VHDX_PAYLOAD_NOT_PRESENT:
		*ext = (struct extent){ .kind = EXT_BACKING };
		return (int64_t)n;
	case VHDX_PAYLOAD_FULLY_PRESENT:
		return file_run(p, (e & VHDX_BAT_OFF_MASK) + in, n, ext);
	case VHDX_PAYLOAD_PARTIALLY_PRESENT: {
		bool present;
		int64_t r = partial_run(img, p, off / p->g.block_size, in, n, &present);
		if (r <= 0 || present)
			return r <= 0 ? (r < 0 ? r : -CD_EIO)
				      : file_run(p, (e & VHDX_BAT_OFF_MASK) + in, (uint64_t)r, ext);
		*ext = (struct extent){ .kind = EXT_BACKING };
		return r;
	}
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_ZERO:
	case VHDX_PAYLOAD_UNMAPPED:
	case VHDX_PAYLOAD_UNMAPPED_V095:
		*ext = (struct extent){ .kind = EXT_ZERO };
		return (int64_t)n;
	default: /* reserved states */
		return -CD_EIO;
	}
}

static int64_t vhdx_map(struct image *img, uint64_t off, uint64_t len, struct extent *ext)
{
	struct vhdx *p = img->priv;
	uint64_t e, in, n;
	int ret = locate(p, off, len, &e, &in, &n);
	if (ret < 0)
		return ret;
	if (p->differencing)
		return map_differencing(img, p, off, e, in, n, ext);
	if (reads_as_zero(e)) {
		*ext = (struct extent){ .kind = EXT_ZERO };
		return (int64_t)n;
	}
	/* partially present blocks belong to differencing images, which qemu
	 * refuses to open; any other state is an error when read */
	if ((e & VHDX_BAT_STATE_MASK) != VHDX_PAYLOAD_FULLY_PRESENT)
		return -CD_EIO;
	return file_run(p, (e & VHDX_BAT_OFF_MASK) + in, n, ext);
}

/* EXT_OTHER runs: blocks the log replay wrote into. */
static int vhdx_read(struct image *img, uint64_t off, void *buf, uint64_t len)
{
	struct vhdx *p = img->priv;
	uint8_t *out = buf;
	while (len > 0) {
		uint64_t e, in, n;
		int ret = locate(p, off, len, &e, &in, &n);
		if (ret < 0)
			return ret;
		uint64_t state = e & VHDX_BAT_STATE_MASK;
		/* map() gave a run of this file's data: of a present block, or
		 * the present sectors of a partially present one */
		bool here = state == VHDX_PAYLOAD_FULLY_PRESENT ||
			    (p->differencing && state == VHDX_PAYLOAD_PARTIALLY_PRESENT);
		if (!here && reads_as_zero(e) && !p->differencing)
			memset(out, 0, n);
		else if (!here)
			return -CD_EIO;
		else if ((ret = vhdx_view_read(&p->view, (e & VHDX_BAT_OFF_MASK) + in, out, n)) < 0)
			return ret;
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* qemu's vhdx_get_info(): the block size. */
static void vhdx_about(struct image *img, struct image_about *a)
{
	const struct vhdx *p = img->priv;
	a->cluster_size = p->g.block_size;
}

const struct format_ops format_vhdx = {
	.name = "vhdx",
	.flags = FORMAT_HAS_METADATA,
	.open = vhdx_open,
	.close = vhdx_close,
	.map = vhdx_map,
	.read = vhdx_read,
	.writer = &vhdx_writer_ops,
	.about = vhdx_about,
};
