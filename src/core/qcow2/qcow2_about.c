/*
 * What qemu-img info says of a qcow2 image: qemu's qcow2_get_info() (the
 * cluster size, the dirty bit) and qcow2_get_specific_info(), field for
 * field in the QAPI schema's order (ImageInfoSpecificQCow2).  The snapshot
 * list is qcow2_snapshot.c's.
 */
#include "qcow2.h"

#include "../result.h"

void qcow2_about(struct image *img, struct image_about *a)
{
	const struct qcow2 *q = img->priv;
	a->cluster_size = q->cluster_size;
	a->dirty = (q->h.incompatible & QCOW2_INCOMPAT_DIRTY) != 0;
	a->encrypted = q->h.crypt_method != 0;
	a->specific = "qcow2";
}

int qcow2_about_specific(struct image *img, struct result_out *r)
{
	const struct qcow2 *q = img->priv;
	const struct qcow2_header *h = &q->h;
	if (h->version == 2) {
		result_string(r, "compat", "0.10");
	} else {
		result_string(r, "compat", "1.1");
		result_bool(r, "extended-l2", h->extended_l2);
		result_bool(r, "lazy-refcounts", (h->compatible & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0);
		result_bool(r, "corrupt", (h->incompatible & QCOW2_INCOMPAT_CORRUPT) != 0);
	}
	result_int(r, "refcount-bits", 1ll << h->refcount_order);
	/* Only AES images are opened to be described (qcow2_header_decode). */
	if (h->crypt_method == QCOW2_CRYPT_AES) {
		result_begin_object(r, "encrypt");
		result_string(r, "format", "aes");
		result_end_object(r);
	}
	/* v2 images have no bitmaps qemu reads (the header has no autoclear
	 * bits), and qemu lists none for them. */
	if (h->version >= 3) {
		int ret = qcow2_list_bitmaps(img, r);
		if (ret < 0)
			return ret;
	}
	result_string(r, "compression-type",
		      h->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
	return 0;
}
