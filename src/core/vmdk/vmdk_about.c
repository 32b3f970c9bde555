/*
 * What qemu-img info says of a VMDK image: qemu's vmdk_get_info(),
 * vmdk_get_allocated_file_size() and vmdk_get_specific_info() (create type,
 * both CIDs, and every extent as an ImageInfo of its own).
 */
#include "vmdk_priv.h"

#include "../result.h"

const char *vmdk_type_word(enum vmdk_extent_type t)
{
	switch (t) {
	case VMDK_EXT_FLAT: return "FLAT";
	case VMDK_EXT_SPARSE: return "SPARSE";
	case VMDK_EXT_VMFS: return "VMFS";
	case VMDK_EXT_VMFSSPARSE: return "VMFSSPARSE";
	case VMDK_EXT_SESPARSE: return "SESPARSE";
	}
	return "";
}

/* qemu's vmdk_extents_type_eq(). */
static bool same_kind(const struct vmdk_extent *a, const struct vmdk_extent *b)
{
	return a->flat == b->flat && a->compressed == b->compressed &&
	       (a->flat || a->cluster_sectors == b->cluster_sectors);
}

void vmdk_about(struct image *img, struct image_about *a)
{
	const struct vmdk *p = img->priv;
	const struct hostcalls *hc = img->ctx->env->hc;
	/* Extents of different kinds: qemu's get_info fails (-ENOTSUP).  No
	 * extent at all: qemu's get_info asserts (about_specific refuses). */
	a->has_info = p->n_ext > 0;
	for (uint32_t i = 1; i < p->n_ext; i++)
		if (!same_kind(&p->ext[0], &p->ext[i]))
			a->has_info = false;
	if (a->has_info && !p->ext[0].flat)
		a->cluster_size = p->ext[0].cluster_sectors * VMDK_SECTOR;
	/* Each extent file once per extent, but the image's own file only
	 * in info.c's count: qemu compares the extent's file with bs->file. */
	for (uint32_t i = 0; i < p->n_ext && a->actual_size >= 0; i++) {
		if (p->ext[i].dev == img->dev)
			continue;
		int64_t n = hc->allocated(hc->ctx, p->ext[i].dev);
		a->actual_size = n < 0 ? -1 : a->actual_size + n;
	}
	a->specific = "vmdk";
}

int vmdk_about_specific(struct image *img, struct result_out *r)
{
	const struct vmdk *p = img->priv;
	/* qemu-img info aborts on such an image (vmdk_get_info's assertion
	 * that there is an extent): a refusal in one line instead. */
	if (p->n_ext == 0)
		return core_fail(img->ctx, -CD_EINVAL, "cordon cannot describe a VMDK whose "
				 "descriptor names no extent (qemu-img aborts on it)");
	result_string(r, "create-type", p->create_type);
	result_int(r, "cid", p->cid);
	result_int(r, "parent-cid", p->parent_cid);
	result_begin_array(r, "extents");
	for (uint32_t i = 0; i < p->n_ext; i++) {
		const struct vmdk_extent *e = &p->ext[i];
		result_begin_object(r, NULL);
		result_string(r, "filename", e->file_name ? e->file_name : img->name);
		result_string(r, "format", e->type_word);
		result_uint(r, "virtual-size", e->sectors * VMDK_SECTOR);
		if (!e->flat)
			result_uint(r, "cluster-size", e->cluster_sectors * VMDK_SECTOR);
		if (e->compressed)
			result_bool(r, "compressed", true);
		result_end_object(r);
	}
	result_end_array(r);
	return 0;
}
