/*
 * vmdk writer: a monolithicSparse image laid out as qemu-img dd -O vmdk
 * creates one (qemu's vmdk_init_extent() and descriptor template), with
 * grains appended as dd's data arrives:
 *
 *   sector 0          magic and header (version 1, redundant directory)
 *   1..20             the embedded descriptor
 *   rgd_offset        redundant grain directory, then its grain tables
 *   gd_offset         grain directory, then its grain tables
 *   grain_offset      64 KiB grains, in the order their data arrives
 *
 * All-zero grains stay unallocated (qemu-img dd allocates them; the disk
 * reads the same).  Every grain table is written in both copies when dd
 * moves past it; memory is one table.
 */
#include "vmdk.h"

#include "../block_append.h"
#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

#define VW_GRAIN ((uint64_t)VMDK_CREATE_GRAIN * VMDK_SECTOR)
#define VW_GT_SECTORS (VMDK_CREATE_GTES * 4 / VMDK_SECTOR)
#define VW_DESC_SECTORS 20u
#define VW_DIR_CHUNK 1024u /* directory entries written at once */

int vmdk_create_layout(uint64_t sectors, struct vmdk_create_layout *l)
{
	uint64_t grains = sectors / VMDK_CREATE_GRAIN + (sectors % VMDK_CREATE_GRAIN != 0);
	/* qemu counts grains in 32 bits */
	if (grains > UINT32_MAX)
		return -CD_EFBIG;
	l->gt_count = grains / VMDK_CREATE_GTES + (grains % VMDK_CREATE_GTES != 0);
	l->gd_sectors = (l->gt_count * 4 + VMDK_SECTOR - 1) / VMDK_SECTOR;
	l->rgd_offset = 1 + VW_DESC_SECTORS;
	l->gd_offset = l->rgd_offset + l->gd_sectors + VW_GT_SECTORS * l->gt_count;
	uint64_t end = l->gd_offset + l->gd_sectors + VW_GT_SECTORS * l->gt_count;
	l->grain_offset = (end + VMDK_CREATE_GRAIN - 1) / VMDK_CREATE_GRAIN * VMDK_CREATE_GRAIN;
	return 0;
}

struct vw {
	struct block_append a;  /* first: block_append_op_write() finds it */
	struct vmdk_create_layout l;
	uint64_t next_free;     /* bytes: where the next grain goes */
	uint32_t *gt;           /* the grain table being filled (LE entries) */
	uint64_t gt_no;         /* which one */
	bool gt_dirty;          /* it has entries */
	uint32_t *dir;          /* VW_DIR_CHUNK entries, for create */
};

static void vw_release(struct image_writer *w)
{
	struct vw *s = w->priv;
	if (!s)
		return;
	block_append_free(w, &s->a);
	core_free(w->ctx, s->gt);
	core_free(w->ctx, s->dir);
	core_free(w->ctx, s);
	w->priv = NULL;
}

static int release_on_error(struct image_writer *w, int ret)
{
	if (ret < 0)
		vw_release(w);
	return ret;
}

/* Grain table t of the directory at dir_offset (sectors), in bytes. */
static uint64_t gt_at(const struct vmdk_create_layout *l, uint64_t dir_offset, uint64_t t)
{
	return (dir_offset + l->gd_sectors + VW_GT_SECTORS * t) * VMDK_SECTOR;
}

/* Writes the table being filled in both copies (on a zeroed device only if
 * it has entries) and moves on to table `to`, writing the tables passed
 * over where the device does not read as zeros. */
static int gt_advance(struct image_writer *w, struct vw *s, uint64_t to)
{
	if (to > s->l.gt_count)
		to = s->l.gt_count;
	while (s->gt_no < to) {
		if (s->gt_dirty || !w->zeroed) {
			for (int copy = 0; copy < 2; copy++) {
				uint64_t dir = copy ? s->l.gd_offset : s->l.rgd_offset;
				int ret = io_write(w->ctx, w->dev, gt_at(&s->l, dir, s->gt_no), s->gt,
						   VMDK_CREATE_GTES * 4);
				if (ret < 0)
					return ret;
			}
			memset(s->gt, 0, VMDK_CREATE_GTES * 4);
			s->gt_dirty = false;
		}
		s->gt_no++;
	}
	return 0;
}

/* Grain g gets the next place in the file; its entry goes into its table. */
static int vw_allocate(struct image_writer *w, uint64_t g, uint64_t *data_off)
{
	struct vw *s = w->priv;
	int ret = gt_advance(w, s, g / VMDK_CREATE_GTES);
	if (ret < 0)
		return ret;
	uint64_t at = s->next_free, end;
	/* grain table entries are 32-bit sector numbers */
	if (ADD_OVERFLOW(at, VW_GRAIN, &end) || end / VMDK_SECTOR > UINT32_MAX)
		return -CD_EFBIG;
	store_le32((uint8_t *)&s->gt[g % VMDK_CREATE_GTES], (uint32_t)(at / VMDK_SECTOR));
	s->gt_dirty = true;
	s->next_free = end;
	*data_off = at;
	return 0;
}

static int vw_finish(struct image_writer *w)
{
	struct vw *s = w->priv;
	if (!s)
		return -CD_EINVAL;
	const struct hostcalls *hc = w->ctx->env->hc;
	int ret = block_append_close_block(w, &s->a);
	if (ret == 0)
		ret = gt_advance(w, s, UINT64_MAX);
	/* the last grain whole, as qemu leaves it */
	if (ret == 0) {
		int64_t r = hc->truncate(hc->ctx, w->dev, s->next_free);
		ret = r < 0 ? (int)r : 0;
	}
	vw_release(w);
	return ret;
}

/* Both grain directories: entry i points at grain table i of its copy. */
static int write_directories(struct image_writer *w, struct vw *s)
{
	for (int copy = 0; copy < 2; copy++) {
		uint64_t dir = copy ? s->l.gd_offset : s->l.rgd_offset;
		uint64_t bytes = s->l.gd_sectors * VMDK_SECTOR;
		for (uint64_t first = 0; first * 4 < bytes; first += VW_DIR_CHUNK) {
			memset(s->dir, 0, VW_DIR_CHUNK * 4);
			for (uint64_t i = first; i < first + VW_DIR_CHUNK && i < s->l.gt_count; i++)
				store_le32((uint8_t *)&s->dir[i - first],
					   (uint32_t)(gt_at(&s->l, dir, i) / VMDK_SECTOR));
			uint64_t n = bytes - first * 4 < VW_DIR_CHUNK * 4 ? bytes - first * 4
									 : VW_DIR_CHUNK * 4;
			int ret = io_write(w->ctx, w->dev, dir * VMDK_SECTOR + first * 4, s->dir, n);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* g_path_get_basename() of the output's name, as the extent line has it. */
static const char *base_name(const char *name, size_t *len)
{
	size_t n = strlen(name);
	while (n > 1 && name[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && name[start - 1] != '/')
		start--;
	*len = n - start;
	return name + start;
}

/* Sector 0 and the descriptor (sectors 1..20) as qemu writes them. */
static int write_head(struct image_writer *w, struct vw *s, const struct writer_opts *o)
{
	struct core_ctx *ctx = w->ctx;
	uint64_t sectors = w->size / VMDK_SECTOR;
	size_t len = (1 + VW_DESC_SECTORS) * VMDK_SECTOR;
	uint8_t *buf = core_alloc(ctx, len, 64);
	char *name = io_dev_name(ctx, w->dev);
	int ret = buf && name ? 0 : -CD_ENOMEM;
	if (ret == 0) {
		memset(buf, 0, len);
		store_be32(buf, VMDK4_MAGIC);
		struct vmdk4_header h = {
			.version = 1,
			.flags = VMDK4_FLAG_RGD | VMDK4_FLAG_NL_DETECT,
			.capacity = sectors,
			.granularity = VMDK_CREATE_GRAIN,
			.desc_offset = 1,
			.desc_size = VW_DESC_SECTORS,
			.num_gtes_per_gt = VMDK_CREATE_GTES,
			.rgd_offset = s->l.rgd_offset,
			.gd_offset = s->l.gd_offset,
			.grain_offset = s->l.grain_offset,
		};
		vmdk4_header_encode(&h, buf + 4);
		/* qemu's g_random_int() */
		uint32_t cid = o->entropy ? load_le32(o->entropy + 16) : 0;
		size_t base_len;
		const char *base = base_name(name, &base_len);
		int n = snprintf((char *)buf + VMDK_SECTOR, VW_DESC_SECTORS * VMDK_SECTOR,
				 "# Disk DescriptorFile\n"
				 "version=1\n"
				 "CID=%x\n"
				 "parentCID=ffffffff\n"
				 "createType=\"monolithicSparse\"\n"
				 "\n"
				 "# Extent description\n"
				 "RW %llu SPARSE \"%.*s\"\n"
				 "\n"
				 "# The Disk Data Base\n"
				 "#DDB\n"
				 "\n"
				 "ddb.virtualHWVersion = \"4\"\n"
				 "ddb.geometry.cylinders = \"%llu\"\n"
				 "ddb.geometry.heads = \"16\"\n"
				 "ddb.geometry.sectors = \"63\"\n"
				 "ddb.adapterType = \"ide\"\n"
				 "ddb.toolsVersion = \"2147483647\"\n",
				 cid, (unsigned long long)sectors, (int)base_len, base,
				 (unsigned long long)(w->size / (63 * 16 * VMDK_SECTOR)));
		if (n < 0 || (size_t)n >= VW_DESC_SECTORS * VMDK_SECTOR)
			ret = core_fail(ctx, -CD_ENAMETOOLONG, "the output's name does not fit "
					"in a VMDK descriptor");
	}
	if (ret == 0)
		ret = io_write(ctx, w->dev, 0, buf, len);
	core_free(ctx, buf);
	core_free(ctx, name);
	return ret;
}

static int vw_create(struct image_writer *w, const struct writer_opts *o)
{
	struct core_ctx *ctx = w->ctx;
	int ret = writer_check_opts(w, "vmdk", o, 0);
	if (ret < 0)
		return ret;
	if (w->size == 0) {
		/* qemu creates the file and a header of capacity 0, which its
		 * own open then reads as a descriptor naming this type, and
		 * refuses: creation errors first, then that (the host removes
		 * what was created) */
		ret = writer_create_output(w);
		if (ret < 0)
			return ret;
		w->fails_at_reopen = true;
		return core_fail(ctx, -CD_ENOTSUP, "Unsupported image type 'monolithicSparse'");
	}
	struct vw *s = core_alloc(ctx, sizeof(*s), 8);
	if (!s)
		return -CD_ENOMEM;
	*s = (struct vw){ 0 };
	w->priv = s;
	w->size = (w->size + VMDK_SECTOR - 1) / VMDK_SECTOR * VMDK_SECTOR;
	if (vmdk_create_layout(w->size / VMDK_SECTOR, &s->l) < 0)
		return release_on_error(w, core_fail(ctx, -CD_EFBIG, "cordon writes VMDK disks "
						     "of up to 256 TiB (qemu's grain count "
						     "is 32-bit)"));
	w->zero_unit = VMDK_SECTOR;
	s->next_free = s->l.grain_offset * VMDK_SECTOR;
	s->gt = core_alloc(ctx, VMDK_CREATE_GTES * 4, 64);
	s->dir = core_alloc(ctx, VW_DIR_CHUNK * 4, 64);
	if (!s->gt || !s->dir || block_append_init(w, &s->a, VW_GRAIN, vw_allocate, vw_release) < 0)
		return release_on_error(w, -CD_ENOMEM);
	memset(s->gt, 0, VMDK_CREATE_GTES * 4);
	ret = writer_create_output(w);
	if (ret == 0) {
		const struct hostcalls *hc = ctx->env->hc;
		int64_t r = hc->truncate(hc->ctx, w->dev, s->next_free);
		ret = r < 0 ? (int)r : 0;
	}
	if (ret == 0)
		ret = write_head(w, s, o);
	if (ret == 0)
		ret = write_directories(w, s);
	return release_on_error(w, ret);
}

const struct writer_ops vmdk_writer_ops = {
	.create = vw_create,
	.abort = vw_release,
	.write = block_append_op_write,
	/* data passes through, so that zero grains are found and left out */
	.copy = NULL,
	.zero = block_append_op_zero,
	.finish = vw_finish,
};
