/*
 * Image formats: one ops table per format, one probe order (format.c).
 * A reader maps virtual offsets to extents; a writer lays out an output.
 */
#ifndef CORDON_CORE_FORMAT_H
#define CORDON_CORE_FORMAT_H

#include "core.h"

enum extent_kind {
	EXT_ZERO,    /* reads as zeros */
	EXT_RAW,     /* stored verbatim at (dev, dev_off): copyable host-side */
	EXT_OTHER,   /* must be read through the format's read() */
	EXT_BACKING, /* not in this layer: read the backing image at the same
		      * offset (zeros where there is none, or past its end) */
};

struct extent {
	enum extent_kind kind;
	uint32_t dev;
	uint64_t dev_off;
};

struct image {
	const struct format_ops *ops;
	struct core_ctx *ctx;
	uint32_t dev;
	uint64_t size; /* virtual size in bytes */
	void *priv;
	struct image *backing; /* opened by the format's open(); NULL if none */
	const char *name;      /* for messages: as the user gave it, or a backing
				* name joined to its image's directory */
	char *owned_name;      /* name, when allocated here (backing files) */
};

struct image_writer {
	const struct writer_ops *ops;
	struct core_ctx *ctx;
	uint32_t dev;
	uint64_t size;  /* virtual size */
	bool zeroed;    /* the device starts as all zeros (fresh file) */
	void *priv;
};

struct format_ops {
	const char *name;
	/* Score for the first bytes of a device (0 = not this format); NULL
	 * when the format is never probed (raw is the fallback). */
	int (*probe)(const uint8_t *head, size_t len);
	/* On failure, frees what it allocated (close() is not called) and
	 * records the reason with core_fail(); a backing image it attached
	 * with image_open_backing() is closed by the caller. */
	int (*open)(struct image *img);
	void (*close)(struct image *img);
	/* Describes the run at off (< size): its kind in *ext, its length
	 * (1..len) as the return value, or -errno. */
	int64_t (*map)(struct image *img, uint64_t off, uint64_t len,
		       struct extent *ext);
	/* Reads an EXT_OTHER run; 0 or -errno. */
	int (*read)(struct image *img, uint64_t off, void *buf, uint64_t len);
	/* NULL when the format cannot be written. */
	const struct writer_ops *writer;
};

struct writer_ops {
	int (*create)(struct image_writer *w);
	int (*write)(struct image_writer *w, uint64_t off, const void *buf,
		     uint64_t len);
	/* Host-side copy of raw input bytes; NULL = dd reads and writes. */
	int (*copy)(struct image_writer *w, uint32_t src_dev, uint64_t src_off,
		    uint64_t off, uint64_t len);
	/* The run must read as zeros afterwards. */
	int (*zero)(struct image_writer *w, uint64_t off, uint64_t len);
	int (*finish)(struct image_writer *w);
};

extern const struct format_ops format_raw;
extern const struct format_ops format_qcow2;

/* Known formats by name (for -f/-O); NULL if none. */
const struct format_ops *format_by_name(const char *name);

/* Opens dev as fmt_name, or probes when fmt_name is "".  On failure the
 * recorded message is qemu-img's ("Could not open 'x': ..."). */
int image_open(struct core_ctx *ctx, uint32_t dev, const char *fmt_name,
	       const char *display_name, struct image *img);
/* Closes the image and its backing chain. */
void image_close(struct image *img);

/* For a format's open(): asks the host to attach the backing file the image
 * names and opens it as fmt_name ("" = probe) into img->backing.  Errors are
 * recorded as qemu-img words them ("Could not open backing file: ...") or
 * name the host's rule when it refused. */
int image_open_backing(struct image *img, const char *name, size_t name_len,
		       const char *fmt_name);

/*
 * Maps the run at off through the backing chain: the result is never
 * EXT_BACKING.  *owner is the image whose read() serves an EXT_OTHER run.
 * Returns the run's length (1..len) or -errno.
 */
int64_t image_map(struct image *img, uint64_t off, uint64_t len,
		  struct extent *ext, struct image **owner);

/* For a writer's create(): asks the host to create the output with the
 * writer's virtual size.  On refusal the host's note is recorded as the
 * cause (core_fail_note). */
int writer_create_output(struct image_writer *w);

/* Reads any run of the virtual disk (zeros, raw or format-specific). */
int image_read(struct image *img, uint64_t off, void *buf, uint64_t len);

#endif
