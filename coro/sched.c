/* The scheduler: one loop thread, coroutines switched in and out of it.
 *
 * Every switch goes through the loop context: a coroutine that blocks
 * switches back to the loop, and the loop switches into the next ready one.
 * That costs a second switch per hand-off but keeps the rules simple: the
 * loop context is the only place that reaps coroutines and the only one
 * that talks to libuv between coroutine runs.
 *
 * Ready coroutines wait in rt.ready. drain() runs them, one after the other,
 * until the queue is empty; coroutines made ready meanwhile (a coroutine
 * waking or spawning another) join the same drain. coro_wake() from the loop
 * (a libuv callback) drains at once, so an I/O wake-up costs no extra loop
 * turn. coro_spawn() from the loop queues and starts an idle handle instead:
 * the new coroutine must not run inside the call. coro_yield() parks the
 * caller in rt.yielded, which the idle handle moves to rt.ready on the next
 * loop turn, so a yielding coroutine lets I/O callbacks run too.
 */
#include "coro/coro-internal.h"
#include "src/util/xmalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct coro_queue {
	struct coro *head, *tail;
};

static struct {
	uv_loop_t *loop;
	uv_idle_t *idle;	/* on while rt.ready or rt.yielded is not empty */
	struct coro *current;
	void *loop_sp;		/* the loop context's stack pointer while a
				 * coroutine runs */
	struct coro_queue ready, yielded;
	unsigned hold;
	bool draining;
	uint64_t spawned, live, switches;
#ifdef CORO_ASAN
	void *loop_fake_stack;
	const void *loop_stack_lo;
	size_t loop_stack_size;
#endif
} rt;

void coro__panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sealmail: coro: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

struct coro *coro__self(const char *caller)
{
	if (!rt.current)
		CORO_PANIC("%s called outside a coroutine", caller);
	return rt.current;
}

static void queue_push(struct coro_queue *q, struct coro *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

static struct coro *queue_pop(struct coro_queue *q)
{
	struct coro *c = q->head;
	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		c->next = NULL;
	}
	return c;
}

static void queue_splice(struct coro_queue *to, struct coro_queue *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

/* --- Switching ----------------------------------------------------------- */

/* Lays out the frame coro__switch() pops for a coroutine that has not run:
 * zeroed callee-saved registers, default FP control state, the struct coro
 * in a callee-saved register and coro__entry as return address. Returns
 * the stack pointer to switch to. */
static void *context_init(char *top, struct coro *c)
{
	uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#if defined(__x86_64__)
	/* 8 slots; after the pops and the ret rsp = t - 16, 16-byte aligned
	 * for the call in coro__entry. */
	uint64_t *sp = (uint64_t *)(t - 80);
	memset(sp, 0, 80);
	sp[0] = 0x1f80 | (uint64_t)0x037f << 32; /* MXCSR, x87 CW defaults */
	sp[4] = (uintptr_t)c;			 /* r12 */
	sp[7] = (uintptr_t)coro__entry;		 /* return address */
#elif defined(__aarch64__)
	/* 176-byte frame; after it is popped sp = t - 16. FPCR 0 is the
	 * default (round to nearest, no flush to zero). */
	uint64_t *sp = (uint64_t *)(t - 192);
	memset(sp, 0, 192);
	sp[0] = (uintptr_t)c;			/* x19 */
	sp[11] = (uintptr_t)coro__entry;	/* x30 */
#else
#error "coro: no context switch for this architecture"
#endif
	return sp;
}

/* AddressSanitizer must be told about each stack change, or it takes the
 * coroutine stack for a wild overflow of the loop stack. The loop stack's
 * bounds are learnt from the first switch into a coroutine. */
static void switch_to_coro(struct coro *c)
{
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(&rt.loop_fake_stack,
				       coro__stack_lo(&c->stack),
				       c->stack.map_size - coro__page_size());
#endif
	rt.switches++;
	coro__switch(&rt.loop_sp, c->sp, c);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(rt.loop_fake_stack, NULL, NULL);
#endif
}

static void switch_to_loop(struct coro *c)
{
#ifdef CORO_ASAN
	/* A finished coroutine passes NULL so ASan drops its fake stack. */
	__sanitizer_start_switch_fiber(
		c->state == CORO_DONE ? NULL : &c->asan_fake_stack,
		rt.loop_stack_lo, rt.loop_stack_size);
#endif
	rt.switches++;
	coro__switch(&c->sp, rt.loop_sp, NULL);
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(c->asan_fake_stack, &rt.loop_stack_lo,
					&rt.loop_stack_size);
#endif
}

void coro__trampoline(struct coro *c)
{
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(NULL, &rt.loop_stack_lo,
					&rt.loop_stack_size);
#endif
	c->fn(c->arg);
	c->state = CORO_DONE;
	switch_to_loop(c);
	CORO_PANIC("finished coroutine %p was resumed", (void *)c);
}

/* --- The loop side ------------------------------------------------------- */

static void idle_cb(uv_idle_t *idle);

static void idle_update(void)
{
	bool want = rt.ready.head || rt.yielded.head;
	if (want && !uv_is_active((uv_handle_t *)rt.idle))
		uv_idle_start(rt.idle, idle_cb);
	else if (!want && uv_is_active((uv_handle_t *)rt.idle))
		uv_idle_stop(rt.idle);
}

/* The coroutine struct lives in its stack: copy the stack out first. */
static void reap(struct coro *c)
{
	struct coro_stack st = c->stack;
	rt.live--;
	coro__stack_put(&st);
}

static void run(struct coro *c)
{
	c->state = CORO_RUNNING;
	rt.current = c;
	switch_to_coro(c);
	rt.current = NULL;
	if (c->state == CORO_DONE)
		reap(c);
	else if (c->state == CORO_RUNNING)
		CORO_PANIC("coroutine %p switched out while running", (void *)c);
}

static void drain(void)
{
	struct coro *c;
	if (rt.draining)
		return;
	rt.draining = true;
	while ((c = queue_pop(&rt.ready)) != NULL)
		run(c);
	rt.draining = false;
	idle_update();
}

static void idle_cb(uv_idle_t *idle)
{
	queue_splice(&rt.ready, &rt.yielded);
	drain();
}

void coro__hold(void)
{
	rt.hold++;
}

void coro__release(void)
{
	CORO_ASSERT(rt.hold > 0);
	if (--rt.hold == 0 && !rt.current)
		drain();
}

/* --- Public API ---------------------------------------------------------- */

static void free_handle_cb(uv_handle_t *h)
{
	free(h);
}

int coro_runtime_init(uv_loop_t *loop)
{
	if (rt.loop)
		return -EBUSY;
	int r = coro__deadline_init(loop);
	if (r < 0)
		return r;
	rt.idle = xmalloc(sizeof(*rt.idle));
	uv_idle_init(loop, rt.idle);
	rt.loop = loop;
	(void)coro__thread_slice(100000);	/* 0.1 ms: see slice.c */
	return 0;
}

void coro_runtime_shutdown(void)
{
	if (!rt.loop)
		return;
	if (rt.live)
		CORO_PANIC("coro_runtime_shutdown: %llu coroutines still live",
			   (unsigned long long)rt.live);
	/* The handles are heap-allocated and freed in their close callbacks,
	 * so a new coro_runtime_init() cannot reuse them while closing. */
	uv_close((uv_handle_t *)rt.idle, free_handle_cb);
	coro__work_shutdown();
	coro__deadline_shutdown();
	coro__stack_pool_clear();
	memset(&rt, 0, sizeof(rt));
}

uv_loop_t *coro_loop(void)
{
	return rt.loop;
}

struct coro *coro_spawn(coro_fn *fn, void *arg, size_t stack_size)
{
	struct coro_stack st;
	if (!rt.loop)
		CORO_PANIC("coro_spawn before coro_runtime_init");
	if (coro__stack_get(&st, stack_size) < 0)
		return NULL;

	/* The struct takes the top of the stack, cache-line aligned. */
	uintptr_t top = (uintptr_t)coro__stack_hi(&st);
	struct coro *c = (struct coro *)((top - sizeof(struct coro)) & ~(uintptr_t)63);
	memset(c, 0, sizeof(*c));
	c->stack = st;
	c->fn = fn;
	c->arg = arg;
	c->state = CORO_READY;
	c->sp = context_init((char *)c, c);
	rt.spawned++;
	rt.live++;
	queue_push(&rt.ready, c);
	/* Inside a coroutine the running drain picks it up; from the loop the
	 * idle handle runs it on the next turn. */
	if (!rt.current)
		idle_update();
	return c;
}

struct coro *coro_current(void)
{
	return rt.current;
}

bool coro_in_coroutine(void)
{
	return rt.current != NULL;
}

void coro_yield(void)
{
	struct coro *c = coro__self("coro_yield");
	c->state = CORO_READY;
	queue_push(&rt.yielded, c);
	switch_to_loop(c);
}

int coro_park(int64_t deadline, bool interruptible)
{
	struct coro *c = coro__self("coro_park");
	if (interruptible && c->cancelled)
		return -ECANCELED;
	if (deadline != CORO_NO_DEADLINE && deadline <= coro_now_ms())
		return -ETIMEDOUT;
	c->interruptible = interruptible;
	c->state = CORO_PARKED;
	if (deadline != CORO_NO_DEADLINE)
		coro__deadline_add(c, deadline);
	switch_to_loop(c);
	return c->result;
}

int coro__park_precheck(struct coro *c, int64_t deadline, bool input)
{
	if (c->cancelled)
		return -ECANCELED;
	if (input && c->interrupt_pending) {
		c->interrupt_pending = false;
		return -EINTR;
	}
	if (deadline != CORO_NO_DEADLINE && deadline <= coro_now_ms())
		return -ETIMEDOUT;
	return 0;
}

int coro__park_input(int64_t deadline)
{
	struct coro *c = coro__self("coro__park_input");
	int r = coro__park_precheck(c, deadline, true);
	if (r < 0)
		return r;
	c->input_wait = true;
	r = coro_park(deadline, true);
	c->input_wait = false;
	return r;
}

void coro_wake(struct coro *c, int result)
{
	if (c->state != CORO_PARKED)
		CORO_PANIC("coro_wake(%p): not parked (state %d)", (void *)c,
			   c->state);
	if (c->heap_idx)
		coro__deadline_del(c);
	c->result = result;
	c->state = CORO_READY;
	queue_push(&rt.ready, c);
	if (!rt.current && !rt.hold)
		drain();
}

void coro_cancel(struct coro *c)
{
	c->cancelled = true;
	if (c->state == CORO_PARKED && c->interruptible)
		coro_wake(c, -ECANCELED);
}

void coro_interrupt(struct coro *c)
{
	if (c->state == CORO_PARKED && c->input_wait)
		coro_wake(c, -EINTR);
	else if (c->state != CORO_DONE)
		c->interrupt_pending = true;
}

bool coro_cancelled(void)
{
	return rt.current && rt.current->cancelled;
}

int coro_sleep_until(int64_t deadline)
{
	for (;;) {
		int r = coro_park(deadline, true);
		if (r == -ETIMEDOUT)
			return 0;
		if (r == -ECANCELED)
			return r;
		/* Someone else's coro_wake(): a sleep ends only by time. */
	}
}

int coro_sleep(uint64_t ms)
{
	return coro_sleep_until(coro_deadline_in(ms));
}

int64_t coro_now_ms(void)
{
	return (int64_t)uv_now(rt.loop);
}

int64_t coro_deadline_in(uint64_t ms)
{
	int64_t now = coro_now_ms();
	if (ms >= (uint64_t)(CORO_NO_DEADLINE - now))
		return CORO_NO_DEADLINE;
	return now + (int64_t)ms;
}

void coro_get_stats(struct coro_stats *st)
{
	st->spawned = rt.spawned;
	st->live = rt.live;
	st->switches = rt.switches;
	coro__stack_stats(&st->stacks_pooled, &st->stacks_mapped);
}
