/*
 * The sandbox boundary under arbitrary requests: a sequence of raw hc_msg
 * from a hostile sandbox, served against real descriptors (memfd) and a
 * region allocated to its exact size, so ASan reports any access the checks
 * let through.  Invariants: a served read/write never touches memory outside
 * the region, replies stay within the request, the message cap holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/abi/job.h"
#include "../src/host/hostcall_server.h"

#define REGION_LEN (HC_REGION_FREE_OFF + 8192u)
#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Guest messages are printed on stderr: run with -close_fd_mask=2. */
static int in_fd = -1, out_fd = -1;

static void once(void)
{
	if (in_fd >= 0)
		return;
	in_fd = memfd_create("in", 0);
	out_fd = memfd_create("out", 0);
	static uint8_t data[20000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31);
	CHECK(write(in_fd, data, sizeof(data)) == (ssize_t)sizeof(data));
	CHECK(ftruncate(in_fd, 1 << 20) == 0); /* a hole after the data */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	once();
	CHECK(ftruncate(out_fd, 0) == 0);
	uint8_t *region = malloc(REGION_LEN);
	memset(region, 0x5a, REGION_LEN);
	struct host_devices devs;
	memset(&devs, 0, sizeof(devs));
	for (uint32_t i = 0; i < HC_MAX_DEVICES; i++)
		devs.dev[i].fd = -1;
	devs.count = 2;
	devs.dev[CORDON_DEV_OUTPUT] = (struct host_device){
		.fd = out_fd, .role = DEV_ROLE_OUTPUT, .name = "out" };
	devs.dev[CORDON_DEV_INPUT] = (struct host_device){
		.fd = in_fd, .role = DEV_ROLE_INPUT, .name = "in" };
	struct hc_server srv;
	hc_server_init(&srv, &devs, region, REGION_LEN);

	while (size >= sizeof(struct hc_msg)) {
		struct hc_msg req;
		memcpy(&req, data, sizeof(req));
		data += sizeof(req);
		size -= sizeof(req);
		/* Keep the host-side work of one input small. */
		if (req.op == HC_OP_TRUNCATE)
			req.len &= (1u << 24) - 1;
		if (req.op == HC_OP_COPY || req.op == HC_OP_WRITE)
			req.off2 &= (1u << 24) - 1, req.off &= (1u << 24) - 1;
		memcpy(region + HC_REGION_MAILBOX_OFF, &req, sizeof(req));
		enum hc_serve_result r = hc_server_handle(&srv);
		CHECK(srv.messages <= HC_MAX_MESSAGES);
		if (r != HC_SERVE_CONTINUE)
			break;
		const struct hc_msg *reply = (const void *)(region + HC_REGION_MAILBOX_OFF);
		CHECK(reply->op == req.op); /* only ret/ret2 are written back */
		if (req.op == HC_OP_READ || req.op == HC_OP_WRITE)
			CHECK(reply->ret < 0 || (uint64_t)reply->ret <= req.len);
	}
	free(region);
	return 0;
}
