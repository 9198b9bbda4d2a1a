/* The per-user lock, the pool helper, and change notification.
 *
 * The lock is built on coro_park() rather than on a coro_event: an event
 * wait is interruptible, so a lock wait would swallow the coro_interrupt()
 * the daemon sends a session at shutdown (meant for its next read) and
 * fail at once, forever, in a cancelled coroutine that still has to finish
 * its command. A parked waiter that nothing but the unlocker wakes has
 * neither problem, and direct hand-over keeps the queue FIFO. */
#include "storage/store-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void store__lock(struct store__lock *l)
{
	if (!l->held) {
		l->held = true;
		return;
	}
	struct store__waiter w = { NULL, coro_current() };
	if (!w.c) {
		fprintf(stderr, "store: lock wait outside a coroutine\n");
		abort();
	}
	if (l->tail)
		l->tail->next = &w;
	else
		l->head = &w;
	l->tail = &w;
	/* Not interruptible: only store__unlock() wakes us, with the lock. */
	coro_park(CORO_NO_DEADLINE, false);
}

void store__unlock(struct store__lock *l)
{
	struct store__waiter *w = l->head;
	if (!w) {
		l->held = false;
		return;
	}
	l->head = w->next;
	if (!l->head)
		l->tail = NULL;
	coro_wake(w->c, 0);	/* still held: it now belongs to w */
}

struct store__job {
	int (*fn)(void *arg);
	void *arg;
	int r;
};

static void job_run(void *p)
{
	struct store__job *j = p;
	j->r = j->fn(j->arg);
}

int store__pool(int (*fn)(void *arg), void *arg)
{
	struct store__job j = { fn, arg, 0 };
	int r = coro_await_work(job_run, &j);
	return r < 0 ? r : j.r;
}

int store__pool_cpu(int (*fn)(void *arg), void *arg)
{
	struct store__job j = { fn, arg, 0 };
	int r = coro_await_cpu_work(job_run, &j);
	return r < 0 ? r : j.r;
}

struct lanes;

struct lane_job {
	struct lanes *l;
	size_t i;
	unsigned lane;
	int r;
};

struct lane_start {
	struct lanes *l;
	unsigned lane;
};

struct lanes {
	int (*fn)(void *arg, size_t i, unsigned lane);
	void *arg;
	int *res;
	size_t n, next;
	unsigned running;		/* helper coroutines not yet finished */
	struct coro *waiter;
	struct lane_start start[STORE_LANES];
};

static void lane_job_run(void *p)
{
	struct lane_job *j = p;
	j->r = j->l->fn(j->l->arg, j->i, j->lane);
}

static void lane_loop(struct lanes *l, unsigned lane)
{
	while (l->next < l->n) {
		struct lane_job j = { l, l->next++, lane, 0 };
		int r = coro_await_cpu_work(lane_job_run, &j);
		l->res[j.i] = r < 0 ? r : j.r;
	}
}

static void lane_coro(void *p)
{
	struct lane_start *s = p;
	struct lanes *l = s->l;

	lane_loop(l, s->lane);
	if (--l->running == 0 && l->waiter)
		coro_wake(l->waiter, 0);
}

/* The caller works lane 0 and helper coroutines the others; the caller's
 * frame, which they point into, waits for the last of them. */
void store__pool_lanes(int (*fn)(void *arg, size_t i, unsigned lane), void *arg, size_t n,
		       int *res)
{
	struct lanes l = { .fn = fn, .arg = arg, .res = res, .n = n };

	for (unsigned k = 1; k < STORE_LANES && k < n; k++) {
		l.start[k] = (struct lane_start){ &l, k };
		if (coro_spawn(lane_coro, &l.start[k], 0))
			l.running++;
	}
	lane_loop(&l, 0);
	if (l.running > 0) {
		l.waiter = coro_current();
		coro_park(CORO_NO_DEADLINE, false);
	}
}

void store__changed(struct store_user *u)
{
	u->seq++;
	coro_event_notify_all(&u->changed);
}

uint64_t store_change_seq(const struct store_user *u)
{
	return u->seq;
}

int store_wait_change(struct store_user *u, uint64_t *seen, int64_t deadline)
{
	while (u->seq == *seen) {
		int r = coro_event_wait(&u->changed, deadline);
		if (r < 0)
			return r;
	}
	*seen = u->seq;
	return 0;
}

struct meta_job {
	struct store_user *u;
	int (*fn)(struct meta *m, void *arg);
	void *arg;
};

static int meta_job_run(void *p)
{
	struct meta_job *j = p;
	return j->fn(j->u->meta, j->arg);
}

int store__meta_call(struct store_user *u, int (*fn)(struct meta *m, void *arg), void *arg,
		     unsigned how)
{
	struct meta_job j = { u, fn, arg };
	int r;

	store__lock(&u->lock);
	if (u->state != STORE__OPEN || !u->meta)
		r = -EIO;
	else if (how & STORE__POOL)
		r = store__pool(meta_job_run, &j);
	else
		r = meta_job_run(&j);
	store__unlock(&u->lock);
	if (r >= 0 && (how & STORE__NOTIFY))
		store__changed(u);
	return r;
}
