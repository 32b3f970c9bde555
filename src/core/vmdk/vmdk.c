/*
 * vmdk: open, map and read VMDK images.  Open follows qemu 7.2's
 * vmdk_open() step by step: a file starting with a sparse magic is one
 * sparse extent (monolithicSparse, streamOptimized, an ESX "COWD" file);
 * anything else is a text descriptor naming extent files, each attached
 * through the host's policy (kind extent), never opened here by name.  A
 * parent named by parentFileNameHint is attached as a backing file (format
 * vmdk, as qemu forces it) and read where the child has no grain, after
 * qemu's CID check.
 *
 * Reading follows qemu's vmdk_co_preadv(): flat extents and uncompressed
 * grains are stretches of their files (EXT_RAW, so holes stay holes and
 * data may be copied host-side); compressed grains are inflated here
 * through fixed buffers, whatever the grain size.
 */
#include "vmdk_priv.h"

#include "../compress.h"
#include "../endian.h"
#include "../io.h"
#include "../overflow.h"

/* qemu's BDRV_MAX_LENGTH: past it every read fails with -EIO. */
#define QEMU_MAX_LENGTH ((uint64_t)INT64_MAX - ((1ull << 30) - 1))
/* Descriptors nested in sparse extents (capacity 0 and a descriptor
 * offset): qemu follows them without limit, cordon this deep. */
#define VMDK_MAX_NEST 4u

static bool qemu_can_read(uint64_t off, uint64_t len)
{
	return off <= QEMU_MAX_LENGTH && len <= QEMU_MAX_LENGTH - off;
}

/* The file's length as qemu's bdrv_getlength() gives it: whole sectors. */
static int file_sectors(struct core_ctx *ctx, uint32_t dev, uint64_t *sectors)
{
	const struct hostcalls *hc = ctx->env->hc;
	int64_t size = hc->size(hc->ctx, dev);
	if (size < 0)
		return (int)size;
	*sectors = (uint64_t)size / VMDK_SECTOR + ((uint64_t)size % VMDK_SECTOR != 0);
	return 0;
}

/* vmdk_read_desc()'s first check: the file must hold at least 4 bytes
 * (as qemu measures it, in whole sectors: it must not be empty). */
static int check_not_empty(struct core_ctx *ctx, uint32_t dev, uint64_t *sectors)
{
	int ret = file_sectors(ctx, dev, sectors);
	if (ret < 0)
		return core_fail(ctx, ret, "Could not access file: %s", cd_strerror(ret));
	if (*sectors == 0)
		return core_fail(ctx, -CD_EINVAL, "File is too small, not a valid image");
	return 0;
}

/* qemu's vmdk_read_desc(): up to 1 MiB - 1 bytes from off (the limit is
 * the file's length, not what lies after off), NUL-terminated. */
static int read_desc(struct core_ctx *ctx, uint32_t dev, uint64_t off, char **out,
		     size_t *out_len)
{
	uint64_t sectors;
	int ret = check_not_empty(ctx, dev, &sectors);
	if (ret < 0)
		return ret;
	uint64_t n = sectors <= VMDK_DESC_READ_MAX / VMDK_SECTOR ? sectors * VMDK_SECTOR
								 : VMDK_DESC_READ_MAX;
	if (!qemu_can_read(off, n))
		return core_fail(ctx, -CD_EIO, "Could not read from file: %s",
				 cd_strerror(CD_EIO));
	char *buf = core_alloc(ctx, (size_t)n + 1, 8);
	if (!buf)
		return -CD_ENOMEM;
	ret = io_read(ctx, dev, off, buf, n);
	if (ret < 0) {
		core_free(ctx, buf);
		return core_fail(ctx, ret, "Could not read from file: %s", cd_strerror(ret));
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

/* qemu's vmdk_add_extent(): its checks, then the extent at the end. */
static int add_extent(struct core_ctx *ctx, struct vmdk *p, const struct vmdk_extent *e)
{
	if (e->cluster_sectors > VMDK_MAX_CLUSTER_SECTORS)
		return core_fail(ctx, -CD_EFBIG, "Invalid granularity, image may be corrupt");
	if (e->l1_size > VMDK_MAX_L1_SIZE)
		return core_fail(ctx, -CD_EFBIG, "L1 size too big");
	if (p->n_ext == p->cap_ext) {
		if (p->n_ext > HC_MAX_EXTENT_FILES)
			return core_fail(ctx, -CD_EFBIG, "the image has more than %u extents",
					 HC_MAX_EXTENT_FILES);
		uint32_t cap = p->cap_ext ? p->cap_ext * 2 : 4;
		struct vmdk_extent *n = core_alloc(ctx, cap * sizeof(*n), 8);
		if (!n)
			return -CD_ENOMEM;
		if (p->n_ext)
			memcpy(n, p->ext, p->n_ext * sizeof(*n));
		core_free(ctx, p->ext);
		p->ext = n;
		p->cap_ext = cap;
	}
	p->ext[p->n_ext] = *e;
	p->ext[p->n_ext].start = p->total;
	p->ext[p->n_ext].file_name = NULL;
	p->ext[p->n_ext].type_word = "";
	p->n_ext++;
	/* saturating: open() refuses a disk past qemu's length */
	if (ADD_OVERFLOW(p->total, e->sectors, &p->total))
		p->total = UINT64_MAX;
	return 0;
}

/* qemu's vmdk_init_tables(): the directory (and its redundant copy) must be
 * readable where qemu reads them whole; cordon then pages the first. */
static int check_tables(struct core_ctx *ctx, const struct vmdk_extent *e, uint64_t rgd_off,
			const char *name)
{
	uint64_t bytes = (uint64_t)e->l1_size * 4;
	if (!qemu_can_read(e->gd_off, bytes))
		return core_fail(ctx, -CD_EIO, "Could not read l1 table from extent '%s': %s",
				 name, cd_strerror(CD_EIO));
	if (rgd_off && !qemu_can_read(rgd_off, bytes))
		return core_fail(ctx, -CD_EIO, "Could not read l1 backup table from extent "
				 "'%s': %s", name, cd_strerror(CD_EIO));
	return 0;
}

static int open_desc_file(struct image *img, struct vmdk *p, const char *buf, size_t len);

/* qemu's vmdk_open_vmdk4(): a hosted sparse extent in dev. */
static int open_vmdk4(struct image *img, struct vmdk *p, uint32_t dev, const char *name,
		      const uint8_t *head)
{
	struct core_ctx *ctx = img->ctx;
	struct vmdk4_header h;
	vmdk4_header_decode(head + 4, &h);
	if (h.capacity == 0 && h.desc_offset) {
		/* a descriptor in a sparse file: read as a descriptor file */
		if (p->nest >= VMDK_MAX_NEST)
			return core_fail(ctx, -CD_EINVAL, "cordon follows VMDK descriptors nested "
					 "%u deep at most ('%s' holds one more)", VMDK_MAX_NEST,
					 name);
		char *desc;
		size_t desc_len;
		int ret = read_desc(ctx, dev, h.desc_offset << 9, &desc, &desc_len);
		if (ret < 0)
			return ret;
		p->nest++;
		ret = open_desc_file(img, p, desc, desc_len);
		p->nest--;
		core_free(ctx, desc);
		return ret;
	}
	if (!p->create_type[0])
		snprintf(p->create_type, sizeof(p->create_type), "monolithicSparse");
	if (h.gd_offset == VMDK4_GD_AT_END) {
		/* The footer wins.  qemu finds it from the end of the image's
		 * own file, even for an extent named by a descriptor. */
		uint8_t *f = core_alloc(ctx, VMDK_FOOTER_LEN, 8);
		if (!f)
			return -CD_ENOMEM;
		int ret = 0;
		if (p->top_sectors * VMDK_SECTOR < VMDK_FOOTER_LEN)
			ret = core_fail(ctx, -CD_EIO, "Failed to read footer: %s",
					cd_strerror(CD_EIO));
		else
			ret = io_read(ctx, dev, p->top_sectors * VMDK_SECTOR - VMDK_FOOTER_LEN, f,
				      VMDK_FOOTER_LEN);
		if (ret == 0 && !vmdk_footer_decode(f, &h))
			ret = core_fail(ctx, -CD_EINVAL, "Invalid footer");
		core_free(ctx, f);
		if (ret < 0)
			return core_fail(ctx, ret, "Failed to read footer: %s", cd_strerror(ret));
	}
	bool compressed = h.compress_algorithm == VMDK4_COMPRESSION_DEFLATE;
	/* Version 3 (changed block tracking) is read-only in qemu: so is this. */
	if (h.version > 3)
		return core_fail(ctx, -CD_ENOTSUP, "Unsupported VMDK version %u", h.version);
	if (h.num_gtes_per_gt > VMDK4_MAX_GTES)
		return core_fail(ctx, -CD_EINVAL, "L2 table size too big");
	/* qemu's uint32_t l1_entry_sectors and l1_size: truncated products */
	uint32_t l1_entry_sectors = (uint32_t)((uint64_t)h.num_gtes_per_gt * h.granularity);
	if (l1_entry_sectors == 0)
		return core_fail(ctx, -CD_EINVAL, "L1 entry size is invalid");
	uint32_t l1_size = (uint32_t)((h.capacity + l1_entry_sectors - 1) / l1_entry_sectors);
	uint64_t rgd_off = (h.flags & VMDK4_FLAG_RGD) ? h.rgd_offset << 9 : 0;
	uint64_t have = 0;
	int ret = file_sectors(ctx, dev, &have);
	if (ret < 0)
		return ret;
	if (have < h.grain_offset)
		return core_fail(ctx, -CD_EINVAL, "File truncated, expecting at least %lld bytes",
				 (long long)(int64_t)(h.grain_offset * VMDK_SECTOR));
	struct vmdk_extent e = {
		.dev = dev,
		.type = VMDK_EXT_SPARSE,
		.compressed = compressed,
		.has_marker = (h.flags & VMDK4_FLAG_MARKER) != 0,
		.zero_grain = (h.flags & VMDK4_FLAG_ZERO_GRAIN) != 0,
		.version = h.version,
		.sectors = h.capacity,
		.gd_off = h.gd_offset << 9,
		.l1_size = l1_size,
		.l1_entry_sectors = l1_entry_sectors,
		.l2_size = h.num_gtes_per_gt,
		.cluster_sectors = h.granularity,
	};
	ret = add_extent(ctx, p, &e);
	if (ret == 0 && compressed)
		snprintf(p->create_type, sizeof(p->create_type), "streamOptimized");
	if (ret == 0 && (ret = check_tables(ctx, &e, rgd_off, name)) < 0)
		p->n_ext--; /* open fails: total no longer matters */
	return ret;
}

/* qemu's vmdk_open_vmfs_sparse(): an ESX "COWD" sparse extent. */
static int open_vmfs_sparse(struct image *img, struct vmdk *p, uint32_t dev,
			    const uint8_t *head)
{
	struct core_ctx *ctx = img->ctx;
	struct vmdk3_header h;
	vmdk3_header_decode(head + 4, &h);
	struct vmdk_extent e = {
		.dev = dev,
		.type = VMDK_EXT_VMFSSPARSE,
		.vmdk3 = true,
		.sectors = h.disk_sectors,
		.gd_off = (uint64_t)h.l1dir_offset << 9,
		.l1_size = h.l1dir_size,
		/* qemu's l2_size * cluster_sectors, stored in 32 bits */
		.l1_entry_sectors = (uint32_t)((uint64_t)VMDK3_GTES * h.granularity),
		.l2_size = VMDK3_GTES,
		.cluster_sectors = h.granularity,
	};
	/* A zero l1_entry_sectors (a granularity of 0 or 2^20..2^21) is
	 * refused by map(), where qemu divides by it and dies of SIGFPE. */
	return add_extent(ctx, p, &e);
}

/* qemu's vmdk_open_sparse(): by the magic in the first bytes. */
static int open_sparse(struct image *img, struct vmdk *p, uint32_t dev, const char *name)
{
	struct core_ctx *ctx = img->ctx;
	uint8_t *head = core_alloc(ctx, VMDK_SECTOR, 8);
	if (!head)
		return -CD_ENOMEM;
	int ret = io_read(ctx, dev, 0, head, VMDK_SECTOR);
	if (ret < 0)
		ret = core_fail(ctx, ret, "Could not read header from file '%s': %s", name,
				cd_strerror(ret));
	else if (load_be32(head) == VMDK3_MAGIC)
		ret = open_vmfs_sparse(img, p, dev, head);
	else if (load_be32(head) == VMDK4_MAGIC)
		ret = open_vmdk4(img, p, dev, name, head);
	else
		ret = core_fail(ctx, -CD_EINVAL, "Image not in VMDK format");
	core_free(ctx, head);
	return ret;
}

/* One extent line of a descriptor: its file attached, then opened. */
static int open_extent(struct image *img, struct vmdk *p, const struct vmdk_desc_extent *d)
{
	struct core_ctx *ctx = img->ctx;
	char *shown = image_child_name(ctx, img->name, d->fname, d->fname_len);
	if (!shown)
		return -CD_ENOMEM;
	int ret;
	uint32_t n_before = p->n_ext;
	int64_t dev = image_attach_child(img, HC_CHILD_EXTENT, d->fname, d->fname_len);
	if (dev < 0) {
		ret = (int)dev;
	} else if (d->type == VMDK_EXT_FLAT || d->type == VMDK_EXT_VMFS) {
		struct vmdk_extent e = {
			.dev = (uint32_t)dev,
			.type = d->type,
			.flat = true,
			.sectors = (uint64_t)d->sectors,
			.flat_off = (uint64_t)d->flat_offset << 9,
			.flat_bad = d->flat_offset > INT64_MAX >> 9,
		};
		ret = add_extent(ctx, p, &e);
	} else if (d->type == VMDK_EXT_SESPARSE) {
		ret = core_fail(ctx, -CD_ENOTSUP, "cordon cannot read seSparse extents yet "
				"('%s')", shown);
	} else {
		/* SPARSE and VMFSSPARSE: whichever magic the file has */
		uint64_t sectors;
		ret = check_not_empty(ctx, (uint32_t)dev, &sectors);
		if (ret == 0)
			ret = open_sparse(img, p, (uint32_t)dev, shown);
	}
	/* qemu names the extent added last after this line (with a nested
	 * descriptor, only the last of its extents). */
	if (ret == 0 && p->n_ext > n_before) {
		struct vmdk_extent *last = &p->ext[p->n_ext - 1];
		last->type_word = vmdk_type_word(d->type);
		if (!last->file_name) {
			last->file_name = shown;
			shown = NULL;
		}
	}
	core_free(ctx, shown);
	return ret;
}

static bool known_create_type(const char *ct)
{
	static const char *const types[] = { "monolithicFlat", "vmfs", "vmfsSparse",
					     "seSparse", "twoGbMaxExtentSparse",
					     "twoGbMaxExtentFlat" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(ct, types[i]) == 0)
			return true;
	return false;
}

/* qemu's vmdk_open_desc_file() and vmdk_parse_extents(). */
static int open_desc_file(struct image *img, struct vmdk *p, const char *buf, size_t len)
{
	struct core_ctx *ctx = img->ctx;
	char ct[VMDK_CREATE_TYPE_MAX + 1];
	if (!vmdk_desc_value(buf, len, "createType", ct, sizeof(ct)))
		return core_fail(ctx, -CD_EINVAL, "invalid VMDK image descriptor");
	if (!known_create_type(ct))
		return core_fail(ctx, -CD_ENOTSUP, "Unsupported image type '%s'", ct);
	snprintf(p->create_type, sizeof(p->create_type), "%s", ct);
	struct vmdk_desc_extent *d = core_alloc(ctx, sizeof(*d), 8);
	if (!d)
		return -CD_ENOMEM;
	int ret = 0;
	size_t end = strnlen(buf, len);
	/* Every line from a run of blank ones scans the line after the run:
	 * qemu's sscanf() runs each time (quadratic in the run's length),
	 * cordon reuses the answer. */
	size_t scanned_from = SIZE_MAX, ns = 0;
	enum vmdk_line last = VMDK_LINE_SKIP;
	for (size_t pos = 0; pos < end && ret == 0; pos = vmdk_desc_next_line(buf, end, pos)) {
		if (ns < pos)
			ns = vmdk_desc_skip_space(buf, end, pos);
		if (ns != scanned_from) {
			last = vmdk_desc_extent_line(buf, end, pos, d);
			scanned_from = ns;
		} else if (last == VMDK_LINE_INVALID) {
			/* the line qemu prints is this one */
			size_t next = vmdk_desc_next_line(buf, end, pos);
			d->line_len = next - pos - (buf[next - 1] == '\n');
		}
		switch (last) {
		case VMDK_LINE_SKIP:
			break;
		case VMDK_LINE_INVALID:
			ret = core_fail(ctx, -CD_EINVAL, "Invalid extent line: %.*s",
					(int)d->line_len, buf + pos);
			break;
		case VMDK_LINE_EXTENT:
			ret = open_extent(img, p, d);
			break;
		}
	}
	core_free(ctx, d);
	return ret;
}

static void vmdk_release(struct image *img, struct vmdk *p)
{
	if (!p)
		return;
	raw_close_file(&p->view);
	vmdk_tables_free(img->ctx, p);
	cd_inflate_free(img->ctx, p->z);
	core_free(img->ctx, p->zra);
	core_free(img->ctx, p->zout);
	for (uint32_t i = 0; i < p->n_ext; i++)
		core_free(img->ctx, p->ext[i].file_name);
	core_free(img->ctx, p->ext);
	core_free(img->ctx, p);
	img->priv = NULL;
}

static void vmdk_close(struct image *img)
{
	vmdk_release(img, img->priv);
}

/* qemu's vmdk_parent_open() and vmdk_read_cid(), over one read of the
 * descriptor: the parent's name (perhaps none) and both CIDs. */
static int read_ids(struct image *img, struct vmdk *p, char **hint, size_t *hint_len)
{
	struct core_ctx *ctx = img->ctx;
	char *buf = core_alloc(ctx, VMDK_DESC_SIZE + 1, 8);
	if (!buf)
		return -CD_ENOMEM;
	int ret = io_read(ctx, img->dev, p->desc_offset, buf, VMDK_DESC_SIZE);
	buf[VMDK_DESC_SIZE] = '\0';
	const char *name = NULL;
	size_t n = 0;
	int found = ret < 0 ? 0 : vmdk_desc_parent_hint(buf, VMDK_DESC_SIZE + 1, &name, &n);
	*hint = NULL;
	if (ret == 0 && found < 0)
		ret = -CD_EINVAL;
	if (ret == 0 && found > 0 && n > 0) {
		*hint = core_alloc(ctx, n + 1, 1);
		if (!*hint)
			ret = -CD_ENOMEM;
		else
			memcpy(*hint, name, n), (*hint)[n] = '\0';
		*hint_len = n;
	}
	/* vmdk_read_cid() reads a DESC_SIZE buffer with its last byte 0 */
	buf[VMDK_DESC_SIZE - 1] = '\0';
	if (ret == 0 && (!vmdk_desc_cid(buf, VMDK_DESC_SIZE, false, &p->cid) ||
			 !vmdk_desc_cid(buf, VMDK_DESC_SIZE, true, &p->parent_cid)))
		ret = -CD_EINVAL;
	core_free(ctx, buf);
	if (ret < 0) {
		core_free(ctx, *hint);
		*hint = NULL;
		/* qemu's generic words for a driver's bare -errno */
		if (ret != -CD_ENOMEM)
			core_fail(ctx, ret, "Could not open '%s': %s", img->name, cd_strerror(ret));
	}
	return ret;
}

static int vmdk_open(struct image *img)
{
	struct core_ctx *ctx = img->ctx;
	struct vmdk *p = core_alloc(ctx, sizeof(*p), 8);
	if (!p)
		return -CD_ENOMEM;
	*p = (struct vmdk){ 0 };
	img->priv = p;
	int ret = vmdk_tables_init(ctx, p);
	/* hostcall buffers come from core_alloc(), never the stack */
	uint8_t *head = ret == 0 ? core_alloc(ctx, 8, 8) : NULL;
	uint32_t magic = 0;
	if (ret == 0 && !head)
		ret = -CD_ENOMEM;
	if (ret == 0)
		ret = check_not_empty(ctx, img->dev, &p->top_sectors);
	if (ret == 0 && (ret = io_read(ctx, img->dev, 0, head, 4)) < 0)
		core_fail(ctx, ret, "Could not read from file: %s", cd_strerror(ret));
	if (head)
		magic = load_be32(head);
	core_free(ctx, head);
	if (ret == 0 && (magic == VMDK3_MAGIC || magic == VMDK4_MAGIC)) {
		ret = open_sparse(img, p, img->dev, img->name);
		p->desc_offset = 0x200;
	} else if (ret == 0) {
		char *desc;
		size_t desc_len;
		ret = read_desc(ctx, img->dev, 0, &desc, &desc_len);
		if (ret == 0) {
			ret = open_desc_file(img, p, desc, desc_len);
			core_free(ctx, desc);
		}
	}
	char *hint = NULL;
	size_t hint_len = 0;
	if (ret == 0)
		ret = read_ids(img, p, &hint, &hint_len);
	/* qemu's bdrv_refresh_total_sectors() */
	if (ret == 0 && p->total > QEMU_MAX_LENGTH / VMDK_SECTOR)
		ret = core_fail(ctx, -CD_EFBIG, "Could not refresh total sector count: %s",
				cd_strerror(CD_EFBIG));
	if (ret == 0)
		img->size = p->total * VMDK_SECTOR;
	if (ret == 0 && hint) {
		/* qemu forces the parent's format to vmdk */
		ret = image_open_backing(img, hint, hint_len, "vmdk");
		if (ret == 0 && img->backing) { /* not opened for info */
			const struct vmdk *parent = img->backing->priv;
			p->cid_valid = parent->cid == p->parent_cid;
		}
	}
	core_free(ctx, hint);
	if (ret < 0)
		vmdk_release(img, p);
	return ret;
}

/* The extent holding virtual sector sec (< the disk's sectors). */
static uint32_t find_extent(const struct vmdk *p, uint64_t sec)
{
	uint32_t lo = 0, hi = p->n_ext - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sec < p->ext[mid].start + p->ext[mid].sectors)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* A stretch of an extent file, through a raw view of it: holes are found
 * and what lies past its end reads as zeros. */
static int64_t map_file(struct image *img, struct vmdk *p, uint32_t dev, uint64_t off,
			uint64_t len, struct extent *ext)
{
	if (!qemu_can_read(off, len))
		return -CD_EIO;
	if (!p->view.ops || p->view.dev != dev) {
		raw_close_file(&p->view);
		struct image file = { .ctx = img->ctx, .dev = dev, .depth = img->depth,
				      .name = img->name };
		int ret = raw_open_file(&file, &p->view);
		if (ret < 0)
			return ret;
	}
	return format_raw.map(&p->view, off, len, ext);
}

static int64_t vmdk_map(struct image *img, uint64_t off, uint64_t len, struct extent *ext)
{
	struct vmdk *p = img->priv;
	uint32_t x = find_extent(p, off / VMDK_SECTOR);
	const struct vmdk_extent *e = &p->ext[x];
	uint64_t rel = off - e->start * VMDK_SECTOR;
	uint64_t left = e->sectors * VMDK_SECTOR - rel;
	/* Each sector is read from the extent that holds it.  qemu reads on
	 * past a sparse extent's end inside its last grain (docs/vmdk.md). */
	if (len > left)
		len = left;
	if (e->flat) {
		if (e->flat_bad)
			return -CD_EIO;
		return map_file(img, p, e->dev, e->flat_off + rel, len, ext);
	}
	if (e->l1_entry_sectors == 0)
		return core_fail(img->ctx, -CD_EINVAL, "VMFS sparse extent %u has a grain size "
				 "qemu-img crashes on (%llu sectors)", x,
				 (unsigned long long)e->cluster_sectors);
	uint64_t grain = e->cluster_sectors * VMDK_SECTOR, in_grain = rel % grain;
	uint64_t sector = 0, span = 0;
	int kind = vmdk_grain_lookup(img->ctx, p, x, rel / VMDK_SECTOR, &sector, &span);
	if (kind < 0)
		return kind;
	/* a grain of data, or a stretch of like holes */
	uint64_t avail = span >= UINT64_MAX / VMDK_SECTOR ? UINT64_MAX
							  : span * VMDK_SECTOR - rel % VMDK_SECTOR;
	if (len > avail)
		len = avail;
	switch (kind) {
	case VMDK_GRAIN_DATA:
		if (e->compressed) {
			*ext = (struct extent){ .kind = EXT_OTHER };
			return (int64_t)len;
		}
		return map_file(img, p, e->dev, sector * VMDK_SECTOR + in_grain, len, ext);
	case VMDK_GRAIN_ZEROED:
		*ext = (struct extent){ .kind = EXT_ZERO };
		return (int64_t)len;
	default:
		/* qemu reads the parent only while its CID is the one recorded */
		if (img->backing && !p->cid_valid)
			return -CD_EINVAL;
		*ext = (struct extent){ .kind = EXT_BACKING };
		return (int64_t)len;
	}
}

static int z_ready(struct core_ctx *ctx, struct vmdk *p)
{
	if (!p->z && !(p->z = cd_inflate_new(ctx)))
		return -CD_ENOMEM;
	if (!p->zra && !(p->zra = core_alloc(ctx, VMDK_Z_READ_AHEAD, 64)))
		return -CD_ENOMEM;
	if (!p->zout && !(p->zout = core_alloc(ctx, VMDK_Z_CHUNK, 64)))
		return -CD_ENOMEM;
	return cd_inflate_reset(p->z);
}

/* Up to `want` bytes of dev from off, through the read-ahead window (past
 * the end of the file: zeros): *at points at them, their count returned
 * (at least 1 for want > 0), or -errno. */
static int64_t z_input(struct core_ctx *ctx, struct vmdk *p, uint32_t dev, uint64_t off,
		       uint64_t want, const uint8_t **at)
{
	if (!p->ra_len || p->ra_dev != dev || off < p->ra_off || off - p->ra_off >= p->ra_len) {
		p->ra_len = 0;
		int ret = io_read(ctx, dev, off, p->zra, VMDK_Z_READ_AHEAD);
		if (ret < 0)
			return ret;
		p->ra_dev = dev;
		p->ra_off = off;
		p->ra_len = VMDK_Z_READ_AHEAD;
	}
	uint64_t have = p->ra_len - (off - p->ra_off);
	*at = p->zra + (off - p->ra_off);
	return (int64_t)(have < want ? have : want);
}

/*
 * qemu's vmdk_read_extent() for a compressed grain at `sector`: it reads
 * two grains' worth from there, takes the marker's length (or a whole grain
 * without markers), and uncompress()es into one grain; the stream must end
 * within those bytes, and [skip, skip + len) lie within what it gave.  The
 * same is done here through fixed buffers.  qemu's read of the marker's
 * data may run 12 bytes past its buffer; cordon stops at the buffer's end.
 */
static int read_compressed(struct image *img, struct vmdk *p, const struct vmdk_extent *e,
			   uint64_t sector, uint64_t skip, uint8_t *buf, uint64_t len)
{
	struct core_ctx *ctx = img->ctx;
	int ret = z_ready(ctx, p);
	if (ret < 0)
		return ret;
	uint64_t grain = e->cluster_sectors * VMDK_SECTOR, window = 2 * grain;
	uint64_t at = sector * VMDK_SECTOR, hdr = e->has_marker ? 12 : 0;
	uint64_t data_len = grain;
	if (e->has_marker) {
		const uint8_t *m;
		int64_t got = z_input(ctx, p, e->dev, at, hdr, &m);
		if (got < 0)
			return (int)got;
		uint8_t marker[12] = { 0 };
		memcpy(marker, m, (size_t)got);
		if (got < (int64_t)hdr) { /* the marker straddles the window */
			int64_t more = z_input(ctx, p, e->dev, at + (uint64_t)got,
					       hdr - (uint64_t)got, &m);
			if (more < 0)
				return (int)more;
			memcpy(marker + got, m, (size_t)more);
		}
		data_len = load_le32(marker + 8);
	}
	if (data_len == 0 || data_len > window)
		return -CD_EINVAL;
	/* the input is [at + hdr, at + in_end) of the file */
	uint64_t in_end = hdr + (data_len < window - hdr ? data_len : window - hdr);
	uint64_t in_pos = hdr, made = 0, want = skip + len;
	for (;;) {
		const uint8_t *in = NULL;
		int64_t avail = 0;
		if (in_pos < in_end && (avail = z_input(ctx, p, e->dev, at + in_pos,
							  in_end - in_pos, &in)) < 0)
			return (int)avail;
		uint64_t budget = grain - made, room;
		uint8_t *dst;
		if (made >= skip && made < want) {
			dst = buf + (made - skip);
			room = want - made;
		} else {
			dst = p->zout;
			room = made < skip ? skip - made : VMDK_Z_CHUNK;
			if (room > VMDK_Z_CHUNK)
				room = VMDK_Z_CHUNK;
		}
		if (room > budget)
			room = budget;
		size_t used, out;
		ret = cd_inflate_step(p->z, in, (size_t)avail, &used, dst, (size_t)room, &out);
		in_pos += used;
		made += out;
		if (ret == -CD_ENOMEM)
			return ret;
		if (ret < 0)
			return -CD_EINVAL;
		if (ret == 1)
			break;
		/* No progress: the input ended, or the grain is full. */
		if (used == 0 && out == 0)
			return -CD_EINVAL;
	}
	return made >= want ? 0 : -CD_EINVAL;
}

static int vmdk_read(struct image *img, uint64_t off, void *buf, uint64_t len)
{
	struct vmdk *p = img->priv;
	uint32_t x = find_extent(p, off / VMDK_SECTOR);
	const struct vmdk_extent *e = &p->ext[x];
	uint64_t rel = off - e->start * VMDK_SECTOR;
	uint64_t grain = e->cluster_sectors * VMDK_SECTOR, sector = 0, span;
	int kind = vmdk_grain_lookup(img->ctx, p, x, rel / VMDK_SECTOR, &sector, &span);
	if (kind < 0)
		return kind;
	/* map() said EXT_OTHER: a compressed grain, and len within it */
	if (kind != VMDK_GRAIN_DATA || !e->compressed || len > grain - rel % grain)
		return -CD_EIO;
	return read_compressed(img, p, e, sector, rel % grain, buf, len);
}

const struct format_ops format_vmdk = {
	.name = "vmdk",
	.flags = FORMAT_HAS_METADATA,
	.open = vmdk_open,
	.close = vmdk_close,
	.map = vmdk_map,
	.read = vmdk_read,
	.writer = &vmdk_writer_ops,
	.about = vmdk_about,
	.about_specific = vmdk_about_specific,
};
