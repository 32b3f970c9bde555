/*
 * qemu's snapshot-access filter over a plain file: it opens (the size is
 * the file's) and then refuses every read with ENOTSUP, since it serves
 * only a backup job's snapshot.  So cordon fails where qemu-img fails and
 * says what qemu-img says ("error while reading from input image file:
 * Operation not supported"); unlike qemu-img it leaves no output behind.
 */
#include "format.h"

#include "hostcall.h"
#include "overflow.h"

static int unreadable_open(struct image *img)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	int64_t size = hc->size(hc->ctx, img->dev);
	if (size < 0)
		return (int)size;
	if (!round_up_u64((uint64_t)size, 512, &img->size))
		return -CD_EFBIG;
	return 0;
}

static void unreadable_close(struct image *img)
{
	(void)img;
}

static int64_t unreadable_map(struct image *img, uint64_t off, uint64_t len,
			      struct extent *ext)
{
	(void)img, (void)off, (void)len, (void)ext;
	return -CD_ENOTSUP;
}

static int unreadable_read(struct image *img, uint64_t off, void *buf, uint64_t len)
{
	(void)img, (void)off, (void)buf, (void)len;
	return -CD_ENOTSUP;
}

const struct format_ops format_unreadable = {
	.name = "snapshot-access",
	.open = unreadable_open,
	.close = unreadable_close,
	.map = unreadable_map,
	.read = unreadable_read,
};
