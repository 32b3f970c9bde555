/*
 * Private to the qcow2 writer (qcow2_writer*.c).
 *
 * Output layout, chosen so that memory stays O(1) whatever the virtual size
 * and no metadata size has to be guessed up front:
 *
 *   cluster 0            header (written last, by finish)
 *   clusters 1..L        L1 table (its size follows from the virtual size)
 *   then, as dd moves   data clusters in virtual order, each L2 table
 *   forward              appended once dd has moved past its 512 MiB range
 *   at finish            refcount table, then refcount blocks
 *
 * Every cluster of the file is referenced exactly once, so every refcount
 * is 1 and the refcount metadata follows from the cluster count alone.
 */
#ifndef CORDON_CORE_QCOW2_QCOW2_WRITER_PRIV_H
#define CORDON_CORE_QCOW2_QCOW2_WRITER_PRIV_H

#include "qcow2_writer.h"
#include "../endian.h"

#define QW_CLUSTER_BITS 16u
#define QW_CLUSTER_SIZE (1u << QW_CLUSTER_BITS)
/* 8-byte entries per L1/L2 cluster and 16-bit refcounts per block. */
#define QW_ENTRIES_PER_CLUSTER (QW_CLUSTER_SIZE / 8u)
#define QW_REFCOUNT_ORDER 4u
#define QW_REFS_PER_BLOCK (QW_CLUSTER_SIZE * 8u / (1u << QW_REFCOUNT_ORDER))
/* Bytes of virtual disk one L2 table maps: 512 MiB. */
#define QW_L2_SPAN ((uint64_t)QW_CLUSTER_SIZE * QW_ENTRIES_PER_CLUSTER)
/* QEMU's QCOW_MAX_L1_SIZE (32 MiB of entries): qemu refuses larger images,
 * so cordon never writes one (2 PiB virtual with 64 KiB clusters). */
#define QW_MAX_L1_ENTRIES ((32u << 20) / 8u)
/* Data clusters gathered before one write hostcall: large transfers keep
 * hostcalls rare (a VM exit each) while the sandbox stays small. */
#define QW_BATCH_CLUSTERS 64u
#define QW_BATCH_BYTES (QW_BATCH_CLUSTERS * QW_CLUSTER_SIZE)
/* L1 and L2 entries of clusters with refcount 1 (QCOW_OFLAG_COPIED). */
#define QW_OFLAG_COPIED (1ull << 63)
#define QW_HEADER_LEN 112u

struct qw_state {
	uint64_t l1_size;     /* L1 entries */
	uint64_t l1_clusters; /* clusters reserved for the L1 table */
	uint64_t next_host;   /* first unallocated host cluster */
	uint64_t pos;         /* end of the last write/zero: calls are monotonic */

	/* Data clusters waiting for one write: batch_n clusters from host
	 * cluster batch_host.  The partial cluster being filled (the slot)
	 * lives right after them, so committing it costs no copy. */
	uint8_t *batch;
	uint32_t batch_n;
	uint64_t batch_host;
	bool slot_active;
	uint64_t slot_vc;     /* virtual cluster of the slot */

	/* The one L2 table that can still change (its L1 index). */
	uint8_t *l2;
	bool l2_active;
	uint64_t l2_index;

	/* One cluster of the L1 table: window l1_win, dirty once written to. */
	uint8_t *l1buf;
	uint64_t l1_win;
	bool l1_dirty;
};

/* Writes len bytes at byte offset off of the output (chunked); on a fresh
 * output, trailing zeros are left as holes. */
int qw_pwrite(struct image_writer *w, uint64_t off, const void *buf,
	      uint64_t len);
/* Host byte offset of host cluster c, overflow-checked. */
int qw_cluster_off(uint64_t c, uint64_t *off);

/* Where the refcount structures go once `used` clusters are taken. */
struct qw_refs {
	uint64_t total;       /* clusters in the file */
	uint64_t table_start; /* first cluster of the refcount table (= used) */
	uint64_t table_n;     /* its clusters */
	uint64_t blocks_n;    /* refcount blocks, right after the table */
};

/* The smallest table and block count that covers the file including
 * themselves; -EFBIG past the host's offsets or the header's fields. */
int qw_solve_refs(uint64_t used, struct qw_refs *r);

/* qcow2_writer_meta.c: refcount table and blocks after the last allocated
 * cluster, then the header; sets the file's final size. */
int qw_write_metadata(struct image_writer *w, struct qw_state *s);

#endif
