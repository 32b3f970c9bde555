/*
 * qemu-img 7.2's format probes, for every format it probes, including those
 * cordon cannot read yet (an image qemu would read as vpc must not be read
 * as raw).  Each gets the first 512 bytes of the file, zero-padded past end
 * of file, and the name as the user gave it; it returns qemu's score.
 * qcow2's probe lives with qcow2 (qcow2/qcow2.c).
 */
#include "format.h"

#include "endian.h"

static bool starts(const uint8_t *h, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(h, magic, n) == 0;
}

/* A VHD with its header copy at the start (dynamic, differencing).  A fixed
 * VHD has only its footer, at the end: qemu reads it as raw. */
int probe_vpc(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return starts(h, len, "conectix", 8) ? 100 : 0;
}

int probe_vhdx(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return starts(h, len, "vhdxfile", 8) ? 100 : 0;
}

/* A text descriptor: comment lines and blank lines (spaces, at most one
 * CR) may come before a "version=N" line, N being 1, 2 or 3, ended by LF or
 * CRLF; anything else first is not a descriptor. */
static int vmdk_descriptor(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
			p++;
			continue;
		}
		if (*p == ' ') {
			while (p < end && *p == ' ')
				p++;
			if (p < end && *p == '\r')
				p++;
			if (p == end || *p != '\n')
				return 0;
			p++;
			continue;
		}
		size_t left = (size_t)(end - p);
		bool version = left >= 9 && memcmp(p, "version=", 8) == 0 &&
			       p[8] >= '1' && p[8] <= '3';
		if (version && left >= 10 && p[9] == '\n')
			return 100;
		if (version && left >= 11 && p[9] == '\r' && p[10] == '\n')
			return 100;
		return 0;
	}
	return 0;
}

int probe_vmdk(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	if (len < 4)
		return 0;
	uint32_t magic = load_be32(h);
	if (magic == 0x434f5744u /* "COWD" */ || magic == 0x4b444d56u /* "KDMV" */)
		return 100;
	return vmdk_descriptor(h, h + len);
}

int probe_vdi(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return len >= 512 && load_le32(h + 64) == 0xbeda107fu ? 100 : 0;
}

int probe_qed(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return len >= 64 && load_le32(h) == 0x00444551u /* "QED\0" */ ? 100 : 0;
}

int probe_parallels(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	if (len < 64 || load_le32(h + 16) != 2)
		return 0;
	return memcmp(h, "WithoutFreeSpace", 16) == 0 ||
			       memcmp(h, "WithouFreSpacExt", 16) == 0
		       ? 100 : 0;
}

int probe_qcow1(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return len >= 48 && load_be32(h) == 0x514649fbu && load_be32(h + 4) == 1 ? 100 : 0;
}

/* LUKS version 1 only: qemu 7.2 reads LUKS2 images as raw. */
int probe_luks(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	return starts(h, len, "LUKS\xba\xbe", 6) && load_be16(h + 6) == 1 ? 100 : 0;
}

/* A C string in a fixed field: the text, then a NUL. */
static bool cstr_at(const uint8_t *h, size_t off, const char *s)
{
	size_t n = strlen(s);
	return memcmp(h + off, s, n) == 0 && h[off + n] == '\0';
}

int probe_bochs(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	if (len < 512)
		return 0;
	uint32_t version = load_le32(h + 64);
	return cstr_at(h, 0, "Bochs Virtual HD Image") && cstr_at(h, 32, "Redolog") &&
			       cstr_at(h, 48, "Growing") &&
			       (version == 0x00020000u || version == 0x00010000u)
		       ? 100 : 0;
}

#define CLOOP_MAGIC "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r " \
		    "-t iso9660 /dev/cloop $1\n"

int probe_cloop(const uint8_t *h, size_t len, const char *filename)
{
	(void)filename;
	size_t n = sizeof(CLOOP_MAGIC) - 1;
	return memcmp(h, CLOOP_MAGIC, len < n ? len : n) == 0 ? 2 : 0;
}

/* qemu goes by the name alone: "*.dmg", contents unseen. */
int probe_dmg(const uint8_t *h, size_t len, const char *filename)
{
	(void)h, (void)len;
	size_t n = filename ? strlen(filename) : 0;
	return n > 4 && strcmp(filename + n - 4, ".dmg") == 0 ? 2 : 0;
}

int probe_raw(const uint8_t *h, size_t len, const char *filename)
{
	(void)h, (void)len, (void)filename;
	return 1;
}
