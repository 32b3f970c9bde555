/*
 * Image formats: one ops table per format (a reader that maps virtual
 * offsets to extents, a writer that lays out an output) and one table of
 * every name qemu-img 7.2 knows, with what qemu and cordon each do with it
 * (format_table.c).  Probing follows qemu's rules exactly, for formats cordon
 * cannot read yet too, so that such an image is refused, never read as raw.
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
	uint32_t depth;        /* 0: the job's image; n: its n-th backing file */
	uint64_t size;         /* virtual size in bytes */
	void *priv;
	struct image *backing; /* opened by the format's open(); NULL if none */
	const char *name;      /* for messages: as the user gave it, or a child
				* name joined to its image's name */
	char *owned_name;      /* name, when allocated here (children) */
	/* With ctx->open_no_backing (info): the backing file the image names,
	 * not opened; NULL if none.  Its format as the image gives it ("":
	 * none given). */
	char *backing_name;
	char backing_fmt[CORDON_FMT_NAME_MAX];
};

/* What qemu-img info says of an image beyond its name, format and virtual
 * size (info.c fills the defaults, a format's about() changes them). */
struct image_about {
	bool has_info;          /* qemu's bdrv_get_info() succeeds: cluster-size
				 * (when not 0) and dirty-flag are shown */
	uint64_t cluster_size;  /* 0: none shown */
	bool dirty;             /* "cleanly shut down: no" */
	bool encrypted;
	int64_t actual_size;    /* bytes its files have allocated; -1: unknown */
	const char *specific;   /* format-specific's type: about_specific()
				 * writes its data; NULL: none */
};

struct result_out;

/* What an output is to be (writer_open).  Fields a writer does not support
 * must be left at their zero value; it refuses them otherwise. */
struct writer_kv {
	const char *key, *value;
};

struct writer_opts {
	uint64_t size;           /* virtual size */
	bool zeroed;             /* the device starts as all zeros (a fresh file) */
	bool open_existing;      /* write into an existing image (-n) */
	uint64_t min_sparse;     /* the copy engine leaves zero runs of at least
				  * this many bytes unwritten; 0: it writes all */
	const char *backing;     /* backing file to record, or NULL */
	const char *backing_fmt;
	bool compress;           /* -c */
	uint64_t cluster_size;   /* cluster, block or grain size; 0: default */
	const char *subformat;   /* NULL: the format's default */
	const struct writer_kv *kv; /* -o key=value the writer interprets */
	size_t n_kv;
	uint64_t now;            /* the job's clock (seconds since 1970) */
	const uint8_t *entropy;  /* the job's 64 random bytes, or NULL */
};

struct image_writer {
	const struct writer_ops *ops;
	struct core_ctx *ctx;
	uint32_t dev;
	uint64_t size;      /* virtual size */
	bool zeroed;        /* the device starts as all zeros (fresh file) */
	bool sparse;        /* all-zero units may be left unallocated */
	uint32_t zero_unit; /* granularity the copy engine finds zero runs at,
			     * when the options ask for it (0: none) */
	bool copy_skips_holes; /* copy() may be given holes of a raw source
				* with its data: they read as zeros here */
	/* create() failed where qemu's create succeeds and its reopen of the
	 * new image fails: qemu-img words it "Could not open '<of>': ..." */
	bool fails_at_reopen;
	void *priv;
};

/* Bits of format_ops.flags. */
#define FORMAT_HAS_METADATA (1u << 0) /* QEMU's metadata locks (all but raw) */

struct format_ops {
	const char *name;
	uint32_t flags;
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
	/* NULL when cordon cannot write the format. */
	const struct writer_ops *writer;
	/* info: *a filled as qemu's bdrv_get_info and friends say it; NULL:
	 * nothing but the sizes (raw). */
	void (*about)(struct image *img, struct image_about *a);
	/* info: the members of format-specific's data object (with
	 * a->specific set); 0, or -errno with the reason recorded. */
	int (*about_specific)(struct image *img, struct result_out *r);
	/* info: a "snapshots" array when the image has any; NULL: none. */
	int (*about_snapshots)(struct image *img, struct result_out *r);
	/* -l: reads the internal snapshot with this id and/or name (NULL:
	 * either not asked for) from now on, as qemu's bdrv_snapshot_load_tmp;
	 * the virtual size stays.  0, or -errno with qemu's reason in why
	 * (nothing recorded: the caller may try again by name).  NULL: the
	 * format has no internal snapshots. */
	int (*load_snapshot)(struct image *img, const char *id, const char *name,
			     char *why, size_t why_len);
};

struct writer_ops {
	/* Lays out a new output; refuses options it does not support with
	 * qemu's message (core_fail).  On failure it has freed everything. */
	int (*create)(struct image_writer *w, const struct writer_opts *o);
	/* Calls come at increasing offsets, each range once. */
	int (*write)(struct image_writer *w, uint64_t off, const void *buf,
		     uint64_t len);
	/* Host-side copy of raw input bytes; NULL: data passes through.  With
	 * skip_holes (only where copy_skips_holes says so) the range may hold
	 * the source's holes, which are left as they are. */
	int (*copy)(struct image_writer *w, uint32_t src_dev, uint64_t src_off,
		    uint64_t off, uint64_t len, bool skip_holes);
	/* The run must read as zeros afterwards. */
	int (*zero)(struct image_writer *w, uint64_t off, uint64_t len);
	/* Completes the image and frees the writer. */
	int (*finish)(struct image_writer *w);
	/* Gives up: frees the writer (the host removes the output). */
	void (*abort)(struct image_writer *w);
};

extern const struct format_ops format_raw;
/* For formats whose data runs are stretches of their own file (VHD, VHDX):
 * opens img's device as raw into *file, so that holes are found with the
 * host's extent runs; its size is the file's, rounded up to a sector as
 * qemu's bdrv_getlength gives it.  0, or -errno with file->ops NULL; close
 * with raw_close_file(). */
int raw_open_file(const struct image *img, struct image *file);
void raw_close_file(struct image *file);
extern const struct format_ops format_qcow2;
extern const struct format_ops format_vpc;
extern const struct format_ops format_vhdx;
extern const struct format_ops format_vmdk;
/* Opens, and refuses every read (qemu's snapshot-access; unreadable.c). */
extern const struct format_ops format_unreadable;

/* ---- every name qemu-img knows (format_table.c) ----------------------- */

enum qemu_driver_kind {
	QEMU_FORMAT,   /* an image format: probed, opened, perhaps created */
	QEMU_PROTOCOL, /* how bytes are reached (file, nbd, http...) */
	QEMU_FILTER,   /* a driver over another (blkdebug, throttle...) */
};

/* What qemu does with a protocol or filter given a plain local file name
 * (-f NAME); a format is opened by its ops. */
enum qemu_plain_use {
	PLAIN_FORMAT = 0,  /* an image format: not a question for it */
	PLAIN_REFUSED,     /* qemu cannot open it so: qemu_error says why */
	PLAIN_REGULAR,     /* 'file': a regular file, its bytes as they are */
	PLAIN_DEVICE,      /* 'host_device': a character or block device, so */
	PLAIN_DEVICE_NOT,  /* 'host_cdrom': qemu wants a device, cordon refuses it */
	PLAIN_PASS,        /* a filter passing the file's bytes through */
	PLAIN_NO_READS,    /* opens, then every read fails (snapshot-access) */
};

struct format_info {
	const char *name;
	enum qemu_driver_kind kind;
	bool qemu_creates;     /* qemu-img create/dd -O works with it */
	/* qemu's probe score for the first 512 bytes (zero-padded) and the
	 * file name; NULL: never probed. */
	int (*probe)(const uint8_t *head, size_t len, const char *filename);
	const struct format_ops *ops; /* cordon's reader/writer, or NULL */
	enum qemu_plain_use plain;
	const char *qemu_error;  /* PLAIN_REFUSED: qemu's words, file-independent */
	/* A file name starting so would take qemu off the file system (a
	 * network address, a host directory, a config file): refused. */
	const char *prefix;
	/* -O: qemu "creates" by opening the target with it (protocols with
	 * bdrv_co_create_opts_simple). */
	bool create_by_opening;
};

/* The name's entry, or NULL when qemu-img does not know it either. */
const struct format_info *format_info(const char *name);

/* qemu's probe functions (probe.c; qcow2's in qcow2/qcow2.c). */
int probe_vpc(const uint8_t *h, size_t len, const char *filename);
int probe_vhdx(const uint8_t *h, size_t len, const char *filename);
int probe_vmdk(const uint8_t *h, size_t len, const char *filename);
int probe_vdi(const uint8_t *h, size_t len, const char *filename);
int probe_qed(const uint8_t *h, size_t len, const char *filename);
int probe_parallels(const uint8_t *h, size_t len, const char *filename);
int probe_qcow1(const uint8_t *h, size_t len, const char *filename);
int probe_luks(const uint8_t *h, size_t len, const char *filename);
int probe_bochs(const uint8_t *h, size_t len, const char *filename);
int probe_cloop(const uint8_t *h, size_t len, const char *filename);
int probe_dmg(const uint8_t *h, size_t len, const char *filename);
int probe_raw(const uint8_t *h, size_t len, const char *filename);
int qcow2_probe(const uint8_t *h, size_t len, const char *filename);

/* qemu's probe over every driver: the first with the highest score in
 * qemu's driver order.  Never NULL (raw scores 1). */
const struct format_info *format_probe(const uint8_t *head, size_t len,
				       const char *filename);

/* ---- opening, reading ------------------------------------------------- */

/* Opens dev as fmt_name, or probes when fmt_name is "".  On failure the
 * recorded message is qemu-img's ("Could not open 'x': ..."). */
int image_open(struct core_ctx *ctx, uint32_t dev, const char *fmt_name,
	       const char *display_name, struct image *img);
/* Closes the image and its backing chain. */
void image_close(struct image *img);

/* Asks the host to attach a file the image names (kind: enum
 * hc_child_kind); the new device, or -errno with the host's note recorded
 * as the cause (callers put their context in front). */
int64_t image_attach_child(struct image *img, uint32_t kind, const char *name,
			   size_t name_len);

/* The name qemu shows for a file an image names: name (len bytes) joined to
 * the directory of the image's name base; from core_alloc, or NULL. */
char *image_child_name(struct core_ctx *ctx, const char *base, const char *name,
		       size_t len);

/* For a format's open(): attaches the backing file the image names and
 * opens it as fmt_name ("" = probe) into img->backing.  Errors are recorded
 * as qemu-img words them ("Could not open backing file: ...").  With
 * ctx->open_no_backing the name and format are only recorded. */
/* -l (sn: the job's; no flags: nothing to do): the snapshot loaded as
 * qemu-img loads it, by id, name, both, or id and then name; 0, or -errno
 * with "Failed to load snapshot: ..." recorded. */
struct cordon_job_snapshot;
int image_load_snapshot(struct image *img, const struct cordon_job_snapshot *sn);

int image_open_backing(struct image *img, const char *name, size_t name_len,
		       const char *fmt_name);

/* info --backing-chain: opens the backing file img recorded (with
 * open_no_backing) as an image of its own, named `shown`, in *b.  Errors
 * are recorded as qemu-img info words them ("Could not open 'b': ..."). */
int image_open_recorded_backing(struct image *img, const char *shown, struct image *b);

/*
 * Maps the run at off through the backing chain: the result is never
 * EXT_BACKING.  *owner is the image whose read() serves an EXT_OTHER run.
 * Returns the run's length (1..len) or -errno.
 */
int64_t image_map(struct image *img, uint64_t off, uint64_t len,
		  struct extent *ext, struct image **owner);
/* Reads a run image_map() described, without mapping it again. */
int image_read_run(struct image *owner, const struct extent *ext, uint64_t off,
		   void *buf, uint64_t len);
/* Reads any run of the virtual disk (zeros, raw or format-specific). */
int image_read(struct image *img, uint64_t off, void *buf, uint64_t len);

/* ---- writing ---------------------------------------------------------- */

/* Whether fmt can be written at all, before any option is looked at.  No
 * message: each command says it in its own words (qemu's vary). */
enum writer_refusal {
	WRITER_OK = 0,
	WRITER_UNKNOWN,   /* not a name qemu knows */
	WRITER_NO_CREATE, /* qemu cannot create it either */
	WRITER_NOT_YET,   /* qemu can; cordon cannot yet */
};
enum writer_refusal writer_refusal(const char *fmt);

/*
 * A writer for fmt on device dev, created with opts: 0, or -errno with the
 * reason recorded (a format writer_refusal() refuses: -CD_ENOTSUP).
 */
int writer_open(struct core_ctx *ctx, const char *fmt, uint32_t dev,
		const struct writer_opts *opts, struct image_writer *w);

/* For a writer's create(): refuses every option beyond those in
 * `supported` (WRITER_OPT_* bits) with qemu's words where qemu has them.
 * 0, or -errno with the message recorded. */
#define WRITER_OPT_BACKING (1u << 0)
#define WRITER_OPT_COMPRESS (1u << 1)
#define WRITER_OPT_CLUSTER (1u << 2)
#define WRITER_OPT_SUBFORMAT (1u << 3)
#define WRITER_OPT_KV (1u << 4)
#define WRITER_OPT_EXISTING (1u << 5)
int writer_check_opts(struct image_writer *w, const char *fmt, const struct writer_opts *o,
		      uint32_t supported);

/* For a multi-file writer's create(): a new output device beside w's (a
 * VMDK extent file, named by rule and index as qemu names them), created
 * with virtual size `size`.  The device, or -errno with the note recorded. */
int64_t writer_add_output(struct image_writer *w, uint32_t rule, uint32_t index,
			  uint64_t size);

/* For a writer's create(): asks the host to create the output with the
 * writer's virtual size.  On refusal the host's note is recorded as the
 * cause (core_fail_note). */
int writer_create_output(struct image_writer *w);

#endif
