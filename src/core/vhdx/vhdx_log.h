/*
 * The VHDX log, and the file as open sees it once the log is replayed.
 *
 * qemu 7.2 refuses a read-only open of an image with an active log; cordon
 * replays it in memory instead: the sequence qemu would replay (its search
 * of the circular log, entry by entry with every check), kept as a list of
 * writes laid over the device's bytes.  The device is never written.
 */
#ifndef CORDON_CORE_VHDX_VHDX_LOG_H
#define CORDON_CORE_VHDX_VHDX_LOG_H

#include "vhdx.h"

/* One write of the replayed log: zeros, or one 4 KiB data sector whose
 * middle lies in the log at src and whose first 8 and last 4 bytes were
 * in its descriptor. */
struct vhdx_write {
	uint64_t off, len;
	uint64_t src;        /* UINT64_MAX: zeros */
	uint8_t lead[8], trail[4];
};

/* Writes one replay may lay down; a longer log is refused. */
#define VHDX_REPLAY_WRITES_MAX 65536u
/* Log bytes read at once while searching it. */
#define VHDX_LOG_WINDOW (1u << 20)

struct vhdx_view {
	struct core_ctx *ctx;
	uint32_t dev;
	uint64_t len;            /* qemu's file length: rounded to a sector,
				  * grown by the replay */
	struct vhdx_write *w;
	uint32_t n_w;
	uint8_t *sector;         /* scratch: one data sector */
	uint8_t *window;         /* VHDX_LOG_WINDOW bytes of the log */
	uint64_t window_off;     /* UINT64_MAX: empty */
	uint64_t log_off;        /* the log region, never written by replay */
	uint64_t log_len;
};

/* Reads as qemu's bdrv_pread on the replayed file would: -CD_EIO past
 * qemu's length limit, zeros past the end. */
int vhdx_view_read(struct vhdx_view *v, uint64_t off, void *buf, uint64_t len);
/* Whether the replay wrote anywhere in [off, off+len). */
bool vhdx_view_touched(const struct vhdx_view *v, uint64_t off, uint64_t len);
void vhdx_view_free(struct vhdx_view *v);

/*
 * qemu's vhdx_parse_log for the chosen header, then the replay of the
 * active sequence, if any, into v.  0, or -errno with the message recorded
 * (qemu's errno texts; cordon's words where cordon refuses a log).
 */
int vhdx_log_replay(struct vhdx_view *v, const struct vhdx_header *h, const char *name);

#endif
