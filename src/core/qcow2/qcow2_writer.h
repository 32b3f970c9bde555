/*
 * The qcow2 writer (`cordon dd -O qcow2`): the image qemu-img dd creates
 * (version 3, 64 KiB clusters, 16-bit refcounts, zlib, no features), with
 * clusters that are all zeros left unallocated.  Wired into the qcow2
 * format_ops as its .writer.
 */
#ifndef CORDON_CORE_QCOW2_QCOW2_WRITER_H
#define CORDON_CORE_QCOW2_QCOW2_WRITER_H

#include "../format.h"

extern const struct writer_ops qcow2_writer_ops;

#endif
