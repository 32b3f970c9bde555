/*
 * cordon info.  qemu-img info (qemu-img.c collect_image_info_list) opens
 * each image without its backing file (BDRV_O_NO_BACKING) and describes it
 * with bdrv_query_image_info() (block/qapi.c); with --backing-chain it goes
 * on to the backing file the image names, by its full name, until an image
 * names none.  Each description is one ImageInfo object of result records,
 * members in the QAPI schema's order: the host prints them in QDict order
 * (render_json.c), and the human text from the same records.  Nothing is
 * printed unless the whole chain could be described, as in qemu-img, which
 * collects the list before it prints.
 */
#include "info.h"

#include "format.h"
#include "io.h"
#include "result.h"

int info_check(const struct cordon_job *job)
{
	const struct cordon_info_job *in = &job->cmd.info;
	if (job->n_dev < 1 || !(job->dev[0].roles & CORDON_DEV_READ) ||
	    (in->flags & ~INFO_FLAGS) || in->reserved)
		return -CD_EINVAL;
	return 0;
}

/* qemu's path_has_protocol(): "proto:..." before any '/'. */
static bool has_protocol(const char *name)
{
	size_t i = 0;
	while (name[i] && name[i] != ':' && name[i] != '/')
		i++;
	return name[i] == ':';
}

/* The name qemu opens and shows as full-backing-filename
 * (bdrv_get_full_backing_filename): from core_alloc, or NULL. */
static char *full_backing_name(struct core_ctx *ctx, const struct image *img)
{
	const char *b = img->backing_name;
	if (has_protocol(b))
		return image_child_name(ctx, "", b, strlen(b));
	return image_child_name(ctx, img->name, b, strlen(b));
}

/* bdrv_query_image_info(), as an ImageInfo object. */
static int describe(struct image *img, const char *full_backing, struct result_out *r)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t allocated = hc->allocated(hc->ctx, img->dev);
	struct image_about a = { .has_info = true, .actual_size = allocated < 0 ? -1 : allocated };
	if (img->ops->about)
		img->ops->about(img, &a);
	result_begin_object(r, NULL);
	result_string(r, "filename", img->name);
	result_string(r, "format", img->ops->name);
	if (a.has_info)
		result_bool(r, "dirty-flag", a.dirty);
	if (a.actual_size >= 0)
		result_int(r, "actual-size", a.actual_size);
	result_uint(r, "virtual-size", img->size);
	/* qemu's BlockDriverInfo.cluster_size is an int: a VPC block
	 * of 2 GiB or more shows as negative (qemu keeps the low 32 bits),
	 * and none is shown where those bits are 0. */
	int64_t cluster = (int64_t)(a.cluster_size & 0xffffffffu);
	if (cluster > INT32_MAX)
		cluster -= (int64_t)1 << 32;
	if (a.has_info && cluster)
		result_int(r, "cluster-size", cluster);
	if (a.encrypted)
		result_bool(r, "encrypted", true);
	if (full_backing) {
		result_string(r, "backing-filename", img->backing_name);
		result_string(r, "full-backing-filename", full_backing);
		if (img->backing_fmt[0])
			result_string(r, "backing-filename-format", img->backing_fmt);
	}
	int ret = img->ops->about_snapshots ? img->ops->about_snapshots(img, r) : 0;
	if (ret == 0 && a.specific) {
		result_begin_object(r, "format-specific");
		result_string(r, "type", a.specific);
		result_begin_object(r, "data");
		ret = img->ops->about_specific(img, r);
		result_end_object(r);
		result_end_object(r);
	}
	result_end_object(r);
	return ret;
}

/* The chain's names so far (qemu's hash table of filenames): a name seen
 * before is a loop, refused before it is opened. */
struct seen {
	char **name;
	uint32_t n, cap;
};

static bool seen_before(const struct seen *s, const char *name)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return true;
	return false;
}

static int remember(struct core_ctx *ctx, struct seen *s, char *name)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 8;
		char **n = core_alloc(ctx, cap * sizeof(*n), 8);
		if (!n)
			return -CD_ENOMEM;
		if (s->n)
			memcpy(n, s->name, s->n * sizeof(*n));
		core_free(ctx, s->name);
		s->name = n;
		s->cap = cap;
	}
	s->name[s->n++] = name;
	return 0;
}

int info_run(struct core_ctx *ctx, const struct cordon_job *job)
{
	bool chain = (job->cmd.info.flags & INFO_BACKING_CHAIN) != 0;
	struct result_out r = { 0 };
	struct seen seen = { 0 };
	struct image cur = { 0 };
	ctx->open_no_backing = true;
	ctx->open_no_io = true;
	char *name = io_dev_name(ctx, 0);
	int ret = name ? result_init(&r, ctx) : -CD_ENOMEM;
	if (ret == 0)
		ret = remember(ctx, &seen, name);
	if (ret < 0) {
		core_free(ctx, name); /* not remembered */
		core_fail(ctx, ret, "%s", cd_strerror(ret));
	} else {
		ret = image_open(ctx, 0, job->dev[0].fmt, name, &cur);
	}
	if (ret == 0 && chain)
		result_begin_array(&r, NULL);
	while (ret == 0) {
		bool named = cur.backing_name && cur.backing_name[0];
		char *full = named ? full_backing_name(ctx, &cur) : NULL;
		if (named && !full) {
			ret = core_fail(ctx, -CD_ENOMEM, "%s", cd_strerror(CD_ENOMEM));
			break;
		}
		ret = describe(&cur, full, &r);
		if (ret < 0 || !chain || !full) {
			core_free(ctx, full);
			break;
		}
		if (seen_before(&seen, full)) {
			ret = core_fail(ctx, -CD_EINVAL, "Backing file '%s' creates an infinite "
					"loop.", full);
			core_free(ctx, full);
			break;
		}
		if ((ret = remember(ctx, &seen, full)) < 0) {
			core_free(ctx, full);
			core_fail(ctx, ret, "%s", cd_strerror(ret));
			break;
		}
		struct image next;
		ret = image_open_recorded_backing(&cur, full, &next);
		image_close(&cur);
		cur = next;
		if (ret < 0)
			cur.ops = NULL;
	}
	if (cur.ops)
		image_close(&cur);
	if (ret == 0 && chain)
		result_end_array(&r);
	int sent = result_finish(&r);
	if (ret == 0 && sent < 0)
		ret = core_fail(ctx, sent, "%s", cd_strerror(sent));
	for (uint32_t i = 0; i < seen.n; i++)
		core_free(ctx, seen.name[i]);
	core_free(ctx, seen.name);
	return ret;
}
