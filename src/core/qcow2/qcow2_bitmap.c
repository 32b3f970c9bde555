/*
 * Persistent dirty bitmaps, as far as reading an image goes.  qemu loads
 * them when it opens an image (qcow2_load_dirty_bitmaps): it reads the
 * bitmap directory whole and refuses the image when the directory is
 * broken or an entry breaks the constraints, then creates each bitmap
 * (a name seen before is an error unless the bitmap is in use) and, for
 * each consistent one, reads its bitmap table and checks every entry and
 * the table's size.  The bitmaps never change what the active layer
 * reads, but qemu refuses what fails these checks, so cordon must too.
 * info lists the bitmaps (qcow2_get_bitmap_info_list).
 *
 * The directory (up to 64 MiB) goes through a read window and is walked
 * once: qemu checks the whole directory before it loads any bitmap, so
 * the first load failure is only kept, and reported when the directory
 * turned out sound.  Names are remembered by hash (with the file offset
 * to compare the bytes), not copied.  Bitmap tables are read in pieces,
 * their bytes past end of file not at all (they read as zeros, which are
 * valid entries), and at most BITMAP_TABLES_MAX bytes of them in all: a
 * directory of 65535 entries naming one 8 MiB table would otherwise have
 * cordon read 512 GiB at open.
 */
#include "qcow2.h"

#include "../io.h"
#include "../result.h"

/* qemu's bitmap directory entry constraints (block/qcow2-bitmap.c). */
#define BME_MAX_TABLE_SIZE 0x8000000u
#define BME_MAX_PHYS_SIZE 0x20000000u
#define BME_MIN_GRANULARITY_BITS 9u
#define BME_MAX_GRANULARITY_BITS 31u
#define BME_MAX_NAME_SIZE 1023u
#define BME_RESERVED_FLAGS 0xfffffffcu
#define BME_FLAG_IN_USE (1u << 0)
#define BME_FLAG_AUTO (1u << 1)
#define BME_TYPE_DIRTY_TRACKING 1u
#define BME_TABLE_RESERVED 0xff000000000001feull
#define BME_TABLE_OFFSET 0x00fffffffffffe00ull
#define BME_TABLE_ALL_ONES 1ull

#define ENTRY_HEADER 24u
/* An entry's header and as much of its name as a message can hold. */
#define NAME_SHOWN (CORE_ERR_MAX - 1)
#define DIR_WINDOW (64u << 10)
#define TABLE_PIECE (64u << 10)
/* cordon's bound on the bitmap table bytes checked at one open. */
#define BITMAP_TABLES_MAX (256ull << 20)

struct dir_entry {
	uint64_t table_offset;
	uint32_t table_size, flags;
	uint32_t granularity_bits;
	const uint8_t *name;  /* cut at its first NUL, as qemu's g_strndup */
	size_t name_len;
	uint64_t name_at;     /* the name's file offset */
};

typedef void (*entry_fn)(void *opaque, const struct dir_entry *e);

static int broken(struct image *img)
{
	return core_fail(img->ctx, -CD_EINVAL, "Broken bitmap directory");
}

/* qemu's calc_dir_entry_size() in its own int arithmetic: an entry with
 * extra data of 2 GiB or more wraps, and qemu's "next entry past the
 * directory's end" test passes it on to the extra-data refusal. */
static int64_t entry_size_as_qemu(uint32_t name_size, uint32_t extra)
{
	uint32_t size = ENTRY_HEADER + name_size + extra;
	return (int32_t)((size + 7u) & ~7u);
}

/* qemu's check_dir_entry(); len is the virtual size. */
static bool entry_ok(const uint8_t *h, uint32_t cluster_size, uint64_t len)
{
	uint64_t table_offset = load_be64(h);
	uint32_t table_size = load_be32(h + 8), flags = load_be32(h + 12);
	uint32_t bits = h[17];
	if (table_size == 0 || table_offset == 0 || table_offset % cluster_size ||
	    table_size > BME_MAX_TABLE_SIZE || bits > BME_MAX_GRANULARITY_BITS ||
	    bits < BME_MIN_GRANULARITY_BITS || (flags & BME_RESERVED_FLAGS) ||
	    load_be16(h + 18) > BME_MAX_NAME_SIZE || h[16] != BME_TYPE_DIRTY_TRACKING)
		return false;
	uint64_t phys = (uint64_t)table_size * cluster_size;
	if (phys > BME_MAX_PHYS_SIZE)
		return false;
	/* phys * 8 <= 2^32 and bits <= 31: no overflow. */
	return (flags & BME_FLAG_IN_USE) || len <= (phys * 8) << bits;
}

/* qemu's bitmap_list_load(): every entry, in order, to each(). */
static int walk_directory(struct image *img, entry_fn each, void *opaque)
{
	const struct qcow2 *q = img->priv;
	const struct qcow2_header *hd = &q->h;
	uint64_t size = hd->bitmap_dir_size, base = hd->bitmap_dir_offset;
	uint64_t len = hd->size & ~511ull;
	if (size == 0)
		return core_fail(img->ctx, -CD_EINVAL, "Requested bitmap directory size is zero");
	if (size > QCOW2_MAX_BITMAP_DIRECTORY)
		return core_fail(img->ctx, -CD_EINVAL,
				 "Requested bitmap directory size is too big");
	if (base > QCOW2_BDRV_MAX_LENGTH - size)
		return core_fail(img->ctx, -CD_EIO, "Failed to read bitmap directory: %s",
				 cd_strerror(CD_EIO));
	struct qcow2_window w;
	if (qcow2_window_init(&w, img, DIR_WINDOW) < 0)
		return core_fail(img->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	uint64_t off = 0;
	uint32_t n = 0;
	int ret = 0;
	while (off < size && ret == 0) {
		const uint8_t *h;
		if (size - off < ENTRY_HEADER) {
			ret = broken(img);
			break;
		}
		if (++n > hd->nb_bitmaps) {
			ret = core_fail(img->ctx, -CD_EINVAL, "More bitmaps found than "
					"specified in header extension");
			break;
		}
		ret = qcow2_window_at(&w, base + off, ENTRY_HEADER, &h);
		if (ret < 0)
			goto read_failed;
		uint32_t name_size = load_be16(h + 18);
		uint32_t extra = load_be32(h + 20);
		int64_t esize = entry_size_as_qemu(name_size, extra);
		if (esize > 0 && (uint64_t)esize > size - off) {
			ret = broken(img);
			break;
		}
		if (extra != 0) {
			ret = core_fail(img->ctx, -CD_EINVAL,
					"Bitmap extra data is not supported");
			break;
		}
		size_t shown = name_size < NAME_SHOWN ? name_size : NAME_SHOWN;
		ret = qcow2_window_at(&w, base + off, ENTRY_HEADER + shown, &h);
		if (ret < 0)
			goto read_failed;
		const uint8_t *name = h + ENTRY_HEADER;
		size_t name_len = strnlen((const char *)name, shown);
		if (!entry_ok(h, q->cluster_size, len)) {
			ret = core_fail(img->ctx, -CD_EINVAL, "Bitmap '%.*s' doesn't satisfy "
					"the constraints", (int)name_len, (const char *)name);
			break;
		}
		struct dir_entry e = {
			.table_offset = load_be64(h), .table_size = load_be32(h + 8),
			.flags = load_be32(h + 12), .granularity_bits = h[17],
			.name = name, .name_len = name_len,
			.name_at = base + off + ENTRY_HEADER,
		};
		each(opaque, &e);
		off += (uint64_t)esize;
	}
	if (ret == 0 && n != hd->nb_bitmaps)
		ret = core_fail(img->ctx, -CD_EINVAL, "Less bitmaps found than specified in "
				"header extension");
	else if (ret == 0 && off != size)
		ret = broken(img);
	qcow2_window_free(&w);
	return ret;
read_failed:
	qcow2_window_free(&w);
	return core_fail(img->ctx, ret, "Failed to read bitmap directory: %s",
			 cd_strerror(ret));
}

/* ---- the load at open ------------------------------------------------------ */

struct name_slot {
	uint64_t hash;   /* 0: empty */
	uint64_t at;
	uint32_t len;
};

struct load {
	struct image *img;
	struct name_slot *names;
	uint32_t mask;
	uint8_t *piece;       /* TABLE_PIECE bytes: a table piece, or a name */
	uint64_t table_budget;
	int err;              /* the first load failure, kept for after the walk */
	char msg[CORE_ERR_MAX];
};

static uint64_t name_hash(const uint8_t *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h | 1; /* never 0, the empty slot */
}

/* Whether a bitmap of this name was created before; if not, it is now.
 * A read error is a load failure. */
static bool name_seen(struct load *l, const struct dir_entry *e)
{
	uint64_t h = name_hash(e->name, e->name_len);
	uint32_t i = (uint32_t)h & l->mask;
	for (; l->names[i].hash; i = (i + 1) & l->mask) {
		const struct name_slot *s = &l->names[i];
		if (s->hash != h || s->len != e->name_len)
			continue;
		int ret = io_read(l->img->ctx, l->img->dev, s->at, l->piece, s->len);
		if (ret < 0) {
			l->err = ret;
			snprintf(l->msg, sizeof(l->msg), "Failed to read bitmap directory: %s",
				 cd_strerror(ret));
			return true;
		}
		if (memcmp(l->piece, e->name, e->name_len) == 0)
			return true;
	}
	l->names[i] = (struct name_slot){ .hash = h, .at = e->name_at,
					  .len = (uint32_t)e->name_len };
	return false;
}

/* qemu's bitmap_table_load(): 0, or -errno. */
static int check_table(struct load *l, const struct dir_entry *e, uint32_t cluster_size)
{
	const struct qcow2 *q = l->img->priv;
	uint64_t bytes = (uint64_t)e->table_size * 8, off = e->table_offset;
	if (off > QCOW2_BDRV_MAX_LENGTH - bytes)
		return -CD_EIO;
	uint64_t in_file = off < q->file_size ? q->file_size - off : 0;
	if (in_file > bytes)
		in_file = bytes;
	if (in_file > l->table_budget)
		return -CD_EFBIG;
	l->table_budget -= in_file;
	for (uint64_t done = 0; done < in_file;) {
		uint64_t n = in_file - done < TABLE_PIECE ? in_file - done : TABLE_PIECE;
		int ret = io_read(l->img->ctx, l->img->dev, off + done, l->piece, n);
		if (ret < 0)
			return ret;
		/* in_file may end inside an entry: its bytes past EOF are zeros. */
		for (uint64_t i = 0; i < n; i += 8) {
			uint8_t ent[8] = { 0 };
			memcpy(ent, l->piece + i, n - i < 8 ? n - i : 8);
			uint64_t v = load_be64(ent), at = v & BME_TABLE_OFFSET;
			if ((v & BME_TABLE_RESERVED) ||
			    (at && ((v & BME_TABLE_ALL_ONES) || at % cluster_size)))
				return -CD_EINVAL;
		}
		done += n;
	}
	return 0;
}

static void load_entry(void *opaque, const struct dir_entry *e)
{
	struct load *l = opaque;
	if (l->err)
		return;
	bool in_use = (e->flags & BME_FLAG_IN_USE) != 0;
	if (name_seen(l, e)) {
		/* An in-use bitmap whose name qemu already has is skipped. */
		if (!l->err && !in_use) {
			l->err = -CD_EINVAL;
			snprintf(l->msg, sizeof(l->msg), "Bitmap already exists: %.*s",
				 (int)e->name_len, (const char *)e->name);
		}
		return;
	}
	if (in_use)
		return; /* its data is unusable: qemu reads no table */
	const struct qcow2 *q = l->img->priv;
	int ret = check_table(l, e, q->cluster_size);
	if (ret == -CD_EFBIG) {
		l->err = ret;
		snprintf(l->msg, sizeof(l->msg), "cordon checks at most %llu MiB of bitmap "
			 "tables at open, and bitmap '%.*s' goes past that",
			 BITMAP_TABLES_MAX >> 20, (int)e->name_len, (const char *)e->name);
		return;
	}
	if (ret < 0) {
		l->err = ret;
		snprintf(l->msg, sizeof(l->msg), "Could not read bitmap_table table from "
			 "image for bitmap '%.*s': %s", (int)e->name_len,
			 (const char *)e->name, cd_strerror(ret));
		return;
	}
	/* load_bitmap_data(): the table must be as long as the bitmap's
	 * serialisation (whole 64-bit words of bits) needs, in clusters. */
	uint64_t len = q->h.size & ~511ull, tab = 0;
	if (len) {
		uint64_t words = (((len - 1) >> e->granularity_bits) >> 6) + 1;
		tab = (words * 8 + q->cluster_size - 1) / q->cluster_size;
	}
	if (tab != e->table_size) {
		l->err = -CD_EINVAL;
		snprintf(l->msg, sizeof(l->msg), "Could not read bitmap '%.*s' from image: %s",
			 (int)e->name_len, (const char *)e->name, cd_strerror(CD_EINVAL));
	}
}

int qcow2_check_bitmaps(struct image *img)
{
	const struct qcow2 *q = img->priv;
	uint32_t nb = q->h.nb_bitmaps;
	if (nb == 0)
		return 0;
	struct load l = { .img = img, .table_budget = BITMAP_TABLES_MAX };
	uint32_t slots = 2;
	while (slots < 2 * nb)
		slots *= 2;
	l.mask = slots - 1;
	l.names = core_alloc(img->ctx, (size_t)slots * sizeof(*l.names), 64);
	l.piece = core_alloc(img->ctx, TABLE_PIECE, 64);
	int ret = -CD_ENOMEM;
	if (l.names && l.piece) {
		memset(l.names, 0, (size_t)slots * sizeof(*l.names));
		ret = walk_directory(img, load_entry, &l);
		if (ret == 0 && l.err)
			ret = core_fail(img->ctx, l.err, "%s", l.msg);
	} else {
		core_fail(img->ctx, ret, "%s", cd_strerror(CD_ENOMEM));
	}
	core_free(img->ctx, l.piece);
	core_free(img->ctx, l.names);
	return ret;
}

/* ---- info ------------------------------------------------------------------ */

/* One Qcow2BitmapInfo, members in the schema's order. */
static void list_entry(void *opaque, const struct dir_entry *e)
{
	struct result_out *r = opaque;
	result_begin_object(r, NULL);
	result_string_n(r, "name", (const char *)e->name, e->name_len);
	result_int(r, "granularity", 1ll << e->granularity_bits);
	result_begin_array(r, "flags");
	if (e->flags & BME_FLAG_IN_USE)
		result_string(r, NULL, "in-use");
	if (e->flags & BME_FLAG_AUTO)
		result_string(r, NULL, "auto");
	result_end_array(r);
	result_end_object(r);
}

int qcow2_list_bitmaps(struct image *img, struct result_out *r)
{
	const struct qcow2 *q = img->priv;
	if (q->h.nb_bitmaps == 0)
		return 0;
	result_begin_array(r, "bitmaps");
	int ret = walk_directory(img, list_entry, r);
	result_end_array(r);
	return ret;
}
