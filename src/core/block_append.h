/*
 * Outputs made of fixed-size blocks appended in virtual order as dd's data
 * arrives (VHD, VHDX, VMDK): the shared part of those writers.  A block gets its
 * place in the file when its first non-zero byte arrives (all-zero blocks
 * never get one); the format records the place (its BAT) in a callback.
 * On a device that does not start as zeros, every byte of an allocated
 * block is written, its zeros too.
 */
#ifndef CORDON_CORE_BLOCK_APPEND_H
#define CORDON_CORE_BLOCK_APPEND_H

#include "format.h"

struct block_append {
	uint64_t block_size;
	uint64_t pos;          /* end of the last call: calls are monotonic */
	uint64_t cur_block;    /* the block being filled; UINT64_MAX: none */
	uint64_t cur_data;     /* its data's offset in the file */
	uint64_t cur_filled;   /* bytes of it written (devices not zeroed) */
	uint8_t *zeros;        /* BLOCK_APPEND_ZEROS bytes, devices not zeroed */
	/* Gives block b its place: the offset of its data in *data_off. */
	int (*allocate)(struct image_writer *w, uint64_t b, uint64_t *data_off);
	/* Frees the writer's state (w->priv), after a failed call. */
	void (*release)(struct image_writer *w);
};

#define BLOCK_APPEND_ZEROS (256u << 10)

/* Sets up a; 0 or -CD_ENOMEM. */
int block_append_init(struct image_writer *w, struct block_append *a, uint64_t block_size,
		      int (*allocate)(struct image_writer *, uint64_t, uint64_t *),
		      void (*release)(struct image_writer *));
void block_append_free(struct image_writer *w, struct block_append *a);

/* The writer's write() and zero(), over the virtual disk: 0 or -errno. */
int block_append_write(struct image_writer *w, struct block_append *a, uint64_t off,
		       const void *buf, uint64_t len);
int block_append_zero(struct image_writer *w, struct block_append *a, uint64_t off,
		      uint64_t len);
/* The same as writer_ops entries, for a writer whose state (w->priv) begins
 * with its struct block_append: a failure releases the writer, as every
 * writer's failed call does. */
int block_append_op_write(struct image_writer *w, uint64_t off, const void *buf,
			  uint64_t len);
int block_append_op_zero(struct image_writer *w, uint64_t off, uint64_t len);
/* Completes the block being filled (finish, or before a new one). */
int block_append_close_block(struct image_writer *w, struct block_append *a);
/* Writes len zero bytes at off (the caller's metadata on such devices). */
int block_append_write_zeros(struct image_writer *w, struct block_append *a, uint64_t off,
			     uint64_t len);

#endif
