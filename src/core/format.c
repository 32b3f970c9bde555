/* The format table and probing: one place that later formats extend. */
#include "format.h"

#include "overflow.h"
#include "path_combine.h"

/* Probe order; raw is the fallback and is never probed. */
static const struct format_ops *const formats[] = {
	&format_qcow2,
	&format_raw,
};

#define PROBE_HEAD_LEN 512u

const struct format_ops *format_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

static int probe(struct core_ctx *ctx, uint32_t dev, const struct format_ops **out)
{
	const struct hostcalls *hc = ctx->env->hc;
	uint8_t *head = core_alloc(ctx, PROBE_HEAD_LEN, 16);
	if (!head)
		return core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
	int64_t n = hc->read(hc->ctx, dev, 0, head, PROBE_HEAD_LEN);
	int best = 0;
	*out = &format_raw;
	for (size_t i = 0; n >= 0 && i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!formats[i]->probe)
			continue;
		int score = formats[i]->probe(head, (size_t)n);
		if (score > best) {
			best = score;
			*out = formats[i];
		}
	}
	core_free(ctx, head);
	if (n < 0)
		return core_fail(ctx, (int)n, "Could not read image for determining "
				 "its format: %s", cd_strerror((int)n));
	return 0;
}

/* Opens without naming the image in messages (backing files are not). */
static int image_open_as(struct core_ctx *ctx, uint32_t dev, const char *fmt_name,
			 const char *display_name, struct image *img)
{
	const struct format_ops *ops;
	int ret;

	*img = (struct image){ .ctx = ctx, .dev = dev, .name = display_name };
	if (fmt_name[0] != '\0') {
		ops = format_by_name(fmt_name);
		if (!ops)
			return core_fail(ctx, -CD_EINVAL, "Unknown driver '%s'", fmt_name);
	} else {
		ret = probe(ctx, dev, &ops);
		if (ret < 0)
			return ret;
	}
	img->ops = ops;
	ret = ops->open(img);
	if (ret < 0) {
		/* open() cleans up its own state; a backing chain it already
		 * attached is closed here. */
		img->ops = NULL;
		image_close(img);
		return ret;
	}
	/* A format with metadata must not change under us: QEMU's metadata
	 * locks, which a running QEMU's write lock refuses (unless -U). */
	if (ops != &format_raw) {
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
	int ret = image_open_as(ctx, dev, fmt_name, display_name, img);
	if (ret < 0)
		return core_prefix(ctx, ret, "Could not open '%s': ", display_name);
	return 0;
}

/* The name as qemu shows it: joined to the naming image's directory. */
static char *join_name(struct core_ctx *ctx, const char *base, const char *name,
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

int image_open_backing(struct image *img, const char *name, size_t name_len,
		       const char *fmt_name)
{
	struct core_ctx *ctx = img->ctx;
	const struct hostcalls *hc = ctx->env->hc;
	if (name_len > HC_MAX_BACKING_NAME || strnlen(name, name_len) != name_len)
		return core_fail(ctx, -CD_EINVAL, "Could not open backing file: "
				 "the name is not a plain file name");
	char *shown = join_name(ctx, img->name, name, name_len);
	struct image *b = core_alloc(ctx, sizeof(*b), 8);
	if (!shown || !b) {
		core_free(ctx, shown);
		core_free(ctx, b);
		return core_fail(ctx, -CD_ENOMEM, "Could not open backing file: %s",
				 cd_strerror(CD_ENOMEM));
	}

	/* A refusal's reason (missing, outside policy, locked...) is the
	 * host's note: it completes this message when printed. */
	uint32_t note = 0;
	int64_t dev = hc->open_backing(hc->ctx, img->dev, name, name_len, &note);
	int ret = (int)dev;
	if (dev < 0)
		core_fail_note(ctx, ret, note);
	else
		ret = image_open_as(ctx, (uint32_t)dev, fmt_name, shown, b);
	if (ret < 0) {
		core_free(ctx, shown);
		core_free(ctx, b);
		return core_prefix(ctx, ret, "Could not open backing file: ");
	}
	b->owned_name = shown;
	img->backing = b;
	return 0;
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

static int read_raw_run(struct image *img, const struct extent *ext,
			uint8_t *buf, uint64_t len)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	uint64_t done = 0;
	while (done < len) {
		uint64_t want = len - done;
		if (want > HC_MAX_IO_LEN)
			want = HC_MAX_IO_LEN;
		int64_t n = hc->read(hc->ctx, ext->dev, ext->dev_off + done,
				     buf + done, want);
		if (n < 0)
			return (int)n;
		if (n == 0) { /* end of file inside a run: the rest is zeros */
			memset(buf + done, 0, len - done);
			return 0;
		}
		done += (uint64_t)n;
	}
	return 0;
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
		int ret = 0;
		if (ext.kind == EXT_ZERO)
			memset(p, 0, (size_t)n);
		else if (ext.kind == EXT_RAW)
			ret = read_raw_run(owner, &ext, p, (uint64_t)n);
		else
			ret = owner->ops->read(owner, off, p, (uint64_t)n);
		if (ret < 0)
			return ret;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int writer_create_output(struct image_writer *w)
{
	const struct hostcalls *hc = w->ctx->env->hc;
	uint32_t note = 0;
	int64_t ret = hc->create(hc->ctx, w->dev, w->size, &note);
	return ret < 0 ? core_fail_note(w->ctx, (int)ret, note) : 0;
}
