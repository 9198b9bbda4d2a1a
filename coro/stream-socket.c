/* The bottom layer of every stream: a connected non-blocking socket.
 *
 * Reads and writes go to the kernel first and wait for readiness only on
 * EAGAIN, so a busy connection costs one syscall per call and no poll. The
 * layer holds no buffer: the kernel's socket buffers are the only queue,
 * which is what makes a writer that outpaces its peer wait (backpressure).
 */
#include "coro/stream-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"

/* Calls that completed without waiting before the coroutine lets others
 * run: a peer that keeps the socket full must not monopolise the loop. */
#define SOCKET_FAIR_BUDGET 64

struct stream_socket {
	struct stream_layer base;
	struct coro_fd watch;
	int fd;
	uint8_t budget;
	bool watched;	/* coro_fd_init succeeded */
};

static struct stream_socket *socket_of(struct stream_layer *l)
{
	return (struct stream_socket *)((char *)l - offsetof(struct stream_socket, base));
}

/* Errors of read(2) and send(2) as the stream reports them: -errno, so
 * ECONNRESET and EPIPE reach the caller by their names. */
static int socket_error(int err)
{
	return err ? -err : -EIO;
}

static void socket_spent(struct stream_socket *sk)
{
	if (--sk->budget == 0) {
		sk->budget = SOCKET_FAIR_BUDGET;
		coro_yield();
	}
}

static int socket_wait(struct stream_socket *sk, int events, int64_t deadline)
{
	sk->budget = SOCKET_FAIR_BUDGET;
	int r = coro_fd_wait(&sk->watch, events, deadline);
	if (r != UV_EBADF || sk->watch.closing)
		return r < 0 ? r : 0;
	/* libuv reports POLLERR as UV_EBADF; the socket knows the real
	 * error (a unix socket closed with our data unread: ECONNRESET).
	 * Without one, the next read or send will tell. */
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(sk->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return socket_error(errno);
	return err ? -err : 0;
}

static ssize_t socket_read(struct stream_layer *l, void *buf, size_t len, int64_t deadline)
{
	struct stream_socket *sk = socket_of(l);
	for (;;) {
		ssize_t n = read(sk->fd, buf, len);
		if (n >= 0) {
			socket_spent(sk);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return socket_error(errno);
		int r = socket_wait(sk, UV_READABLE, deadline);
		if (r < 0)
			return r;
	}
}

static int socket_write(struct stream_layer *l, const void *buf, size_t len, int64_t deadline)
{
	struct stream_socket *sk = socket_of(l);
	const char *p = buf;
	while (len > 0) {
		/* MSG_NOSIGNAL: a closed peer is -EPIPE, not SIGPIPE. */
		ssize_t n = send(sk->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			socket_spent(sk);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return socket_error(errno);
		int r = socket_wait(sk, UV_WRITABLE, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool socket_has_pending(struct stream_layer *l)
{
	int n = 0;
	return ioctl(socket_of(l)->fd, FIONREAD, &n) == 0 && n > 0;
}

static int socket_shutdown(struct stream_layer *l, int64_t deadline)
{
	if (shutdown(socket_of(l)->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		return socket_error(errno);
	return 0;
}

static void socket_closed(struct coro_fd *w)
{
	free((char *)w - offsetof(struct stream_socket, watch));
}

static void socket_destroy(struct stream_layer *l)
{
	struct stream_socket *sk = socket_of(l);
	if (sk->watched) {
		/* libuv still owns the watch until its close callback. */
		coro_fd_close(&sk->watch, socket_closed);
	} else {
		close(sk->fd);
		free(sk);
	}
}

static const struct stream_layer_ops socket_ops = {
	.name = "socket",
	.read = socket_read,
	.write = socket_write,
	.flush = NULL,
	.has_pending = socket_has_pending,
	.shutdown = socket_shutdown,
	.destroy = socket_destroy,
};

struct stream_layer *stream__socket_new(int fd, int *error_r)
{
	struct stream_socket *sk = xcalloc(1, sizeof(*sk));
	sk->base.ops = &socket_ops;
	sk->fd = fd;
	sk->budget = SOCKET_FAIR_BUDGET;
	/* A blocking fd would stall the whole loop in read(2); the contract
	 * asks for a non-blocking one, but this costs two syscalls once. */
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0 && !(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	int r = coro_fd_init(&sk->watch, fd);
	if (r < 0)
		*error_r = r;
	else
		sk->watched = true;
	return &sk->base;
}

bool stream__is_socket(const struct stream_layer *l)
{
	return l->ops == &socket_ops;
}

int stream__socket_peek(struct stream_layer *l)
{
	unsigned char c;
	if (recv(socket_of(l)->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
		return c;
	return -1;
}
