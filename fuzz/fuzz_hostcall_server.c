/*
 * The sandbox boundary under arbitrary requests: a sequence of raw hc_msg
 * from a hostile sandbox, served against real descriptors (memfd), a
 * scratch directory for backing names, and a region allocated to its exact
 * size, so ASan reports any access the checks let through.  Invariants: a
 * served read/write never touches memory outside the region, replies stay
 * within the request, the message and note caps hold, the output never
 * grows past its cap, every refusal of a backing file is -EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/abi/job.h"
#include "../src/host/hostcall_server.h"
#include "../src/host/write_behind.h"

#define REGION_LEN (HC_REGION_FREE_OFF + 8192u)
#define WINDOW (1u << 20)
#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Guest messages are printed on stderr: run with -close_fd_mask=2. */
static int in_fd = -1, out_fd = -1, proc_fd = -1;
static char dir[64], out_path[80];

static void put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	CHECK(f);
	fputs(text, f);
	fclose(f);
}

/* Once per process: the input, the output, a directory with a base file,
 * a subdirectory, a hidden file and a FIFO for names to land on. */
static void once(void)
{
	if (in_fd >= 0)
		return;
	in_fd = memfd_create("in", 0);
	out_fd = memfd_create("out", 0);
	/* Writes behind as in a run: the server must wait for one before the
	 * region is freed (ASan sees it if not). */
	CHECK(write_behind_start() == 0);
	proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	static uint8_t data[20000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31);
	CHECK(write(in_fd, data, sizeof(data)) == (ssize_t)sizeof(data));
	CHECK(ftruncate(in_fd, 1 << 20) == 0); /* a hole after the data */
	snprintf(dir, sizeof(dir), "/tmp/cordon-fuzz-server-XXXXXX");
	CHECK(mkdtemp(dir));
	put("b", "base");
	put(".h", "hidden");
	char p[128];
	snprintf(p, sizeof(p), "%s/s", dir);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(p, sizeof(p), "%s/f", dir);
	CHECK(mkfifo(p, 0600) == 0);
}

/* Device 0 the output (on the memfd), device 1 the input, named in dir. */
static void devices_for_one_input(struct host_devices *devs)
{
	devices_init(devs);
	close(devs->proc_fd);
	devs->proc_fd = proc_fd;
	int out = devices_add(devs), in = devices_add(devs);
	CHECK(out == 0 && in == 1);
	devs->dev[out] = (struct host_device){
		.fd = -1, .access = DEV_CAN_WRITE, .name = "out", .dir = -1, .out = 0 };
	devs->dev[in] = (struct host_device){
		.fd = in_fd, .access = DEV_CAN_READ, .name = "in",
		.dir = devices_open_dir(devs, dir), .out = -1 };
	/* An output created on the memfd: no file system work per run. */
	devs->outs = calloc(1, sizeof(*devs->outs));
	CHECK(devs->outs);
	devs->outs_cap = 1;
	struct host_output *o = &devs->outs[devs->n_outs++];
	output_init(o);
	o->path = out_path; /* derived outputs are named beside it, in dir */
	o->fmt = "raw";
	o->max_virtual = WINDOW;
	o->kind = OUTPUT_REPLACE;
	o->fd = out_fd;
}

/* What this run attached and opened, without touching the shared fds. */
static void release(struct host_devices *devs)
{
	for (uint32_t i = 2; i < devs->count; i++) {
		close(devs->dev[i].fd);
		free(devs->dev[i].owned_name);
	}
	for (uint32_t i = 0; i < devs->n_dirs; i++) {
		close(devs->dirs[i].fd);
		free(devs->dirs[i].real);
	}
	for (uint32_t i = 1; i < devs->n_outs; i++) {
		output_abort(&devs->outs[i]);
		output_close(&devs->outs[i]);
	}
	free(devs->dev);
	free(devs->dirs);
	free(devs->outs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	once();
	CHECK(ftruncate(out_fd, 0) == 0);
	uint8_t *region = malloc(REGION_LEN);
	memset(region, 0x5a, REGION_LEN);
	struct host_devices devs;
	devices_for_one_input(&devs);
	struct progress progress;
	struct result_store results;
	progress_init(&progress, NULL, 1.0f);
	result_store_init(&results);
	struct hc_sinks sinks = { .results = &results, .progress = &progress };
	struct hc_server srv;
	hc_server_init(&srv, &devs, &sinks, region, REGION_LEN);

	while (size >= sizeof(struct hc_msg)) {
		struct hc_msg req;
		memcpy(&req, data, sizeof(req));
		data += sizeof(req);
		size -= sizeof(req);
		/* Keep the host-side work of one input small. */
		if (req.op == HC_OP_COPY || req.op == HC_OP_WRITE)
			req.off2 &= (1u << 24) - 1, req.off &= (1u << 24) - 1;
		memcpy(region + HC_REGION_MAILBOX_OFF, &req, sizeof(req));
		enum hc_serve_result r = hc_server_handle(&srv);
		CHECK(srv.messages <= HC_MAX_MESSAGES);
		CHECK(srv.n_notes <= HC_MAX_NOTES);
		if (r != HC_SERVE_CONTINUE)
			break;
		const struct hc_msg *reply = (const void *)(region + HC_REGION_MAILBOX_OFF);
		CHECK(reply->op == req.op); /* only ret/ret2 are written back */
		if (req.op == HC_OP_READ || req.op == HC_OP_WRITE)
			CHECK(reply->ret < 0 || (uint64_t)reply->ret <= req.len);
		if (req.op == HC_OP_OPEN_CHILD)
			CHECK(reply->ret >= 2 || (reply->ret == -EACCES && reply->ret2 >= 1 &&
						  reply->ret2 <= srv.n_notes));
		struct stat st;
		CHECK(fstat(out_fd, &st) == 0);
		CHECK(!devs.outs[0].created || (uint64_t)st.st_size <= devs.outs[0].cap);
		CHECK(results.len <= HC_MAX_RESULT_BYTES && results.depth <= HC_MAX_RESULT_DEPTH);
	}
	hc_server_fini(&srv);
	CHECK(!srv.behind);
	result_store_free(&results);
	release(&devs);
	free(region);
	return 0;
}
