/*
 * Test tool (from ../shared/redteam/fusehang.c): a minimal FUSE server on the
 * raw protocol where every file exists but OPEN is never answered -- like an
 * sshfs or NFS mount whose server went away.  An open() of a file there
 * hangs unkillably; cordon must never make one for a name from an image.
 * Usage: fusehang MOUNTPOINT (as root; runs until killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
static int fd;
static void reply(uint64_t unique, int err, const void *body, size_t n)
{
	char buf[4096];
	struct fuse_out_header *h = (void *)buf;
	h->len = sizeof(*h) + n; h->error = err; h->unique = unique;
	memcpy(buf + sizeof(*h), body, n);
	write(fd, buf, h->len);
}
static void attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino; a->nlink = 1; a->blksize = 4096;
	a->mode = ino == 1 ? (S_IFDIR | 0755) : (S_IFREG | 0644);
	a->size = ino == 1 ? 0 : 1 << 20;
}
int main(int argc, char **argv)
{
	fd = open("/dev/fuse", O_RDWR);
	char opts[128];
	snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
	if (mount("rthang", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) { perror("mount"); return 1; }
	fprintf(stderr, "fusehang: mounted on %s\n", argv[1]);
	static char buf[(1 << 20) + 4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) { if (errno == EINTR || errno == ENOENT) continue; break; }
		struct fuse_in_header *in = (void *)buf;
		void *arg = buf + sizeof(*in);
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = arg;
			struct fuse_init_out o = { .major = 7, .minor = ii->minor < 38 ? ii->minor : 38,
				.max_readahead = ii->max_readahead, .max_write = 4096 };
			reply(in->unique, 0, &o, sizeof o); break; }
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = { .nodeid = 2, .entry_valid = 100, .attr_valid = 100 };
			attr(&e.attr, 2);
			reply(in->unique, 0, &e, sizeof e); break; }
		case FUSE_GETATTR: {
			struct fuse_attr_out a = { .attr_valid = 100 };
			attr(&a.attr, in->nodeid);
			reply(in->unique, 0, &a, sizeof a); break; }
		case FUSE_OPEN:
			fprintf(stderr, "fusehang: OPEN from pid %u -- not answering\n", in->pid);
			break;
		case FUSE_INTERRUPT:
			fprintf(stderr, "fusehang: INTERRUPT (ignored)\n");
			break;
		case FUSE_FORGET: case FUSE_BATCH_FORGET: break;
		default: reply(in->unique, -ENOSYS, NULL, 0);
		}
	}
	return 0;
}
