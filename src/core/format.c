/* The format table and probing: one place that later formats extend. */
#include "format.h"

#include "overflow.h"

/* Probe order; raw is the fallback and is never probed. */
static const struct format_ops *const formats[] = {
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

static int probe(struct core_ctx *ctx, uint32_t dev, const char *display_name,
		 const struct format_ops **out)
{
	const struct hostcalls *hc = ctx->env->hc;
	uint8_t *head = core_alloc(ctx, PROBE_HEAD_LEN, 16);
	if (!head)
		return core_fail(ctx, -CD_ENOMEM, "Could not open '%s': %s",
				 display_name, cd_strerror(CD_ENOMEM));
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
	return n < 0 ? (int)n : 0;
}

int image_open(struct core_ctx *ctx, uint32_t dev, const char *fmt_name,
	       const char *display_name, struct image *img)
{
	const struct format_ops *ops;
	int ret;

	if (fmt_name[0] != '\0') {
		ops = format_by_name(fmt_name);
		if (!ops)
			return core_fail(ctx, -CD_EINVAL,
					 "Could not open '%s': Unknown driver '%s'",
					 display_name, fmt_name);
	} else {
		ret = probe(ctx, dev, display_name, &ops);
		if (ret < 0)
			return core_fail(ctx, ret, "Could not open '%s': Could not read "
					 "image for determining its format: %s",
					 display_name, cd_strerror(ret));
	}
	img->ops = ops;
	img->ctx = ctx;
	img->dev = dev;
	img->size = 0;
	img->priv = NULL;
	ret = ops->open(img);
	if (ret < 0)
		return core_fail(ctx, ret, "Could not open '%s': %s",
				 display_name, cd_strerror(ret));
	return 0;
}

void image_close(struct image *img)
{
	if (img->ops && img->ops->close)
		img->ops->close(img);
	img->ops = NULL;
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
		int64_t n = img->ops->map(img, off, len, &ext);
		if (n <= 0 || (uint64_t)n > len)
			return n < 0 ? (int)n : -CD_EIO;
		int ret = 0;
		if (ext.kind == EXT_ZERO)
			memset(p, 0, (size_t)n);
		else if (ext.kind == EXT_RAW)
			ret = read_raw_run(img, &ext, p, (uint64_t)n);
		else
			ret = img->ops->read(img, off, p, (uint64_t)n);
		if (ret < 0)
			return ret;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}
