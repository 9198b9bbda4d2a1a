/* Tests of the coroutine runtime: switching, scheduling, stacks, deadlines,
 * cancellation, the thread pool, events and fd waits. */
#include "coro/coro.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(SEAL_SANITIZE)
#define TEST_ASAN 1
/* Let a guard-page hit kill the process with SIGSEGV, as in a normal build,
 * instead of ASan turning it into a report and exit(1). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0";
}
#endif

static uv_loop_t loop;

static void rt_start(void)
{
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
}

static void rt_run(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
}

/* Every coroutine must be gone and every handle closed. */
static void rt_finish(void)
{
	struct coro_stats st;
	coro_get_stats(&st);
	CHECK_INT(st.live, ==, 0);
	CHECK_INT(coro_work_queue_depth(), ==, 0);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}

static uint64_t now_ms_real(void)
{
	return uv_hrtime() / 1000000;
}

/* --- Switching ----------------------------------------------------------- */

struct pingpong {
	struct coro *self;
	int last;
	int rounds;
	bool in_coro;
};

static void pingpong_fn(void *arg)
{
	struct pingpong *p = arg;
	p->self = coro_current();
	p->in_coro = coro_in_coroutine();
	for (;;) {
		int v = coro_park(CORO_NO_DEADLINE, false);
		if (v < 0)
			break;
		p->last = v * 2;
		p->rounds++;
	}
}

TEST(switch_round_trip_passes_values)
{
	struct pingpong p = { 0 };
	rt_start();
	struct coro *c = coro_spawn(pingpong_fn, &p, 0);
	CHECK(c != NULL);
	CHECK(!coro_in_coroutine());
	CHECK(coro_current() == NULL);
	uv_run(&loop, UV_RUN_NOWAIT); /* runs it up to its first park */
	CHECK(p.self == c);
	CHECK(p.in_coro);
	/* coro_wake from the loop runs the coroutine before returning. */
	for (int i = 1; i <= 1000; i++) {
		coro_wake(c, i);
		CHECK_INT(p.last, ==, 2 * i);
	}
	coro_wake(c, -1);
	CHECK_INT(p.rounds, ==, 1000);
	struct coro_stats st;
	coro_get_stats(&st);
	CHECK_INT(st.live, ==, 0);
	CHECK_INT(st.spawned, ==, 1);
	CHECK_INT(st.switches, ==, 2 * 1002);
	rt_run();
	rt_finish();
}

/* Values that live in callee-saved registers across switches. */
static void mix_fn(void *arg)
{
	uint64_t *out = arg;
	uint64_t a = *out, b = a * 3 + 1, c = a ^ 0x5555, d = a + 7, e = a * a;
	double x = (double)a / 3.0, y = x * 1.5;
	for (int i = 0; i < 50; i++) {
		coro_yield();
		a += b;
		b ^= c;
		c += d;
		d = d * 33 + e;
		e += a;
		x = x * 1.0001 + y;
	}
	*out = a ^ b ^ c ^ d ^ e ^ (uint64_t)x;
}

static uint64_t mix_ref(uint64_t a)
{
	uint64_t b = a * 3 + 1, c = a ^ 0x5555, d = a + 7, e = a * a;
	double x = (double)a / 3.0, y = x * 1.5;
	for (int i = 0; i < 50; i++) {
		a += b;
		b ^= c;
		c += d;
		d = d * 33 + e;
		e += a;
		x = x * 1.0001 + y;
	}
	return a ^ b ^ c ^ d ^ e ^ (uint64_t)x;
}

TEST(switch_preserves_callee_saved_registers)
{
	uint64_t v[8];
	rt_start();
	for (int i = 0; i < 8; i++) {
		v[i] = (uint64_t)i * 1000 + 17;
		coro_spawn(mix_fn, &v[i], 0);
	}
	rt_run();
	for (int i = 0; i < 8; i++)
		CHECK_INT(v[i], ==, mix_ref((uint64_t)i * 1000 + 17));
	rt_finish();
}

#if defined(__x86_64__)
static unsigned fp_control_get(void)
{
	unsigned mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return (mxcsr & 0xffc0) | (unsigned)cw << 16; /* control bits only */
}
static void fp_control_set_round_down(void)
{
	unsigned mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	mxcsr = (mxcsr & ~0x6000u) | 0x2000u;
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	cw = (uint16_t)((cw & ~0x0c00u) | 0x0400u);
	__asm__ volatile("fldcw %0" : : "m"(cw));
}
#elif defined(__aarch64__)
static unsigned fp_control_get(void)
{
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	return (unsigned)fpcr;
}
static void fp_control_set_round_down(void)
{
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	fpcr = (fpcr & ~(3ull << 22)) | (2ull << 22);
	__asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#endif

struct fp_state {
	unsigned at_start, set, after_switch;
};

static void fp_fn(void *arg)
{
	struct fp_state *s = arg;
	s->at_start = fp_control_get();
	fp_control_set_round_down();
	s->set = fp_control_get();
	coro_yield();
	s->after_switch = fp_control_get();
}

TEST(switch_keeps_fp_control_per_coroutine)
{
	struct fp_state a = { 0 }, b = { 0 };
	rt_start();
	unsigned loop_fp = fp_control_get();
	coro_spawn(fp_fn, &a, 0);
	coro_spawn(fp_fn, &b, 0);
	rt_run();
	CHECK_INT(fp_control_get(), ==, loop_fp);
	CHECK_INT(a.at_start, ==, loop_fp); /* default state */
	CHECK_INT(b.at_start, ==, loop_fp);
	CHECK_INT(a.set, !=, loop_fp);
	CHECK_INT(a.after_switch, ==, a.set);
	CHECK_INT(b.after_switch, ==, b.set);
	rt_finish();
}

/* --- Scheduling ---------------------------------------------------------- */

static void set_flag_fn(void *arg)
{
	*(int *)arg = 1;
}

TEST(spawn_runs_later_not_inside_the_call)
{
	int ran = 0;
	rt_start();
	coro_spawn(set_flag_fn, &ran, 0);
	CHECK_INT(ran, ==, 0);
	rt_run();
	CHECK_INT(ran, ==, 1);
	rt_finish();
}

static char order[64];
static size_t order_len;

static void yield_fn(void *arg)
{
	for (int i = 0; i < 3; i++) {
		order[order_len++] = *(const char *)arg;
		coro_yield();
	}
}

TEST(yield_interleaves_in_order)
{
	rt_start();
	coro_spawn(yield_fn, "A", 0);
	coro_spawn(yield_fn, "B", 0);
	coro_spawn(yield_fn, "C", 0);
	rt_run();
	order[order_len] = '\0';
	CHECK_STR(order, "ABCABCABC");
	rt_finish();
}

struct batch {
	struct coro_event done;
	unsigned running;
	unsigned total;
};

static void child_fn(void *arg)
{
	struct batch *b = arg;
	b->total++;
	if (b->total % 7 == 0)
		coro_yield();
	if (--b->running == 0)
		coro_event_notify_all(&b->done);
}

static void driver_fn(void *arg)
{
	struct batch *b = arg;
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 100; i++) {
			CHECK(coro_spawn(child_fn, b, 0) != NULL);
			b->running++;
		}
		while (b->running > 0)
			CHECK_INT(coro_event_wait(&b->done, CORO_NO_DEADLINE), ==, 0);
	}
}

TEST(many_short_lived_coroutines_reuse_stacks)
{
	struct batch b = { .running = 0 };
	coro_event_init(&b.done);
	rt_start();
	coro_spawn(driver_fn, &b, 0);
	rt_run();
	CHECK_INT(b.total, ==, 100000);
	struct coro_stats st;
	coro_get_stats(&st);
	CHECK_INT(st.spawned, ==, 100001);
	CHECK_INT(st.live, ==, 0);
	CHECK_INT(st.stacks_mapped, <=, 128);
	CHECK_INT(st.stacks_pooled, ==, st.stacks_mapped);
	rt_finish();
}

static void wake_self_fn(void *arg)
{
	coro_wake(coro_current(), 0); /* running, not parked: a bug */
}

DEATH_TEST(wake_of_unparked_coroutine_aborts, SIGABRT)
{
	rt_start();
	coro_spawn(wake_self_fn, NULL, 0);
	rt_run();
}

/* --- Stacks -------------------------------------------------------------- */

static volatile int recursion_limit = INT_MAX;

static int recurse(int depth)
{
	volatile char buf[512];
	if (depth > recursion_limit)
		return 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)depth;
	return recurse(depth + 1) + buf[depth % sizeof(buf)];
}

static void overflow_fn(void *arg)
{
	*(int *)arg = recurse(0);
}

DEATH_TEST(stack_overflow_hits_guard_page, SIGSEGV)
{
	int r = 0;
	rt_start();
	coro_spawn(overflow_fn, &r, 16 * 1024);
	rt_run();
}

static void deep_fn(void *arg)
{
	recursion_limit = 64; /* 32 KiB of arrays, ~48 KiB with ASan redzones */
	*(int *)arg = recurse(0) >= 0;
	recursion_limit = INT_MAX;
}

TEST(stack_default_size_holds_deep_frames)
{
	int ok = 0;
	rt_start();
	coro_spawn(deep_fn, &ok, 0);
	rt_run();
	CHECK_INT(ok, ==, 1);
	rt_finish();
}

static long rss_pages(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	CHECK(f != NULL);
	CHECK_INT(fscanf(f, "%ld %ld", &size, &resident), ==, 2);
	fclose(f);
	return resident;
}

#define IDLE_N 10000
static struct coro *idle_coros[IDLE_N];
static long idle_rss_delta;

static void idle_fn(void *arg)
{
	CHECK_INT(coro_sleep(60000), ==, -ECANCELED);
}

static void measure_fn(void *arg)
{
	long *before = arg;
	idle_rss_delta = rss_pages() - *before;
	for (int i = 0; i < IDLE_N; i++)
		coro_cancel(idle_coros[i]);
}

TEST(idle_coroutine_footprint)
{
	rt_start();
	long before = rss_pages();
	for (int i = 0; i < IDLE_N; i++)
		CHECK((idle_coros[i] = coro_spawn(idle_fn, NULL, 0)) != NULL);
	coro_spawn(measure_fn, &before, 0); /* runs after all have parked */
	rt_run();
	long bytes = idle_rss_delta * sysconf(_SC_PAGESIZE) / IDLE_N;
	printf("idle coroutine footprint: %ld bytes (RSS delta / %d)\n", bytes, IDLE_N);
#ifndef TEST_ASAN
	CHECK_INT(bytes, <=, 2 * 4096);
#endif
	rt_finish();
}

/* --- Deadlines ----------------------------------------------------------- */

static void sleep_fn(void *arg)
{
	int64_t *elapsed = arg;
	int64_t t0 = coro_now_ms();
	uint64_t r0 = now_ms_real();
	CHECK_INT(coro_sleep(50), ==, 0);
	CHECK_INT(coro_now_ms() - t0, >=, 50);
	*elapsed = (int64_t)(now_ms_real() - r0);
	/* Past or present deadlines fail at once. */
	CHECK_INT(coro_park(coro_now_ms() - 1, true), ==, -ETIMEDOUT);
	CHECK_INT(coro_park(coro_now_ms(), false), ==, -ETIMEDOUT);
	CHECK_INT(coro_sleep_until(0), ==, 0);
	CHECK_INT(coro_sleep(0), ==, 0);
}

TEST(sleep_waits_for_its_deadline)
{
	int64_t elapsed = 0;
	rt_start();
	coro_spawn(sleep_fn, &elapsed, 0);
	rt_run();
	CHECK_INT(elapsed, >=, 49); /* the loop clock has 1 ms steps */
	CHECK_INT(elapsed, <, 1000);
	rt_finish();
}

static void sleep_record_fn(void *arg)
{
	uintptr_t ms = (uintptr_t)arg;
	CHECK_INT(coro_sleep(ms), ==, 0);
	order[order_len++] = (char)('0' + ms / 10);
}

TEST(sleepers_wake_in_deadline_order)
{
	static const uintptr_t ms[] = { 50, 10, 40, 20, 30, 60 };
	rt_start();
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		coro_spawn(sleep_record_fn, (void *)ms[i], 0);
	rt_run();
	order[order_len] = '\0';
	CHECK_STR(order, "123456");
	rt_finish();
}

TEST(deadline_in_saturates)
{
	rt_start();
	CHECK_INT(coro_deadline_in(UINT64_MAX), ==, CORO_NO_DEADLINE);
	CHECK_INT(coro_deadline_in(10), ==, coro_now_ms() + 10);
	rt_finish();
}

/* --- Cancellation -------------------------------------------------------- */

struct sleeper {
	struct coro *c;
	int r, after;
	bool cancelled_seen;
};

static void long_sleep_fn(void *arg)
{
	struct sleeper *s = arg;
	s->r = coro_sleep(10000);
	s->cancelled_seen = coro_cancelled();
	s->after = coro_sleep(10000); /* sticky: fails at once */
}

static void canceller_fn(void *arg)
{
	struct sleeper *s = arg;
	CHECK_INT(coro_sleep(10), ==, 0);
	CHECK(!coro_cancelled());
	coro_cancel(s->c);
}

TEST(cancel_wakes_a_sleeper)
{
	struct sleeper s = { 0 };
	rt_start();
	uint64_t t0 = now_ms_real();
	s.c = coro_spawn(long_sleep_fn, &s, 0);
	coro_spawn(canceller_fn, &s, 0);
	rt_run(); /* returns early: no timer left armed */
	CHECK_INT(now_ms_real() - t0, <, 2000);
	CHECK_INT(s.r, ==, -ECANCELED);
	CHECK_INT(s.after, ==, -ECANCELED);
	CHECK(s.cancelled_seen);
	rt_finish();
}

TEST(cancel_before_start_fails_first_block)
{
	struct sleeper s = { 0 };
	rt_start();
	s.c = coro_spawn(long_sleep_fn, &s, 0);
	coro_cancel(s.c);
	rt_run();
	CHECK_INT(s.r, ==, -ECANCELED);
	CHECK_INT(s.after, ==, -ECANCELED);
	rt_finish();
}

struct ev_waiter {
	struct coro_event *ev;
	struct coro *c;
	int64_t deadline;
	int r;
};

static void ev_wait_fn(void *arg)
{
	struct ev_waiter *w = arg;
	w->r = coro_event_wait(w->ev, w->deadline);
}

static void cancel_cb(uv_timer_t *t)
{
	coro_cancel(t->data); /* from the loop */
	uv_close((uv_handle_t *)t, NULL);
}

TEST(cancel_wakes_an_event_waiter)
{
	struct coro_event ev;
	struct ev_waiter w = { .ev = &ev, .deadline = CORO_NO_DEADLINE, .r = 1 };
	uv_timer_t t;
	coro_event_init(&ev);
	rt_start();
	w.c = coro_spawn(ev_wait_fn, &w, 0);
	uv_timer_init(&loop, &t);
	t.data = w.c;
	uv_timer_start(&t, cancel_cb, 10, 0);
	rt_run();
	CHECK_INT(w.r, ==, -ECANCELED);
	CHECK(!coro_event_has_waiters(&ev));
	rt_finish();
}

/* --- Interruption -------------------------------------------------------- */

struct intr {
	struct coro_event ev;
	struct coro *c;
	int r1, r2, r3, r4;
};

static void intr_fn(void *arg)
{
	struct intr *s = arg;
	s->r1 = coro_event_wait(&s->ev, CORO_NO_DEADLINE); /* interrupted */
	s->r2 = coro_event_wait(&s->ev, coro_deadline_in(5)); /* once only */
	CHECK_INT(coro_sleep(30), ==, 0); /* not an input wait */
	s->r3 = coro_event_wait(&s->ev, CORO_NO_DEADLINE); /* was pending */
	s->r4 = coro_event_wait(&s->ev, coro_deadline_in(5));
}

static void intr_now_cb(uv_timer_t *t)
{
	struct intr *s = t->data;
	coro_interrupt(s->c); /* it waits in the event: ends that wait */
	uv_close((uv_handle_t *)t, NULL);
}

static void intr_later_fn(void *arg)
{
	struct intr *s = arg;
	CHECK_INT(coro_sleep(20), ==, 0);
	coro_interrupt(s->c); /* it sleeps: pending for its next input wait */
}

TEST(interrupt_ends_one_input_wait)
{
	struct intr s = { .r1 = 1, .r2 = 1, .r3 = 1, .r4 = 1 };
	uv_timer_t t;
	coro_event_init(&s.ev);
	rt_start();
	s.c = coro_spawn(intr_fn, &s, 0);
	coro_spawn(intr_later_fn, &s, 0);
	uv_timer_init(&loop, &t);
	t.data = &s;
	uv_timer_start(&t, intr_now_cb, 5, 0);
	rt_run();
	CHECK_INT(s.r1, ==, -EINTR);
	CHECK_INT(s.r2, ==, -ETIMEDOUT);
	CHECK_INT(s.r3, ==, -EINTR);
	CHECK_INT(s.r4, ==, -ETIMEDOUT);
	rt_finish();
}

/* --- Thread pool --------------------------------------------------------- */

struct job {
	pthread_t thread;
	uint64_t in, out;
};

static void job_fn(void *arg)
{
	struct job *j = arg;
	j->thread = pthread_self();
	usleep(10000);
	j->out = j->in * j->in;
}

static void await_fn(void *arg)
{
	struct job *j = arg;
	CHECK_INT(coro_await_work(job_fn, j), ==, 0);
	CHECK(!pthread_equal(j->thread, pthread_self()));
	CHECK_INT(j->out, ==, j->in * j->in);
}

static void depth_fn(void *arg)
{
	unsigned *max = arg;
	CHECK_INT(coro_sleep(2), ==, 0);
	*max = coro_work_queue_depth();
}

/* Nothing but the jobs keeps the loop alive here: uv_run() returning only
 * after them shows the pool's poll handle is referenced while jobs are out,
 * and returning at all that it is not once they are back. */
TEST(await_work_runs_on_pool_thread)
{
	struct job jobs[6];
	unsigned depth = 0;
	rt_start();
	for (int i = 0; i < 6; i++) {
		jobs[i] = (struct job){ .in = (uint64_t)i + 3 };
		coro_spawn(await_fn, &jobs[i], 0);
	}
	coro_spawn(depth_fn, &depth, 0);
	rt_run();
	CHECK_INT(depth, ==, 6); /* queued + running, whatever the pool size */
	CHECK_INT(coro_work_queue_depth(), ==, 0);
	rt_finish();
}

static void cancel_during_work_fn(void *arg)
{
	struct job *j = arg;
	coro_cancel(coro_current());
	/* Not interruptible: the worker holds pointers into this frame. */
	CHECK_INT(coro_await_work(job_fn, j), ==, 0);
	CHECK_INT(j->out, ==, 49);
	CHECK_INT(coro_sleep(1), ==, -ECANCELED);
}

TEST(await_work_ignores_cancel)
{
	struct job j = { .in = 7 };
	rt_start();
	coro_spawn(cancel_during_work_fn, &j, 0);
	rt_run();
	CHECK_INT(j.out, ==, 49);
	rt_finish();
}

static struct {
	atomic_uint ran;
	unsigned done, max_depth;
} many;

struct tiny {
	uint64_t in, out;
};

static void tiny_job(void *arg)
{
	struct tiny *t = arg;
	t->out = t->in + 1;
	atomic_fetch_add(&many.ran, 1);
}

static void tiny_await_fn(void *arg)
{
	struct tiny t = { .in = (uintptr_t)arg };
	unsigned depth = coro_work_queue_depth();
	if (depth > many.max_depth)
		many.max_depth = depth;
	CHECK_INT(coro_await_work(tiny_job, &t), ==, 0);
	CHECK_INT(t.out, ==, t.in + 1);
	many.done++;
}

/* 10,000 jobs out at once: completions come back in coalesced batches and
 * each must wake its own coroutine exactly once (a second wake aborts). */
TEST(await_work_many_concurrent_jobs)
{
	rt_start();
	for (uintptr_t i = 0; i < 10000; i++)
		CHECK(coro_spawn(tiny_await_fn, (void *)i, 32 * 1024) != NULL);
	rt_run();
	CHECK_INT(many.done, ==, 10000);
	CHECK_INT(atomic_load(&many.ran), ==, 10000);
	CHECK_INT(many.max_depth, >, 1000); /* they really were out together */
	CHECK_INT(coro_work_queue_depth(), ==, 0);
	rt_finish();
}

static void sequential_fn(void *arg)
{
	unsigned *n = arg;
	for (uint64_t i = 0; i < 3000; i++) {
		struct tiny t = { .in = i };
		CHECK_INT(coro_await_work(tiny_job, &t), ==, 0);
		CHECK_INT(t.out, ==, i + 1);
		CHECK_INT(coro_work_queue_depth(), ==, 0);
		(*n)++;
	}
}

/* The TLS handshake's pattern: one job after the other, each submitted
 * from inside the wake-up of the previous one. */
TEST(await_work_sequential_jobs)
{
	unsigned n = 0;
	rt_start();
	coro_spawn(sequential_fn, &n, 0);
	rt_run();
	CHECK_INT(n, ==, 3000);
	rt_finish();
}

#define SPIN_JOB_MS 200
#define TICK_MS 2

static struct {
	unsigned jobs_left, ticks;
	uint64_t max_late_us;
} spin;

/* Busy for SPIN_JOB_MS of wall time: a CPU-bound job (Argon2, RSA). */
static void spin_job(void *arg)
{
	uint64_t end = uv_hrtime() + SPIN_JOB_MS * 1000000ull;
	uint64_t x = 0;
	while (uv_hrtime() < end)
		for (int i = 0; i < 1000; i++)
			x += (uint64_t)i;
	/* Keeps the loop from being optimised away. */
	__asm__ volatile("" : : "r"(x));
}

static void spin_await_fn(void *arg)
{
	CHECK_INT(coro_await_work(spin_job, NULL), ==, 0);
	spin.jobs_left--;
}

/* coro_sleep() counts from the loop's cached clock, so measure with the
 * real one: how much later than TICK_MS after it asked did it come back. */
static void ticker_fn(void *arg)
{
	while (spin.jobs_left > 0) {
		uint64_t t0 = uv_hrtime();
		CHECK_INT(coro_sleep(TICK_MS), ==, 0);
		uint64_t took = (uv_hrtime() - t0) / 1000;
		uint64_t late = took > TICK_MS * 1000 ? took - TICK_MS * 1000 : 0;
		if (late > spin.max_late_us)
			spin.max_late_us = late;
		spin.ticks++;
	}
}

/* Four CPU-bound jobs keep every worker of a small machine busy; the loop
 * must keep turning with low lag meanwhile. A blocked loop would be late by
 * a whole job (200 ms); the bound leaves room for a loaded test machine.
 * (Typical on 2 CPUs: ~80 us median, a few ms at worst.) Valgrind runs one
 * thread at a time and lets a spinning one keep the CPU, so there only the
 * jobs' completion is checked. */
TEST(await_work_long_jobs_do_not_block_the_loop)
{
	rt_start();
	spin.jobs_left = 4;
	for (int i = 0; i < 4; i++)
		coro_spawn(spin_await_fn, NULL, 0);
	coro_spawn(ticker_fn, NULL, 0);
	uint64_t t0 = uv_hrtime();
	rt_run();
	uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
	CHECK_INT(took_ms, >=, SPIN_JOB_MS);
	CHECK_INT(spin.jobs_left, ==, 0);
	if (!RUNNING_ON_VALGRIND) {
		CHECK_INT(spin.ticks, >=, took_ms / (4 * TICK_MS));
		CHECK_INT(spin.max_late_us, <, 150000);
	}
	rt_finish();
}

static void nice_job(void *arg)
{
	*(int *)arg = getpriority(PRIO_PROCESS, (id_t)gettid());
}

static void nice_await_fn(void *arg)
{
	CHECK_INT(coro_await_work(nice_job, arg), ==, 0);
}

/* So that the loop thread preempts a worker when it wakes up. */
TEST(await_work_workers_are_nicer_than_the_loop)
{
	int loop_nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	int worker_nice = loop_nice;
	rt_start();
	coro_spawn(nice_await_fn, &worker_nice, 0);
	rt_run();
	if (loop_nice < 19)
		CHECK_INT(worker_nice, >, loop_nice);
	rt_finish();
}

static struct {
	atomic_int running, max;
	bool busy_checked;
} conc;

static void conc_job(void *arg)
{
	int now = atomic_fetch_add(&conc.running, 1) + 1;
	int max = atomic_load(&conc.max);
	while (now > max && !atomic_compare_exchange_weak(&conc.max, &max, now))
		;
	usleep(30000);
	atomic_fetch_sub(&conc.running, 1);
}

static void conc_await_fn(void *arg)
{
	CHECK_INT(coro_await_work(conc_job, NULL), ==, 0);
	if (!conc.busy_checked) {
		CHECK_INT(coro_work_set_threads(2), ==, -EBUSY);
		conc.busy_checked = true;
	}
}

/* Runs twice as many sleeping jobs as threads are expected: each worker
 * takes one at a time, so the peak concurrency is the pool size. */
static int pool_size_seen(unsigned threads)
{
	rt_start();
	for (unsigned i = 0; i < 2 * threads + 2; i++)
		coro_spawn(conc_await_fn, NULL, 0);
	rt_run();
	CHECK(conc.busy_checked);
	rt_finish();
	return atomic_load(&conc.max);
}

TEST(await_work_set_threads)
{
	setenv("SEAL_WORKERS", "5", 1); /* the call wins over the environment */
	CHECK_INT(coro_work_set_threads(0), ==, -EINVAL);
	CHECK_INT(coro_work_set_threads(257), ==, -EINVAL);
	CHECK_INT(coro_work_set_threads(3), ==, 0);
	CHECK_INT(pool_size_seen(3), ==, 3);
	/* Settable again after shutdown. */
	CHECK_INT(coro_work_set_threads(1), ==, 0);
}

TEST(await_work_threads_from_environment)
{
	setenv("SEAL_WORKERS", "1", 1);
	CHECK_INT(pool_size_seen(1), ==, 1);
}

TEST(await_work_default_threads)
{
	unsetenv("SEAL_WORKERS");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = cpus < 1 ? 5 : cpus + 4 > 256 ? 256 : (unsigned)cpus + 4;
	CHECK_INT(pool_size_seen(want), ==, want);
}

/* CPU-bound jobs: at most the slots at once, in the order they came,
 * while plain jobs pass them on the other threads. */
static struct {
	atomic_int running, max, started;
	int order[8];
	int plain_done_while_cpu_running;
} cpu;

static void cpu_job(void *arg)
{
	int now = atomic_fetch_add(&cpu.running, 1) + 1;
	int max = atomic_load(&cpu.max);
	while (now > max && !atomic_compare_exchange_weak(&cpu.max, &max, now))
		;
	cpu.order[atomic_fetch_add(&cpu.started, 1)] = (int)(intptr_t)arg;
	usleep(40000);
	atomic_fetch_sub(&cpu.running, 1);
}

static void cpu_await_fn(void *arg)
{
	CHECK_INT(coro_await_cpu_work(cpu_job, arg), ==, 0);
}

static void plain_job(void *arg)
{
	usleep(1000);
}

static void plain_await_fn(void *arg)
{
	coro_sleep(10);	/* the CPU jobs are in and queued by now */
	CHECK_INT(coro_work_cpu_waiting(), ==, 5);
	CHECK_INT(coro_await_work(plain_job, NULL), ==, 0);
	cpu.plain_done_while_cpu_running = atomic_load(&cpu.running);
}

TEST(cpu_work_limited_to_its_slots_in_order)
{
	memset(&cpu, 0, sizeof(cpu));
	CHECK_INT(coro_work_set_cpu_slots(0), ==, -EINVAL);
	CHECK_INT(coro_work_set_threads(3), ==, 0);
	CHECK_INT(coro_work_set_cpu_slots(1), ==, 0);
	rt_start();
	for (intptr_t i = 0; i < 6; i++)
		coro_spawn(cpu_await_fn, (void *)i, 0);
	coro_spawn(plain_await_fn, NULL, 0);
	rt_run();
	rt_finish();
	CHECK_INT(atomic_load(&cpu.max), ==, 1);
	CHECK_INT(atomic_load(&cpu.started), ==, 6);
	for (int i = 0; i < 6; i++)
		CHECK_INT(cpu.order[i], ==, i);
	/* The plain job did not wait for the queue of CPU jobs. */
	CHECK_INT(cpu.plain_done_while_cpu_running, ==, 1);
	CHECK_INT(coro_work_cpu_waiting(), ==, 0);

	memset(&cpu, 0, sizeof(cpu));
	CHECK_INT(coro_work_set_cpu_slots(2), ==, 0);
	rt_start();
	for (intptr_t i = 0; i < 6; i++)
		coro_spawn(cpu_await_fn, (void *)i, 0);
	rt_run();
	rt_finish();
	CHECK_INT(atomic_load(&cpu.max), ==, 2);
}

static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	CHECK(d != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* An idle pool neither keeps uv_run() going nor outlives the runtime, and a
 * new runtime starts a new one. */
TEST(await_work_shutdown_with_idle_pool)
{
	setenv("SEAL_WORKERS", "3", 1);
	int before = task_count();
	for (int round = 0; round < 2; round++) {
		struct job j = { .in = 5 };
		rt_start();
		coro_spawn(await_fn, &j, 0);
		rt_run();
		CHECK_INT(j.out, ==, 25);
		CHECK_INT(task_count(), ==, before + 3);
		rt_finish(); /* uv_loop_close() fails if a handle is left */
		CHECK_INT(task_count(), ==, before);
	}
}

TEST(shutdown_without_pool_starts_no_threads)
{
	int before = task_count();
	rt_start();
	rt_finish();
	CHECK_INT(task_count(), ==, before);
}

/* --- Events -------------------------------------------------------------- */

struct rewaiter {
	struct coro_event *ev;
	int wakes;
	int last;
};

/* Waits again at once after each notify: a notify must not wake it twice. */
static void rewait_fn(void *arg)
{
	struct rewaiter *w = arg;
	while (w->wakes < 3) {
		w->last = coro_event_wait(w->ev, coro_deadline_in(200));
		if (w->last < 0)
			return;
		w->wakes++;
	}
}

static void notifier_fn(void *arg)
{
	struct coro_event *ev = arg;
	CHECK_INT(coro_event_notify_all(ev), ==, 3); /* from a coroutine */
	coro_yield();
	coro_yield();
	CHECK_INT(coro_event_notify_all(ev), ==, 3);
}

static void notify_from_loop_cb(uv_timer_t *t)
{
	CHECK_INT(coro_event_notify_all(t->data), ==, 3); /* from the loop */
	uv_close((uv_handle_t *)t, NULL);
}

TEST(event_notify_wakes_current_waiters_once)
{
	struct coro_event ev;
	struct rewaiter w[3];
	uv_timer_t t;
	coro_event_init(&ev);
	CHECK_INT(coro_event_notify_all(&ev), ==, 0);
	rt_start();
	for (int i = 0; i < 3; i++) {
		w[i] = (struct rewaiter){ .ev = &ev };
		coro_spawn(rewait_fn, &w[i], 0);
	}
	uv_run(&loop, UV_RUN_NOWAIT); /* all three wait */
	CHECK(coro_event_has_waiters(&ev));
	uv_timer_init(&loop, &t);
	t.data = &ev;
	uv_timer_start(&t, notify_from_loop_cb, 5, 0);
	uv_run(&loop, UV_RUN_ONCE);
	for (int i = 0; i < 3; i++)
		CHECK_INT(w[i].wakes, ==, 1);
	coro_spawn(notifier_fn, &ev, 0);
	rt_run();
	for (int i = 0; i < 3; i++) {
		CHECK_INT(w[i].wakes, ==, 3);
		CHECK_INT(w[i].last, ==, 0);
	}
	CHECK(!coro_event_has_waiters(&ev));
	rt_finish();
}

TEST(event_timeout_unlinks_waiter)
{
	struct coro_event ev;
	struct ev_waiter a = { .ev = &ev, .deadline = 0, .r = 1 };
	struct ev_waiter b = { .ev = &ev, .r = 1 };
	struct ev_waiter c = { .ev = &ev, .r = 1 };
	coro_event_init(&ev);
	rt_start();
	a.deadline = coro_deadline_in(30);
	b.deadline = coro_deadline_in(10); /* the middle one leaves first */
	c.deadline = coro_deadline_in(20);
	coro_spawn(ev_wait_fn, &a, 0);
	coro_spawn(ev_wait_fn, &b, 0);
	coro_spawn(ev_wait_fn, &c, 0);
	rt_run();
	CHECK_INT(a.r, ==, -ETIMEDOUT);
	CHECK_INT(b.r, ==, -ETIMEDOUT);
	CHECK_INT(c.r, ==, -ETIMEDOUT);
	CHECK(!coro_event_has_waiters(&ev));
	CHECK(ev.head == NULL && ev.tail == NULL);
	rt_finish();
}

/* A waiter interrupted by another coroutine, which then notifies the event
 * before the waiter has run: the waiter leaves with -EINTR, nobody aborts. */
static struct coro_event race_ev;
static int race_r = 1;

static void race_waiter_fn(void *arg)
{
	race_r = coro_event_wait(&race_ev, CORO_NO_DEADLINE);
}

static void race_notifier_fn(void *arg)
{
	coro_interrupt(arg);
	CHECK_INT(coro_event_notify_all(&race_ev), ==, 0);
}

TEST(event_notify_after_interrupt_from_a_coroutine)
{
	coro_event_init(&race_ev);
	rt_start();
	struct coro *w = coro_spawn(race_waiter_fn, NULL, 0);
	rt_run(); /* the waiter parks; nothing else keeps the loop */
	coro_spawn(race_notifier_fn, w, 0);
	rt_run();
	CHECK_INT(race_r, ==, -EINTR);
	CHECK(!coro_event_has_waiters(&race_ev));
	rt_finish();
}

/* --- File descriptors ---------------------------------------------------- */

struct fdpair {
	int sv[2];
	struct coro_fd w;
	int r_read, r_timeout, r_write, r_closed;
	bool closed_cb;
};

static void fd_reader_fn(void *arg)
{
	struct fdpair *p = arg;
	char buf[8];
	p->r_read = coro_fd_wait(&p->w, UV_READABLE, coro_deadline_in(2000));
	CHECK_INT(read(p->sv[0], buf, sizeof(buf)), ==, 3);
	p->r_timeout = coro_fd_wait(&p->w, UV_READABLE, coro_deadline_in(30));
	p->r_write = coro_fd_wait(&p->w, UV_WRITABLE, coro_deadline_in(2000));
	/* Closed under a waiting reader. */
	p->r_closed = coro_fd_wait(&p->w, UV_READABLE, CORO_NO_DEADLINE);
}

static void fd_writer_fn(void *arg)
{
	struct fdpair *p = arg;
	CHECK_INT(coro_sleep(20), ==, 0);
	CHECK_INT(write(p->sv[1], "abc", 3), ==, 3);
}

static void fd_closed_cb(struct coro_fd *w)
{
	struct fdpair *p = (struct fdpair *)((char *)w - offsetof(struct fdpair, w));
	p->closed_cb = true;
}

static void fd_closer_fn(void *arg)
{
	struct fdpair *p = arg;
	CHECK_INT(coro_sleep(100), ==, 0);
	coro_fd_close(&p->w, fd_closed_cb);
}

TEST(fd_wait_on_socketpair)
{
	struct fdpair p = { .r_read = 1, .r_timeout = 1, .r_write = 1, .r_closed = 1 };
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.sv), ==, 0);
	rt_start();
	CHECK_INT(coro_fd_init(&p.w, p.sv[0]), ==, 0);
	coro_spawn(fd_reader_fn, &p, 0);
	coro_spawn(fd_writer_fn, &p, 0);
	coro_spawn(fd_closer_fn, &p, 0);
	rt_run();
	CHECK_INT(p.r_read, ==, UV_READABLE);
	CHECK_INT(p.r_timeout, ==, -ETIMEDOUT);
	CHECK_INT(p.r_write, ==, UV_WRITABLE);
	CHECK_INT(p.r_closed, ==, -EBADF);
	CHECK(p.closed_cb);
	CHECK_INT(fcntl(p.sv[0], F_GETFD), ==, -1); /* closed by the runtime */
	close(p.sv[1]);
	rt_finish();
}

/* A close that wakes up in the same timer batch as the waiter's deadline:
 * the waiter is already woken (not parked) when the closer runs. */
static int64_t same_deadline;

static void fd_timed_reader_fn(void *arg)
{
	struct fdpair *p = arg;
	p->r_timeout = coro_fd_wait(&p->w, UV_READABLE, same_deadline);
}

static void fd_same_time_closer_fn(void *arg)
{
	struct fdpair *p = arg;
	CHECK_INT(coro_sleep_until(same_deadline), ==, 0);
	coro_fd_close(&p->w, fd_closed_cb);
}

TEST(fd_close_in_the_batch_of_the_waiters_deadline)
{
	for (int closer_first = 0; closer_first < 2; closer_first++) {
		struct fdpair p = { .r_timeout = 1 };
		CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.sv), ==, 0);
		rt_start();
		CHECK_INT(coro_fd_init(&p.w, p.sv[0]), ==, 0);
		same_deadline = coro_deadline_in(20);
		coro_spawn(closer_first ? fd_same_time_closer_fn : fd_timed_reader_fn, &p, 0);
		coro_spawn(closer_first ? fd_timed_reader_fn : fd_same_time_closer_fn, &p, 0);
		rt_run();
		CHECK(p.r_timeout == -ETIMEDOUT || p.r_timeout == -EBADF);
		CHECK(p.closed_cb);
		close(p.sv[1]);
		rt_finish();
	}
}

static void fd_intr_fn(void *arg)
{
	struct fdpair *p = arg;
	p->r_read = coro_fd_wait(&p->w, UV_READABLE, CORO_NO_DEADLINE);
	/* A write wait is not ended by coro_interrupt. */
	p->r_write = coro_fd_wait(&p->w, UV_WRITABLE, CORO_NO_DEADLINE);
	coro_fd_close(&p->w, NULL);
}

static void fd_intr_cb(uv_timer_t *t)
{
	coro_interrupt(t->data);
	uv_close((uv_handle_t *)t, NULL);
}

TEST(fd_read_wait_is_interruptible)
{
	struct fdpair p = { .r_read = 1, .r_write = 1 };
	uv_timer_t t;
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.sv), ==, 0);
	rt_start();
	CHECK_INT(coro_fd_init(&p.w, p.sv[0]), ==, 0);
	uv_timer_init(&loop, &t);
	t.data = coro_spawn(fd_intr_fn, &p, 0);
	uv_timer_start(&t, fd_intr_cb, 10, 0);
	rt_run();
	CHECK_INT(p.r_read, ==, -EINTR);
	CHECK_INT(p.r_write, ==, UV_WRITABLE);
	close(p.sv[1]);
	rt_finish();
}
