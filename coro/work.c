/* Blocking work on the libuv thread pool, awaited by a coroutine.
 *
 * The request lives on the waiting coroutine's stack. That is safe only
 * because the wait cannot be cut short: the park is uninterruptible and has
 * no deadline, so the frame outlives the after-work callback. The depth
 * counter lets `admin stats` and the daemon see pool saturation (libuv's pool
 * has UV_THREADPOOL_SIZE threads, 4 by default, and queues the rest).
 */
#include "coro/coro-internal.h"

struct work_req {
	uv_work_t req;
	void (*fn)(void *arg);
	void *arg;
	struct coro *c;
};

static unsigned work_depth;

static void work_cb(uv_work_t *req)
{
	struct work_req *w = (struct work_req *)req;
	w->fn(w->arg);
}

static void after_work_cb(uv_work_t *req, int status)
{
	struct work_req *w = (struct work_req *)req;
	work_depth--;
	coro_wake(w->c, status);
}

int coro_await_work(void (*fn)(void *arg), void *arg)
{
	struct work_req w = {
		.fn = fn,
		.arg = arg,
		.c = coro__self("coro_await_work"),
	};
	int r = uv_queue_work(coro_loop(), &w.req, work_cb, after_work_cb);
	if (r < 0)
		return r;
	work_depth++;
	return coro_park(CORO_NO_DEADLINE, false);
}

unsigned coro_work_queue_depth(void)
{
	return work_depth;
}
