/*
 * CHS geometry as qemu computes it (block/vpc.c, after the VHD
 * specification's appendix), and the size qemu-img gives a VHD it
 * creates.  Pure functions: fuzzed by fuzz/fuzz_chs_rounded_size.c.
 */
#include "vpc.h"

void vpc_geometry(uint64_t total_sectors, struct vpc_chs *g)
{
	uint32_t secs, heads, cyls_times_heads;
	if (total_sectors > VPC_MAX_GEOMETRY)
		total_sectors = VPC_MAX_GEOMETRY;
	if (total_sectors >= 65535ull * 16 * 63) {
		secs = 255;
		heads = 16;
		cyls_times_heads = (uint32_t)(total_sectors / secs);
	} else {
		secs = 17;
		cyls_times_heads = (uint32_t)(total_sectors / secs);
		heads = (cyls_times_heads + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cyls_times_heads >= heads * 1024 || heads > 16) {
			secs = 31;
			heads = 16;
			cyls_times_heads = (uint32_t)(total_sectors / secs);
		}
		if (cyls_times_heads >= heads * 1024) {
			secs = 63;
			heads = 16;
			cyls_times_heads = (uint32_t)(total_sectors / secs);
		}
	}
	*g = (struct vpc_chs){
		.cyls = (uint16_t)(cyls_times_heads / heads),
		.heads = (uint8_t)heads,
		.secs = (uint8_t)secs,
	};
}

static uint64_t chs_sectors(const struct vpc_chs *g)
{
	return (uint64_t)g->cyls * g->heads * g->secs;
}

/*
 * qemu's calculate_rounded_image_size(): the smallest geometry found by
 * trying total, total+1, ... that covers total sectors (each try rounds
 * down by less than heads * secs <= 16 * 255, so the loop is short); the
 * maximum geometry means "use the size itself".
 */
static int rounded(uint64_t size, bool force_size, uint64_t *sectors, struct vpc_chs *g)
{
	*g = (struct vpc_chs){ 0 };
	if (force_size) {
		*g = (struct vpc_chs){ VPC_CHS_MAX_C, VPC_CHS_MAX_H, VPC_CHS_MAX_S };
	} else {
		uint64_t total = size / VPC_SECTOR;
		if (total > VPC_MAX_GEOMETRY)
			total = VPC_MAX_GEOMETRY;
		for (uint64_t i = 0; total > chs_sectors(g); i++)
			vpc_geometry(total + i, g);
	}
	if (chs_sectors(g) == VPC_MAX_GEOMETRY) {
		*sectors = size / VPC_SECTOR;
		return *sectors > VPC_MAX_SECTORS ? -CD_EFBIG : 0;
	}
	*sectors = chs_sectors(g);
	return 0;
}

int chs_rounded_size(uint64_t bytes, bool force_size, uint64_t *out, struct vpc_chs *g)
{
	/* "Silently round up size" to a sector; anything this large is over
	 * the limit anyway. */
	if (bytes > VPC_MAX_SECTORS * VPC_SECTOR)
		return -CD_EFBIG;
	uint64_t size = (bytes + VPC_SECTOR - 1) & ~(uint64_t)(VPC_SECTOR - 1), sectors;
	/* vpc_co_create_opts: the size to create, unless force_size */
	if (!force_size) {
		int ret = rounded(size, false, &sectors, g);
		if (ret < 0)
			return ret;
		size = sectors * VPC_SECTOR;
	}
	/* vpc_co_create: the geometry recorded, which must describe the size */
	int ret = rounded(size, force_size, &sectors, g);
	if (ret < 0)
		return ret;
	*out = sectors * VPC_SECTOR;
	return *out == size ? 0 : -CD_EINVAL;
}
