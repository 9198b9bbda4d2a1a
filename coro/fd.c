/* A coroutine waiting on one file descriptor, through uv_poll.
 *
 * The poll runs only while someone waits: a level-triggered watch left on
 * for a readable fd nobody reads would fire on every loop turn. Between the
 * wake-up and the waiter running, no libuv callback can fire (the scheduler
 * runs woken coroutines before returning to libuv), so stopping the poll
 * after the park is enough to never see a stale event.
 */
#include "coro/coro-internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void poll_cb(uv_poll_t *poll, int status, int events)
{
	struct coro_fd *w = (struct coro_fd *)poll;
	struct coro *c = w->waiter;
	int ready = events & w->wanted;

	if (!c) {
		uv_poll_stop(poll);
		return;
	}
	if (status >= 0 && ready == 0)
		return;
	w->waiter = NULL;
	coro_wake(c, status < 0 ? status : ready);
}

int coro_fd_init(struct coro_fd *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	return uv_poll_init(coro_loop(), &w->poll, fd);
}

int coro_fd_wait(struct coro_fd *w, int events, int64_t deadline)
{
	struct coro *self = coro__self("coro_fd_wait");
	int r;

	if (w->closing)
		return -EBADF;
	if (w->waiter)
		CORO_PANIC("coro_fd_wait: fd %d already has a waiter", w->fd);
	events &= UV_READABLE | UV_WRITABLE;
	if (events == 0)
		return -EINVAL;
	/* Only a wait for input alone is a read that coro_interrupt() ends;
	 * a writer must still get its answer out. */
	bool input = events == UV_READABLE;
	/* Fail before touching epoll when the park would fail at once. */
	r = coro__park_precheck(self, deadline, input);
	if (r < 0)
		return r;

	r = uv_poll_start(&w->poll, events, poll_cb);
	if (r < 0)
		return r;
	w->waiter = self;
	w->wanted = events;
	r = input ? coro__park_input(deadline) : coro_park(deadline, true);
	w->waiter = NULL;
	/* coro_fd_close() while parked already stopped the watch (and libuv
	 * forbids uv_poll_stop on a closing handle). */
	if (!w->closing)
		uv_poll_stop(&w->poll);
	return r;
}

static void close_cb(uv_handle_t *h)
{
	struct coro_fd *w = (struct coro_fd *)h;
	close(w->fd);
	w->fd = -1;
	if (w->close_cb)
		w->close_cb(w);
}

void coro_fd_close(struct coro_fd *w, void (*cb)(struct coro_fd *w))
{
	if (w->closing)
		CORO_PANIC("coro_fd_close: fd %d closed twice", w->fd);
	w->closing = true;
	w->close_cb = cb;
	/* The fd is closed in the close callback: libuv still has it
	 * registered until then. */
	uv_close((uv_handle_t *)&w->poll, close_cb);
	/* A waiter already woken in the same batch (its deadline passed as
	 * this closer woke up) is on its way with its own result; it sees the
	 * close when it returns. Only a waiter still parked is woken here. */
	if (w->waiter && w->waiter->state == CORO_PARKED) {
		struct coro *c = w->waiter;
		w->waiter = NULL;
		coro_wake(c, -EBADF);
	}
}
