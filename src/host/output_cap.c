/*
 * Worst-case output sizes per writer (see output_cap.h).  Each bound is
 * what cordon's own writer can produce, with room to spare, never less:
 * the writer's unit tests check files against these bounds.
 */
#include "output_cap.h"

#include <string.h>

#include "../core/vhdx/vhdx.h"
#include "../core/vmdk/vmdk.h"
#include "../core/vpc/vpc.h"

#define SIZE_MAX_OUT ((uint64_t)INT64_MAX)

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > SIZE_MAX_OUT - b ? SIZE_MAX_OUT : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > SIZE_MAX_OUT / b ? SIZE_MAX_OUT : a * b;
}

/* raw: the file is the virtual disk. */
static uint64_t raw_cap(uint64_t v)
{
	return v;
}

/*
 * qcow2 as cordon writes it (qcow2_writer_priv.h): 64 KiB clusters, 16-bit
 * refcounts.  Header, L1 table, every data cluster, one L2 table per L1
 * entry, and refcount blocks covering all of that and themselves.
 */
#define QCOW2_CLUSTER 65536ull
#define QCOW2_L2_SPAN (QCOW2_CLUSTER * (QCOW2_CLUSTER / 8))
#define QCOW2_REFS_PER_BLOCK (QCOW2_CLUSTER * 8 / 16)

static uint64_t qcow2_cap(uint64_t v)
{
	uint64_t data = div_up(v, QCOW2_CLUSTER);
	uint64_t l1 = div_up(v, QCOW2_L2_SPAN);
	uint64_t l1_clusters = div_up(l1 * 8, QCOW2_CLUSTER);
	uint64_t used = sat_add(sat_add(1 + l1_clusters, data), l1);
	/* Blocks also count themselves and the table: a little more than
	 * used / QCOW2_REFS_PER_BLOCK always suffices. */
	uint64_t blocks = used / (QCOW2_REFS_PER_BLOCK - 768) + 2;
	uint64_t table = blocks / (QCOW2_CLUSTER / 8) + 1;
	return sat_mul(sat_add(sat_add(used, blocks), table), QCOW2_CLUSTER);
}

/*
 * vpc as cordon writes it (src/core/vpc/vpc_writer.c): footer copy,
 * header, BAT, each 2 MiB block with its 512-byte bitmap, the footer.
 * The virtual size is the CHS-rounded one.
 */
#define VPC_BLOCK (2ull << 20)

static uint64_t vpc_cap(uint64_t v)
{
	uint64_t blocks = div_up(v, VPC_BLOCK);
	uint64_t bat = div_up(blocks * 4, 512) * 512;
	return sat_add(sat_add(1536 + 512, bat), sat_mul(blocks, VPC_BLOCK + 512));
}

/* vhdx as cordon writes it (src/core/vhdx/vhdx_writer.c): qemu's layout up
 * to the first block, then every block of the disk. */
static uint64_t vhdx_cap(uint64_t v)
{
	struct vhdx_create_layout l;
	if (vhdx_create_layout(v, &l) < 0)
		return 0; /* refused before anything is written */
	return sat_add(l.data_start, sat_mul(div_up(v, l.block_size), l.block_size));
}

/* vmdk as cordon writes it (src/core/vmdk/vmdk_writer.c): qemu's
 * monolithicSparse metadata, then every 64 KiB grain of the disk. */
static uint64_t vmdk_cap(uint64_t v)
{
	struct vmdk_create_layout l;
	uint64_t sectors = div_up(v, 512);
	if (vmdk_create_layout(sectors, &l) < 0)
		return 0; /* refused before anything is written */
	uint64_t grain = (uint64_t)VMDK_CREATE_GRAIN * 512;
	return sat_add(sat_mul(l.grain_offset, 512), sat_mul(div_up(v, grain), grain));
}

static const struct {
	const char *fmt;
	uint64_t (*cap)(uint64_t virtual_size);
} caps[] = {
	{ "raw", raw_cap },
	/* -O file and -O host_device write raw (format_table.c). */
	{ "file", raw_cap },
	{ "host_device", raw_cap },
	{ "qcow2", qcow2_cap },
	{ "vpc", vpc_cap },
	{ "vhdx", vhdx_cap },
	{ "vmdk", vmdk_cap },
};

uint64_t output_cap(const char *fmt, uint64_t virtual_size)
{
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcmp(caps[i].fmt, fmt) == 0)
			return caps[i].cap(virtual_size);
	/* A format without a writer: core refuses it before creating. */
	return 0;
}

uint64_t output_virtual_max(const char *fmt, uint64_t window)
{
	uint64_t rounded;
	struct vpc_chs g;
	if (strcmp(fmt, "vpc") == 0 && chs_rounded_size(window, false, &rounded, &g) == 0)
		return rounded;
	return window;
}
