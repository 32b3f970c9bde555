/*
 * qemu-img info's human text (block/qapi.c bdrv_image_info_dump and
 * bdrv_snapshot_dump, qemu-img.c dump_human_image_info_list) from the
 * ImageInfo objects core sent: one object, or with --backing-chain an
 * array of them, each printed after a blank line but the first.
 */
#ifndef CORDON_HOST_RENDER_INFO_H
#define CORDON_HOST_RENDER_INFO_H

#include <stdint.h>
#include <stdio.h>

#include "result_store.h"

void render_info_human(FILE *f, const struct result_store *r);

/* qemu's size_to_str(): "%0.3g %sB" with binary prefixes ("1.21 MiB"). */
void render_size(char *buf, size_t len, uint64_t v);

#endif
