/*
 * A small qcow2 image builder for unit tests and fuzz targets: images are
 * laid out in memory byte by byte (header, a refcount table that is never
 * read, the L1 table, then L2 tables and data as they are needed), so a
 * test controls every entry, including invalid ones.
 */
#ifndef CORDON_TESTS_QCOW2_BUILD_H
#define CORDON_TESTS_QCOW2_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct qb {
	uint8_t *buf;
	size_t len;
	uint32_t version, cluster_bits;
	uint64_t cs, size;
	bool extl2;
	uint8_t ctype; /* 0 zlib, 1 zstd */
	uint64_t l1_off;
	uint32_t l1_size, l2_entries, entry_bytes;
	const char *backing, *backing_fmt;
};

static inline void qb_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline void qb_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline uint64_t qb_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Appends `bytes` zeroed bytes at a multiple of `align`; returns the offset. */
static inline uint64_t qb_append(struct qb *b, uint64_t bytes, uint64_t align)
{
	uint64_t off = (b->len + align - 1) / align * align;
	b->buf = realloc(b->buf, off + bytes);
	memset(b->buf + b->len, 0, off + bytes - b->len);
	b->len = off + bytes;
	return off;
}

static inline void qb_init(struct qb *b, uint32_t version, uint32_t cluster_bits,
			   uint64_t size, bool extl2)
{
	memset(b, 0, sizeof(*b));
	b->version = version;
	b->cluster_bits = cluster_bits;
	b->cs = 1ull << cluster_bits;
	b->size = size;
	b->extl2 = extl2;
	b->entry_bytes = extl2 ? 16 : 8;
	b->l2_entries = (uint32_t)(b->cs / b->entry_bytes);
	uint64_t span = b->cs * b->l2_entries;
	b->l1_size = (uint32_t)((size + span - 1) / span);
	qb_append(b, 2 * b->cs, b->cs); /* header, refcount table */
	b->l1_off = qb_append(b, (uint64_t)b->l1_size * 8 + 8, b->cs);
}

/* The L2 slot of a virtual cluster, allocating its table on first use. */
static inline uint8_t *qb_slot(struct qb *b, uint64_t vcluster)
{
	uint64_t l1i = vcluster / b->l2_entries;
	uint8_t *l1e = b->buf + b->l1_off + l1i * 8;
	uint64_t l2 = qb_get64(l1e) & 0x00fffffffffffe00ull;
	if (!l2) {
		l2 = qb_append(b, b->cs, b->cs);
		l1e = b->buf + b->l1_off + l1i * 8;
		qb_put64(l1e, l2 | (1ull << 63));
	}
	return b->buf + l2 + (vcluster % b->l2_entries) * b->entry_bytes;
}

static inline void qb_set(struct qb *b, uint64_t vcluster, uint64_t entry,
			  uint64_t bitmap)
{
	uint8_t *p = qb_slot(b, vcluster);
	qb_put64(p, entry);
	if (b->extl2)
		qb_put64(p + 8, bitmap);
}

/* A data cluster holding cs bytes of data; returns its host offset. */
static inline uint64_t qb_data(struct qb *b, uint64_t vcluster, const uint8_t *data,
			       uint64_t bitmap)
{
	qb_slot(b, vcluster); /* table before data: offsets stay increasing */
	uint64_t off = qb_append(b, b->cs, b->cs);
	memcpy(b->buf + off, data, b->cs);
	qb_set(b, vcluster, off | (1ull << 63), bitmap);
	return off;
}

/* Compressed bytes at any byte offset, with qemu's descriptor layout. */
static inline void qb_compressed(struct qb *b, uint64_t vcluster, const void *c,
				 size_t clen)
{
	qb_slot(b, vcluster);
	uint64_t off = qb_append(b, clen, 1);
	memcpy(b->buf + off, c, clen);
	uint32_t shift = 62 - (b->cluster_bits - 8);
	uint64_t sectors = (off + clen - 1) / 512 - off / 512;
	qb_set(b, vcluster, (1ull << 62) | (sectors << shift) | off, 0);
}

/* Writes the header (and backing name); call after the last entry. */
static inline void qb_finish(struct qb *b)
{
	uint8_t *h = b->buf;
	qb_put32(h, 0x514649fb);
	qb_put32(h + 4, b->version);
	qb_put32(h + 20, b->cluster_bits);
	qb_put64(h + 24, b->size);
	qb_put32(h + 36, b->l1_size);
	qb_put64(h + 40, b->l1_off);
	qb_put64(h + 48, b->cs);
	qb_put32(h + 56, 1);
	uint32_t hl = 72;
	if (b->version >= 3) {
		uint64_t incompat = (b->extl2 ? 1u << 4 : 0) | (b->ctype ? 1u << 3 : 0);
		qb_put64(h + 72, incompat);
		qb_put32(h + 96, 4);
		hl = 112;
		qb_put32(h + 100, hl);
		h[104] = b->ctype;
	}
	uint64_t e = hl;
	if (b->backing_fmt) {
		size_t n = strlen(b->backing_fmt);
		qb_put32(h + e, 0xe2792aca);
		qb_put32(h + e + 4, (uint32_t)n);
		memcpy(h + e + 8, b->backing_fmt, n);
		e += 8 + (n + 7) / 8 * 8;
	}
	qb_put32(h + e, 0); /* end marker */
	if (b->backing) {
		size_t n = strlen(b->backing);
		qb_put64(h + 8, 256);
		qb_put32(h + 16, (uint32_t)n);
		memcpy(h + 256, b->backing, n);
	}
}

#endif
