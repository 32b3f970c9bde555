/*
 * The backing chain machinery of the format layer, with a toy format (test
 * only): a 512-byte header "TOY:<backing name>" and then the data, where
 * even 4 KiB blocks are stored here and odd blocks come from the backing
 * file.  Checks image_map()/image_read() through the chain, a backing file
 * shorter than its overlay, and the messages of refused or missing files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/format.h"
#include "memdev.h"

#define HDR 512u
#define BLK 4096u

static int toy_open(struct image *img)
{
	const struct hostcalls *hc = img->ctx->env->hc;
	char *head = core_alloc(img->ctx, HDR, 64); /* hostcall buffers: core_alloc */
	int64_t size = hc->size(hc->ctx, img->dev);
	if (!head || size < (int64_t)HDR || hc->read(hc->ctx, img->dev, 0, head, HDR) != HDR) {
		core_free(img->ctx, head);
		return core_fail(img->ctx, -CD_EINVAL, "not a toy");
	}
	img->size = (uint64_t)size - HDR;
	size_t len = strnlen(head + 4, HDR - 4);
	int ret = len ? image_open_backing(img, head + 4, len, "raw") : 0;
	core_free(img->ctx, head);
	return ret;
}

static int64_t toy_map(struct image *img, uint64_t off, uint64_t len, struct extent *ext)
{
	uint64_t run = BLK - off % BLK;
	ext->dev = img->dev;
	ext->dev_off = HDR + off;
	ext->kind = (off / BLK) % 2 ? EXT_BACKING : EXT_RAW;
	return (int64_t)(run < len ? run : len);
}

static const struct format_ops toy = { .name = "toy", .open = toy_open, .map = toy_map };

static uint8_t *toy_file(const char *backing, uint64_t vsize, uint8_t fill)
{
	uint8_t *f = calloc(1, HDR + vsize);
	snprintf((char *)f, HDR, "TOY:%s", backing);
	memset(f + HDR, fill, vsize);
	return f;
}

static int open_toy(struct memdevs *m, struct core_ctx *ctx, struct image *img,
		    uint32_t dev, const char *name)
{
	core_ctx_init(ctx, &m->env);
	*img = (struct image){ .ops = &toy, .ctx = ctx, .dev = dev, .name = name };
	return toy.open(img);
}

static void reads_through_a_shorter_backing_file(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint8_t *top = toy_file("base.raw", 8 * BLK, 0xaa);
	uint8_t base[5 * BLK + 100];
	memset(base, 0xbb, sizeof(base));
	uint32_t dev = memdevs_add_input(&m, top, HDR + 8 * BLK);
	memdevs_add_named(&m, "base.raw", base, sizeof(base));

	struct core_ctx ctx;
	struct image img;
	assert_int_equal(open_toy(&m, &ctx, &img, dev, "dir/top.toy"), 0);
	assert_non_null(img.backing);
	assert_string_equal(img.backing->name, "dir/base.raw");
	const uint64_t out_len = 8 * BLK;
	uint8_t *out = core_alloc(&ctx, out_len, 64); /* as dd's buffer is */
	assert_int_equal(image_read(&img, 0, out, out_len), 0);
	for (uint64_t i = 0; i < out_len; i++) {
		uint64_t blk = i / BLK;
		/* base is 5 blocks + 100 bytes, rounded to 512 by raw: 20992 */
		uint8_t want = blk % 2 == 0 ? 0xaa : (i < sizeof(base) ? 0xbb : 0);
		if (out[i] != want)
			fail_msg("byte %llu: %#x != %#x", (unsigned long long)i, out[i], want);
	}
	core_free(&ctx, out);
	struct extent ext;
	struct image *owner;
	assert_int_equal(image_map(&img, 7 * BLK, BLK, &ext, &owner), BLK);
	assert_int_equal(ext.kind, EXT_ZERO); /* past the backing file's end */
	assert_int_equal(image_map(&img, BLK + 10, 100, &ext, &owner), 100);
	assert_int_equal(ext.kind, EXT_RAW);
	assert_ptr_equal(owner, img.backing);
	assert_int_equal(ext.dev_off, BLK + 10);
	image_close(&img);
	assert_int_equal(m.mem_used, 0);
	assert_int_equal(m.violations, 0);
	free(top);
	memdevs_free(&m);
}

/* The cause of a refused backing file is the host's note: core prints its
 * own context, the host the reason, as one line. */
static void refusal_is_completed_by_the_host_note(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	uint8_t *top = toy_file("missing.raw", BLK, 1);
	uint32_t dev = memdevs_add_input(&m, top, HDR + BLK);
	m.refuse_child = "Could not open 'sub/missing.raw': No such file or directory";
	struct core_ctx ctx;
	struct image img;
	assert_int_equal(open_toy(&m, &ctx, &img, dev, "sub/ov.toy"), -CD_EACCES);
	assert_string_equal(ctx.err, "Could not open backing file: ");
	assert_int_equal(ctx.err_note, 1);
	assert_int_equal(m.mem_used, 0);

	/* What core_run sends: the context, then the host prints the note. */
	core_prefix(&ctx, -CD_EACCES, "Could not open '%s': ", "sub/ov.toy");
	m.table.message(m.table.ctx, HC_LEVEL_ERROR, ctx.err, strlen(ctx.err), ctx.err_note);
	assert_string_equal(m.msgs[0], "Could not open 'sub/ov.toy': Could not open backing "
				       "file: Could not open 'sub/missing.raw': No such file "
				       "or directory");
	assert_int_equal(m.violations, 0);
	free(top);
	memdevs_free(&m);
}

static void long_error_chains_keep_their_cause(void **state)
{
	(void)state;
	struct memdevs m;
	memdevs_init(&m);
	struct core_ctx ctx;
	core_ctx_init(&ctx, &m.env);
	core_fail(&ctx, -CD_EACCES, "the cause at the end");
	for (int i = 0; i < 100; i++)
		core_prefix(&ctx, -CD_EACCES, "Could not open backing file: ");
	size_t n = strlen(ctx.err);
	assert_true(n < CORE_ERR_MAX);
	assert_memory_equal(ctx.err, "Could not open backing file: ", 29);
	assert_string_equal(ctx.err + n - 20, "the cause at the end");
	assert_non_null(strstr(ctx.err, "..."));
	memdevs_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_through_a_shorter_backing_file),
		cmocka_unit_test(refusal_is_completed_by_the_host_note),
		cmocka_unit_test(long_error_chains_keep_their_cause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
