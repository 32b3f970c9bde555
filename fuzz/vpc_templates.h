/*
 * Small VHDs for fuzz_vpc to mutate: dynamic and differencing images with
 * 512-byte and 4 KiB blocks (qemu opens any power of two from 512), a
 * fixed one, all well-formed, with data in scattered blocks.  The
 * differencing template's parent is the first one.
 */
#ifndef CORDON_FUZZ_VPC_TEMPLATES_H
#define CORDON_FUZZ_VPC_TEMPLATES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/endian.h"
#include "../src/core/vpc/vpc.h"

/* the locator says ".\\p.vhd"; cordon asks the host for this */
#define VT_PARENT_NAME "./p.vhd"

struct vt {
	uint8_t *buf;
	size_t len;
};

static void vt_footer(uint8_t *f, uint32_t type, uint64_t size, const char *app,
		      uint8_t id)
{
	struct vpc_chs g;
	vpc_geometry(size / 512, &g);
	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	store_be64(f + 16, type == VPC_FIXED ? UINT64_MAX : 512);
	memcpy(f + 28, app, 4);
	store_be64(f + 40, size);
	store_be64(f + 48, size);
	store_be16(f + 56, g.cyls);
	f[58] = g.heads;
	f[59] = g.secs;
	store_be32(f + 60, type);
	memset(f + 68, id, 16);
	store_be32(f + 64, vpc_checksum(f, 512, 64));
}

/* entries blocks of bs bytes; block i allocated when mask bit i is set,
 * its data a pattern, its bitmap (differencing) every other run of 3
 * sectors. */
static void vt_dynamic(struct vt *t, uint32_t type, uint32_t bs, uint32_t entries,
		       uint32_t mask, const char *app)
{
	uint32_t bm = ((bs / 4096) + 511) & ~511u;
	size_t bat_len = ((size_t)entries * 4 + 511) & ~(size_t)511;
	size_t loc = 1536 + bat_len, data = loc + 512;
	size_t used = (size_t)__builtin_popcount(mask);
	t->len = data + used * (bm + bs) + 512;
	t->buf = calloc(1, t->len);
	uint64_t size = (uint64_t)entries * bs;
	vt_footer(t->buf, type, size, app, type == VPC_DIFFERENCING ? 0x22 : 0x11);
	uint8_t *h = t->buf + 512;
	memcpy(h, "cxsparse", 8);
	store_be64(h + 8, UINT64_MAX);
	store_be64(h + 16, 1536);
	store_be32(h + 24, 0x00010000);
	store_be32(h + 28, entries);
	store_be32(h + 32, bs);
	if (type == VPC_DIFFERENCING) {
		memset(h + 40, 0x11, 16); /* the parent's id */
		static const char rel[] = ".\\p.vhd";
		for (size_t i = 0; i < sizeof(rel) - 1; i++)
			t->buf[loc + 2 * i] = (uint8_t)rel[i];
		store_be32(h + 576, 0x57327275); /* W2ru */
		store_be32(h + 576 + 4, 512);
		store_be32(h + 576 + 8, (uint32_t)(2 * (sizeof(rel) - 1)));
		store_be64(h + 576 + 16, loc);
	}
	store_be32(h + 36, vpc_checksum(h, 1024, 36));
	memset(t->buf + 1536, 0xff, bat_len);
	size_t at = data;
	for (uint32_t i = 0; i < entries && i < 32; i++) {
		if (!(mask & (1u << i)))
			continue;
		store_be32(t->buf + 1536 + 4 * i, (uint32_t)(at / 512));
		for (uint32_t s = 0; s < bs / 512; s++)
			if ((s / 3) % 2 == 0 || type != VPC_DIFFERENCING)
				t->buf[at + s / 8] |= (uint8_t)(0x80 >> (s % 8));
		for (uint32_t k = 0; k < bs; k++)
			t->buf[at + bm + k] = (uint8_t)(k * 7 + i + 1);
		at += bm + bs;
	}
	memcpy(t->buf + t->len - 512, t->buf, 512);
}

static void vt_fixed(struct vt *t, uint64_t size)
{
	t->len = size + 512;
	t->buf = calloc(1, t->len);
	for (uint64_t k = 0; k < size; k++)
		t->buf[k] = (uint8_t)(k % 251);
	vt_footer(t->buf + size, VPC_FIXED, size, "win ", 0x33);
}

#endif
