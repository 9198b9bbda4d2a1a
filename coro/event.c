/* In-process events: a list of waiting coroutines, nothing more.
 *
 * Waiter nodes live on the waiting coroutine's stack, so waiting allocates
 * nothing. A node is unlinked either by the notifier (which then clears its
 * coroutine pointer) or, after a timeout, a cancel or a coro_interrupt(), by
 * the waiter itself before its frame goes away.
 */
#include "coro/coro-internal.h"

#include <errno.h>

struct coro_waiter {
	struct coro_waiter *prev, *next;
	struct coro *c;		/* NULL once notified and unlinked */
};

static void waiter_unlink(struct coro_event *ev, struct coro_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		ev->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		ev->tail = w->prev;
	w->prev = w->next = NULL;
}

void coro_event_init(struct coro_event *ev)
{
	ev->head = ev->tail = NULL;
}

int coro_event_wait(struct coro_event *ev, int64_t deadline)
{
	struct coro *self = coro__self("coro_event_wait");
	int r = coro__park_precheck(self, deadline, true);
	if (r < 0)
		return r;

	struct coro_waiter w = { .prev = ev->tail, .next = NULL, .c = self };
	if (ev->tail)
		ev->tail->next = &w;
	else
		ev->head = &w;
	ev->tail = &w;

	r = coro__park_input(deadline);
	if (w.c) {
		/* Timeout, cancel or interrupt: the notifier never saw us. */
		waiter_unlink(ev, &w);
		if (r == 0)
			CORO_PANIC("coro_event_wait: woken with 0 but not notified");
	}
	return r;
}

unsigned coro_event_notify_all(struct coro_event *ev)
{
	unsigned n = 0;
	if (!ev->head)
		return 0;
	/* Hold the scheduler so no woken waiter runs (and waits again, or
	 * unlinks a neighbour) before the list is empty: a notify wakes the
	 * waiters of this moment only. */
	coro__hold();
	while (ev->head) {
		struct coro_waiter *w = ev->head;
		struct coro *c = w->c;
		waiter_unlink(ev, w);
		w->c = NULL;
		/* A waiter already woken (interrupted or cancelled by another
		 * coroutine, not yet run) leaves with that result. */
		if (c->state != CORO_PARKED)
			continue;
		coro_wake(c, 0);
		n++;
	}
	coro__release();
	return n;
}

bool coro_event_has_waiters(const struct coro_event *ev)
{
	return ev->head != NULL;
}
