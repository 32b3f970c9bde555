/* Block-appending outputs (see block_append.h). */
#include "block_append.h"

#include "io.h"
#include "overflow.h"
#include "zero.h"

int block_append_init(struct image_writer *w, struct block_append *a, uint64_t block_size,
		      int (*allocate)(struct image_writer *, uint64_t, uint64_t *),
		      void (*release)(struct image_writer *))
{
	*a = (struct block_append){ .block_size = block_size, .cur_block = UINT64_MAX,
				    .allocate = allocate, .release = release };
	if (!w->zeroed) {
		a->zeros = core_alloc(w->ctx, BLOCK_APPEND_ZEROS, 64);
		if (!a->zeros)
			return -CD_ENOMEM;
		memset(a->zeros, 0, BLOCK_APPEND_ZEROS);
	}
	return 0;
}

void block_append_free(struct image_writer *w, struct block_append *a)
{
	core_free(w->ctx, a->zeros);
	a->zeros = NULL;
}

int block_append_write_zeros(struct image_writer *w, struct block_append *a, uint64_t off,
			     uint64_t len)
{
	while (len > 0) {
		uint64_t n = len < BLOCK_APPEND_ZEROS ? len : BLOCK_APPEND_ZEROS;
		int ret = io_write(w->ctx, w->dev, off, a->zeros, n);
		if (ret < 0)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* Brings the current block's written part up to `upto` bytes: on a device
 * that does not start as zeros, the gaps must be written. */
static int fill_to(struct image_writer *w, struct block_append *a, uint64_t upto)
{
	if (a->cur_block == UINT64_MAX || w->zeroed || a->cur_filled >= upto)
		return 0;
	int ret = block_append_write_zeros(w, a, a->cur_data + a->cur_filled,
					   upto - a->cur_filled);
	a->cur_filled = upto;
	return ret;
}

int block_append_close_block(struct image_writer *w, struct block_append *a)
{
	return fill_to(w, a, a->block_size);
}

/* Holds dd to its contract: inside the disk, at or after the last call. */
static int check_range(const struct image_writer *w, const struct block_append *a,
		       uint64_t off, uint64_t len, uint64_t *end)
{
	if (off < a->pos || ADD_OVERFLOW(off, len, end) || *end > w->size)
		return -CD_EINVAL;
	return 0;
}

int block_append_write(struct image_writer *w, struct block_append *a, uint64_t off,
		       const void *buf, uint64_t len)
{
	uint64_t end;
	int ret = check_range(w, a, off, len, &end);
	const uint8_t *p = buf;
	/* Blocks placed one after another in the file take one write: data
	 * runs [run_p, run_p + run_len) to run_off, flushed when the next
	 * piece does not continue it (and at the end of the call). */
	const uint8_t *run_p = NULL;
	uint64_t run_off = 0, run_len = 0;
	while (ret == 0 && len > 0) {
		uint64_t b = off / a->block_size, in = off % a->block_size;
		uint64_t n = a->block_size - in < len ? a->block_size - in : len;
		bool allocated = a->cur_block == b;
		if (allocated || !w->sparse || !all_zero(p, n)) {
			if (!allocated) {
				ret = block_append_close_block(w, a);
				if (ret == 0)
					ret = a->allocate(w, b, &a->cur_data);
				if (ret == 0) {
					a->cur_block = b;
					a->cur_filled = 0;
				}
			}
			if (ret == 0)
				ret = fill_to(w, a, in);
			if (ret == 0 && run_len &&
			    (run_off + run_len != a->cur_data + in || run_p + run_len != p)) {
				ret = io_write(w->ctx, w->dev, run_off, run_p, run_len);
				run_len = 0;
			}
			if (ret == 0 && !run_len) {
				run_off = a->cur_data + in;
				run_p = p;
			}
			run_len += n;
			a->cur_filled = in + n;
		}
		p += n;
		off += n;
		len -= n;
	}
	if (ret == 0 && run_len)
		ret = io_write(w->ctx, w->dev, run_off, run_p, run_len);
	if (ret == 0)
		a->pos = end;
	return ret;
}

/* Blocks without a place read as zeros; an allocated block's zeros are
 * holes on a fresh file and written on a device (fill_to). */
int block_append_zero(struct image_writer *w, struct block_append *a, uint64_t off,
		      uint64_t len)
{
	uint64_t end;
	int ret = check_range(w, a, off, len, &end);
	if (ret == 0)
		a->pos = end;
	return ret;
}

int block_append_op_write(struct image_writer *w, uint64_t off, const void *buf,
			  uint64_t len)
{
	struct block_append *a = w->priv;
	int ret = a ? block_append_write(w, a, off, buf, len) : -CD_EINVAL;
	if (ret < 0 && a)
		a->release(w);
	return ret;
}

int block_append_op_zero(struct image_writer *w, uint64_t off, uint64_t len)
{
	struct block_append *a = w->priv;
	int ret = a ? block_append_zero(w, a, off, len) : -CD_EINVAL;
	if (ret < 0 && a)
		a->release(w);
	return ret;
}
