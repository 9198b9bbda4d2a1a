/* Deadlines of parked coroutines: one uv_timer over a binary min-heap.
 *
 * A uv_timer_t per coroutine would cost ~150 bytes per idle session and an
 * asynchronous uv_close() before every coroutine could be freed. Instead each
 * coroutine carries its deadline and heap slot (12 bytes) and the heap array
 * holds one pointer per parked coroutine with a deadline. The timer is armed
 * for the earliest deadline; removing the earliest entry leaves it armed (it
 * fires early, finds nothing due and re-arms), except when the heap empties,
 * because a stale armed timer would keep uv_run() from returning.
 */
#include "coro/coro-internal.h"
#include "src/util/xmalloc.h"

#include <errno.h>
#include <stdlib.h>

#define HEAP_MIN_CAP 64

static struct {
	uv_timer_t *timer;
	struct coro **heap;	/* 1-based; heap[0] is unused */
	uint32_t n, cap;
	int64_t armed;		/* when the timer fires, INT64_MAX: stopped */
} dl;

static void timer_cb(uv_timer_t *t);

static void heap_set(uint32_t i, struct coro *c)
{
	dl.heap[i] = c;
	c->heap_idx = i;
}

static void sift_up(uint32_t i)
{
	struct coro *c = dl.heap[i];
	while (i > 1 && dl.heap[i / 2]->deadline > c->deadline) {
		heap_set(i, dl.heap[i / 2]);
		i /= 2;
	}
	heap_set(i, c);
}

static void sift_down(uint32_t i)
{
	struct coro *c = dl.heap[i];
	for (;;) {
		uint32_t child = 2 * i;
		if (child > dl.n)
			break;
		if (child < dl.n &&
		    dl.heap[child + 1]->deadline < dl.heap[child]->deadline)
			child++;
		if (dl.heap[child]->deadline >= c->deadline)
			break;
		heap_set(i, dl.heap[child]);
		i = child;
	}
	heap_set(i, c);
}

static void heap_resize(uint32_t cap)
{
	dl.heap = xrealloc(dl.heap, ((size_t)cap + 1) * sizeof(*dl.heap));
	dl.cap = cap;
}

static void arm(int64_t deadline)
{
	int64_t now = coro_now_ms();
	uint64_t timeout = deadline > now ? (uint64_t)(deadline - now) : 0;
	uv_timer_start(dl.timer, timer_cb, timeout, 0);
	dl.armed = deadline;
}

static void disarm(void)
{
	uv_timer_stop(dl.timer);
	dl.armed = INT64_MAX;
}

/* Wakes everything due as one batch, then re-arms for the next deadline
 * before the woken coroutines run and add deadlines of their own. */
static void timer_cb(uv_timer_t *t)
{
	int64_t now = coro_now_ms();
	dl.armed = INT64_MAX;
	coro__hold();
	while (dl.n > 0 && dl.heap[1]->deadline <= now)
		coro_wake(dl.heap[1], -ETIMEDOUT); /* removes it from the heap */
	if (dl.n > 0)
		arm(dl.heap[1]->deadline);
	coro__release();
}

void coro__deadline_add(struct coro *c, int64_t deadline)
{
	CORO_ASSERT(c->heap_idx == 0);
	if (dl.n == UINT32_MAX - 1)
		CORO_PANIC("deadline heap full");
	if (dl.n == dl.cap)
		heap_resize(dl.cap ? dl.cap * 2 : HEAP_MIN_CAP);
	c->deadline = deadline;
	heap_set(++dl.n, c);
	sift_up(dl.n);
	if (deadline < dl.armed)
		arm(deadline);
}

void coro__deadline_del(struct coro *c)
{
	uint32_t i = c->heap_idx;
	CORO_ASSERT(i >= 1 && i <= dl.n && dl.heap[i] == c);
	struct coro *last = dl.heap[dl.n--];
	if (i <= dl.n) {
		heap_set(i, last);
		sift_down(i);
		sift_up(last->heap_idx);
	}
	c->heap_idx = 0;
	if (dl.n == 0)
		disarm();
	/* Give back the array after a burst of sleepers. */
	if (dl.cap > HEAP_MIN_CAP && dl.n < dl.cap / 4)
		heap_resize(dl.cap / 2);
}

int coro__deadline_init(uv_loop_t *loop)
{
	dl.timer = xmalloc(sizeof(*dl.timer));
	int r = uv_timer_init(loop, dl.timer);
	if (r < 0) {
		free(dl.timer);
		dl.timer = NULL;
		return r;
	}
	dl.armed = INT64_MAX;
	return 0;
}

static void free_timer_cb(uv_handle_t *h)
{
	free(h);
}

void coro__deadline_shutdown(void)
{
	CORO_ASSERT(dl.n == 0);
	uv_close((uv_handle_t *)dl.timer, free_timer_cb);
	free(dl.heap);
	dl.heap = NULL;
	dl.n = dl.cap = 0;
	dl.timer = NULL;
}
