/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), four bits at a
 * time from a 16-entry table: small enough for the guest, fast enough for
 * the few KiB a VHDX open checksums (headers, region table, log entries).
 */
#include "vhdx.h"

static const uint32_t nibble[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
	0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

uint32_t vhdx_crc32c(uint32_t crc, const uint8_t *p, size_t len, size_t crc_at)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = i >= crc_at && i - crc_at < 4 ? 0 : p[i];
		crc ^= b;
		crc = (crc >> 4) ^ nibble[crc & 15];
		crc = (crc >> 4) ^ nibble[crc & 15];
	}
	return ~crc;
}
