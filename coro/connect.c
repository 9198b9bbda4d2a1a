#include "coro/connect.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "coro/coro.h"

struct connect_wait {
	struct coro_fd watch;
	struct coro *waiter;
	bool closed;
};

static void connect_watch_closed(struct coro_fd *w)
{
	struct connect_wait *cw = (struct connect_wait *)w;
	cw->closed = true;
	if (cw->waiter)
		coro_wake(cw->waiter, 0);
}

/* Waits for the connect to finish through a temporary watch on a dup of the
 * fd, so that closing the watch never closes the socket we return. */
static int connect_wait_writable(int fd, int64_t deadline)
{
	int dupfd = dup(fd);
	if (dupfd < 0)
		return -errno;
	struct connect_wait cw = { 0 };
	int r = coro_fd_init(&cw.watch, dupfd);
	if (r < 0) {
		close(dupfd);
		return r;
	}
	r = coro_fd_wait(&cw.watch, UV_WRITABLE, deadline);
	coro_fd_close(&cw.watch, connect_watch_closed);
	/* The watch lives on this stack: stay until libuv has let it go. */
	if (!cw.closed) {
		cw.waiter = coro_current();
		coro_park(CORO_NO_DEADLINE, false);
	}
	return r < 0 ? r : 0;
}

int coro_connect(const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (connect(fd, addr, len) < 0) {
		r = -errno;
		if (r == -EINPROGRESS) {
			r = connect_wait_writable(fd, deadline);
			int err = 0;
			socklen_t elen = sizeof(err);
			/* libuv reports a failed connect (POLLERR) as UV_EBADF:
			 * SO_ERROR holds the real reason (ECONNREFUSED ...). */
			if ((r == 0 || r == -EBADF) &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err)
				r = -err;
		}
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
