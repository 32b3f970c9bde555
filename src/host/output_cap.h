/*
 * How large an output file may become, from the job alone: the output
 * format and the virtual size the sandbox declared when it created the
 * output (itself checked against the job's window).  The host enforces it
 * on every write, copy and truncate, so a subverted sandbox cannot fill the
 * disk past what the job could legitimately produce.  Arithmetic on job
 * numbers only: no image byte is involved.
 */
#ifndef CORDON_HOST_OUTPUT_CAP_H
#define CORDON_HOST_OUTPUT_CAP_H

#include <stdint.h>

/* The largest file the writer of fmt can make for a virtual disk of
 * virtual_size bytes (saturating at INT64_MAX). */
uint64_t output_cap(const char *fmt, uint64_t virtual_size);

/* The largest virtual size a writer of fmt declares for `window` bytes of
 * data: the window itself, or more where the format rounds sizes up (VHD's
 * CHS geometry, with core's own function for it). */
uint64_t output_virtual_max(const char *fmt, uint64_t window);

#endif
