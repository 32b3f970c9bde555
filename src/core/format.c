/*
 * Opening images (by name or by qemu's probe), their children, reading
 * through a backing chain, and opening writers.  The names and probes are
 * format_table.c's.
 */
#include "format.h"

#include "../abi/job.h"

#include "io.h"
#include "overflow.h"
#include "path_combine.h"

/* qemu's BLOCK_PROBE_BUF_SIZE: bytes a probe sees, zero-padded. */
#define PROBE_HEAD_LEN 512u

static const char *driver_kind(enum qemu_driver_kind kind)
{
	return kind == QEMU_PROTOCOL ? "protocol" : "filter";
}

static bool starts_with(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strnlen(s, n) == n && memcmp(s, prefix, n) == 0;
}

static bool is_device(uint32_t type)
{
	return type == HC_FILE_CHAR || type == HC_FILE_BLOCK;
}

/* A protocol or filter named with -f (or as a backing format): what qemu
 * does with the plain file, in its words; NULL with the reason recorded. */
static const struct format_ops *plain_reader(struct core_ctx *ctx, uint32_t dev,
					     const struct format_info *info,
					     const char *display_name)
{
	if (info->prefix && starts_with(display_name, info->prefix))
		return core_fail(ctx, -CD_ENOTSUP, "cordon reads image files only: '%s' is "
				 "a %s driver", info->name, driver_kind(info->kind)), NULL;
	switch (info->plain) {
	case PLAIN_REFUSED:
		return core_fail(ctx, -CD_EINVAL, "%s", info->qemu_error), NULL;
	case PLAIN_REGULAR:
		if (io_dev_type(ctx, dev) != HC_FILE_REGULAR)
			return core_fail(ctx, -CD_EINVAL, "'%s' driver requires '%s' to be a "
					 "regular file", info->name, display_name), NULL;
		return &format_raw;
	case PLAIN_DEVICE:
	case PLAIN_DEVICE_NOT:
		if (!is_device(io_dev_type(ctx, dev)))
			return core_fail(ctx, -CD_EINVAL, "'%s' driver requires '%s' to be "
					 "either a character or block device", info->name,
					 display_name), NULL;
		if (info->plain == PLAIN_DEVICE_NOT)
			return core_fail(ctx, -CD_ENOTSUP, "cordon does not use the '%s' "
					 "driver", info->name), NULL;
		return &format_raw;
	case PLAIN_PASS:
		return &format_raw;
	case PLAIN_NO_READS:
		return &format_unreadable;
	case PLAIN_FORMAT:
		break;
	}
	return core_fail(ctx, -CD_EINVAL, "Unknown driver '%s'", info->name), NULL;
}

/* What qemu would use for fmt_name, and whether cordon can; NULL with the
 * reason recorded. */
static const struct format_ops *reader_for(struct core_ctx *ctx, uint32_t dev,
					   const char *fmt_name, const char *display_name)
{
	const struct format_info *info = format_info(fmt_name);
	if (!info)
		return core_fail(ctx, -CD_EINVAL, "Unknown driver '%s'", fmt_name), NULL;
	if (info->kind != QEMU_FORMAT)
		return plain_reader(ctx, dev, info, display_name);
	if (!info->ops)
		return core_fail(ctx, -CD_ENOTSUP, "cordon cannot read %s images yet",
				 fmt_name), NULL;
	return info->ops;
}

/* qemu's find_image_format(): an empty file (or a character device, which
 * has no size) is raw without a look; otherwise every probe sees the first
 * 512 bytes, zero-padded, and the name as given. */
static const struct format_ops *probe(struct core_ctx *ctx, uint32_t dev,
				      const char *display_name)
{
	const struct hostcalls *hc = ctx->env->hc;
	int64_t size = hc->size(hc->ctx, dev);
	if (size < 0)
		return core_fail(ctx, (int)size, "Could not read image for determining its "
				 "format: %s", cd_strerror((int)size)), NULL;
	if (size == 0)
		return &format_raw;
	uint8_t *head = core_alloc(ctx, PROBE_HEAD_LEN, 16);
	if (!head)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM)), NULL;
	int ret = io_read(ctx, dev, 0, head, PROBE_HEAD_LEN);
	const struct format_info *info =
		ret < 0 ? NULL : format_probe(head, PROBE_HEAD_LEN, display_name);
	core_free(ctx, head);
	if (ret < 0)
		return core_fail(ctx, ret, "Could not read image for determining its "
				 "format: %s", cd_strerror(ret)), NULL;
	if (!info->ops)
		return core_fail(ctx, -CD_ENOTSUP, "cordon cannot read %s images yet",
				 info->name), NULL;
	return info->ops;
}

/* Opens without naming the image in messages (backing files are not). */
static int image_open_as(struct core_ctx *ctx, uint32_t dev, uint32_t depth,
			 const char *fmt_name, const char *display_name, struct image *img)
{
	*img = (struct image){ .ctx = ctx, .dev = dev, .depth = depth, .name = display_name };
	const struct format_ops *ops = fmt_name[0]
					       ? reader_for(ctx, dev, fmt_name, display_name)
					       : probe(ctx, dev, display_name);
	if (!ops)
		return -CD_EINVAL;
	img->ops = ops;
	int ret = ops->open(img);
	if (ret < 0) {
		/* open() cleans up its own state; a backing chain it already
		 * attached is closed here. */
		img->ops = NULL;
		image_close(img);
		return ret;
	}
	/* A format with metadata must not change under us: QEMU's metadata
	 * locks, which a running QEMU's write lock refuses (unless -U). */
	if (ops->flags & FORMAT_HAS_METADATA) {
		uint32_t note = 0;
		int64_t locked = ctx->env->hc->lock(ctx->env->hc->ctx, dev,
						    HC_LOCK_METADATA, &note);
		if (locked < 0) {
			image_close(img);
			return core_fail_note(ctx, (int)locked, note);
		}
	}
	return 0;
}

int image_open(struct core_ctx *ctx, uint32_t dev, const char *fmt_name,
	       const char *display_name, struct image *img)
{
	int ret = image_open_as(ctx, dev, 0, fmt_name, display_name, img);
	if (ret < 0)
		return core_prefix(ctx, ret, "Could not open '%s': ", display_name);
	return 0;
}

char *image_child_name(struct core_ctx *ctx, const char *base, const char *name,
		       size_t len)
{
	size_t dirlen = path_combine_prefix(base, name);
	char *p = core_alloc(ctx, dirlen + len + 1, 1);
	if (p) {
		memcpy(p, base, dirlen);
		memcpy(p + dirlen, name, len);
		p[dirlen + len] = '\0';
	}
	return p;
}

int64_t image_attach_child(struct image *img, uint32_t kind, const char *name,
			   size_t name_len)
{
	struct core_ctx *ctx = img->ctx;
	const struct hostcalls *hc = ctx->env->hc;
	if (name_len > HC_MAX_CHILD_NAME || strnlen(name, name_len) != name_len)
		return core_fail(ctx, -CD_EINVAL, "the name is not a plain file name");
	/* A refusal's reason (missing, outside policy, locked...) is the
	 * host's note: it completes the caller's message when printed. */
	uint32_t note = 0;
	int64_t dev = hc->open_child(hc->ctx, img->dev, kind, name, name_len, &note);
	return dev < 0 ? core_fail_note(ctx, (int)dev, note) : dev;
}

/* qemu keeps a backing name as a C string: it ends at a NUL. */
static int record_backing(struct image *img, const char *name, size_t name_len,
			  const char *fmt_name)
{
	size_t n = strnlen(name, name_len);
	img->backing_name = core_alloc(img->ctx, n + 1, 1);
	if (!img->backing_name)
		return core_fail(img->ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	memcpy(img->backing_name, name, n);
	img->backing_name[n] = '\0';
	snprintf(img->backing_fmt, sizeof(img->backing_fmt), "%s", fmt_name);
	return 0;
}

/* The backing file name (len bytes) names, attached and opened as fmt_name
 * into *b, shown as `shown`: 0 or -errno with the reason recorded. */
static int open_backing_as(struct image *img, const char *name, size_t len,
			   const char *fmt_name, const char *shown, struct image *b)
{
	int64_t dev = image_attach_child(img, HC_CHILD_BACKING, name, len);
	return dev < 0 ? (int)dev
		       : image_open_as(img->ctx, (uint32_t)dev, img->depth + 1, fmt_name, shown, b);
}

int image_open_recorded_backing(struct image *img, const char *shown, struct image *b)
{
	int ret = open_backing_as(img, img->backing_name, strlen(img->backing_name),
				  img->backing_fmt, shown, b);
	if (ret < 0)
		return core_prefix(img->ctx, ret, "Could not open '%s': ", shown);
	return 0;
}

int image_open_backing(struct image *img, const char *name, size_t name_len,
		       const char *fmt_name)
{
	struct core_ctx *ctx = img->ctx;
	if (ctx->open_no_backing)
		return record_backing(img, name, name_len, fmt_name);
	char *shown = image_child_name(ctx, img->name, name, name_len);
	struct image *b = core_alloc(ctx, sizeof(*b), 8);
	int ret = !shown || !b ? core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM))
			       : open_backing_as(img, name, name_len, fmt_name, shown, b);
	if (ret < 0) {
		core_free(ctx, shown);
		core_free(ctx, b);
		return core_prefix(ctx, ret, "Could not open backing file: ");
	}
	b->owned_name = shown;
	img->backing = b;
	return 0;
}

/* qemu's bdrv_snapshot_load_tmp(): how = why's first words on failure. */
static int load_tmp(struct image *img, const char *id, const char *name, char *why,
		    size_t why_len)
{
	if (!id && !name) {
		snprintf(why, why_len, "snapshot_id and name are both NULL");
		return -CD_EINVAL;
	}
	if (!img->ops->load_snapshot) {
		/* qemu-img's images belong to no named device. */
		snprintf(why, why_len, "Block format '%s' used by device '' does not "
			 "support temporarily loading internal snapshots", img->ops->name);
		return -CD_ENOTSUP;
	}
	return img->ops->load_snapshot(img, id, name, why, why_len);
}

int image_load_snapshot(struct image *img, const struct cordon_job_snapshot *sn)
{
	char why[CORE_ERR_MAX];
	int ret;
	if (sn->flags & SNAPSHOT_BY_ID_OR_NAME) {
		/* bdrv_snapshot_load_tmp_by_id_or_name(): an id that is not
		 * there, or whose snapshot is refused as invalid, is tried as a
		 * name. */
		ret = load_tmp(img, sn->id, NULL, why, sizeof(why));
		if (ret == -CD_ENOENT || ret == -CD_EINVAL)
			ret = load_tmp(img, NULL, sn->id, why, sizeof(why));
	} else if (sn->flags) {
		ret = load_tmp(img, sn->flags & SNAPSHOT_BY_ID ? sn->id : NULL,
			       sn->flags & SNAPSHOT_BY_NAME ? sn->name : NULL, why, sizeof(why));
	} else {
		return 0;
	}
	return ret < 0 ? core_fail(img->ctx, ret, "Failed to load snapshot: %s", why) : 0;
}

void image_close(struct image *img)
{
	if (img->backing) {
		image_close(img->backing);
		core_free(img->ctx, img->backing);
		img->backing = NULL;
	}
	if (img->ops && img->ops->close)
		img->ops->close(img);
	img->ops = NULL;
	core_free(img->ctx, img->owned_name);
	img->owned_name = NULL;
	core_free(img->ctx, img->backing_name);
	img->backing_name = NULL;
}

/* Bounded by the chain depth the host allows; a loop cannot form because
 * the host refuses to attach a file twice. */
int64_t image_map(struct image *img, uint64_t off, uint64_t len,
		  struct extent *ext, struct image **owner)
{
	for (;;) {
		int64_t n = img->ops->map(img, off, len, ext);
		if (n <= 0 || (uint64_t)n > len)
			return n < 0 ? n : -CD_EIO;
		*owner = img;
		if (ext->kind != EXT_BACKING)
			return n;
		len = (uint64_t)n;
		img = img->backing;
		if (!img || off >= img->size) {
			ext->kind = EXT_ZERO;
			return (int64_t)len;
		}
		if (len > img->size - off)
			len = img->size - off; /* a shorter backing file */
	}
}

int image_read_run(struct image *owner, const struct extent *ext, uint64_t off,
		   void *buf, uint64_t len)
{
	switch (ext->kind) {
	case EXT_ZERO:
		memset(buf, 0, (size_t)len);
		return 0;
	case EXT_RAW: /* end of file inside a run: the rest is zeros */
		return io_read(owner->ctx, ext->dev, ext->dev_off, buf, len);
	default:
		return owner->ops->read(owner, off, buf, len);
	}
}

int image_read(struct image *img, uint64_t off, void *buf, uint64_t len)
{
	uint8_t *p = buf;
	uint64_t end;
	if (ADD_OVERFLOW(off, len, &end) || end > img->size)
		return -CD_EINVAL;
	while (len > 0) {
		struct extent ext;
		struct image *owner;
		int64_t n = image_map(img, off, len, &ext, &owner);
		if (n < 0)
			return (int)n;
		int ret = image_read_run(owner, &ext, off, p, (uint64_t)n);
		if (ret < 0)
			return ret;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

enum writer_refusal writer_refusal(const char *fmt)
{
	const struct format_info *info = format_info(fmt);
	if (!info)
		return WRITER_UNKNOWN;
	/* writer_open() decides these by the target. */
	if (info->create_by_opening)
		return WRITER_OK;
	if (!info->qemu_creates)
		return WRITER_NO_CREATE;
	return info->ops && info->ops->writer ? WRITER_OK : WRITER_NOT_YET;
}

/*
 * The target as -O's protocol sees it.  'file' writes raw but cannot
 * resize a device; a protocol without a create function "creates" by
 * opening the target with it (qemu's bdrv_co_create_opts_simple), so only
 * an existing device passes for host_device.  0, or -errno with qemu's
 * message recorded.
 */
static int check_target(struct core_ctx *ctx, const struct format_info *info, uint32_t dev)
{
	if (info->kind == QEMU_FORMAT)
		return 0; /* a format writes whatever the target is */
	uint32_t type = io_dev_type(ctx, dev);
	if (!info->create_by_opening) {
		if (info->plain == PLAIN_REGULAR && is_device(type))
			return core_fail(ctx, -CD_EINVAL, "Could not resize file: %s",
					 cd_strerror(CD_EINVAL));
		return 0;
	}
	char *name = io_dev_name(ctx, dev);
	if (!name)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	char why[CORE_ERR_MAX] = "";
	int ret = 0;
	if (info->prefix && starts_with(name, info->prefix))
		ret = core_fail(ctx, -CD_ENOTSUP, "cordon writes image files only: '%s' is a "
				"%s driver", info->name, driver_kind(info->kind));
	else if (info->plain == PLAIN_DEVICE_NOT && is_device(type))
		ret = core_fail(ctx, -CD_ENOTSUP, "cordon does not use the '%s' driver",
				info->name);
	else if (info->plain == PLAIN_REFUSED)
		snprintf(why, sizeof(why), "%s", info->qemu_error);
	else if (type == HC_FILE_NONE)
		snprintf(why, sizeof(why), "Could not open '%s': %s", name,
			 cd_strerror(CD_ENOENT));
	else if (!is_device(type))
		snprintf(why, sizeof(why), "'%s' driver requires '%s' to be either a "
			 "character or block device", info->name, name);
	if (why[0])
		ret = core_fail(ctx, -CD_EINVAL, "Protocol driver '%s' does not support image "
				"creation, and opening the image failed: %s", info->name, why);
	core_free(ctx, name);
	return ret;
}

int writer_open(struct core_ctx *ctx, const char *fmt, uint32_t dev,
		const struct writer_opts *opts, struct image_writer *w)
{
	*w = (struct image_writer){ .ctx = ctx };
	if (writer_refusal(fmt) != WRITER_OK)
		return core_fail(ctx, -CD_ENOTSUP, "cordon cannot write %s images", fmt);
	const struct format_info *info = format_info(fmt);
	int ret = check_target(ctx, info, dev);
	if (ret < 0)
		return ret;
	*w = (struct image_writer){
		.ops = info->ops->writer,
		.ctx = ctx,
		.dev = dev,
		.size = opts->size,
		.zeroed = opts->zeroed,
		.sparse = opts->min_sparse > 0,
	};
	return w->ops->create(w, opts);
}

int64_t writer_add_output(struct image_writer *w, uint32_t rule, uint32_t index,
			  uint64_t size)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	uint32_t note = 0;
	int64_t dev = hc->add_output(hc->ctx, w->dev, rule, index, &note);
	if (dev < 0)
		return core_fail_note(w->ctx, (int)dev, note);
	int64_t ret = hc->create(hc->ctx, (uint32_t)dev, size, &note);
	return ret < 0 ? core_fail_note(w->ctx, (int)ret, note) : dev;
}

int writer_create_output(struct image_writer *w)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	uint32_t note = 0;
	int64_t ret = hc->create(hc->ctx, w->dev, w->size, &note);
	return ret < 0 ? core_fail_note(w->ctx, (int)ret, note) : 0;
}

int writer_check_opts(struct image_writer *w, const char *fmt, const struct writer_opts *o,
		      uint32_t supported)
{
	struct core_ctx *ctx = w->ctx;
	if (o->backing && !(supported & WRITER_OPT_BACKING))
		return core_fail(ctx, -CD_ENOTSUP, "Backing file not supported for file "
				 "format '%s'", fmt);
	if (o->compress && !(supported & WRITER_OPT_COMPRESS))
		return core_fail(ctx, -CD_ENOTSUP, "Compression not supported for this "
				 "file format");
	if (o->open_existing && !(supported & WRITER_OPT_EXISTING))
		return core_fail(ctx, -CD_ENOTSUP, "cordon cannot write into an existing "
				 "%s image yet", fmt);
	if ((o->cluster_size && !(supported & WRITER_OPT_CLUSTER)) ||
	    (o->subformat && !(supported & WRITER_OPT_SUBFORMAT)) ||
	    (o->n_kv && !(supported & WRITER_OPT_KV)))
		return core_fail(ctx, -CD_ENOTSUP, "cordon's %s writer takes no options "
				 "yet", fmt);
	return 0;
}
