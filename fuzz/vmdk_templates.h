/*
 * Small VMDKs for fuzz_vmdk to mutate, all well-formed and read alike by
 * qemu-img and cordon: a hosted sparse extent with its embedded descriptor
 * (4 KiB grains, 16-entry tables, a zeroed grain), a stream-optimized one
 * (deflate grains behind markers, the header in the footer), a descriptor
 * naming a flat, a sparse and an ESX "COWD" extent, and a sparse child of
 * the first template.  The files descriptors name are VT_* below.
 */
#ifndef CORDON_FUZZ_VMDK_TEMPLATES_H
#define CORDON_FUZZ_VMDK_TEMPLATES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../src/core/endian.h"
#include "../src/core/vmdk/vmdk.h"

#define VMT_FLAT "x.raw"
#define VMT_SPARSE "s.vmdk"
#define VMT_COWD "c.vmdk"
#define VMT_PARENT "p.vmdk"
#define VMT_PARENT_CID 0xabcdu

struct vmt {
	uint8_t *buf;
	size_t len;
};

static uint8_t vmt_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(i * 31 + i / 512 + seed);
}

/* A hosted sparse extent of `grains` 4 KiB grains; grain g is present
 * when bit g of mask is set (compressed behind markers when stream), and
 * has entry 1 (zeroed) when bit g of zmask is.  desc goes at sector 1. */
static void vmt_sparse(struct vmt *t, uint32_t grains, uint32_t mask, uint32_t zmask,
		       bool stream, const char *desc, uint8_t seed)
{
	const uint32_t gs = 8, gtes = 16, gsize = gs * 512;
	uint32_t n_gt = (grains + gtes - 1) / gtes;
	uint32_t gd = 21, gts = gd + 1, data = gts + n_gt; /* a table: 64 bytes, one sector */
	size_t cap = (size_t)(data + 2 * grains * gs + 8) * 512;
	t->buf = calloc(1, cap);
	uint8_t *b = t->buf;
	size_t at = (size_t)data * 512;
	for (uint32_t g = 0; g < grains; g++) {
		uint32_t entry = 0;
		if (g < 32 && (mask >> g & 1)) {
			entry = (uint32_t)(at / 512);
			uint8_t grain[4096];
			for (size_t i = 0; i < gsize; i++)
				grain[i] = vmt_byte(g * gsize + i, seed);
			if (stream) {
				uLongf zlen = (uLongf)(cap - at - 12);
				compress2(b + at + 12, &zlen, grain, gsize, 6);
				store_le64(b + at, (uint64_t)g * gs);
				store_le32(b + at + 8, (uint32_t)zlen);
				at += (12 + zlen + 511) / 512 * 512;
			} else {
				memcpy(b + at, grain, gsize);
				at += gsize;
			}
		} else if (g < 32 && (zmask >> g & 1)) {
			entry = VMDK_GTE_ZEROED;
		}
		store_le32(b + gts * 512ull + (g / gtes) * 512 + (g % gtes) * 4, entry);
	}
	for (uint32_t i = 0; i < n_gt; i++)
		store_le32(b + gd * 512ull + 4 * i, gts + i);
	struct vmdk4_header h = {
		.version = stream ? 3 : 2,
		.flags = VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_RGD | VMDK4_FLAG_ZERO_GRAIN |
			 (stream ? VMDK4_FLAG_COMPRESS | VMDK4_FLAG_MARKER : 0),
		.capacity = (uint64_t)grains * gs,
		.granularity = gs,
		.desc_offset = 1,
		.desc_size = 20,
		.num_gtes_per_gt = gtes,
		.rgd_offset = gd,
		.gd_offset = gd,
		.grain_offset = data,
		.compress_algorithm = stream ? VMDK4_COMPRESSION_DEFLATE : 0,
	};
	store_be32(b, VMDK4_MAGIC);
	if (stream) {
		/* the header says "see the footer"; the footer holds the real one */
		struct vmdk4_header first = h;
		first.gd_offset = VMDK4_GD_AT_END;
		vmdk4_header_encode(&first, b + 4);
		store_le32(b + at + 12, 3); /* footer marker */
		store_be32(b + at + 512, VMDK4_MAGIC);
		vmdk4_header_encode(&h, b + at + 516);
		at += 1536; /* and the end-of-stream marker, all zeros */
	} else {
		vmdk4_header_encode(&h, b + 4);
	}
	memcpy(b + 512, desc, strlen(desc));
	t->len = at;
}

/* An ESX sparse extent: 4096-entry tables, 1-sector grains, grains 0, 5. */
static void vmt_cowd(struct vmt *t, uint32_t sectors)
{
	t->len = (4 + 1 + 32 + 2) * 512;
	t->buf = calloc(1, t->len);
	uint8_t *b = t->buf;
	store_be32(b, VMDK3_MAGIC);
	store_le32(b + 12, sectors);
	store_le32(b + 16, 1);      /* granularity */
	store_le32(b + 20, 4);      /* directory at sector 4 */
	store_le32(b + 24, 1);      /* one table */
	store_le32(b + 4 * 512, 5); /* table at sector 5 (32 sectors) */
	store_le32(b + 5 * 512, 37);
	store_le32(b + 5 * 512 + 5 * 4, 38);
	for (size_t i = 0; i < 1024; i++)
		b[37 * 512 + i] = vmt_byte(i, 9);
}

static void vmt_text(struct vmt *t, const char *text)
{
	t->len = strlen(text);
	t->buf = malloc(t->len);
	memcpy(t->buf, text, t->len);
}

#define VMT_DESC(cid, pcid, type, extra)                                              \
	"# Disk DescriptorFile\nversion=1\nCID=" cid "\nparentCID=" pcid "\ncreateType=\"" \
	type "\"\n" extra "ddb.adapterType = \"ide\"\n"

/* templates[0..3], then the files they name: flat, sparse, cowd, parent */
static void vmt_all(struct vmt *t)
{
	vmt_sparse(&t[0], 40, 0x8000a0b5u, 0x400u, false,
		   VMT_DESC("abcd", "ffffffff", "monolithicSparse",
			    "RW 320 SPARSE \"f.vmdk\"\n"), 1);
	vmt_sparse(&t[1], 24, 0x00c0f3u, 0, true,
		   VMT_DESC("1", "ffffffff", "streamOptimized", ""), 2);
	vmt_text(&t[2], VMT_DESC("2", "ffffffff", "twoGbMaxExtentSparse",
				 "RW 20 FLAT \"" VMT_FLAT "\" 3\n"
				 "RW 64 SPARSE \"" VMT_SPARSE "\"\n"
				 "RW 8 VMFSSPARSE \"" VMT_COWD "\"\n"
				 "RW 9 VMFS \"" VMT_FLAT "\"\n"));
	vmt_sparse(&t[3], 40, 0x3u, 0x10u, false,
		   VMT_DESC("3", "abcd", "monolithicSparse",
			    "parentFileNameHint=\"" VMT_PARENT "\"\n"), 3);
	t[4].len = 12 * 512;
	t[4].buf = malloc(t[4].len);
	for (size_t i = 0; i < t[4].len; i++)
		t[4].buf[i] = vmt_byte(i, 4);
	vmt_sparse(&t[5], 8, 0x5u, 0x2u, false, "", 5);
	vmt_cowd(&t[6], 8);
	vmt_sparse(&t[7], 40, 0x8000a0b5u, 0x400u, false,
		   VMT_DESC("abcd", "ffffffff", "monolithicSparse", ""), 1);
}

#endif
